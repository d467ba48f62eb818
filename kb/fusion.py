"""Hybrid ranking: aggregate chunk scores to entries/documents, then fuse the retrievers' scores.

Four signals rank a parent (an entry or a document):

* dense: the cosine similarity of its best chunk,
* keyword, chunk level: the BM25 score of its best chunk,
* keyword, parent level: the BM25 score of the whole entry/document,
* agreement: the cosine similarity of the chunk that matched the question's words best — whether
  the passage the words point to also means what was asked (a parent without any query word
  falls back to its nearest chunk).

Taking the best chunk per parent keeps one long document from filling the result list; the
parent-level field rewards a document that matches the question's words across several chunks.
The agreement signal ties the two retrievers together at the passage: on ncp_dev it is what lets
hybrid search beat keyword-only search instead of trailing it (README, 性能).

The passage shown for a parent is chosen the same way one level down: each chunk's BM25 score and
cosine similarity are z-scored over every chunk and added, and the parent's highest chunk is shown.

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
    if dense is not None and keyword is not None:
        signals.append((keyword, agreement(dense, keyword)))
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
    passage = None
    if dense is not None and keyword is not None:
        passage = zscores(_dense_row_sims(dense, keyword.chunk_ids)) + zscores(keyword.chunk_scores)
    return [_ranked(parents[i], float(total[i]), dense, keyword, passage) for i in top]


def agreement(dense: DenseScores, keyword: KeywordScores) -> np.ndarray:
    """For each of ``keyword``'s parents, the cosine similarity of its keyword-best chunk to the query
    (the nearest of them when several tie, so a parent without any query word gets its nearest chunk)."""
    segments = keyword.segments
    rows = segments.rows
    best = keyword.chunk_scores[rows] >= np.repeat(keyword.chunk_max, segments.lengths)
    return segments.best_where(_dense_row_sims(dense, keyword.chunk_ids)[rows], best)


class _RowMap:
    """Where each keyword row's chunk sits among the dense rows (-1: no vector yet), or None when both
    indexes hold the same rows. Kept for the last pair of row lists: an index replaces its list
    whole when it refreshes, so identity tells when to compare again."""

    def __init__(self) -> None:
        self._last: tuple[list[str], list[str], np.ndarray | None] = ([], [], None)

    def __call__(self, dense_ids: list[str], keyword_ids: list[str]) -> np.ndarray | None:
        last = self._last
        if last[0] is not dense_ids or last[1] is not keyword_ids:
            rows = None
            if dense_ids != keyword_ids:
                position = {cid: i for i, cid in enumerate(dense_ids)}
                rows = np.array([position.get(cid, -1) for cid in keyword_ids], dtype=np.int64)
            last = self._last = (dense_ids, keyword_ids, rows)
        return last[2]


_row_map = _RowMap()


def _dense_row_sims(dense: DenseScores, keyword_ids: list[str]) -> np.ndarray:
    """The dense similarity of each keyword row's chunk; a chunk without a vector yet gets the lowest."""
    rows = _row_map(dense.chunk_ids, keyword_ids)
    if rows is None:
        return dense.chunk_scores
    return np.where(rows >= 0, dense.chunk_scores[np.maximum(rows, 0)], dense.chunk_scores.min())


def _aligned(values: np.ndarray, position: dict[str, int], parents: list[str]) -> np.ndarray:
    """``values`` re-ordered to ``parents`` (``position`` maps a parent to its value); a parent
    without a value gets the lowest one."""
    floor = values.min()
    return np.array([values[position[p]] if p in position else floor for p in parents])


def _ranked(parent: str, score: float, dense: DenseScores | None, keyword: KeywordScores | None,
            passage: np.ndarray | None) -> Ranked:
    """The chunk shown for a parent: its highest ``passage`` row (per keyword row, both retrievers'
    chunk scores z-scored and added) in hybrid search; in keyword search the chunk with most of the
    question's words; otherwise (dense search, or no query word in the parent) its nearest chunk."""
    nearest = dense.best_chunk(dense.position[parent]) if dense is not None and parent in dense.position else None
    chunk_id = nearest[0] if nearest else ""
    if keyword is not None and parent in keyword.position:
        i = keyword.position[parent]
        if passage is not None:
            chunk_id = keyword.chunk_ids[keyword.segments.best_row(i, passage)]
        else:
            best, words = keyword.best_chunk(i)
            if words > 0 or nearest is None:
                chunk_id = best
    return Ranked(parent, score, chunk_id, nearest[1] if nearest else 0.0)
