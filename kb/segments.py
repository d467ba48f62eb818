"""Chunk rows grouped by their entry/document, the layout both indexes (dense and keyword) score in.

Every chunk of one parent sits in adjacent rows, so a per-parent maximum is one ``reduceat`` and a
parent's best chunk is an ``argmax`` over its rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


class Segments:
    """Parent ``parents[i]`` owns rows ``starts[i]:ends[i]``; ``position`` maps a parent to its ``i``."""

    def __init__(self, parents: list[str], starts: np.ndarray, ends: np.ndarray):
        self.parents = parents
        self.starts = starts
        self.ends = ends
        self.position = {p: i for i, p in enumerate(parents)}
        self._restricted: tuple[set[str] | None, Segments | None, np.ndarray] = (None, None, np.zeros(0, np.int64))

    @classmethod
    def of(cls, chunk_parents: list[str]) -> Segments:
        """The segments of rows whose parents are ``chunk_parents`` (each parent's rows adjacent)."""
        n = len(chunk_parents)
        starts = np.array([i for i in range(n) if i == 0 or chunk_parents[i] != chunk_parents[i - 1]], dtype=np.int64)
        ends = np.append(starts[1:], n).astype(np.int64) if n else starts
        return cls([chunk_parents[i] for i in starts], starts, ends)

    def best(self, values: np.ndarray) -> np.ndarray:
        """Each parent's highest row value (``values`` has one value per row)."""
        return np.maximum.reduceat(values, self.starts)

    def passage_best(self, values: np.ndarray, first_only: np.ndarray) -> np.ndarray:
        """Each parent's highest row value, over its first row alone where ``first_only`` (an entry, whose
        first chunk is its only passage) and over all its rows elsewhere."""
        return np.where(first_only, values[self.starts], self.best(values))

    @cached_property
    def lengths(self) -> np.ndarray:
        """How many rows each parent owns."""
        return self.ends - self.starts

    @cached_property
    def offsets(self) -> np.ndarray:
        """Where each parent's rows begin in :attr:`rows`."""
        return np.cumsum(self.lengths) - self.lengths

    @cached_property
    def rows(self) -> np.ndarray:
        """The rows these parents own, parent by parent (``lengths[i]`` rows for parent ``i``)."""
        return np.repeat(self.starts - self.offsets, self.lengths) + np.arange(int(self.lengths.sum()), dtype=np.int64)

    def best_where(self, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Each parent's highest row value among its rows where ``mask`` holds (both are given for
        :attr:`rows`, in that order); every parent needs at least one such row."""
        return np.maximum.reduceat(np.where(mask, values, -np.inf), self.offsets)

    def best_row(self, i: int, values: np.ndarray) -> int:
        """The row of parent ``i`` with the highest value."""
        start, end = int(self.starts[i]), int(self.ends[i])
        return start + int(np.argmax(values[start:end]))

    def top_rows(self, i: int, values: np.ndarray, n: int) -> list[int]:
        """The ``n`` rows of parent ``i`` with the highest values, best first."""
        start, end = int(self.starts[i]), int(self.ends[i])
        return [start + int(j) for j in np.argsort(-values[start:end], kind="stable")[:n]]

    def restricted(self, allowed: set[str]) -> tuple[Segments, np.ndarray]:
        """The segments of the ``allowed`` parents only, and their indexes here (to pick per-parent
        values). The last result is kept: searches pass the same ``allowed`` set until the records change."""
        if self._restricted[0] is not allowed:
            keep = np.array([i for i, p in enumerate(self.parents) if p in allowed], dtype=np.int64)
            subset = Segments([self.parents[i] for i in keep], self.starts[keep], self.ends[keep])
            self._restricted = (allowed, subset, keep)
        return self._restricted[1], self._restricted[2]


@dataclass(frozen=True)
class ChunkScores:
    """One retriever's evidence for one query: ``chunk_scores[j]`` scores chunk ``chunk_ids[j]`` (every
    row), and ``segments`` groups the rows of every (allowed) entry/document."""

    segments: Segments
    chunk_scores: np.ndarray
    chunk_ids: list[str]

    @property
    def parents(self) -> list[str]:
        return self.segments.parents

    @property
    def position(self) -> dict[str, int]:
        return self.segments.position

    def best_chunk(self, i: int) -> tuple[str, float]:
        """``(chunk id, score)`` of the best chunk of ``parents[i]``."""
        j = self.segments.best_row(i, self.chunk_scores)
        return self.chunk_ids[j], float(self.chunk_scores[j])
