"""Hybrid ranking: aggregate chunk scores to entries/documents, then fuse the retrievers' scores.

Three signals rank a parent (an entry or a document):

* dense: the cosine similarity of its best chunk (Chroma),
* keyword, chunk level: the BM25 score of its best chunk,
* keyword, parent level: the BM25 score of the whole entry/document.

Taking the best chunk per parent keeps one long document from filling the result list; the
parent-level field rewards a document that matches the question's words across several chunks.
Each signal is put on a common scale by z-scores over the candidate set (a candidate that a
retriever did not return gets that retriever's lowest returned score) and the z-scores are
summed with equal weights. Z-scores adapt to each query: a retriever whose best candidate stands
far above the rest moves the fused ranking more than one whose scores are flat.
The representative chunk of each parent is its best chunk by the same fusion at chunk level.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

Scored = list[tuple[str, float]]


@dataclass(frozen=True)
class Ranked:
    """A parent with its fused score, the chunk that represents it and its best chunk's cosine similarity."""

    parent_id: str
    score: float
    chunk_id: str
    similarity: float


def zsum(keys: list[str], signals: list[Mapping[str, float]]) -> np.ndarray:
    """Sum over ``signals`` of the z-score of each key's value (missing values take the signal's minimum)."""
    total = np.zeros(len(keys))
    for signal in signals:
        if not signal:
            continue
        floor = min(signal.values())
        values = np.array([signal.get(k, floor) for k in keys])
        std = values.std()
        if std > 1e-9:
            total += (values - values.mean()) / std
    return total


def best_per_parent(scores: Mapping[str, float], parent_of: Mapping[str, str]) -> dict[str, float]:
    """parent id -> the best score among its chunks in ``scores``."""
    best: dict[str, float] = {}
    for chunk_id, score in scores.items():
        parent = parent_of[chunk_id]
        if score > best.get(parent, -np.inf):
            best[parent] = score
    return best


def fuse(dense: Scored, keyword_chunks: Scored, keyword_parents: Scored, parent_of: Mapping[str, str]) -> list[Ranked]:
    """Rank parents by fused score, best first.

    Args:
        dense: ``(chunk id, cosine similarity)`` from the vector store.
        keyword_chunks: ``(chunk id, BM25 score)`` from the chunk field.
        keyword_parents: ``(parent id, BM25 score)`` from the whole-entry/document field.
        parent_of: chunk id -> parent id; chunks missing from it (vectors left behind by an
            interrupted write) are ignored.

    Any list may be empty (dense-only or keyword-only search).
    """
    d = {c: s for c, s in dense if c in parent_of}
    k = {c: s for c, s in keyword_chunks if c in parent_of}
    kp = dict(keyword_parents)
    chunks = list(dict.fromkeys([*d, *k]))
    chunk_score = dict(zip(chunks, zsum(chunks, [d, k])))
    representative: dict[str, str] = {}
    for chunk_id in chunks:
        parent = parent_of[chunk_id]
        if parent not in representative or chunk_score[chunk_id] > chunk_score[representative[parent]]:
            representative[parent] = chunk_id
    parents = [p for p in dict.fromkeys([*representative, *kp]) if p in representative]
    d_parent = best_per_parent(d, parent_of)
    totals = zsum(parents, [d_parent, best_per_parent(k, parent_of), kp])
    ranked = [Ranked(p, float(t), representative[p], d_parent.get(p, 0.0)) for p, t in zip(parents, totals)]
    ranked.sort(key=lambda r: -r.score)
    return ranked
