"""Who handed in late, in the results report on a real knowledge base: minutes past a paper's time limit
(plus the grace minutes) and days past the deadline, per person, counted per group, in the terminal
lines, the xlsx read back and the 成绩 tab's tables.

The clock is the one :mod:`kb.attempts` and :mod:`kb.papers` read (``now``), patched to chosen times."""

from __future__ import annotations

import pytest
from fixtures import as_user
from openpyxl import load_workbook
from test_papers import _exact, _keyed_responses, _user, staffed  # noqa: F401  (the fixture)
from test_quiz import _lead, quizzed  # noqa: F401  (the fixture)

import kb.attempts
import kb.papers
from bot.quiz_report import SHEETS, build_report, summary_lines, write_workbook
from kb.attempts import Attempts
from kb.paper_marks import import_marks
from kb.papers import Papers, people
from web import exam_results
from web.downloads import Downloads

# username -> (started at, submitted at); the paper has a 30-minute limit, 一组's deadline is 2026-11-30
TIMES = {
    "s1": ("2026-11-30T23:50:00", "2026-12-01T00:35:00"),  # 45 minutes, the last 35 after the deadline day
    "s2": ("2026-11-30T10:00:00", "2026-11-30T10:25:00"),  # 25 minutes
    "s3": ("2026-12-03T09:00:00", "2026-12-03T09:31:00"),  # 31 minutes: within the 2 grace minutes
}
LATE = {"s1": (1, 45 - 30 - 2, 1), "s2": (0, 0, 0), "s3": (0, 0, 0)}
"""username -> (late submissions, minutes past the limit, days past the deadline)."""


@pytest.fixture
def handed_in(staffed, monkeypatch):
    """Paper L (two 判断, 30 minutes) for 一组 by 2026-11-30 and for s3 (二组) by 2026-12-05, taken and
    submitted by s1, s2 and s3 at :data:`TIMES`; returns the context and every result the trainer sees."""
    clock = ["2026-11-29T08:00:00"]
    monkeypatch.setattr(kb.attempts, "now", lambda: clock[0])
    monkeypatch.setattr(kb.papers, "now", lambda: clock[0])
    papers, lead = Papers(staffed.kb.records), _lead(staffed)
    papers.compose(lead, "Q4", "限时判断卷", {"judge": 2}, time_limit=30, paper_id="L")
    papers.assign(lead, "L", "group", ["一组"], "2026-11-30")
    papers.assign(lead, "L", "user", ["s3"], "2026-12-05")
    attempts = Attempts(staffed.kb.records)
    for name, (started, submitted) in TIMES.items():
        clock[0] = started
        attempt, _ = attempts.start(_user(staffed, name), "L")
        clock[0] = submitted
        key = papers.keyed("L", attempt.variant)
        attempts.submit(_user(staffed, name), attempt.id, _keyed_responses(key, wrong={1}), _exact)
    return staffed, attempts.results(lead, "2026Q4", "L")


def _report(ctx, results):
    names = {u.username: u.display_name for u in people(ctx.kb.records)}
    return build_report(results, names, "2026Q4", "L")


def test_an_attempt_started_by_the_deadline_is_accepted_after_it_and_marked_overdue_and_over_time(handed_in):
    ctx, results = handed_in
    by_name = {r.attempt.username: r for r in results}
    assert {n: (r.deadline, r.late_minutes, r.overdue_days) for n, r in by_name.items()} == {
        "s1": ("2026-11-30", 13, 1), "s2": ("2026-11-30", 0, 0), "s3": ("2026-12-05", 0, 0)}
    taker_view = Attempts(ctx.kb.records).result(_user(ctx, "s1"), by_name["s1"].attempt.id)
    assert (taker_view.late_minutes, taker_view.overdue_days) == (13, 1)


def test_people_rows_and_group_counts_show_who_handed_in_late(handed_in):
    ctx, results = handed_in
    report = _report(ctx, results)
    assert {p.username: (p.late, p.late_minutes, p.overdue_days) for p in report.people} == LATE
    assert {g.group: (g.people, g.late) for g in report.groups} == {"一组": (2, 1), "二组": (1, 0)}
    lines = summary_lines(report)
    s1 = next(line for line in lines if "（s1，一组）" in line)
    assert s1.endswith("；超时交卷 13 分钟；逾期 1 天")
    assert not any(word in line for line in lines if "（s2，" in line or "（s3，" in line for word in ("超时", "逾期"))
    assert "，迟交 1 份（超时或逾期）。" in lines[1]
    assert next(line for line in lines if line.startswith("  一组：")).endswith("，迟交 1 份")
    assert "迟交" not in next(line for line in lines if line.startswith("  二组："))


def test_the_workbook_has_the_late_minutes_and_overdue_days_blank_when_on_time(handed_in, tmp_path):
    ctx, results = handed_in
    book = load_workbook(write_workbook(_report(ctx, results), tmp_path / "成绩.xlsx"), read_only=True)
    rows = list(book["个人成绩"].iter_rows(values_only=True))
    minutes, days = rows[0].index("超时交卷（分钟）"), rows[0].index("逾期（天）")
    assert rows[0] == SHEETS["个人成绩"]
    assert {row[1]: (row[minutes], row[days]) for row in rows[1:]} == {
        "s1": (13, 1), "s2": (None, None), "s3": (None, None)}
    groups = list(book["小组成绩"].iter_rows(values_only=True))
    late = groups[0].index("迟交份数")
    assert {row[0]: row[late] for row in groups[1:]} == {"一组": 1, "二组": 0}


def test_the_results_tab_shows_lateness_in_the_people_and_group_tables(handed_in):
    ctx, _ = handed_in
    summary, _, persons, groups, _, _ = exam_results.results(ctx, "2026Q4", "L", as_user("zuzhang"),
                                                             Downloads("kb-test-lateness-"))
    minutes, days = (exam_results.PERSON_HEADERS.index(h) for h in ("超时交卷（分钟）", "逾期（天）"))
    assert {row[1]: (row[minutes], row[days]) for row in persons} == {"s1": ("13", "1"), "s2": ("", ""),
                                                                      "s3": ("", "")}
    late = exam_results.GROUP_HEADERS.index("迟交份数")
    assert {row[0]: row[late] for row in groups} == {"一组": "1", "二组": "0"}
    assert "迟交 1 份" in summary


def test_marks_taken_on_paper_after_the_deadline_are_never_late(handed_in):
    ctx, _ = handed_in
    count, refused = import_marks(ctx.kb.records, _lead(ctx), "L", [(2, "s1", 1, 1.0)], "A", "2026-12-20")
    assert (count, refused) == (1, [])
    results = Attempts(ctx.kb.records).results(_lead(ctx), "2026Q4", "L")
    paper = next(r for r in results if r.attempt.mode == "paper")
    assert (paper.deadline, paper.late_minutes, paper.overdue_days) == ("2026-11-30", 0, 0)
    report = _report(ctx, results)
    assert next(p for p in report.people if p.username == "s1").late == 0
    assert {g.group: g.late for g in report.groups} == {"一组": 0, "二组": 0}
