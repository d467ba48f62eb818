"""The vector store: the only module that imports chromadb.

Chroma is the durable home of the chunk vectors; search reads them into :class:`kb.dense.DenseIndex`.
Embedded mode keeps a ``PersistentClient`` under ``<data_dir>/chroma``; server mode uses an
``HttpClient`` against a server started with ``chroma run``. Vectors are always supplied by us:
collections are created without an embedding function, so Chroma never downloads its default model.
The embedder id and dimension are stored in the collection metadata and checked on open.

Embedded Chroma is not safe for several processes on its own: a client keeps what it has read in
memory, so after another process writes, its reads miss the new vectors or fail ("Error finding
id"). Two things make it safe here:

* the lock file ``<data_dir>/chroma.lock`` (``flock``): exclusive around writes, shared around reads;
* the vector epoch, a counter the caller keeps in its record store and bumps in the same transaction
  as every vector write. Each access names the current epoch; when it differs from the epoch this
  process's client reflects, another process wrote, and the client is re-opened (~20–40 ms).

Within one process all :class:`VectorStore` objects on a directory share one embedded client, so
open embedded Chroma only through this module. A Chroma server needs neither the lock nor the
re-open (it is the only process that touches its files); an epoch change there only fetches the
collection handle again, since another process may have recreated the collection.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError

from .errors import EmbedderMismatch, StoreUnavailable
from .locks import file_lock

BATCH = 1000
READ_BATCH = 5000


def _connect(path: Path | None, url: str):
    settings = ChromaSettings(anonymized_telemetry=False)
    if path is not None:
        return chromadb.PersistentClient(path=str(path), settings=settings)
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


class _Client:
    """A Chroma client and the vector epoch its view reflects (see the module docstring).

    ``version`` changes whenever collection handles must be fetched again: the client was re-opened,
    a collection was recreated, or (server mode) another process wrote.
    """

    def __init__(self, data_dir: Path, url: str, epoch: int):
        self.path = None if url else data_dir / "chroma"
        self.lock_path = None if url else data_dir / "chroma.lock"
        self.api = _connect(self.path, url)
        self.epoch = epoch
        self.version = 0
        self.users = 0
        self._mutex = threading.Lock()

    @contextmanager
    def access(self, epoch: int, exclusive: bool) -> Iterator[None]:
        """Hold the lock file (shared or exclusive) and this process's mutex, with a client current
        as of ``epoch``."""
        with self._flock(exclusive), self._mutex:
            if epoch != self.epoch:
                if self.path is not None:
                    self.api.close()
                    self.api = _connect(self.path, "")
                self.epoch = epoch
                self.version += 1
            yield

    @contextmanager
    def _flock(self, exclusive: bool) -> Iterator[None]:
        if self.lock_path is None:
            yield
            return
        with file_lock(self.lock_path, exclusive):
            yield


_EMBEDDED: dict[Path, _Client] = {}
_EMBEDDED_MUTEX = threading.Lock()


def _acquire(data_dir: Path, url: str, epoch: int) -> _Client:
    """A server client, or this process's embedded client for ``data_dir`` (shared, counted)."""
    if url:
        return _Client(data_dir, url, epoch)
    key = data_dir.resolve()
    with _EMBEDDED_MUTEX:
        client = _EMBEDDED.get(key)
        if client is None:
            client = _EMBEDDED[key] = _Client(key, "", epoch)
        client.users += 1
        return client


def _release(client: _Client) -> None:
    if client.path is None:
        return
    with _EMBEDDED_MUTEX:
        client.users -= 1
        if client.users == 0:
            del _EMBEDDED[client.path.parent]
            client.api.close()


class VectorStore:
    """One Chroma collection of chunk vectors (cosine space) with per-chunk metadata.

    Every read happens inside :meth:`reading` and every write inside :meth:`writing`; both take the
    vector epoch from the caller's record store.

    Args:
        data_dir: the knowledge base directory (embedded Chroma lives in ``chroma/`` under it).
        url: ``http://host:port`` of a Chroma server, or empty for embedded Chroma.
        collection: the collection name.
        embedder_id, embedder_name, dim: the embedding model the collection must have been built with.
        epoch: the current vector epoch, read before this call.
        check: refuse a collection built with another embedder (false when it is about to be reset).
    """

    def __init__(self, data_dir: Path, url: str, collection: str, embedder_id: str, embedder_name: str,
                 dim: int, epoch: int, check: bool = True):
        self.name = collection
        self.embedder_id = embedder_id
        self.embedder_name = embedder_name
        self.dim = dim
        self._client = _acquire(data_dir, url, epoch)
        self._closed = False
        try:
            with self._client.access(epoch, exclusive=True):
                self._collection = self._open(check)
                self._version = self._client.version
        except Exception as exc:
            self.close()
            if isinstance(exc, (EmbedderMismatch, StoreUnavailable)):
                raise
            raise StoreUnavailable(f"打开 Chroma 集合 {collection} 失败：{exc}") from exc

    @property
    def client(self):
        """The chromadb client."""
        return self._client.api

    @property
    def collection(self):
        """The chromadb collection, fetched again after the client was re-opened or it was recreated."""
        if self._version != self._client.version:
            self._collection = self._open()
            self._version = self._client.version
        return self._collection

    def _open(self, check: bool = True):
        collection = self.client.get_or_create_collection(
            self.name,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedder": self.embedder_id, "embedder_name": self.embedder_name, "dim": self.dim},
            embedding_function=None,
        )
        meta = collection.metadata or {}
        if check and meta.get("embedder", self.embedder_id) != self.embedder_id:
            raise EmbedderMismatch(meta.get("embedder_name", meta["embedder"]), self.embedder_name)
        return collection

    def close(self) -> None:
        """Release this process's embedded client once no other store in the process uses it."""
        if not self._closed:
            self._closed = True
            _release(self._client)

    def reading(self, epoch: int):
        """Context for reads (:meth:`get`, :meth:`count`) at vector epoch ``epoch``."""
        return self._client.access(epoch, exclusive=False)

    @contextmanager
    def writing(self, epoch: int, new_epoch: int) -> Iterator[None]:
        """Context for writes (:meth:`upsert`, :meth:`delete`, :meth:`reset`): ``epoch`` is the vector
        epoch before the write, ``new_epoch`` the one the caller commits with it."""
        with self._client.access(epoch, exclusive=True):
            yield
            self._client.epoch = new_epoch

    def reset(self) -> None:
        """Drop and recreate the collection (for reindexing, possibly with another embedder)."""
        try:
            self.client.delete_collection(self.name)
        except NotFoundError:
            pass
        self._client.version += 1
        self._collection = self._open(check=False)
        self._version = self._client.version

    def upsert(self, ids: list[str], vectors, metadatas: list[dict]) -> None:
        for start in range(0, len(ids), BATCH):
            end = start + BATCH
            self.collection.upsert(ids=ids[start:end], embeddings=vectors[start:end], metadatas=metadatas[start:end])

    def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), BATCH):
            self.collection.delete(ids=ids[start : start + BATCH])

    def get(self, ids: list[str]) -> tuple[list[str], np.ndarray]:
        """The stored ones of ``ids`` and their vectors (float32, one row each); unknown ids are left out."""
        found: list[str] = []
        rows = [np.zeros((0, self.dim), dtype=np.float32)]
        for start in range(0, len(ids), READ_BATCH):
            got = self.collection.get(ids=ids[start : start + READ_BATCH], include=["embeddings"])
            if got["ids"]:
                found.extend(got["ids"])
                rows.append(np.asarray(got["embeddings"], dtype=np.float32).reshape(len(got["ids"]), -1))
        return found, np.concatenate(rows)

    def count(self) -> int:
        return self.collection.count()
