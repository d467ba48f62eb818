"""Hybrid ranking: aggregate chunk scores to entries/documents, then fuse the retrievers' scores.

Three signals rank a parent (an entry or a document):

* dense: the cosine similarity of its best chunk,
* keyword, chunk level: the BM25 score of its best chunk,
* keyword, parent level: the BM25 score of the whole entry/document.

Taking the best chunk per parent keeps one long document from filling the result list; the
parent-level field rewards a document that matches the question's words across several chunks.

Every signal is known for every (allowed) entry/document, and each is put on a common scale by
z-scores over that whole population. The fused score weights each signal's z-scores by that
signal's best z-score, clipped at 0: a retriever whose top candidate stands far above the rest for
this query gets more say than one whose scores are flat. There is no tuned weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dense import DenseScores
from .keyword import KeywordScores


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


def fuse(dense: DenseScores | None, keyword: KeywordScores | None, k: int) -> list[Ranked]:
    """The ``k`` best parents by fused score, best first.

    Args:
        dense: the similarity of every (allowed) entry/document, or None (keyword-only search, or
            no vectors yet).
        keyword: keyword scores of every (allowed) entry/document, or None (dense-only search, or
            no query word in the index).
        k: how many parents to return.
    """
    dense = dense if dense is not None and dense.parents else None
    keyword = keyword if keyword is not None and keyword.parents else None
    signals = [(dense, dense.similarity)] if dense is not None else []
    if keyword is not None:
        signals += [(keyword, keyword.chunk_max), (keyword, keyword.whole)]
    if not signals:
        return []
    parents = signals[0][0].parents
    if dense is not None and keyword is not None and dense.parents != keyword.parents:
        # the indexes were refreshed at different generations (a write landed in between)
        parents = list(dict.fromkeys([*dense.parents, *keyword.parents]))
        signals = [(scores, _aligned(values, scores.position, parents)) for scores, values in signals]
    total = np.zeros(len(parents))
    for _, values in signals:
        z = zscores(np.asarray(values, dtype=np.float64))
        total += max(z.max(), 0.0) * z
    top = np.argsort(-total, kind="stable")[:k]
    return [_ranked(parents[i], float(total[i]), dense, keyword) for i in top]


def _aligned(values: np.ndarray, position: dict[str, int], parents: list[str]) -> np.ndarray:
    """``values`` re-ordered to ``parents`` (``position`` maps a parent to its value); a parent
    without a value gets the lowest one."""
    floor = values.min()
    return np.array([values[position[p]] if p in position else floor for p in parents])


def _ranked(parent: str, score: float, dense: DenseScores | None, keyword: KeywordScores | None) -> Ranked:
    """The chunk shown for a parent is the chunk with most of the question's words (it holds the
    asked-about passage), else the parent's nearest chunk."""
    nearest = dense.best_chunk(dense.position[parent]) if dense is not None and parent in dense.position else None
    chunk_id = nearest[0] if nearest else ""
    if keyword is not None and parent in keyword.position:
        best, words = keyword.best_chunk(keyword.position[parent])
        if words > 0 or nearest is None:
            chunk_id = best
    return Ranked(parent, score, chunk_id, nearest[1] if nearest else 0.0)
