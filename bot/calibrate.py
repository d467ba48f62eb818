"""Calibrating the answer threshold (``min_confidence``) on an evaluation file.

An answerable question is served well when the best hit is its gold result and the confidence
clears the threshold; an unanswerable one is served well when the confidence falls below it.
The recommended threshold maximises the balanced accuracy of the two (ties: the lowest one).
"""

from __future__ import annotations

from kb import KnowledgeBase
from kb.evaluate import EvalCase

from .answer import confidence

GRID = tuple(round(0.05 * i, 2) for i in range(4, 17))


def calibrate(kb: KnowledgeBase, cases: list[EvalCase]) -> dict:
    """Confidence of every case's best hit, and the served-well rates for each threshold of ``GRID``."""
    good, bad = [], []
    for case in cases:
        hits = kb.search(case.question, k=1)
        score = confidence(kb, case.question, hits[0]) if hits else 0.0
        if case.answerable:
            good.append((score, bool(hits) and case.matches(hits[0])))
        else:
            bad.append(score)
    rows = []
    for t in GRID:
        answered_right = sum(1 for s, right in good if right and s >= t) / len(good) if good else 0.0
        refused = sum(1 for s in bad if s < t) / len(bad) if bad else 0.0
        rows.append({"threshold": t, "answered_right": round(answered_right, 4), "refused_unanswerable": round(refused, 4)})
    if not good or not bad:
        return {"rows": rows, "recommended": None}
    best = max(rows, key=lambda r: (r["answered_right"] + r["refused_unanswerable"], -r["threshold"]))
    return {"rows": rows, "recommended": best["threshold"], "answerable": len(good), "unanswerable": len(bad)}
