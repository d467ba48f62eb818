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
    ``department`` the approving 部门.
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
