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

from fixtures import PASSWORD, serving  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402
from test_ui import ctx  # noqa: E402,F401  (the knowledge base with the hostile entry, and the accounts)


ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-screenshots"
TIMEOUT = 20_000
expect.set_options(timeout=TIMEOUT)
ALL_TABS = ["窗口问答", "每日登记", "审核", "每日汇总", "账号"]


@pytest.fixture(scope="module")
def url(ctx):
    with serving(ctx) as served:
        yield served


@pytest.fixture(scope="module")
def browser():
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM),
                                    args=["--headless", "--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    page.shot = lambda step: page.screenshot(path=str(SHOTS / f"{request.node.name}-{step}.png"), full_page=True)
    yield page
    context.close()


def log_in(page, url, username, password):
    page.goto(url)
    page.locator("input[type=password]").wait_for()
    page.shot("1-login")
    page.locator("input:not([type=password])").first.fill(username)
    page.locator("input[type=password]").fill(password)
    page.get_by_role("button", name=re.compile(r"^\s*(登录|login)\s*$", re.I)).click()


def expect_tabs(page, shown):
    for title in ALL_TABS:
        tab = page.get_by_role("tab", name=title, exact=True)
        if title in shown:
            expect(tab).to_be_visible()
        else:
            expect(tab).to_have_count(0)


def ask(page, question):
    box = page.get_by_label("问题", exact=True)
    box.fill(question)
    box.press("Enter")


def test_staff_sees_their_pages_and_gets_a_cited_answer(page, url):
    log_in(page, url, "zhangsan", PASSWORD)
    expect(page.get_by_text("当前用户：<b>张三</b>（窗口人员）")).to_be_visible()
    expect_tabs(page, ["窗口问答", "每日登记", "账号"])
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
    expect_tabs(page, ALL_TABS)
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
