"""The quarterly evaluation: per person and per group, self-test scores, cases and escalations, as xlsx.

For one quarter (``2026Q4``) and every active account (:func:`kb.papers.people`):

* self-test score: the latest submitted attempt of each paper the person took in the quarter
  (:mod:`kb.attempts`, online and on paper), each as a percentage of its total; ``average`` is the
  mean of those percentages (None when they took none);
* cases submitted: drafts they created in the quarter (new cases and revisions, :mod:`kb.workflow`),
  and of those, approved: published or merged into a published entry by a reviewer (a later
  deletion does not undo the approval); rejected and pending drafts are not approved;
* escalations handled: :func:`kb.escalations.handled_counts` for the quarter.

A group row sums its members (their current 窗口/组; :data:`NO_GROUP` for none) and averages the
averages of the members who took a paper. Reading needs ``training``; the scores are read with the
same account, which needs ``quiz`` (the same roles). :func:`evaluation_xlsx` writes the two sheets
个人 and 小组.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from kb.attempts import Attempts
from kb.escalations import handled_counts
from kb.papers import people
from kb.quizbank import quarter_range
from kb.records import Records
from kb.users import ROLES, User, authorize

from .output import writing

NO_GROUP = "未分组"
PERSON_HEADERS = ("用户名", "姓名", "角色", "小组", "自测试卷数", "自测平均分（%）", "提交案例", "审核通过",
                  "处理办不成事")
GROUP_HEADERS = ("小组", "人数", "参加自测人数", "自测平均分（%）", "提交案例", "审核通过", "处理办不成事")


@dataclass(frozen=True)
class PersonScore:
    """One person's quarter: ``percents`` of each paper (latest attempt), cases and escalations."""

    username: str
    name: str
    role: str
    group: str
    percents: tuple[float, ...]
    submitted: int
    approved: int
    escalations: int

    @property
    def average(self) -> float | None:
        """The mean self-test percentage, None when no paper was taken."""
        return sum(self.percents) / len(self.percents) if self.percents else None


@dataclass(frozen=True)
class GroupScore:
    """One group's totals; ``average`` is the mean of its tested members' averages (None if none)."""

    group: str
    members: int
    tested: int
    average: float | None
    submitted: int
    approved: int
    escalations: int


@dataclass(frozen=True)
class Evaluation:
    """The evaluation of ``quarter`` (days ``since``..``until``), people by group then username."""

    quarter: str
    since: str
    until: str
    people: tuple[PersonScore, ...]
    groups: tuple[GroupScore, ...]


def quarterly_evaluation(records: Records, quarter: str, actor: User) -> Evaluation:
    """The evaluation of ``quarter`` (``2026Q4``) for every active account; ``actor`` needs ``training``."""
    actor = authorize(records, actor, "training")
    since, until = quarter_range(quarter)
    quarter = quarter.strip().upper().replace(" ", "")
    latest: dict[tuple[str, str], tuple] = {}
    for a in Attempts(records).scores(actor, quarter=quarter):
        held = latest.get((a.username, a.paper_id))
        if held is None or (a.submitted_at, a.id) > held[0]:
            latest[(a.username, a.paper_id)] = ((a.submitted_at, a.id), 100 * a.score / a.total if a.total else 0.0)
    cases = records.conn.execute(
        "SELECT created_by, COUNT(*), SUM(reviewed_by != '' AND status IN ('published', 'merged', 'deleted')) "
        "FROM entries WHERE origin IN ('submit', 'revision') AND substr(created_at, 1, 10) BETWEEN ? AND ? "
        "GROUP BY created_by", (since, until)).fetchall()
    case_counts = {row[0]: (row[1], row[2] or 0) for row in cases}
    handled = handled_counts(records, since, until)
    found = []
    for user in people(records):
        percents = tuple(p for (name, _), (_, p) in sorted(latest.items()) if name == user.username)
        submitted, approved = case_counts.get(user.username, (0, 0))
        found.append(PersonScore(user.username, user.display_name or user.username, ROLES.get(user.role, user.role),
                                 user.group or NO_GROUP, percents, submitted, approved,
                                 handled.get(user.username, 0)))
    found.sort(key=lambda p: (p.group == NO_GROUP, p.group, p.username))
    return Evaluation(quarter, since, until, tuple(found), tuple(_groups(found)))


def _groups(found: list[PersonScore]) -> list[GroupScore]:
    out = []
    for group in dict.fromkeys(p.group for p in found):
        members = [p for p in found if p.group == group]
        averages = [p.average for p in members if p.average is not None]
        out.append(GroupScore(group, len(members), len(averages), sum(averages) / len(averages) if averages else None,
                              sum(p.submitted for p in members), sum(p.approved for p in members),
                              sum(p.escalations for p in members)))
    return out


def _score(value: float | None):
    return round(value, 1) if value is not None else "—"


def evaluation_xlsx(evaluation: Evaluation, path: Path | str) -> Path:
    """Write the evaluation as .xlsx with the sheets 个人 and 小组 (headers in bold); returns the path."""
    path = Path(path)
    book = Workbook()
    person = book.active
    person.title = "个人"
    person.append(PERSON_HEADERS)
    for p in evaluation.people:
        person.append((p.username, p.name, p.role, p.group, len(p.percents), _score(p.average), p.submitted,
                       p.approved, p.escalations))
    group = book.create_sheet("小组")
    group.append(GROUP_HEADERS)
    for g in evaluation.groups:
        group.append((g.group, g.members, g.tested, _score(g.average), g.submitted, g.approved, g.escalations))
    for sheet in (person, group):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for column in sheet.columns:
            sheet.column_dimensions[column[0].column_letter].width = 16
        sheet.freeze_panes = "A2"
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        book.save(str(path))
    return path
