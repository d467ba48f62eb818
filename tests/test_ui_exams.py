"""The 题库与考试 page's handlers, called as gradio calls them: a trainer builds a bank (offline and with a
model that answers nonsense), sees and edits its questions and the stale ones, composes an A/B paper,
assigns it to a group, downloads it as Word and Excel, and reads the results of an attempt with its
charts and imported paper marks; a staff account is refused by every handler."""

from __future__ import annotations

from pathlib import Path

import docx
import gradio as gr
import openpyxl
import pytest
from fixtures import as_user, make_xlsx
from test_quiz import HEADERS, ROWS

from bot.paper_export import SHEET_HEADER
from ingest import ingest_paths
from kb.accounts import Accounts
from kb.attempts import Attempts, Marking
from kb.papers import Papers
from kb.quizbank import KINDS, QuizBank
from kb.types import Entry
from kb.users import Users
from kb.workflow import Workflow
from web import exam_bank, exam_papers, exam_results, exams
from web.app import build_app
from web.downloads import Downloads

EACH = [2, 2, 2, 2, 2]
"""Two questions of every type, in the order of KINDS."""
ONE_EACH = [1, 1, 1, 1, 1]
GROUP = "一窗组"


@pytest.fixture
def quizzed(ctx, tmp_path):
    """The web context on the twelve entries of test_quiz, with 张三 in the group 一窗组."""
    admin = Users(ctx.kb.records).get("admin")
    report = ingest_paths(ctx.kb, [make_xlsx(tmp_path / "题库素材.xlsx", ROWS, HEADERS)], actor=admin)
    assert report.failed == []
    Accounts(Users(ctx.kb.records)).change(admin, "zhangsan", group=GROUP)
    return ctx


def _bank(ctx, name="四季度", counts=EACH):
    text, bank_id = exam_bank.make_bank(ctx, as_user("zuzhang"), quarter="2026Q4", earlier=True, counts=counts,
                                        name=name)
    assert bank_id == name and f"题库 {name} 已保存" in text
    return bank_id


def _paper(ctx, bank_id, two=True):
    _, paper_id = exam_papers.compose_paper(ctx, bank_id, "第四季度测验", ONE_EACH, [2, 3, 1, 2, 10], two, 30, "",
                                            as_user("zuzhang"))
    return paper_id


def _exact(question, response, points):
    """A grader for the test: full points for exactly the key, none otherwise."""
    key = "".join(question.answer)
    return Marking(points if response == key else 0.0, points)


def test_the_page_builds_for_trainers_only(quizzed):
    quizzed.pages = (exams,)
    assert isinstance(build_app(quizzed), gr.Blocks)
    assert exams.TITLE == "题库与考试" and exams.ROLES == frozenset({"reviewer", "admin"})
    assert [s.TITLE for s in exams.SECTIONS] == ["题库", "组卷与分配", "成绩"]


def test_a_bank_is_built_with_progress_listed_shown_and_edited(quizzed):
    steps = []
    text, bank_id = exam_bank.make_bank(quizzed, as_user("zuzhang"), quarter="2026q4", earlier=True, counts=EACH,
                                        mix="1:1:1", progress=lambda fraction, desc="": steps.append(fraction))
    assert bank_id == "2026Q4" and "从 12 条条目生成 10 道题" in text and "单选 2/2" in text
    assert steps == sorted(steps) and steps[-1] == 1.0 and len(steps) >= 3
    assert [choice for _, choice in exam_bank.bank_choices(quizzed, as_user("admin"))] == ["2026Q4"]
    head, rows = exam_bank.bank_table(quizzed, bank_id, False, as_user("zuzhang"))
    stored = QuizBank(quizzed.kb.records).questions(Users(quizzed.kb.records).get("zuzhang"), bank_id)
    assert "10 道题，其中过期 0 道" in head and len(rows) == len(stored) == 10
    assert [r[1] for r in rows] == [q.label for q in stored] and {r[1] for r in rows} == set(KINDS.values())
    assert exam_bank.bank_table(quizzed, bank_id, True, as_user("zuzhang"))[1] == []

    number = next(n for n, q in enumerate(stored, 1) if q.kind == "single")
    picked, stem, options, answer, explanation, _ = exam_bank.question_form(quizzed, bank_id, number,
                                                                           as_user("zuzhang"))
    assert "单选" in picked and stem == stored[number - 1].stem and len(options.splitlines()) == 4
    other = "ABCD".replace(answer, "")[0]
    with pytest.raises(gr.Error, match="单选题只能有一个正确答案"):
        exam_bank.save_question(quizzed, bank_id, number, stem, options, "AB", explanation, "", as_user("zuzhang"))
    exam_bank.save_question(quizzed, bank_id, number, "改过的题干（　）", options, other.lower(), "改过的解析", "",
                            as_user("zuzhang"))
    edited = QuizBank(quizzed.kb.records).questions(Users(quizzed.kb.records).get("zuzhang"), bank_id)[number - 1]
    assert (edited.stem, edited.answer, edited.explanation) == ("改过的题干（　）", (other,), "改过的解析")
    assert exam_bank.bank_table(quizzed, bank_id, False, as_user("zuzhang"))[1][number - 1][3].startswith("改过的题干")
    with pytest.raises(gr.Error, match="共 10 题"):
        exam_bank.question_form(quizzed, bank_id, 11, as_user("zuzhang"))


def test_editing_a_source_entry_shows_its_question_under_stale_only(quizzed):
    bank_id = _bank(quizzed)
    target = QuizBank(quizzed.kb.records).questions(Users(quizzed.kb.records).get("zuzhang"), bank_id)[0]
    entry_id = target.sources[0].entry_id
    workflow, users = Workflow(quizzed.kb), Users(quizzed.kb.records)
    old = quizzed.kb.entry(entry_id)
    draft = workflow.submit(users.get("zhangsan"), Entry("", old.question, old.answer + "节假日顺延。"), revises=entry_id)
    workflow.approve(users.get("zuzhang"), draft.entry_id)
    head, rows = exam_bank.bank_table(quizzed, bank_id, True, as_user("zuzhang"))
    assert "其中过期 1 道" in head and len(rows) == 1 and rows[0][0] == "1" and f"{entry_id} 已修改" in rows[0][5]
    assert "过期 1 题" in exam_bank.bank_choices(quizzed, as_user("zuzhang"))[0][0]


def test_bad_form_values_are_refused_with_the_field_named(quizzed):
    trainer = as_user("zuzhang")
    with pytest.raises(gr.Error, match="难度比例"):
        exam_bank.make_bank(quizzed, trainer, quarter="2026Q4", mix="3:5")
    with pytest.raises(gr.Error, match="格式不对"):
        exam_bank.make_bank(quizzed, trainer, quarter="2026年四季度")
    with pytest.raises(gr.Error, match="同时给出起始日期和截止日期"):
        exam_bank.make_bank(quizzed, trainer, since="2026-10-01")
    with pytest.raises(gr.Error, match="没有符合条件的已发布条目"):
        exam_bank.make_bank(quizzed, trainer, since="2025-01-01", until="2025-03-31")
    with pytest.raises(gr.Error, match="至少给一种题型"):
        exam_bank.make_bank(quizzed, trainer, quarter="2026Q4", counts=[0, 0, 0, 0, 0])
    _bank(quizzed)
    with pytest.raises(gr.Error, match="已存在"):
        _bank(quizzed)
    text, _ = exam_bank.make_bank(quizzed, trainer, quarter="2026Q4", earlier=True, counts=ONE_EACH, name="四季度",
                                  replace=True)
    assert "生成 5 道题" in text


class NonsenseModel:
    """A chat model that answers every request with text that is not a question."""

    def __init__(self):
        self.asked = 0

    def complete(self, system: str, user: str) -> str:
        self.asked += 1
        return "这不是一道题。"


def test_with_a_model_its_invalid_items_are_dropped_and_the_rest_made_offline(quizzed):
    quizzed.llm = NonsenseModel()
    text, bank_id = exam_bank.make_bank(quizzed, as_user("zuzhang"), quarter="2026Q4", earlier=True,
                                        counts=ONE_EACH, use_llm=True)
    assert quizzed.llm.asked > 0 and "大模型生成的无效题目" in text and "丢弃原因" in text
    assert QuizBank(quizzed.kb.records).bank(Users(quizzed.kb.records).get("zuzhang"), bank_id).questions == 5


def test_a_paper_is_composed_in_two_versions_assigned_to_a_group_and_exported(quizzed, tmp_path):
    bank_id = _bank(quizzed)
    text, paper_id = exam_papers.compose_paper(quizzed, bank_id, "第四季度<b>测验</b>", ONE_EACH, [2, 3, 1, 2, 10],
                                               True, 30, "Q4-卷1", as_user("zuzhang"))
    assert paper_id == "Q4-卷1" and "5 题" in text and "满分 18 分" in text and "<b>" not in text
    assert exam_papers.paper_rows(quizzed, as_user("admin"))[0][:7] == [
        "Q4-卷1", "第四季度<b>测验</b>", bank_id, "A/B", "5", "18", "限时 30 分钟"]
    lead = Users(quizzed.kb.records).get("zuzhang")
    a, b = (Papers(quizzed.kb.records).paper(lead, paper_id, v) for v in "AB")
    assert sorted(q.key for q in a.questions) == sorted(q.key for q in b.questions)

    users, groups = exam_papers.people_choices(quizzed, as_user("zuzhang"))
    assert groups == [GROUP] and ("张三（zhangsan）", "zhangsan") in users
    with pytest.raises(gr.Error, match="无法识别"):
        exam_papers.assign_paper(quizzed, paper_id, "group", [], [GROUP], "2026-13-01", as_user("zuzhang"))
    with pytest.raises(gr.Error, match="已经过去"):
        exam_papers.assign_paper(quizzed, paper_id, "group", [], [GROUP], "2020-01-01", as_user("zuzhang"))
    with pytest.raises(gr.Error, match="至少选择一个"):
        exam_papers.assign_paper(quizzed, paper_id, "group", [], [], "", as_user("zuzhang"))
    done = exam_papers.assign_paper(quizzed, paper_id, "group", ["zhangsan"], [GROUP], "2099-12-31",
                                    as_user("zuzhang"))
    assert "1 个小组" in done and "2099-12-31" in done
    assert exam_papers.assignment_rows(quizzed, paper_id, as_user("zuzhang")) == [
        [paper_id, "第四季度<b>测验</b>", "小组", GROUP, "2099-12-31", "zuzhang"]]
    staff = Users(quizzed.kb.records).get("zhangsan")
    assert [a.paper_id for a in Papers(quizzed.kb.records).assigned_to(staff)] == [paper_id]

    downloads = Downloads("kb-test-papers-")
    word = exam_papers.export_paper(quizzed, paper_id, "B", "docx", as_user("zuzhang"), downloads)
    assert Path(word).name == "第四季度_b_测验_b-B卷-Word_试卷.docx"
    body = "\n".join(p.text for p in docx.Document(word).paragraphs)
    assert "第四季度<b>测验</b>" in body
    assert all(q.question.stem.split("”：")[-1][:12] in body for q in b.questions)
    sheet = exam_papers.export_bank(quizzed, bank_id, "xlsx", as_user("zuzhang"), downloads)
    rows = list(openpyxl.load_workbook(sheet).active.values)
    stored = QuizBank(quizzed.kb.records).questions(lead, bank_id)
    assert rows[0] == SHEET_HEADER and [r[1] for r in rows[1:]] == [q.stem for q in stored]
    assert [r[0] for r in rows[1:]] == [f"{q.label}题" for q in stored]
    with pytest.raises(gr.Error, match="下载格式"):
        exam_papers.export_paper(quizzed, paper_id, "A", "pdf", as_user("zuzhang"), downloads)


def test_results_after_an_attempt_show_charts_tables_and_the_workbook(quizzed, tmp_path):
    paper_id = _paper(quizzed, _bank(quizzed))
    exam_papers.assign_paper(quizzed, paper_id, "group", [], [GROUP], "", as_user("zuzhang"))
    staff = Users(quizzed.kb.records).get("zhangsan")
    attempts = Attempts(quizzed.kb.records)
    attempt, sheet = attempts.start(staff, paper_id)
    key = Papers(quizzed.kb.records).keyed(paper_id, attempt.variant)
    right = {q.number: "".join(q.question.answer) for q in key.questions if q.question.kind in ("single", "judge")}
    attempts.submit(staff, attempt.id, right, _exact)
    earned = sum(q.points for q in key.questions if q.number in right)

    downloads = Downloads("kb-test-results-")
    summary, charts, persons, groups, missed, workbook = exam_results.results(
        quizzed, exam_bank.current_quarter(), paper_id, as_user("zuzhang"), downloads)
    assert "共 1 人提交" in summary and len(charts) == 3
    for chart in charts:
        with open(chart, "rb") as png:
            assert png.read(8) == b"\x89PNG\r\n\x1a\n"
    assert persons == [["张三", "zhangsan", GROUP, f"{earned:g}", "18", f"{100 * earned / 18:.1f}%", "否", "1",
                        persons[0][8], "", ""]]
    assert groups[0] == [GROUP, "1", "0", *groups[0][3:7], "0"] and len(missed) == 3
    assert {r[1] for r in missed} == {"多选", "填空", "简答"}
    assert openpyxl.load_workbook(workbook).sheetnames[:3] == ["个人成绩", "小组成绩", "易错题"]
    with pytest.raises(gr.Error, match="还没有已提交的答卷"):
        exam_results.results(quizzed, "2020Q1", "", as_user("zuzhang"), downloads)

    marks = make_xlsx(tmp_path / "纸质成绩.xlsx", [["李组长", 1, 2], ["李组长", 2, 99], ["无名氏", 3, 1],
                                                  ["zhangsan", "第一题", 1]], ["姓名", "题号", "得分"])
    shown = exam_results.import_marks(quizzed, paper_id, "A", "2026-11-20", str(marks), as_user("admin"))
    assert "已导入 1 人的成绩" in shown and "以下 3 行未导入" in shown
    assert "第 3 行" in shown and "第 4 行" in shown and "第 5 行" in shown
    _, _, persons, *_ = exam_results.results(quizzed, "", paper_id, as_user("zuzhang"), downloads)
    assert [p[1] for p in persons] == ["zhangsan", "zuzhang"] and persons[1][3] == "2"


def test_staff_is_refused_by_every_handler(quizzed, tmp_path):
    bank_id = _bank(quizzed)
    paper_id = _paper(quizzed, bank_id)
    staff, downloads = as_user("zhangsan"), Downloads("kb-test-staff-")
    marks = make_xlsx(tmp_path / "成绩.xlsx", [["张三", 1, 1]], ["姓名", "题号", "得分"])
    calls = [
        lambda: exam_bank.make_bank(quizzed, staff, quarter="2026Q4", earlier=True),
        lambda: exam_bank.bank_choices(quizzed, staff),
        lambda: exam_bank.bank_table(quizzed, bank_id, False, staff),
        lambda: exam_bank.question_form(quizzed, bank_id, 1, staff),
        lambda: exam_bank.save_question(quizzed, bank_id, 1, "题干", "", "正确", "", "", staff),
        lambda: exam_papers.compose_paper(quizzed, bank_id, "卷", ONE_EACH, [1] * 5, False, 0, "", staff),
        lambda: exam_papers.paper_choices(quizzed, staff),
        lambda: exam_papers.paper_rows(quizzed, staff),
        lambda: exam_papers.people_choices(quizzed, staff),
        lambda: exam_papers.assign_paper(quizzed, paper_id, "all", [], [], "", staff),
        lambda: exam_papers.assignment_rows(quizzed, paper_id, staff),
        lambda: exam_papers.export_paper(quizzed, paper_id, "A", "key", staff, downloads),
        lambda: exam_papers.export_bank(quizzed, bank_id, "json", staff, downloads),
        lambda: exam_results.results(quizzed, "", "", staff, downloads),
        lambda: exam_results.import_marks(quizzed, paper_id, "A", "", str(marks), staff),
    ]
    for call in calls:
        with pytest.raises(gr.Error, match="管理题库"):
            call()
    with pytest.raises(gr.Error, match="请先登录"):
        exam_bank.bank_choices(quizzed, as_user(None))
    assert Papers(quizzed.kb.records).assignments(paper_id) == []
