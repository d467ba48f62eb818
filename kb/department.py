"""The approving department's part in the quarterly meeting (出题阅卷), always within its own 事项.

A department account (role ``department``, permission ``setpaper``) is given its 事项 by an admin
(:mod:`kb.scopes`). Through :class:`Department` it sees the questions of those 事项 in the banks,
proposes new ones and edits its own, composes a paper from them and approves the questions of its
事项 in a paper (table ``quiz_paper_approvals``; the trainer sees the approvals), grades the 简答
answers of its 事项 (:meth:`kb.attempts.Attempts.regrade`) and reads their results: per question the
answers' scores, per person only the name and the score on those questions. Every method checks
``setpaper`` and the 事项 itself; the question banks and papers are read through their unchecked
methods, since a department holds no ``quiz`` (that would show every department's questions).
Grading is blind: the answers to grade carry an answer-sheet number, never a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .attempts import Attempts, Regrade
from .papers import Paper, PaperError, Papers, people
from .quizbank import KINDS, QuizBank, QuizError, QuizQuestion
from .records import Records, now
from .scopes import Scopes
from .users import User, authorize

SCHEMA = """
CREATE TABLE IF NOT EXISTS quiz_paper_approvals (
    paper_id TEXT NOT NULL, username TEXT NOT NULL, questions INTEGER NOT NULL, approved_at TEXT NOT NULL,
    PRIMARY KEY (paper_id, username));
"""

Scope = frozenset[str] | None
_PUNCTUATION = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class BankQuestion:
    """A question of the department's 事项 with its number in its bank (from 1)."""

    bank_id: str
    number: int
    question: QuizQuestion


@dataclass(frozen=True)
class Approval:
    """Department ``username`` (shown as ``name``) approved its ``questions`` questions of a paper."""

    paper_id: str
    username: str
    name: str
    questions: int
    approved_at: str


@dataclass(frozen=True)
class ToGrade:
    """A 简答 answer of the department's 事项 on answer sheet ``attempt_id`` (no name: grading is blind);
    ``number`` is the question's number on that sheet; ``regrade`` is set once a grader marked it."""

    attempt_id: int
    paper_id: str
    number: int
    question: QuizQuestion
    points: float
    response: str
    score: float
    regrade: Regrade | None


@dataclass(frozen=True)
class QuestionResult:
    """How a question of the department's 事项 went on a paper (``number`` on version A): how many
    answered it, their average score and how many got full ``points``."""

    paper_id: str
    number: int
    question: QuizQuestion
    points: float
    answers: int
    average: float
    full: int


@dataclass(frozen=True)
class PersonResult:
    """A person's score on the department's questions of a paper: the name, nothing else about them."""

    paper_id: str
    name: str
    score: float
    points: float


def _within(scope: Scope, item: str) -> bool:
    return scope is None or item in scope


def fact_of(item: str, stem: str) -> str:
    """The fact a proposed question tests: its 事项 and its stem without spaces and punctuation."""
    return f"部门出题：{item}：{_PUNCTUATION.sub('', stem)}"


def approvals(records: Records, paper_id: str = "") -> list[Approval]:
    """The departments' approvals of one paper or of every paper, in the order made. Unchecked: for a
    caller that admitted its reader (the trainer's paper list)."""
    records.conn.executescript(SCHEMA)
    names = {u.username: u.display_name or u.username for u in people(records)}
    rows = records.conn.execute("SELECT * FROM quiz_paper_approvals" + (" WHERE paper_id=?" if paper_id else "")
                                + " ORDER BY approved_at", (paper_id,) if paper_id else ())
    return [Approval(r["paper_id"], r["username"], names.get(r["username"], r["username"]), r["questions"],
                     r["approved_at"]) for r in rows]


class Department:
    """A department's view of the banks, papers and answers, scoped to its 事项 (see the module)."""

    def __init__(self, records: Records):
        self.records = records
        self.conn = records.conn
        self.conn.executescript(SCHEMA)
        self.bank_store = QuizBank(records)
        self.paper_store = Papers(records)
        self.attempts = Attempts(records)

    def _scope(self, actor: User) -> tuple[User, Scope]:
        actor = authorize(self.records, actor, "setpaper")
        return actor, Scopes(self.records).items(actor)

    def items(self, actor: User) -> list[str]:
        """The 事项 ``actor`` sets and grades, sorted (an admin: every 事项 of the banks)."""
        _, scope = self._scope(actor)
        if scope is None:
            return [r[0] for r in self.conn.execute("SELECT DISTINCT item FROM quiz_questions WHERE item != ''"
                                                    " ORDER BY item")]
        return sorted(scope)

    def banks(self, actor: User) -> list[tuple[str, str, str, int]]:
        """Every bank as ``(id, since, until, questions of actor's 事项)``, the latest period first."""
        _, scope = self._scope(actor)
        return [(bank_id, since, until, sum(_within(scope, q.item) for q in self.bank_store.stored(bank_id)))
                for bank_id, since, until in self.bank_store.ids()]

    def questions(self, actor: User, bank_id: str) -> list[BankQuestion]:
        """The questions of ``actor``'s 事项 in bank ``bank_id`` with their numbers (stale ones marked)."""
        _, scope = self._scope(actor)
        return [BankQuestion(bank_id, n, q) for n, q in enumerate(self.bank_store.stored(bank_id), 1)
                if _within(scope, q.item)]

    def propose(self, actor: User, bank_id: str, kind: str, item: str, stem: str, options: list[str],
                answer: list[str], explanation: str, points: list[str] | None = None,
                difficulty: str = "中") -> BankQuestion:
        """Add a question of 事项 ``item`` (one of ``actor``'s; may be '' when it has just one) to bank
        ``bank_id``: ``kind`` a key of :data:`KINDS`, ``options`` the choices of a 单选/多选, ``answer``
        the key (letters, 正确/错误, the terms or a 简答's reference answer), ``points`` a 简答's 评分要点.
        Refused when the bank already tests the same fact. Returns the stored question."""
        actor, scope = self._scope(actor)
        item = item.strip() or (next(iter(scope)) if scope is not None and len(scope) == 1 else "")
        if not item:
            raise QuizError("请选择题目所属的事项。")
        if not _within(scope, item):
            raise QuizError(f"事项“{item}”不归你负责，只能为{'、'.join(sorted(scope or ()))}出题。")
        if kind not in KINDS:
            raise QuizError(f"题型“{kind}”不对：只能是 {'、'.join(f'{v}（{k}）' for k, v in KINDS.items())}。")
        kept = [p.strip() for p in (points or []) if p.strip()]
        if kind == "short" and not kept:
            raise QuizError("简答题请至少写一条评分要点（每行一条），阅卷时按要点给分。")
        question = QuizQuestion(kind, stem.strip(), tuple(a.strip() for a in answer if a.strip()),
                                explanation.strip(), (), fact_of(item, stem), item, tuple(options), tuple(kept),
                                difficulty)
        number = self.bank_store.append(bank_id, question)
        return BankQuestion(bank_id, number, self.bank_store.stored(bank_id)[number - 1])

    def edit(self, actor: User, bank_id: str, number: int, stem: str, options: list[str], answer: list[str],
             explanation: str, points: list[str] | None = None) -> BankQuestion:
        """Correct question ``number`` of a bank, which must be of ``actor``'s 事项 (see
        :meth:`kb.quizbank.QuizBank.edit`: its type, 事项 and sources stay)."""
        _, scope = self._scope(actor)
        questions = self.bank_store.stored(bank_id)
        if not 1 <= number <= len(questions) or not _within(scope, questions[number - 1].item):
            raise QuizError(f"题库 {bank_id} 第 {number} 题不是你负责事项的题目，不能修改。")
        revised = self.bank_store.revise(bank_id, number, stem, options, answer, explanation, points)
        return BankQuestion(bank_id, number, revised)

    def compose(self, actor: User, bank_id: str, title: str, counts: dict[str, int],
                points: dict[str, float] | None = None, variants: int = 1, time_limit: int = 0,
                paper_id: str = "", items: list[str] | None = None) -> Paper:
        """Compose a paper only from questions of ``actor``'s 事项 (or of the given ``items`` among them);
        see :meth:`kb.papers.Papers.compose` for the other arguments. Returns version A."""
        actor, scope = self._scope(actor)
        chosen = frozenset(i.strip() for i in (items or []) if i.strip()) or scope
        outside = sorted(i for i in (chosen or ()) if not _within(scope, i))
        if outside:
            raise PaperError(f"事项“{'、'.join(outside)}”不归你负责，不能用来组卷。")
        return self.paper_store.draw(actor, bank_id, title, counts, points, variants, time_limit, paper_id, "", chosen)

    def _paper(self, scope: Scope, paper_id: str, variant: str = "A") -> Paper:
        paper = self.paper_store.keyed(paper_id, variant)
        return replace(paper, questions=tuple(q for q in paper.questions if _within(scope, q.question.item)))

    def papers(self, actor: User) -> list[tuple[Paper, Approval | None]]:
        """The papers holding questions of ``actor``'s 事项, newest first, each with only those questions
        (version A) and ``actor``'s approval if given."""
        actor, scope = self._scope(actor)
        mine = {a.paper_id: a for a in approvals(self.records) if a.username == actor.username}
        found = [self._paper(scope, r[0]) for r in self.conn.execute(
            "SELECT id FROM quiz_papers ORDER BY created_at DESC, id")]
        return [(p, mine.get(p.id)) for p in found if p.questions]

    def approve(self, actor: User, paper_id: str) -> Approval:
        """Approve the questions of ``actor``'s 事项 in paper ``paper_id`` for the meeting (again: renewed)."""
        actor, scope = self._scope(actor)
        paper = self._paper(scope, paper_id)
        if not paper.questions:
            raise PaperError(f"试卷 {paper_id} 没有你负责事项的题目，无需你审定。")
        with self.records.transaction(changes_index=False) as conn:
            conn.execute("INSERT OR REPLACE INTO quiz_paper_approvals VALUES(?,?,?,?)",
                         (paper_id, actor.username, len(paper.questions), now()))
        return next(a for a in approvals(self.records, paper_id) if a.username == actor.username)

    def _versions(self, scope: Scope, rows: list) -> dict[tuple[str, str], Paper]:
        """Each paper version the attempt ``rows`` took, read once, with only the questions of ``scope``."""
        return {v: self._paper(scope, *v) for v in {(r["paper_id"], r["variant"]) for r in rows}}

    def _submitted(self, paper_id: str) -> list:
        return self.conn.execute("SELECT id, paper_id, variant, username FROM quiz_attempts WHERE submitted_at != ''"
                                 + (" AND paper_id=?" if paper_id else "") + " ORDER BY id",
                                 (paper_id,) if paper_id else ()).fetchall()

    def _responses(self, attempt_id: int) -> dict[int, tuple[str, float]]:
        return {r[0]: (r[1], r[2]) for r in self.conn.execute(
            "SELECT number, response, score FROM quiz_responses WHERE attempt_id=?", (attempt_id,))}

    def to_grade(self, actor: User, paper_id: str = "", pending_only: bool = False) -> list[ToGrade]:
        """The submitted 简答 answers of ``actor``'s 事项 (of one paper or all), by answer sheet; only
        those no grader has marked yet with ``pending_only``."""
        _, scope = self._scope(actor)
        rows = self._submitted(paper_id)
        marked = self.attempts.regrades(r["id"] for r in rows)
        papers = self._versions(scope, rows)
        found = []
        for r in rows:
            answers = self._responses(r["id"])
            for q in papers[r["paper_id"], r["variant"]].questions:
                if q.question.kind != "short" or q.number not in answers:
                    continue
                regrade = marked.get((r["id"], q.number))
                if not (pending_only and regrade):
                    found.append(ToGrade(r["id"], r["paper_id"], q.number, q.question, q.points,
                                         *answers[q.number], regrade))
        return found

    def grade(self, actor: User, attempt_id: int, number: int, score: float, note: str = "") -> Regrade:
        """Mark 简答 ``number`` of answer sheet ``attempt_id`` ``score`` points (replacing the automatic
        mark; the sheet's total follows); the question must be of ``actor``'s 事项."""
        actor, _ = self._scope(actor)
        if not any(g.attempt_id == attempt_id and g.number == number for g in self.to_grade(actor)):
            raise PaperError(f"答卷 {attempt_id} 第 {number} 题不是你负责事项的简答题，不能评分："
                             "用 kb dept to-grade 查看待阅的题目。")
        return self.attempts.regrade(attempt_id, number, score, note, actor.username)

    def results(self, actor: User, paper_id: str = "") -> tuple[list[QuestionResult], list[PersonResult]]:
        """How the questions of ``actor``'s 事项 went (per paper and question, numbered as on version A)
        and each person's name with their score on those questions; no group, no account names."""
        _, scope = self._scope(actor)
        names = {u.username: u.display_name or u.username for u in people(self.records)}
        scored: dict[tuple[str, str], list[float]] = {}
        persons: dict[tuple[str, str], list[float]] = {}
        rows = self._submitted(paper_id)
        papers = self._versions(scope, rows)
        for r in rows:
            answers = self._responses(r["id"])
            for q in papers[r["paper_id"], r["variant"]].questions:
                if q.number in answers:
                    scored.setdefault((r["paper_id"], q.key), []).append(answers[q.number][1])
                    totals = persons.setdefault((r["paper_id"], r["username"]), [0.0, 0.0])
                    totals[0] += answers[q.number][1]
                    totals[1] += q.points
        first = {pid: self._paper(scope, pid) for pid, _ in scored}
        questions = []
        for (pid, key), scores in scored.items():
            q = next(q for q in first[pid].questions if q.key == key)
            questions.append(QuestionResult(pid, q.number, q.question, q.points, len(scores),
                                            sum(scores) / len(scores), sum(s >= q.points for s in scores)))
        questions.sort(key=lambda x: (x.paper_id, x.number))
        people_ = sorted((PersonResult(pid, names.get(user, user), s, p) for (pid, user), (s, p) in persons.items()),
                         key=lambda x: (x.paper_id, -x.score, x.name))
        return questions, people_
