"""Files the app hands out for download (digests, backups): one temporary directory per app.

Each request that makes files gets a fresh folder under the user's own folder, so two tabs never
overwrite each other's files; making a new one removes that user's folders beyond the latest
:data:`KEEP`. The whole directory is made on first use and removed when the app's process exits.
gradio copies a returned file into its own cache before serving it, so removing ours later never
breaks a download.
"""

from __future__ import annotations

import hashlib
import itertools
import shutil
import tempfile
import threading
from pathlib import Path

KEEP = 3
"""Folders of files kept per user."""


class Downloads:
    """A per-app directory of files to download; ``prefix`` names it (``kb-digest-``)."""

    def __init__(self, prefix: str, keep: int = KEEP):
        self.prefix, self.keep = prefix, keep
        self._root: tempfile.TemporaryDirectory | None = None
        self._mutex = threading.Lock()
        self._numbers = itertools.count(1)

    def folder(self, username: str) -> Path:
        """A new, empty folder for ``username``'s files; their oldest folders beyond :attr:`keep` are removed."""
        with self._mutex:
            if self._root is None:
                self._root = tempfile.TemporaryDirectory(prefix=self.prefix)
            mine = Path(self._root.name) / hashlib.sha256(username.encode()).hexdigest()[:16]
            new = mine / f"{next(self._numbers):08d}"
            new.mkdir(parents=True)
            for old in sorted(mine.iterdir())[:-self.keep]:
                shutil.rmtree(old, ignore_errors=True)
        return new
