"""Core records of the knowledge base. Plain dataclasses, no third-party imports.

Two kinds of knowledge live in the base:

* an :class:`Entry` is a question/case with its answer (a FAQ pair or a solved counter case);
  it is indexed whole and its question is also indexed on its own;
* a :class:`Document` is a long text (a 业务口径 notice, a 办事指南) that is split into chunks.

Both are cut into :class:`Chunk` objects, the unit of the vector and keyword indexes.
Search returns :class:`Hit` objects, one per entry or document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["entry", "document"]
KINDS: tuple[Kind, ...] = ("entry", "document")


@dataclass(frozen=True)
class Entry:
    """A question/case and its answer.

    ``date`` is an ISO date (``YYYY-MM-DD``) or empty; ``item`` is the 事项 (service item) and
    ``department`` the approving 部门. A solved counter case also records the ``counter`` (窗口/组)
    and the ``basis`` (依据: a document name/number, or who gave the guidance).

    The 口径 lifecycle fields: ``effective_from``/``expire_on`` (ISO dates, empty = unbounded; the
    entry applies from ``effective_from`` through ``expire_on``, its last valid day, inclusive, and no
    longer from the day after; ``expire_on`` may equal but not precede ``effective_from``) and
    ``supersedes``, the id of
    the entry this one replaces from its ``effective_from`` date. ``alt_questions`` are other
    wordings of the question (folded in when a duplicate submission is merged).
    """

    id: str
    question: str
    answer: str
    item: str = ""
    department: str = ""
    tags: tuple[str, ...] = ()
    source: str = ""
    date: str = ""
    submitter: str = ""
    counter: str = ""
    basis: str = ""
    alt_questions: tuple[str, ...] = ()
    effective_from: str = ""
    expire_on: str = ""
    supersedes: str = ""

    @property
    def questions(self) -> tuple[str, ...]:
        """The question and every alternative wording merged into it."""
        return (self.question, *self.alt_questions)


STATUSES: dict[str, str] = {
    "draft": "待审核",
    "published": "已发布",
    "rejected": "已退回",
    "merged": "已合并",
    "deleted": "已删除",
}


@dataclass(frozen=True)
class EntryState:
    """Where an entry stands in review and publication (not part of its content).

    ``status`` is a key of :data:`STATUSES`. ``version`` counts content changes from 1.
    ``origin`` is ``submit`` (a counter case), ``import`` (an admin bulk import, published
    directly) or ``revision`` (a draft that changes the published entry ``revises``).
    ``duplicate_of`` flags a draft as a possible duplicate of that published entry.
    ``rivals`` flags a draft that supersedes an entry which already had another successor when it
    was submitted: the ids (comma-separated) of those pending drafts or published entries not yet
    in effect (the reviewer must confirm before publishing a second successor).
    Times are ISO timestamps; ``published_at`` is when the current version was published.
    """

    status: str = "published"
    version: int = 1
    origin: str = "import"
    revises: str = ""
    duplicate_of: str = ""
    created_by: str = ""
    created_at: str = ""
    reviewed_by: str = ""
    reviewed_at: str = ""
    published_at: str = ""
    note: str = ""
    rivals: str = ""


@dataclass(frozen=True)
class Replacement:
    """An old 口径 that a newer entry replaces from ``changed_on`` (ISO date)."""

    old_id: str
    old_question: str
    new_id: str
    changed_on: str


@dataclass(frozen=True)
class Document:
    """A guidance document (业务口径 notice, 办事指南) that is searched by chunks."""

    id: str
    title: str
    text: str
    source: str = ""
    date: str = ""
    item: str = ""
    department: str = ""


@dataclass(frozen=True)
class Chunk:
    """One indexed piece of an entry or a document.

    ``text`` is what is shown to the user; ``context`` is prepended to it for indexing only
    (the document title, so that a chunk deep in a notice still knows what it is about).
    ``position`` counts from 0 within the parent.
    """

    id: str
    parent_id: str
    kind: Kind
    position: int
    text: str
    context: str = ""

    @property
    def index_text(self) -> str:
        """The text that is embedded and keyword-indexed."""
        return f"{self.context}\n{self.text}" if self.context else self.text


@dataclass(frozen=True)
class Filters:
    """Metadata filters for search. Empty fields do not filter.

    ``date_from``/``date_to`` are inclusive ISO dates compared with the record's ``date``;
    a record without a date never matches a date filter.
    """

    item: str = ""
    department: str = ""
    kind: Kind | None = None
    date_from: str = ""
    date_to: str = ""

    def is_empty(self) -> bool:
        return not (self.item or self.department or self.kind or self.date_from or self.date_to)


@dataclass(frozen=True)
class Hit:
    """One search result: the best chunk of one entry or document.

    ``score`` is the fused relevance, higher is better, comparable only within one search;
    ``similarity`` is the cosine similarity of the entry's/document's best chunk to the query
    (0 in keyword-only search) and is what answer confidence is calibrated on.

    For an entry: ``status`` is ``published`` or ``draft`` (drafts only when asked for);
    ``expired_on`` is set when the entry no longer applies: it is the entry's ``expire_on``, the
    last day it applied; ``replaced`` lists the superseded
    entries this hit stands in for (a search that matched an old 口径 returns its current version);
    ``upcoming`` announces a published successor that takes effect later.
    """

    parent_id: str
    kind: Kind
    chunk_id: str
    score: float
    similarity: float
    text: str
    title: str
    source: str
    date: str
    item: str = ""
    department: str = ""
    position: int = 0
    answer: str = ""
    metadata: dict = field(default_factory=dict)
    status: str = "published"
    version: int = 0
    basis: str = ""
    effective_from: str = ""
    expired_on: str = ""
    replaced: tuple[Replacement, ...] = ()
    upcoming: Replacement | None = None

    @property
    def is_current(self) -> bool:
        """True for published, unexpired knowledge (what may be told to a citizen as current)."""
        return self.status == "published" and not self.expired_on
