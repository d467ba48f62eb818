"""The dense index: every chunk vector in one in-memory float32 matrix, searched exactly.

Chroma stays the durable vector store (embedded or server; every vector write goes there). This
index mirrors it for search: one row per chunk of the record store, the rows of one entry/document
contiguous, so a query is one matrix-vector product followed by a per-parent maximum.

Why exact search in numpy rather than Chroma's nearest-neighbour query: hybrid fusion z-scores each
signal over the whole population of (allowed) entries/documents, so it needs every parent's
similarity, and an approximate top-n leaves the rest unknown. At this scale brute force is cheap
and exact: one float32 matrix-vector product, linear in the chunk count and bound by memory
bandwidth (384 dimensions, one core: ~0.2 ms for 1k chunks, ~4 ms for 20k, ~20 ms for 100k),
small beside the ~25 ms it takes to embed a 20-token question. Filters become a parent mask that dense and
keyword search share, instead of a second implementation as a Chroma ``where`` clause.

Like the keyword index it is stamped with the record store's ``generation``. A refresh compares the
record store's chunk ids with the rows, fetches only the missing vectors from Chroma and drops
rows whose chunk is gone; when the collection itself was recreated, every vector is fetched again.
The vectors are also saved in the data directory, so a new process (each `kb ask`) starts from them
and fetches only what changed instead of reading every vector from Chroma. Chunk ids are derived
from their content, so a saved vector never goes stale while its collection lives.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .segments import ChunkScores, Segments

Fetch = Callable[[list[str]], tuple[list[str], np.ndarray]]
"""``fetch(chunk ids) -> (the stored ones of those ids, their vectors)``."""


@dataclass(frozen=True)
class DenseScores(ChunkScores):
    """Dense evidence for one query, over every (allowed) entry/document.

    ``chunk_scores`` are cosine similarities to the query; ``parents[i]`` has ``similarity[i]``,
    that of its best chunk, which :meth:`best_chunk` names.
    """

    similarity: np.ndarray


@dataclass(frozen=True)
class _Rows:
    """One consistent state of the index, replaced whole on refresh (a search never sees half of one)."""

    chunk_ids: list[str]
    matrix: np.ndarray
    segments: Segments
    generation: int
    source: str | None

    @classmethod
    def build(cls, chunk_ids: list[str], chunk_parents: list[str], matrix: np.ndarray, generation: int = -1,
              source: str | None = None) -> _Rows:
        return cls(chunk_ids, matrix, Segments.of(chunk_parents), generation, source)


class DenseIndex:
    """Unit chunk vectors of dimension ``dim``, grouped by parent, mirrored from the vector store."""

    def __init__(self, dim: int):
        self.dim = dim
        self._rows = _Rows.build([], [], np.zeros((0, dim), dtype=np.float32))

    def __len__(self) -> int:
        return len(self._rows.chunk_ids)

    @property
    def generation(self) -> int:
        """The record store generation the index mirrors (-1 before the first refresh)."""
        return self._rows.generation

    def load(self, directory: Path) -> None:
        """Start from the vectors :meth:`save` left in ``directory`` (a cold start then fetches only
        what changed since); nothing happens when there are none."""
        meta, vectors = directory / "dense.json", directory / "dense.npy"
        if not (meta.exists() and vectors.exists()):
            return
        data = json.loads(meta.read_text(encoding="utf-8"))
        self._rows = _Rows.build(data["chunk_ids"], data["parents"], np.load(vectors), -1, data["source"])

    def save(self, directory: Path) -> None:
        """Write the vectors for :meth:`load`, atomically (a reader sees the old or the new file)."""
        rows = self._rows
        tmp = Path(tempfile.mkdtemp(prefix="dense.tmp-", dir=directory))
        try:
            np.save(tmp / "dense.npy", rows.matrix)
            segments = rows.segments
            parents = [p for p, n in zip(segments.parents, segments.ends - segments.starts) for _ in range(n)]
            meta = {"source": rows.source, "chunk_ids": rows.chunk_ids, "parents": parents}
            (tmp / "dense.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp / "dense.npy", directory / "dense.npy")
            os.replace(tmp / "dense.json", directory / "dense.json")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def refresh(self, rows: list[tuple[str, str]], generation: int, source: str, fetch: Fetch) -> int:
        """Mirror ``rows`` — ``(chunk id, parent id)`` with each parent's chunks adjacent — at ``generation``.

        ``source`` identifies the vector collection (when it changes, every vector is fetched again);
        ``fetch`` reads vectors from it. A chunk whose vector is not stored yet is left out. Returns
        how many vectors were fetched.
        """
        old = self._rows
        ids = [cid for cid, _ in rows]
        same = source == old.source
        known = {cid: i for i, cid in enumerate(old.chunk_ids)} if same else {}
        pool = old.matrix if same else old.matrix[:0]
        missing = [cid for cid in ids if cid not in known]
        if missing:
            fetched_ids, fetched = fetch(missing)
            known.update((cid, i) for i, cid in enumerate(fetched_ids, start=len(pool)))
            pool = np.concatenate([pool, _unit(fetched)])
        if not missing and ids == old.chunk_ids:
            self._rows = replace(old, generation=generation, source=source)
            return 0
        kept = [(cid, parent) for cid, parent in rows if cid in known]
        matrix = pool[np.array([known[cid] for cid, _ in kept], dtype=np.int64)]
        self._rows = _Rows.build([cid for cid, _ in kept], [parent for _, parent in kept], matrix, generation, source)
        return len(missing)

    def search(self, vector: np.ndarray, allowed: set[str] | None = None) -> DenseScores | None:
        """Similarity of every entry/document to the query ``vector`` (None when the index is empty).

        ``allowed`` restricts the result to those entries/documents (None: all of them).
        """
        rows = self._rows
        if not rows.chunk_ids:
            return None
        query = _unit(np.asarray(vector, dtype=np.float32).reshape(1, -1))[0]
        # einsum rather than ``@``: BLAS runs a product this size on worker threads that keep spinning
        # afterwards and slowed the next query's embedding by ~30 ms on 2 cores; einsum's own
        # single-threaded loop is nearly as fast, since the product is bound by memory bandwidth.
        sims = np.einsum("ij,j->i", rows.matrix, query)
        best = rows.segments.best(sims)
        if allowed is None:
            return DenseScores(rows.segments, sims, rows.chunk_ids, similarity=best)
        segments, keep = rows.segments.restricted(allowed)
        return DenseScores(segments, sims, rows.chunk_ids, similarity=best[keep])


def _unit(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (the embedders already return unit vectors; this guards the dot product)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32, copy=False)
