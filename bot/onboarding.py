"""A new hire's four-week plan over the 事项, tracked against their study records.

:func:`onboarding_plan` orders every 事项 with current entries by how often the counters meet it —
the questions in the question log answered from its entries (:attr:`kb.learning.Topic.demand`),
then its number of current entries, then its name — and cuts that order into :data:`WEEKS`
consecutive weeks holding about the same number of entries each, so the most met matters are learnt
first. Each 事项 shows the learner's progress from the study records (:mod:`kb.learning`):
``done`` (every entry explained and no more wrong answers than right), ``started`` or ``todo``.

A learner may read their own plan (permission ``study``); anyone else's needs ``training``
(组长/培训师, 管理员), and the study records behind it ``progress`` (the same roles).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from kb.dates import require_date
from kb.learning import Learning, Topic
from kb.records import Records
from kb.users import User, Users, authorize

from .training import TrainingError

PLAN_AHEAD = 366
"""How many days ahead a plan may start (the weeks of a plan further off would run past the calendar's range)."""
WEEKS = 4
PROGRESS: dict[str, str] = {"done": "已完成", "started": "进行中", "todo": "未开始"}
"""A 事项's progress for the learner -> its Chinese label."""


@dataclass(frozen=True)
class PlanItem:
    """One 事项 of a week: ``entries`` current entries, ``demand`` questions asked at the counters,
    and the learner's record: ``covered`` entries explained, answers ``correct`` and ``wrong``."""

    item: str
    entries: int
    demand: int
    covered: int
    correct: int
    wrong: int

    @property
    def progress(self) -> str:
        """A key of :data:`PROGRESS`."""
        if self.covered >= self.entries and self.wrong <= self.correct:
            return "done"
        return "started" if self.covered or self.correct or self.wrong else "todo"

    @property
    def progress_label(self) -> str:
        return PROGRESS[self.progress]


@dataclass(frozen=True)
class Week:
    """Week ``number`` (1–4), from ``start`` to ``end`` (ISO dates, inclusive), and its 事项 in order."""

    number: int
    start: str
    end: str
    items: tuple[PlanItem, ...]

    @property
    def entries(self) -> int:
        return sum(i.entries for i in self.items)


@dataclass(frozen=True)
class Plan:
    """The plan of learner ``username`` (shown as ``name``) starting on ``start`` (ISO date)."""

    username: str
    name: str
    start: str
    weeks: tuple[Week, ...]

    @property
    def items(self) -> tuple[PlanItem, ...]:
        return tuple(i for w in self.weeks for i in w.items)

    def count(self, progress: str) -> int:
        """How many 事项 have this progress (a key of :data:`PROGRESS`)."""
        return sum(i.progress == progress for i in self.items)

    @property
    def title(self) -> str:
        return f"{self.name} 新员工四周学习计划（{self.start} 起）"


def demand_order(topics: list[Topic]) -> list[Topic]:
    """Topics ordered by counter demand (most asked first), then most entries, then name."""
    return sorted(topics, key=lambda t: (-t.demand, -t.entries, t.item))


def split_weeks(sizes: list[int], weeks: int = WEEKS) -> list[int]:
    """The week (0-based) of each of consecutive items of ``sizes`` entries: an item goes to the week
    in which its first entry falls when the entries are spread evenly over ``weeks``."""
    total, before, out = max(sum(sizes), 1), 0, []
    for size in sizes:
        out.append(min(weeks - 1, before * weeks // total))
        before += size
    return out


def onboarding_plan(records: Records, actor: User, username: str = "", start: str = "") -> Plan:
    """The four-week plan of ``username`` (the actor when empty) from ``start`` (any date form
    :func:`kb.dates.require_date` reads; the next Monday when empty)."""
    username = username.strip() or actor.username
    if username != actor.username:
        authorize(records, actor, "training")
    learner = Users(records).get(username) if username != actor.username else actor
    if learner is None:
        raise TrainingError(f"没有用户名为“{username}”的在用账号：请检查拼写（kb user list 可查看）。")
    first = require_date(start, "开始日期") or _next_monday()
    if first > (date.today() + timedelta(days=PLAN_AHEAD)).isoformat():
        raise TrainingError(f"开始日期 {first} 太远：请选一年（{PLAN_AHEAD} 天）以内的日期，或不填从下周一开始。")
    topics = demand_order(Learning(records).topics(actor, username))
    buckets: list[list[PlanItem]] = [[] for _ in range(WEEKS)]
    for topic, week in zip(topics, split_weeks([t.entries for t in topics])):
        buckets[week].append(PlanItem(topic.item, topic.entries, topic.demand, topic.covered, topic.correct,
                                      topic.wrong))
    day = date.fromisoformat(first)
    weeks = tuple(Week(n + 1, (day + timedelta(days=7 * n)).isoformat(), (day + timedelta(days=7 * n + 6)).isoformat(),
                       tuple(items)) for n, items in enumerate(buckets))
    return Plan(learner.username, learner.display_name or learner.username, first, weeks)


def _next_monday() -> str:
    today = date.today()
    return (today + timedelta(days=(7 - today.weekday()) % 7 or 7)).isoformat()
