"""The KnowledgeBase facade: one data directory = records (SQLite) + vectors (Chroma) + keywords (BM25).

Writes go to the record store first; the vector store is updated inside the same SQLite
transaction (so a failure rolls the records back), which also bumps the vector epoch that tells
other processes to re-open their embedded Chroma client. The in-memory dense index and the keyword
index are refreshed from the records whenever they are stale. Search results are always resolved
through the records, so a vector left behind by an interrupted write is never shown.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from . import audit
from .chunks import entry_chunks
from .dense import DenseIndex
from .embed import Embedder
from .errors import EmbedderMismatch
from .fusion import fuse
from .hits import current_hits
from .keyword import KeywordIndex
from .lifecycle import Timeline
from .locks import file_lock
from .records import Records, now
from .store import VectorStore
from .text import keyword_tokens
from .types import Chunk, Document, Entry, EntryState, Filters, Hit

MODES = ("hybrid", "dense", "keyword")
SCHEMA_VERSION = 2
RECORDS_FILE = "records.sqlite3"
EMBED_BATCH = 32


@dataclass(frozen=True)
class PreparedEntry:
    """An entry with its chunks, the chunks not yet stored and their vectors."""

    entry: Entry
    chunks: list[Chunk]
    fresh: list[Chunk]
    vectors: list


@dataclass
class FileChange:
    """What :meth:`KnowledgeBase.replace_file` did: ``status`` is added, updated or unchanged."""

    status: str
    items: int
    embedded: int = 0
    removed: list[str] = field(default_factory=list)


class KnowledgeBase:
    """Open (or create) the knowledge base in ``data_dir``.

    Args:
        data_dir: directory for the record store, the keyword index, the manifest and, in
            embedded mode, the Chroma files.
        embedder: the embedding model; it must be the one the index was built with, unless
            ``rebuild`` is true (then the vector index is dropped and :meth:`reindex` must follow).
        chroma_url: ``http://host:port`` of a Chroma server, or empty for embedded Chroma.
        collection: the Chroma collection name.
    """

    def __init__(self, data_dir: Path | str, embedder: Embedder, chroma_url: str = "",
                 collection: str = "knowledge", rebuild: bool = False):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.embedder = embedder
        self.chroma_url = chroma_url
        self.manifest_path = self.data_dir / "manifest.json"
        if not rebuild:
            manifest = self._manifest()
            if manifest.get("embedder", embedder.model_id) != embedder.model_id:
                raise EmbedderMismatch(manifest.get("embedder_name", manifest["embedder"]), embedder.name)
        self.records = Records(self.data_dir / RECORDS_FILE)
        epoch = self.records.vector_epoch()  # read first: the client opened next is at least this current
        self.vectors = VectorStore(self.data_dir, chroma_url, collection, embedder.model_id, embedder.name,
                                   embedder.dim, epoch, check=not rebuild)
        if rebuild:
            with self.records.transaction() as conn, self.writing_vectors(conn):
                self.vectors.reset()
        self.keywords = KeywordIndex(self.data_dir / "keyword")
        self.dense = DenseIndex(embedder.dim)
        self._visible: tuple[tuple, set[str]] = ((), set())
        self._timeline: tuple[tuple, Timeline | None] = ((), None)
        self._write_manifest(collection)

    def _manifest(self) -> dict:
        if self.manifest_path.exists():
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        return {}

    def _write_manifest(self, collection: str) -> None:
        manifest = {
            "schema": SCHEMA_VERSION,
            "embedder": self.embedder.model_id,
            "embedder_name": self.embedder.name,
            "dim": self.embedder.dim,
            "chroma": self.chroma_url or "embedded",
            "collection": collection,
        }
        if manifest != self._manifest():
            self.manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")

    def close(self) -> None:
        self.vectors.close()
        self.records.close()

    # -- writing ---------------------------------------------------------------------------

    def is_unchanged(self, path: str, file_hash: str) -> bool:
        """True when ``path`` was ingested before with exactly this content hash."""
        return self.records.file_hash(path) == file_hash

    def replace_file(self, path: str, file_hash: str, entries: list[Entry], documents: list[Document],
                     chunks: list[Chunk], on_embedded: Callable[[int], None] | None = None,
                     actor: str = "local", states: dict[str, EntryState] | None = None) -> FileChange:
        """Make the knowledge base hold exactly these records for ``path``, in one transaction.

        This is an admin's bulk import: entries are published directly, each content change is kept
        as a new version, and one audit event per file records what was added, changed and removed.
        Entries the file no longer holds are soft-deleted (documents are removed), unless another
        file holds them too. Chunks whose content did not change keep their vectors; only new chunks
        are embedded, before anything is written, so an embedding failure changes nothing.
        ``on_embedded(n)`` reports progress. ``states`` (entry id -> state) restores the review
        state of entries from a `kb export` file instead of publishing them.
        """
        previous = self.records.parents_of_file(path)
        status = "updated" if self.records.file_hash(path) is not None else "added"
        parents = {e.id for e in entries} | {d.id for d in documents}
        wanted = {c.id for c in chunks}
        known = self.records.existing_chunk_ids(wanted)
        fresh = [c for c in chunks if c.id not in known]
        vectors = self._embed(fresh, on_embedded)
        removed = sorted(p for p in previous - parents if self.records.files_of(p) == [path])
        removed_entries = [p for p in removed if self.records.state(p) is not None]
        removed_documents = [p for p in removed if p not in removed_entries]
        stale = self.records.chunk_ids_of(parents | set(removed_documents)) - wanted
        tokens = {c.id: " ".join(keyword_tokens(c.index_text)) for c in fresh}
        with self.records.transaction() as conn:
            changed = {"added": [], "updated": [], "removed": removed_entries}
            for entry_id in removed_entries:
                state = self.records.state(entry_id)
                self.records.set_state(conn, entry_id, replace(state, status="deleted", note="已从导入文件中移除"))
            self.records.delete_parents(conn, removed_documents)
            for e in entries:
                change = self._import_entry(conn, e, actor, (states or {}).get(e.id))
                if change:
                    changed[change].append(e.id)
            for d in documents:
                self.records.put_document(conn, d, _parent_tokens(d))
            self.records.delete_chunks(conn, stale)
            self.records.put_chunks(conn, fresh, tokens)
            self.records.set_file(conn, path, file_hash, parents)
            self.records.log(conn, path, status, f"{len(parents)} 条，新嵌入 {len(fresh)} 块")
            audit.record(conn, actor, "import", f"file:{path}",
                         after={**changed, "documents": sorted(d.id for d in documents)})
            self._write_vectors(conn, fresh, vectors, stale)
        return FileChange(status, len(parents), len(fresh), removed)

    def _import_entry(self, conn, entry: Entry, actor: str, restored: EntryState | None) -> str:
        """Publish an imported entry (or give it its ``restored`` state); returns ``added``,
        ``updated`` or '' (already stored as is)."""
        old, state = self.records.entry(entry.id), self.records.state(entry.id)
        if restored is not None:
            if old == entry and state == restored:
                return ""
            self.records.put_entry(conn, entry, _parent_tokens(entry), restored)
            self.records.add_version(conn, entry, restored.version, actor, "import")
            return "updated" if state else "added"
        if old == entry and state.status == "published":
            return ""
        at = now()
        version = state.version + 1 if state and old != entry else (state.version if state else 1)
        new_state = EntryState(status="published", version=version, origin="import", created_by=actor,
                               created_at=state.created_at if state else at, reviewed_by=actor, reviewed_at=at,
                               published_at=at)
        self.records.put_entry(conn, entry, _parent_tokens(entry), new_state)
        if old != entry:
            self.records.add_version(conn, entry, version, actor, "import")
        return "updated" if state else "added"

    def prepare_entry(self, entry: Entry) -> PreparedEntry:
        """Chunk and embed an entry ahead of :meth:`write_entry` (embedding is slow; keep it out of
        the write transaction)."""
        chunks = entry_chunks(entry)
        known = self.records.existing_chunk_ids(c.id for c in chunks)
        fresh = [c for c in chunks if c.id not in known]
        return PreparedEntry(entry, chunks, fresh, self._embed(fresh, None))

    def write_entry(self, conn, prepared: PreparedEntry, state: EntryState) -> None:
        """Store an entry, its chunks and their vectors; call inside ``records.transaction()``."""
        entry = prepared.entry
        stale = self.records.chunk_ids_of([entry.id]) - {c.id for c in prepared.chunks}
        self.records.put_entry(conn, entry, _parent_tokens(entry), state)
        self.records.delete_chunks(conn, stale)
        self.records.put_chunks(conn, prepared.fresh, {c.id: " ".join(keyword_tokens(c.index_text))
                                                       for c in prepared.fresh})
        self._write_vectors(conn, prepared.fresh, prepared.vectors, stale)

    def _write_vectors(self, conn: sqlite3.Connection, fresh: list[Chunk], vectors: list, stale: set[str]) -> None:
        if fresh or stale:
            with self.writing_vectors(conn):
                if fresh:
                    self.vectors.upsert([c.id for c in fresh], vectors, [_chunk_meta(c) for c in fresh])
                if stale:
                    self.vectors.delete(sorted(stale))

    @contextmanager
    def writing_vectors(self, conn: sqlite3.Connection) -> Iterator[None]:
        """Exclusive access to the vector store for a write inside the records transaction ``conn``.

        Every vector write goes through here: it bumps the vector epoch in that transaction, so other
        processes re-open their embedded Chroma client before they read vectors again.
        """
        epoch = self.records.bump_vector_epoch(conn)
        with self.vectors.writing(epoch - 1, epoch):
            yield

    def files_holding(self, parent_id: str) -> list[str]:
        """The ingested files (absolute paths) that contain this entry or document."""
        return self.records.files_of(parent_id)

    def _embed(self, chunks: list[Chunk], on_embedded: Callable[[int], None] | None):
        out = []
        for start in range(0, len(chunks), EMBED_BATCH):
            batch = chunks[start : start + EMBED_BATCH]
            out.extend(self.embedder.embed_passages([c.index_text for c in batch]))
            if on_embedded:
                on_embedded(len(batch))
        return out

    def log_file(self, path: str, status: str, detail: str = "") -> None:
        """Record an ingest event that stored nothing (an unchanged or a failed file)."""
        self.records.log_outside(path, status, detail)

    def refresh_keywords(self) -> None:
        """Rebuild the keyword index if the records changed since it was built."""
        generation = self.records.generation()
        if self.keywords.generation != generation:
            self.keywords.refresh(generation, lambda: (
                [(c.id, c.parent_id, tokens) for c, tokens in self.records.iter_chunks()],
                list(self.records.iter_parent_tokens())))

    def reindex(self, on_embedded: Callable[[int], None] | None = None) -> int:
        """Re-embed every chunk into the vector store, re-tokenise everything and rebuild the keyword
        index; returns the chunk count. Open with ``rebuild=True`` first when switching embedders.
        """
        parents = [*self.records.iter_entries(), *self.records.iter_documents()]
        chunks = [c for c, _ in self.records.iter_chunks()]
        with self.records.transaction() as conn:
            self.records.set_tokens(conn, {c.id: " ".join(keyword_tokens(c.index_text)) for c in chunks},
                                    {p.id: _parent_tokens(p) for p in parents})
            with self.writing_vectors(conn):
                self.vectors.reset()
        for start in range(0, len(chunks), 512):
            batch = chunks[start : start + 512]
            vectors = self._embed(batch, on_embedded)
            with self.records.transaction() as conn, self.writing_vectors(conn):
                self.vectors.upsert([c.id for c in batch], vectors, [_chunk_meta(c) for c in batch])
        self.refresh_keywords()
        return len(chunks)

    # -- reading ---------------------------------------------------------------------------

    def refresh_vectors(self) -> None:
        """Bring the in-memory dense index up to date with the records, fetching only new vectors."""
        generation = self.records.generation()
        if self.dense.generation == generation:
            return
        rows = self.records.chunk_parents()
        with file_lock(self.data_dir / "dense.lock"):
            if self.dense.generation == -1:
                self.dense.load(self.data_dir)
            # The epoch is read after the rows: a write visible in the rows is then visible in the epoch,
            # so an embedded client that predates it is re-opened before the vectors are fetched.
            with self.vectors.reading(self.records.vector_epoch()):
                fetched = self.dense.refresh(rows, generation, str(self.vectors.collection.id), self.vectors.get)
            if fetched:
                self.dense.save(self.data_dir)

    def search(self, query: str, k: int = 5, filters: Filters | None = None, mode: str = "hybrid",
               drafts: bool = False, as_of: str = "") -> list[Hit]:
        """Search the knowledge base.

        Only knowledge that applies on ``as_of`` is returned as current: a match on a superseded
        entry returns the entry that replaced it (with ``Hit.replaced`` saying what changed when),
        an expired entry comes back with ``Hit.expired_on`` set, rejected/merged/deleted entries
        and entries not yet in effect never come back.

        Args:
            query: the question, as typed (not pre-segmented).
            k: how many distinct entries/documents to return (not chunks).
            filters: metadata filters (事项, 部门, kind, date range).
            mode: ``hybrid`` (default), ``dense`` or ``keyword``.
            drafts: also return entries awaiting review (``Hit.status == "draft"``).
            as_of: the day to judge currency on (ISO date), today by default.

        Returns:
            Up to ``k`` hits, best first, one per entry or document.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        as_of = as_of or date.today().isoformat()
        allowed = self._allowed(filters or Filters(), as_of, drafts)
        dense = keyword = None
        if mode in ("hybrid", "dense"):
            self.refresh_vectors()
            dense = self.dense.search(self.embedder.embed_queries([query])[0], allowed)
        if mode in ("hybrid", "keyword"):
            self.refresh_keywords()
            keyword = self.keywords.search(query, allowed)
        # superseded entries fold into their current version, so rank a few more than k
        return current_hits(self.records, fuse(dense, keyword, 2 * k + 5), k, self.timeline(as_of))

    def _allowed(self, filters: Filters, as_of: str, drafts: bool) -> set[str]:
        """The entries/documents a search may return: visible on ``as_of`` and matching ``filters``
        (the one place the mask is built)."""
        key = (self.records.generation(), as_of, drafts)
        if self._visible[0] != key:
            self._visible = (key, self.records.visible_parents(as_of, drafts))
        visible = self._visible[1]
        return visible if filters.is_empty() else visible & self.records.matching_parents(filters)

    def timeline(self, as_of: str = "") -> Timeline:
        """Which published entry replaces which, as seen on ``as_of`` (today by default)."""
        as_of = as_of or date.today().isoformat()
        key = (self.records.generation(), as_of)
        if self._timeline[0] != key:
            supersessions = self.records.supersessions()
            ids = {i for s in supersessions for i in s[:2]}
            questions = {i: e.question for i in ids if (e := self.records.entry(i)) is not None}
            self._timeline = (key, Timeline(supersessions, questions, as_of))
        return self._timeline[1]

    def term_weights(self, text: str) -> dict[str, float]:
        """The content words of ``text`` with their IDF in this knowledge base (rare or unknown = high)."""
        self.refresh_keywords()
        return self.keywords.term_weights(text)

    def entry(self, entry_id: str) -> Entry | None:
        return self.records.entry(entry_id)

    def document(self, doc_id: str) -> Document | None:
        return self.records.document(doc_id)

    def iter_records(self) -> Iterator[Entry | Document]:
        """Every entry, then every document (for export)."""
        yield from self.records.iter_entries()
        yield from self.records.iter_documents()

    def stats(self) -> dict:
        """Counts, index state and the last ingest events."""
        counts = self.records.counts()
        with self.vectors.reading(self.records.vector_epoch()):
            vectors = self.vectors.count()
        return {
            **counts,
            "vectors": vectors,
            "embedder": self.embedder.model_id,
            "chroma": self.chroma_url or str(self.data_dir / "chroma"),
            "data_dir": str(self.data_dir),
            "index_complete": vectors == counts["chunks"],
            "recent": self.records.recent_log(),
        }


def _parent_tokens(record: Entry | Document) -> str:
    """Keyword tokens of a whole entry or document (the parent-level keyword field)."""
    if isinstance(record, Entry):
        return " ".join(keyword_tokens("\n".join((record.item, *record.questions, record.answer))))
    return " ".join(keyword_tokens(f"{record.title}\n{record.text}"))


def _chunk_meta(chunk: Chunk) -> dict:
    """Chroma metadata: only what the chunk id fixes (filters use the records, which stay current)."""
    return {"kind": chunk.kind, "parent_id": chunk.parent_id}
