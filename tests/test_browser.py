"""The served web UI in a real browser: Debian's chromium driven by Playwright (headless, 1366×768).

Each test logs in through gradio's login form and saves full-page screenshots of what it visits into
``test-screenshots/`` at the repository root (look at them). Skipped only where /usr/bin/chromium is
missing (``scripts/system_deps.sh`` installs it); never run ``playwright install``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium (run scripts/system_deps.sh to install Debian's chromium)",
                allow_module_level=True)

from browsing import ask, browser, expect_tabs, log_in, page  # noqa: E402,F401
from fixtures import PASSWORD, serving  # noqa: E402
from playwright.sync_api import expect  # noqa: E402
from test_ui import ctx  # noqa: E402,F401  (the knowledge base with the hostile entry, and the accounts)


@pytest.fixture(scope="module")
def url(ctx):
    with serving(ctx) as served:
        yield served


def test_staff_sees_their_pages_and_gets_a_cited_answer(page, url):
    log_in(page, url, "zhangsan", PASSWORD)
    expect(page.get_by_text("当前用户：<b>张三</b>（窗口人员）")).to_be_visible()
    expect_tabs(page, ["窗口问答", "每日登记", "办不成事", "学习", "自测", "知识库", "账号"])
    page.shot("2-logged-in")
    ask(page, "居住证签注去哪办")
    expect(page.get_by_text("派出所户籍窗口").first).to_be_visible()
    expect(page.get_by_text("出处").first).to_be_visible()
    page.shot("3-answer")
    body = page.inner_text("body")
    assert "**" not in body, "Markdown shown raw"
    assert "无权执行" not in body, "a hidden page's handler refused the user"
    assert not page.dialogs


def test_a_stored_script_is_shown_as_text(page, url):
    log_in(page, url, "zuzhang", PASSWORD)
    expect(page.get_by_text("当前用户：李组长")).to_be_visible()
    expect_tabs(page, ["窗口问答", "每日登记", "审核", "知识缺口", "词表", "办不成事", "每日汇总", "学习", "自测", "题库与考试",
                      "培训", "知识库", "账号"])
    page.shot("2-logged-in")
    ask(page, "社保卡丢了怎么补办")
    expect(page.get_by_text("FAQ-XSS").first).to_be_visible()
    page.shot("3-answer")
    body = page.inner_text("body")
    assert "<script>alert(1)</script>" in body and "[点我](javascript:alert(1))" in body
    assert page.locator("a[href^='javascript']").count() == 0
    assert not page.dialogs, f"a stored script ran: {page.dialogs}"


def test_a_wrong_password_stays_on_the_login_page(page, url):
    log_in(page, url, "zhangsan", "wrong-password")
    expect(page.get_by_text(re.compile("incorrect|不正确|错误", re.I)).first).to_be_visible()
    expect(page.locator("input[type=password]")).to_be_visible()
    expect(page.get_by_role("tab", name="窗口问答")).to_have_count(0)
    page.shot("2-error")


def test_the_review_page_shows_an_entrys_history(page, url):
    log_in(page, url, "zuzhang", PASSWORD)
    page.get_by_role("tab", name="审核", exact=True).click()
    page.get_by_text("条目历史与回滚").click()
    box = page.get_by_label("条目编号", exact=True)
    box.fill("FAQ-QZ")
    box.press("Enter")
    expect(page.get_by_text("共保存 1 个版本")).to_be_visible()
    page.shot("2-history")
    assert "到居住地派出所户籍窗口办理签注" in page.get_by_label("全部版本（点击一行可选为回滚版本）").inner_text()
    assert not page.dialogs


def test_a_follow_up_is_answered_from_the_conversation(page, url):
    log_in(page, url, "zhangsan", PASSWORD)
    ask(page, "第一次办护照需要带什么材料？")
    expect(page.get_by_text("出入境接待大厅").first).to_be_visible()
    ask(page, "那要本人去吗？")
    expect(page.get_by_text(re.compile("按‘.*护照.*’回答"))).to_be_visible()
    page.shot("2-follow-up")
    assert page.get_by_text("FAQ-HZ").count() >= 2
    assert not page.dialogs
