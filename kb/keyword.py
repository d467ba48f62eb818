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
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

from .locks import file_lock
from .segments import ChunkScores, Segments

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
        # token ids, not token lists: every occurrence of a token refers to the one int object the
        # vocabulary holds, so a large index costs a pointer per token instead of a string
        vocab: dict[str, int] = {}
        ids = [[vocab.setdefault(t, len(vocab)) for t in tokens.split(" ")] if tokens else [] for _, tokens in rows]
        model = bm25s.BM25(k1=K1, b=B)
        model.index((ids, vocab), show_progress=False)
        return cls([r[0] for r in rows], model)

    def scores(self, tokens: list[str]) -> np.ndarray | None:
        """BM25 score of every indexed item, or None when no query token is in the vocabulary."""
        if self.model is None:
            return None
        vocab = self.model.vocab_dict
        ids = [vocab[t] for t in tokens if t in vocab]
        return self.model.get_scores_from_ids(ids) if ids else None

    def df(self, token: str) -> int:
        """How many indexed items hold ``token``."""
        if self.model is None:
            return 0
        indptr = self.model.scores["indptr"]  # column t of the score matrix holds token t's documents
        t = self.model.vocab_dict.get(token)
        return int(indptr[t + 1] - indptr[t]) if t is not None and t + 1 < len(indptr) else 0

    def idf(self, token: str) -> float:
        """BM25 inverse document frequency of ``token``; a token found nowhere gets the highest value."""
        df = self.df(token)
        return math.log(1 + (len(self.ids) - df + 0.5) / (df + 0.5))


@dataclass(frozen=True)
class KeywordScores(ChunkScores):
    """Keyword evidence for one query, over every (allowed) entry/document.

    ``chunk_scores`` are BM25 scores; ``parents[i]`` has ``chunk_max[i]`` (the BM25 score of its best
    chunk, which :meth:`best_chunk` names) and ``whole[i]`` (the BM25 score of the whole entry/document).
    """

    chunk_max: np.ndarray
    whole: np.ndarray


class KeywordIndex:
    """BM25 over chunk tokens and over whole entries/documents."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.generation = -1
        self.chunks = _Field([], None)
        self.parents = _Field([], None)
        self.chunk_parents: list[str] = []
        self.lock_path = directory.with_name(directory.name + ".lock")
        if directory.parent.exists():
            with file_lock(self.lock_path, exclusive=False):
                self._load()
        self._segment()

    def refresh(self, generation: int, rows: Callable[[], tuple[list, list]]) -> None:
        """Make the index match the record store's ``generation``: load it if another process has
        saved that generation already, otherwise rebuild it from ``rows()`` (chunk rows, parent rows;
        see :meth:`build`) and save it. A lock file serialises this across processes."""
        with file_lock(self.lock_path):
            if self._saved_generation() == generation:
                self._load()
                self._segment()
            else:
                self.build(*rows(), generation)

    def _saved_generation(self) -> int:
        manifest = self.directory / "manifest.json"
        if not manifest.exists():
            return -1
        return json.loads(manifest.read_text(encoding="utf-8"))["generation"]

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

    def _segment(self) -> None:
        """Group the chunk rows (ordered by parent) into one segment per entry/document."""
        self._segments = Segments.of(self.chunk_parents)
        position = {p: i for i, p in enumerate(self.parents.ids)}
        self._whole_index = np.array([position.get(p, -1) for p in self._segments.parents], dtype=np.int64)

    def build(self, chunk_rows: list[tuple[str, str, str]], parent_rows: list[tuple[str, str]],
              generation: int) -> None:
        """(Re)build from ``(chunk_id, parent_id, tokens)`` and ``(parent_id, tokens)`` rows; save atomically.

        Tokens are space-joined output of :meth:`kb.tokens.Tokens.of`.
        """
        self.chunks = _Field.build([(cid, tokens) for cid, _, tokens in chunk_rows])
        self.chunk_parents = [parent for _, parent, _ in chunk_rows]
        self.parents = _Field.build(parent_rows)
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=self.directory.name + ".tmp-", dir=self.directory.parent))
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
        self._segment()

    def idf(self, token: str) -> float:
        """The IDF of ``token`` over whole entries/documents (a token found nowhere gets the highest value)."""
        return self.parents.idf(token)

    def found(self, token: str) -> bool:
        """Whether any entry/document holds ``token``."""
        return self.parents.df(token) > 0

    def search(self, tokens: list[str], allowed_parents: set[str] | None = None) -> KeywordScores | None:
        """Keyword scores of every entry/document for a query's ``tokens`` (None when none is indexed).

        ``allowed_parents`` restricts the result to those entries/documents.
        """
        chunk_scores = self.chunks.scores(tokens)
        whole_scores = self.parents.scores(tokens)
        if chunk_scores is None or whole_scores is None:
            return None
        chunk_max = self._segments.best(chunk_scores)
        whole = np.where(self._whole_index >= 0, whole_scores[self._whole_index], 0.0)
        if allowed_parents is None:
            return KeywordScores(self._segments, chunk_scores, self.chunks.ids, chunk_max=chunk_max, whole=whole)
        segments, keep = self._segments.restricted(allowed_parents)
        return KeywordScores(segments, chunk_scores, self.chunks.ids, chunk_max=chunk_max[keep], whole=whole[keep])
