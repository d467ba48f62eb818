"""The quiz results report: aggregates from hand-built results, PNG charts and the xlsx read back."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from bot.quiz_report import (
    NO_GROUP, NO_ITEM, SHEETS, ReportError, build_report, cjk_font, summary_lines, write_charts, write_workbook,
)
from kb.attempts import Answered, Attempt, Marking, Result
from kb.errors import KBError
from kb.papers import PaperQuestion
from kb.quizbank import QuizQuestion, Source

# key -> (kind, 事项, stem, points)
QUESTIONS = {
    "b1#1": ("single", "社保卡补办", "社会保障卡遗失后到窗口补办，申请人本人需要携带下列哪种材料？", 2.0),
    "b1#2": ("judge", "社保卡补办", "社会保障卡补办可以由他人持双方身份证件代为办理。", 1.0),
    "b1#3": ("blank", "营业执照变更", "公司变更登记事项，应当自作出变更决议之日起____日内申请变更登记。", 2.0),
    "b1#4": ("short", "", "简述不动产首次登记需要提交的主要材料，并说明材料不全时窗口应如何一次性告知申请人补正。", 5.0),
    "b2#1": ("single", "居住证办理", "申领居住证需要在居住地居住满多长时间？", 4.0),
}
PAPERS = {"P1": {"A": ["b1#1", "b1#2", "b1#3", "b1#4"], "B": ["b1#3", "b1#1", "b1#4", "b1#2"]},
          "P2": {"A": ["b2#1"]}}
NAMES = {"zhang": "张三", "li": "李四", "wang": "王五", "chen": "陈六"}
# (attempt id, username, group, paper, version, submitted at, key -> points scored)
ATTEMPTS = [
    (2, "zhang", "一组", "P1", "A", "2026-11-02T09:00:00", {"b1#1": 2, "b1#2": 1, "b1#3": 2, "b1#4": 4}),
    (1, "zhang", "一组", "P1", "A", "2026-10-10T09:00:00", {"b1#1": 0, "b1#2": 0, "b1#3": 0, "b1#4": 2}),
    (3, "li", "一组", "P1", "B", "2026-11-01T10:00:00", {"b1#1": 0, "b1#2": 1, "b1#3": 0, "b1#4": 3}),
    (4, "wang", "二组", "P1", "A", "2026-11-03T10:00:00", {"b1#1": 2, "b1#2": 0, "b1#3": 2, "b1#4": 5}),
    (5, "wang", "二组", "P2", "A", "2026-11-04T10:00:00", {"b2#1": 0}),
    (6, "zhao", "二组", "P1", "B", "2026-11-05T10:00:00", {"b1#1": 0, "b1#2": 1, "b1#3": 2, "b1#4": 5}),
    (7, "chen", "", "P1", "A", "2026-11-06T10:00:00", {"b1#1": 2, "b1#2": 1, "b1#3": 0, "b1#4": 1.5}),
]


def question(key: str, variant: str) -> QuizQuestion:
    kind, item, stem, _ = QUESTIONS[key]
    options = ("本人有效身份证件", "户口簿原件", "单位介绍信", "近期体检报告") if kind == "single" else ()
    if variant == "B":
        options = options[::-1]
    answer = ("A" if variant == "A" else "D",) if kind == "single" else ("正确",)
    return QuizQuestion(kind, stem, answer, "见来源条目。", (Source("E-" + key, 1),), "fact:" + key, item, options)


def result(attempt_id, username, group, paper, variant, at, scored) -> Result:
    order = PAPERS[paper][variant]
    total = sum(QUESTIONS[k][3] for k in order)
    attempt = Attempt(attempt_id, paper, variant, username, group, "2026Q4", "online", at[:10] + "T08:30:00", at,
                      float(sum(scored.values())), total)
    answers = tuple(Answered(PaperQuestion(n, question(k, variant), QUESTIONS[k][3], k), "答案",
                             Marking(float(scored[k]), QUESTIONS[k][3]))
                    for n, k in enumerate(order, 1))
    return Result(attempt, f"2026年第四季度考试 {paper}", answers)


@pytest.fixture()
def results() -> list[Result]:
    return [result(*row) for row in ATTEMPTS]


def counted_rows() -> list[tuple]:
    """The input attempts the report must count: each person's latest of each paper."""
    return [row for row in ATTEMPTS
            if not any(o[1] == row[1] and o[3] == row[3] and o[5] > row[5] for o in ATTEMPTS)]


def expected_people() -> dict[str, tuple]:
    """username -> (group, attempts, score, total, percent, best percent), from the input table."""
    out = {}
    for user in {row[1] for row in ATTEMPTS}:
        mine = [r for r in counted_rows() if r[1] == user]
        score = sum(sum(r[6].values()) for r in mine)
        total = sum(QUESTIONS[k][3] for r in mine for k in r[6])
        every = [r for r in ATTEMPTS if r[1] == user]
        best = max(100 * sum(r[6].values()) / sum(QUESTIONS[k][3] for k in r[6]) for r in every)
        out[user] = (mine[0][2] or NO_GROUP, len(every), score, total, 100 * score / total, best)
    return out


def expected_by(field) -> dict[str, tuple[int, int, float]]:
    """Grouping of every counted answer by ``field(key)`` -> (answered, lost points, points scored %)."""
    out: dict[str, list] = {}
    for row in counted_rows():
        for key, scored in row[6].items():
            tally = out.setdefault(field(key), [0, 0, 0.0, 0.0])
            tally[0] += 1
            tally[1] += scored < QUESTIONS[key][3]
            tally[2] += scored
            tally[3] += QUESTIONS[key][3]
    return {k: (n, missed, 100 * got / of) for k, (n, missed, got, of) in out.items()}


def test_people_use_each_persons_latest_attempt_of_each_paper(results):
    report = build_report(results, NAMES, quarter="2026Q4")
    expected = expected_people()
    got = {p.username: (p.group, p.attempts, p.score, p.total, p.percent, p.best_percent) for p in report.people}
    assert got.keys() == expected.keys()
    for user, row in expected.items():
        assert got[user][:4] == row[:4], user
        assert got[user][4:] == pytest.approx(row[4:]), user
    zhang = next(p for p in report.people if p.username == "zhang")
    assert (zhang.name, zhang.attempts, zhang.percent, zhang.latest_at) == ("张三", 2, 90.0, "2026-11-02T09:00:00")
    wang = next(p for p in report.people if p.username == "wang")
    assert (wang.papers, wang.score, wang.total) == (2, 9.0, 14.0)
    assert next(p for p in report.people if p.username == "zhao").name == "zhao"
    percents = [p.percent for p in report.people]
    assert percents == sorted(percents, reverse=True)


def test_groups_average_people_and_count_passes(results):
    report = build_report(results, NAMES)
    people = expected_people()
    for g in report.groups:
        percents = [row[4] for row in people.values() if row[0] == g.group]
        assert g.people == len(percents)
        assert g.average_percent == pytest.approx(sum(percents) / len(percents))
        assert g.pass_rate == pytest.approx(100 * sum(p >= 60 for p in percents) / len(percents))
        assert (g.best_percent, g.lowest_percent) == pytest.approx((max(percents), min(percents)))
    assert {g.group for g in report.groups} == {"一组", "二组", NO_GROUP}
    one = next(g for g in report.groups if g.group == "一组")
    assert (one.people, one.passed, one.average_percent, one.pass_rate) == (2, 1, 65.0, 50.0)
    averages = [g.average_percent for g in report.groups]
    assert averages == sorted(averages, reverse=True)


def test_missed_questions_add_up_both_versions_most_missed_first(results):
    report = build_report(results, NAMES, paper_id="")
    expected = expected_by(lambda key: key)
    assert {m.key for m in report.missed} == {k for k, (_, missed, _) in expected.items() if missed}
    for m in report.missed:
        answered, missed, score_rate = expected[m.key]
        assert (m.answered, m.missed) == (answered, missed)
        assert m.error_rate == pytest.approx(100 * missed / answered)
        assert m.score_rate == pytest.approx(score_rate)
        kind, item, stem, _ = QUESTIONS[m.key]
        assert m.item == (item or NO_ITEM)
        assert m.kind == {"single": "单选", "judge": "判断", "blank": "填空", "short": "简答"}[kind]
        assert len(m.stem) <= 40 and stem.startswith(m.stem.rstrip("…"))
    b11 = next(m for m in report.missed if m.key == "b1#1")
    assert (b11.answered, b11.missed) == (5, 2)  # li (version B) and zhao (version B); zhang's first try not counted
    assert [m.missed for m in report.missed] == sorted((m.missed for m in report.missed), reverse=True)


def test_weakest_items_by_error_rate_over_all_answers(results):
    report = build_report(results, NAMES)
    expected = expected_by(lambda key: QUESTIONS[key][1] or NO_ITEM)
    assert {i.item for i in report.items} == expected.keys()
    for i in report.items:
        answered, missed, score_rate = expected[i.item]
        assert (i.answered, i.missed) == (answered, missed)
        assert i.error_rate == pytest.approx(100 * missed / answered)
        assert i.score_rate == pytest.approx(score_rate)
        assert i.questions == len({k for k, v in QUESTIONS.items() if (v[1] or NO_ITEM) == i.item})
    rates = [i.error_rate for i in report.items]
    assert rates == sorted(rates, reverse=True)
    assert report.items[0].item == "居住证办理"


def test_no_results_is_a_chinese_error_naming_the_scope():
    with pytest.raises(ReportError) as caught:
        build_report([], NAMES, quarter="2026Q3", paper_id="P9")
    assert isinstance(caught.value, KBError)
    assert "2026Q3" in str(caught.value) and "P9" in str(caught.value) and "没有已提交的答卷" in str(caught.value)


def test_charts_are_png_images_drawn_with_chinese_glyphs(results, tmp_path):
    report = build_report(results, NAMES, quarter="2026Q4")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = write_charts(report, tmp_path / "charts")
    assert [p.name for p in paths] == ["成绩分布.png", "各组平均分.png", "薄弱事项.png"]
    for path in paths:
        assert path.stat().st_size > 10_000
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.size[0] >= 600 and image.size[1] >= 400
            assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20
    if Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc").exists():
        assert not [w for w in caught if "missing from font" in str(w.message)]


def test_cjk_font_is_found_when_installed():
    if not Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc").exists():
        pytest.skip("WenQuanYi Micro Hei is not installed here")
    assert cjk_font().get_family()[0] == "WenQuanYi Micro Hei"


def test_workbook_reads_back_one_row_per_person_group_question_and_item(results, tmp_path):
    report = build_report(results, NAMES, quarter="2026Q4")
    path = write_workbook(report, tmp_path / "out" / "成绩报告.xlsx")
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == ["个人成绩", "小组成绩", "易错题", "薄弱事项"]
    sheets = {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}
    for name, rows in sheets.items():
        assert rows[0] == SHEETS[name]
    people = {row[1]: row for row in sheets["个人成绩"][1:]}
    expected = expected_people()
    assert people.keys() == expected.keys()
    for user, row in expected.items():
        assert people[user][2:7] == (row[0], row[1], len({r[3] for r in counted_rows() if r[1] == user}), row[2],
                                     row[3])
        assert people[user][7] == pytest.approx(row[4], abs=0.05)
        assert people[user][9] == ("是" if row[4] >= 60 else "否")
    assert people["li"][0] == "李四"
    assert [r[0] for r in sheets["小组成绩"][1:]] == [g.group for g in report.groups]
    missed = {row[0]: row for row in sheets["易错题"][1:]}
    for key, (answered, lost, _) in expected_by(lambda k: k).items():
        assert (missed[key][4:6] == (answered, lost)) if lost else key not in missed
    assert {row[0]: row[3] for row in sheets["薄弱事项"][1:]} == {
        item: lost for item, (_, lost, _) in expected_by(lambda k: QUESTIONS[k][1] or NO_ITEM).items()}


def test_summary_lines_list_people_groups_and_the_top_missed(results):
    report = build_report(results, NAMES, quarter="2026Q4")
    lines = summary_lines(report, top=2)
    text = "\n".join(lines)
    assert "2026Q4" in lines[0]
    assert f"共 {len(expected_people())} 人提交" in text
    for user, name in NAMES.items():
        assert f"{name}（{user}" in text
    assert "李四（li，一组）：4/10 分，40.0%，不及格" in text
    start = lines.index("易错题（前 2 道）：")
    assert lines[start + 1].startswith("  1. ") and lines[start + 2].startswith("  2. ") and lines[start + 3] == ""
    assert "薄弱事项（前 2 个）：" in lines and "  1. 居住证办理" in text
