"""A marks sheet (xlsx or csv): the scores of papers taken on paper and marked by hand, for
:func:`kb.paper_marks.import_marks`.

Columns are found by name in the first five rows: ``姓名`` (a display name or a username; also
``用户名``/``账号``), ``题号`` and ``得分`` (also ``分数``). One row per person and question. A row
whose 题号 or 得分 is not a number is reported with its row number and skipped; the other rows go through.
"""

from __future__ import annotations

import math
from pathlib import Path

from kb import IngestError

from .columns import cell_text
from .lexicon_sheet import sheet_rows

_HEADERS = {"姓名": "person", "用户名": "person", "账号": "person", "题号": "number", "得分": "points",
            "分数": "points"}


def read_marks_sheet(path: Path) -> tuple[list[tuple[int, str, int, float]], list[str]]:
    """``(row number, person, question number, points)`` for every filled row, and the problems of the
    rows that could not be read (each naming its row)."""
    table = sheet_rows(path, "成绩表")
    for offset, header in enumerate(table[:5]):
        columns = {_HEADERS[h]: i for i, cell in enumerate(header) if (h := cell_text(cell)) in _HEADERS}
        if columns.keys() >= {"person", "number", "points"}:
            break
    else:
        raise IngestError(str(path), "没有找到成绩表的列：第一行请写“姓名”“题号”“得分”三列（姓名也可以写用户名）。")
    rows, problems = [], []
    for line, row in enumerate(table[offset + 1:], start=offset + 2):
        cell = {name: cell_text(row[i]) if i < len(row) else "" for name, i in columns.items()}
        if not any(cell.values()):
            continue
        try:
            number, points = float(cell["number"]), float(cell["points"])
        except ValueError:
            problems.append(f"第 {line} 行：题号“{cell['number']}”或得分“{cell['points']}”不是数字。")
            continue
        if not (number.is_integer() and number > 0):
            problems.append(f"第 {line} 行：题号“{cell['number']}”应为正整数，如 3。")
            continue
        if not math.isfinite(points):
            problems.append(f"第 {line} 行：得分“{cell['points']}”应为具体的分数，如 2 或 2.5。")
            continue
        if not cell["person"]:
            problems.append(f"第 {line} 行：姓名为空。")
            continue
        rows.append((line, cell["person"], int(number), points))
    return rows, problems
