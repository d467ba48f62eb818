"""维护: rebuild the indexes, download a backup of the records, restore the records from a backup.

Rebuilding and restoring are background jobs (:mod:`web.jobs`) with a progress bar, so questions are
answered meanwhile (from what the indexes hold while they are rebuilt). A backup is the record
store copied by SQLite's backup API (as ``kb backup``) from a connection of its own, so making one
never holds up the handlers. Restoring checks the uploaded file before anything is changed (a wrong
file is refused with a message naming it), then :func:`kb.backups.restore` keeps a safety backup of
the current records and replaces them under ``ctx.lock`` (so no handler reads the app's connection
half-way through; they wait those few seconds), and the indexes are rebuilt outside the lock. Every
action needs the ``import`` permission, checked on the server when it starts.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import gradio as gr

from kb import KnowledgeBase
from kb.backups import SAFETY_FOLDER, check_backup, restore
from kb.records import RECORDS_FILE, Records
from kb.users import User

from ..context import Context, acting, shown_errors
from ..opening import Opening
from ..downloads import Downloads
from ..jobs import Job, follow, jobs_of, knowledge_base, shown

TITLE = "维护"
KINDS = ("reindex", "restore")
BACKUP_TYPES = [".sqlite3", ".sqlite", ".db"]
REINDEX_HINT = ("从记录库重新嵌入全部分块、重建关键词索引（例如索引与记录不一致时）。"
                "重建在后台进行，期间问答照常，但结果可能暂时不全。")
BACKUP_HINT = "备份包含全部条目、版本历史、审计日志、账号和词表，可用于“从备份恢复”或 `kb restore-backup`。"
RESTORE_HINT = (f"用备份文件替换当前的全部记录（含账号），然后重建索引。恢复前会自动把当前记录备份到数据目录的 "
                f"{SAFETY_FOLDER}/ 文件夹。")
NO_BACKUP = "请先上传备份文件（.sqlite3）。"
UNCONFIRMED = "请先勾选确认：恢复会用备份替换当前的全部记录。"


def rebuild(job: Job, kb: KnowledgeBase, start: float = 0.0, done_before: str = "") -> int:
    """Reindex ``kb``, reporting progress on ``job`` from ``start`` to 1; returns the chunk count."""
    total = max(1, kb.records.counts()["chunks"])
    embedded = 0

    def on_embedded(chunks: int, _characters: int) -> None:
        nonlocal embedded
        embedded += chunks
        job.advance(start + (1 - start) * embedded / total, f"{done_before}正在重新嵌入：{embedded}/{total} 块")

    job.advance(start, f"{done_before}正在重新分词并清空向量索引…")
    return kb.reindex(on_embedded=on_embedded)


def start_reindex(ctx: Context, request: gr.Request | None) -> Job:
    """Start rebuilding the indexes as the logged-in admin; ``gr.Error`` when another job runs."""
    user = acting(ctx, request, "import")

    def work(job: Job) -> None:
        with knowledge_base(ctx) as kb:
            count = rebuild(job, kb)
            job.advance(1.0, f"已用 {kb.embedder.name} 重建 {count} 个分块的索引。")

    return jobs_of(ctx).start("reindex", user, work)


def make_backup(ctx: Context, request: gr.Request | None, downloads: Downloads) -> Path:
    """Back up the records into a new download folder of the logged-in admin; returns the file."""
    user = acting(ctx, request, "import")
    target = downloads.folder(user.username) / f"知识库备份-{datetime.now():%Y%m%d-%H%M%S}.sqlite3"
    records = Records(ctx.kb.data_dir / RECORDS_FILE)
    try:
        records.backup(target)
    finally:
        records.close()
    return target


def start_restore(ctx: Context, file: str | None, confirmed: bool, request: gr.Request | None) -> Job | None:
    """Check the uploaded backup ``file`` (a wrong one: ``gr.Error``, nothing changed), then restore it
    and rebuild the indexes as a job; None (with a warning) without a file or the confirmation."""
    user = acting(ctx, request, "import")
    if not file or not confirmed:
        gr.Warning(UNCONFIRMED if file else NO_BACKUP, title="未恢复")
        return None
    source = Path(file)
    with shown_errors():
        check_backup(source)
    return jobs_of(ctx).start("restore", user, lambda job: _restoring(ctx, job, source, user))


def _restoring(ctx: Context, job: Job, source: Path, user: User) -> None:
    job.advance(0.0, "正在备份当前记录，并从备份恢复…")
    with ctx.lock:
        restored = restore(ctx.kb.records, source, user)
    done = (f"已从“{source.name}”恢复（{restored.summary.describe()}），恢复前的记录已备份为 "
            f"{SAFETY_FOLDER}/{restored.safety.name}。")
    with knowledge_base(ctx) as kb:
        count = rebuild(job, kb, 0.1, done)
    job.advance(1.0, f"{done}已重建 {count} 个分块的索引。")


def progress(ctx: Context, request: gr.Request | None) -> tuple:
    """The last reindex or restore for the page: progress bar, summary and the poll timer."""
    acting(ctx, request, "import")
    return shown(jobs_of(ctx).latest(KINDS))


def build(ctx: Context, opening: Opening) -> None:
    """The section: reindex, backup download, restore, and the progress of the last job."""
    downloads = Downloads("kb-backup-")
    bar = gr.HTML()
    status = gr.Markdown()
    timer = gr.Timer(1.0, active=False)
    with gr.Accordion("重建索引", open=True):
        gr.Markdown(REINDEX_HINT)
        reindex = gr.Button("开始重建索引")
    with gr.Accordion("备份下载", open=True):
        gr.Markdown(BACKUP_HINT)
        with gr.Row():
            make = gr.Button("生成备份")
            download = gr.DownloadButton("下载备份文件", value=None, visible=False, variant="primary")
    with gr.Accordion("从备份恢复", open=True):
        gr.Markdown(RESTORE_HINT)
        upload = gr.File(label="备份文件（.sqlite3）", file_types=BACKUP_TYPES, type="filepath")
        confirmed = gr.Checkbox(label="我已确认：用这个备份替换当前的全部记录")
        recover = gr.Button("从备份恢复", variant="stop")
    outputs = [bar, status, timer]

    def on_reindex(request: gr.Request):
        start_reindex(ctx, request)
        return progress(ctx, request)

    def on_restore(file, sure, request: gr.Request):
        start_restore(ctx, file, sure, request)
        return progress(ctx, request)

    def on_backup(request: gr.Request):
        path = make_backup(ctx, request, downloads)
        gr.Info(f"已生成备份 {path.name}，请点击“下载备份文件”。")
        return gr.DownloadButton(value=str(path), visible=True)

    reindex.click(on_reindex, None, outputs, api_name="reindex")
    recover.click(on_restore, [upload, confirmed], outputs, api_name="restore_backup")
    make.click(on_backup, None, download, api_name="backup")
    follow(opening, ctx, timer, outputs, progress)
