"""The daily digest's 办不成事 part: cases past their deadline and cases about to fall due.

The centre promises a clear answer within three working days (:data:`kb.escalations.DUE_WORKING_DAYS`),
so the digest of a day reminds counters and leads of the 办不成事 cases that were still open at the
end of that day:

* 超期未办结 — the deadline (``due``, its last day) is before the day; listed oldest registration
  first, with the calendar days past the deadline;
* 即将到期 — the deadline is the day itself or any day up to the next working day
  (:func:`kb.escalations.add_working_days`, Monday to Friday), so Friday's digest also warns about
  the cases due on Monday, which a calendar "tomorrow" would miss; soonest deadline first.

"Open at the end of the day" means registered on or before the day and not closed (已解决 or 无法解决)
by then, so the digest of a past day reads as it did that evening; a case closed since is marked with
its current status. Deadlines and handling accounts are the current ones (a deadline moved after the
day counts as moved).

Only an account holding ``escalations`` (the registry's permission) gets the case details; for any
other account the part shows the two counts and where the details are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from kb.escalations import OPEN, STATUSES, WINDOW, Case, add_working_days, cases_where
from kb.records import Records
from kb.text import clip
from kb.users import PERMISSION_LABELS, PERMISSIONS, ROLES, User

from .word import Block, Heading, Paragraph, Table

OVERDUE_TITLE = "超期未办结的办不成事"
DUE_SOON_TITLE = "即将到期的办不成事"
SUMMARY_LENGTH = 60
"""The longest 群众诉求 or 群众情况 shown in the digest, in characters (longer text is cut with …)."""


@dataclass(frozen=True)
class CaseLine:
    """One listed case: ``registered`` and ``due`` are ISO dates; ``question`` and ``situation`` are
    the stored (masked) texts cut to :data:`SUMMARY_LENGTH`; ``owner`` the handling account's label
    (or the 办不成事 window); ``days_overdue`` calendar days past ``due`` on the digest's day (0 when
    not yet due); ``closed`` is '' while the case is still open, else its closing date and status."""

    number: int
    registered: str
    item: str
    question: str
    situation: str
    owner: str
    department: str
    due: str
    days_overdue: int
    closed: str = ""


@dataclass(frozen=True)
class EscalationDigest:
    """The 办不成事 part of the digest of ``day``: the counts always, the cases only when ``detailed``.

    ``next_working_day`` is the last deadline counted as 即将到期.
    """

    day: str
    next_working_day: str
    overdue_count: int
    due_soon_count: int
    detailed: bool
    overdue: tuple[CaseLine, ...] = ()
    due_soon: tuple[CaseLine, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether there is nothing to remind anyone of (the part is then left out of the digest)."""
        return not (self.overdue_count or self.due_soon_count)


def escalation_digest(records: Records, day: str, actor: User,
                      who: Callable[[str], str] = str) -> EscalationDigest:
    """The cases open at the end of ISO date ``day`` that are overdue or about to fall due.

    Args:
        records: the record store holding the registry (no tables are created when it has none).
        day: the digest's ISO date.
        actor: the account the digest is for, as stored now; the cases are listed only if it holds
            ``escalations``, otherwise only counted. Checks no other permission: the digest does.
        who: a username -> display label function for the handling account.
    """
    until = add_working_days(day, 1)
    found = cases_where(records, "substr(created_at, 1, 10) <= ? AND (closed_at = '' OR substr(closed_at, 1, 10) > ?)"
                                 " AND due <= ?", (day, day, until))
    overdue = sorted((c for c in found if c.due < day), key=lambda c: (c.created_at, c.number))
    due_soon = sorted((c for c in found if c.due >= day), key=lambda c: (c.due, c.number))
    detailed = actor.can("escalations")
    return EscalationDigest(
        day, until, len(overdue), len(due_soon), detailed,
        tuple(_line(c, day, who) for c in overdue) if detailed else (),
        tuple(_line(c, day, who) for c in due_soon) if detailed else ())


def _line(case: Case, day: str, who: Callable[[str], str]) -> CaseLine:
    late = (date.fromisoformat(day) - date.fromisoformat(case.due)).days
    closed = "" if case.status in OPEN else f"{case.closed_at[:10]} 办结（{STATUSES[case.status]}）"
    return CaseLine(case.number, case.created_at[:10], case.item, clip(case.question, SUMMARY_LENGTH), clip(case.situation, SUMMARY_LENGTH),
                    who(case.owner) if case.owner else WINDOW, case.department, case.due, max(late, 0), closed)


def escalation_summary(part: EscalationDigest | None) -> str:
    """The digest summary line's 办不成事 sentence, e.g. ``办不成事：超期未办结 2 件，即将到期 1 件。``
    ('' when there is nothing to remind of)."""
    if part is None or part.empty:
        return ""
    return f"办不成事：超期未办结 {part.overdue_count} 件，即将到期 {part.due_soon_count} 件。"


def escalation_blocks(part: EscalationDigest | None, numbers: tuple[str, str] = ("", "")) -> list[Block]:
    """The two sections as document blocks (none when :attr:`EscalationDigest.empty`); ``numbers``
    prefix the two headings (e.g. ``("三、", "四、")``)."""
    if part is None or part.empty:
        return []
    soon = f"{part.day} 或下一个工作日 {part.next_working_day} 到期"
    blocks: list[Block] = [Heading(f"{numbers[0]}{OVERDUE_TITLE}（{part.overdue_count} 件）", 1)]
    if part.detailed:
        blocks += _case_blocks(part.overdue, overdue=True) or [Paragraph("当日没有超期未办结的办不成事。")]
    blocks.append(Heading(f"{numbers[1]}{DUE_SOON_TITLE}（{part.due_soon_count} 件，{soon}）", 1))
    if part.detailed:
        return blocks + (_case_blocks(part.due_soon, overdue=False) or [Paragraph("没有即将到期的办不成事。")])
    roles = "、".join(ROLES[r] for r in ROLES if r in PERMISSIONS["escalations"])
    return blocks + [Paragraph(f"案件详情仅限有“{PERMISSION_LABELS['escalations']}”权限的账号（{roles}）查看，"
                               "请在“办不成事”页面或用 kb escalations list --overdue 查看。")]


def _case_blocks(lines: tuple[CaseLine, ...], overdue: bool) -> list[Block]:
    blocks: list[Block] = []
    for line in lines:
        rows = [("登记日期", line.registered), ("事项", line.item or "（未填）"), ("群众诉求", line.question),
                ("群众情况", line.situation), ("承办", line.owner), ("协调部门", line.department),
                ("应办结日期", line.due)]
        if overdue:
            rows.append(("超期天数", f"{line.days_overdue} 天"))
        rows.append(("现状", f"当日未办结，{line.closed}" if line.closed else ""))
        blocks.append(Paragraph(f"登记编号 {line.number}", bold=True))
        blocks.append(Table(tuple((label, value) for label, value in rows if value), widths=(3, 13)))
    return blocks
