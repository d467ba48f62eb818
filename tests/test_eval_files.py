"""The bundled evaluation files (calibration, everyday, unseen) name only entries and documents of the sample
(as gold and in ``also``).

A renamed sample entry or document would otherwise turn its questions into silent misses in
``kb eval`` and the benchmarks instead of an error.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from kb.bundled import QUESTIONS, REGISTER, sample_dir
from kb.evaluate import load_cases

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = sample_dir()
FILES = [SAMPLE / QUESTIONS, ROOT / "benchmarks" / "everyday.jsonl", ROOT / "benchmarks" / "everyday_unseen.jsonl"]


def _sample_entry_ids() -> set[str]:
    sheet = openpyxl.load_workbook(SAMPLE / REGISTER, read_only=True).worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    column = list(next(rows)).index("编号")
    return {str(row[column]) for row in rows if row[column]}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_gold_is_in_the_sample(path):
    entries = _sample_entry_ids()
    documents = {p.stem for p in SAMPLE.iterdir() if p.suffix in {".docx", ".pdf", ".md"}}
    cases = load_cases(path)
    assert sum(c.answerable for c in cases) >= 50 and sum(not c.answerable for c in cases) >= 15
    unknown = [c.question for c in cases if (c.entry_id and c.entry_id not in entries)
               or (c.docid and c.docid not in documents)]
    assert unknown == []
    assert {a for c in cases for a in c.also} <= entries | documents
    assert all(c.entry_id or c.docid or c.answer for c in cases if c.answerable)
