"""bot.llm_eval with a scripted chat model: the model's answer figures over an evaluation file, counted
by where each answer came from (its answer, its finding that the passages hold none, a refusal it
was never asked about)."""

from __future__ import annotations

from test_llm import LOST_A, LOST_Q, PASSPORT_Q, SIGN_A, SIGN_Q, scripted, stocked  # noqa: F401

from bot import answer
from bot.llm import DECLINED, LLM
from bot.llm_eval import llm_quality
from kb.evaluate import EvalCase

UNKNOWN_Q = "驾驶证到期了怎么换？"


def test_the_models_answers_are_scored_and_counted_by_source(stocked):  # noqa: F811
    assert [answer(stocked, q).status for q in (SIGN_Q, LOST_Q, PASSPORT_Q, UNKNOWN_Q)] == \
        ["answered", "answered", "answered", "no_answer"]
    cases = [EvalCase(SIGN_Q, answer=SIGN_A), EvalCase(UNKNOWN_Q, answerable=False),
             EvalCase(LOST_Q, answer=LOST_A), EvalCase(PASSPORT_Q, answer=SIGN_A)]
    model = scripted("带身份证和居住证原件[1]。", DECLINED, "先挂失再申请补发[1]。")
    result = llm_quality(stocked, LLM(model, timeout=5), cases, threshold=0.7)
    assert len(model.seen) == 3, "the refused question is not put to the model"
    assert result["sources"] == {"llm": 2, "declined": 1, "fallback": 0, "offline": 1}
    assert (result["right"], result["answered"], result["answerable"], result["unanswerable"]) == (1, 2, 3, 1)
    assert result["answered_right"] == round(1 / 3, 4) and result["precision"] == 0.5
    assert result["refused_unanswerable"] == 1.0 and result["read_from"] == 0.7 and result["p50_s"] > 0
