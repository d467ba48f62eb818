"""Hybrid ranking: aggregate chunk scores to entries/documents, then fuse the retrievers' scores.

Three signals rank a parent (an entry or a document):

* dense: the cosine similarity of its best chunk (the vector store's nearest chunks),
* keyword, chunk level: the BM25 score of its best chunk,
* keyword, parent level: the BM25 score of the whole entry/document.

Taking the best chunk per parent keeps one long document from filling the result list; the
parent-level field rewards a document that matches the question's words across several chunks.

Each signal is put on a common scale by z-scores: the keyword signals over every entry/document
(their scores are computed for all of them), the dense signal over the candidates (a candidate
the vector store did not return gets its lowest returned similarity). The fused score weights
each signal's z-scores by that signal's best z-score, clipped at 0: a retriever whose top
candidate stands far above the rest for this query gets more say than one whose scores are flat.
There is no tuned weight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .keyword import KeywordScores

CANDIDATES = 50


@dataclass(frozen=True)
class Ranked:
    """A parent with its fused score, the chunk that represents it and its best chunk's cosine similarity."""

    parent_id: str
    score: float
    chunk_id: str
    similarity: float


def zscores(values: np.ndarray) -> np.ndarray:
    std = values.std()
    return (values - values.mean()) / std if std > 1e-9 else np.zeros_like(values)


def fuse(dense: list[tuple[str, float]], keyword: KeywordScores | None, parent_of: Mapping[str, str],
         candidates: int = CANDIDATES) -> list[Ranked]:
    """Rank parents by fused score, best first.

    Args:
        dense: ``(chunk id, cosine similarity)`` from the vector store, most similar first; chunks
            missing from ``parent_of`` (vectors left behind by an interrupted write) are ignored.
        keyword: keyword scores of every entry/document, or None (dense-only search, or no query
            word in the index).
        parent_of: chunk id -> parent id for the dense chunks.
        candidates: how many parents the keyword signals contribute to the candidate set.
    """
    dense_best: dict[str, tuple[str, float]] = {}
    for chunk_id, sim in dense:
        parent = parent_of.get(chunk_id)
        if parent is not None and parent not in dense_best:
            dense_best[parent] = (chunk_id, sim)
    signals: list[dict[str, float]] = []
    keyword_rows: dict[str, int] = {}
    if keyword is not None and len(keyword.parents):
        kc, kp = zscores(keyword.chunk_max), zscores(keyword.whole)
        combined = kc + kp
        top = np.argsort(-combined)[:candidates]
        keyword_rows = {keyword.parents[i]: int(i) for i in top}
        for parent in dense_best:
            if parent not in keyword_rows and parent in keyword.position:
                keyword_rows[parent] = keyword.position[parent]
        signals += [{p: kc[i] for p, i in keyword_rows.items()}, {p: kp[i] for p, i in keyword_rows.items()}]
    parents = list(dict.fromkeys([*dense_best, *keyword_rows]))
    if not parents:
        return []
    total = np.zeros(len(parents))
    if dense_best:
        floor = min(sim for _, sim in dense_best.values())
        dz = zscores(np.array([dense_best[p][1] if p in dense_best else floor for p in parents]))
        total += max(dz.max(), 0.0) * dz
    for signal in signals:
        floor = min(signal.values())
        values = np.array([signal.get(p, floor) for p in parents])
        total += max(values.max(), 0.0) * values
    ranked = []
    for parent, score in zip(parents, total):
        chunk_id = _representative(parent, dense_best, keyword, keyword_rows)
        similarity = dense_best[parent][1] if parent in dense_best else 0.0
        ranked.append(Ranked(parent, float(score), chunk_id, similarity))
    ranked.sort(key=lambda r: -r.score)
    return ranked


def _representative(parent: str, dense_best: dict[str, tuple[str, float]], keyword: KeywordScores | None,
                    keyword_rows: dict[str, int]) -> str:
    """The chunk shown for a parent: the chunk with most of the question's words (it holds the
    asked-about passage), else the parent's nearest chunk."""
    if keyword is not None and parent in keyword_rows:
        chunk_id, score = keyword.best_chunk(keyword_rows[parent])
        if score > 0 or parent not in dense_best:
            return chunk_id
    return dense_best[parent][0]
