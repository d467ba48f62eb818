"""Shared pieces of the browser tests: Debian's chromium driven by Playwright (headless, 1366×768).

A browser test module skips itself where /usr/bin/chromium is missing (``scripts/system_deps.sh``
installs it; never run ``playwright install``), imports the ``browser`` and ``page`` fixtures from
here, and serves its own knowledge base with :func:`fixtures.serving`. Every page a test visits is
saved with ``page.shot(step)`` into ``test-screenshots/`` at the repository root (look at them).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-screenshots"
TIMEOUT = 40_000
expect.set_options(timeout=TIMEOUT)


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
    """Exactly the tabs ``shown`` of the app's pages are offered."""
    from web.app import PAGES

    for title in (p.TITLE for p in PAGES):
        tab = page.get_by_role("tab", name=title, exact=True)
        if title in shown:
            expect(tab).to_be_visible()
        else:
            expect(tab).to_have_count(0)


def ask(page, question):
    box = page.get_by_label("问题", exact=True)
    box.fill(question)
    box.press("Enter")



def choose(page, label, option):
    """Pick ``option`` (text or pattern) in the visible dropdown labelled ``label``."""
    page.get_by_label(label, exact=True).locator("visible=true").first.click()
    page.get_by_role("option", name=option, exact=True).click()


def switch(page, url, username, password):
    """Log out whoever is logged in and log in as ``username``."""
    page.goto(url + "logout")
    log_in(page, url, username, password)
    expect(page.get_by_role("tab", name="窗口问答", exact=True)).to_be_visible()


def open_tab(page, title):
    """Open the app's tab ``title``; its panel."""
    page.get_by_role("tab", name=title, exact=True).click()
    return page.get_by_role("tabpanel")


def pick_draft(panel, text):
    """Pick the draft whose row in the review queue shows ``text`` by clicking the row."""
    panel.get_by_role("gridcell", name=text).first.click()
    expect(panel.get_by_text(re.compile(r"草稿（待审核")).first).to_be_visible()


def approve_in_review(page, draft_text, entry_id):
    """Open the 审核 tab, pick the draft whose row shows ``draft_text`` and approve it as ``entry_id``."""
    queue = open_tab(page, "审核")
    pick_draft(queue, draft_text)
    queue.get_by_role("button", name="通过", exact=True).click()
    expect(page.get_by_text(f"已发布 {entry_id}。")).to_be_visible()
