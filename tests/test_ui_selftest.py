"""The 自测 page's handlers, called as gradio calls them, on a real bank and paper: a staff member lists an
assigned paper, starts it without any key reaching the page, submits and sees the score and the 解析;
mistakes fill the 错题本 and a right retry empties it; a timed paper is submitted when time is up; an
account the paper is not assigned to is refused."""

from __future__ import annotations

import gradio as gr
import pytest
from fixtures import FAST_HASHER, PASSWORD, as_user, make_xlsx
from test_quiz import HEADERS, ROWS

from bot.quiz import build
from ingest import ingest_paths
from kb.accounts import Accounts
from kb.papers import LETTERS, Papers
from kb.quizbank import QuizBank, period_entries
from kb.users import Users
from web import selftest, selftest_book
from web.app import build_app

GROUP = "综合窗口"
COUNTS = {"single": 2, "multiple": 2, "judge": 2, "blank": 2, "short": 2}


@pytest.fixture
def exam(ctx, tmp_path):
    """The twelve entries, a bank of ten questions, paper P1 (A/B versions) assigned to zhangsan's group
    and to lisi, and the trainer zuzhang (not assigned)."""
    users = Users(ctx.kb.records, FAST_HASHER)
    admin, lead = users.get("admin"), users.get("zuzhang")
    ingest_paths(ctx.kb, [make_xlsx(tmp_path / "题库素材.xlsx", ROWS, HEADERS)], actor=admin)
    Accounts(users).change(admin, "zhangsan", group=GROUP)
    users.add(admin, "lisi", PASSWORD, "staff", "李四", group="受理组")
    questions, _ = build(period_entries(ctx.kb.records, "2026-01-01", "2026-12-31"), COUNTS, "自测")
    QuizBank(ctx.kb.records).save(lead, "B1", "2026-01-01", "2026-12-31", {}, questions)
    papers = Papers(ctx.kb.records)
    papers.compose(lead, "B1", "四季度业务自测", COUNTS, variants=2, paper_id="P1")
    papers.assign(lead, "P1", "group", [GROUP], "2099-12-31")
    papers.assign(lead, "P1", "user", ["lisi"], "2099-12-31")
    return ctx


def _keyed(ctx, sheet):
    return Papers(ctx.kb.records).paper(Users(ctx.kb.records).get("zuzhang"), sheet.paper_id, sheet.variant)


def _right_value(question):
    """What a taker would put in the input of ``question`` to answer it right."""
    if question.kind == "single":
        return question.answer[0]
    if question.kind == "multiple":
        return list(question.answer)
    return question.answer[0]


def _wrong_value(question):
    if question.kind == "single":
        return next(k for k in LETTERS[:len(question.options)] if k not in question.answer)
    return "错误" if question.answer[0] == "正确" else "正确"


def _shown(*parts) -> str:
    return "\n".join(map(repr, parts))


def test_the_page_builds(exam):
    exam.pages = (selftest,)
    assert isinstance(build_app(exam), gr.Blocks)


def test_an_assigned_paper_is_taken_without_the_key_and_graded(exam):
    zhangsan = as_user("zhangsan")
    choices, rows = selftest.paper_rows(exam, zhangsan)
    assert [c[1] for c in choices] == ["P1"] and rows == [["四季度业务自测", "P1", "2099-12-31", "不限时", "未开始", ""]]
    attempt_id, sheet, heading = selftest.begin(exam, "P1", zhangsan)
    fields = selftest.fields(sheet)
    shown = _shown(attempt_id, sheet, heading, fields)
    paper = _keyed(exam, sheet)
    assert [f.number for f in fields] == [q.number for q in paper.questions] and len(fields) == 10
    assert "解析" not in shown and "正确答案" not in shown and "出处" not in shown
    for q, f in zip(paper.questions, fields):
        question = q.question
        assert question.explanation not in shown and f.heading.count("第") >= 1
        if question.kind in ("single", "multiple"):
            assert f.choices == tuple((f"{k}. {o}", k) for k, o in zip(LETTERS, question.options))
        if question.kind == "blank":
            asked = "\n".join(x.stem + "\n".join(x.options) for x in sheet.questions)
            assert _shown(heading, fields).count(question.answer[0]) <= asked.count(question.answer[0])
            assert question.answer[0] not in question.stem.split("”：", 1)[1]
        if question.kind == "short":
            assert question.answer[0] not in shown
    assert selftest.paper_rows(exam, zhangsan)[1][0][4] == "作答中"
    assert selftest.begin(exam, "P1", zhangsan)[0] == attempt_id
    with pytest.raises(gr.Error, match="还没有提交"):
        selftest.result_of(exam, attempt_id, zhangsan)
    with pytest.raises(gr.Error, match="没有成绩|还没有提交"):
        selftest.latest_result(exam, "P1", zhangsan)

    values = [_right_value(q.question) for q in paper.questions]
    result = selftest.hand_in(exam, attempt_id, selftest.responses(sheet, values), zhangsan)
    assert result.attempt.score == result.attempt.total == paper.total
    report = selftest.report(exam, result)
    assert f"得分 {paper.total:g} / {paper.total:g}" in report and report.count("正确答案") == 10
    assert "解析" in report and all(q.question.sources[0].entry_id in report.replace("\\", "") for q in paper.questions)
    assert selftest.paper_rows(exam, zhangsan)[1][0][4:] == ["已提交", f"{paper.total:g} / {paper.total:g}"]
    assert selftest.latest_result(exam, "P1", zhangsan) == result
    with pytest.raises(gr.Error, match="不能重复提交"):
        selftest.hand_in(exam, attempt_id, {}, zhangsan)
    assert selftest_book.book(exam, zhangsan)[:2] == ([], [])


def test_mistakes_fill_the_wrong_book_and_a_right_retry_empties_it(exam):
    lisi = as_user("lisi")
    attempt_id, sheet, _ = selftest.begin(exam, "P1", lisi)
    paper = _keyed(exam, sheet)
    missed = [q for q in paper.questions if q.question.kind in ("single", "judge")][:3]
    values = [_wrong_value(q.question) if q in missed else _right_value(q.question) for q in paper.questions]
    result = selftest.hand_in(exam, attempt_id, selftest.responses(sheet, values), lisi)
    assert result.attempt.score == paper.total - sum(q.points for q in missed)
    assert [x.question.number for x in result.answers if not x.marking.correct] == [q.number for q in missed]

    choices, rows, notes = selftest_book.book(exam, lisi)
    assert sorted(key for _, key in choices) == sorted(q.key for q in missed)
    assert {r[1] for r in rows} == {q.question.stem for q in missed} and {r[3] for r in rows} == {"1"}
    assert notes.count("正确答案") == 3 and "解析" in notes
    assert all(q.question.sources[0].entry_id in r[5] for q in missed for r in rows if r[1] == q.question.stem)

    first = missed[0]
    field = selftest_book.retry_field(exam, first.key, lisi)
    assert first.question.explanation not in _shown(field) and "正确答案" not in _shown(field)
    right, verdict = selftest_book.retry(exam, first.key, _wrong_value(first.question), lisi)
    assert not right and "正确答案" in verdict and first.key in [k for _, k in selftest_book.book(exam, lisi)[0]]
    right, verdict = selftest_book.retry(
        exam, first.key, selftest_book.response(first.question.kind, _right_value(first.question)), lisi)
    assert right and "移出错题本" in verdict
    assert sorted(k for _, k in selftest_book.book(exam, lisi)[0]) == sorted(q.key for q in missed[1:])
    with pytest.raises(gr.Error, match="不在你的错题本"):
        selftest_book.retry(exam, first.key, "A", lisi)
    assert selftest_book.book(exam, as_user("zhangsan"))[0] == []


def test_a_timed_paper_is_submitted_when_time_is_up(exam):
    lead = Users(exam.kb.records).get("zuzhang")
    papers = Papers(exam.kb.records)
    papers.compose(lead, "B1", "限时练习", {"judge": 2}, time_limit=10, paper_id="P2")
    papers.assign(lead, "P2", "all", [])
    zhangsan = as_user("zhangsan")
    assert selftest.paper_rows(exam, zhangsan)[1][-1][:4] == ["限时练习", "P2", "不限", "10 分钟"]
    attempt_id, sheet, heading = selftest.begin(exam, "P2", zhangsan)
    assert "限时 10 分钟" in heading
    values = [_right_value(q.question) for q in _keyed(exam, sheet).questions]
    left, result = selftest.tick(exam, attempt_id, sheet, values, zhangsan)
    assert 590 <= left <= 600 and result is None
    with exam.kb.records.transaction(changes_index=False) as conn:
        conn.execute("UPDATE quiz_attempts SET started_at='2026-01-01T08:00:00' WHERE id=?", (attempt_id,))
    assert selftest.seconds_left(exam, attempt_id, zhangsan) == 0
    left, result = selftest.tick(exam, attempt_id, sheet, values, zhangsan)
    assert left == 0 and result.attempt.submitted_at and result.attempt.score == sheet.total
    assert selftest.tick(exam, attempt_id, sheet, values, zhangsan) == (None, None)


def test_a_paper_not_assigned_is_refused(exam):
    zuzhang, lisi = as_user("zuzhang"), as_user("lisi")
    assert selftest.paper_rows(exam, zuzhang) == ([], [])
    with pytest.raises(gr.Error, match="没有分配给你"):
        selftest.begin(exam, "P1", zuzhang)
    attempt_id, sheet, _ = selftest.begin(exam, "P1", as_user("zhangsan"))
    for handler in (selftest.result_of, selftest.seconds_left):
        with pytest.raises(gr.Error, match="管理题库"):
            handler(exam, attempt_id, lisi)
    with pytest.raises(gr.Error, match="管理题库"):
        selftest.hand_in(exam, attempt_id, {}, lisi)
    with pytest.raises(gr.Error, match="还没有提交"):
        selftest.result_of(exam, attempt_id, zuzhang)
    with pytest.raises(gr.Error, match="请先登录"):
        selftest.begin(exam, "P1", as_user(None))
    with pytest.raises(gr.Error, match="请先在上方选择一份试卷"):
        selftest.begin(exam, "", lisi)
