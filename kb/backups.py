"""Backups of the record store, and restoring one into a live knowledge base.

A backup is the whole SQLite record store (entries with their history, documents, chunks, the audit
trail, accounts, the lexicon), written by :meth:`kb.records.Records.backup` (``kb backup``). The
vector and keyword indexes are not in it: they are derived from the records and rebuilt after a
restore (:meth:`kb.base.KnowledgeBase.reindex`).

:func:`restore` checks the file first (:func:`check_backup`: an SQLite database with the record
store's tables, not damaged), so a wrong file changes nothing. It then writes a safety backup of the
current records, copies the backup into the live database with SQLite's backup API (other
connections, such as a web server's, see the old or the new records, never a mixture) and sets the
``generation`` and vector-epoch counters above both the old and the restored values, so every open
knowledge base sees its derived indexes as stale and refreshes them.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import audit
from .errors import KBError, os_reason
from .records import SCHEMA, Records
from .users import User, authorize

HEADER = b"SQLite format 3\x00"
TABLES = frozenset(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", SCHEMA))
"""The tables every record store has (those of :data:`kb.records.SCHEMA`)."""
SAFETY_FOLDER = "backups"
"""Where :func:`restore` keeps the safety backups, inside the data directory."""
_COUNTERS = ("generation", "vectors")
_FIX = "请选择 `kb backup` 或网页“备份下载”得到的 .sqlite3 备份文件。"


class InvalidBackup(KBError):
    """A file given as a backup is not a readable record store; nothing was changed."""

    def __init__(self, path: Path | str, problem: str):
        """``problem`` says what is wrong with the file, in Chinese."""
        super().__init__(f"“{Path(path).name}”不能用来恢复：{problem}。知识库没有任何改动。{_FIX}")
        self.path = str(path)


@dataclass(frozen=True)
class BackupSummary:
    """What a backup holds: counts of entries, documents, chunks and accounts."""

    entries: int
    documents: int
    chunks: int
    accounts: int

    def describe(self) -> str:
        """The counts in Chinese: ``条目 3 条，文档 1 份，分块 5 个，账号 2 个``."""
        return f"条目 {self.entries} 条，文档 {self.documents} 份，分块 {self.chunks} 个，账号 {self.accounts} 个"


@dataclass(frozen=True)
class Restored:
    """A finished restore: the safety backup of the records it replaced, and what it restored."""

    safety: Path
    summary: BackupSummary


def check_backup(path: Path) -> BackupSummary:
    """What the backup at ``path`` holds; :class:`InvalidBackup` (naming the file and the fix) when it
    is missing, not an SQLite database, damaged, or lacks the record store's tables."""
    try:
        with open(path, "rb") as file:
            header = file.read(len(HEADER))
    except OSError as error:
        raise InvalidBackup(path, f"无法读取文件（{os_reason(error)}）") from None
    if header != HEADER:
        raise InvalidBackup(path, "这不是 SQLite 数据库文件")
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise InvalidBackup(path, f"无法打开（{error}）") from None
    try:
        if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise InvalidBackup(path, "数据库已损坏")
        have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        missing = sorted(TABLES - have)
        if missing:
            raise InvalidBackup(path, f"这不是知识库的记录库（缺少数据表 {'、'.join(missing)}）")
        count = lambda table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: E731
        return BackupSummary(count("entries"), count("documents"), count("chunks"),
                             count("users") if "users" in have else 0)
    except sqlite3.DatabaseError as error:
        raise InvalidBackup(path, f"数据库无法读取（{error}）") from None
    finally:
        conn.close()


def write(conn: sqlite3.Connection, path: Path) -> None:
    """Copy the database of ``conn`` to ``path`` with SQLite's backup API (``Records.backup``).

    Raises :class:`KBError` naming ``path`` when it is that database itself, an existing file that
    is not an SQLite database (left as it was), or cannot be written.
    """
    live = Path(conn.execute("PRAGMA database_list").fetchone()[2])
    if path.resolve() == live.resolve():
        raise KBError(f"“{path}”是知识库正在使用的记录库，不能备份到它自己：请另选数据目录以外的文件名，"
                      "如 知识库备份-20261130.sqlite3。")
    try:
        target = sqlite3.connect(path)
        try:
            conn.backup(target)
        finally:
            target.close()
    except sqlite3.OperationalError as error:
        raise KBError(f"无法写入备份文件“{path}”（{error}）：请检查所在文件夹是否存在、是否有写入权限，"
                      "或换一个文件名。") from None
    except sqlite3.DatabaseError:
        raise KBError(f"“{path}”已存在且不是 SQLite 数据库，备份没有覆盖它：请换一个文件名，"
                      "如 知识库备份-20261130.sqlite3。") from None


def safety_backup(records: Records, folder: Path) -> Path:
    """Back up ``records`` into ``folder`` as ``恢复前备份-<date>-<time>.sqlite3``; returns the file."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    path = folder / f"恢复前备份-{stamp}.sqlite3"
    records.backup(path)
    return path


def restore(records: Records, source: Path, actor: User) -> Restored:
    """Replace every record of ``records`` (a live store, other connections may have it open) with
    the backup ``source``, after checking it and writing a safety backup of the current records into
    ``<data dir>/backups``. The restored store records a ``restore_backup`` audit event. The indexes
    must then be rebuilt (:meth:`kb.base.KnowledgeBase.reindex`).

    Raises :class:`InvalidBackup` (nothing changed) for a wrong file, and
    :class:`~kb.errors.PermissionDenied` unless ``actor`` holds ``import``.
    """
    actor = authorize(records, actor, "import")
    summary = check_backup(source)
    live = Path(records.conn.execute("PRAGMA database_list").fetchone()[2])
    safety = safety_backup(records, live.parent / SAFETY_FOLDER)
    staging = live.with_name(live.name + ".restoring")
    try:
        _stage(source, staging, records.conn.execute("PRAGMA page_size").fetchone()[0])
        before = {key: _counter(records.conn, key) for key in _COUNTERS}
        incoming = sqlite3.connect(staging)
        target = sqlite3.connect(live, timeout=30)
        try:
            incoming.backup(target)
        finally:
            incoming.close()
            target.close()
    finally:
        staging.unlink(missing_ok=True)
    Records(live).close()  # brings an older backup's schema up to date
    with records.transaction() as conn:
        for key in _COUNTERS:
            value = max(before[key], _counter(conn, key)) + 1
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", (key, str(value)))
        audit.record(conn, actor.username, "restore_backup", "records",
                     after={"file": source.name, "safety_backup": safety.name, "restored": summary.describe()})
    return Restored(safety, summary)


def _stage(source: Path, staging: Path, page_size: int) -> None:
    """Copy ``source`` to ``staging`` with the live store's page size (the backup API cannot change
    the page size of a database in WAL mode)."""
    staging.unlink(missing_ok=True)
    reading = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    copy = sqlite3.connect(staging, isolation_level=None)
    try:
        reading.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
        if copy.execute("PRAGMA page_size").fetchone()[0] != page_size:
            copy.execute(f"PRAGMA page_size={int(page_size)}")
            copy.execute("VACUUM")
    finally:
        reading.close()
        copy.close()


def _counter(conn: sqlite3.Connection, key: str) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    return int(row[0]) if row else 0
