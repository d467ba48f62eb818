"""题库与考试 and 自测 in a real browser: a trainer builds a bank, composes and assigns a paper; three
staff take it (one all right, two with mistakes); the trainer sees the results with charts; a staff
member finds their wrong answers in 错题本 and retries one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium (run scripts/system_deps.sh to install Debian's chromium)",
                allow_module_level=True)

from browsing import SHOTS, browser, choose, log_in, page  # noqa: E402,F401
from fixtures import (  # noqa: E402
    FAST_HASHER, PASSWORD, drop_collection, make_xlsx, open_kb, serving, unique_collection, web_context,
)
from playwright.sync_api import expect  # noqa: E402
from test_quiz import HEADERS, ROWS  # noqa: E402

from ingest import ingest_paths  # noqa: E402
from kb.papers import Papers  # noqa: E402
from kb.quizbank import QuizBank  # noqa: E402
from kb.users import Users  # noqa: E402
from web import account, exams, selftest  # noqa: E402
from web.exam_bank import current_quarter  # noqa: E402

STAFF = {"s1": ("赵一", "一组"), "s2": ("钱二", "一组"), "s3": ("孙三", "二组")}
COUNTS = {"单选题数": 2, "多选题数": 1, "判断题数": 2, "填空题数": 1, "简答题数": 0}
WRONG = {"s1": set(), "s2": {1, 3}, "s3": {2}}
QUARTER_INFO = "如 2026Q4"
"""The example under each section's 季度 box: it tells the box from others whose label mentions 季度."""


@pytest.fixture(scope="module")
def served(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("exams")
    kb = open_kb(root / "data", embedder, unique_collection())
    ctx = web_context(kb, root / "data")
    users = Users(kb.records, FAST_HASHER)
    for name, (display, group) in STAFF.items():
        users.add(users.get("admin"), name, PASSWORD, "staff", display, group)
    ingest_paths(kb, [make_xlsx(root / "题库素材.xlsx", ROWS, HEADERS)], actor=users.get("admin"))
    ctx.pages = (selftest, exams, account)
    with serving(ctx) as url:
        yield ctx, url
    drop_collection(kb)
    kb.close()


def _page(browser, name: str, test: str):
    page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page.shot = lambda step: page.screenshot(path=str(SHOTS / f"{test}-{name}-{step}.png"), full_page=True)
    return page


def _shown(page, label: str):
    return page.get_by_label(label, exact=True).locator("visible=true")


def _boxed(page, label: str):
    """The visible text box labelled ``label`` that also has an info line (its accessible name includes it)."""
    return page.locator("label", has_text=label).locator("input, textarea").locator("visible=true")


def _question(page, number: int):
    """The block of the sheet's question ``number`` (its heading and its input)."""
    return page.locator(".block").filter(has=page.get_by_text(re.compile(rf"^第 {number} 题作答"))).last


def _take(page, paper, wrong: set[int]) -> None:
    for q in paper.questions:
        block, kind = _question(page, q.number), q.question.kind
        right = q.number not in wrong
        if kind in ("single", "multiple"):
            letters = set(q.question.answer) if right else {next(c for c in "ABCD" if c not in q.question.answer)}
            for letter in sorted(letters):
                option = q.question.options["ABCDEF".index(letter)]
                block.get_by_label(f"{letter}. {option}", exact=True).check()
        elif kind == "judge":
            choice = q.question.answer[0] if right else ({"正确", "错误"} - set(q.question.answer)).pop()
            block.get_by_label(choice, exact=True).check()
        else:
            block.locator("input, textarea").fill(q.question.answer[0] if right else "不知道")


def test_a_trainer_sets_a_paper_staff_take_it_and_results_and_wrong_books_follow(browser, served, request):
    ctx, url = served
    test = request.node.name
    trainer = _page(browser, "trainer", test)
    log_in(trainer, url, "zuzhang", PASSWORD)
    trainer.get_by_role("tab", name="题库与考试", exact=True).click()
    expect(_boxed(trainer, QUARTER_INFO)).to_have_value(current_quarter())
    _shown(trainer, "同时用以前的条目（该时段以前发布、仍然有效的条目）").check()
    for label, n in {**COUNTS, "简答题数": 1}.items():
        _shown(trainer, label).fill(str(n))
    trainer.get_by_role("button", name="生成题库").click()
    expect(trainer.get_by_text(re.compile(r"题库 \d{4}Q\d 已保存"))).to_be_visible()
    expect(trainer.get_by_role("grid").first).to_contain_text("单选")
    trainer.shot("1-bank")

    trainer.get_by_role("tab", name="组卷与分配", exact=True).click()
    lead = Users(ctx.kb.records).get("zuzhang")
    bank = QuizBank(ctx.kb.records).banks(lead)[0].id
    choose(trainer, "题库", re.compile(rf"^{bank}"))
    _shown(trainer, "试卷标题").fill("四季度业务自测")
    _boxed(trainer, "试卷编号（可选）").fill("P1")
    for label, n in COUNTS.items():
        _shown(trainer, label).fill(str(n))
    _shown(trainer, "A/B 两个版本（B 卷题序和选项顺序打乱）").check()
    trainer.get_by_role("button", name="组卷", exact=True).click()
    expect(trainer.get_by_text("试卷 P1 已组好")).to_be_visible()
    choose(trainer, "小组（分配给小组时）", "一组")
    choose(trainer, "小组（分配给小组时）", "二组")
    _boxed(trainer, "截止日期（可选）").fill("2099-12-31")
    trainer.get_by_role("button", name="分配", exact=True).click()
    expect(trainer.get_by_text("试卷 P1 已分配给 2 个小组，截止日期 2099-12-31。")).to_be_visible()
    trainer.shot("2-assigned")

    for name, wrong in WRONG.items():
        staff = _page(browser, name, test)
        log_in(staff, url, name, PASSWORD)
        staff.get_by_role("tab", name="自测", exact=True).click()
        choose(staff, "选择试卷", re.compile(r"四季度业务自测"))
        staff.get_by_role("button", name="开始作答").click()
        expect(staff.get_by_role("button", name="提交答卷")).to_be_visible()
        staff.shot("1-sheet")
        attempt = ctx.kb.records.conn.execute("SELECT variant FROM quiz_attempts WHERE username=?", (name,)).fetchone()
        paper = Papers(ctx.kb.records).paper(lead, "P1", attempt[0])
        assert not any(e in staff.inner_text("body") for q in paper.questions for e in q.question.explanation.split("\n"))
        _take(staff, paper, wrong)
        staff.shot("2-answered")
        staff.get_by_role("button", name="提交答卷").click()
        lost = sum(q.points for q in paper.questions if q.number in wrong)
        expect(staff.get_by_text(f"得分 {paper.total - lost:g} / {paper.total:g}")).to_be_visible()
        staff.shot("3-result")
        if name == "s2":
            staff.get_by_role("tab", name="错题本", exact=True).click()
            table = staff.get_by_role("grid").locator("visible=true")
            for q in paper.questions:
                if q.number in wrong:
                    expect(table).to_contain_text(q.question.stem[:20])
            expect(table.get_by_role("row")).to_have_count(1 + len(wrong))
            staff.shot("4-wrong-book")
        staff.close()

    trainer.get_by_role("tab", name="成绩", exact=True).click()
    expect(_boxed(trainer, QUARTER_INFO)).to_have_value(current_quarter())
    trainer.get_by_role("button", name="查看成绩").click()
    charts = trainer.locator("img[src*='png']")
    expect(charts).to_have_count(3)
    people = trainer.get_by_role("grid").locator("visible=true").first
    for name, (display, _) in STAFF.items():
        expect(people).to_contain_text(display)
    expect(trainer.get_by_role("grid").locator("visible=true").nth(1)).to_contain_text("二组")
    trainer.shot("3-results")
    assert all(img.evaluate("i => i.naturalWidth") > 300 for img in charts.all())
    trainer.close()
