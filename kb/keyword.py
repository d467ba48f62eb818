"""The keyword index: BM25 (bm25s) over jieba tokens, persisted beside the vectors.

Two fields are indexed: every chunk, and every entry/document whole (its parent text), so a
document that matches the question's words across several chunks is recognised as a whole.
The index is derived from the record store. It is saved with the record store's ``generation``
and rebuilt when that no longer matches.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import bm25s
import numpy as np

from .text import keyword_tokens

K1, B = 1.2, 0.75
FIELDS = ("chunks", "parents")


class _Field:
    """One BM25 model over ``ids`` (chunk ids or parent ids)."""

    def __init__(self, ids: list[str], model: bm25s.BM25 | None):
        self.ids = ids
        self.model = model

    @classmethod
    def build(cls, rows: list[tuple[str, str]]) -> _Field:
        if not rows:
            return cls([], None)
        model = bm25s.BM25(k1=K1, b=B)
        model.index([tokens.split(" ") if tokens else [] for _, tokens in rows], show_progress=False)
        return cls([r[0] for r in rows], model)

    def scores(self, tokens: list[str]) -> np.ndarray | None:
        """BM25 score of every indexed item, or None when no query token is in the vocabulary."""
        if self.model is None:
            return None
        vocab = self.model.vocab_dict
        ids = [vocab[t] for t in tokens if t in vocab]
        return self.model.get_scores_from_ids(ids) if ids else None


    def idf(self, token: str) -> float:
        """BM25 inverse document frequency of ``token``; a token found nowhere gets the highest value."""
        n = len(self.ids)
        indptr = self.model.scores["indptr"] if self.model is not None else None
        t = self.model.vocab_dict.get(token) if self.model is not None else None
        df = int(indptr[t + 1] - indptr[t]) if t is not None and t + 1 < len(indptr) else 0
        return math.log(1 + (n - df + 0.5) / (df + 0.5))


def top(ids: list[str], scores: np.ndarray, n: int) -> list[tuple[str, float]]:
    """The ``n`` best ``(id, score)`` pairs, best first, zero scores dropped."""
    n = min(n, len(scores))
    if n <= 0:
        return []
    best = np.argpartition(-scores, n - 1)[:n]
    best = best[np.argsort(-scores[best])]
    return [(ids[i], float(scores[i])) for i in best if scores[i] > 0]


class KeywordIndex:
    """BM25 over chunk tokens and over whole entries/documents."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.generation = -1
        self.chunks = _Field([], None)
        self.parents = _Field([], None)
        self.chunk_parents: list[str] = []
        self._load()

    def _load(self) -> None:
        manifest = self.directory / "manifest.json"
        if not manifest.exists():
            return
        meta = json.loads(manifest.read_text(encoding="utf-8"))
        for name in FIELDS:
            ids = meta[name]
            model = bm25s.BM25.load(str(self.directory / name), show_progress=False) if ids else None
            setattr(self, name, _Field(ids, model))
        self.chunk_parents = meta["chunk_parents"]
        self.generation = meta["generation"]

    def build(self, chunk_rows: list[tuple[str, str, str]], parent_rows: list[tuple[str, str]],
              generation: int) -> None:
        """(Re)build from ``(chunk_id, parent_id, tokens)`` and ``(parent_id, tokens)`` rows; save atomically.

        Tokens are space-joined output of :func:`kb.text.keyword_tokens`.
        """
        self.chunks = _Field.build([(cid, tokens) for cid, _, tokens in chunk_rows])
        self.chunk_parents = [parent for _, parent, _ in chunk_rows]
        self.parents = _Field.build(parent_rows)
        tmp = self.directory.with_name(self.directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        meta: dict = {"generation": generation, "chunk_parents": self.chunk_parents}
        for name in FIELDS:
            field: _Field = getattr(self, name)
            if field.model is not None:
                field.model.save(str(tmp / name), show_progress=False)
            meta[name] = field.ids
        (tmp / "manifest.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        shutil.rmtree(self.directory, ignore_errors=True)
        tmp.rename(self.directory)
        self.generation = generation

    def term_weights(self, text: str) -> dict[str, float]:
        """Each distinct keyword token of ``text`` with its IDF over whole entries/documents."""
        return {t: self.parents.idf(t) for t in dict.fromkeys(keyword_tokens(text))}

    def search(self, query: str, n: int, allowed_parents: set[str] | None = None
               ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """The ``n`` best chunks and the ``n`` best whole entries/documents, as ``(id, BM25 score)``.

        ``allowed_parents`` restricts both lists to those entries/documents.
        """
        tokens = keyword_tokens(query)
        results = []
        for field, parent_of in ((self.chunks, self.chunk_parents), (self.parents, self.parents.ids)):
            scores = field.scores(tokens)
            if scores is None:
                results.append([])
                continue
            if allowed_parents is not None:
                mask = np.fromiter((p in allowed_parents for p in parent_of), dtype=bool, count=len(parent_of))
                scores = np.where(mask, scores, 0.0)
            results.append(top(field.ids, scores, n))
        return results[0], results[1]
