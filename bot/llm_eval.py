"""How well the model answers an evaluation file (``kb eval --llm``), so a centre can judge its own
model before lowering ``llm_min_confidence``.

Every case is asked once through :meth:`bot.llm.LLM.reply`, at the threshold and with the model's
``read_from``. The figures are those of :mod:`bot.calibrate`: an answerable case is answered right
when the answer (or the question asking which of two is meant) cites its gold entry/document; an
unanswerable case is refused when the answer is a refusal, the offline gate's or the model's own.
Beside them: where each answer came from (the model's answer, its finding that the passages hold
none, the offline answer after a failure, or a refusal the model was not asked about) and the
seconds per question.
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np

from kb import KnowledgeBase
from kb.evaluate import EvalCase

from .calibrate import figures
from .llm import LLM

SOURCES = ("llm", "declined", "fallback", "offline")
"""Where an answer can come from: :attr:`bot.llm.Reply.source`."""


def llm_quality(kb: KnowledgeBase, llm: LLM, cases: list[EvalCase], threshold: float, k: int = 5) -> dict:
    """The answer figures of the model over ``cases`` at ``threshold``, the count per source of the
    answers (:data:`SOURCES`) and the p50/p95 seconds per question."""
    right = given = ambiguous = refused = 0
    sources: Counter = Counter()
    seconds = []
    for case in cases:
        started = time.perf_counter()
        reply = llm.reply(kb, case.question, k=k, min_confidence=threshold)
        result = reply.answer
        seconds.append(time.perf_counter() - started)
        sources[reply.source] += 1
        if result.status == "no_answer":
            refused += not case.answerable
            continue
        given += 1
        ambiguous += result.status == "ambiguous"
        shown = {h.parent_id: h for h in (*result.related, *reply.passages)}
        right += case.answerable and any(case.matches(shown[c.parent_id]) for c in result.citations
                                         if c.parent_id in shown)
    answerable = sum(c.answerable for c in cases)
    return {"threshold": threshold, "read_from": min(threshold, llm.read_from),
            **figures(right, given, ambiguous, refused, answerable, len(cases) - answerable),
            "sources": {s: sources[s] for s in SOURCES},
            "p50_s": round(float(np.percentile(seconds, 50)), 3) if seconds else 0.0,
            "p95_s": round(float(np.percentile(seconds, 95)), 3) if seconds else 0.0}
