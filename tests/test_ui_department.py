"""出题阅卷 handlers as a logged-in department: only its 事项 in every table, proposing and correcting
questions, composing and approving, grading by answer-sheet number, results with names and scores
only; other roles are refused, and no other page is shown to a department."""

from __future__ import annotations

import importlib
import pkgutil

import gradio as gr
import pytest
from fixtures import as_user
from test_department import FUND, POLICE, SHORT_KEY, _take, _user, meeting  # noqa: F401  (the fixture)
from test_quiz import GJJ, HZ, JZ, quizzed  # noqa: F401  (the fixture)

import web
from kb.attempts import Attempts
from kb.papers import Papers
from kb.quizbank import QuizBank
from web import account, ask, department, exam_papers
from web.app import PAGES, build_app


def test_only_the_counter_chat_the_account_and_this_page_are_for_departments(ctx):
    modules = [importlib.import_module(f"web.{found.name}") for found in pkgutil.iter_modules(web.__path__)]
    pages = [module for module in modules if hasattr(module, "ROLES")]
    assert set(PAGES) <= set(pages) and department in pages
    shown = {page.TITLE for page in pages if "department" in page.ROLES}
    assert shown == {"窗口问答", "出题阅卷", "账号"}
    assert department.ROLES == {"department", "admin"}
    ctx.pages = (ask, department, account)
    assert isinstance(build_app(ctx), gr.Blocks)


def test_the_tables_hold_only_the_departments_matters_and_other_roles_are_refused(meeting):
    line, items = department.scope_text(meeting, as_user(POLICE))
    assert items == sorted([JZ, HZ]) and JZ in line and GJJ not in line
    assert department.bank_choices(meeting, as_user(POLICE))[0][1] == "Q4"
    rows = department.question_rows(meeting, "Q4", as_user(POLICE))
    bank = QuizBank(meeting.kb.records).questions(_user(meeting, "zuzhang"), "Q4")
    assert {int(r[0]) for r in rows} == {n for n, q in enumerate(bank, 1) if q.item in (JZ, HZ)}
    assert {r[1] for r in rows} == {JZ, HZ}
    for other in ("zuzhang", "zhangsan"):
        with pytest.raises(gr.Error, match="出题阅卷"):
            department.question_rows(meeting, "Q4", as_user(other))
    foreign = next(n for n, q in enumerate(bank, 1) if q.item == GJJ)
    with pytest.raises(gr.Error, match="不是本部门负责事项的题目"):
        department.question_form(meeting, "Q4", foreign, as_user(POLICE))


def test_a_department_proposes_corrects_composes_and_approves(meeting):
    done = department.propose_question(meeting, "Q4", "short", JZ, "中", "第一次申领居住证要带什么材料？", "",
                                       SHORT_KEY, "见申领规定。", "身份证\n租赁合同", as_user(POLICE))
    number = len(QuizBank(meeting.kb.records).questions(_user(meeting, "zuzhang"), "Q4"))
    assert f"题号 {number}" in done
    with pytest.raises(gr.Error, match="不归你负责"):
        department.propose_question(meeting, "Q4", "judge", GJJ, "易", "公积金可以租房提取。", "", "正确", "", "",
                                    as_user(POLICE))
    head, stem, _, key, _, points = department.question_form(meeting, "Q4", number, as_user(POLICE))
    assert stem == "第一次申领居住证要带什么材料？" and key == SHORT_KEY and points == "身份证\n租赁合同"
    department.save_question(meeting, "Q4", number, "首次申领居住证要带什么？", "", key, "", points, as_user(POLICE))
    assert any(r[0] == str(number) and r[4] == "首次申领居住证要带什么？"
               for r in department.question_rows(meeting, "Q4", as_user(POLICE)))

    text, paper_id = department.compose_paper(meeting, "Q4", "例会测试", [1, 0, 1, 0, 1], "P1", as_user(POLICE))
    assert paper_id == "P1" and "3 题" in text
    with pytest.raises(gr.Error, match="题数"):
        department.compose_paper(meeting, "Q4", "例会测试", [1.5, 0, 0, 0, 0], "P2", as_user(POLICE))
    rows, choices = department.paper_rows(meeting, as_user(POLICE))
    assert rows[0][:4] == ["P1", "例会测试", "Q4", "3"] and rows[0][-1] == "未审定" and choices[0][1] == "P1"
    assert "3 道题" in department.approve_paper(meeting, "P1", as_user(POLICE))
    assert department.paper_rows(meeting, as_user(POLICE))[0][0][-1].startswith("已审定")
    trainers_view = {r[0]: r[-1] for r in exam_papers.paper_rows(meeting, as_user("zuzhang"))}
    assert trainers_view["P1"].endswith(" 3 题") and trainers_view["P1"] != "—"
    assert department.paper_rows(meeting, as_user(FUND)) == ([], [])


def test_grading_by_sheet_number_changes_the_total_and_results_show_names_and_scores_only(meeting):
    records = meeting.kb.records
    department.propose_question(meeting, "Q4", "short", JZ, "中", "第一次申领居住证要带什么材料？", "", SHORT_KEY, "",
                                "身份证\n租赁合同", as_user(POLICE))
    department.compose_paper(meeting, "Q4", "例会测试", [1, 0, 0, 0, 1], "P1", as_user(POLICE))
    Papers(records).assign(_user(meeting, "zuzhang"), "P1", "group", ["一组", "二组"])
    taken = _take(meeting, "s1", "P1", wrong_short=True)
    short = next(a for a in taken.answers if a.question.question.kind == "short")

    rows = department.grading_rows(meeting, "", True, as_user(POLICE))
    assert [r[:2] for r in rows] == [[str(taken.attempt.id), str(short.question.number)]]
    assert rows[0][5] == "居住证不用带材料" and not any("赵一" in c or "一组" in c for c in rows[0])
    assert department.grading_rows(meeting, "", True, as_user(FUND)) == []
    with pytest.raises(gr.Error, match="不是你负责事项的简答题"):
        department.grade_answer(meeting, taken.attempt.id, short.question.number, 5, "", as_user(FUND))
    said = department.grade_answer(meeting, taken.attempt.id, short.question.number, 5, "要点不全", as_user(POLICE))
    assert "0 分（自动）→ 5 分" in said
    assert Attempts(records).result(_user(meeting, "s1"), taken.attempt.id).attempt.score == taken.attempt.score + 5
    assert department.grading_rows(meeting, "", True, as_user(POLICE)) == []

    by_question, by_person = department.result_rows(meeting, "", as_user(POLICE))
    assert len(by_question) == 2 and {r[2] for r in by_question} <= {JZ, HZ}
    assert by_person == [["P1", "赵一", f"{taken.attempt.score + 5:g}", f"{taken.attempt.total:g}"]]
    assert department.result_rows(meeting, "", as_user(FUND)) == ([], [])
