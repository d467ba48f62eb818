"""Papers and attempts on a real knowledge base: composing A/B papers from a bank, the taker's sheet
without a key, assignments and deadlines, submitting once, the wrong-answer book, marks imported from
a sheet, and editing bank questions."""

from __future__ import annotations

import re

import pytest
from fixtures import PASSWORD, make_xlsx
from test_quiz import ALL_TYPES, _bank, _lead, quizzed  # noqa: F401  (the fixture)

from ingest.marks_sheet import read_marks_sheet
from kb.attempts import Attempts, Marking, quarter_of
from kb.errors import PermissionDenied
from kb.paper_marks import import_marks
from kb.papers import LETTERS, PaperError, Papers, shuffled_options
from kb.quizbank import QuizBank, QuizError
from kb.types import Entry
from kb.users import Users
from kb.workflow import Workflow
from kb.wrong_book import WrongBook

COUNTS = {"single": 2, "multiple": 1, "judge": 2, "blank": 2, "short": 1}


@pytest.fixture
def staffed(quizzed):
    """The quiz knowledge base with a bank ``Q4`` and two staff in group 一组 and one in 二组."""
    users = Users(quizzed.kb.records)
    admin = users.get("admin")
    for name, display, group in (("s1", "赵一", "一组"), ("s2", "钱二", "一组"), ("s3", "孙三", "二组")):
        users.add(admin, name, PASSWORD, "staff", display, group)
    _bank(quizzed, "Q4", "2026Q4", counts=ALL_TYPES, earlier=True)
    return quizzed


def _user(ctx, name):
    return Users(ctx.kb.records).get(name)


def _exact(question, response, points):
    """A grader for these tests: full points for the exact key (letters, 正确/错误 or the term)."""
    return Marking(points if response == "".join(question.answer) else 0.0, points)


def _keyed_responses(paper, wrong: set[int] = frozenset()):
    return {q.number: ("" if q.number in wrong else "".join(q.question.answer)) for q in paper.questions}


def test_a_paper_draws_the_asked_counts_and_b_shuffles_order_and_options_keeping_the_key(staffed):
    papers = Papers(staffed.kb.records)
    a = papers.compose(_lead(staffed), "Q4", "四季度自测", COUNTS, {"short": 8}, variants=2, time_limit=30)
    b = papers.paper(_lead(staffed), a.id, "B")
    assert [sum(q.question.kind == k for q in a.questions) for k in COUNTS] == list(COUNTS.values())
    assert a.total == 2 * 2 + 3 + 2 * 1 + 2 * 2 + 8 and b.total == a.total and a.variants == ("A", "B")
    by_key = {q.key: q.question for q in a.questions}
    assert {q.key for q in b.questions} == set(by_key)
    for q in b.questions:
        original = by_key[q.key]
        assert sorted(q.question.options) == sorted(original.options)
        if original.kind not in ("single", "multiple"):
            assert q.question.answer == original.answer
            continue
        assert q.question.explanation.startswith("正确选项：") and not re.search(r"[A-F]（", q.question.explanation)
        right = {q.question.options[LETTERS.index(k)] for k in q.question.answer}
        assert right == {original.options[LETTERS.index(k)] for k in original.answer}
    assert [q.question.kind for q in b.questions] == [q.question.kind for q in a.questions]


def test_shuffled_options_move_the_key_letters_with_the_options(staffed):
    question = next(q for q in QuizBank(staffed.kb.records).questions(_lead(staffed), "Q4") if q.kind == "multiple")
    moved = shuffled_options(question, list(reversed(range(len(question.options)))))
    n = len(question.options)
    assert moved.answer == tuple(sorted(LETTERS[n - 1 - LETTERS.index(k)] for k in question.answer))
    assert moved.options == tuple(reversed(question.options))


def test_stale_questions_are_never_drawn_and_a_short_bank_says_what_is_missing(staffed):
    banks = QuizBank(staffed.kb.records)
    questions = banks.questions(_lead(staffed), "Q4")
    blanks = [q for q in questions if q.kind == "blank"]
    source = blanks[0].sources[0].entry_id
    old = staffed.kb.entry(source)
    workflow = Workflow(staffed.kb)
    draft = workflow.submit(_user(staffed, "s1"), Entry("", old.question, old.answer + "另需预约。"), revises=source)
    workflow.approve(_lead(staffed), draft.entry_id)
    with pytest.raises(PaperError, match="未过期的填空题只有 1 道"):
        Papers(staffed.kb.records).compose(_lead(staffed), "Q4", "卷", {"blank": 2})
    paper = Papers(staffed.kb.records).compose(_lead(staffed), "Q4", "卷", {"blank": 1})
    assert source not in {s.entry_id for q in paper.questions for s in q.question.sources}


def test_the_takers_sheet_has_no_key_and_only_assigned_people_may_start(staffed):
    papers = Papers(staffed.kb.records)
    paper = papers.compose(_lead(staffed), "Q4", "四季度自测", COUNTS, variants=2)
    assert papers.assign(_lead(staffed), paper.id, "group", ["一组"], "2099-12-31") == 1
    attempts = Attempts(staffed.kb.records)
    attempt, sheet = attempts.start(_user(staffed, "s1"), paper.id)
    keyed = papers.paper(_lead(staffed), paper.id, attempt.variant)
    assert [q.stem for q in sheet.questions] == [q.question.stem for q in keyed.questions]
    assert not {"answer", "explanation", "sources"} & set(vars(sheet.questions[0]))
    again, _ = attempts.start(_user(staffed, "s1"), paper.id)
    assert again.id == attempt.id
    with pytest.raises(PaperError, match="没有分配给你"):
        attempts.start(_user(staffed, "s3"), paper.id)
    with pytest.raises(PaperError, match="提交后才能看到答案"):
        attempts.result(_user(staffed, "s1"), attempt.id)
    with pytest.raises(PermissionDenied):
        papers.paper(_user(staffed, "s1"), paper.id)
    with pytest.raises(PermissionDenied):
        attempts.attempt(_user(staffed, "s2"), attempt.id)


def test_assignments_by_person_group_and_everyone_and_a_passed_deadline(staffed):
    papers = Papers(staffed.kb.records)
    one = papers.compose(_lead(staffed), "Q4", "一", {"judge": 1})
    two = papers.compose(_lead(staffed), "Q4", "二", {"judge": 1})
    papers.assign(_lead(staffed), one.id, "user", ["s3"], "2020-01-01")
    papers.assign(_lead(staffed), two.id, "all", [])
    assert [a.paper_id for a in papers.assigned_to(_user(staffed, "s3"))] == [one.id, two.id]
    assert [a.paper_id for a in papers.assigned_to(_user(staffed, "s1"))] == [two.id]
    with pytest.raises(PaperError, match="截止日期 2020-01-01 已过"):
        Attempts(staffed.kb.records).start(_user(staffed, "s3"), one.id)
    with pytest.raises(PaperError, match="没有这些小组：三组"):
        papers.assign(_lead(staffed), one.id, "group", ["三组"])
    with pytest.raises(PermissionDenied):
        papers.assign(_user(staffed, "s1"), one.id, "all", [])


def test_submitting_grades_stores_once_and_fills_the_wrong_answer_book_until_mastered(staffed):
    papers = Papers(staffed.kb.records)
    paper = papers.compose(_lead(staffed), "Q4", "四季度自测", COUNTS)
    papers.assign(_lead(staffed), paper.id, "group", ["一组"])
    attempts = Attempts(staffed.kb.records)
    s1, s2 = _user(staffed, "s1"), _user(staffed, "s2")
    key = papers.paper(_lead(staffed), paper.id)
    first, _ = attempts.start(s1, paper.id)
    result = attempts.submit(s1, first.id, _keyed_responses(key), _exact)
    assert result.attempt.score == paper.total and result.attempt.quarter == quarter_of(result.attempt.submitted_at)
    second, _ = attempts.start(s2, paper.id)
    result = attempts.submit(s2, second.id, _keyed_responses(key, wrong={1, 3}), _exact)
    lost = sum(q.points for q in key.questions if q.number in (1, 3))
    assert result.attempt.score == paper.total - lost
    assert [a.response for a in result.answers if not a.marking.correct] == ["", ""]
    with pytest.raises(PaperError, match="不能重复提交"):
        attempts.submit(s2, second.id, {}, _exact)
    assert WrongBook(staffed.kb.records).of(s1) == []
    book = WrongBook(staffed.kb.records).of(s2)
    assert sorted(w.question.number for w in book) == [1, 3]
    WrongBook(staffed.kb.records).master(s2, book[0].key)
    assert [w.key for w in WrongBook(staffed.kb.records).of(s2)] == [book[1].key]
    scores = attempts.scores(_lead(staffed))
    assert [(a.username, a.group, a.score) for a in scores] == [("s1", "一组", paper.total),
                                                                ("s2", "一组", paper.total - lost)]


def test_marks_from_a_sheet_are_imported_per_person_and_bad_rows_are_named(staffed, tmp_path):
    papers = Papers(staffed.kb.records)
    paper = papers.compose(_lead(staffed), "Q4", "纸质卷", {"judge": 2, "short": 1})
    short = next(q for q in paper.questions if q.question.kind == "short")
    sheet = make_xlsx(tmp_path / "成绩.xlsx", [
        ["赵一", 1, 1], ["赵一", short.number, 6], ["s3", 2, 1], ["无此人", 1, 1], ["孙三", 9, 1],
        ["孙三", 1, 5], ["孙三", "第一题", 1], ["孙三", "inf", 1], ["孙三", 1.5, 1], ["孙三", 1, "nan"]],
        ["姓名", "题号", "得分"])
    rows, unreadable = read_marks_sheet(sheet)
    assert unreadable == ["第 8 行：题号“第一题”或得分“1”不是数字。",
                          "第 9 行：题号“inf”应为正整数，如 3。", "第 10 行：题号“1.5”应为正整数，如 3。",
                          "第 11 行：得分“nan”应为具体的分数，如 2 或 2.5。"]
    count, problems = import_marks(staffed.kb.records, _lead(staffed), paper.id, rows, day="2026-11-20")
    assert count == 2
    assert problems == ["第 5 行：没有名为“无此人”的账号，请填写用户名或姓名。",
                        f"第 6 行：试卷 {paper.id} 没有第 9 题。",
                        f"第 7 行：第 1 题得分 5 超出范围（0 至 {paper.questions[0].points:g}）。"]
    scores = {a.username: (a.score, a.mode, a.quarter) for a in Attempts(staffed.kb.records).scores(_lead(staffed))}
    assert scores == {"s1": (1 + 6, "paper", "2026Q4"), "s3": (1, "paper", "2026Q4")}
    import_marks(staffed.kb.records, _lead(staffed), paper.id, [(2, "赵一", 1, 0)], day="2026-11-21")
    assert [a.score for a in Attempts(staffed.kb.records).scores(_lead(staffed)) if a.username == "s1"] == [0]


def test_a_trainer_edits_a_bank_question_and_a_bad_key_is_refused(staffed):
    banks = QuizBank(staffed.kb.records)
    questions = banks.questions(_lead(staffed), "Q4")
    n = next(i for i, q in enumerate(questions, 1) if q.kind == "single")
    original = questions[n - 1]
    edited = banks.edit(_lead(staffed), "Q4", n, "改过的题干（　）", list(original.options), ["C"], "改过的解析")
    assert (edited.stem, edited.answer, edited.explanation, edited.sources) == (
        "改过的题干（　）", ("C",), "改过的解析", original.sources)
    with pytest.raises(QuizError, match="单选题只能有一个正确答案"):
        banks.edit(_lead(staffed), "Q4", n, "题干", list(original.options), ["A", "B"], "")
    with pytest.raises(QuizError, match="答案必须是选项字母"):
        banks.edit(_lead(staffed), "Q4", n, "题干", list(original.options), ["G"], "")
    judged = next(i for i, q in enumerate(questions, 1) if q.kind == "judge")
    with pytest.raises(QuizError, match="判断题的答案只能是"):
        banks.edit(_lead(staffed), "Q4", judged, "题干", [], ["对"], "")
    with pytest.raises(PermissionDenied):
        banks.edit(_user(staffed, "s1"), "Q4", n, "题干", list(original.options), ["A"], "")


def test_quarter_of_a_day():
    assert [quarter_of(d) for d in ("2026-01-01", "2026-03-31T23:59:59", "2026-04-01", "2026-12-31")] == [
        "2026Q1", "2026Q1", "2026Q2", "2026Q4"]


def test_an_assigned_paper_is_taken_once_and_an_open_practice_paper_again(staffed):
    papers = Papers(staffed.kb.records)
    exam = papers.compose(_lead(staffed), "Q4", "考试", {"judge": 1})
    practice = papers.compose(_lead(staffed), "Q4", "练习", {"judge": 1})
    papers.assign(_lead(staffed), exam.id, "user", ["s1"], "2099-12-31")
    papers.assign(_lead(staffed), practice.id, "all", [])
    attempts, s1 = Attempts(staffed.kb.records), _user(staffed, "s1")
    for paper in (exam, practice):
        attempt, _ = attempts.start(s1, paper.id)
        attempts.submit(s1, attempt.id, {1: "正确"}, _exact)
    with pytest.raises(PaperError, match="只能作答一次"):
        attempts.start(s1, exam.id)
    again, _ = attempts.start(s1, practice.id)
    assert not again.submitted_at and [a.paper_id for a in attempts.mine(s1)].count(practice.id) == 2


def test_answers_graded_outside_a_lock_are_refused_if_the_attempt_was_submitted_meanwhile(staffed):
    papers = Papers(staffed.kb.records)
    paper = papers.compose(_lead(staffed), "Q4", "卷", {"judge": 2})
    papers.assign(_lead(staffed), paper.id, "user", ["s1"])
    attempts, s1 = Attempts(staffed.kb.records), _user(staffed, "s1")
    attempt, _ = attempts.start(s1, paper.id)
    with pytest.raises(PaperError, match="试卷没有第 7 题"):
        attempts.handing_in(s1, attempt.id, {7: "正确"})
    first = attempts.handing_in(s1, attempt.id, {1: "正确"})
    second = attempts.handing_in(s1, attempt.id, {1: "错误", 2: "错误"})
    assert first.answers == {1: "正确", 2: ""}
    result = attempts.hand_in(s1, second, second.marks(_exact))
    assert [a.response for a in result.answers] == ["错误", "错误"]
    with pytest.raises(PaperError, match="已经提交过"):
        attempts.hand_in(s1, first, first.marks(_exact))


def test_an_online_attempt_handed_in_past_its_time_limit_is_marked_late(staffed):
    papers = Papers(staffed.kb.records)
    paper = papers.compose(_lead(staffed), "Q4", "限时卷", {"judge": 1}, time_limit=30)
    papers.assign(_lead(staffed), paper.id, "user", ["s1", "s2"])
    attempts = Attempts(staffed.kb.records)
    late, _ = attempts.start(_user(staffed, "s1"), paper.id)
    on_time, _ = attempts.start(_user(staffed, "s2"), paper.id)
    with staffed.kb.records.transaction(changes_index=False) as conn:
        conn.execute("UPDATE quiz_attempts SET started_at=? WHERE id=?", ("2026-01-01T08:00:00", late.id))
    marked = attempts.submit(_user(staffed, "s1"), late.id, {1: "正确"}, _exact)
    assert marked.time_limit == 30 and marked.late_minutes > 60 * 24
    assert attempts.submit(_user(staffed, "s2"), on_time.id, {1: "正确"}, _exact).late_minutes == 0
