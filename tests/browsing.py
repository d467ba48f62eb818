"""Shared pieces of the browser tests: Debian's chromium driven by Playwright (headless, 1366×768).

A browser test module skips itself where /usr/bin/chromium is missing (``scripts/system_deps.sh``
installs it; never run ``playwright install``), imports the ``browser`` and ``page`` fixtures from
here, and serves its own knowledge base: with the ``ctx`` and ``url`` fixtures from here (a module
that sets ``SHEET`` and, optionally, ``SERVED``) or with :func:`fixtures.serving`. Every page a
test visits is saved with ``page.shot(step)`` into ``test-screenshots/`` at the repository root
(look at them).
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
def ctx(request, tmp_path_factory, embedder):
    """The web context of a test module's own knowledge base: its FAQ sheet ``SHEET`` (rows, headers)
    imported, the accounts of :func:`fixtures.web_context`, and only the pages ``SERVED`` (all when
    the module has none)."""
    from fixtures import drop_collection, make_xlsx, open_kb, unique_collection, web_context

    from ingest import ingest_paths

    rows, headers = request.module.SHEET
    root = tmp_path_factory.mktemp(request.module.__name__)
    kb = open_kb(root / "data", embedder, unique_collection())
    ingest_paths(kb, [make_xlsx(root / "常见问题.xlsx", rows, headers)])
    context = web_context(kb, root / "data")
    context.pages = getattr(request.module, "SERVED", ())
    yield context
    drop_collection(kb)
    kb.close()


@pytest.fixture(scope="module")
def url(ctx):
    """The module's app (:func:`ctx`) served behind its login: its URL."""
    from fixtures import serving

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
