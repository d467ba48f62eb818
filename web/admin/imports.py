"""批量导入: the admin uploads files or zip archives and imports them as a background job, with a
progress bar, a live status line and a table of each file's result.

The import is :func:`ingest.pipeline.ingest_paths` as the logged-in admin (the ``import`` permission
is checked when the job is started and again by the pipeline), run by :mod:`web.jobs` on its own
knowledge base, so questions are answered meanwhile. Uploads are put in ``<data dir>/uploads`` under
their own names for the run: a file uploaded again under the same name is the same file to the
knowledge base (unchanged: skipped; changed: updated), as with ``kb ingest`` on a folder. The
folder is emptied after the run, so an earlier upload is gone from disk: the same content uploaded
under a new name is taken as renamed and holds the records from then on.

A zip archive is put there as it is and expanded by the import itself (:mod:`ingest.archives`), as
``kb ingest`` expands one: the archive is held to the import's limits first (a zip bomb is refused),
members with unsafe paths, links or passwords are reported and not written, and each member is one
row, shown as ``资料.zip/表格/登记表.xlsx``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import gradio as gr

from ingest.limits import Limits
from ingest.pipeline import FileResult, IngestReport, ingest_paths
from ingest.progress import Progress, status_line
from kb import KnowledgeBase

from ..context import Context, acting
from ..opening import Opening
from ..jobs import RESULT_HEADERS, Job, follow, jobs_of, knowledge_base, shown

TITLE = "批量导入"
KINDS = ("import",)
UPLOADS = "uploads"
"""The folder of the data directory the uploaded files are put in for a run."""
RESULTS = {"added": "新增", "updated": "更新", "unchanged": "跳过", "unsupported": "跳过", "failed": "失败"}
HINT = ("上传要导入的文件（可多选），或把文件打包成 .zip 上传。条目直接发布，并记入审计日志。"
        "同名文件视为同一文件的新版本：内容未变的跳过，有变化的按新文件更新；内容相同而改了文件名的视为改名，以后按新文件名更新。"
        "导入在后台进行，期间各窗口照常问答。")
NO_FILES = "请先选择要导入的文件或 .zip 压缩包。"
SAME_NAME = "本次上传中已有同名文件，这一个未导入。请改名后单独上传。"
UNREADABLE = "上传的文件在服务器上已找不到或无法读取（上传未完成或已过期），这一个未导入。请重新上传。"


def stage(files: list[str], folder: Path) -> tuple[list[Path], list[FileResult]]:
    """Put the uploaded ``files`` into the empty ``folder`` under their own names; returns what to
    import and the results of what could not be staged."""
    paths: list[Path] = []
    refused: list[FileResult] = []
    for upload in map(Path, files):
        target = folder / upload.name
        if target.exists():
            refused.append(FileResult(str(target), "failed", reason=SAME_NAME))
            continue
        try:
            shutil.copyfile(upload, target)
        except OSError:
            refused.append(FileResult(str(target), "failed", reason=UNREADABLE))
            continue
        paths.append(target)
    return paths, refused


def _note(result: FileResult, folder: Path) -> str:
    if result.status in ("failed", "unsupported"):
        return result.reason
    if result.status == "unchanged":
        return result.reason.replace(f"{folder.resolve()}/", "") or "内容与上次导入时相同，未重复导入。"
    notes = ["含 OCR 识别的文字"] if result.ocr else []
    if result.warnings:
        notes.append(f"{len(result.warnings)} 条提示：" + "；".join(result.warnings[:3])
                     + ("……" if len(result.warnings) > 3 else ""))
    if result.conflicts:
        notes.append(f"{len(result.conflicts)} 条已审核的条目与文件不一致，未覆盖："
                     + "、".join(c.entry_id for c in result.conflicts))
    return "；".join(notes)


def result_row(kb: KnowledgeBase, result: FileResult, folder: Path) -> list:
    """A file's row: 文件 (as uploaded), 结果, 条目数 and 分块数 (the entries/documents and chunks it
    holds now, also when it was skipped as unchanged), 说明."""
    items = chunks = 0
    if result.status in ("added", "updated", "unchanged"):
        held = kb.records.parents_of_file(str(Path(result.path).resolve()))
        items, chunks = len(held), len(kb.records.chunk_ids_of(held))
    return [result.path.removeprefix(f"{folder}/"), RESULTS[result.status], items, chunks, _note(result, folder)]


def totals(rows: list[list]) -> str:
    """The files per result and the records written (by new and updated files), in Chinese."""
    count = {word: sum(1 for r in rows if r[1] == word) for word in dict.fromkeys(RESULTS.values())}
    written = sum(r[2] for r in rows if r[1] in ("新增", "更新"))
    return f"导入完成：{'，'.join(f'{word} {n} 个' for word, n in count.items())}文件；写入 {written} 条记录。"


def start_import(ctx: Context, files: list[str] | None, request: gr.Request | None) -> Job | None:
    """Start importing the uploaded ``files`` as the logged-in admin; None (with a warning) when
    there are none, ``gr.Error`` when another job is running or the user may not import."""
    user = acting(ctx, request, "import")
    if not files:
        gr.Warning(NO_FILES, title="未开始")
        return None
    folder = ctx.kb.data_dir / UPLOADS
    limits = Limits.from_settings(ctx.settings)

    def work(job: Job) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        try:
            job.advance(0.0, "正在接收上传的文件…")
            paths, refused = stage(files, folder)
            with knowledge_base(ctx) as kb:
                job.rows = [result_row(kb, r, folder) for r in refused]

                def listener(progress: Progress) -> None:
                    if progress.event == "file_done":
                        job.rows = [*job.rows, result_row(kb, progress.result, folder)]
                    line = status_line(progress) if progress.event in ("file", "chunks") else \
                        f"已处理 {progress.files_done}/{progress.files_total} 个文件"
                    job.advance(progress.share if progress.files_total else 0.0, line)

                report: IngestReport = ingest_paths(
                    kb, paths, ctx.settings.chunk_size, ctx.settings.chunk_overlap, on_progress=listener,
                    actor=user, limits=limits)
            job.advance(1.0, totals(job.rows) if report.results or refused else "没有可导入的文件。")
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    return jobs_of(ctx).start("import", user, work)


def progress(ctx: Context, request: gr.Request | None) -> tuple:
    """The last import for the page: progress bar, summary, result rows and the poll timer."""
    acting(ctx, request, "import")
    job = jobs_of(ctx).latest(KINDS)
    bar, text, timer = shown(job)
    return bar, text, [list(r) for r in job.rows] if job else [], timer


def build(ctx: Context, opening: Opening) -> None:
    """The section: the upload, the start button, the progress and the result table."""
    gr.Markdown(HINT)
    files = gr.File(label="要导入的文件或 .zip 压缩包（可多选）", file_count="multiple", type="filepath",
                    elem_id="kb-import-files")
    start = gr.Button("开始导入", variant="primary")
    bar = gr.HTML()
    status = gr.Markdown()
    table = gr.Dataframe(headers=RESULT_HEADERS, datatype=["str", "str", "number", "number", "str"],
                         interactive=False, wrap=True, label="每个文件的导入结果")
    timer = gr.Timer(1.0, active=False)
    outputs = [bar, status, table, timer]

    def on_start(chosen, request: gr.Request):
        start_import(ctx, chosen, request)
        return progress(ctx, request)

    start.click(on_start, files, outputs, api_name="start_import")
    follow(opening, ctx, timer, outputs, progress)
