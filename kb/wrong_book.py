"""The wrong-answer book (错题本): every question a person lost points on whose latest answer was not
right, unless they have since answered it right on a retry (table ``quiz_mastered``).

It reads the answers that :mod:`kb.attempts` stores; a question is known by its bank key, so the same
question on the A and B versions of a paper, or on two papers, is one entry of the book.
"""

from __future__ import annotations

from dataclasses import dataclass

from .attempts import SCHEMA as ATTEMPTS_SCHEMA
from .attempts import Marking, marking
from .papers import PaperQuestion, Papers
from .records import Records, now
from .users import User

SCHEMA = """
CREATE TABLE IF NOT EXISTS quiz_mastered (
    username TEXT NOT NULL, question_key TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (username, question_key));
"""


@dataclass(frozen=True)
class Wrong:
    """A question in a person's wrong-answer book: the question as last answered, their latest answer
    and how many times they lost points on it."""

    key: str
    question: PaperQuestion
    response: str
    marking: Marking
    times: int
    paper_id: str


class WrongBook:
    """The wrong-answer books in the record store's SQLite database."""

    def __init__(self, records: Records):
        self.records = records
        self.conn = records.conn
        self.conn.executescript(ATTEMPTS_SCHEMA + SCHEMA)

    def of(self, user: User) -> list[Wrong]:
        """``user``'s wrong-answer book: questions whose latest answer lost points, not since mastered on a
        retry, the most recent first."""
        rows = self.conn.execute(
            "SELECT r.*, a.paper_id, a.variant, a.submitted_at FROM quiz_responses r"
            " JOIN quiz_attempts a ON a.id = r.attempt_id WHERE a.username=? AND a.submitted_at != ''"
            " ORDER BY a.submitted_at, a.id", (user.username,)).fetchall()
        mastered = {r[0]: r[1] for r in self.conn.execute(
            "SELECT question_key, at FROM quiz_mastered WHERE username=?", (user.username,))}
        latest: dict[str, tuple] = {}
        times: dict[str, int] = {}
        for r in rows:
            latest[r["question_key"]] = r
            times[r["question_key"]] = times.get(r["question_key"], 0) + (r["score"] < r["points"])
        wrong = {key: r for key, r in latest.items()
                 if r["score"] < r["points"] and mastered.get(key, "") < r["submitted_at"]}
        versions = Papers(self.records).versions((r["paper_id"], r["variant"]) for r in wrong.values())
        book = []
        for key, r in wrong.items():
            question = next(q for q in versions[r["paper_id"], r["variant"]].questions if q.number == r["number"])
            book.append(Wrong(key, question, r["response"], marking(r), times[key], r["paper_id"]))
        return sorted(book, key=lambda w: latest[w.key]["submitted_at"], reverse=True)

    def master(self, user: User, key: str) -> None:
        """Record that ``user`` answered wrong-book question ``key`` right on a retry (it leaves the book)."""
        with self.records.transaction(changes_index=False) as conn:
            conn.execute("INSERT OR REPLACE INTO quiz_mastered VALUES(?,?,?)", (user.username, key, now()))
