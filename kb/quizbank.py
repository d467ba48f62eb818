"""Question banks: the quarterly banks of exam questions generated from the entries, kept across quarters.

A bank (table ``quiz_banks``) covers a period (``since``..``until``, ISO dates, usually a quarter such
as ``2026Q4``) and holds questions (table ``quiz_questions``). Every question records the entries it
came from with the version it was made from (``sources``); a question is *stale* when one of them has
since been edited (a newer version), superseded by a published successor, or withdrawn. Each
question also records the *fact* it tests (a normalized key), so no bank tests one fact twice and a
new bank can avoid last quarter's questions.

Banks hold the answer keys, so building and reading them needs the ``quiz`` permission. The unchecked
methods (:meth:`QuizBank.stored`, :meth:`QuizBank.append`, :meth:`QuizBank.revise`) are for callers
that have checked their own permission, as :mod:`kb.department` does for a department's 事项.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date

from .dates import require_date
from .errors import KBError
from .records import Records, now
from .types import Entry
from .users import User, authorize

SCHEMA = """
CREATE TABLE IF NOT EXISTS quiz_banks (
    id TEXT PRIMARY KEY, since TEXT NOT NULL, until TEXT NOT NULL, created_at TEXT NOT NULL,
    created_by TEXT NOT NULL, filters TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS quiz_questions (
    bank_id TEXT NOT NULL, position INTEGER NOT NULL, kind TEXT NOT NULL, stem TEXT NOT NULL,
    options TEXT NOT NULL, answer TEXT NOT NULL, explanation TEXT NOT NULL, points TEXT NOT NULL,
    difficulty TEXT NOT NULL, item TEXT NOT NULL, fact TEXT NOT NULL, sources TEXT NOT NULL,
    PRIMARY KEY (bank_id, position));
"""

KINDS: dict[str, str] = {"single": "单选", "multiple": "多选", "judge": "判断", "blank": "填空", "short": "简答"}
"""Question type -> its Chinese name."""
DIFFICULTIES = ("易", "中", "难")

_QUARTER = re.compile(r"^(\d{4})\s*[Qq]([1-4])$")


class QuizError(KBError):
    """A bank cannot be built or read as asked (a bad quarter, an unknown bank, a duplicate id)."""


@dataclass(frozen=True)
class Source:
    """An entry a question came from, at the version it was made from."""

    entry_id: str
    version: int


@dataclass(frozen=True)
class QuizQuestion:
    """One question: ``kind`` is a key of :data:`KINDS`; ``options`` are the choices (单选/多选/判断,
    empty otherwise); ``answer`` the key (option letters, ``正确``/``错误``, the blanked term or the
    reference answer); ``points`` the grading key points of a 简答; ``fact`` what it tests;
    ``stale`` is filled in when read from a bank."""

    kind: str
    stem: str
    answer: tuple[str, ...]
    explanation: str
    sources: tuple[Source, ...]
    fact: str
    item: str = ""
    options: tuple[str, ...] = ()
    points: tuple[str, ...] = ()
    difficulty: str = "中"
    stale: str = field(default="", compare=False)

    @property
    def label(self) -> str:
        return KINDS[self.kind]

    @property
    def key_line(self) -> str:
        """The key as one line for people: ``正确答案：AC`` (or the term, 正确/错误), ``评分要点：…；…`` for a 简答."""
        if self.kind == "short":
            return "评分要点：" + "；".join(self.points)
        return "正确答案：" + "".join(self.answer)


@dataclass(frozen=True)
class Bank:
    """A stored bank: its id (e.g. ``2026Q4``), period, who built it and when, its filters, and how
    many of its questions there are and how many are stale."""

    id: str
    since: str
    until: str
    created_at: str
    created_by: str
    filters: dict
    questions: int = 0
    stale: int = 0


def quarter_range(quarter: str) -> tuple[str, str]:
    """``2026Q4`` -> ``("2026-10-01", "2026-12-31")``; raises :class:`QuizError` on another form."""
    match = _QUARTER.match(quarter.strip())
    if not match:
        raise QuizError(f"季度“{quarter}”格式不对：请写成 年份Q季度，例如 2026Q4。")
    year, q = int(match.group(1)), int(match.group(2))
    end = date(year, 3 * q, 31 if q in (1, 4) else 30)
    return date(year, 3 * q - 2, 1).isoformat(), end.isoformat()


def period(quarter: str = "", since: str = "", until: str = "") -> tuple[str, str, str]:
    """``(default bank id, since, until)``: the date range when either date is given (both are then
    needed; any form :func:`kb.dates.require_date` reads), else the quarter (``2026Q4``)."""
    start, end = require_date(since or "", "起始日期"), require_date(until or "", "截止日期")
    if start or end:
        if not (start and end):
            raise QuizError("按日期出题时请同时给出起始日期和截止日期；按季度出题请只写季度。")
        if start > end:
            raise QuizError(f"起始日期 {start} 晚于截止日期 {end}，请对调。")
        return f"{start}~{end}", start, end
    quarter = (quarter or "").strip().upper().replace(" ", "")
    if not quarter:
        raise QuizError("请给出季度（如 2026Q4），或同时给出起始日期和截止日期。")
    start, end = quarter_range(quarter)
    return quarter, start, end


def difficulty_mix(text: str = "") -> dict[str, float] | None:
    """``易:中:难`` shares such as ``3:5:2`` as fractions per 难度 (summing to 1); None when empty."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        shares = [float(p) for p in re.split(r"[:：/]", text)]
    except ValueError:
        shares = []
    if len(shares) != len(DIFFICULTIES) or min(shares) < 0 or sum(shares) <= 0:
        raise QuizError(f"难度比例“{text}”格式不对：请按 易:中:难 写三个数，例如 3:5:2；不写表示不限。")
    return {level: share / sum(shares) for level, share in zip(DIFFICULTIES, shares)}


class QuizBank:
    """The question banks in the record store's SQLite database (tables created on first use)."""

    def __init__(self, records: Records):
        self.records = records
        self.conn = records.conn
        self.conn.executescript(SCHEMA)

    def save(self, actor: User, bank_id: str, since: str, until: str, filters: dict,
             questions: list[QuizQuestion], replace: bool = False) -> Bank:
        """Store ``questions`` as bank ``bank_id``; an existing bank of that id needs ``replace``."""
        actor = authorize(self.records, actor, "quiz")
        facts = [q.fact for q in questions]
        if len(set(facts)) != len(facts):
            raise QuizError("题库中有两道题考查同一知识点：请去掉重复的题目后再保存。")
        with self.records.transaction(changes_index=False) as conn:
            if conn.execute("SELECT 1 FROM quiz_banks WHERE id=?", (bank_id,)).fetchone():
                if not replace:
                    raise QuizError(f"题库 {bank_id} 已存在：换一个编号（--name），或加 --replace 重新生成。")
                conn.execute("DELETE FROM quiz_questions WHERE bank_id=?", (bank_id,))
                conn.execute("DELETE FROM quiz_banks WHERE id=?", (bank_id,))
            conn.execute("INSERT INTO quiz_banks VALUES(?,?,?,?,?,?)",
                         (bank_id, since, until, now(), actor.username, json.dumps(filters, ensure_ascii=False)))
            conn.executemany("INSERT INTO quiz_questions VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", [
                (bank_id, i, q.kind, q.stem, _dump(q.options), _dump(q.answer), q.explanation, _dump(q.points),
                 q.difficulty, q.item, q.fact, _dump([asdict(s) for s in q.sources]))
                for i, q in enumerate(questions, 1)])
        return self.bank(actor, bank_id)

    def banks(self, actor: User) -> list[Bank]:
        """Every bank, the latest period first, with its question and stale counts."""
        authorize(self.records, actor, "quiz")
        ids = [r[0] for r in self.conn.execute("SELECT id FROM quiz_banks ORDER BY until DESC, created_at DESC")]
        return [self.bank(actor, bank_id) for bank_id in ids]

    def bank(self, actor: User, bank_id: str) -> Bank:
        """One bank with its counts; raises :class:`QuizError` if there is none of that id."""
        authorize(self.records, actor, "quiz")
        row = self.conn.execute("SELECT * FROM quiz_banks WHERE id=?", (bank_id,)).fetchone()
        if row is None:
            raise QuizError(f"没有编号为 {bank_id} 的题库：用 kb quiz list 查看已有题库。")
        questions = self._questions(bank_id)
        return Bank(row["id"], row["since"], row["until"], row["created_at"], row["created_by"],
                    json.loads(row["filters"]), len(questions), sum(1 for q in questions if q.stale))

    def questions(self, actor: User, bank_id: str) -> list[QuizQuestion]:
        """A bank's questions in order, each with ``stale`` set to why it is stale (empty if current)."""
        self.bank(actor, bank_id)
        return self._questions(bank_id)

    def stored(self, bank_id: str) -> list[QuizQuestion]:
        """:meth:`questions` without the permission check (the caller has checked its own); raises
        :class:`QuizError` if there is no bank ``bank_id``."""
        if self.conn.execute("SELECT 1 FROM quiz_banks WHERE id=?", (bank_id,)).fetchone() is None:
            raise QuizError(f"没有编号为 {bank_id} 的题库：请检查题库编号（kb quiz list 或 kb dept banks 可查看）。")
        return self._questions(bank_id)

    def ids(self) -> list[tuple[str, str, str]]:
        """Every bank as ``(id, since, until)``, the latest period first (no questions, no keys)."""
        return [(r[0], r[1], r[2]) for r in self.conn.execute(
            "SELECT id, since, until FROM quiz_banks ORDER BY until DESC, created_at DESC")]

    def add(self, actor: User, bank_id: str, question: QuizQuestion) -> int:
        """Append a trainer's ``question`` to a bank (:meth:`append`); needs ``quiz``."""
        authorize(self.records, actor, "quiz")
        return self.append(bank_id, question)

    def append(self, bank_id: str, question: QuizQuestion) -> int:
        """Append ``question`` to bank ``bank_id`` after checking its key fits its type and that no question
        of the bank tests its fact; unchecked (the caller has checked its permission). Returns its number."""
        q = question
        options = ([o.strip() for o in q.options if o.strip()] if q.kind in ("single", "multiple")
                   else ["正确", "错误"] if q.kind == "judge" else [])
        if q.kind not in KINDS:
            raise QuizError(f"题型“{q.kind}”不对：只能是 {'、'.join(f'{v}（{k}）' for k, v in KINDS.items())}。")
        if q.difficulty not in DIFFICULTIES:
            raise QuizError(f"难度“{q.difficulty}”不对：只能是 {'、'.join(DIFFICULTIES)}。")
        _check_key(q.kind, q.stem.strip(), options, list(q.answer))
        with self.records.transaction(changes_index=False) as conn:
            if conn.execute("SELECT 1 FROM quiz_banks WHERE id=?", (bank_id,)).fetchone() is None:
                raise QuizError(f"没有编号为 {bank_id} 的题库：请检查题库编号（kb quiz list 或 kb dept banks 可查看）。")
            if conn.execute("SELECT 1 FROM quiz_questions WHERE bank_id=? AND fact=?",
                            (bank_id, q.fact)).fetchone():
                raise QuizError(f"题库 {bank_id} 已有考查同一知识点的题目：请换一个知识点，或修改已有的题目。")
            position = conn.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM quiz_questions WHERE bank_id=?",
                                    (bank_id,)).fetchone()[0]
            conn.execute("INSERT INTO quiz_questions VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
                         (bank_id, position, q.kind, q.stem.strip(), _dump(options), _dump(q.answer),
                          q.explanation.strip(), _dump(q.points), q.difficulty, q.item, q.fact,
                          _dump([asdict(s) for s in q.sources])))
        return position

    def _questions(self, bank_id: str) -> list[QuizQuestion]:
        rows = self.conn.execute("SELECT * FROM quiz_questions WHERE bank_id=? ORDER BY position", (bank_id,))
        successors = {old: new for new, old, _ in self.records.supersessions()}
        found = []
        for r in rows:
            sources = tuple(Source(**s) for s in json.loads(r["sources"]))
            found.append(QuizQuestion(
                r["kind"], r["stem"], tuple(json.loads(r["answer"])), r["explanation"], sources, r["fact"], r["item"],
                tuple(json.loads(r["options"])), tuple(json.loads(r["points"])), r["difficulty"],
                "；".join(filter(None, (self._staleness(s, successors) for s in sources)))))
        return found

    def _staleness(self, source: Source, successors: dict[str, str]) -> str:
        state = self.records.state(source.entry_id)
        if state is None or state.status != "published":
            return f"{source.entry_id} 已不再发布"
        if source.entry_id in successors:
            return f"{source.entry_id} 已被 {successors[source.entry_id]} 替代"
        if state.version != source.version:
            return f"{source.entry_id} 已修改（出题时第 {source.version} 版，现为第 {state.version} 版）"
        return ""

    def edit(self, actor: User, bank_id: str, position: int, stem: str, options: list[str], answer: list[str],
             explanation: str, points: list[str] | None = None) -> QuizQuestion:
        """Replace the text of question ``position`` (from 1) of a bank as a trainer corrected it; its
        type, sources and fact stay. The key must fit the type: one option letter for 单选, two or more
        for 多选, 正确/错误 for 判断, a non-empty term or reference answer otherwise."""
        authorize(self.records, actor, "quiz")
        return self.revise(bank_id, position, stem, options, answer, explanation, points)

    def revise(self, bank_id: str, position: int, stem: str, options: list[str], answer: list[str],
               explanation: str, points: list[str] | None = None) -> QuizQuestion:
        """:meth:`edit` without the permission check (the caller has checked its own)."""
        questions = self.stored(bank_id)
        if not 1 <= position <= len(questions):
            raise QuizError(f"题库 {bank_id} 没有第 {position} 题（共 {len(questions)} 题）。")
        kind = questions[position - 1].kind
        stem, explanation = stem.strip(), explanation.strip()
        options = ([o.strip() for o in options if o.strip()] if kind in ("single", "multiple")
                   else ["正确", "错误"] if kind == "judge" else [])
        answer = [a.strip() for a in answer if a.strip()]
        _check_key(kind, stem, options, answer)
        with self.records.transaction(changes_index=False) as conn:
            conn.execute("UPDATE quiz_questions SET stem=?, options=?, answer=?, explanation=?, points=?"
                         " WHERE bank_id=? AND position=?",
                         (stem, _dump(options), _dump(answer), explanation,
                          _dump(p.strip() for p in (points or []) if p.strip()), bank_id, position))
        return self.stored(bank_id)[position - 1]

    def previous_facts(self, before: str) -> set[str]:
        """The facts tested by the latest bank whose period ends before ``before`` (last quarter's bank)."""
        row = self.conn.execute("SELECT id FROM quiz_banks WHERE until < ? ORDER BY until DESC, created_at DESC",
                                (before,)).fetchone()
        if row is None:
            return set()
        return {r[0] for r in self.conn.execute("SELECT fact FROM quiz_questions WHERE bank_id=?", (row[0],))}


def period_entries(records: Records, since: str, until: str, item: str = "", department: str = "",
                   earlier: bool = False) -> list[tuple[Entry, int]]:
    """The current published entries (not superseded, not expired by ``until``) dated ``since``..``until``
    (or up to ``until`` with ``earlier``), optionally of one 事项 and 部门, with their versions."""
    superseded = {old for _, old, _ in records.supersessions()}
    sql = ("status='published' AND date <= ? AND (expire_on = '' OR expire_on > ?)"
           + ("" if earlier else " AND date >= ?") + (" AND item = ?" if item else "")
           + (" AND department = ?" if department else ""))
    args = (until, until, *(() if earlier else (since,)), *((item,) if item else ()),
            *((department,) if department else ()))
    return [(entry, state.version) for entry, state in records.entries_where(sql, args) if entry.id not in superseded]


def _dump(value) -> str:
    return json.dumps(list(value), ensure_ascii=False)


def _check_key(kind: str, stem: str, options: list[str], answer: list[str]) -> None:
    if not stem:
        raise QuizError("题干不能为空。")
    letters = "ABCDEF"[:len(options)]
    if kind in ("single", "multiple"):
        if len(options) < 2 or len(set(options)) != len(options):
            raise QuizError("选择题至少要有两个互不相同的选项。")
        if not answer or any(a not in letters for a in answer) or len(set(answer)) != len(answer):
            raise QuizError(f"答案必须是选项字母（{letters}）之一或几个。")
        if kind == "single" and len(answer) != 1:
            raise QuizError("单选题只能有一个正确答案。")
        if kind == "multiple" and len(answer) < 2:
            raise QuizError("多选题至少要有两个正确答案；只有一个请改成单选题。")
    elif kind == "judge":
        if answer not in (["正确"], ["错误"]):
            raise QuizError("判断题的答案只能是“正确”或“错误”。")
    elif not answer:
        raise QuizError("答案不能为空。")
