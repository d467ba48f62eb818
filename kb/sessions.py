"""Counter conversations kept between ``kb ask --session`` calls.

A session is a named, per-user list of turns: the question as typed, the standalone question it was
answered as (the follow-up resolved against the conversation), and what the answer came from (事项,
title, entry or document id, outcome). A session that has been idle longer than
:data:`SESSION_HOURS` is over: the next question under its id starts a new conversation, and
expired turns are deleted whenever a turn is written.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import KBError
from .records import Records

SCHEMA = """
CREATE TABLE IF NOT EXISTS chat_turns (
    session TEXT NOT NULL, position INTEGER NOT NULL, user TEXT NOT NULL, at TEXT NOT NULL,
    question TEXT NOT NULL, resolved TEXT NOT NULL, item TEXT NOT NULL, title TEXT NOT NULL,
    top_parent TEXT NOT NULL, status TEXT NOT NULL, PRIMARY KEY (session, position));
CREATE INDEX IF NOT EXISTS chat_turns_at ON chat_turns(at);
"""
SESSION_HOURS = 8
"""Idle hours after which a session is over (a counter conversation does not outlast a working day)."""
MAX_ID = 64


class SessionError(KBError):
    """A session id that cannot be used; the message says why and what to use instead."""


@dataclass(frozen=True)
class Turn:
    """One question of a conversation. ``resolved`` is the standalone question that was answered
    (equal to ``question`` when it needed nothing from the conversation); ``item``, ``title`` and
    ``top_parent`` describe the entry or document the answer came from ('' when refused);
    ``status`` is the answer's outcome; ``at`` is local ISO time to the second."""

    question: str
    resolved: str
    item: str = ""
    title: str = ""
    top_parent: str = ""
    status: str = ""
    at: str = ""


class Sessions:
    """The stored conversations of one record store."""

    def __init__(self, records: Records, hours: float = SESSION_HOURS):
        self.records = records
        self.idle = timedelta(hours=hours)
        records.conn.executescript(SCHEMA)

    def turns(self, session: str, user: str, now: datetime | None = None) -> list[Turn]:
        """The turns of ``session`` so far, oldest first; empty for a new or expired session.

        Raises :class:`SessionError` for an unusable id or a session that belongs to another user.
        """
        session = check_id(session)
        rows = self.records.conn.execute(
            "SELECT * FROM chat_turns WHERE session=? ORDER BY position", (session,)).fetchall()
        if not rows:
            return []
        if rows[0]["user"] != user:
            raise SessionError(f"会话“{session}”属于其他用户：请换一个会话编号（--session）。")
        if rows[-1]["at"] < self._cutoff(now):
            return []
        return [Turn(r["question"], r["resolved"], r["item"], r["title"], r["top_parent"], r["status"], r["at"])
                for r in rows]

    def append(self, session: str, user: str, turn: Turn, now: datetime | None = None) -> Turn:
        """Add ``turn`` to ``session`` (an expired session restarts with it); returns the turn as stored."""
        session = check_id(session)
        at = turn.at or (now or datetime.now()).isoformat(timespec="seconds")
        with self.records.transaction(changes_index=False) as conn:
            self._expire(conn, self._cutoff(now))
            owner = conn.execute("SELECT user FROM chat_turns WHERE session=? LIMIT 1", (session,)).fetchone()
            if owner is not None and owner["user"] != user:
                raise SessionError(f"会话“{session}”属于其他用户：请换一个会话编号（--session）。")
            position = conn.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM chat_turns WHERE session=?",
                                    (session,)).fetchone()[0]
            conn.execute("INSERT INTO chat_turns VALUES(?,?,?,?,?,?,?,?,?,?)",
                         (session, position, user, at, turn.question, turn.resolved, turn.item, turn.title,
                          turn.top_parent, turn.status))
        return Turn(turn.question, turn.resolved, turn.item, turn.title, turn.top_parent, turn.status, at)

    def _cutoff(self, now: datetime | None) -> str:
        return ((now or datetime.now()) - self.idle).isoformat(timespec="seconds")

    @staticmethod
    def _expire(conn: sqlite3.Connection, cutoff: str) -> None:
        conn.execute("DELETE FROM chat_turns WHERE session IN "
                     "(SELECT session FROM chat_turns GROUP BY session HAVING MAX(at) < ?)", (cutoff,))


def check_id(session: str) -> str:
    """``session`` stripped, or :class:`SessionError` if it is empty or too long."""
    session = (session or "").strip()
    if not session or len(session) > MAX_ID:
        raise SessionError(f"会话编号不能为空，也不能超过 {MAX_ID} 个字符：请用 --session 给一个简短的编号，例如 --session 窗口3。")
    return session
