"""`kb ingest`: the command, its per-file report and its progress display.

Each file's outcome is printed as soon as the file is done. Progress goes to stderr: on a terminal
one status line rewritten in place; otherwise (a log, CI, a pipe) a plain line every
:data:`LOG_EVERY` seconds, so a long import is never silent.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kb.config import load_settings
from kb.users import LOCAL_ADMIN, User

from .base import cli, data_options, login_options, open_kb

if TYPE_CHECKING:
    from ingest import FileResult, IngestReport
    from ingest.progress import Progress
    from kb import KnowledgeBase

STATUS_WORDS = {"added": "新增", "updated": "更新", "unchanged": "未变", "failed": "失败", "unsupported": "不支持"}
LOG_EVERY = 10.0
"""Seconds between two progress lines when stderr is not a terminal."""
TERMINAL_EVERY = 0.2


def _file_line(r: FileResult) -> str:
    word = STATUS_WORDS[r.status]
    if r.status in ("failed", "unsupported"):
        return f"{word}  {r.path}：{r.reason}"
    if r.status == "unchanged":
        return f"{word}  {r.path}" + (f"：{r.reason}" if r.reason else "")
    return f"{word}  {r.path}（{r.items} 条记录{'，含 OCR 识别文字' if r.ocr else ''}）"


def print_file(r: FileResult) -> None:
    """The file's line (新增/更新/未变/失败/不支持), its warnings, conflicts and overwrites."""
    colours = {"failed": "red", "unsupported": "yellow"}
    click.secho(_file_line(r), fg=colours.get(r.status), err=r.status == "failed")
    for warning in r.warnings:
        click.secho(f"提示  {r.path}：{warning}", fg="yellow", err=True)
    for conflict in r.conflicts:
        click.secho(f"冲突  {r.path}：{conflict.describe()}", fg="yellow")
    for entry_id in r.overwritten:
        click.echo(f"已覆盖  {entry_id}：按 {r.path} 更新（已记入审计日志）")


def print_totals(report: IngestReport) -> None:
    """Overwrites that matched nothing, then the counts per outcome."""
    for entry_id in report.unused_overwrites:
        click.secho(f"提示  --overwrite {entry_id}：所给文件与该条目没有冲突，未做任何修改。", fg="yellow", err=True)
    counts = {s: report.count(s) for s in STATUS_WORDS}
    conflicts = sum(len(r.conflicts) for r in report.results)
    click.echo(
        f"新增 {counts['added']} 个文件，更新 {counts['updated']} 个，未变 {counts['unchanged']} 个，失败 {counts['failed']} 个，"
        f"不支持 {counts['unsupported']} 个；共 {sum(r.items for r in report.results)} 条记录写入"
        + (f"；{conflicts} 条已审核的条目与文件冲突，未覆盖（见上）。" if conflicts else "。")
    )


class ProgressPrinter:
    """Renders :class:`~ingest.progress.Progress` events: file lines on stdout as files finish, and
    the status line on stderr (rewritten on a terminal, periodic otherwise)."""

    def __init__(self, terminal: bool, large: int, every: float | None = None):
        self.terminal, self.large = terminal, large
        self.every = every if every is not None else (TERMINAL_EVERY if terminal else LOG_EVERY)
        self.last = time.monotonic()

    def __call__(self, p: Progress) -> None:
        if p.event == "file" and p.file_bytes >= self.large:
            self._clear()
            click.echo(f"导入中  {p.path}（{p.file_bytes / 2**20:.1f} MB，分批写入；中断后重新运行会从中断处继续）", err=True)
        elif p.event == "file_done":
            self._clear()
            print_file(p.result)
        elif p.event == "chunks" and time.monotonic() - self.last >= self.every:
            from ingest.progress import status_line

            self.last = time.monotonic()
            line = status_line(p)
            if self.terminal:
                click.echo("\r\x1b[K" + line, nl=False, err=True)
            else:
                click.echo("进度  " + line, err=True)
        elif p.event == "end":
            self._clear()

    def _clear(self) -> None:
        if self.terminal:
            click.echo("\r\x1b[K", nl=False, err=True)


def run_ingest(kb: KnowledgeBase, paths: list[Path], actor: User = LOCAL_ADMIN, overwrite: frozenset[str] = frozenset(),
               follow_links: bool = False, chunk_size: int | None = None, overlap: int | None = None) -> IngestReport:
    """Ingest with the settings' chunking and limits, printing each file's outcome and the totals."""
    from ingest import ingest_paths
    from ingest.limits import Limits
    from ingest.pipeline import LARGE_FILE

    settings = load_settings(chunk_size=chunk_size, chunk_overlap=overlap)
    report = ingest_paths(kb, paths, settings.chunk_size, settings.chunk_overlap,
                          on_progress=ProgressPrinter(sys.stderr.isatty(), LARGE_FILE), overwrite=overwrite,
                          limits=Limits.from_settings(settings), follow_links=follow_links,
                          actor=actor)
    print_totals(report)
    return report


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--chunk-size", type=int, help="文档分块长度（字）[KB_CHUNK_SIZE]")
@click.option("--overlap", type=int, help="分块重叠句数 [KB_CHUNK_OVERLAP]")
@click.option("--overwrite", "overwrite", multiple=True, metavar="编号",
              help="以文件为准覆盖这条已审核的条目（可重复；冲突见导入报告，操作记入审计日志）")
@click.option("--follow-links", is_flag=True, help="跟随指向导入目录以外的符号链接（默认不跟随）")
@login_options
@data_options
def ingest(settings, paths, chunk_size, overlap, overwrite, follow_links, login):
    """管理员批量导入文件或目录（递归），条目直接发布并记入审计日志。未变化的文件自动跳过；有文件失败时退出码为 1。

    .zip 压缩包（包括目录中的）自动解压到临时目录后逐个导入，结果显示为“压缩包.zip/内部路径”，导入后临时目录即删除；
    再次导入同一压缩包时，未变化的文件同样跳过。含“..”或绝对路径、符号链接、密码、压缩比超限的文件单独失败，不会解压。

    大文件分批写入并显示进度，中断后重新运行会从中断处继续；较大的文件（1 MB 以上）放在最后导入。
    文件大小、解压后大小、表格行数、PDF 页数有上限（见 kb settings），超过上限的文件单独失败。

    经过审核流程的条目（修改、审核修订、合并、回滚、删除、恢复过）不会被导入覆盖、恢复或删除：
    与文件不一致时报告“冲突”并保持原样；确认以文件为准时用 --overwrite 编号。

    \b
    kb ingest 常见问题解答.xlsx 业务口径/ --user admin
    kb ingest 业务资料.zip --user admin
    kb ingest 常见问题解答.xlsx --overwrite FAQ-QZ --user admin
    当天窗口登记的疑难案例请用 kb submit 提交审核。
    """
    if not all(p.strip() for p in paths):
        raise click.UsageError("要导入的路径不能为空：请写文件或文件夹的路径，例如 kb ingest 常见问题解答.xlsx；"
                               "导入当前文件夹请写 kb ingest .")
    kb = open_kb(settings)
    report = run_ingest(kb, [Path(p) for p in paths], login(kb.records), frozenset(overwrite), follow_links,
                        chunk_size, overlap)
    if report.failed:
        sys.exit(1)
