"""The 办不成事 loop in a real browser (Debian's chromium, headless, 1366×768): a clerk asks a question the
knowledge base cannot answer in 窗口问答 and escalates it from the refused answer; the group lead opens it
in 办不成事, sends it to a department with a note, solves it (the solution becomes a draft), approves the
draft in 审核; the clerk asks again and gets the answer citing the new entry, and sees the case solved.
Screenshots go to ``test-screenshots/``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium (run scripts/system_deps.sh to install Debian's chromium)",
                allow_module_level=True)

from browsing import approve_in_review, ask, browser, ctx, log_in, open_tab, page, switch, url  # noqa: E402,F401
from fixtures import PASSWORD  # noqa: E402
from playwright.sync_api import expect  # noqa: E402
from test_escalations import HARD, HEADERS, ROWS, SOLUTION  # noqa: E402

from web import account, escalations, review  # noqa: E402
from web import ask as ask_page  # noqa: E402

SHEET = (ROWS, HEADERS)
SERVED = (ask_page, escalations, review, account)


def test_an_escalated_question_becomes_an_entry_that_answers_the_next_asker(page, url):
    log_in(page, url, "zhangsan", PASSWORD)
    escalate = page.get_by_role("button", name="转办不成事窗口")
    ask(page, "居住证签注怎么办理？")
    expect(page.get_by_text("置信度").first).to_be_visible()
    expect(escalate).to_have_count(0)
    ask(page, HARD)
    expect(page.get_by_text("暂无可靠答案")).to_have_count(1)
    expect(escalate).to_be_visible()
    page.get_by_label(escalations.SITUATION).fill("外省退休，已办异地就医备案，电话13812345678")
    page.shot("2-refused")
    escalate.click()
    expect(page.get_by_text("已转办不成事窗口：登记编号 1，受理").first).to_be_visible()
    expect(escalate).to_have_count(0)
    page.shot("3-escalated")
    mine = open_tab(page, "办不成事")
    mine.get_by_role("button", name="刷新").click()
    expect(mine.get_by_role("gridcell", name=HARD)).to_be_visible()
    expect(mine.get_by_role("heading", name="办不成事登记")).to_have_count(0)
    page.shot("4-mine")

    switch(page, url, "zuzhang", PASSWORD)
    panel = open_tab(page, "办不成事")
    expect(panel.get_by_text("未办结 1 件")).to_be_visible()
    panel.get_by_role("gridcell", name=HARD).click()
    expect(panel.get_by_text(re.compile("^登记 1："))).to_be_visible()
    expect(panel.get_by_text("群众情况：外省退休，已办异地就医备案，电话[手机号已隐去]")).to_be_visible()
    expect(panel.get_by_label("条目问题（预填为登记的问题）")).to_have_value(HARD)
    panel.get_by_label("转给部门").fill("市医保局")
    panel.get_by_label("处理记录").fill("已电话联系医保局待遇科")
    panel.get_by_role("button", name="保存处理记录").click()
    expect(page.get_by_text("已更新登记 1：协调中，部门 市医保局").first).to_be_visible()
    expect(panel.get_by_text("已电话联系医保局待遇科")).to_be_visible()
    panel.get_by_label("解决方案（提交为疑难案例，审核发布后窗口可直接查到）").fill(SOLUTION)
    panel.get_by_label("依据", exact=True).fill("市医保局待遇科电话口径")
    page.shot("5-working")
    panel.get_by_role("button", name="已解决：提交解决方案").click()
    made = page.get_by_text(re.compile(r"解决方案已提交为草稿 K\d{5}")).first
    expect(made).to_be_visible()
    entry_id = re.search(r"K\d{5}", made.inner_text())[0]
    expect(panel.get_by_role("gridcell", name="已解决")).to_be_visible()
    page.shot("6-solved")

    page.reload()
    approve_in_review(page, HARD, entry_id)
    page.shot("7-approved")

    switch(page, url, "zhangsan", PASSWORD)
    ask(page, HARD)
    expect(page.get_by_text("置信度").first).to_be_visible()
    expect(page.get_by_text(f"编号 {entry_id}").first).to_be_visible()
    expect(page.get_by_text("定点药店").first).to_be_visible()
    expect(escalate).to_have_count(0)
    page.shot("8-answered")
    mine = open_tab(page, "办不成事")
    mine.get_by_role("button", name="刷新").click()
    row = mine.get_by_role("row").filter(has_text=HARD)
    expect(row).to_contain_text("已解决")
    expect(row).to_contain_text(entry_id)
    page.shot("9-case-solved")
    assert not page.dialogs and "无权执行" not in page.inner_text("body")
