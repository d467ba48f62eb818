"""Drafts of open attempts on a real knowledge base: answers saved as they are given and restored on
resuming, one saved answer per question, only the taker may save or read them, only while the
attempt is open, before the deadline and within the time limit; submitting discards the draft and
grades the answers submitted."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from test_papers import _exact, _keyed_responses, _user, staffed  # noqa: F401  (the fixture)
from test_quiz import _lead, quizzed  # noqa: F401  (the fixture)
from test_quiz_cli import _take

from kb import attempt_drafts
from kb.attempts import Attempts
from kb.errors import PermissionDenied
from kb.papers import PaperError, Papers


@pytest.fixture
def taking(staffed):
    """Paper P1 with two 判断 questions assigned to s1 and s2 (deadline 2099-12-31), and s1's open attempt."""
    papers = Papers(staffed.kb.records)
    paper = papers.compose(_lead(staffed), "Q4", "判断卷", {"judge": 2}, paper_id="P1")
    papers.assign(_lead(staffed), paper.id, "user", ["s1", "s2"], "2099-12-31")
    attempt, _ = Attempts(staffed.kb.records).start(_user(staffed, "s1"), paper.id)
    return staffed, attempt


def _rows(ctx, attempt_id) -> int:
    return ctx.kb.records.conn.execute("SELECT COUNT(*) FROM quiz_drafts WHERE attempt_id=?", (attempt_id,)).fetchone()[0]


def test_a_draft_is_saved_per_question_and_restored_on_resuming(taking):
    ctx, attempt = taking
    attempts, s1 = Attempts(ctx.kb.records), _user(ctx, "s1")
    assert attempts.draft(s1, attempt.id) == {}
    at = attempts.save_draft(s1, attempt.id, {1: "错误"})
    assert at[:4].isdigit() and at[10] == "T"
    attempts.save_draft(s1, attempt.id, {2: " 正确 "})
    attempts.save_draft(s1, attempt.id, {1: "正确"})
    assert attempts.draft(s1, attempt.id) == {1: "正确", 2: "正确"} and _rows(ctx, attempt.id) == 2
    attempts.save_draft(s1, attempt.id, {2: ""})
    assert attempts.draft(s1, attempt.id) == {1: "正确"} and _rows(ctx, attempt.id) == 1

    again = Attempts(ctx.kb.records)
    resumed, _ = again.start(s1, "P1")
    assert resumed.id == attempt.id and again.draft(s1, resumed.id) == {1: "正确"}
    with pytest.raises(PaperError, match="试卷没有第 7 题"):
        attempts.save_draft(s1, attempt.id, {7: "正确"})
    assert attempts.draft(s1, attempt.id) == {1: "正确"}


def test_only_the_taker_saves_or_reads_their_draft(taking):
    ctx, attempt = taking
    attempts = Attempts(ctx.kb.records)
    attempts.save_draft(_user(ctx, "s1"), attempt.id, {1: "正确"})
    with pytest.raises(PermissionDenied):
        attempts.save_draft(_user(ctx, "s2"), attempt.id, {1: "错误"})
    with pytest.raises(PermissionDenied):
        attempts.draft(_user(ctx, "s2"), attempt.id)
    with pytest.raises(PaperError, match="只能作答和提交自己的答卷"):
        attempts.save_draft(_lead(ctx), attempt.id, {1: "错误"})
    with pytest.raises(PaperError, match="只能查看自己答卷的草稿"):
        attempts.draft(_lead(ctx), attempt.id)
    assert attempts.draft(_user(ctx, "s1"), attempt.id) == {1: "正确"}


def test_submitting_discards_the_draft_and_grades_the_submitted_answers(taking):
    ctx, attempt = taking
    attempts, s1 = Attempts(ctx.kb.records), _user(ctx, "s1")
    key = Papers(ctx.kb.records).paper(_lead(ctx), "P1", attempt.variant)
    right = _keyed_responses(key)
    attempts.save_draft(s1, attempt.id, {n: "错误" if a == "正确" else "正确" for n, a in right.items()})
    result = attempts.submit(s1, attempt.id, right, _exact)
    assert result.attempt.score == key.total and [a.response for a in result.answers] == list(right.values())
    assert attempts.draft(s1, attempt.id) == {} and _rows(ctx, attempt.id) == 0
    with pytest.raises(PaperError, match="已于 .* 提交，不能重复提交或修改答案"):
        attempts.save_draft(s1, attempt.id, {1: "正确"})
    assert _rows(ctx, attempt.id) == 0


def test_a_draft_saved_as_the_attempt_is_submitted_meanwhile_is_refused(taking):
    ctx, attempt = taking
    attempts, s1 = Attempts(ctx.kb.records), _user(ctx, "s1")
    attempts.submit(s1, attempt.id, {}, _exact)
    with pytest.raises(PaperError, match="已经提交，不能再修改答案"):
        with ctx.kb.records.transaction(changes_index=False) as conn:
            attempt_drafts.store(conn, attempt.id, {1: "正确"}, "2026-01-01T08:00:00")
    assert _rows(ctx, attempt.id) == 0


def test_no_draft_is_saved_after_the_deadline_or_the_time_limit(taking):
    ctx, attempt = taking
    attempts, papers = Attempts(ctx.kb.records), Papers(ctx.kb.records)
    papers.assign(_lead(ctx), "P1", "user", ["s1"], "2020-01-01")
    with pytest.raises(PaperError, match="截止日期 2020-01-01 已过"):
        attempts.save_draft(_user(ctx, "s1"), attempt.id, {1: "正确"})

    papers.compose(_lead(ctx), "Q4", "限时卷", {"judge": 1}, time_limit=30, paper_id="T")
    papers.assign(_lead(ctx), "T", "user", ["s2"])
    s2 = _user(ctx, "s2")
    timed, _ = attempts.start(s2, "T")

    def started(minutes_ago: int) -> None:
        at = (datetime.now() - timedelta(minutes=minutes_ago)).isoformat(timespec="seconds")
        with ctx.kb.records.transaction(changes_index=False) as conn:
            conn.execute("UPDATE quiz_attempts SET started_at=? WHERE id=?", (at, timed.id))

    started(31)
    attempts.save_draft(s2, timed.id, {1: "正确"})
    started(33)
    with pytest.raises(PaperError, match="限时 30 分钟，作答时间已到"):
        attempts.save_draft(s2, timed.id, {1: "错误"})
    assert attempts.draft(s2, timed.id) == {1: "正确"}
    assert _rows(ctx, attempt.id) == 0


def test_kb_quiz_take_saves_each_answer_and_offers_the_saved_ones_when_resumed(taking):
    ctx, attempt = taking
    key = Papers(ctx.kb.records).paper(_lead(ctx), "P1", attempt.variant)
    right = _keyed_responses(key)
    wrong = {n: "错误" if a == "正确" else "正确" for n, a in right.items()}
    attempts, s1 = Attempts(ctx.kb.records), _user(ctx, "s1")

    crashed = _take(ctx, "s1", f"{wrong[1]}\n")
    assert crashed.exit_code == 1 and attempts.draft(s1, attempt.id) == {1: wrong[1]}
    redone = _take(ctx, "s1", f"n\n{right[1]}\n{wrong[2]}\nn\n")
    assert f"已保存 1 题的答案：\n   1. {wrong[1]}" in redone.output and "沿用已保存的答案？" in redone.output
    assert redone.output.count("你的答案（") == 2 and "未交卷" in redone.output
    assert attempts.draft(s1, attempt.id) == {1: right[1], 2: wrong[2]}
    lost = next(q.points for q in key.questions if q.number == 2)
    kept = _take(ctx, "s1", "\n\n")
    assert kept.exit_code == 0, kept.output
    assert "你的答案（" not in kept.output and f"得分：{key.total - lost:g} / {key.total:g}" in kept.output
    assert attempts.draft(s1, attempt.id) == {} and attempts.mine(s1)[0].submitted_at
