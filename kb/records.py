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
from datetime import datetime
from pathlib import Path

from .types import Chunk, Document, Entry, Filters

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id TEXT PRIMARY KEY, question TEXT NOT NULL, answer TEXT NOT NULL, item TEXT NOT NULL,
    department TEXT NOT NULL, tags TEXT NOT NULL, source TEXT NOT NULL, date TEXT NOT NULL,
    submitter TEXT NOT NULL, tokens TEXT NOT NULL, updated_at TEXT NOT NULL);
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
        self.conn.executescript(SCHEMA)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locked) transaction that also bumps the generation on commit."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
            self.conn.execute(
                "INSERT INTO meta(key, value) VALUES('generation', '1') ON CONFLICT(key) "
                "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
            )
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
        conn.execute(
            "INSERT INTO meta(key, value) VALUES('vectors', '1') ON CONFLICT(key) "
            "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )
        return int(conn.execute("SELECT value FROM meta WHERE key='vectors'").fetchone()[0])

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
    def put_entry(conn: sqlite3.Connection, e: Entry, tokens: str) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO entries VALUES(?,?,?,?,?,?,?,?,?,?,?)",
            (e.id, e.question, e.answer, e.item, e.department, json.dumps(list(e.tags), ensure_ascii=False),
             e.source, e.date, e.submitter, tokens, now()),
        )

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
        out = set()
        for cid in chunk_ids:
            if self.conn.execute("SELECT 1 FROM chunks WHERE id=?", (cid,)).fetchone():
                out.add(cid)
        return out

    def chunks(self, chunk_ids: Iterable[str]) -> dict[str, Chunk]:
        out = {}
        for cid in chunk_ids:
            row = self.conn.execute(f"SELECT id, {_PARENT_COLUMNS} FROM chunks WHERE id=?", (cid,)).fetchone()
            if row:
                out[cid] = _chunk(row)
        return out

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
        one = lambda sql: self.conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "entries": one("SELECT COUNT(*) FROM entries"),
            "documents": one("SELECT COUNT(*) FROM documents"),
            "chunks": one("SELECT COUNT(*) FROM chunks"),
            "files": one("SELECT COUNT(*) FROM files"),
        }

    def recent_log(self, limit: int = 10) -> list[dict]:
        rows = self.conn.execute("SELECT at, path, status, detail FROM ingest_log ORDER BY id DESC LIMIT ?", (limit,))
        return [dict(r) for r in rows]


def _chunk(row: sqlite3.Row) -> Chunk:
    return Chunk(row["id"], row["parent_id"], row["kind"], row["position"], row["text"], row["context"])


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(
        id=row["id"], question=row["question"], answer=row["answer"], item=row["item"],
        department=row["department"], tags=tuple(json.loads(row["tags"])), source=row["source"],
        date=row["date"], submitter=row["submitter"],
    )


def _document(row: sqlite3.Row) -> Document:
    return Document(
        id=row["id"], title=row["title"], text=row["text"], source=row["source"], date=row["date"],
        item=row["item"], department=row["department"],
    )
