"""The question log: one row for every question asked, at the counter page or with ``kb ask``.

The admin statistics (questions per day, share answered / refused) and the knowledge-gap queue read
this log. A row holds who asked, when, the question, the answer's outcome (``Answer.status``: ``answered``,
``ambiguous`` or ``no_answer``), its confidence, the entry or document the answer came from, and the
channel (``web`` or ``cli``). Rows are never changed or deleted.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from .logfilter import where

SCHEMA = """
CREATE TABLE IF NOT EXISTS asklog (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, user TEXT NOT NULL, question TEXT NOT NULL,
    status TEXT NOT NULL, confidence REAL NOT NULL, top_parent TEXT NOT NULL, channel TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS asklog_at ON asklog(at);
"""

CHANNELS: dict[str, str] = {"web": "网页", "cli": "命令行"}


@dataclass(frozen=True)
class AskedQuestion:
    """One logged question. ``at`` is local ISO time to the second; ``confidence`` is the answer's
    confidence (0 to 1); ``top_parent`` is the id of the entry/document answered from ('' if none)."""

    id: int
    at: str
    user: str
    question: str
    status: str
    confidence: float
    top_parent: str
    channel: str


def log_question(conn: sqlite3.Connection, user: str, question: str, status: str, confidence: float,
                 top_parent: str = "", channel: str = "cli", at: str = "") -> None:
    """Append one question; ``at`` defaults to now. Runs in the caller's transaction if one is open."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    conn.execute(
        "INSERT INTO asklog(at, user, question, status, confidence, top_parent, channel) VALUES(?,?,?,?,?,?,?)",
        (at or datetime.now().isoformat(timespec="seconds"), user, question, status, float(confidence),
         top_parent, channel),
    )


def log_answer(conn: sqlite3.Connection, user: str, answer, channel: str) -> None:
    """Log a ``bot.answer.Answer`` (read through its fields: ``kb`` imports nothing of ours). The top hit is
    the first citation, or for a refused question the nearest hit that was not good enough."""
    top = answer.citations[0].parent_id if answer.citations else answer.related[0].parent_id if answer.related else ""
    log_question(conn, user, answer.question, answer.status, answer.confidence, top, channel)


def questions(conn: sqlite3.Connection, since: str = "", until: str = "", user: str = "",
              limit: int = 1000) -> list[AskedQuestion]:
    """Logged questions matching every given filter, newest first.

    Args:
        since: first day (inclusive ISO date, e.g. ``2026-11-01``); empty for no lower bound.
        until: last day (inclusive ISO date); empty for no upper bound.
        user: only this user's questions; empty for everyone's.
        limit: at most this many rows.
    """
    clause, args = where({"user": user}, since, until)
    rows = conn.execute(f"SELECT * FROM asklog{clause} ORDER BY id DESC LIMIT ?", (*args, limit))
    return [AskedQuestion(r["id"], r["at"], r["user"], r["question"], r["status"], r["confidence"],
                          r["top_parent"], r["channel"]) for r in rows]
