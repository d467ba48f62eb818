"""The results report of quizzes: per-person and per-group scores, the most missed questions, the weakest 事项.

Which attempts count: a person may submit a paper more than once (a retake, or marks imported for a
paper taken on paper), so every figure of the report uses each person's *latest* submitted attempt of
each paper (by submission time, then attempt id). A person's score is the sum of the points of those
attempts out of the sum of their totals; ``attempts`` counts every submitted attempt and
``best_percent`` is the highest percent of any single one. A person belongs to the group recorded
with their latest attempt.

A question is identified by its bank key (``bank_id#position``), the same in versions A and B of a
paper, so both versions add up. An answer *lost points* when it scored less than the question's points.
Percentages and rates are in percent (0..100); a person passes at :data:`PASS_PERCENT` or more.

Lateness, over the same latest attempts: an online attempt is *late* when handed in past its paper's time
limit plus the grace minutes (:attr:`kb.attempts.Result.late_minutes`) or after its deadline
(:attr:`kb.attempts.Result.overdue_days`; one started by the deadline can still be submitted after it).

Charts are drawn with :class:`matplotlib.figure.Figure` on the Agg canvas (pyplot and matplotlib's
global settings are never touched), in a CJK font found among the installed fonts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from openpyxl import Workbook
from openpyxl.styles import Font

from kb.attempts import Answered, Result
from kb.errors import KBError
from kb.text import clip

log = logging.getLogger(__name__)

PASS_PERCENT = 60.0
"""A person passes with at least this percent of the points."""
NO_GROUP = "未分组"
NO_ITEM = "未标注事项"
STEM_CHARS = 40
CJK_FONTS = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC",
             "Source Han Sans CN", "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC", "Droid Sans Fallback",
             "AR PL UMing CN", "AR PL UKai CN")
"""Font families tried for Chinese text, in order of preference."""
BANDS = ((0.0, 60.0, "不及格\n<60%"), (60.0, 70.0, "及格\n60–69%"), (70.0, 80.0, "中等\n70–79%"),
         (80.0, 90.0, "良好\n80–89%"), (90.0, 100.01, "优秀\n≥90%"))
"""Score bands of the distribution chart: [low, high) in percent and their label."""


class ReportError(KBError):
    """A results report cannot be made (nothing has been submitted in the period or paper asked for)."""


@dataclass(frozen=True)
class PersonScore:
    """One person's result: ``score``/``total`` in points over their latest attempt at each paper,
    ``percent`` = score / total (0..100), ``best_percent`` the best single attempt; of those latest
    attempts ``late`` were handed in late, in all ``late_minutes`` past the time limits and
    ``overdue_days`` after the deadlines (0: on time)."""

    username: str
    name: str
    group: str
    attempts: int
    papers: int
    score: float
    total: float
    percent: float
    best_percent: float
    latest_at: str
    late: int
    late_minutes: int
    overdue_days: int

    @property
    def passed(self) -> bool:
        return self.percent >= PASS_PERCENT


@dataclass(frozen=True)
class GroupScore:
    """A group's result: ``average_percent`` is the mean of its people's percents, ``pass_rate`` the
    percent of its people who passed (both 0..100); ``late`` counts its people's late submissions."""

    group: str
    people: int
    passed: int
    average_percent: float
    pass_rate: float
    best_percent: float
    lowest_percent: float
    late: int


@dataclass(frozen=True)
class MissedQuestion:
    """A question answered in the report: ``answered`` times, ``missed`` of them lost points;
    ``error_rate`` = missed / answered and ``score_rate`` = points scored / points possible (0..100);
    ``stem`` is shortened to :data:`STEM_CHARS` characters."""

    key: str
    kind: str
    item: str
    stem: str
    answered: int
    missed: int
    error_rate: float
    score_rate: float


@dataclass(frozen=True)
class ItemScore:
    """A 事项 over all its answers: ``questions`` distinct questions, ``answered`` answers, ``missed``
    of them lost points; ``error_rate`` and ``score_rate`` as in :class:`MissedQuestion`."""

    item: str
    questions: int
    answered: int
    missed: int
    error_rate: float
    score_rate: float


@dataclass(frozen=True)
class QuizReport:
    """The report of one quarter and/or paper ('' = all): people by percent (best first), groups by
    average (best first), questions that lost points (most missed first), 事项 (weakest first)."""

    quarter: str
    paper_id: str
    people: list[PersonScore]
    groups: list[GroupScore]
    missed: list[MissedQuestion]
    items: list[ItemScore]


def _percent(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else 0.0


def _scope(quarter: str, paper_id: str) -> str:
    parts = ([f"{quarter} 季度"] if quarter else []) + ([f"试卷 {paper_id}"] if paper_id else [])
    return "、".join(parts) or "全部试卷"


def latest_attempts(results: Sequence[Result]) -> list[Result]:
    """Each person's latest submitted result of each paper (by submission time, then attempt id)."""
    latest: dict[tuple[str, str], Result] = {}
    for r in results:
        key = (r.attempt.username, r.attempt.paper_id)
        held = latest.get(key)
        if held is None or (r.attempt.submitted_at, r.attempt.id) > (held.attempt.submitted_at, held.attempt.id):
            latest[key] = r
    return list(latest.values())


def build_report(results: Sequence[Result], names: dict[str, str], quarter: str = "",
                 paper_id: str = "") -> QuizReport:
    """The report of ``results`` (submitted attempts, e.g. ``Attempts.results``); ``names`` maps a
    username to the display name (the username is shown when missing). Raises :class:`ReportError`
    when there is no result."""
    if not results:
        raise ReportError(f"{_scope(quarter, paper_id)}还没有已提交的答卷，无法生成成绩报告。"
                          "请检查季度（如 2026Q4）和试卷编号，或等人员提交答卷、导入纸质成绩后再试。")
    counted = latest_attempts(results)
    people = _people(results, counted, names)
    answers = [a for r in counted for a in r.answers]
    return QuizReport(quarter, paper_id, people, _groups(people), _questions(answers), _items(answers))


def _people(results: Sequence[Result], counted: list[Result], names: dict[str, str]) -> list[PersonScore]:
    rows = []
    for username in sorted({r.attempt.username for r in results}):
        latest = [r for r in counted if r.attempt.username == username]
        mine = [r.attempt for r in latest]
        every = [r.attempt for r in results if r.attempt.username == username]
        newest = max(mine, key=lambda a: (a.submitted_at, a.id))
        score, total = sum(a.score for a in mine), sum(a.total for a in mine)
        rows.append(PersonScore(username, names.get(username) or username, newest.group or NO_GROUP, len(every),
                                len(mine), score, total, _percent(score, total),
                                max(_percent(a.score, a.total) for a in every), newest.submitted_at,
                                sum(bool(r.late_minutes or r.overdue_days) for r in latest),
                                sum(r.late_minutes for r in latest), sum(r.overdue_days for r in latest)))
    return sorted(rows, key=lambda p: (-p.percent, p.group, p.username))


def _groups(people: list[PersonScore]) -> list[GroupScore]:
    rows = []
    for group in sorted({p.group for p in people}):
        percents = [p.percent for p in people if p.group == group]
        passed = sum(x >= PASS_PERCENT for x in percents)
        rows.append(GroupScore(group, len(percents), passed, sum(percents) / len(percents),
                               _percent(passed, len(percents)), max(percents), min(percents),
                               sum(p.late for p in people if p.group == group)))
    return sorted(rows, key=lambda g: (-g.average_percent, g.group))


def _tally(answers: list[Answered]) -> tuple[int, int, float, float]:
    missed = sum(a.marking.score < a.marking.points for a in answers)
    return (len(answers), missed, _percent(missed, len(answers)),
            _percent(sum(a.marking.score for a in answers), sum(a.marking.points for a in answers)))


def _questions(answers: list[Answered]) -> list[MissedQuestion]:
    by_key: dict[str, list[Answered]] = {}
    for a in answers:
        by_key.setdefault(a.question.key, []).append(a)
    rows = []
    for key, group in by_key.items():
        q = group[0].question.question
        row = MissedQuestion(key, q.label, q.item or NO_ITEM, clip(q.stem, STEM_CHARS), *_tally(group))
        if row.missed:
            rows.append(row)
    return sorted(rows, key=lambda m: (-m.missed, -m.error_rate, m.key))


def _items(answers: list[Answered]) -> list[ItemScore]:
    by_item: dict[str, list[Answered]] = {}
    for a in answers:
        by_item.setdefault(a.question.question.item or NO_ITEM, []).append(a)
    rows = [ItemScore(item, len({a.question.key for a in group}), *_tally(group)) for item, group in by_item.items()]
    return sorted(rows, key=lambda i: (-i.error_rate, -i.missed, i.item))


def cjk_font() -> font_manager.FontProperties:
    """Font properties for Chinese text: the first installed family of :data:`CJK_FONTS` (DejaVu Sans
    as the fallback for other glyphs); without any, the default font and a logged warning."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FONTS:
        if family in installed:
            return font_manager.FontProperties(family=[family, "DejaVu Sans"])
    log.warning("没有找到中文字体（如 WenQuanYi Micro Hei），图表中的中文可能显示为方框；"
                "请安装 fonts-wqy-microhei 等中文字体。")
    return font_manager.FontProperties()


def _figure(title: str, font: font_manager.FontProperties) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(8, 5), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_title(title, fontproperties=font, fontsize=14)
    return figure, axes


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, format="png")
    return path


def write_charts(report: QuizReport, directory: Path) -> list[Path]:
    """Draws the report's charts as PNG files in ``directory`` (created if needed): the score
    distribution (成绩分布.png), the groups' average percents (各组平均分.png) and the 事项 with the
    highest error rates (薄弱事项.png, at most 10). Returns the three paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    font = cjk_font()
    scope = _scope(report.quarter, report.paper_id)
    return [_distribution(report, directory / "成绩分布.png", font, scope),
            _group_chart(report, directory / "各组平均分.png", font, scope),
            _item_chart(report, directory / "薄弱事项.png", font, scope)]


def _distribution(report: QuizReport, path: Path, font, scope: str) -> Path:
    figure, axes = _figure(f"成绩分布（{scope}，共 {len(report.people)} 人）", font)
    counts = [sum(low <= p.percent < high for p in report.people) for low, high, _ in BANDS]
    bars = axes.bar(range(len(BANDS)), counts, color=["#d9534f", "#f0ad4e", "#5bc0de", "#5cb85c", "#337ab7"])
    axes.bar_label(bars, labels=[f"{c} 人" for c in counts], fontproperties=font)
    axes.set_xticks(range(len(BANDS)), [label for _, _, label in BANDS], fontproperties=font)
    axes.set_xlabel("得分率", fontproperties=font)
    axes.set_ylabel("人数", fontproperties=font)
    axes.set_ylim(0, max(counts) * 1.2 + 1)
    axes.yaxis.get_major_locator().set_params(integer=True)
    return _save(figure, path)


def _group_chart(report: QuizReport, path: Path, font, scope: str) -> Path:
    figure, axes = _figure(f"各组平均得分率（{scope}）", font)
    groups = report.groups
    bars = axes.bar(range(len(groups)), [g.average_percent for g in groups], color="#337ab7")
    axes.bar_label(bars, labels=[f"{g.average_percent:.1f}%\n及格率 {g.pass_rate:.0f}%" for g in groups],
                   fontproperties=font, fontsize=9)
    axes.set_xticks(range(len(groups)), [f"{g.group}\n（{g.people} 人）" for g in groups], fontproperties=font)
    axes.axhline(PASS_PERCENT, color="#d9534f", linestyle="--", linewidth=1)
    axes.text(len(groups) - 0.5, PASS_PERCENT + 1, "及格线 60%", color="#d9534f", ha="right", fontproperties=font)
    axes.set_ylim(0, 115)
    axes.set_xlabel("小组", fontproperties=font)
    axes.set_ylabel("平均得分率（%）", fontproperties=font)
    return _save(figure, path)


def _item_chart(report: QuizReport, path: Path, font, scope: str) -> Path:
    figure, axes = _figure(f"薄弱事项：错误率最高的事项（{scope}）", font)
    items = report.items[:10][::-1]
    bars = axes.barh(range(len(items)), [i.error_rate for i in items], color="#d9534f")
    axes.bar_label(bars, labels=[f"{i.error_rate:.0f}%（{i.missed}/{i.answered}）" for i in items],
                   fontproperties=font, fontsize=9, padding=3)
    axes.set_yticks(range(len(items)), [clip(i.item, 16) for i in items], fontproperties=font)
    axes.set_xlim(0, 118)
    axes.set_xlabel("错误率（%，失分次数/作答次数）", fontproperties=font)
    axes.set_ylabel("事项", fontproperties=font)
    return _save(figure, path)


SHEETS: dict[str, tuple[str, ...]] = {
    "个人成绩": ("姓名", "用户名", "小组", "作答次数", "试卷数", "得分", "满分", "得分率(%)", "最好得分率(%)", "是否及格",
             "最近提交时间", "超时交卷（分钟）", "逾期（天）"),
    "小组成绩": ("小组", "人数", "及格人数", "平均得分率(%)", "及格率(%)", "最高得分率(%)", "最低得分率(%)", "迟交份数"),
    "易错题": ("题目编号", "题型", "事项", "题干", "作答次数", "失分次数", "错误率(%)", "得分率(%)"),
    "薄弱事项": ("事项", "题目数", "作答次数", "失分次数", "错误率(%)", "得分率(%)"),
}
"""Sheet name -> its header row, in the workbook's order."""


def _rows(report: QuizReport) -> dict[str, list[tuple]]:
    def r(x: float) -> float:
        return round(x, 1)
    return {
        "个人成绩": [(p.name, p.username, p.group, p.attempts, p.papers, p.score, p.total, r(p.percent),
                   r(p.best_percent), "是" if p.passed else "否", p.latest_at[:16].replace("T", " "),
                   p.late_minutes or None, p.overdue_days or None) for p in report.people],
        "小组成绩": [(g.group, g.people, g.passed, r(g.average_percent), r(g.pass_rate), r(g.best_percent),
                   r(g.lowest_percent), g.late) for g in report.groups],
        "易错题": [(m.key, m.kind, m.item, m.stem, m.answered, m.missed, r(m.error_rate), r(m.score_rate))
                for m in report.missed],
        "薄弱事项": [(i.item, i.questions, i.answered, i.missed, r(i.error_rate), r(i.score_rate))
                 for i in report.items],
    }


def write_workbook(report: QuizReport, path: Path) -> Path:
    """Writes the report as an xlsx at ``path`` (its folder created if needed), one sheet per table of
    :data:`SHEETS`, a header row then one row per person/group/question/事项; percents to 0.1; a person's
    超时交卷（分钟） and 逾期（天） are left blank when on time."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    book.remove(book.active)
    for name, rows in _rows(report).items():
        sheet = book.create_sheet(name)
        sheet.append(SHEETS[name])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
        sheet.freeze_panes = "A2"
        for column, header in zip(sheet.columns, SHEETS[name]):
            width = max(len(str(c.value or "")) for c in column) + 2
            sheet.column_dimensions[column[0].column_letter].width = min(max(width, len(header) * 2), 60)
    book.save(path)
    return path


def lateness(person: PersonScore) -> str:
    """``；超时交卷 N 分钟；逾期 N 天`` for a person who handed in late ('' on time), for the summary lines."""
    return (f"；超时交卷 {person.late_minutes} 分钟" if person.late_minutes else "") + (
        f"；逾期 {person.overdue_days} 天" if person.overdue_days else "")


def summary_lines(report: QuizReport, top: int = 10) -> list[str]:
    """The report as Chinese text lines for the terminal: totals, every person (with :func:`lateness`) and
    group (with its late submissions), and the ``top`` most missed questions and weakest 事项."""
    people = report.people
    passed = sum(p.passed for p in people)
    average = sum(p.percent for p in people) / len(people)
    late = sum(p.late for p in people)
    lines = [f"成绩报告：{_scope(report.quarter, report.paper_id)}",
             f"共 {len(people)} 人提交，平均得分率 {average:.1f}%，及格 {passed} 人（及格率 {_percent(passed, len(people)):.1f}%）"
             + (f"，迟交 {late} 份（超时或逾期）。" if late else "。"),
             "", "个人成绩（按得分率从高到低）："]
    lines += [f"  {n}. {p.name}（{p.username}，{p.group}）：{p.score:g}/{p.total:g} 分，{p.percent:.1f}%"
              f"{'' if p.passed else '，不及格'}；作答 {p.attempts} 次，最好 {p.best_percent:.1f}%{lateness(p)}"
              for n, p in enumerate(people, 1)]
    lines += ["", "小组成绩："]
    lines += [f"  {g.group}：{g.people} 人，平均得分率 {g.average_percent:.1f}%，及格率 {g.pass_rate:.1f}%"
              + (f"，迟交 {g.late} 份" if g.late else "") for g in report.groups]
    lines += ["", f"易错题（前 {top} 道）："]
    lines += [f"  {n}. [{m.kind}] {m.stem}（事项：{m.item}；题目 {m.key}）失分 {m.missed}/{m.answered} 次，"
              f"错误率 {m.error_rate:.1f}%" for n, m in enumerate(report.missed[:top], 1)] or ["  没有失分的题目。"]
    lines += ["", f"薄弱事项（前 {top} 个）："]
    lines += [f"  {n}. {i.item}：{i.questions} 道题，失分 {i.missed}/{i.answered} 次，错误率 {i.error_rate:.1f}%"
              for n, i in enumerate(report.items[:top], 1)]
    return lines
