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
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from .chunks import entry_chunks
from .closeness import closeness
from .deciding import NEAR, Verdict, figures, gives_asked, hit_text, judge
from .dense import DenseIndex
from .embed import Embedder
from .errors import EmbedderMismatch
from .fusion import fuse
from .hits import answering_first, answering_passages, current_hits, naming_passages
from .keyword import KeywordIndex
from .known_vectors import KnownVectors
from .lexicon import CONCEPT_PREFIX
from .lifecycle import Timeline
from .locks import file_lock
from .records import RECORDS_FILE, Records
from .store import VectorStore
from .text import glued, rarity
from .tokens import Tokens
from .types import Chunk, Document, Entry, EntryState, Filters, Hit

MODES = ("hybrid", "dense", "keyword")
SCHEMA_VERSION = 2
EMBED_BATCH = 32


@dataclass(frozen=True)
class PreparedEntry:
    """An entry with its chunks, the chunks not yet stored and their vectors."""

    entry: Entry
    chunks: list[Chunk]
    fresh: list[Chunk]
    vectors: list


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
        self.tokens = Tokens(self.records)
        self.tokens.sync()
        epoch = self.records.vector_epoch()  # read first: the client opened next is at least this current
        self.vectors = VectorStore(self.data_dir, chroma_url, collection, embedder.model_id, embedder.name,
                                   embedder.dim, epoch, check=not rebuild)
        if rebuild:
            with self.records.transaction() as conn, self.writing_vectors(conn):
                self.vectors.reset()
        self.keywords = KeywordIndex(self.data_dir / "keyword")
        self.dense = DenseIndex(embedder.dim)
        self._visible: tuple[tuple, set[str]] = ((), set())
        self._entries: tuple[int, frozenset[str]] = (-1, frozenset())
        self._timeline: tuple[tuple, Timeline | None] = ((), None)
        self._known_vectors = KnownVectors()
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

    def copy_of(self, path: str, file_hash: str) -> str | None:
        """The ingested file that ``path`` (content hash ``file_hash``) is an exact copy of: another
        file with that hash that still holds entries/documents; None if there is none."""
        row = self.records.conn.execute(
            "SELECT path FROM files f WHERE hash=? AND path<>? AND EXISTS (SELECT 1 FROM file_parents p "
            "WHERE p.path=f.path) ORDER BY path LIMIT 1", (file_hash, path)).fetchone()
        return row[0] if row else None

    def move_file(self, old: str, new: str) -> None:
        """Hand the records of the ingested file ``old`` over to ``new`` (the same content, moved or
        renamed), so that a later change of ``new`` updates them; logged as an ingest event."""
        with self.records.transaction(changes_index=False) as conn:
            conn.execute("DELETE FROM files WHERE path=?", (new,))
            conn.execute("UPDATE files SET path=? WHERE path=?", (new, old))
            conn.execute("UPDATE file_parents SET path=? WHERE path=?", (new, old))
            self.records.log(conn, new, "unchanged", f"由 {old} 移来")

    def prepare_entry(self, entry: Entry) -> PreparedEntry:
        """Chunk and embed an entry ahead of :meth:`write_entry` (embedding is slow; keep it out of
        the write transaction)."""
        chunks = entry_chunks(entry)
        known = self.records.existing_chunk_ids(c.id for c in chunks)
        fresh = [c for c in chunks if c.id not in known]
        return PreparedEntry(entry, chunks, fresh, self.embed_chunks(fresh, None))

    def write_entry(self, conn, prepared: PreparedEntry, state: EntryState) -> None:
        """Store an entry, its chunks and their vectors; call inside ``records.transaction()``."""
        entry = prepared.entry
        stale = self.records.chunk_ids_of([entry.id]) - {c.id for c in prepared.chunks}
        self.records.put_entry(conn, entry, self.tokens.of_parent(entry), state)
        self.records.delete_chunks(conn, stale)
        self.records.put_chunks(conn, prepared.fresh, {c.id: self.tokens.joined(c.index_text)
                                                       for c in prepared.fresh})
        self.write_vectors(conn, prepared.fresh, prepared.vectors, stale)

    def write_vectors(self, conn: sqlite3.Connection, fresh: list[Chunk], vectors: list, stale: set[str]) -> None:
        """Add ``fresh`` chunks' vectors and delete ``stale`` ones; call inside ``records.transaction()``."""
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

    def reuse_vectors(self, known: KnownVectors) -> None:
        """Take the vectors of passages from ``known`` instead of the model, where it has them for this
        knowledge base's embedder (the bundled sample ships its vectors: :mod:`kb.known_vectors`)."""
        self._known_vectors = known

    def embed_chunks(self, chunks: list[Chunk], on_embedded: Callable[[int, int], None] | None) -> list:
        """One vector per chunk; a text repeated across chunks (boilerplate, a repeated clause) is
        embedded once, and a text whose vector is known (:meth:`reuse_vectors`) not at all.
        ``on_embedded(chunks, characters)`` reports progress after each model call."""
        texts = list(dict.fromkeys(c.index_text for c in chunks))
        vectors = self._known_vectors.lookup(self.embedder.model_id, texts)
        todo = [t for t in texts if t not in vectors]
        for start in range(0, len(todo), EMBED_BATCH):
            batch = todo[start : start + EMBED_BATCH]
            vectors.update(zip(batch, self.embedder.embed_passages(batch)))
            if on_embedded:
                on_embedded(len(batch), sum(map(len, batch)))
        if on_embedded and len(chunks) > len(todo):
            on_embedded(len(chunks) - len(todo), 0)
        return [vectors[c.index_text] for c in chunks]

    def log_file(self, path: str, status: str, detail: str = "") -> None:
        """Record an ingest event that stored nothing (an unchanged or a failed file)."""
        self.records.log_outside(path, status, detail)

    def refresh_keywords(self) -> None:
        """Rebuild the keyword index if the records changed since it was built."""
        generation = self.records.generation()
        if self.keywords.generation != generation:
            if self.tokens.sync():
                generation = self.records.generation()
            self.keywords.refresh(generation, lambda: (
                [(c.id, c.parent_id, tokens) for c, tokens in self.records.iter_chunks()],
                list(self.records.iter_parent_tokens())))

    def reindex(self, on_embedded: Callable[[int, int], None] | None = None) -> int:
        """Re-embed every chunk into the vector store, re-tokenise everything and rebuild the keyword
        index; returns the chunk count. Open with ``rebuild=True`` first when switching embedders.
        """
        chunks = [c for c, _ in self.records.iter_chunks()]
        with self.records.transaction() as conn:
            self.tokens.retokenize(conn)
            with self.writing_vectors(conn):
                self.vectors.reset()
        for start in range(0, len(chunks), 512):
            batch = chunks[start : start + 512]
            vectors = self.embed_chunks(batch, on_embedded)
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
        """The hits of :meth:`judged_search`, best first."""
        return [j.hit for j in self.judged_search(query, k, filters, mode, drafts, as_of).judged]

    def judged_search(self, query: str, k: int = 5, filters: Filters | None = None, mode: str = "hybrid",
                      drafts: bool = False, as_of: str = "") -> Verdict:
        """Search the knowledge base, with the deciding-word verdict (:mod:`kb.deciding`) on the hits.

        Only knowledge that applies on ``as_of`` is returned as current: a match on a superseded
        entry returns the entry that replaced it (with ``Hit.replaced`` saying what changed when),
        an expired entry comes back with ``Hit.expired_on`` set, rejected/merged/deleted entries
        and entries not yet in effect never come back.

        Args:
            query: the question, as typed (not pre-segmented). What it says it is not about (不是问年度认证)
                does not steer the search (:meth:`~kb.lexicon.Lexicon.affirmative`); the rules read it whole.
            k: how many distinct entries/documents to return (not chunks).
            filters: metadata filters (事项, 部门, kind, date range).
            mode: ``hybrid`` (default), ``dense`` or ``keyword``.
            drafts: also return entries awaiting review (``Hit.status == "draft"``).
            as_of: the day to judge currency on (ISO date), today by default.

        Returns:
            The verdict on up to ``k`` hits, best first, one per entry or document; the rules are
            applied to the first :data:`~kb.deciding.NEAR` hits even when ``k`` is smaller.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        as_of = as_of or date.today().isoformat()
        allowed = self._allowed(filters or Filters(), as_of, drafts)
        dense = keyword = None
        searched = self.tokens.lexicon.affirmative(query)
        if mode in ("hybrid", "dense"):
            self.refresh_vectors()
            dense = self.dense.search(self.embedder.embed_queries([self.tokens.annotated(searched)])[0], allowed)
        if mode in ("hybrid", "keyword"):
            self.refresh_keywords()
            keyword = self.keywords.search(self.tokens.of(searched), allowed)
        # superseded entries fold into their current version, so rank a few more than k
        ranked = fuse(dense, keyword, 2 * max(k, NEAR) + 5, self._entry_ids())
        hits = current_hits(self.records, ranked, max(k, NEAR), self.timeline(as_of))
        lexicon = self.tokens.lexicon
        if (answers := gives_asked(lexicon, query)) is not None:
            close = closeness(lexicon, query, self.tokens.units)
            hits = answering_first(answering_passages(self.records, hits, ranked, answers, figures(query), close),
                                   answers, close)
        shown = [hit_text(h) for h in hits[:NEAR]]
        if unnamed := [c for c in lexicon.concepts(query) if not any(lexicon.names(c, t) for t in shown)]:
            hits = naming_passages(self.records, hits, ranked,
                                   lambda text: sum(lexicon.names(c, text) for c in unnamed), len(unnamed), answers)
        verdict = judge(lexicon, query, hits, self.records.entry,
                        lambda doc_id: (d.text if (d := self.records.document(doc_id)) else ""))
        return replace(verdict, judged=verdict.judged[:k])

    def _entry_ids(self) -> frozenset[str]:
        generation = self.records.generation()
        if self._entries[0] != generation:
            self._entries = (generation, self.records.entry_ids())
        return self._entries[1]

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

    def term_weights(self, text: str) -> dict[str, tuple[str, float]]:
        """The units of ``text`` (lexicon concepts, then content words; see :meth:`Tokens.asked_units`) as
        ``token -> (surface, weight)``, the weight being the unit's IDF in this knowledge base: rare or
        unknown units weigh most.

        A word no entry or document uses is scaled by its rarity in everyday Chinese
        (:func:`kb.text.rarity`): the words of a citizen's story (爷爷, 深圳, 打工) are unknown to the
        knowledge base as much as a subject it lacks (邮费, 殡葬), but say far less about what the
        question asks; at full weight they made a right answer look uncovered. A character that
        jieba's guessing glues to its neighbours (:func:`kb.text.glued`: 望仙 in a street name) is a
        piece of a name, not an everyday word, and keeps its IDF.

        Only the units an answer must speak to count (:meth:`Tokens.asked_units`): not what the
        question says it is not about, nor the words of the story told before it asks."""
        self.refresh_keywords()
        weights, pieces = {}, glued(text)
        for token, surface in self.tokens.asked_units(text):
            weight = self.keywords.idf(token)
            if token not in pieces and not token.startswith(CONCEPT_PREFIX) and not self.keywords.found(token):
                weight *= rarity(token)
            weights[token] = (surface, weight)
        return weights

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


def _chunk_meta(chunk: Chunk) -> dict:
    """Chroma metadata: only what the chunk id fixes (filters use the records, which stay current)."""
    return {"kind": chunk.kind, "parent_id": chunk.parent_id}
