"""Hybrid ranking: aggregate chunk scores to entries/documents, then fuse dense and keyword scores.

Both retrievers return chunks. A parent (entry or document) takes the score of its best chunk in
each retriever, so one long document cannot fill the result list. The two parent-level score
lists are put on one scale by z-scores over the candidate set (a parent missing from one list
gets that list's lowest score) and added with weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

DENSE_WEIGHT = 0.5


@dataclass(frozen=True)
class Ranked:
    """A parent with its fused score and the chunk that represents it."""

    parent_id: str
    score: float
    chunk_id: str
    similarity: float


def best_per_parent(results: list[tuple[str, float]], parent_of: Mapping[str, str]) -> dict[str, tuple[str, float]]:
    """parent id -> (best chunk id, its score); chunks with an unknown parent are ignored."""
    best: dict[str, tuple[str, float]] = {}
    for chunk_id, score in results:
        parent = parent_of.get(chunk_id)
        if parent is not None and (parent not in best or score > best[parent][1]):
            best[parent] = (chunk_id, score)
    return best


def _zscores(values: np.ndarray) -> np.ndarray:
    std = values.std()
    return (values - values.mean()) / std if std > 1e-9 else np.zeros_like(values)


def fuse(
    dense: list[tuple[str, float]],
    keyword: list[tuple[str, float]],
    parent_of: Mapping[str, str],
    dense_weight: float = DENSE_WEIGHT,
) -> list[Ranked]:
    """Rank parents by the weighted sum of z-scored dense and keyword scores, best first.

    Either list may be empty (dense-only or keyword-only search); ``similarity`` is the best
    chunk's cosine similarity, 0 when the dense retriever did not return the parent.
    """
    d_best = best_per_parent(dense, parent_of)
    k_best = best_per_parent(keyword, parent_of)
    parents = list(dict.fromkeys([*d_best, *k_best]))
    if not parents:
        return []
    total = np.zeros(len(parents))
    for best, weight in ((d_best, dense_weight), (k_best, 1.0 - dense_weight)):
        if not best:
            continue
        floor = min(score for _, score in best.values())
        values = np.array([best[p][1] if p in best else floor for p in parents])
        total += weight * _zscores(values)
    ranked = []
    for parent, score in zip(parents, total):
        chunk_id = (d_best.get(parent) or k_best[parent])[0]
        ranked.append(Ranked(parent, float(score), chunk_id, d_best[parent][1] if parent in d_best else 0.0))
    ranked.sort(key=lambda r: -r.score)
    return ranked
