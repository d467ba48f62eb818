"""The 学习 page in a real browser: a new hire's study session records progress that the trainer sees."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium (run scripts/system_deps.sh to install Debian's chromium)",
                allow_module_level=True)

from browsing import SHOTS, browser, log_in, page  # noqa: E402,F401
from fixtures import (  # noqa: E402
    PASSWORD, drop_collection, make_xlsx, open_kb, serving, unique_collection, web_context,
)
from playwright.sync_api import expect  # noqa: E402
from test_study import HEADERS, ROWS  # noqa: E402

from ingest import ingest_paths  # noqa: E402
from kb.users import Users  # noqa: E402
from web import account, study  # noqa: E402

SHOT = "test_a_learners_session_is_seen_by_the_trainer"


@pytest.fixture(scope="module")
def url(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("study")
    kb = open_kb(root / "data", embedder, unique_collection())
    ctx = web_context(kb, root / "data")
    ingest_paths(kb, [make_xlsx(root / "学习资料.xlsx", ROWS, HEADERS)], actor=Users(kb.records).get("admin"))
    ctx.pages = (study, account)
    with serving(ctx) as served:
        yield served
    drop_collection(kb)
    kb.close()


def test_a_learners_session_is_seen_by_the_trainer(page, browser, url):
    log_in(page, url, "zhangsan", PASSWORD)
    page.get_by_role("tab", name="学习", exact=True).click()
    topic = page.get_by_label("事项（薄弱和未学的在前）")
    expect(topic).to_have_value("居住证（未学，3 条）")
    page.shot("2-study")
    page.get_by_role("button", name="讲解下一条").click()
    expect(page.get_by_text("请回答").first).to_be_visible()
    expect(page.get_by_text("相关条目").first).to_be_visible()
    page.shot("3-lesson")
    box = page.get_by_label("您的回答", exact=True)
    box.fill("不知道")
    box.press("Enter")
    expect(page.get_by_text("回答不正确").first).to_be_visible()
    expect(page.get_by_text("出处：编号 JZ-").last).to_be_visible()
    expect(topic).to_have_value("居住证（薄弱：答错 1 次）")
    page.shot("4-verdict")
    assert "**" not in page.inner_text("body") and not page.dialogs
    expect(page.get_by_role("heading", name="学员进度")).to_have_count(0)

    trainer = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    trainer.shot = lambda step: trainer.screenshot(path=str(SHOTS / f"{SHOT}-trainer-{step}.png"), full_page=True)
    log_in(trainer, url, "zuzhang", PASSWORD)
    trainer.get_by_role("tab", name="学习", exact=True).click()
    expect(trainer.get_by_role("heading", name="学员进度")).to_be_visible()
    table = trainer.get_by_role("grid").last
    expect(table).to_contain_text("zhangsan")
    row = table.get_by_role("row").filter(has_text="zhangsan")
    expect(row).to_contain_text("张三")
    cells = [c.strip() for c in row.get_by_role("gridcell").all_inner_texts()]
    assert cells[2:6] == ["1", "1", "0", "1"], cells
    trainer.shot("2-progress")
    trainer.close()
