"""The 办不成事 registry: questions the counter could not answer, sent to the 办不成事 window.

A clerk escalates a question (permission ``escalate``) with the citizen's situation; the case gets a
number, the 办不成事 window as its owner until a handling account works it, the 事项 and the
department it was sent to, and a deadline of :data:`DUE_WORKING_DAYS` working days (Monday to Friday;
public holidays are not known here) as the centre's rule asks ("3个工作日内给予明确答复"). The window
(permission ``escalations``) moves it 受理 → 协调中 and closes it as 已解决 or 无法解决 (with a reason);
every step is an event (who, when, what, note). Solving submits the solution as a daily case
(:meth:`kb.workflow.Workflow.submit`, a draft for review) in the same call, so once a reviewer
publishes it the next counter asking gets the answer; the case then shows the published entry.

Free text is stored masked (:func:`mask`): 18-digit ID numbers and mainland mobile numbers never
reach the database. The monthly report is in :mod:`kb.escalation_report`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from .asklog import question as logged_question
from .dates import require_date
from .errors import KBError, PermissionDenied
from .records import Records, now
from .types import Entry
from .users import User, authorize

if TYPE_CHECKING:
    from .escalation_report import MonthReport
    from .workflow import Submitted, Workflow

SCHEMA = """
CREATE TABLE IF NOT EXISTS escalations (
    number INTEGER PRIMARY KEY AUTOINCREMENT, question TEXT NOT NULL, normalized TEXT NOT NULL,
    situation TEXT NOT NULL, item TEXT NOT NULL, department TEXT NOT NULL, owner TEXT NOT NULL,
    status TEXT NOT NULL, due TEXT NOT NULL, ask_id INTEGER NOT NULL, solution TEXT NOT NULL,
    reason TEXT NOT NULL, entry_id TEXT NOT NULL, created_at TEXT NOT NULL, created_by TEXT NOT NULL,
    closed_at TEXT NOT NULL, closed_by TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS escalations_normalized ON escalations(normalized);
CREATE TABLE IF NOT EXISTS escalation_events (
    number INTEGER NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    detail TEXT NOT NULL, note TEXT NOT NULL);
"""

STATUSES: dict[str, str] = {"accepted": "受理", "coordinating": "协调中", "solved": "已解决", "unsolvable": "无法解决"}
"""Case status -> its Chinese name; a case starts 受理 and ends 已解决 or 无法解决."""
OPEN = ("accepted", "coordinating")
ACTIONS: dict[str, str] = {"create": "登记", "update": "协调", "solve": "解决", "unsolvable": "无法解决"}
WINDOW = "办不成事窗口"
"""The owner shown while no handling account has worked a case yet."""
DUE_WORKING_DAYS = 3
MAX_TEXT = 2000
"""The longest question, situation, note or solution kept, in characters."""

_D = "[0-9０-９]"
_ID_NUMBER = re.compile(rf"(?<![0-9０-９]){_D}{{17}}[0-9０-９XxＸｘ](?![0-9０-９A-Za-z])")
_MOBILE = re.compile(rf"(?<![0-9０-９])(?:[+＋]?[8８][6６][-\s]?)?[1１][3-9３-９]{_D}[-\s]?{_D}{{4}}[-\s]?{_D}{{4}}"
                     r"(?![0-9０-９])")
_PUNCTUATION = re.compile(r"[\W_]+")


class EscalationError(KBError):
    """A case cannot be registered or changed as asked (unknown number, closed case, missing reason)."""


def mask(text: str) -> str:
    """``text`` with every 18-digit ID number (the last digit may be X) replaced by ``[身份证号已隐去]``
    and every 11-digit mainland mobile number (optionally +86, spaces or hyphens) by ``[手机号已隐去]``;
    half- and full-width digits alike. Other numbers (dates, amounts, 12345) are kept."""
    return _MOBILE.sub("[手机号已隐去]", _ID_NUMBER.sub("[身份证号已隐去]", text or ""))


def normalized(text: str) -> str:
    """``text`` folded for matching questions: NFKC, lower case, punctuation and whitespace dropped."""
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", text or "").lower())


def add_working_days(start: str, days: int) -> str:
    """The ISO date ``days`` working days (Monday to Friday) after ISO date ``start``."""
    day = date.fromisoformat(start[:10])
    while days > 0:
        day += timedelta(days=1)
        days -= day.weekday() < 5
    return day.isoformat()


def parse_status(text: str) -> str:
    """The status key for a key or Chinese name (``协调中`` or ``coordinating``)."""
    text = (text or "").strip()
    for key, name in STATUSES.items():
        if text in (key, name):
            return key
    raise EscalationError(f"无法识别的状态“{text}”，可选：{'、'.join(STATUSES.values())}。")


@dataclass(frozen=True)
class Event:
    """One step of a case: when (ISO time), who (username), the action (a key of :data:`ACTIONS`),
    what changed (Chinese, e.g. ``受理 → 协调中``) and the note."""

    at: str
    actor: str
    action: str
    detail: str
    note: str


@dataclass(frozen=True)
class Case:
    """A registered case. ``owner`` is the handling account ('' while with the 办不成事 window);
    ``due`` the ISO date of the deadline; ``ask_id`` the question-log record it came from (0 if none);
    ``entry_id`` the entry submitted from the solution and ``knowledge`` the published entry that now
    answers it ('' until the draft is published); times are ISO."""

    number: int
    question: str
    situation: str
    item: str
    department: str
    owner: str
    status: str
    due: str
    ask_id: int
    solution: str
    reason: str
    entry_id: str
    created_at: str
    created_by: str
    closed_at: str
    closed_by: str
    knowledge: str = ""
    events: tuple[Event, ...] = ()

    @property
    def label(self) -> str:
        return STATUSES[self.status]

    @property
    def owner_label(self) -> str:
        return self.owner or WINDOW

    def details(self) -> list[str]:
        """The case's optional details as ``标签：内容`` lines: the situation, the source record, the
        solution or the reason it could not be solved, and the entry made from it."""
        known = f"已发布为 {self.knowledge}" if self.knowledge else "待审核或未发布"
        return [line for shown, line in (
            (self.situation, f"群众情况：{self.situation}"), (self.ask_id, f"来自问答记录 {self.ask_id}"),
            (self.solution, f"解决方案：{self.solution}"), (self.reason, f"无法解决的原因：{self.reason}"),
            (self.entry_id, f"知识库条目：{self.entry_id}（{known}）")) if shown]

    def overdue(self, today: str) -> bool:
        """Whether the case is still open after its deadline, on ISO date ``today``."""
        return self.status in OPEN and self.due < today


class Escalations:
    """The registry in the record store's SQLite database (tables created on first use). ``clock``
    gives the current local time as an ISO string (:func:`kb.records.now`)."""

    def __init__(self, records: Records, clock: Callable[[], str] = now):
        self.records = records
        self.conn = records.conn
        self.clock = clock
        self.conn.executescript(SCHEMA)

    def escalate(self, actor: User, question: str = "", situation: str = "", item: str = "", department: str = "",
                 ask_id: int = 0) -> Case:
        """Register a case; needs ``escalate``. ``ask_id`` links the question-log record it came from
        (one's own, unless one holds ``escalations``); the question then defaults to the one asked. A
        record is escalated once. Question and situation are stored masked (:func:`mask`)."""
        actor = authorize(self.records, actor, "escalate")
        if ask_id:
            asked = logged_question(self.conn, ask_id)
            if asked is None:
                raise EscalationError(f"没有编号为 {ask_id} 的问答记录：请用提问时显示的记录编号。")
            if asked.user != actor.username and not actor.can("escalations"):
                raise EscalationError(f"问答记录 {ask_id} 不是您提的问题：只能转办自己问过的问题。")
            question = question or asked.question
        question, situation = _text(question, "问题"), _text(situation, "群众情况", required=False)
        at = self.clock()
        with self.records.transaction(changes_index=False) as conn:
            if ask_id:
                same = conn.execute("SELECT number FROM escalations WHERE ask_id=?", (ask_id,)).fetchone()
                if same:
                    raise EscalationError(f"问答记录 {ask_id} 已转办，登记编号 {same[0]}。")
            number = conn.execute(
                "INSERT INTO escalations(question, normalized, situation, item, department, owner, status, due, "
                "ask_id, solution, reason, entry_id, created_at, created_by, closed_at, closed_by) "
                "VALUES(?,?,?,?,?,'','accepted',?,?,'','','',?,?,'','')",
                (question, normalized(question), situation, (item or "").strip(), (department or "").strip(),
                 add_working_days(at, DUE_WORKING_DAYS), int(ask_id or 0), at, actor.username)).lastrowid
            _event(conn, number, at, actor, "create", "受理", "")
        return self._case(number)

    def mine(self, actor: User) -> list[Case]:
        """The cases ``actor`` registered (needs ``escalate``), newest first."""
        actor = authorize(self.records, actor, "escalate")
        return cases_where(self.records, "created_by = ?", (actor.username,))

    def cases(self, actor: User, status: str = "", overdue: bool = False, item: str = "",
              department: str = "") -> list[Case]:
        """The registry (needs ``escalations``), newest first: all cases, or only those of a status
        (key or Chinese name), 事项 or department, or only the open ones past their deadline."""
        authorize(self.records, actor, "escalations")
        clauses, args = [], []
        for column, value in (("status", parse_status(status) if status else ""), ("item", item),
                              ("department", department)):
            if value:
                clauses.append(f"{column} = ?")
                args.append(value)
        if overdue:
            clauses.append("status IN ('accepted', 'coordinating') AND due < ?")
            args.append(self.clock()[:10])
        return cases_where(self.records, " AND ".join(clauses) or "1", tuple(args))

    def case(self, actor: User, number: int) -> Case:
        """One case with its events; holders of ``escalations`` see every case, others their own."""
        actor = authorize(self.records, actor, "escalate")
        found = self._case(number)
        if found.created_by != actor.username and not actor.can("escalations"):
            raise PermissionDenied(f"登记 {number} 不是您登记的：窗口人员只能查看自己转办的问题。", "escalations")
        return found

    def update(self, actor: User, number: int, status: str = "", note: str = "", department: str = "",
               due: str = "") -> Case:
        """Work an open case (needs ``escalations``): move it to 协调中, send it to ``department``, move
        its deadline (ISO date) and/or add a note. The actor becomes its owner if it had none."""
        actor = authorize(self.records, actor, "escalations")
        target = parse_status(status) if status else ""
        if target in ("solved", "unsolvable"):
            raise EscalationError("办结请用“解决”（写明解决方案）或“无法解决”（写明原因）。")
        note, department = _text(note, "备注", required=False), (department or "").strip()
        due = require_date(due, "办理期限") if due else ""
        with self.records.transaction(changes_index=False) as conn:
            old = self._open(number)
            changes = [f"{STATUSES[old.status]} → {STATUSES[target]}" if target and target != old.status else "",
                       f"部门：{old.department or '—'} → {department}" if department != old.department and department
                       else "", f"期限：{old.due} → {due}" if due and due != old.due else ""]
            detail = "；".join(c for c in changes if c)
            if not (detail or note):
                raise EscalationError(f"登记 {number} 没有要改的内容：请改状态、部门或期限，或写备注。")
            conn.execute("UPDATE escalations SET status=?, department=?, due=?, owner=? WHERE number=?",
                         (target or old.status, department or old.department, due or old.due,
                          old.owner or actor.username, number))
            _event(conn, number, self.clock(), actor, "update", detail, note)
        return self._case(number)

    def solve(self, actor: User, number: int, solution: str, workflow: Workflow, question: str = "",
              item: str = "", department: str = "", basis: str = "") -> tuple[Case, Submitted]:
        """Close an open case as 已解决 (needs ``escalations``) and submit ``solution`` as a daily case
        through ``workflow`` (a draft for review; question, 事项 and department default to the case's).
        The submission comes first (the workflow runs its own transactions), then the case is closed
        with the draft's id; if someone closed the case meanwhile, :class:`EscalationError` names the
        draft so the reviewer can reject it. Returns the closed case and the submission."""
        actor = authorize(self.records, actor, "escalations")
        solution = _text(solution, "解决方案")
        old = self._open(number)
        entry = Entry(id="", question=_text(question, "问题", required=False) or old.question, answer=solution,
                      item=(item or "").strip() or old.item, department=(department or "").strip() or old.department,
                      basis=(basis or "").strip(), source=f"办不成事登记 {number}", tags=("办不成事",))
        submitted = workflow.submit(actor, entry)
        at = self.clock()
        with self.records.transaction(changes_index=False) as conn:
            current = self._case(number)
            if current.status not in OPEN:
                raise EscalationError(f"登记 {number} 刚被 {current.closed_by} 办结，本次未保存；"
                                      f"已提交的草稿 {submitted.entry_id} 请在审核中退回。")
            conn.execute("UPDATE escalations SET status='solved', solution=?, entry_id=?, item=?, department=?, "
                         "owner=?, closed_at=?, closed_by=? WHERE number=?",
                         (solution, submitted.entry_id, entry.item, entry.department, old.owner or actor.username,
                          at, actor.username, number))
            kept = "（与已有条目相同，未重复存储）" if submitted.status == "duplicate" else "（待审核）"
            _event(conn, number, at, actor, "solve", f"{STATUSES[old.status]} → 已解决；条目 {submitted.entry_id}{kept}",
                   solution)
        return self._case(number), submitted

    def unsolvable(self, actor: User, number: int, reason: str) -> Case:
        """Close an open case as 无法解决 with the reason told to the citizen (needs ``escalations``)."""
        actor = authorize(self.records, actor, "escalations")
        reason = _text(reason, "无法解决的原因（依据和可行的替代途径）")
        at = self.clock()
        with self.records.transaction(changes_index=False) as conn:
            old = self._open(number)
            conn.execute("UPDATE escalations SET status='unsolvable', reason=?, owner=?, closed_at=?, closed_by=? "
                         "WHERE number=?", (reason, old.owner or actor.username, at, actor.username, number))
            _event(conn, number, at, actor, "unsolvable", f"{STATUSES[old.status]} → 无法解决", reason)
        return self._case(number)

    def report(self, actor: User, month: str) -> MonthReport:
        """The month's report (needs ``escalations``), see :func:`kb.escalation_report.month_report`."""
        from .escalation_report import month_report

        authorize(self.records, actor, "escalations")
        return month_report(self.records, month, self.clock()[:10])

    # -- reading ---------------------------------------------------------------------------

    def _open(self, number: int) -> Case:
        found = self._case(number)
        if found.status not in OPEN:
            raise EscalationError(f"登记 {number} 已{found.label}（{found.closed_at.replace('T', ' ')}，"
                                  f"{found.closed_by}），不能再修改。")
        return found

    def _case(self, number: int) -> Case:
        found = cases_where(self.records, "number = ?", (int(number),), events=True)
        if not found:
            raise EscalationError(f"没有编号为 {number} 的办不成事登记：用 kb escalations list 查看。")
        return found[0]


def cases_where(records: Records, sql: str, args: tuple = (), events: bool = False) -> list[Case]:
    """Cases matching a WHERE clause over ``escalations``, newest first, each with the published entry
    that answers it (and with its events when ``events``). Checks no permission: callers do."""
    if not _ready(records):
        return []
    found = []
    for row in records.conn.execute(f"SELECT * FROM escalations WHERE {sql} ORDER BY number DESC", args):
        history = ()
        if events:
            rows = records.conn.execute("SELECT * FROM escalation_events WHERE number=? ORDER BY rowid", (row["number"],))
            history = tuple(Event(r["at"], r["actor"], r["action"], r["detail"], r["note"]) for r in rows)
        values = {k: row[k] for k in row.keys() if k != "normalized"}
        found.append(Case(**values, knowledge=published_entry(records, row["entry_id"]), events=history))
    return found


def published_entry(records: Records, entry_id: str) -> str:
    """The published entry that ``entry_id`` became: itself once approved, the entry it was merged
    into or published as a new version of; '' while it is a draft, or if it was rejected or deleted."""
    state = records.state(entry_id) if entry_id else None
    if state is None:
        return ""
    if state.status == "published":
        return entry_id
    if state.status == "merged":
        return _merged_into(state.note) or state.revises or state.duplicate_of
    return ""


def for_questions(records: Records, questions: Iterable[str]) -> list[Case]:
    """The cases whose question reads the same as any of ``questions`` once masked and :func:`normalized`,
    newest first (for the knowledge-gap queue; the caller checks its own permission)."""
    keys = sorted({normalized(mask(q)) for q in questions} - {""})
    if not keys:
        return []
    return cases_where(records, f"normalized IN ({','.join('?' * len(keys))})", tuple(keys))


def handled_counts(records: Records, since: str, until: str) -> dict[str, int]:
    """Cases closed (已解决 or 无法解决) from ISO date ``since`` to ``until`` inclusive, per username of
    the handling account that closed them (for the quarterly evaluation)."""
    if not _ready(records):
        return {}
    rows = records.conn.execute(
        "SELECT closed_by, COUNT(*) FROM escalations WHERE status IN ('solved', 'unsolvable') "
        "AND substr(closed_at, 1, 10) BETWEEN ? AND ? GROUP BY closed_by", (since, until))
    return {r[0]: r[1] for r in rows}


def _ready(records: Records) -> bool:
    """Whether the registry's tables exist (a reader that is not :class:`Escalations` creates none)."""
    return bool(records.conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='escalations'").fetchone())


def _merged_into(note: str) -> str:
    found = re.search(r"(?:已并入|已作为)\s*(\S+?)(?:\s|的|$)", note or "")
    return found.group(1) if found else ""


def _text(value: str, label: str, required: bool = True) -> str:
    text = mask((value or "").strip())
    if required and not text:
        raise EscalationError(f"{label}不能为空，请填写后再提交。")
    if len(text) > MAX_TEXT:
        raise EscalationError(f"{label}太长（{len(text)} 字），请压缩到 {MAX_TEXT} 字以内。")
    return text


def _event(conn, number: int, at: str, actor: User, action: str, detail: str, note: str) -> None:
    conn.execute("INSERT INTO escalation_events VALUES(?,?,?,?,?,?)",
                 (number, at, actor.username, action, detail, note))
