"""Papers: exams drawn from a question bank, in one or two versions (A/B), and who must take them.

A paper (table ``quiz_papers``) takes questions of a bank by type counts, each type worth its points.
With two versions, version B holds the same questions in another order with the options of every
单选/多选 shuffled (the answer letters follow); version A keeps the bank's order of types. The chosen
questions and each version's order are stored (``quiz_paper_questions``), so a paper never changes
after it is composed, even when its bank is rebuilt: a question keeps its text, options and key.

Assignments (``quiz_assignments``) name a paper's takers: accounts, groups (窗口/组) or everyone
(:data:`EVERYONE`), with an optional deadline. A paper assigned to everyone without a deadline is an
open practice paper anyone may choose.

Two views of a paper: :class:`Paper` carries the key and the explanations and needs the ``quiz``
permission; :class:`Sheet` is what a taker sees and has no key at all, so a page or an API that
only ever gets a sheet cannot leak it.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from .errors import KBError
from .quizbank import KINDS, QuizBank, QuizQuestion, Source
from .records import Records, now
from .accounts import Accounts
from .users import User, Users, authorize

MAX_MINUTES = 1440
"""The longest time limit of a paper, in minutes: a day (a longer one would end past the calendar's range)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS quiz_papers (
    id TEXT PRIMARY KEY, bank_id TEXT NOT NULL, title TEXT NOT NULL, variants TEXT NOT NULL,
    time_limit INTEGER NOT NULL, created_at TEXT NOT NULL, created_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS quiz_paper_questions (
    paper_id TEXT NOT NULL, position INTEGER NOT NULL, points REAL NOT NULL, question TEXT NOT NULL,
    bank_position INTEGER NOT NULL, PRIMARY KEY (paper_id, position));
CREATE TABLE IF NOT EXISTS quiz_paper_orders (
    paper_id TEXT NOT NULL, variant TEXT NOT NULL, position INTEGER NOT NULL, paper_position INTEGER NOT NULL,
    option_order TEXT NOT NULL, PRIMARY KEY (paper_id, variant, position));
CREATE TABLE IF NOT EXISTS quiz_assignments (
    paper_id TEXT NOT NULL, target_kind TEXT NOT NULL, target TEXT NOT NULL, deadline TEXT NOT NULL,
    assigned_by TEXT NOT NULL, assigned_at TEXT NOT NULL, PRIMARY KEY (paper_id, target_kind, target));
"""

LETTERS = "ABCDEF"
VARIANTS = ("A", "B")
EVERYONE = "*"
DEFAULT_POINTS = {"single": 2.0, "multiple": 3.0, "judge": 1.0, "blank": 2.0, "short": 10.0}
"""Question type -> the points a question of it is worth unless the paper says otherwise."""
TARGET_KINDS = {"user": "人员", "group": "小组", "all": "全体"}


class PaperError(KBError):
    """A paper cannot be composed, read, assigned or taken as asked."""


@dataclass(frozen=True)
class PaperQuestion:
    """A question as numbered on one version of a paper (``number`` from 1), worth ``points``;
    ``question`` has this version's option order and key; ``key`` identifies the bank question
    (``bank_id#position``) for the wrong-answer book and the report."""

    number: int
    question: QuizQuestion
    points: float
    key: str


@dataclass(frozen=True)
class Paper:
    """A paper version with its key: for the trainer (export, grading, the answer sheet)."""

    id: str
    bank_id: str
    title: str
    variant: str
    variants: tuple[str, ...]
    time_limit: int
    created_at: str
    created_by: str
    questions: tuple[PaperQuestion, ...]

    @property
    def total(self) -> float:
        return sum(q.points for q in self.questions)


@dataclass(frozen=True)
class SheetQuestion:
    """What a taker sees of a question: no key, no explanation, no sources."""

    number: int
    kind: str
    stem: str
    options: tuple[str, ...]
    points: float

    @property
    def label(self) -> str:
        return KINDS[self.kind]


@dataclass(frozen=True)
class Sheet:
    """A paper version as a taker sees it; ``time_limit`` in minutes (0: untimed)."""

    paper_id: str
    title: str
    variant: str
    time_limit: int
    questions: tuple[SheetQuestion, ...]

    @property
    def total(self) -> float:
        return sum(q.points for q in self.questions)


@dataclass(frozen=True)
class Assignment:
    """Who must take a paper: ``target_kind`` is a key of :data:`TARGET_KINDS`; ``deadline`` an ISO date or ''."""

    paper_id: str
    title: str
    target_kind: str
    target: str
    deadline: str
    assigned_by: str

    def check_deadline(self) -> None:
        """Raise :class:`PaperError` once the deadline has passed: the paper can no longer be answered."""
        if self.deadline and now()[:10] > self.deadline:
            raise PaperError(f"试卷 {self.paper_id} 的截止日期 {self.deadline} 已过，不能再作答。")


def shuffled_options(question: QuizQuestion, order: list[int]) -> QuizQuestion:
    """``question`` with its options in ``order`` (indices into the original options) and its key's
    letters following them; a question without letter options is returned as it is."""
    if question.kind not in ("single", "multiple") or not order:
        return question
    options = tuple(question.options[i] for i in order)
    answer = tuple(sorted(LETTERS[order.index(LETTERS.index(k))] for k in question.answer))
    return replace(question, options=options, answer=answer)


class Papers:
    """Papers and assignments in the record store's SQLite database (tables created on first use)."""

    def __init__(self, records: Records):
        self.records = records
        self.conn = records.conn
        self.conn.executescript(SCHEMA)

    def compose(self, actor: User, bank_id: str, title: str, counts: dict[str, int],
                points: dict[str, float] | None = None, variants: int = 1, time_limit: int = 0,
                paper_id: str = "", seed: str = "", items: frozenset[str] | None = None) -> Paper:
        """Draw a paper from bank ``bank_id``: ``counts[type]`` questions of each type, stale ones
        never, chosen by a seeded draw; ``points[type]`` each (:data:`DEFAULT_POINTS` otherwise);
        ``variants`` 1 or 2 (A/B); ``time_limit`` in minutes; only questions of the 事项 ``items``
        when given. Returns version A."""
        actor = authorize(self.records, actor, "quiz")
        return self.draw(actor, bank_id, title, counts, points, variants, time_limit, paper_id, seed, items)

    def draw(self, actor: User, bank_id: str, title: str, counts: dict[str, int],
             points: dict[str, float] | None = None, variants: int = 1, time_limit: int = 0,
             paper_id: str = "", seed: str = "", items: frozenset[str] | None = None) -> Paper:
        """:meth:`compose` without the permission check, for a caller that has checked ``actor`` itself
        (:mod:`kb.department` draws within a department's 事项)."""
        if variants not in (1, 2):
            raise PaperError(f"试卷版本数只能是 1 或 2（A/B 卷），收到 {variants}。")
        if not title.strip():
            raise PaperError("请填写试卷标题。")
        if time_limit < 0:
            raise PaperError("考试时长（分钟）不能为负数；不限时请填 0。")
        if time_limit > MAX_MINUTES:
            raise PaperError(f"考试时长 {time_limit} 分钟太长：最多 {MAX_MINUTES} 分钟（一天）；不限时请填 0。")
        worth = {**DEFAULT_POINTS, **(points or {})}
        if any(not 0 < worth[k] < math.inf for k in counts if counts[k]):
            raise PaperError("每题分值必须是大于 0 的数，如 2 或 2.5。")
        questions = QuizBank(self.records).stored(bank_id)
        rng = random.Random(seed or f"{bank_id}/{title}")
        chosen: list[tuple[int, QuizQuestion]] = []
        for kind in KINDS:
            wanted = counts.get(kind, 0)
            if wanted <= 0:
                continue
            usable = [(i, q) for i, q in enumerate(questions, 1)
                      if q.kind == kind and not q.stale and (items is None or q.item in items)]
            if len(usable) < wanted:
                scope = "所选事项" if items is not None else ""
                raise PaperError(f"题库 {bank_id} 中{scope}未过期的{KINDS[kind]}题只有 {len(usable)} 道，不够抽 {wanted} 道："
                                 f"减少{KINDS[kind]}题数量，或重新生成题库。")
            chosen += sorted(rng.sample(usable, wanted))
        if not chosen:
            raise PaperError("试卷至少要有一道题：请填写各题型的题数。")
        with self.records.transaction(changes_index=False) as conn:
            paper_id = paper_id.strip() or self._free_id(f"{bank_id}-{now()[:10].replace('-', '')}")
            if conn.execute("SELECT 1 FROM quiz_papers WHERE id=?", (paper_id,)).fetchone():
                raise PaperError(f"试卷编号 {paper_id} 已存在：换一个编号。")
            names = VARIANTS[:variants]
            conn.execute("INSERT INTO quiz_papers VALUES(?,?,?,?,?,?,?)",
                         (paper_id, bank_id, title.strip(), "".join(names), time_limit, now(), actor.username))
            conn.executemany("INSERT INTO quiz_paper_questions VALUES(?,?,?,?,?)", [
                (paper_id, n, worth[q.kind], _dump_question(q), i) for n, (i, q) in enumerate(chosen, 1)])
            for name in names:
                conn.executemany("INSERT INTO quiz_paper_orders VALUES(?,?,?,?,?)",
                                 self._order(paper_id, name, [q for _, q in chosen], rng))
        return self.keyed(paper_id)

    def _free_id(self, base: str) -> str:
        """``base-1``, ``base-2``, … : the first paper id not taken."""
        taken = {r[0] for r in self.conn.execute("SELECT id FROM quiz_papers WHERE id LIKE ?", (f"{base}-%",))}
        return next(f"{base}-{n}" for n in range(1, len(taken) + 2) if f"{base}-{n}" not in taken)

    @staticmethod
    def _order(paper_id: str, variant: str, questions: list[QuizQuestion], rng: random.Random) -> list[tuple]:
        numbers = list(range(1, len(questions) + 1))
        if variant != "A":
            rng.shuffle(numbers)
            numbers.sort(key=lambda n: list(KINDS).index(questions[n - 1].kind))
        rows = []
        for position, n in enumerate(numbers, 1):
            options = list(range(len(questions[n - 1].options)))
            if variant != "A" and questions[n - 1].kind in ("single", "multiple"):
                rng.shuffle(options)
            rows.append((paper_id, variant, position, n, json.dumps(options)))
        return rows

    def papers(self, actor: User) -> list[Paper]:
        """Every paper (version A), newest first."""
        authorize(self.records, actor, "quiz")
        ids = [r[0] for r in self.conn.execute("SELECT id FROM quiz_papers ORDER BY created_at DESC, id")]
        return [self.paper(actor, i) for i in ids]

    def paper(self, actor: User, paper_id: str, variant: str = "A") -> Paper:
        """One version of a paper with its key; needs the ``quiz`` permission."""
        authorize(self.records, actor, "quiz")
        return self.keyed(paper_id, variant)

    def versions(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Paper]:
        """Each (paper id, variant) of ``pairs`` with its keyed paper (:meth:`keyed`), each read once."""
        return {v: self.keyed(*v) for v in set(pairs)}

    def keyed(self, paper_id: str, variant: str = "A") -> Paper:
        """One version of a paper with its key, for grading after submission and for the
        permission-checked :meth:`paper`; never hand its result to a taker before they submit."""
        row = self.conn.execute("SELECT * FROM quiz_papers WHERE id=?", (paper_id,)).fetchone()
        if row is None:
            raise PaperError(f"没有编号为 {paper_id} 的试卷：用 kb quiz papers 查看已有试卷。")
        if variant not in row["variants"]:
            raise PaperError(f"试卷 {paper_id} 没有 {variant} 卷（有：{'、'.join(row['variants'])}）。")
        stored = {r["position"]: r for r in self.conn.execute(
            "SELECT * FROM quiz_paper_questions WHERE paper_id=?", (paper_id,))}
        orders = self.conn.execute("SELECT * FROM quiz_paper_orders WHERE paper_id=? AND variant=? ORDER BY position",
                                   (paper_id, variant))
        questions = []
        for o in orders:
            s = stored[o["paper_position"]]
            question = shuffled_options(_load_question(s["question"]), json.loads(o["option_order"]))
            questions.append(PaperQuestion(o["position"], question, s["points"],
                                           f"{row['bank_id']}#{s['bank_position']}"))
        return Paper(row["id"], row["bank_id"], row["title"], variant, tuple(row["variants"]), row["time_limit"],
                     row["created_at"], row["created_by"], tuple(questions))

    def sheet(self, paper_id: str, variant: str = "A") -> Sheet:
        """What a taker sees of a paper version: stems, options and points, no key."""
        paper = self.keyed(paper_id, variant)
        return Sheet(paper.id, paper.title, paper.variant, paper.time_limit, tuple(
            SheetQuestion(q.number, q.question.kind, q.question.stem, q.question.options, q.points)
            for q in paper.questions))

    def assign(self, actor: User, paper_id: str, target_kind: str, targets: list[str], deadline: str = "") -> int:
        """Assign a paper to accounts (``user``), groups (``group``) or everyone (``all``) with an optional
        deadline (ISO date); assigning again replaces the deadline. Returns how many targets were assigned."""
        actor = authorize(self.records, actor, "quiz")
        self.keyed(paper_id)
        if target_kind not in TARGET_KINDS:
            raise PaperError(f"分配对象类型“{target_kind}”不对：只能是 user（人员）、group（小组）或 all（全体）。")
        targets = [EVERYONE] if target_kind == "all" else [t.strip() for t in targets if t.strip()]
        if not targets:
            raise PaperError("请至少选择一个分配对象（人员或小组）。")
        users = people(self.records)
        known = {u.username for u in users} if target_kind == "user" else {u.group for u in users if u.group}
        unknown = [t for t in targets if target_kind != "all" and t not in known]
        if unknown:
            what = "账号" if target_kind == "user" else "小组"
            raise PaperError(f"没有这些{what}：{'、'.join(unknown)}；请检查拼写（kb user list 可查看）。")
        with self.records.transaction(changes_index=False) as conn:
            conn.executemany("INSERT OR REPLACE INTO quiz_assignments VALUES(?,?,?,?,?,?)",
                             [(paper_id, target_kind, t, deadline, actor.username, now()) for t in targets])
        return len(targets)

    def assignments(self, paper_id: str = "") -> list[Assignment]:
        """The assignments of one paper, or of every paper, in the order made."""
        sql = ("SELECT a.*, p.title FROM quiz_assignments a JOIN quiz_papers p ON p.id = a.paper_id"
               + (" WHERE a.paper_id=?" if paper_id else "") + " ORDER BY a.assigned_at, a.target")
        return [Assignment(r["paper_id"], r["title"], r["target_kind"], r["target"], r["deadline"], r["assigned_by"])
                for r in self.conn.execute(sql, (paper_id,) if paper_id else ())]

    def assigned_to(self, user: User) -> list[Assignment]:
        """The papers ``user`` may take: assigned to them, to their group or to everyone (one row per
        paper, the earliest deadline first; no deadline last)."""
        return applying(self.assignments(), user.username, user.group)

    def may_take(self, user: User, paper_id: str) -> Assignment:
        """The assignment that lets ``user`` take ``paper_id``; raises :class:`PaperError` if none does."""
        for a in self.assigned_to(user):
            if a.paper_id == paper_id:
                return a
        raise PaperError(f"试卷 {paper_id} 没有分配给你：请在“自测”页选择分配给你的试卷或公开练习卷。")


def applying(assignments: Iterable[Assignment], username: str, group: str) -> list[Assignment]:
    """Of ``assignments``, those for account ``username`` of ``group`` (to them, their group or everyone):
    one per paper, the one with the earliest deadline (any deadline before none), earliest deadline first."""
    mine: dict[str, Assignment] = {}
    for a in assignments:
        if (a.target_kind == "user" and a.target == username) or a.target_kind == "all" or (
                a.target_kind == "group" and group and a.target == group):
            held = mine.get(a.paper_id)
            if held is None or (a.deadline and (not held.deadline or a.deadline < held.deadline)):
                mine[a.paper_id] = a
    return sorted(mine.values(), key=lambda a: (not a.deadline, a.deadline, a.paper_id))


def deadline_of(assignments: Iterable[Assignment], paper_id: str, username: str, group: str) -> str:
    """The deadline (ISO date, '' none) that applies to account ``username`` of ``group`` for ``paper_id``
    among ``assignments``: the one :meth:`Papers.may_take` enforces on them."""
    return next((a.deadline for a in applying(assignments, username, group) if a.paper_id == paper_id), "")


def days_past(deadline: str, at: str) -> int:
    """Whole days ISO time ``at`` falls after ``deadline`` (an ISO date, its last day); 0 by it or without either."""
    if not deadline or not at:
        return 0
    return max(0, (date.fromisoformat(at[:10]) - date.fromisoformat(deadline)).days)


def people(records: Records) -> list[User]:
    """The active accounts, who may be assigned papers and have marks imported."""
    return [a.user for a in Accounts(Users(records)).list() if a.active]


def _dump_question(q: QuizQuestion) -> str:
    return json.dumps({"kind": q.kind, "stem": q.stem, "answer": q.answer, "explanation": q.explanation,
                       "sources": [[s.entry_id, s.version] for s in q.sources], "fact": q.fact, "item": q.item,
                       "options": q.options, "points": q.points, "difficulty": q.difficulty}, ensure_ascii=False)


def _load_question(text: str) -> QuizQuestion:
    d = json.loads(text)
    return QuizQuestion(d["kind"], d["stem"], tuple(d["answer"]), d["explanation"],
                        tuple(Source(e, v) for e, v in d["sources"]), d["fact"], d["item"], tuple(d["options"]),
                        tuple(d["points"]), d["difficulty"])

