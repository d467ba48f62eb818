"""How long the web app keeps the browser busy after a login, against an app of the first page alone.

    python benchmarks/login_bench.py [--rounds 3]

In one run it builds the demo knowledge base (the bundled sample and the demo accounts, as
``kb serve --demo`` does) in a temporary folder, serves it twice in this process — the whole app
(every page) and an app of the first page (窗口问答) alone — and logs in to each ``--rounds`` times
per demo account with Debian's chromium (headless, 1366×768). It times each login from the click
on 登录 until the 窗口问答 tab is shown, which the browser does only after it has applied what the
app loads: the pages' layout and whatever fills them at load.
Target: the whole app ≤ 3 × the first page alone, per account (all pages filled at load: 5.8 ×).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from serve_bench import free_port  # noqa: E402

from cli.serve import DEMO_ACCOUNTS, demo_kb  # noqa: E402
from kb.config import load_settings  # noqa: E402
from web import ask  # noqa: E402
from web.app import PAGES, build_app, launch  # noqa: E402
from web.context import Context  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def login_seconds(browser, url: str, username: str, password: str) -> float:
    """Seconds from the click on 登录 until the first tab is shown, in a fresh browser context."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.goto(url)
    page.locator("input:not([type=password])").first.fill(username)
    page.locator("input[type=password]").fill(password)
    started = time.perf_counter()
    page.get_by_role("button", name=re.compile(r"^\s*(登录|login)\s*$", re.I)).click()
    expect(page.get_by_role("tab", name=ask.TITLE, exact=True)).to_be_visible(timeout=120_000)
    took = time.perf_counter() - started
    context.close()
    return took


def measure(settings: SimpleNamespace, kb, pages: tuple, rounds: int) -> dict[str, float]:
    """Median login seconds per demo account on the app of ``pages``."""
    ctx = Context(kb, settings, pages=pages)
    port = free_port()
    app = launch(ctx, build_app(ctx), "127.0.0.1", port, block=False)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
            login_seconds(browser, f"http://127.0.0.1:{port}/", "staff", "demo-staff-2026")
            medians = {username: statistics.median(login_seconds(browser, f"http://127.0.0.1:{port}/", username, pw)
                                                   for _ in range(rounds))
                       for username, _, _, pw in DEMO_ACCOUNTS}
            browser.close()
    finally:
        app.close()
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="logins per account and app (median reported)")
    args = parser.parse_args()
    os.chdir(tempfile.mkdtemp(prefix="kb-login-bench-"))
    settings, kb = demo_kb(load_settings())
    whole = measure(settings, kb, PAGES, args.rounds)
    alone = measure(settings, kb, (ask,), args.rounds)
    print(f"{'account':<10} {'whole app':>10} {'first page':>11} {'ratio':>6}")
    for username in whole:
        print(f"{username:<10} {whole[username]:>9.2f}s {alone[username]:>10.2f}s {whole[username] / alone[username]:>5.1f}×")
    worst = max(whole[u] / alone[u] for u in whole)
    print(f"worst ratio {worst:.1f}× (target ≤ 3×): {'met' if worst <= 3 else 'NOT met'}")
    kb.close()


if __name__ == "__main__":
    main()
