"""Cross-process file locks (``flock``) for the files several processes share in a data directory."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def file_lock(path: Path, exclusive: bool = True) -> Iterator[None]:
    """Hold ``path`` locked (exclusive or shared) for the block; the file is created if missing.

    Each hold opens the file anew, so threads of one process exclude each other as well.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)
