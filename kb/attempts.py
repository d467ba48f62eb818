"""Attempts: a person taking a paper, their answers and marks.

An attempt (table ``quiz_attempts``) is started by someone a paper is assigned to and gets one
version of it (A or B, the same for a person every time); starting again before submitting returns the
open attempt, so reloading the page keeps the timer and the answers saved as a draft (:mod:`kb.attempt_drafts`).
Submitting grades every answer with the grader the caller passes (:mod:`bot.grading`; this module knows
no grading rules), stores each answer with its marks (``quiz_responses``) and discards the draft. An
attempt is submitted once. Scores are kept per person with their group at the time and the quarter of
submission, so results can be read per person, per group and per quarter.

Attempts taken on paper are imported with their marks by :mod:`kb.paper_marks`, as ``mode='paper'``.

A grader may change the marks of a submitted answer (:meth:`Attempts.regrade`, a department grading
the 简答 of its 事项): the answer's score and the attempt's total change, and ``quiz_regrades`` keeps the
automatic mark it replaced with who graded it and when.

The wrong-answer book built from the answers is :mod:`kb.wrong_book`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from . import attempt_drafts, audit
from .papers import Assignment, Paper, PaperError, PaperQuestion, Papers, Sheet, days_past, deadline_of
from .quizbank import QuizQuestion, quarter_range
from .records import Records, now
from .users import User, authorize

SCHEMA = """
CREATE TABLE IF NOT EXISTS quiz_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, paper_id TEXT NOT NULL, variant TEXT NOT NULL,
    username TEXT NOT NULL, group_name TEXT NOT NULL, quarter TEXT NOT NULL, mode TEXT NOT NULL,
    started_at TEXT NOT NULL, submitted_at TEXT NOT NULL, score REAL NOT NULL, total REAL NOT NULL);
CREATE TABLE IF NOT EXISTS quiz_responses (
    attempt_id INTEGER NOT NULL, number INTEGER NOT NULL, question_key TEXT NOT NULL, response TEXT NOT NULL,
    points REAL NOT NULL, score REAL NOT NULL, missed TEXT NOT NULL, note TEXT NOT NULL,
    PRIMARY KEY (attempt_id, number));
CREATE TABLE IF NOT EXISTS quiz_regrades (
    attempt_id INTEGER NOT NULL, number INTEGER NOT NULL, auto_score REAL NOT NULL, auto_note TEXT NOT NULL,
    score REAL NOT NULL, note TEXT NOT NULL, graded_by TEXT NOT NULL, graded_at TEXT NOT NULL,
    PRIMARY KEY (attempt_id, number));
"""


GRACE_MINUTES = 2
"""Minutes past a paper's time limit still counted as on time (the page's last tick, a slow network)."""


@dataclass(frozen=True)
class Marking:
    """The marks of one answer: ``score`` out of the question's points, ``missed`` the key points (简答)
    or terms not given, ``note`` a remark for the taker (e.g. why an answer counted)."""

    score: float
    points: float
    missed: tuple[str, ...] = ()
    note: str = ""

    @property
    def correct(self) -> bool:
        return self.score >= self.points


Grader = Callable[[QuizQuestion, str, float], Marking]
"""Grades ``response`` to a question worth ``points``: (question with its key, response, points) -> marks."""


@dataclass(frozen=True)
class Attempt:
    """An attempt's summary: ``submitted_at`` is '' while it is open; ``score``/``total`` in points."""

    id: int
    paper_id: str
    variant: str
    username: str
    group: str
    quarter: str
    mode: str
    started_at: str
    submitted_at: str
    score: float
    total: float


@dataclass(frozen=True)
class Submission:
    """An open attempt's answers about to be graded: every question number -> the answer ('' unanswered)."""

    attempt_id: int
    paper: Paper
    answers: dict[int, str]

    def marks(self, grade: Grader) -> list[Marking]:
        """Each answer graded by ``grade``, in the paper's question order (touches no database)."""
        return [grade(q.question, self.answers[q.number], q.points) for q in self.paper.questions]


@dataclass(frozen=True)
class Answered:
    """One graded answer of a submitted attempt, with the question, its key and explanation."""

    question: PaperQuestion
    response: str
    marking: Marking


@dataclass(frozen=True)
class Result:
    """A submitted attempt with every answer graded; ``time_limit`` the paper's, in minutes (0: untimed);
    ``deadline`` the last day (ISO date, '' none) of the taker's assignment of the paper as it stands."""

    attempt: Attempt
    title: str
    answers: tuple[Answered, ...]
    time_limit: int = 0
    deadline: str = ""

    @property
    def late_minutes(self) -> int:
        """Whole minutes an online attempt was handed in after its time limit plus :data:`GRACE_MINUTES`
        (0 when on time, untimed or taken on paper). The page submits on time by itself, so lateness
        means the answers came another way; the result says so."""
        a = self.attempt
        if not self.time_limit or a.mode != "online" or not a.submitted_at:
            return 0
        return max(0, int(overtime(a.started_at, a.submitted_at, self.time_limit)))

    @property
    def overdue_days(self) -> int:
        """Days an online attempt was handed in after its ``deadline`` (0: by it, none, or on paper); it can be, as
        one started by the deadline may be submitted (or submitted by the page at time-up) after it."""
        return days_past(self.deadline, self.attempt.submitted_at) if self.attempt.mode == "online" else 0


@dataclass(frozen=True)
class Regrade:
    """A grader's mark of an answer: the automatic ``auto_score`` (and note) it replaced, the ``score``
    given, the grader's ``note``, who graded (``graded_by``, a username) and when (``graded_at``)."""

    attempt_id: int
    number: int
    auto_score: float
    auto_note: str
    score: float
    note: str
    graded_by: str
    graded_at: str


def overtime(started_at: str, at: str, time_limit: int) -> float:
    """Minutes from ``started_at`` to ``at`` (ISO times) beyond ``time_limit`` + :data:`GRACE_MINUTES`; < 0 in time."""
    taken = (datetime.fromisoformat(at) - datetime.fromisoformat(started_at)).total_seconds() / 60
    return taken - time_limit - GRACE_MINUTES


def quarter_of(day: str) -> str:
    """``2026-11-30`` (or a timestamp) -> ``2026Q4``."""
    return f"{day[:4]}Q{(int(day[5:7]) - 1) // 3 + 1}"


class Attempts:
    """Attempts and answers in the record store's SQLite database."""

    def __init__(self, records: Records):
        self.records = records
        self.conn = records.conn
        self.papers = Papers(records)
        self.conn.executescript(SCHEMA + attempt_drafts.SCHEMA)

    def start(self, user: User, paper_id: str) -> tuple[Attempt, Sheet]:
        """Start (or resume the open) attempt of ``user`` at a paper assigned to them: the attempt and the
        sheet of its version, without the key. Past a deadline a paper can no longer be started; an
        assigned paper is taken once, an open practice paper (everyone, no deadline) again and again."""
        user = authorize(self.records, user, "exam")
        assignment = self.papers.may_take(user, paper_id)
        open_row = self.conn.execute(
            "SELECT id FROM quiz_attempts WHERE paper_id=? AND username=? AND submitted_at='' AND mode='online'",
            (paper_id, user.username)).fetchone()
        if open_row:
            attempt = self.attempt(user, open_row[0])
            return attempt, self.papers.sheet(paper_id, attempt.variant)
        practice = assignment.target_kind == "all" and not assignment.deadline
        done = self.conn.execute("SELECT submitted_at FROM quiz_attempts WHERE paper_id=? AND username=?"
                                 " AND submitted_at != '' AND mode='online'", (paper_id, user.username)).fetchone()
        if done and not practice:
            raise PaperError(f"你已于 {done[0][:16].replace('T', ' ')} 交卷，试卷 {paper_id} 只能作答一次；"
                             "答错的题目可以在错题本里重做。")
        assignment.check_deadline()
        variants = self.papers.keyed(paper_id).variants
        variant = variants[sum(map(ord, user.username)) % len(variants)]
        sheet = self.papers.sheet(paper_id, variant)
        with self.records.transaction(changes_index=False) as conn:
            cursor = conn.execute(
                "INSERT INTO quiz_attempts(paper_id, variant, username, group_name, quarter, mode, started_at,"
                " submitted_at, score, total) VALUES(?,?,?,?,?,?,?,?,?,?)",
                (paper_id, variant, user.username, user.group, "", "online", now(), "", 0.0, sheet.total))
        return self.attempt(user, cursor.lastrowid), sheet

    def attempt(self, user: User, attempt_id: int) -> Attempt:
        """One attempt: the taker's own, or anyone's for a holder of ``quiz``."""
        row = self.conn.execute("SELECT * FROM quiz_attempts WHERE id=?", (attempt_id,)).fetchone()
        if row is None:
            raise PaperError(f"没有编号为 {attempt_id} 的答卷。")
        if row["username"] != user.username:
            authorize(self.records, user, "quiz")
        return _attempt(row)

    def submit(self, user: User, attempt_id: int, responses: dict[int, str], grade: Grader) -> Result:
        """Grade and store ``responses`` (question number -> answer; a missing number is unanswered) of the
        open attempt ``attempt_id`` of ``user``; an attempt is submitted once. A caller holding a lock
        over the records can instead call :meth:`handing_in`, grade without the lock
        (:meth:`Submission.marks`), then :meth:`hand_in`."""
        submission = self.handing_in(user, attempt_id, responses)
        return self.hand_in(user, submission, submission.marks(grade))

    def handing_in(self, user: User, attempt_id: int, responses: dict[int, str]) -> Submission:
        """The answers of ``user``'s open attempt ready to grade (checked: their own, open, known numbers).
        The submission holds the key for the grader; it is not for showing to the taker."""
        attempt = self.attempt(user, attempt_id)
        if attempt.username != user.username:
            raise PaperError("只能作答和提交自己的答卷。")
        if attempt.submitted_at:
            raise PaperError(f"答卷 {attempt_id} 已于 {attempt.submitted_at[:16].replace('T', ' ')} 提交，"
                             "不能重复提交或修改答案。")
        paper = self.papers.keyed(attempt.paper_id, attempt.variant)
        unknown = sorted(set(responses) - {q.number for q in paper.questions})
        if unknown:
            raise PaperError(f"试卷没有第 {'、'.join(map(str, unknown))} 题，请刷新页面后重新作答。")
        answers = {q.number: str(responses.get(q.number) or "").strip() for q in paper.questions}
        return Submission(attempt.id, paper, answers)

    def save_draft(self, user: User, attempt_id: int, responses: dict[int, str]) -> str:
        """Save ``responses`` (question number -> answer; '' clears one) of ``user``'s open attempt as its draft,
        each replacing that question's saved answer; the ISO time saved. Refused (:class:`PaperError`) as
        :meth:`handing_in` refuses, past the paper's deadline or its time limit plus :data:`GRACE_MINUTES`."""
        submission = self.handing_in(user, attempt_id, responses)
        attempt, at, limit = self.attempt(user, attempt_id), now(), submission.paper.time_limit
        self.papers.may_take(user, attempt.paper_id).check_deadline()
        if limit and overtime(attempt.started_at, at, limit) > 0:
            raise PaperError(f"答卷 {attempt_id} 限时 {limit} 分钟，作答时间已到，答案不能再保存：请交卷。")
        with self.records.transaction(changes_index=False) as conn:
            attempt_drafts.store(conn, attempt_id, {n: submission.answers[n] for n in responses}, at)
        return at

    def draft(self, user: User, attempt_id: int) -> dict[int, str]:
        """The draft of ``user``'s own attempt: question number -> saved answer (empty once submitted)."""
        if self.attempt(user, attempt_id).username != user.username:
            raise PaperError("只能查看自己答卷的草稿。")
        return attempt_drafts.load(self.conn, attempt_id)

    def hand_in(self, user: User, submission: Submission, marks: list[Marking]) -> Result:
        """Store a graded :class:`Submission` (``marks`` in its paper's question order) and return the
        result; refused if the attempt was submitted meanwhile."""
        attempt = self.attempt(user, submission.attempt_id)
        if len(marks) != len(submission.paper.questions) or attempt.username != user.username:
            raise PaperError("评分结果与答卷不符，请重新提交。")
        with self.records.transaction(changes_index=False) as conn:
            written = close_attempt(conn, attempt.id, [(q, submission.answers[q.number], m)
                                                   for q, m in zip(submission.paper.questions, marks)], now())
        if not written:
            raise PaperError(f"答卷 {attempt.id} 已经提交过，不能重复提交。")
        return self.result(user, attempt.id)

    def result(self, user: User, attempt_id: int) -> Result:
        """A submitted attempt with each answer, its marks, the key and the explanation."""
        attempt = self.attempt(user, attempt_id)
        if not attempt.submitted_at:
            raise PaperError(f"答卷 {attempt_id} 还没有提交：提交后才能看到答案和解析。")
        return self._graded(attempt, self.papers.keyed(attempt.paper_id, attempt.variant),
                            self.papers.assignments(attempt.paper_id))

    def _graded(self, attempt: Attempt, paper: Paper, assigned: list[Assignment]) -> Result:
        rows = {r["number"]: r for r in self.conn.execute(
            "SELECT * FROM quiz_responses WHERE attempt_id=?", (attempt.id,))}
        answers = tuple(Answered(q, rows[q.number]["response"], marking(rows[q.number]))
                        for q in paper.questions if q.number in rows)
        deadline = deadline_of(assigned, attempt.paper_id, attempt.username, attempt.group)
        return Result(attempt, paper.title, answers, paper.time_limit, deadline)

    def mine(self, user: User) -> list[Attempt]:
        """``user``'s own attempts, the newest first."""
        rows = self.conn.execute("SELECT * FROM quiz_attempts WHERE username=? ORDER BY id DESC", (user.username,))
        return [_attempt(r) for r in rows]

    def scores(self, actor: User, quarter: str = "", paper_id: str = "") -> list[Attempt]:
        """Every submitted attempt (of one quarter, such as ``2026Q4``, and/or paper), for the trainer's
        results; a quarter written another way raises :class:`~kb.quizbank.QuizError`."""
        authorize(self.records, actor, "quiz")
        sql = "SELECT * FROM quiz_attempts WHERE submitted_at != ''"
        args: list[str] = []
        if quarter:
            quarter_range(quarter)
            sql, args = sql + " AND quarter=?", args + [quarter.strip().upper()]
        if paper_id:
            sql, args = sql + " AND paper_id=?", args + [paper_id]
        return [_attempt(r) for r in self.conn.execute(sql + " ORDER BY group_name, username, id", args)]

    def results(self, actor: User, quarter: str = "", paper_id: str = "") -> list[Result]:
        """:meth:`scores` with every graded answer, for the report."""
        attempts = self.scores(actor, quarter, paper_id)
        papers, assigned = self.papers.versions((a.paper_id, a.variant) for a in attempts), self.papers.assignments(paper_id)
        return [self._graded(a, papers[a.paper_id, a.variant], assigned) for a in attempts]

    def regrade(self, attempt_id: int, number: int, score: float, note: str, by: str) -> Regrade:
        """Give answer ``number`` of submitted attempt ``attempt_id`` ``score`` points (0..its points) with
        the grader's ``note``, as username ``by``; the attempt's total follows. Unchecked: the caller has
        checked ``by`` may grade this question (:mod:`kb.department`). The first automatic mark is kept
        however often the answer is regraded; logged as ``regrade``."""
        row = self.conn.execute(
            "SELECT r.*, a.submitted_at FROM quiz_responses r JOIN quiz_attempts a ON a.id = r.attempt_id"
            " WHERE r.attempt_id=? AND r.number=?", (attempt_id, number)).fetchone()
        if row is None or not row["submitted_at"]:
            raise PaperError(f"答卷 {attempt_id} 没有已提交的第 {number} 题：请检查答卷编号和题号。")
        if not 0 <= score <= row["points"]:
            raise PaperError(f"第 {number} 题得分 {score:g} 超出范围：应在 0 至 {row['points']:g} 分之间。")
        at, note = now(), note.strip()
        with self.records.transaction(changes_index=False) as conn:
            conn.execute("INSERT INTO quiz_regrades VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(attempt_id, number) DO UPDATE"
                         " SET score=excluded.score, note=excluded.note, graded_by=excluded.graded_by,"
                         " graded_at=excluded.graded_at",
                         (attempt_id, number, row["score"], row["note"], score, note, by, at))
            missed = "[]" if score >= row["points"] else row["missed"]
            conn.execute("UPDATE quiz_responses SET score=?, note=?, missed=? WHERE attempt_id=? AND number=?",
                         (score, "阅卷评分" + (f"：{note}" if note else ""), missed, attempt_id, number))
            conn.execute("UPDATE quiz_attempts SET score=(SELECT SUM(score) FROM quiz_responses WHERE attempt_id=?)"
                         " WHERE id=?", (attempt_id, attempt_id))
            audit.record(conn, by, "regrade", f"attempt:{attempt_id}#{number}", before={"score": row["score"]},
                         after={"score": score}, reason=note, at=at)
        return self.regrades([attempt_id])[(attempt_id, number)]

    def regrades(self, attempt_ids: Iterable[int]) -> dict[tuple[int, int], Regrade]:
        """The graders' marks of the answers of ``attempt_ids``, by ``(attempt id, question number)``."""
        ids = list(attempt_ids)
        rows = self.conn.execute(f"SELECT * FROM quiz_regrades WHERE attempt_id IN ({','.join('?' * len(ids))})",
                                 ids) if ids else []
        return {(r["attempt_id"], r["number"]): Regrade(*r) for r in rows}

def close_attempt(conn, attempt_id: int, marked: list[tuple[PaperQuestion, str, Marking]], at: str) -> bool:
    """Close open attempt ``attempt_id`` with its marked answers (question, response, marks) at ISO time
    ``at`` in the transaction ``conn``; False (and nothing written) if it was already closed."""
    score = sum(m.score for _, _, m in marked)
    closed = conn.execute("UPDATE quiz_attempts SET submitted_at=?, quarter=?, score=?"
                          " WHERE id=? AND submitted_at=''", (at, quarter_of(at), score, attempt_id))
    if closed.rowcount == 0:
        return False
    attempt_drafts.discard(conn, attempt_id)
    conn.executemany("INSERT INTO quiz_responses VALUES(?,?,?,?,?,?,?,?)", [
        (attempt_id, q.number, q.key, response, q.points, m.score, json.dumps(m.missed, ensure_ascii=False),
         m.note) for q, response, m in marked])
    return True


def _attempt(row) -> Attempt:
    return Attempt(row["id"], row["paper_id"], row["variant"], row["username"], row["group_name"], row["quarter"],
                   row["mode"], row["started_at"], row["submitted_at"], row["score"], row["total"])


def marking(row) -> Marking:
    """The marks of a ``quiz_responses`` row."""
    return Marking(row["score"], row["points"], tuple(json.loads(row["missed"])), row["note"])
