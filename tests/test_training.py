"""The monthly training pack, a new hire's four-week plan and the quarterly evaluation, built from the
bundled sample knowledge base plus cases, questions, study records, self-test attempts and escalations
made here in the current month; Word, PDF and xlsx read back; expectations computed from the data made."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from docx import Document
from fixtures import CHROMA_URL, FAST_HASHER, PASSWORD, drop_collection, open_kb, unique_collection, web_context
from openpyxl import load_workbook

from bot.evaluation import NO_GROUP, quarterly_evaluation
from bot.onboarding import WEEKS, onboarding_plan
from bot.quiz import build
from bot.training import CHANGE_KINDS, TrainingError, training_pack
from bot.training_word import pack_docx, plan_docx, to_pdf
from cli import cli
from ingest import ingest_paths
from kb.asklog import log_question
from kb.attempts import Attempts, Marking
from kb.bundled import REGISTER, sample_dir, sample_documents
from kb.errors import PermissionDenied
from kb.escalations import Escalations
from kb.learning import Learning
from kb.paper_marks import import_marks
from kb.papers import Papers
from kb.quizbank import QuizBank
from kb.types import Entry
from kb.users import Users
from kb.workflow import Workflow

SAMPLE = sample_dir()
TODAY = date.today()
MONTH = TODAY.isoformat()[:7]
QUARTER = f"{TODAY.year}Q{(TODAY.month - 1) // 3 + 1}"
LAST_MONTH = (TODAY.replace(day=1) - timedelta(days=1)).isoformat()
NEW_CASE = Entry("", "港澳签注在自助机上办理需要带什么？", "持港澳通行证和身份证到出入境自助签注机办理，现场缴费后立即打印签注。",
                 item="港澳签注自助办理", basis="出入境管理支队窗口口径（2026年）")
REPLACING = Entry("", "重大疾病提取公积金现在要什么材料？",
                  "本人或直系亲属患重大疾病的，持身份证、诊断证明和医疗费用发票到公积金中心申请提取，5个工作日内到账。",
                  item="重大疾病提取", basis="《住房公积金提取管理办法》（2026年修订）", supersedes="FAQ002",
                  effective_from=TODAY.isoformat())
ASKED = [("一网通办怎么登录？", "answered", "FAQ010")] * 3 + [("居住证怎么办？", "answered", "FAQ051")] * 2 + [
    ("居住证怎么办", "no_answer", ""), ("外国人永久居留怎么申请？", "no_answer", ""),
    ("外国人永久居留怎么申请", "no_answer", "")]
DEMAND = {"一网通办": 3, "居住证首次申领": 2, "社保卡挂失补办": 1}
"""事项 -> questions answered from its entries in the log (including one asked last month)."""


def _grade(question, response, points):
    return Marking(points if response == "".join(question.answer) else 0.0, points)


@pytest.fixture(scope="module")
def made(tmp_path_factory, embedder):
    """The sample knowledge base with this month's cases, questions, studies, attempts and escalations."""
    data = tmp_path_factory.mktemp("training") / "data"
    kb = open_kb(data, embedder, unique_collection())
    ctx = web_context(kb, data)
    users = Users(kb.records, FAST_HASHER)
    admin, lead, staff = users.get("admin"), users.get("zuzhang"), users.get("zhangsan")
    lisi = users.add(admin, "lisi", PASSWORD, "staff", "李四", group="一组")
    wangwu = users.add(admin, "wangwu", PASSWORD, "staff", "王五", group="一组")
    report = ingest_paths(kb, sample_documents(), actor=admin)
    assert report.failed == []
    flow = Workflow(kb)
    new_id = flow.approve(lead, flow.submit(staff, NEW_CASE).entry_id, keep_both=True)
    flow.reject(lead, flow.submit(staff, Entry("", "随便问问", "随便答答", item="其他")).entry_id, "内容不完整")
    flow.submit(staff, Entry("", "待审核的案例？", "还没审核的答复。", item="其他"))
    revision = flow.submit(staff, Entry("", "", "备案后原则上6个月内不能变更，确需变更的可到医保窗口申请。"),
                           revises="FAQ001")
    flow.approve(lead, revision.entry_id)
    replacing_id = flow.approve(lead, flow.submit(lead, REPLACING).entry_id, keep_both=True)
    for n, (question, status, top) in enumerate(ASKED):
        log_question(kb.records.conn, "zhangsan", question, status, 0.8 if top else 0.1, top, at=f"{MONTH}-01T09:{n:02d}:00")
    log_question(kb.records.conn, "zhangsan", "社保卡怎么补办", "answered", 0.8, "FAQ069", at=f"{LAST_MONTH}T10:00:00")
    learning = Learning(kb.records)
    learning.taught(staff, "FAQ010", "一网通办")
    learning.answered(staff, "FAQ010", "一网通办", True)
    learning.taught(staff, "FAQ037", "居住证签注")
    learning.answered(staff, "FAQ037", "居住证签注", False)
    learning.taught(staff, "FAQ068", "港澳签注自助办理")
    pool = [(e, 1) for e, _ in kb.records.entries_where("status='published' AND date < '2026-10-01'")]
    questions, _ = build(pool, {"single": 2, "judge": 2, "blank": 1}, seed="月考")
    assert len(questions) == 5
    QuizBank(kb.records).save(lead, "B1", "2026-09-01", "2026-09-30", {}, questions)
    papers = Papers(kb.records)
    paper = papers.compose(lead, "B1", "九月口径自测", {"single": 2, "judge": 2, "blank": 1}, paper_id="P1")
    papers.assign(lead, "P1", "all", [])
    first, second = paper.questions[0], paper.questions[1]
    marks = [(1, "zhangsan", q.number, 0.0 if q in (first, second) else q.points) for q in paper.questions]
    marks += [(2, "lisi", q.number, 0.0 if q == first else q.points) for q in paper.questions]
    attempts = Attempts(kb.records)
    assert import_marks(attempts.records, lead, "P1", marks, day=f"{MONTH}-01") == (2, [])
    online = {}
    for user in (staff, wangwu):
        attempt, _ = attempts.start(user, "P1")
        right = {q.number: "".join(q.question.answer) for q in paper.questions}
        online[user.username] = attempts.submit(user, attempt.id, right, _grade).attempt
    registry = Escalations(kb.records)
    case = registry.escalate(staff, "外国人永久居留怎么申请？", "咨询人持工作签证在本市工作五年")
    registry.unsolvable(lead, case.number, "本中心不受理，请到省出入境管理局办理。")
    yield SimpleNamespace(ctx=ctx, kb=kb, lead=lead, staff=staff, lisi=lisi, paper=paper, first=first,
                          second=second, online=online, new_id=new_id, replacing_id=replacing_id)
    drop_collection(kb)
    kb.close()


def docx_text(path) -> str:
    document = Document(str(path))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def expected_new(records, month: str) -> set[str]:
    return {e.id for e in records.iter_entries() if e.date.startswith(month) and not e.supersedes
            and records.state(e.id).status == "published"}


def test_the_pack_lists_the_months_new_and_changed_entries_by_item_with_their_basis(made):
    pack = training_pack(made.kb.records, MONTH, made.lead)
    kinds = {c.entry_id: c.kind for _, group in pack.changes for c in group}
    assert {i for i, k in kinds.items() if k == "new"} == expected_new(made.kb.records, MONTH)
    assert made.new_id in kinds and kinds[made.replacing_id] == "replaced" and kinds["FAQ001"] == "revised"
    assert [item for item, _ in pack.changes] == sorted(item for item, _ in pack.changes)
    assert all(c.item == item for item, group in pack.changes for c in group)
    replaced = next(c for _, g in pack.changes for c in g if c.entry_id == made.replacing_id)
    assert replaced.basis == REPLACING.basis and replaced.replaces == "FAQ002"
    revised = next(c for _, g in pack.changes for c in g if c.entry_id == "FAQ001")
    assert revised.version == 2 and "确需变更" in revised.answer
    listed = set(kinds)
    assert not any(e.question in ("随便问问", "待审核的案例？") for e in map(made.kb.records.entry, listed))


def test_the_sample_months_cases_are_in_its_pack_and_a_bad_month_is_refused(made):
    sheet = load_workbook(SAMPLE / REGISTER).active
    november = {row[8] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0].strftime("%Y-%m") == "2026-11"}
    pack = training_pack(made.kb.records, "2026年11月", made.lead)
    assert pack.month == "2026-11" and pack.since == "2026-11-01" and pack.until == "2026-11-30"
    assert november and november <= {c.entry_id for _, g in pack.changes for c in g}
    assert len(pack.self_test) == 10
    with pytest.raises(TrainingError, match="2026-11"):
        training_pack(made.kb.records, "十一月", made.lead)
    with pytest.raises(PermissionDenied):
        training_pack(made.kb.records, MONTH, made.staff)


def test_the_most_asked_and_refused_questions_are_grouped_by_their_text(made):
    pack = training_pack(made.kb.records, MONTH, made.lead)
    asked = [(g.wording, g.asked, g.refused) for g in pack.asked]
    assert asked == [("居住证怎么办？", 3, 1), ("一网通办怎么登录？", 3, 0), ("外国人永久居留怎么申请", 2, 2)]
    # of two wordings asked equally often, the newer one shows the group
    assert [(g.wording, g.refused) for g in pack.refused] == [("外国人永久居留怎么申请", 2), ("居住证怎么办？", 1)]


def test_missed_self_test_questions_lead_the_self_test_and_the_key_comes_last(made, tmp_path):
    pack = training_pack(made.kb.records, MONTH, made.lead)
    # zhangsan (on paper and online), lisi (on paper) and wangwu (online) answered; two lost points on
    # the first question, one on the second.
    assert [(m.key, m.errors, m.answers) for m in pack.missed] == [(made.first.key, 2, 4), (made.second.key, 1, 4)]
    assert pack.from_missed == 2
    assert [q.stem for q in pack.self_test[:2]] == [made.first.question.stem, made.second.question.stem]
    ids = {c.entry_id for _, g in pack.changes for c in g}
    assert 2 < len(pack.self_test) <= 10
    assert all(s.entry_id in ids for q in pack.self_test[2:] for s in q.sources)
    path = pack_docx(pack, tmp_path / "pack.docx")
    paragraphs = [p.text for p in Document(str(path)).paragraphs]
    key_at = paragraphs.index("六、自测参考答案")
    assert key_at > max(i for i, p in enumerate(paragraphs) if p.startswith(f"{len(pack.self_test)}.【"))
    assert all(any(q.key_line in p for p in paragraphs[key_at:]) for q in pack.self_test)
    assert not any(q.key_line in p for q in pack.self_test for p in paragraphs[:key_at])
    text = docx_text(path)
    for wanted in (NEW_CASE.question, REPLACING.basis, "一网通办怎么登录？", made.first.question.stem[:20],
                   *CHANGE_KINDS.values()):
        assert wanted in text
    if shutil.which("soffice") or shutil.which("libreoffice"):
        pdf = to_pdf(path)
        assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5000


def test_the_plan_orders_items_by_demand_and_shows_the_learners_progress(made, tmp_path):
    records = made.kb.records
    superseded = {old for _, old, _ in records.supersessions()}
    entries: dict[str, int] = {}
    for e in records.iter_entries():
        if records.state(e.id).status == "published" and e.id not in superseded and e.item:
            entries[e.item] = entries.get(e.item, 0) + 1
    expected = sorted(entries, key=lambda item: (-DEMAND.get(item, 0), -entries[item], item))
    assert expected[:4] == ["一网通办", "居住证首次申领", "社保卡挂失补办", "港澳签注自助办理"]
    plan = onboarding_plan(records, made.lead, "zhangsan", "2026-12-01")
    assert [i.item for i in plan.items] == expected
    assert [(w.start, w.end) for w in plan.weeks] == [("2026-12-01", "2026-12-07"), ("2026-12-08", "2026-12-14"),
                                                      ("2026-12-15", "2026-12-21"), ("2026-12-22", "2026-12-28")]
    total = sum(entries.values())
    assert len(plan.weeks) == WEEKS and all(abs(w.entries - total / WEEKS) <= 2 for w in plan.weeks)
    progress = {i.item: i.progress for i in plan.items}
    assert progress["一网通办"] == "done" and progress["居住证签注"] == "started"
    assert progress["港澳签注自助办理"] == "started" and progress["居住证首次申领"] == "todo"
    assert plan.count("done") == 1 and plan.count("started") == 2
    own = onboarding_plan(records, made.staff, "", "2026-12-01")
    assert own.items == plan.items
    with pytest.raises(PermissionDenied):
        onboarding_plan(records, made.staff, "lisi", "2026-12-01")
    text = docx_text(plan_docx(plan, tmp_path / "plan.docx"))
    assert "第一周（2026-12-01 至 2026-12-07" in text and "已完成" in text and "港澳签注自助办理" in text


def test_the_quarterly_evaluation_per_person_and_group_read_back_from_xlsx(made, tmp_path):
    paper = made.paper
    total = paper.total
    on_paper = {"zhangsan": total - made.first.points - made.second.points, "lisi": total - made.first.points}
    imported_at = f"{MONTH}-01T12:00:00"
    zhangsan = 100.0 if made.online["zhangsan"].submitted_at > imported_at else 100 * on_paper["zhangsan"] / total
    averages = {"zhangsan": zhangsan, "lisi": 100 * on_paper["lisi"] / total, "wangwu": 100.0}
    evaluation = quarterly_evaluation(made.kb.records, QUARTER, made.lead)
    people = {p.username: p for p in evaluation.people}
    assert set(people) == {"admin", "zuzhang", "zhangsan", "lisi", "wangwu"}
    assert {u: pytest.approx(people[u].average) for u in averages} == averages
    assert people["admin"].average is None and people["zuzhang"].average is None
    assert (people["zhangsan"].submitted, people["zhangsan"].approved) == (4, 2)
    assert (people["zuzhang"].submitted, people["zuzhang"].approved) == (1, 1)
    assert people["zuzhang"].escalations == 1 and people["zhangsan"].escalations == 0
    groups = {g.group: g for g in evaluation.groups}
    assert (groups["一组"].members, groups["一组"].tested) == (2, 2)
    assert groups["一组"].average == pytest.approx((averages["lisi"] + 100.0) / 2)
    assert (groups[NO_GROUP].members, groups[NO_GROUP].submitted, groups[NO_GROUP].escalations) == (3, 5, 1)
    done = _kb(made, "training", "evaluation", "--quarter", QUARTER.lower(), "--out", str(tmp_path / "考评.xlsx"))
    book = load_workbook(tmp_path / "考评.xlsx")
    assert book.sheetnames == ["个人", "小组"] and QUARTER in done.output
    rows = {r[0]: r for r in book["个人"].iter_rows(min_row=2, values_only=True)}
    assert rows["lisi"][5] == round(averages["lisi"], 1) and rows["zhangsan"][6:] == (4, 2, 0)
    assert {r[0]: r[1:3] for r in book["小组"].iter_rows(min_row=2, values_only=True)} == {
        "一组": (2, 2), NO_GROUP: (3, 1)}


def _kb(made, *args, user: str = "zuzhang"):
    options = ["--data-dir", str(made.ctx.settings.data_dir), "--collection", made.kb.vectors.name]
    if CHROMA_URL:
        options += ["--chroma-url", CHROMA_URL]
    result = CliRunner().invoke(cli, [*args, *options], env={"KB_USER": user, "KB_PASSWORD": PASSWORD})
    return result


def test_the_commands_write_the_pack_and_plans_and_refuse_staff(made, tmp_path):
    done = _kb(made, "training", "--month", MONTH, "--out", str(tmp_path / "培训"))
    assert done.exit_code == 0, done.output
    assert NEW_CASE.question in docx_text(tmp_path / "培训" / f"月度培训资料-{MONTH}.docx")
    assert "#" in (tmp_path / "培训" / f"月度培训资料-{MONTH}.md").read_text(encoding="utf-8")
    own = _kb(made, "training", "plan", "zhangsan", "--start", "2026-12-01", "--out", str(tmp_path), user="zhangsan")
    assert own.exit_code == 0, own.output
    assert "一网通办" in docx_text(tmp_path / "四周学习计划-zhangsan-2026-12-01.docx")
    assert _kb(made, "training", "plan", "lisi", "--out", str(tmp_path), user="zhangsan").exit_code != 0
    far = _kb(made, "training", "plan", "zhangsan", "--start", "9999-12-31", "--out", str(tmp_path), user="zhangsan")
    assert far.exit_code == 1 and "开始日期 9999-12-31 太远" in far.output and "Traceback" not in far.output
    refused = _kb(made, "training", "--month", MONTH, "--out", str(tmp_path), user="zhangsan")
    assert refused.exit_code != 0 and "培训与考评" in refused.output


def test_an_output_place_that_cannot_be_written_is_named_in_chinese(made, tmp_path):
    blocker = tmp_path / "不是文件夹"
    blocker.write_text("", encoding="utf-8")
    for args in (("training", "--month", MONTH, "--out", str(blocker / "培训")),
                 ("training", "plan", "zhangsan", "--out", str(blocker / "计划")),
                 ("training", "evaluation", "--quarter", "2026Q4", "--out", str(blocker / "考评.xlsx"))):
        refused = _kb(made, *args)
        assert refused.exit_code == 1 and "Traceback" not in refused.output, (args, refused.output)
        assert f"无法写入 {blocker}" in refused.output and "上级文件夹其实是一个文件" in refused.output, refused.output
    assert blocker.read_text(encoding="utf-8") == ""
