"""Drafts of open attempts: a taker's answers saved as they go (table ``quiz_drafts``), so a reload, a
crashed browser or a dropped connection loses nothing before submitting.

A draft holds one row per answered question of an open attempt, replaced whenever that answer
changes; an answer cleared back to '' drops its row. :func:`kb.attempts.close_attempt` discards an
attempt's draft in the transaction that closes it, so a submitted attempt has none. Who may save and
until when is checked by :meth:`kb.attempts.Attempts.save_draft`; this module only stores.
"""

from __future__ import annotations

import sqlite3

from .papers import PaperError

SCHEMA = """
CREATE TABLE IF NOT EXISTS quiz_drafts (
    attempt_id INTEGER NOT NULL, number INTEGER NOT NULL, response TEXT NOT NULL, saved_at TEXT NOT NULL,
    PRIMARY KEY (attempt_id, number));
"""


def store(conn: sqlite3.Connection, attempt_id: int, responses: dict[int, str], at: str) -> None:
    """In the transaction ``conn``, replace the saved answer of each question number in ``responses``
    (an empty answer removes it), stamped with ISO time ``at``. The attempt is checked to be still open
    in the same transaction: :class:`~kb.papers.PaperError` (nothing written) if it was submitted meanwhile."""
    if conn.execute("SELECT 1 FROM quiz_attempts WHERE id=? AND submitted_at=''", (attempt_id,)).fetchone() is None:
        raise PaperError(f"答卷 {attempt_id} 已经提交，不能再修改答案。")
    conn.executemany("INSERT INTO quiz_drafts VALUES(?,?,?,?) ON CONFLICT(attempt_id, number) DO UPDATE"
                     " SET response=excluded.response, saved_at=excluded.saved_at",
                     [(attempt_id, n, r, at) for n, r in responses.items() if r])
    conn.executemany("DELETE FROM quiz_drafts WHERE attempt_id=? AND number=?",
                     [(attempt_id, n) for n, r in responses.items() if not r])


def load(conn: sqlite3.Connection, attempt_id: int) -> dict[int, str]:
    """The saved answers of ``attempt_id``: question number -> answer, answered questions only."""
    rows = conn.execute("SELECT number, response FROM quiz_drafts WHERE attempt_id=? ORDER BY number", (attempt_id,))
    return {r[0]: r[1] for r in rows}


def discard(conn: sqlite3.Connection, attempt_id: int) -> None:
    """Delete the draft of ``attempt_id`` in the transaction ``conn`` (on submission)."""
    conn.execute("DELETE FROM quiz_drafts WHERE attempt_id=?", (attempt_id,))
