"""Study records of the new-hire study chat: what each learner studied and how they answered.

One row per learner and entry (table ``study``): the entry's 事项, how often it was explained
(``seen``), how often a question on it was put (``asked``) and answered right (``correct``) or wrong,
and when the learner last met it (local ISO time). A 事项's record is the sum of its entries' rows.

:meth:`Learning.topics` orders the 事项 for the next session: weak ones first (more wrong answers
than right), then the ones never studied (the topics the counters meet most first: most questions
in the question log answered from their entries, then most current entries), then the rest (least
covered, then least recently studied, first). :meth:`Learning.next_entry` orders the entries inside
a 事项 the same way.

Everyone studies for themselves (permission ``study``); reading another learner's record needs
``progress`` (组长/培训师, 管理员), checked here so that no page or command can skip it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .catalog import MAX_PAGE_SIZE, Catalog
from .errors import UserError
from .records import Records, now
from .types import Filters
from .users import User, authorize

SCHEMA = """
CREATE TABLE IF NOT EXISTS study (
    user TEXT NOT NULL, entry_id TEXT NOT NULL, item TEXT NOT NULL, seen INTEGER NOT NULL DEFAULT 0,
    asked INTEGER NOT NULL DEFAULT 0, correct INTEGER NOT NULL DEFAULT 0, wrong INTEGER NOT NULL DEFAULT 0,
    last_at TEXT NOT NULL, PRIMARY KEY (user, entry_id));
"""

STATES: dict[str, str] = {"weak": "薄弱", "unseen": "未学", "studied": "已学"}
"""A topic's state for a learner -> its Chinese label, in the order the next session takes them."""


@dataclass(frozen=True)
class Topic:
    """One 事项 as a learner stands with it: ``entries`` current entries, ``covered`` of them
    explained at least once; ``state`` is a key of :data:`STATES`; ``last_at`` is empty if never met;
    ``demand`` is how many questions at the counters (the question log) were answered from its entries."""

    item: str
    entries: int
    covered: int = 0
    asked: int = 0
    correct: int = 0
    wrong: int = 0
    last_at: str = ""
    demand: int = 0

    @property
    def state(self) -> str:
        """``weak`` (answered wrong more often than right), ``unseen`` (nothing explained yet) or ``studied``."""
        if self.wrong > self.correct:
            return "weak"
        return "unseen" if self.covered == 0 else "studied"

    @property
    def label(self) -> str:
        """For a topic picker, e.g. ``户籍（薄弱：答错 2 次）`` or ``公积金（未学，8 条）``."""
        if self.state == "weak":
            return f"{self.item}（薄弱：答错 {self.wrong} 次）"
        if self.state == "unseen":
            asked = f"，窗口问过 {self.demand} 次" if self.demand else ""
            return f"{self.item}（未学，{self.entries} 条{asked}）"
        return f"{self.item}（已学 {self.covered}/{self.entries} 条）"


@dataclass(frozen=True)
class Learner:
    """One learner's totals for the trainer: 事项 and entries covered, questions right and wrong."""

    username: str
    display_name: str
    topics: int
    entries: int
    asked: int
    correct: int
    wrong: int
    last_at: str


def _plan_key(topic: Topic) -> tuple:
    order = list(STATES).index(topic.state)
    if topic.state == "weak":
        return order, topic.correct - topic.wrong, topic.item
    if topic.state == "unseen":
        return order, -topic.demand, -topic.entries, topic.item
    return order, topic.covered / max(topic.entries, 1), topic.last_at, topic.item


class Learning:
    """The study records in the record store's SQLite database (table created on first use)."""

    def __init__(self, records: Records):
        self.records = records
        self.conn = records.conn
        self.conn.executescript(SCHEMA)

    # -- writing ---------------------------------------------------------------------------

    def _bump(self, user: User, entry_id: str, item: str, *columns: str) -> None:
        learner = authorize(self.records, user, "study")
        added = ", ".join(f"{c} = {c} + 1" for c in columns)
        with self.records.transaction(changes_index=False) as conn:
            conn.execute(
                f"INSERT INTO study(user, entry_id, item, {', '.join(columns)}, last_at) "
                f"VALUES(?,?,?,{'1,' * len(columns)}?) "
                f"ON CONFLICT(user, entry_id) DO UPDATE SET {added}, item = excluded.item, last_at = excluded.last_at",
                (learner.username, entry_id, item, now()))

    def taught(self, user: User, entry_id: str, item: str) -> None:
        """Record that ``entry_id`` (of 事项 ``item``) was explained to ``user`` and a question on it asked."""
        self._bump(user, entry_id, item, "seen", "asked")

    def answered(self, user: User, entry_id: str, item: str, correct: bool) -> None:
        """Record ``user``'s answer to a question on ``entry_id``: right (``correct``) or wrong."""
        self._bump(user, entry_id, item, "correct" if correct else "wrong")

    # -- reading ---------------------------------------------------------------------------

    def _reader(self, actor: User, username: str) -> str:
        """``username`` (empty: the actor), once ``actor`` may read that learner's record."""
        if not username or username == actor.username:
            return authorize(self.records, actor, "study").username
        authorize(self.records, actor, "progress")
        known = self.conn.execute("SELECT 1 FROM users WHERE username=? UNION SELECT 1 FROM study WHERE user=?",
                                  (username, username)).fetchone()
        if known is None:
            raise UserError(f"没有学员“{username}”：既没有这个账号，也没有他的学习记录。请核对用户名"
                            "（不加 --learner 运行 kb study progress 可列出全部学员）。")
        return username

    def topics(self, actor: User, username: str = "", as_of: str = "") -> list[Topic]:
        """Every 事项 with current entries on ``as_of`` (today by default), with the record of
        ``username`` (the actor when empty), in the order of the next session (see the module doc).

        Entries without a 事项 belong to no topic (a free question still reaches them)."""
        username = self._reader(actor, username)
        current = current_entries(self.records, as_of)
        rows = {r["entry_id"]: r for r in self.conn.execute("SELECT * FROM study WHERE user=?", (username,))}
        demand = dict(self.conn.execute("SELECT top_parent, COUNT(*) FROM asklog GROUP BY top_parent").fetchall())
        topics = []
        for item, ids in current.items():
            mine = [rows[i] for i in ids if i in rows]
            topics.append(Topic(item, len(ids), sum(1 for r in mine if r["seen"]), sum(r["asked"] for r in mine),
                                sum(r["correct"] for r in mine), sum(r["wrong"] for r in mine),
                                max((r["last_at"] for r in mine), default=""), sum(demand.get(i, 0) for i in ids)))
        return sorted(topics, key=_plan_key)

    def times_asked(self, actor: User, entry_id: str) -> int:
        """How many questions on ``entry_id`` ``actor`` has been asked."""
        username = self._reader(actor, "")
        row = self.conn.execute("SELECT asked FROM study WHERE user=? AND entry_id=?", (username, entry_id)).fetchone()
        return row[0] if row else 0

    def next_entry(self, actor: User, entry_ids: Iterable[str]) -> str:
        """Which of ``entry_ids`` ``actor`` should study next: answered wrong more than right first,
        then never explained, then the least recently met; ties keep the given order."""
        username = self._reader(actor, "")
        ids = list(entry_ids)
        if not ids:
            raise ValueError("no entries to choose from")
        marks = ",".join("?" * len(ids))
        rows = {r["entry_id"]: r for r in self.conn.execute(
            f"SELECT * FROM study WHERE user=? AND entry_id IN ({marks})", (username, *ids))}

        def key(pair):
            position, entry_id = pair
            row = rows.get(entry_id)
            if row is None:
                return 1, "", position
            if row["wrong"] > row["correct"]:
                return 0, row["last_at"], position
            return (1 if not row["seen"] else 2), row["last_at"], position

        return min(enumerate(ids), key=key)[1]

    def learners(self, actor: User) -> list[Learner]:
        """Every learner's totals, most recently studied first (permission ``progress``): everyone with
        a study record, and the active 窗口人员 accounts who have not started yet."""
        authorize(self.records, actor, "progress")
        rows = self.conn.execute("""
            SELECT s.user, COALESCE(u.display_name, '') AS name, COUNT(DISTINCT CASE WHEN s.seen > 0 THEN s.item END),
                   SUM(s.seen > 0), SUM(s.asked), SUM(s.correct), SUM(s.wrong), MAX(s.last_at)
            FROM study s LEFT JOIN users u ON u.username = s.user GROUP BY s.user
            UNION ALL
            SELECT u.username, u.display_name, 0, 0, 0, 0, 0, '' FROM users u
            WHERE u.active = 1 AND u.role = 'staff' AND u.username NOT IN (SELECT user FROM study)
            ORDER BY 8 DESC, 1""")
        return [Learner(*row) for row in rows]


def current_entries(records: Records, as_of: str = "") -> dict[str, list[str]]:
    """事项 -> the ids of its published entries in effect on ``as_of`` (not superseded, not expired),
    newest first; 事项 sorted by name, entries without a 事项 left out."""
    catalog = Catalog(records, as_of)
    found: dict[str, list[str]] = {}
    page, pages = 1, 1
    while page <= pages:
        listing = catalog.list(filters=Filters(kind="entry"), standing="published", page=page,
                               page_size=MAX_PAGE_SIZE)
        for row in listing.rows:
            if row.item:
                found.setdefault(row.item, []).append(row.id)
        page, pages = page + 1, listing.pages
    return dict(sorted(found.items()))
