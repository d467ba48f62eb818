"""出题阅卷 in a real browser: a department account (市公安局, 事项 居住证 and 普通护照) logs in, is offered
only 窗口问答, 出题阅卷 and 账号, sees only its matters' questions, proposes one, composes and approves a
paper, grades a staff member's short answer (the total follows) and sees only its matters' results,
with names and scores and nothing else about the people."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium (run scripts/system_deps.sh to install Debian's chromium)",
                allow_module_level=True)

from browsing import browser, choose, expect_tabs, log_in, page  # noqa: E402,F401
from fixtures import (  # noqa: E402
    FAST_HASHER, PASSWORD, drop_collection, make_xlsx, open_kb, serving, unique_collection, web_context,
)
from playwright.sync_api import expect  # noqa: E402
from test_quiz import ALL_TYPES, GJJ, HEADERS, HZ, JZ, ROWS, _bank  # noqa: E402

from ingest import ingest_paths  # noqa: E402
from kb.attempts import Attempts, Marking  # noqa: E402
from kb.department import Department  # noqa: E402
from kb.papers import Papers  # noqa: E402
from kb.scopes import Scopes  # noqa: E402
from kb.users import Users  # noqa: E402
from web import account, ask, department  # noqa: E402

FOREIGN = "公积金部门自出题：重大疾病提取公积金要带什么？"
MINE = "第一次申领居住证要带哪些材料？"


@pytest.fixture(scope="module")
def served(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("department")
    kb = open_kb(root / "data", embedder, unique_collection())
    ctx = web_context(kb, root / "data")
    users = Users(kb.records, FAST_HASHER)
    admin = users.get("admin")
    users.add(admin, "gaj", PASSWORD, "审批部门", "市公安局")
    users.add(admin, "gjj", PASSWORD, "审批部门", "市住房公积金管理中心")
    users.add(admin, "s1", PASSWORD, "staff", "赵一", "一组")
    Scopes(kb.records).set(admin, "gaj", [JZ, HZ])
    Scopes(kb.records).set(admin, "gjj", [GJJ])
    ingest_paths(kb, [make_xlsx(root / "题库素材.xlsx", ROWS, HEADERS)], actor=admin)
    _bank(ctx, "Q4", "2026Q4", counts=ALL_TYPES, earlier=True)
    Department(kb.records).propose(users.get("gjj"), "Q4", "short", GJJ, FOREIGN, [], ["诊断证明和医疗费用票据"], "",
                                   ["诊断证明", "费用票据"])
    ctx.pages = (ask, department, account)
    with serving(ctx) as url:
        yield ctx, url
    drop_collection(kb)
    kb.close()


def _shown(page, label: str):
    return page.get_by_label(label, exact=True).locator("visible=true")


def _grid(page, n: int = 0):
    return page.get_by_role("grid").locator("visible=true").nth(n)


def _take_with_a_wrong_short_answer(ctx, paper_id: str):
    """s1 takes the paper: every key right except the 简答, answered beside the point (graded 0)."""
    s1 = Users(ctx.kb.records).get("s1")
    attempts = Attempts(ctx.kb.records)
    attempt, _ = attempts.start(s1, paper_id)
    paper = Papers(ctx.kb.records).keyed(paper_id, attempt.variant)
    answers = {q.number: "只要身份证" if q.question.kind == "short" else "".join(q.question.answer)
               for q in paper.questions}
    exact = lambda q, response, points: Marking(points if response == "".join(q.answer) else 0.0, points)  # noqa: E731
    result = attempts.submit(s1, attempt.id, answers, exact)
    return result, next(a.question for a in result.answers if a.question.question.kind == "short")


def test_a_department_sets_grades_and_sees_only_its_matters(page, served):
    ctx, url = served
    log_in(page, url, "gaj", PASSWORD)
    tab = page.get_by_role("tab", name="出题阅卷", exact=True)
    expect(tab).to_be_visible()
    expect_tabs(page, {"窗口问答", "出题阅卷", "账号"})
    tab.click()
    expect(page.get_by_text(re.compile(r"负责事项.*居住证"))).to_be_visible()

    choose(page, "题库", re.compile(r"^Q4"))
    questions = _grid(page)
    expect(questions).to_contain_text(JZ)
    expect(questions).not_to_contain_text(GJJ)
    expect(questions).not_to_contain_text(FOREIGN)
    page.shot("1-questions")

    choose(page, "题型", "简答")
    choose(page, "事项", JZ)
    _shown(page, "题干").fill(MINE)
    page.locator("label", has_text="答案").locator("textarea").locator("visible=true").fill("身份证和租赁合同")
    _shown(page, "评分要点（每行一个，仅简答题）").fill("身份证\n租赁合同")
    page.get_by_role("button", name="作为新题加入").click()
    expect(page.get_by_text(re.compile(r"已加入题库 Q4，题号 \d+"))).to_be_visible()
    expect(questions).to_contain_text(MINE)
    page.shot("2-proposed")

    page.get_by_role("tab", name="组卷与审定", exact=True).click()
    _shown(page, "试卷标题").fill("第四季度例会测试（公安）")
    _shown(page, "试卷编号（可选）").fill("P1")
    for label, n in {"单选题数": 1, "多选题数": 0, "判断题数": 1, "填空题数": 0, "简答题数": 1}.items():
        _shown(page, label).fill(str(n))
    page.get_by_role("button", name="用本部门事项的题目组卷").click()
    expect(page.get_by_text("试卷 P1 已组好")).to_be_visible()
    page.get_by_role("button", name="审定本部门的题目").click()
    expect(page.get_by_text("已审定试卷 P1 中本部门负责事项的 3 道题。")).to_be_visible()
    expect(_grid(page)).to_contain_text("已审定")
    page.shot("3-approved")
    assert {q.question.item for q in Papers(ctx.kb.records).keyed("P1").questions} <= {JZ, HZ}

    Papers(ctx.kb.records).assign(Users(ctx.kb.records).get("zuzhang"), "P1", "group", ["一组"])
    taken, short = _take_with_a_wrong_short_answer(ctx, "P1")
    page.get_by_role("tab", name="阅卷", exact=True).click()
    page.get_by_role("button", name="刷新").click()
    grading = _grid(page)
    expect(grading).to_contain_text("只要身份证")
    expect(grading).not_to_contain_text("赵一")
    _shown(page, "答卷编号").fill(str(taken.attempt.id))
    _shown(page, "答卷题号").fill(str(short.number))
    _shown(page, "得分").fill("6")
    _shown(page, "评语（可选）").fill("只答出身份证")
    page.get_by_role("button", name="保存评分").click()
    expect(page.get_by_text("0 分（自动）→ 6 分，总分已更新。")).to_be_visible()
    page.shot("4-graded")
    s1 = Users(ctx.kb.records).get("s1")
    assert Attempts(ctx.kb.records).result(s1, taken.attempt.id).attempt.score == taken.attempt.score + 6

    page.get_by_role("tab", name="成绩", exact=True).click()
    page.get_by_role("button", name="查看成绩").click()
    people = _grid(page, 1)
    expect(people).to_contain_text("赵一")
    expect(people).to_contain_text(f"{taken.attempt.score + 6:g}")
    expect(people).not_to_contain_text("一组")
    expect(people).not_to_contain_text("s1")
    expect(_grid(page, 0)).not_to_contain_text(GJJ)
    expect(_grid(page, 0)).to_contain_text(JZ)
    page.shot("5-results")
