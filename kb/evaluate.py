"""Retrieval evaluation: hit@k, MRR and search latency over a JSONL file of questions.

Each line is ``{"question": ..., "docid" | "entry_id" | "answer": ...}``. A result counts when it
is the named document/entry, or (with ``answer``) when its text contains the answer; ``"also"`` lists
other entries/documents that hold the answer as well (an FAQ entry and a document often both do).
Ranks count distinct documents/entries, since search returns one hit per parent. Lines marked
``"answerable": false`` have no gold result and are skipped here (they calibrate answer confidence).
An optional ``"kind"`` (口语, 讲经历, 近邻 …) groups the questions in the answer figures by wording.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .base import KnowledgeBase
from .errors import KBError
from .types import Hit

CUTOFFS = (1, 3, 5, 10)


@dataclass(frozen=True)
class EvalCase:
    question: str
    docid: str = ""
    entry_id: str = ""
    answer: str = ""
    answerable: bool = True
    kind: str = ""
    also: tuple[str, ...] = ()

    def matches(self, hit: Hit) -> bool:
        if hit.parent_id in self.also:
            return True
        if self.docid:
            return hit.kind == "document" and hit.parent_id == self.docid
        if self.entry_id:
            return hit.kind == "entry" and hit.parent_id == self.entry_id
        return self.answer in hit.text or self.answer in hit.answer


def load_cases(path: Path) -> list[EvalCase]:
    """Read an evaluation file; a malformed line is a :class:`KBError` naming the line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KBError(f"{path} 不是 UTF-8 编码：请用记事本或 WPS 另存为 UTF-8 编码后再评测。") from exc
    cases = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise KBError(f"{path} 第 {number} 行不是合法的 JSON：{exc.msg}。") from exc
        question = obj.get("question") if isinstance(obj, dict) else None
        gold = [obj.get(key) for key in ("docid", "entry_id", "answer")] if question else []
        answerable = bool(obj.get("answerable", True)) if question else True
        if not question or (answerable and not any(gold)):
            raise KBError(f"{path} 第 {number} 行应包含 question 以及 docid、entry_id、answer 之一。")
        if not isinstance(question, str) or any(isinstance(g, (dict, list)) for g in gold):
            raise KBError(f"{path} 第 {number} 行的 question、docid、entry_id、answer 应是文字（加引号），"
                          "如 \"question\": \"居住证怎么签注？\"。")
        also = obj.get("also", [])
        if not isinstance(also, list) or not all(isinstance(a, str) and a.strip() for a in also):
            raise KBError(f"{path} 第 {number} 行的 also 应是条目编号或文档名的列表，如 [\"FAQ003\"]。")
        cases.append(EvalCase(question, *(str(g or "") for g in gold), answerable=answerable,
                              kind=str(obj.get("kind") or ""), also=tuple(a.strip() for a in also)))
    if not cases:
        raise KBError(f"{path} 中没有评测问题。")
    return cases


def evaluate(kb: KnowledgeBase, cases: list[EvalCase], mode: str = "hybrid", warmup: int = 3) -> dict:
    """Run every answerable case through ``kb.search`` in ``mode``; return the figures as a dict.

    Latencies are per search in milliseconds, measured after ``warmup`` untimed searches.
    """
    cases = [c for c in cases if c.answerable]
    if not cases:
        return {"mode": mode, "questions": 0, **{f"hit@{c}": 0.0 for c in CUTOFFS}, "mrr": 0.0,
                "p50_ms": 0.0, "p95_ms": 0.0}
    k = max(CUTOFFS)
    for case in cases[:warmup]:
        kb.search(case.question, k=k, mode=mode)
    ranks, latencies = [], []
    for case in cases:
        start = time.perf_counter()
        hits = kb.search(case.question, k=k, mode=mode)
        latencies.append((time.perf_counter() - start) * 1000)
        ranks.append(next((i for i, h in enumerate(hits, start=1) if case.matches(h)), 0))
    r = np.array(ranks)
    return {
        "mode": mode,
        "questions": len(cases),
        **{f"hit@{c}": round(float(np.mean((r > 0) & (r <= c))), 4) for c in CUTOFFS},
        "mrr": round(float(np.mean(np.where(r > 0, 1.0 / np.maximum(r, 1), 0.0))), 4),
        "p50_ms": round(float(np.percentile(latencies, 50)), 2),
        "p95_ms": round(float(np.percentile(latencies, 95)), 2),
    }
