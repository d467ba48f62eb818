"""The 办不成事 registry's monthly report, as the centre's rule asks the 业务指导科 to compile it.

The population is the cases registered in the month, each as it stands now: how many, by status, by
事项 and by the department they were sent to; how long the solved ones took (registration to 已解决,
in days, median and mean); how many of the solved ones were turned into knowledge (the draft from
the solution is published, or was merged into a published entry); and how many are still open past
their deadline today.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from .dates import MONTHS, month_bounds
from .errors import KBError
from .escalations import STATUSES, cases_where
from .records import Records

NONE = "（未填）"


class ReportError(KBError):
    """The month of a report cannot be read."""


def month_range(month: str) -> tuple[str, str]:
    """``2026-11`` (or ``2026/11``, ``2026年11月``) -> ``("2026-11-01", "2026-11-30")``."""
    bounds = month_bounds(month)
    if bounds is None:
        raise ReportError(f"月份“{month}”格式不对：请写成 {MONTHS}。")
    return bounds[1:]


@dataclass(frozen=True)
class MonthReport:
    """The report of ``month`` (``YYYY-MM``). ``by_status`` counts per status key; ``by_item`` and
    ``by_department`` are ``(name, cases)`` most first (unfilled as :data:`NONE`); ``days_median`` and
    ``days_mean`` are days from registration to 已解决 over the solved cases (None without any);
    ``knowledge`` counts the solved cases whose solution is published, ``overdue`` the cases still open
    past their deadline on the day of the report."""

    month: str
    total: int
    by_status: dict[str, int]
    by_item: list[tuple[str, int]]
    by_department: list[tuple[str, int]]
    solved: int
    days_median: float | None
    days_mean: float | None
    knowledge: int
    overdue: int

    @property
    def knowledge_share(self) -> float | None:
        """Share (0 to 1) of the solved cases turned into published knowledge; None without solved cases."""
        return self.knowledge / self.solved if self.solved else None

    def lines(self) -> list[str]:
        """The report as Chinese lines of plain text (for the command line and the page)."""
        days = "—" if self.days_median is None else f"中位数 {self.days_median:.1f} 天，平均 {self.days_mean:.1f} 天"
        share = "—" if self.knowledge_share is None else f"{self.knowledge} 件，占已解决的 {self.knowledge_share:.0%}"
        states = "，".join(f"{STATUSES[k]} {v}" for k, v in self.by_status.items())
        return [f"{self.month} 办不成事登记 {self.total} 件（{states}）；至今超期未办结 {self.overdue} 件。",
                f"办结用时（登记到已解决）：{days}。",
                f"转化为知识（解决方案已审核发布）：{share}。",
                "按事项：" + ("，".join(f"{name} {n}" for name, n in self.by_item) or "—"),
                "按部门：" + ("，".join(f"{name} {n}" for name, n in self.by_department) or "—")]


def month_report(records: Records, month: str, today: str) -> MonthReport:
    """The report of ``month`` (see :func:`month_range`) with overdue counted on ISO date ``today``.
    Checks no permission: :meth:`kb.escalations.Escalations.report` does."""
    since, until = month_range(month)
    found = cases_where(records, "substr(created_at, 1, 10) BETWEEN ? AND ?", (since, until))
    solved = [c for c in found if c.status == "solved"]
    days = [(datetime.fromisoformat(c.closed_at) - datetime.fromisoformat(c.created_at)).total_seconds() / 86400
            for c in solved]
    return MonthReport(
        since[:7], len(found), {k: sum(1 for c in found if c.status == k) for k in STATUSES},
        _ranked(c.item for c in found), _ranked(c.department for c in found), len(solved),
        statistics.median(days) if days else None, statistics.fmean(days) if days else None,
        sum(1 for c in solved if c.knowledge), sum(1 for c in found if c.overdue(today)))


def _ranked(names) -> list[tuple[str, int]]:
    counts = Counter(name or NONE for name in names)
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
