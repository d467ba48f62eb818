"""The record store: SQLite, the source of truth.

Entries, documents, their chunks (with keyword tokens), the files they came from (with content
hashes) and the ingest history live here. The vector and keyword indexes are derived from this
database and can be rebuilt from it at any time. ``generation`` counts committed changes, so a
derived index can tell whether it is stale; the vector epoch counts writes to the vector store
(bumped in the same transaction), so a process can tell that another one changed the vectors.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields
from datetime import datetime
from pathlib import Path

from .asklog import SCHEMA as ASKLOG_SCHEMA
from .audit import SCHEMA as AUDIT_SCHEMA
from .lexicon import SCHEMA as LEXICON_SCHEMA
from .types import Chunk, Document, Entry, EntryState, Filters

RECORDS_FILE = "records.sqlite3"
"""The record store's file name inside a data directory."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id TEXT PRIMARY KEY, question TEXT NOT NULL, answer TEXT NOT NULL, item TEXT NOT NULL,
    department TEXT NOT NULL, tags TEXT NOT NULL, source TEXT NOT NULL, date TEXT NOT NULL,
    submitter TEXT NOT NULL, tokens TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entry_versions (
    entry_id TEXT NOT NULL, version INTEGER NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, content TEXT NOT NULL, PRIMARY KEY (entry_id, version));
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, source TEXT NOT NULL,
    date TEXT NOT NULL, item TEXT NOT NULL, department TEXT NOT NULL, tokens TEXT NOT NULL,
    updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, parent_id TEXT NOT NULL, kind TEXT NOT NULL, position INTEGER NOT NULL,
    text TEXT NOT NULL, context TEXT NOT NULL, tokens TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_parent ON chunks(parent_id);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, hash TEXT NOT NULL, items INTEGER NOT NULL, ingested_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS file_parents (
    path TEXT NOT NULL, parent_id TEXT NOT NULL, PRIMARY KEY (path, parent_id));
CREATE INDEX IF NOT EXISTS file_parents_parent ON file_parents(parent_id);
CREATE TABLE IF NOT EXISTS ingest_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, path TEXT NOT NULL,
    status TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_PARENT_COLUMNS = "parent_id, kind, position, text, context, tokens"
CONTENT_FIELDS = ("counter", "basis", "alt_questions", "effective_from", "expire_on", "supersedes")
STATE_FIELDS = tuple(f.name for f in fields(EntryState))
_ENTRY_COLUMNS = {**dict.fromkeys(CONTENT_FIELDS, "''"), **dict.fromkeys(STATE_FIELDS, "''"),
                  "alt_questions": "'[]'", "status": "'published'", "version": "1", "origin": "'import'"}


def now() -> str:
    return datetime.now().isoformat(timespec="seconds")


class Records:
    """SQLite access. One connection per instance; writes go through :meth:`transaction`."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.executescript(SCHEMA + AUDIT_SCHEMA + LEXICON_SCHEMA + ASKLOG_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Add the lifecycle columns to an ``entries`` table created by an older version."""
        have = {r["name"] for r in self.conn.execute("PRAGMA table_info(entries)")}
        for column, default in _ENTRY_COLUMNS.items():
            if column not in have:
                self.conn.execute(f"ALTER TABLE entries ADD COLUMN {column} NOT NULL DEFAULT {default}")

    def close(self) -> None:
        self.conn.close()

    def backup(self, path: Path) -> None:
        """Write a consistent copy of the whole database to ``path`` (writers may go on meanwhile);
        raises :class:`~kb.errors.KBError` naming ``path`` when it cannot (see :func:`kb.backups.write`)."""
        from .backups import write

        write(self.conn, Path(path))

    @contextmanager
    def transaction(self, changes_index: bool = True) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locked) transaction. Unless ``changes_index`` is false (account
        changes, id allocation), it bumps the generation, so derived indexes know they are stale."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
            if changes_index:
                _bump(self.conn, "generation")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def generation(self) -> int:
        return self._counter("generation")

    def vector_epoch(self) -> int:
        """How many committed transactions wrote to the vector store."""
        return self._counter("vectors")

    def bump_vector_epoch(self, conn: sqlite3.Connection) -> int:
        """Count a vector write in the current transaction; returns the new epoch."""
        return _bump(conn, "vectors")

    def _counter(self, key: str) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return int(row[0]) if row else 0

    # -- files -----------------------------------------------------------------------------

    def file_hash(self, path: str) -> str | None:
        row = self.conn.execute("SELECT hash FROM files WHERE path=?", (path,)).fetchone()
        return row[0] if row else None

    def parents_of_file(self, path: str) -> set[str]:
        rows = self.conn.execute("SELECT parent_id FROM file_parents WHERE path=?", (path,))
        return {r[0] for r in rows}

    def files_of(self, parent_id: str) -> list[str]:
        """The ingested files that contain ``parent_id``."""
        return [r[0] for r in self.conn.execute("SELECT path FROM file_parents WHERE parent_id=?", (parent_id,))]

    def log(self, conn: sqlite3.Connection, path: str, status: str, detail: str = "") -> None:
        conn.execute(
            "INSERT INTO ingest_log(at, path, status, detail) VALUES(?,?,?,?)", (now(), path, status, detail)
        )

    def log_outside(self, path: str, status: str, detail: str = "") -> None:
        """Record an ingest event that changed nothing (failure, unchanged file)."""
        self.log(self.conn, path, status, detail)

    # -- writes (inside a transaction) -------------------------------------------------------

    @staticmethod
    def put_entry(conn: sqlite3.Connection, e: Entry, tokens: str, state: EntryState) -> None:
        """Insert or replace an entry with its lifecycle state."""
        row = {
            "id": e.id, "question": e.question, "answer": e.answer, "item": e.item, "department": e.department,
            "tags": json.dumps(list(e.tags), ensure_ascii=False), "source": e.source, "date": e.date,
            "submitter": e.submitter, "tokens": tokens, "updated_at": now(),
            **{f: getattr(e, f) for f in CONTENT_FIELDS},
            "alt_questions": json.dumps(list(e.alt_questions), ensure_ascii=False),
            **asdict(state),
        }
        conn.execute(
            f"INSERT OR REPLACE INTO entries({', '.join(row)}) VALUES({', '.join('?' * len(row))})",
            tuple(row.values()),
        )

    @staticmethod
    def set_state(conn: sqlite3.Connection, entry_id: str, state: EntryState) -> None:
        values = asdict(state)
        conn.execute(f"UPDATE entries SET {', '.join(f'{k}=?' for k in values)} WHERE id=?",
                     (*values.values(), entry_id))

    @staticmethod
    def add_version(conn: sqlite3.Connection, entry: Entry, version: int, actor: str, action: str) -> None:
        """Keep a snapshot of an entry's content as ``version`` (the full history behind `kb history`)."""
        conn.execute(
            "INSERT OR REPLACE INTO entry_versions VALUES(?,?,?,?,?,?)",
            (entry.id, version, now(), actor, action, json.dumps(entry_dict(entry), ensure_ascii=False)),
        )

    @staticmethod
    def next_case_id(conn: sqlite3.Connection) -> str:
        """Allocate the next case id (K00001, K00002 …); call inside a transaction."""
        return f"K{_bump(conn, 'next_case'):05d}"

    @staticmethod
    def put_document(conn: sqlite3.Connection, d: Document, tokens: str) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO documents VALUES(?,?,?,?,?,?,?,?,?)",
            (d.id, d.title, d.text, d.source, d.date, d.item, d.department, tokens, now()),
        )

    @staticmethod
    def put_chunks(conn: sqlite3.Connection, chunks: Iterable[Chunk], tokens: dict[str, str]) -> None:
        conn.executemany(
            "INSERT OR REPLACE INTO chunks VALUES(?,?,?,?,?,?,?)",
            [(c.id, c.parent_id, c.kind, c.position, c.text, c.context, tokens[c.id]) for c in chunks],
        )

    @staticmethod
    def set_tokens(conn: sqlite3.Connection, chunk_tokens: dict[str, str], parent_tokens: dict[str, str]) -> None:
        """Replace the stored keyword tokens (after a change of tokenizer)."""
        conn.executemany("UPDATE chunks SET tokens=? WHERE id=?", [(t, c) for c, t in chunk_tokens.items()])
        for table in ("entries", "documents"):
            conn.executemany(f"UPDATE {table} SET tokens=? WHERE id=?", [(t, p) for p, t in parent_tokens.items()])

    @staticmethod
    def delete_parents(conn: sqlite3.Connection, parent_ids: Iterable[str]) -> None:
        ids = [(p,) for p in parent_ids]
        conn.executemany("DELETE FROM entries WHERE id=?", ids)
        conn.executemany("DELETE FROM documents WHERE id=?", ids)
        conn.executemany("DELETE FROM chunks WHERE parent_id=?", ids)

    @staticmethod
    def delete_chunks(conn: sqlite3.Connection, chunk_ids: Iterable[str]) -> None:
        conn.executemany("DELETE FROM chunks WHERE id=?", [(c,) for c in chunk_ids])

    @staticmethod
    def hold(conn: sqlite3.Connection, path: str, parent_ids: Iterable[str]) -> None:
        """Tie entries/documents to a file whose import is under way (its hash is not recorded yet), so
        that a later import of the file settles them even if this one is interrupted."""
        conn.executemany("INSERT OR IGNORE INTO file_parents VALUES(?,?)", [(path, p) for p in parent_ids])

    @staticmethod
    def set_file(conn: sqlite3.Connection, path: str, file_hash: str, parent_ids: set[str]) -> None:
        """Record the file's hash and exactly which entries/documents it holds."""
        conn.execute("INSERT OR REPLACE INTO files VALUES(?,?,?,?)", (path, file_hash, len(parent_ids), now()))
        conn.execute("DELETE FROM file_parents WHERE path=?", (path,))
        conn.executemany("INSERT INTO file_parents VALUES(?,?)", [(path, p) for p in sorted(parent_ids)])

    # -- reads -----------------------------------------------------------------------------

    def chunk_ids_of(self, parent_ids: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for p in parent_ids:
            out.update(r[0] for r in self.conn.execute("SELECT id FROM chunks WHERE parent_id=?", (p,)))
        return out

    def existing_chunk_ids(self, chunk_ids: Iterable[str]) -> set[str]:
        return {cid for cid in chunk_ids if self.conn.execute("SELECT 1 FROM chunks WHERE id=?", (cid,)).fetchone()}

    def chunks(self, chunk_ids: Iterable[str]) -> dict[str, Chunk]:
        """The chunks with these ids that exist, in the order given."""
        rows = (self.conn.execute(f"SELECT id, {_PARENT_COLUMNS} FROM chunks WHERE id=?", (cid,)).fetchone()
                for cid in chunk_ids)
        return {row["id"]: _chunk(row) for row in rows if row}

    def chunks_mentioning(self, parent_id: str, needles: tuple[str, ...]) -> list[Chunk]:
        """The chunks of ``parent_id`` whose text contains every one of ``needles``, in document order."""
        where = "".join(" AND instr(text, ?) > 0" for _ in needles)
        rows = self.conn.execute(f"SELECT id, {_PARENT_COLUMNS} FROM chunks WHERE parent_id=?{where} ORDER BY position",
                                 (parent_id, *needles))
        return [_chunk(row) for row in rows]

    def chunk_of(self, parent_id: str, position: int) -> Chunk | None:
        row = self.conn.execute(f"SELECT id, {_PARENT_COLUMNS} FROM chunks WHERE parent_id=? AND position=?",
                                (parent_id, position)).fetchone()
        return _chunk(row) if row else None

    def iter_parent_tokens(self) -> Iterator[tuple[str, str]]:
        """``(parent id, space-joined keyword tokens)`` of every entry and document, in a stable order."""
        yield from self.conn.execute(
            "SELECT id, tokens FROM entries UNION ALL SELECT id, tokens FROM documents ORDER BY 1"
        )

    def chunk_parents(self) -> list[tuple[str, str]]:
        """``(chunk id, parent id)`` of every chunk, in the order of :meth:`iter_chunks`."""
        return [tuple(r) for r in self.conn.execute("SELECT id, parent_id FROM chunks ORDER BY parent_id, position")]

    def iter_chunks(self) -> Iterator[tuple[Chunk, str]]:
        """Every chunk with its space-joined keyword tokens, in a stable order."""
        for row in self.conn.execute(f"SELECT id, {_PARENT_COLUMNS} FROM chunks ORDER BY parent_id, position"):
            yield _chunk(row), row["tokens"]

    def entry(self, entry_id: str) -> Entry | None:
        row = self.conn.execute("SELECT * FROM entries WHERE id=?", (entry_id,)).fetchone()
        return _entry(row) if row else None

    def state(self, entry_id: str) -> EntryState | None:
        row = self.conn.execute("SELECT * FROM entries WHERE id=?", (entry_id,)).fetchone()
        return _state(row) if row else None

    def versions(self, entry_id: str) -> list[dict]:
        """Every stored version of an entry, oldest first: version, at, actor, action, content."""
        rows = self.conn.execute("SELECT * FROM entry_versions WHERE entry_id=? ORDER BY version", (entry_id,))
        return [{**dict(r), "content": json.loads(r["content"])} for r in rows]

    def entries_where(self, sql: str, args: tuple = ()) -> list[tuple[Entry, EntryState]]:
        """Entries (with state) matching a WHERE clause over the entries table, by date then id."""
        rows = self.conn.execute(f"SELECT * FROM entries WHERE {sql} ORDER BY date, id", args)
        return [(_entry(r), _state(r)) for r in rows]

    def visible_parents(self, as_of: str, drafts: bool) -> set[str]:
        """Documents plus the entries search may return on ``as_of``: published ones already in effect
        (superseded and expired ones included, so a match on an old 口径 can lead to the current one),
        and drafts when asked for."""
        statuses = ("published", "draft") if drafts else ("published",)
        rows = self.conn.execute(
            f"SELECT id FROM entries WHERE status IN ({','.join('?' * len(statuses))}) "
            "AND (status = 'draft' OR effective_from = '' OR effective_from <= ?) UNION ALL SELECT id FROM documents",
            (*statuses, as_of),
        )
        return {r[0] for r in rows}

    def entry_ids(self) -> frozenset[str]:
        """The ids of every entry (in any state)."""
        return frozenset(r[0] for r in self.conn.execute("SELECT id FROM entries"))

    def supersessions(self) -> list[tuple[str, str, str]]:
        """``(new id, old id, effective from)`` for every published entry that supersedes another."""
        return [tuple(r) for r in self.conn.execute(
            "SELECT id, supersedes, effective_from FROM entries WHERE status='published' AND supersedes != ''")]

    def document(self, doc_id: str) -> Document | None:
        row = self.conn.execute("SELECT * FROM documents WHERE id=?", (doc_id,)).fetchone()
        return _document(row) if row else None

    def iter_entries(self) -> Iterator[Entry]:
        for row in self.conn.execute("SELECT * FROM entries ORDER BY date, id"):
            yield _entry(row)

    def iter_documents(self) -> Iterator[Document]:
        for row in self.conn.execute("SELECT * FROM documents ORDER BY date, id"):
            yield _document(row)

    def matching_parents(self, filters: Filters) -> set[str]:
        """Ids of the entries and documents that satisfy ``filters``."""
        clauses, args = [], []
        for column, value in (("item", filters.item), ("department", filters.department)):
            if value:
                clauses.append(f"{column} = ?")
                args.append(value)
        if filters.date_from:
            clauses.append("date != '' AND date >= ?")
            args.append(filters.date_from)
        if filters.date_to:
            clauses.append("date != '' AND date <= ?")
            args.append(filters.date_to)
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        tables = [t for k, t in (("entry", "entries"), ("document", "documents")) if filters.kind in (None, k)]
        out: set[str] = set()
        for table in tables:
            out.update(r[0] for r in self.conn.execute(f"SELECT id FROM {table}{where}", args))
        return out

    def counts(self) -> dict[str, int]:
        one = lambda sql: self.conn.execute(sql).fetchone()[0]
        return {
            "entries": one("SELECT COUNT(*) FROM entries"),
            "documents": one("SELECT COUNT(*) FROM documents"),
            "chunks": one("SELECT COUNT(*) FROM chunks"),
            "files": one("SELECT COUNT(*) FROM files"),
        }

    def recent_log(self, limit: int = 10) -> list[dict]:
        rows = self.conn.execute("SELECT at, path, status, detail FROM ingest_log ORDER BY id DESC LIMIT ?", (limit,))
        return [dict(r) for r in rows]


def _bump(conn: sqlite3.Connection, key: str) -> int:
    """Increment the counter ``key`` in ``meta`` (from 0) inside the current transaction; returns its new value."""
    conn.execute("INSERT INTO meta(key, value) VALUES(?, '1') ON CONFLICT(key) "
                 "DO UPDATE SET value = CAST(value AS INTEGER) + 1", (key,))
    return int(conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()[0])


def _chunk(row: sqlite3.Row) -> Chunk:
    return Chunk(row["id"], row["parent_id"], row["kind"], row["position"], row["text"], row["context"])


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(
        id=row["id"], question=row["question"], answer=row["answer"], item=row["item"],
        department=row["department"], tags=tuple(json.loads(row["tags"])), source=row["source"],
        date=row["date"], submitter=row["submitter"], counter=row["counter"], basis=row["basis"],
        alt_questions=tuple(json.loads(row["alt_questions"])), effective_from=row["effective_from"],
        expire_on=row["expire_on"], supersedes=row["supersedes"],
    )


def _state(row: sqlite3.Row) -> EntryState:
    return EntryState(**{f: row[f] for f in STATE_FIELDS})


def entry_dict(entry: Entry) -> dict:
    """An entry as a JSON-ready dict (lists for tuples)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(entry).items()}


def entry_from_dict(data: dict) -> Entry:
    """The inverse of :func:`entry_dict`; unknown keys are ignored."""
    known = {f.name for f in fields(Entry)}
    return Entry(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known})


def _document(row: sqlite3.Row) -> Document:
    return Document(
        id=row["id"], title=row["title"], text=row["text"], source=row["source"], date=row["date"],
        item=row["item"], department=row["department"],
    )
