"""The vector store: the only module that imports chromadb.

Embedded mode keeps a ``PersistentClient`` under ``<data_dir>/chroma``; server mode uses an
``HttpClient`` against a server started with ``chroma run``. Vectors are always supplied by us:
collections are created without an embedding function, so Chroma never downloads its default model.
The embedder id and dimension are stored in the collection metadata and checked on open.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import chromadb
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError

from .errors import EmbedderMismatch, StoreUnavailable
from .types import Filters

BATCH = 1000


def _client(data_dir: Path, url: str):
    settings = ChromaSettings(anonymized_telemetry=False)
    if not url:
        return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=settings)
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise StoreUnavailable(f"Chroma 服务器地址 {url!r} 无效，应形如 http://127.0.0.1:8000。")
    try:
        return chromadb.HttpClient(
            host=parsed.hostname,
            port=parsed.port or (443 if parsed.scheme == "https" else 80),
            ssl=parsed.scheme == "https",
            settings=settings,
        )
    except Exception as exc:  # chromadb raises plain ValueError/ConnectError when the server is down
        raise StoreUnavailable(
            f"连不上 Chroma 服务器 {url}：{exc}。请确认已运行 `chroma run --path <目录> --port <端口>`，"
            f"或去掉 --chroma-url 改用嵌入式存储。"
        ) from exc


def where_clause(filters: Filters) -> dict | None:
    """Translate :class:`Filters` into a Chroma ``where`` clause over chunk metadata."""
    conds: list[dict] = []
    if filters.kind:
        conds.append({"kind": filters.kind})
    if filters.item:
        conds.append({"item": filters.item})
    if filters.department:
        conds.append({"department": filters.department})
    if filters.date_from:
        conds.append({"date": {"$gte": date_number(filters.date_from)}})
    if filters.date_to:
        conds.append({"date": {"$lte": date_number(filters.date_to)}})
        conds.append({"date": {"$gt": 0}})
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else {"$and": conds}


def date_number(iso_date: str) -> int:
    """``2026-11-28`` -> 20261128; an empty date -> 0."""
    return int(iso_date.replace("-", "")) if iso_date else 0


class VectorStore:
    """One Chroma collection of chunk vectors (cosine space) with per-chunk metadata."""

    def __init__(self, data_dir: Path, url: str, collection: str, embedder_id: str, embedder_name: str,
                 dim: int, replace: bool = False):
        self.client = _client(data_dir, url)
        self.name = collection
        self.embedder_id = embedder_id
        self.embedder_name = embedder_name
        self.dim = dim
        try:
            if replace:
                self._drop()
            self.collection = self._open()
        except (EmbedderMismatch, StoreUnavailable):
            raise
        except Exception as exc:
            raise StoreUnavailable(f"打开 Chroma 集合 {collection} 失败：{exc}") from exc

    def _open(self):
        collection = self.client.get_or_create_collection(
            self.name,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedder": self.embedder_id, "embedder_name": self.embedder_name, "dim": self.dim},
            embedding_function=None,
        )
        meta = collection.metadata or {}
        if meta.get("embedder", self.embedder_id) != self.embedder_id:
            raise EmbedderMismatch(meta.get("embedder_name", meta["embedder"]), self.embedder_name)
        return collection

    def _drop(self) -> None:
        try:
            self.client.delete_collection(self.name)
        except NotFoundError:
            pass

    def reset(self) -> None:
        """Drop and recreate the collection (for reindexing, possibly with another embedder)."""
        self._drop()
        self.collection = self._open()

    def upsert(self, ids: list[str], vectors, metadatas: list[dict]) -> None:
        for start in range(0, len(ids), BATCH):
            end = start + BATCH
            self.collection.upsert(ids=ids[start:end], embeddings=vectors[start:end], metadatas=metadatas[start:end])

    def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), BATCH):
            self.collection.delete(ids=ids[start : start + BATCH])

    def count(self) -> int:
        return self.collection.count()

    def query(self, vector, n: int, filters: Filters) -> list[tuple[str, float]]:
        """The ``n`` nearest chunks as ``(chunk_id, cosine similarity)``, most similar first."""
        n = min(n, self.count())
        if n <= 0:
            return []
        result = self.collection.query(
            query_embeddings=[vector], n_results=n, where=where_clause(filters), include=["distances"]
        )
        return [(cid, 1.0 - float(dist)) for cid, dist in zip(result["ids"][0], result["distances"][0])]
