"""How well the bot answers an evaluation file, and which threshold (``min_confidence``) to use.

Every case is searched and judged once (:func:`bot.answer.decide`); the answer at each threshold
follows from that without searching again. At a threshold, an answerable case is *answered right*
when the bot answers from its gold entry/document, or asks which of two entries is meant and one of
them is the gold one; an unanswerable case is *refused* when the bot says it has no answer.
*Precision* is the share of the answers given (answered or ambiguous) that are right, over all cases.
The recommended threshold is the lowest one with the most answerable cases answered right plus
unanswerable cases refused, among those whose precision is at least :data:`TARGET_PRECISION`
(among all thresholds when none reaches it). When the cases have kinds (口语, 讲经历, 近邻 …), the
figures at the threshold are also given per kind, so a centre sees which wordings fail.
"""

from __future__ import annotations

from dataclasses import dataclass

from kb import KnowledgeBase
from kb.evaluate import EvalCase

from .answer import Decision, decide, judged_search, settle

GRID = tuple(round(0.05 * i, 2) for i in range(4, 17))
TARGET_PRECISION = 0.95


@dataclass(frozen=True)
class Judgement:
    """One case, judged once: its decision and which of its two candidate entries match the gold."""

    case: EvalCase
    decision: Decision
    best_right: bool
    rival_right: bool


def judge_cases(kb: KnowledgeBase, cases: list[EvalCase], k: int = 5, as_of: str = "") -> list[Judgement]:
    """Search and judge every case once."""
    out = []
    for case in cases:
        decision = decide(kb, case.question, judged_search(kb, case.question, k, as_of=as_of))
        best, rival = decision.verdict.best, decision.rival
        right = case.answerable and best is not None and case.matches(best.hit)
        out.append(Judgement(case, decision, bool(right),
                             bool(case.answerable and rival is not None and case.matches(rival.hit))))
    return out


def quality(kb: KnowledgeBase, judged: list[Judgement], threshold: float) -> dict:
    """The answer figures at ``threshold`` (see the module docstring), with counts."""
    answerable = [j for j in judged if j.case.answerable]
    unanswerable = [j for j in judged if not j.case.answerable]
    right = given = refused = ambiguous = 0
    for j in judged:
        status = settle(kb, j.case.question, j.decision, threshold).status
        if status == "no_answer":
            refused += not j.case.answerable
            continue
        given += 1
        ambiguous += status == "ambiguous"
        right += j.best_right or (status == "ambiguous" and j.rival_right)
    return {"threshold": threshold, **figures(right, given, ambiguous, refused, len(answerable), len(unanswerable))}


def figures(right: int, given: int, ambiguous: int, refused: int, answerable: int, unanswerable: int) -> dict:
    """The answer figures from the counts: the answerable cases answered right, the precision of the
    answers given and the unanswerable cases refused (see the module docstring), with the counts."""
    return {
        "answered_right": round(right / answerable, 4) if answerable else 0.0,
        "precision": round(right / given, 4) if given else 1.0,
        "refused_unanswerable": round(refused / unanswerable, 4) if unanswerable else 0.0,
        "answered": given, "ambiguous": ambiguous, "right": right,
        "answerable": answerable, "unanswerable": unanswerable,
    }


def calibrate(kb: KnowledgeBase, cases: list[EvalCase], threshold: float | None = None, k: int = 5) -> dict:
    """The answer figures for each threshold of ``GRID`` (and ``threshold``, if given, as ``at``, and per
    kind of case as ``kinds``) and the recommended threshold (None unless the file has both answerable
    and unanswerable cases)."""
    judged = judge_cases(kb, cases, k)
    rows = [quality(kb, judged, t) for t in GRID]
    result: dict = {"rows": rows, "recommended": None}
    if threshold is not None:
        result["at"] = quality(kb, judged, threshold)
        kinds = dict.fromkeys(j.case.kind for j in judged if j.case.kind)
        result["kinds"] = [{"kind": kind, **quality(kb, [j for j in judged if j.case.kind == kind], threshold)}
                           for kind in kinds]
    if not rows[0]["answerable"] or not rows[0]["unanswerable"]:
        return result
    precise = [r for r in rows if r["precision"] >= TARGET_PRECISION] or rows
    best = max(precise, key=lambda r: (r["answered_right"] + r["refused_unanswerable"], -r["threshold"]))
    return {**result, "recommended": best["threshold"]}
