"""Hybrid ranking: aggregate chunk scores to entries/documents, then fuse the retrievers' scores.

Two kinds of parent compete: an entry (a FAQ pair or solved case: one question + answer chunk, and
one chunk per question wording) and a document (many passage chunks). The fused score has two parts.

**Passage evidence**, comparable across kinds because it looks only at *passage* chunks (an entry's
question + answer chunk, every chunk of a document):

* dense: the cosine similarity of the best passage,
* keyword: the BM25 score of the best passage,
* agreement: the cosine similarity of the passage that matched the question's words best — whether
  the passage the words point to also means what was asked (ties: the nearest of them),
* whole document: the BM25 score of a document as a whole, which rewards a notice that matches the
  question's words across several chunks. An entry has a single passage, so for it this would count
  the passage's words twice; entries sit at the documents' mean (z = 0) instead.

**Question identity**, for entries only: a counter question usually *is* one of the entries'
questions in other words, and the chunk of the best-matching question wording tells which. Each
entry gets the z-score (over entries) of its best chunk's similarity minus that of the best entry,
so it orders the entries among themselves without moving the best entry against the documents.

Each signal is z-scored over every allowed entry/document (the whole-document one over the
documents) and weighted by ``1 + top z / 8``: a retriever whose best candidate stands far above the
rest for this query gets somewhat more say. The previous fusion weighted each signal by its top
z-score alone and let question-wording chunks count as passages; that favoured short entries over
the documents that answer detailed questions and let one rare shared word override meaning. On
everyday questions over the bundled sample (``benchmarks/everyday.jsonl``, before the deciding-word
rules) hit@1 rose from 0.749 to 0.844, while ncp_dev (notices only) stayed at MRR 0.963: fully
adaptive weights gave 0.829 / 0.963, equal weights 0.848 / 0.959.

The passage shown for a parent is its chunk with the highest sum of z-scored BM25 score and cosine
similarity over every chunk (with one retriever: its best chunk). BM25's heavy tail makes it decide
most choices; min-max scaling both instead (cosine gets 1.6–2 times the say) kept the office figure
(``benchmarks/office``) and moved ncp_dev from 303 to 308 of 405 passages holding the answer, but it
shows the overview of the 企业开办 guide for “开办企业一天能办完吗”, whose “9月1日” passes for a
duration; fifteen variants measured, none raised the office figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dense import DenseScores
from .keyword import KeywordScores
from .segments import ChunkScores


STANDOUT = 8.0
"""A signal whose best candidate stands this many standard deviations above the rest counts double."""
RUNNERS_UP = 3
"""How many next-best passages a parent keeps, for when the best one lacks what was asked."""


@dataclass(frozen=True)
class Ranked:
    """A parent with its fused score, the chunk that represents it and its best chunk's cosine
    similarity; ``runners_up`` are the parent's next best passages (hybrid search), best first."""

    parent_id: str
    score: float
    chunk_id: str
    similarity: float
    runners_up: tuple[str, ...] = ()


def zscores(values: np.ndarray) -> np.ndarray:
    std = values.std()
    return (values - values.mean()) / std if std > 1e-9 else np.zeros_like(values)


def fuse(dense: DenseScores | None, keyword: KeywordScores | None, k: int, entries: frozenset[str]) -> list[Ranked]:
    """The ``k`` best parents by fused score, best first.

    Args:
        dense: the similarity of every (allowed) entry/document, or None (keyword-only search, or
            no vectors yet).
        keyword: keyword scores of every (allowed) entry/document, or None (dense-only search, or
            no query word in the index).
        k: how many parents to return.
        entries: the ids of entries (every other parent is a document).
    """
    dense = dense if dense is not None and dense.parents else None
    keyword = keyword if keyword is not None and keyword.parents else None
    scores = dense if dense is not None else keyword
    if scores is None:
        return []
    parents = scores.parents
    if dense is not None and keyword is not None and dense.parents != keyword.parents:
        # the indexes were refreshed at different generations (a write landed in between)
        parents = list(dict.fromkeys([*dense.parents, *keyword.parents]))
    is_entry = _entry_mask(parents, entries)
    total = np.zeros(len(parents))
    for source, values in _signals(dense, keyword, entries):
        total += _weighted(zscores(_aligned(values, source, parents)))
    if keyword is not None and not is_entry.all():
        whole = _aligned(keyword.whole, keyword, parents)
        total[~is_entry] += _weighted(zscores(whole[~is_entry]))
    identity = dense if dense is not None else keyword
    best = _aligned(identity.similarity if dense is not None else keyword.chunk_max, identity, parents)
    if is_entry.any():
        z = zscores(best[is_entry])
        total[is_entry] += z - z.max()
    top = np.argsort(-total, kind="stable")[:k]
    passage = None
    if dense is not None and keyword is not None:
        passage = zscores(_dense_row_sims(dense, keyword.chunk_ids)) + zscores(keyword.chunk_scores)
    return [_ranked(parents[i], float(total[i]), dense, keyword, passage) for i in top]


def _weighted(z: np.ndarray) -> np.ndarray:
    """A signal's z-scores weighted by 1 + (its top z-score) / :data:`STANDOUT`."""
    return (1 + max(float(z.max()), 0.0) / STANDOUT) * z


def _signals(dense: DenseScores | None, keyword: KeywordScores | None,
             entries: frozenset[str]) -> list[tuple[ChunkScores, np.ndarray]]:
    """``(scores, per-parent values)`` of the passage signals the given retrievers provide."""
    out: list[tuple[ChunkScores, np.ndarray]] = []
    for scores in (dense, keyword):
        if scores is not None:
            out.append((scores, scores.segments.passage_best(scores.chunk_scores, _entry_mask(scores.parents, entries))))
    if dense is not None and keyword is not None:
        out.append((keyword, agreement(dense, keyword, entries)))
    return out


def agreement(dense: DenseScores, keyword: KeywordScores, entries: frozenset[str]) -> np.ndarray:
    """For each of ``keyword``'s parents, the cosine similarity of its keyword-best passage to the query
    (the nearest of them when several tie, so a document without any query word gets its nearest
    chunk); an entry has one passage, its question + answer chunk."""
    segments = keyword.segments
    rows = segments.rows
    sims = _dense_row_sims(dense, keyword.chunk_ids)
    best = keyword.chunk_scores[rows] >= np.repeat(keyword.chunk_max, segments.lengths)
    is_entry = _entry_mask(keyword.parents, entries)
    return np.where(is_entry, sims[segments.starts], segments.best_where(sims[rows], best))


class _EntryMasks:
    """Which parents of a parent list are entries, for the last few (list, entry set) pairs: both are
    replaced whole when the records change, so identity tells when to look again."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._kept: list[tuple[list[str], frozenset[str], np.ndarray]] = []

    def __call__(self, parents: list[str], entries: frozenset[str]) -> np.ndarray:
        for kept_parents, kept_entries, mask in self._kept:
            if kept_parents is parents and kept_entries is entries:
                return mask
        mask = np.fromiter((p in entries for p in parents), bool, len(parents))
        self._kept = [(parents, entries, mask), *self._kept[: self.size - 1]]
        return mask


_entry_mask = _EntryMasks()


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


def _aligned(values: np.ndarray, scores: ChunkScores, parents: list[str]) -> np.ndarray:
    """``values`` (one per parent of ``scores``) in the order of ``parents``; a parent that ``scores``
    lacks gets the lowest value. Only a search that landed between two index refreshes needs this."""
    if scores.parents is parents or scores.parents == parents:
        return values
    floor, position = values.min(), scores.position
    return np.array([values[position[p]] if p in position else floor for p in parents])


def _ranked(parent: str, score: float, dense: DenseScores | None, keyword: KeywordScores | None,
            passage: np.ndarray | None) -> Ranked:
    """The chunk shown for a parent: its highest ``passage`` row (per keyword row, both retrievers'
    chunk scores z-scored and added) in hybrid search; in keyword search the chunk with most of the
    question's words; otherwise (dense search, or no query word in the parent) its nearest chunk."""
    nearest = dense.best_chunk(dense.position[parent]) if dense is not None and parent in dense.position else None
    chunk_id, runners_up = nearest[0] if nearest else "", ()
    if keyword is not None and parent in keyword.position:
        i = keyword.position[parent]
        if passage is not None:
            chunk_id, *rest = (keyword.chunk_ids[j] for j in keyword.segments.top_rows(i, passage, 1 + RUNNERS_UP))
            runners_up = tuple(rest)
        else:
            best, words = keyword.best_chunk(i)
            if words > 0 or nearest is None:
                chunk_id = best
    return Ranked(parent, score, chunk_id, nearest[1] if nearest else 0.0, runners_up)
