"""The question log: one row for every question asked, at the counter page or with ``kb ask``.

The admin statistics (questions per day, share answered / refused) and the knowledge-gap queue read
this log. A row holds who asked, when, the question, the answer's outcome (``Answer.status``: ``answered``,
``ambiguous`` or ``no_answer``), its confidence, the entry or document the answer came from, and the
channel (``web`` or ``cli``). Rows are never changed or deleted.

The tables drawn from the log live in the same schema, so every record store has them: the ratings of
the answers (:mod:`kb.feedback`, one per logged answer) and the knowledge-gap groups with the cached
question vectors they are computed from (:mod:`kb.gaps`).
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
CREATE TABLE IF NOT EXISTS feedback (
    log_id INTEGER PRIMARY KEY REFERENCES asklog(id), at TEXT NOT NULL, user TEXT NOT NULL,
    useful INTEGER NOT NULL, reason TEXT NOT NULL, correct TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gap_vectors (
    log_id INTEGER NOT NULL, model TEXT NOT NULL, vector BLOB NOT NULL, group_id INTEGER NOT NULL,
    PRIMARY KEY (log_id, model));
CREATE TABLE IF NOT EXISTS gap_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, centroid BLOB NOT NULL, status TEXT NOT NULL,
    entry_id TEXT NOT NULL, changed_at TEXT NOT NULL, changed_by TEXT NOT NULL,
    resolved_after INTEGER NOT NULL);
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
                 top_parent: str = "", channel: str = "cli", at: str = "") -> int:
    """Append one question and return its row id; ``at`` defaults to now. Runs in the caller's transaction
    if one is open."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    return conn.execute(
        "INSERT INTO asklog(at, user, question, status, confidence, top_parent, channel) VALUES(?,?,?,?,?,?,?)",
        (at or datetime.now().isoformat(timespec="seconds"), user, question, status, float(confidence),
         top_parent, channel),
    ).lastrowid


def log_answer(conn: sqlite3.Connection, user: str, answer, channel: str) -> int:
    """Log a ``bot.answer.Answer`` (read through its fields: ``kb`` imports nothing of ours) and return the
    row id, with which the answer can be rated (:func:`kb.feedback.rate`). The top hit is the first
    citation, or for a refused question the nearest hit that was not good enough."""
    top = answer.citations[0].parent_id if answer.citations else answer.related[0].parent_id if answer.related else ""
    return log_question(conn, user, answer.question, answer.status, answer.confidence, top, channel)


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
    return [asked(r) for r in rows]


def question(conn: sqlite3.Connection, log_id: int) -> AskedQuestion | None:
    """The logged question with row id ``log_id``, or None."""
    row = conn.execute("SELECT * FROM asklog WHERE id = ?", (log_id,)).fetchone()
    return asked(row) if row else None


def asked(row: sqlite3.Row) -> AskedQuestion:
    """An :class:`AskedQuestion` from an ``asklog`` row (all its columns)."""
    return AskedQuestion(row["id"], row["at"], row["user"], row["question"], row["status"], row["confidence"],
                         row["top_parent"], row["channel"])
