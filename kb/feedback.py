"""Feedback on answers: every logged answer (:mod:`kb.asklog`) can be rated 有用 or 没用 by the user who
asked, with an optional reason and an optional correct answer.

A rating is stored beside the question log (the ``feedback`` table, one row per logged answer); rating
the same answer again replaces the earlier rating. Answers rated 没用 feed the knowledge-gap queue
(:mod:`kb.gaps`), where the correct answers given here are offered to the group lead who writes the entry.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from .asklog import question
from .errors import KBError

class FeedbackError(KBError):
    """A rating cannot be stored as asked (no such answer, someone else's answer, too long a text)."""


MAX_TEXT = 2000
"""The longest reason or correct answer kept, in characters."""


@dataclass(frozen=True)
class Rating:
    """The rating of the logged answer ``log_id``: ``useful`` is True for 有用, False for 没用; ``reason``
    and ``correct`` (the answer the rater says is right) may be empty; ``at`` is local ISO time."""

    log_id: int
    at: str
    user: str
    useful: bool
    reason: str = ""
    correct: str = ""

    @property
    def label(self) -> str:
        return "有用" if self.useful else "没用"


def rate(conn: sqlite3.Connection, user: str, log_id: int, useful: bool, reason: str = "",
         correct: str = "") -> Rating:
    """Rate the answer logged as ``log_id`` on behalf of ``user``, who must be the one who asked.

    Replaces an earlier rating of the same answer. Callers reading without an account all ask as
    ``anonymous``, so they share their answers' ratings. Raises :class:`FeedbackError` when there is no
    such logged answer, when it was asked by someone else, or when a text is too long.
    """
    asked = question(conn, log_id)
    if asked is None:
        raise FeedbackError(f"没有编号为 {log_id} 的问答记录：请用提问时显示的记录编号评价。")
    if asked.user != user:
        raise FeedbackError(f"问答记录 {log_id} 不是您提的问题：只能评价自己收到的回答。")
    reason, correct = (reason or "").strip(), (correct or "").strip()
    for text, label in ((reason, "原因"), (correct, "正确答案")):
        if len(text) > MAX_TEXT:
            raise FeedbackError(f"{label}太长（{len(text)} 字），请压缩到 {MAX_TEXT} 字以内。")
    rating = Rating(log_id, datetime.now().isoformat(timespec="seconds"), user, bool(useful), reason, correct)
    conn.execute("INSERT OR REPLACE INTO feedback(log_id, at, user, useful, reason, correct) VALUES(?,?,?,?,?,?)",
                 (rating.log_id, rating.at, rating.user, int(rating.useful), rating.reason, rating.correct))
    return rating


def ratings(conn: sqlite3.Connection, log_ids: list[int]) -> dict[int, Rating]:
    """The ratings of the answers ``log_ids`` that have one, by log id."""
    found: dict[int, Rating] = {}
    for start in range(0, len(log_ids), 500):
        part = log_ids[start:start + 500]
        rows = conn.execute(f"SELECT * FROM feedback WHERE log_id IN ({','.join('?' * len(part))})", part)
        found.update({r["log_id"]: Rating(r["log_id"], r["at"], r["user"], bool(r["useful"]), r["reason"],
                                          r["correct"]) for r in rows})
    return found

