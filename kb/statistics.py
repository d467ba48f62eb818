"""Usage statistics for the admin: how the knowledge base grows and how the counters use it.

Counts only, read from the record store's tables: published entries per 事项 and per month of
publication, and the question log (:mod:`kb.asklog`) per day and outcome. Every function takes the
record store's connection and returns plain tuples; charts are drawn by the caller. Reading them
needs permission ``usage`` (the caller admits the reader first, see :func:`kb.users.admit`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta

from .logfilter import where

OUTCOMES: dict[str, str] = {"answered": "已回答", "ambiguous": "需追问", "no_answer": "暂无答案"}
"""A logged answer's ``status`` -> its label: answered, asked back which case is meant (two entries
answer differently), or refused (no reliable answer)."""


@dataclass(frozen=True)
class Summary:
    """The headline numbers: entries by state, documents, and the questions of a period by outcome."""

    published: int
    drafts: int
    documents: int
    questions: int
    outcomes: dict[str, int]

    def share(self, status: str) -> float:
        """The share (0 to 1) of the period's questions whose answer had ``status``; 0 when none were asked."""
        return self.outcomes.get(status, 0) / self.questions if self.questions else 0.0


@dataclass(frozen=True)
class Day:
    """The questions of one day (ISO date) by outcome (``status`` -> count; every key of
    :data:`OUTCOMES` is present, zero included)."""

    day: str
    outcomes: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


def summary(conn: sqlite3.Connection, since: str = "", until: str = "") -> Summary:
    """Published entries, drafts awaiting review and documents now, and the questions logged from
    ``since`` to ``until`` (inclusive ISO dates; empty for no bound) by outcome."""
    states = dict(conn.execute("SELECT status, COUNT(*) FROM entries GROUP BY status").fetchall())
    documents = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    clause, args = where({}, since, until)
    outcomes = dict(conn.execute(f"SELECT status, COUNT(*) FROM asklog{clause} GROUP BY status", args).fetchall())
    return Summary(states.get("published", 0), states.get("draft", 0), documents, sum(outcomes.values()),
                   {**dict.fromkeys(OUTCOMES, 0), **outcomes})


def entries_per_item(conn: sqlite3.Connection, limit: int = 20) -> list[tuple[str, int]]:
    """``(事项, published entries)`` for the ``limit`` 事项 with the most, most first (then by name);
    entries without a 事项 count under ``''``."""
    rows = conn.execute("SELECT item, COUNT(*) AS n FROM entries WHERE status='published' "
                        "GROUP BY item ORDER BY n DESC, item LIMIT ?", (limit,))
    return [(r[0], r[1]) for r in rows]


def published_per_month(conn: sqlite3.Connection) -> list[tuple[str, int]]:
    """``(YYYY-MM, entries)`` of the published entries by the month their current version was
    published, oldest month first (months without any are left out)."""
    rows = conn.execute("SELECT substr(published_at, 1, 7) AS month, COUNT(*) FROM entries "
                        "WHERE status='published' AND published_at != '' GROUP BY month ORDER BY month")
    return [(r[0], r[1]) for r in rows]


def questions_per_day(conn: sqlite3.Connection, since: str = "", until: str = "") -> list[Day]:
    """The logged questions of each day from ``since`` to ``until`` (inclusive ISO dates) by outcome,
    oldest first, days without questions included as zeros.

    An empty ``since`` starts at the first logged day and an empty ``until`` ends at the last one;
    with neither and an empty log, the result is empty.
    """
    clause, args = where({}, since, until)
    rows = conn.execute(f"SELECT substr(at, 1, 10) AS day, status, COUNT(*) FROM asklog{clause} "
                        "GROUP BY day, status ORDER BY day", args).fetchall()
    counted: dict[str, dict[str, int]] = {}
    for day, status, count in rows:
        counted.setdefault(day, dict.fromkeys(OUTCOMES, 0))[status] = count
    first, last = since or min(counted, default=""), until or max(counted, default="")
    if not first or not last:
        return []
    days, current, end = [], date.fromisoformat(first), date.fromisoformat(last)
    while current <= end:
        key = current.isoformat()
        days.append(Day(key, counted.get(key, dict.fromkeys(OUTCOMES, 0))))
        current += timedelta(days=1)
    return days
