"""Progress of an ingest run, as events a terminal, a log or the web UI's import page can render.

:func:`ingest.pipeline.ingest_paths` calls ``on_progress(progress)`` with one :class:`Progress`
object, updated in place, at each event: ``start`` (the files are known), ``file`` (a file is
about to be read), ``chunks`` (chunks were embedded or found already stored), ``file_done``
(``progress.result`` holds the file's outcome) and ``end``. :func:`status_line` renders where a run
stands as one Chinese line, for the terminal and the web page alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Progress:
    """Where an ingest run stands; every change is sent to ``listener``. Sizes are file bytes;
    ``chunks`` counts chunks handled (embedded, or found already stored by a resumed run) and
    ``chars`` the characters embedded.

    The overall estimate weighs files by size (a finished file counts whole, the current one by the
    share of its chunks done); the file's estimate uses this run's embedding rate in that file.
    """

    files_total: int = 0
    bytes_total: int = 0
    files_done: int = 0
    bytes_done: int = 0
    event: str = "start"
    path: str = ""
    file_bytes: int = 0
    file_chunks: int = 0
    file_chunks_done: int = 0
    file_chars: int = 0
    chunks: int = 0
    chars: int = 0
    result: Any = None
    listener: Callable[[Progress], None] | None = field(default=None, repr=False)
    started: float = field(default_factory=time.monotonic)
    file_started: float = field(default_factory=time.monotonic)

    def _send(self, event: str) -> None:
        self.event = event
        if self.listener is not None:
            self.listener(self)

    def begin(self, files: int, size: int) -> None:
        self.files_total, self.bytes_total = files, size
        self._send("start")

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        """Characters embedded per second over the whole run."""
        return self.chars / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def file_share(self) -> float:
        """Share of the current file's chunks done (0 before its chunks are known)."""
        return self.file_chunks_done / self.file_chunks if self.file_chunks else 0.0

    @property
    def file_eta(self) -> float | None:
        """Seconds left for the current file, or None until some of it is done."""
        spent = time.monotonic() - self.file_started
        if not self.file_chunks_done or spent <= 0:
            return None
        return spent * (self.file_chunks - self.file_chunks_done) / self.file_chunks_done

    @property
    def share(self) -> float:
        """Share of the whole run done, by file size."""
        if not self.bytes_total:
            return self.files_done / self.files_total if self.files_total else 1.0
        return min(1.0, (self.bytes_done + self.file_bytes * self.file_share) / self.bytes_total)

    @property
    def eta(self) -> float | None:
        """Seconds left for the whole run, or None until something is done."""
        share = self.share
        return self.elapsed * (1 - share) / share if share > 0 else None

    def begin_file(self, path: str, size: int) -> None:
        self.path, self.file_bytes, self.result = path, size, None
        self.file_chunks = self.file_chunks_done = self.file_chars = 0
        self.file_started = time.monotonic()
        self._send("file")

    def planned(self, chunks: int) -> None:
        """The current file has been read: it holds ``chunks`` chunks."""
        self.file_chunks = chunks

    def add_chunks(self, chunks: int, chars: int) -> None:
        self.file_chunks_done += chunks
        self.file_chars += chars
        self.chunks += chunks
        self.chars += chars
        self._send("chunks")

    def end_file(self, result: Any) -> None:
        self.result = result
        self.files_done += 1
        self.bytes_done += self.file_bytes
        self.file_bytes = self.file_chunks = self.file_chunks_done = 0
        self._send("file_done")

    def end(self) -> None:
        self._send("end")


def duration(seconds: float | None) -> str:
    """``3 分 20 秒``; ``估算中`` while unknown."""
    if seconds is None:
        return "估算中"
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} 小时 {seconds % 3600 // 60} 分"
    return f"{seconds // 60} 分 {seconds % 60} 秒" if seconds >= 60 else f"{seconds} 秒"


def status_line(p: Progress) -> str:
    """The current file and the whole run: share, chunks, characters per second, time left."""
    name = Path(p.path).name
    file_part = (f"{name} {p.file_share:.0%}（{p.file_chunks_done}/{p.file_chunks} 块，剩余 {duration(p.file_eta)}）"
                 if p.file_chunks else f"{name} 读取中")
    return (f"[{p.files_done + 1}/{p.files_total}] {file_part}；全部 {p.share:.0%}，"
            f"{p.rate:,.0f} 字/秒，剩余 {duration(p.eta)}")
