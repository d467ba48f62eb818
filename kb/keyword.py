"""The keyword index: BM25 (bm25s) over jieba tokens, persisted beside the vectors.

The index is derived from the record store. It is saved with the record store's ``generation``
and rebuilt when that no longer matches, so it can never serve stale chunks for long.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import bm25s
import numpy as np

from .text import keyword_tokens

K1, B = 1.2, 0.75


class KeywordIndex:
    """BM25 over chunk tokens. ``chunk_ids[i]`` and ``parent_ids[i]`` describe document ``i``."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.generation = -1
        self.chunk_ids: list[str] = []
        self.parent_ids: list[str] = []
        self._bm25: bm25s.BM25 | None = None
        self._load()

    def _load(self) -> None:
        manifest = self.directory / "manifest.json"
        if not manifest.exists():
            return
        meta = json.loads(manifest.read_text(encoding="utf-8"))
        self.chunk_ids, self.parent_ids = meta["chunk_ids"], meta["parent_ids"]
        if self.chunk_ids:
            self._bm25 = bm25s.BM25.load(str(self.directory / "bm25"), mmap=False, show_progress=False)
        self.generation = meta["generation"]

    def build(self, rows: list[tuple[str, str, str]], generation: int) -> None:
        """(Re)build from ``(chunk_id, parent_id, space-joined tokens)`` rows and save atomically."""
        self.chunk_ids = [r[0] for r in rows]
        self.parent_ids = [r[1] for r in rows]
        self._bm25 = None
        tmp = self.directory.with_name(self.directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if rows:
            corpus = [r[2].split(" ") if r[2] else [] for r in rows]
            self._bm25 = bm25s.BM25(k1=K1, b=B)
            self._bm25.index(corpus, show_progress=False)
            self._bm25.save(str(tmp / "bm25"), show_progress=False)
        meta = {"generation": generation, "chunk_ids": self.chunk_ids, "parent_ids": self.parent_ids}
        (tmp / "manifest.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        shutil.rmtree(self.directory, ignore_errors=True)
        tmp.rename(self.directory)
        self.generation = generation

    def search(self, query: str, n: int, allowed_parents: set[str] | None = None) -> list[tuple[str, float]]:
        """The ``n`` best chunks as ``(chunk_id, BM25 score)``, best first; zero scores are dropped.

        ``allowed_parents`` restricts the search to chunks of those entries/documents.
        """
        tokens = keyword_tokens(query)
        if self._bm25 is None or not tokens:
            return []
        vocab = self._bm25.vocab_dict
        ids = [vocab[t] for t in tokens if t in vocab]
        if not ids:
            return []
        scores = self._bm25.get_scores_from_ids(ids)
        if allowed_parents is not None:
            mask = np.fromiter((p in allowed_parents for p in self.parent_ids), dtype=bool, count=len(self.parent_ids))
            scores = np.where(mask, scores, 0.0)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top])]
        return [(self.chunk_ids[i], float(scores[i])) for i in top if scores[i] > 0]
