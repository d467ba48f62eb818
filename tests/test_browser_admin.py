"""The 管理 page in a real browser (Debian's chromium, Playwright, 1366×768): an admin adds an account
that then logs in with its role's tabs, filters the audit log, and sees the statistics charts drawn
with Chinese labels; staff see no 管理 tab and no refusal. Screenshots go to ``test-screenshots/``."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium (run scripts/system_deps.sh to install Debian's chromium)",
                allow_module_level=True)

from browsing import SHOTS, browser, choose, ctx, expect_tabs, log_in, page, url  # noqa: E402,F401
from fixtures import PASSWORD, as_user  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from kb.asklog import log_question  # noqa: E402
from web import ask  # noqa: E402
from web.app import PAGES  # noqa: E402

HEADERS = ["编号", "问题", "答复", "事项", "部门"]
ROWS = [
    ["FAQ-QZ", "居住证签注怎么办理？", "到居住地派出所户籍窗口办理签注，需本人到场，当场办结。", "居住证签注", "公安局"],
    ["FAQ-QZ2", "居住证丢了怎么补办？", "到居住地派出所申请补领，三个工作日后领取。", "居住证签注", "公安局"],
    ["FAQ-HZ", "第一次办护照需要带什么材料？", "携带本人身份证到出入境接待大厅现场采集照片和指纹。", "普通护照", "出入境"],
    ["FAQ-SB", "社保卡丢了怎么补办？", "到合作银行网点挂失并补办社会保障卡。", "社保卡", "人社局"],
]
NEW_PASSWORD = "browser-pass-1"
ALL_TITLES = [p.TITLE for p in PAGES]


SHEET = (ROWS, HEADERS)


@pytest.fixture(scope="module", autouse=True)
def asked(ctx):
    """Questions asked today through the page and logged on three earlier days, for the statistics."""
    for question in ("居住证签注去哪办", "第一次办护照带啥材料", "驾驶证到期怎么换"):
        ask.ask(ctx, question, "全部", "全部", [], as_user("zhangsan"))
    with ctx.kb.records.transaction(changes_index=False) as conn:
        for back, statuses in ((1, ("answered", "no_answer")), (3, ("answered", "answered", "ambiguous")),
                               (5, ("no_answer",))):
            day = (date.today() - timedelta(days=back)).isoformat()
            for i, status in enumerate(statuses):
                log_question(conn, "zhangsan", f"第 {back} 天的问题 {i}", status, 0.5, at=f"{day}T10:0{i}:00")


def open_section(page, title):
    page.get_by_role("tab", name="管理", exact=True).click()
    page.get_by_role("tab", name=title, exact=True).click()


def test_admin_adds_an_account_that_then_logs_in(page, browser, url):
    log_in(page, url, "admin", PASSWORD)
    expect_tabs(page, ALL_TITLES)
    open_section(page, "账号管理")
    expect(page.get_by_role("gridcell", name="zhangsan", exact=True)).to_be_visible()
    page.shot("2-accounts")
    page.get_by_text("新增账号", exact=True).first.click()
    page.get_by_label("用户名", exact=True).fill("liuliu")
    page.get_by_label("姓名", exact=True).first.fill("刘六")
    choose(page, "角色", "组长/培训师")
    page.get_by_label("组", exact=True).first.fill("综合三组")
    page.get_by_label("初始密码（至少 8 位）").fill(NEW_PASSWORD)
    page.shot("3-form")
    page.get_by_role("button", name="新增账号", exact=True).last.click()
    expect(page.get_by_role("gridcell", name="liuliu", exact=True)).to_be_visible()
    expect(page.get_by_text("已新增账号 liuliu").first).to_be_visible()
    page.shot("4-added")
    assert not page.dialogs

    page.get_by_role("gridcell", name="liuliu", exact=True).click()
    expect(page.get_by_text("当前状态：在用")).to_be_visible()
    page.get_by_label("停用或启用的理由（记入审计日志，可留空）").fill("试用结束")
    page.get_by_role("button", name="停用账号", exact=True).click()
    expect(page.get_by_text("当前状态：已停用")).to_be_visible()
    expect(page.get_by_role("gridcell", name="已停用", exact=True)).to_be_visible()
    page.shot("5-disabled")
    refused = newcomer(browser, url, "1")
    expect(refused.get_by_text(re.compile("incorrect|不正确|错误", re.I)).first).to_be_visible()
    refused.shot("2-refused")
    expect(refused.locator("input[type=password]")).to_be_visible()
    expect(refused.get_by_role("tab", name="窗口问答")).to_have_count(0)
    refused.context.close()

    page.get_by_role("button", name="重新启用", exact=True).click()
    expect(page.get_by_text("当前状态：在用")).to_be_visible()
    welcomed = newcomer(browser, url, "2")
    expect(welcomed.get_by_text("当前用户：刘六（组长/培训师）")).to_be_visible()
    expect_tabs(welcomed, [p.TITLE for p in PAGES if "reviewer" in p.ROLES])
    welcomed.wait_for_timeout(1500)
    welcomed.shot("logged-in")
    assert "无权执行" not in welcomed.inner_text("body")
    welcomed.context.close()
    assert not page.dialogs


def newcomer(browser, url, attempt):
    """A second browser logging in as the new account (screenshots named after ``attempt``)."""
    page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN").new_page()
    page.shot = lambda step: page.screenshot(
        path=str(SHOTS / f"test_admin_adds_an_account_that_then_logs_in-6-newcomer{attempt}-{step}.png"),
        full_page=True)
    log_in(page, url, "liuliu", NEW_PASSWORD)
    return page


def test_staff_see_no_admin_page_and_no_refusal(page, url):
    log_in(page, url, "zhangsan", PASSWORD)
    expect(page.get_by_text("当前用户：张三（窗口人员）")).to_be_visible()
    expect(page.get_by_role("tab", name="管理", exact=True)).to_have_count(0)
    page.wait_for_timeout(1500)
    page.shot("2-staff")
    body = page.inner_text("body")
    assert "无权执行" not in body and "操作未完成" not in body


def test_admin_filters_the_audit_log(page, url):
    log_in(page, url, "admin", PASSWORD)
    open_section(page, "审计日志")
    expect(page.get_by_role("gridcell", name="user:zhangsan", exact=True)).to_be_visible()
    choose(page, "操作", "新增用户")
    page.get_by_label("对象编号", exact=True).fill("user:zuzhang")
    page.get_by_role("button", name="查询", exact=True).click()
    expect(page.get_by_role("gridcell", name="user:zhangsan", exact=True)).to_have_count(0)
    expect(page.get_by_role("gridcell", name="user:zuzhang", exact=True)).to_be_visible()
    expect(page.get_by_text("显示最新的 1 条").first).to_be_visible()
    page.shot("2-filtered")
    assert not page.dialogs


def test_admin_sees_the_statistics_charts(page, url):
    log_in(page, url, "admin", PASSWORD)
    open_section(page, "统计")
    expect(page.get_by_text("已发布条目 4 条").first).to_be_visible()
    expect(page.get_by_text("最近 30 天提问 9 次").first).to_be_visible()
    charts = page.locator(".vega-embed")
    expect(charts).to_have_count(4)
    for i in range(4):
        expect(charts.nth(i).locator("svg, canvas").first).to_be_visible()
    page.wait_for_timeout(1000)
    page.shot("2-charts")
    assert not page.dialogs
