"""Browsing the knowledge base: entries and documents listed page by page with filters, one entry or
document in full, and the 事项/部门 values on offer.

An entry is listed under its *standing* (:data:`STANDINGS`): its review status, and for a published
entry whether it applies today (现行), is replaced by a published successor already in effect (已被
替代), is past its 失效日期 (已失效) or is not in effect yet (未生效) — the same rules as
:mod:`kb.lifecycle`. Documents are always 已发布. Readers without the ``drafts`` permission see
published entries (in any standing) and documents only; the caller decides that with ``drafts``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from .errors import KBError
from .records import Records
from .types import STATUSES, Chunk, Document, Entry, EntryState, Filters

PAGE_SIZE = 20
MAX_PAGE_SIZE = 200
STANDINGS: dict[str, str] = {
    "published": "已发布（现行）",
    "upcoming": "已发布（未生效）",
    "superseded": "已发布（已被替代）",
    "expired": "已发布（已失效）",
    **{key: label for key, label in STATUSES.items() if key != "published"},
}
"""Standing -> its Chinese label: the four standings of a published entry, then the other statuses."""
PUBLISHED_STANDINGS = ("published", "upcoming", "superseded", "expired")
"""The standings every reader may see (those of published entries; documents are ``published``)."""
LIVE = ("published", "draft")
"""The stored statuses whose entries offer their 事项 and 部门 (:meth:`Catalog.facets`)."""

_STANDING = """CASE
    WHEN e.status != 'published' THEN e.status
    WHEN EXISTS (SELECT 1 FROM entries n WHERE n.supersedes = e.id AND n.status = 'published'
                 AND (n.effective_from = '' OR n.effective_from <= :today)) THEN 'superseded'
    WHEN e.expire_on != '' AND e.expire_on < :today THEN 'expired'
    WHEN e.effective_from != '' AND e.effective_from > :today THEN 'upcoming'
    ELSE 'published' END"""
_LISTED = f"""
SELECT 'entry' AS kind, e.id, e.question AS title, e.item, e.department, e.date, {_STANDING} AS standing,
       e.status AS stored, e.version, e.source,
       e.id || ' ' || e.question || ' ' || e.answer || ' ' || e.alt_questions AS body
FROM entries e
UNION ALL
SELECT 'document', d.id, d.title, d.item, d.department, d.date, 'published', 'published', 0, d.source,
       d.id || ' ' || d.title || ' ' || d.text
FROM documents d"""


class BrowseError(KBError):
    """A browse request names a standing, an entry or a document that does not exist (or may not be seen)."""


@dataclass(frozen=True)
class Listed:
    """One row of a listing: an entry (``title`` is its question) or a document, with its standing."""

    kind: str
    id: str
    title: str
    item: str
    department: str
    date: str
    standing: str
    version: int
    source: str

    @property
    def standing_label(self) -> str:
        """The standing in Chinese; a document is simply 已发布."""
        if self.kind == "document":
            return STATUSES["published"]
        return STANDINGS.get(self.standing, self.standing)


@dataclass(frozen=True)
class Listing:
    """One page of a listing: ``page`` counts from 1 of ``pages`` (at least 1); ``total`` counts every
    matching entry and document, not only this page's ``rows``."""

    rows: list[Listed]
    page: int
    pages: int
    total: int
    page_size: int


@dataclass(frozen=True)
class Facets:
    """The distinct 事项 and 部门 values of the live entries and the documents, sorted."""

    items: list[str]
    departments: list[str]


@dataclass(frozen=True)
class EntryView:
    """An entry with its review state and its standing today."""

    entry: Entry
    state: EntryState
    standing: str

    @property
    def standing_label(self) -> str:
        return STANDINGS.get(self.standing, self.standing)


@dataclass(frozen=True)
class DocumentView:
    """A document, the ingested files it came from (absolute paths) and its passages in order."""

    document: Document
    files: list[str]
    passages: list[Chunk]


class Catalog:
    """Browsing queries over one record store, judged on ``as_of`` (ISO date, today by default)."""

    def __init__(self, records: Records, as_of: str = ""):
        self.records = records
        self.as_of = as_of or date.today().isoformat()

    def list(self, text: str = "", filters: Filters | None = None, standing: str = "", drafts: bool = False,
             page: int = 1, page_size: int = PAGE_SIZE) -> Listing:
        """Entries and documents matching every given filter, newest date first (undated last).

        Args:
            text: words that must all occur (anywhere, as typed) in the id, question, answer, other
                wordings of an entry, or the id, title or text of a document; empty matches all.
            filters: 事项, 部门 (exact), kind (``entry``/``document``) and an inclusive date range.
            standing: a key of :data:`STANDINGS`, or empty for any; a document is ``published``.
            drafts: also list entries that are not published (drafts, rejected, merged, deleted):
                only for readers holding the ``drafts`` permission.
            page: the page wanted, from 1; past the last page gives the last page.
            page_size: rows per page, 1 to :data:`MAX_PAGE_SIZE`.
        """
        if standing and standing not in STANDINGS:
            raise BrowseError(f"状态“{standing}”不存在，可选：{'、'.join(f'{k}（{v}）' for k, v in STANDINGS.items())}。")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise BrowseError(f"每页条数应在 1 到 {MAX_PAGE_SIZE} 之间，现在是 {page_size}。")
        where, args = _where(text, filters or Filters(), standing, drafts)
        args["today"] = self.as_of
        sql = f"FROM ({_LISTED}) {where}"
        total = self.records.conn.execute(f"SELECT COUNT(*) {sql}", args).fetchone()[0]
        pages = max(1, math.ceil(total / page_size))
        page = min(max(1, page), pages)
        rows = self.records.conn.execute(
            f"SELECT kind, id, title, item, department, date, standing, version, source {sql} "
            "ORDER BY date DESC, kind DESC, id LIMIT :limit OFFSET :offset",
            {**args, "limit": page_size, "offset": (page - 1) * page_size})
        return Listing([Listed(*row) for row in rows], page, pages, total, page_size)

    def entry(self, entry_id: str, drafts: bool = False) -> EntryView:
        """The entry ``entry_id`` with its state and standing; one that is not published is found only
        with ``drafts`` (for a reader without it, it does not exist)."""
        state = self.records.state(entry_id)
        if state is None or (state.status != "published" and not drafts):
            raise BrowseError(f"没有编号为 {entry_id} 的条目，请在知识库列表中查找编号。")
        row = self.records.conn.execute(f"SELECT {_STANDING} FROM entries e WHERE e.id = :id",
                                        {"id": entry_id, "today": self.as_of}).fetchone()
        return EntryView(self.records.entry(entry_id), state, row[0])

    def document(self, doc_id: str) -> DocumentView:
        """The document ``doc_id``, the files it came from and its passages (chunks) in order."""
        document = self.records.document(doc_id)
        if document is None:
            raise BrowseError(f"没有编号为 {doc_id} 的文档，请在知识库列表中查找编号。")
        rows = self.records.conn.execute(
            "SELECT id, parent_id, kind, position, text, context FROM chunks WHERE parent_id = ? ORDER BY position",
            (doc_id,))
        return DocumentView(document, sorted(self.records.files_of(doc_id)), [Chunk(*row) for row in rows])

    def facets(self) -> Facets:
        """The 事项 and 部门 values of the live (published or pending) entries and of the documents."""
        live = ",".join(f"'{status}'" for status in LIVE)
        sql = (f"SELECT {{0}} FROM entries WHERE {{0}} != '' AND status IN ({live}) "
               "UNION SELECT {0} FROM documents WHERE {0} != '' ORDER BY 1")
        conn = self.records.conn
        items, departments = ([r[0] for r in conn.execute(sql.format(column))] for column in ("item", "department"))
        return Facets(items, departments)


def _where(text: str, filters: Filters, standing: str, drafts: bool) -> tuple[str, dict]:
    clauses, args = [], {}
    if not drafts:
        clauses.append("stored = 'published'")
    for n, word in enumerate(text.split()):
        clauses.append(f"body LIKE :word{n} ESCAPE '\\'")
        args[f"word{n}"] = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    for column in ("item", "department", "kind", "standing"):
        value = standing if column == "standing" else getattr(filters, column)
        if value:
            clauses.append(f"{column} = :{column}")
            args[column] = value
    if filters.date_from:
        clauses.append("date != '' AND date >= :date_from")
        args["date_from"] = filters.date_from
    if filters.date_to:
        clauses.append("date != '' AND date <= :date_to")
        args["date_to"] = filters.date_to
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", args
