"""Spreadsheets (.xlsx, .csv): an FAQ table becomes entries, any other table a table document.

The header row is found by its content, not its position: the first row near the top whose filled
cells are short labels covering most of the table's columns (a title row above it is one merged
cell, a 填报单位/日期 line covers two). A second label row under a header with merged cells
(联系方式 over 电话 and 邮箱) completes it (联系方式/电话). Merged cells in the data repeat their
value in every row they cover, as a reader sees them. Rows with one long cell (注：…) are notes.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from pathlib import Path

from kb.errors import IngestError

from .blocks import Block, Paragraph, Table
from .columns import REQUIRED, cell_text, map_header, missing_message
from .limits import Limits, too_many
from .loaded import Loaded, RawDocument, Row, decode

_HEADER_SCAN = 15
_LABEL_MAX = 30
_NUMBER = re.compile(r"^[+-]?[\d,.%‰]+$")
_MERGE_LIMIT = 5 * 1024 * 1024


def _filled(row: list[str]) -> list[str]:
    return [c for c in row if c]


def _is_label(cell: str) -> bool:
    return len(cell) <= _LABEL_MAX and not _NUMBER.match(cell) and not re.match(r"^\d{4}-\d{2}-\d{2}$", cell)


def _header_row(table: list[list[str]]) -> int | None:
    """The index of the header row, or None when no row reads like one."""
    width = max((len(_filled(row)) for row in table[:200]), default=0)
    for i, row in enumerate(table[:_HEADER_SCAN]):
        cells = _filled(row)
        distinct = [c for i, c in enumerate(row) if c and (i == 0 or c != row[i - 1])]
        if len(cells) >= max(2, 0.6 * width) and all(map(_is_label, cells)) and len(set(distinct)) == len(distinct) > 1:
            return i
    return None


def _merge_header(top: list[str], below: list[str]) -> list[str] | None:
    """The combined header when ``below`` is a second label row under ``top``'s merged cells
    (a span shows as empty cells, or as the same label repeated when merges were filled in)."""
    spans = [i for i, cell in enumerate(top) if not cell or (i and cell == top[i - 1])]
    if not spans or not all(map(_is_label, _filled(below))) or not any(below[i] for i in spans):
        return None
    combined, parent = [], ""
    for upper, lower in zip(top, below):
        parent = upper or parent
        combined.append(f"{parent}/{lower}" if lower and parent and lower != parent else parent or lower)
    return combined


def table_blocks(table: list[list[str]]) -> tuple[list[Block], str]:
    """A non-FAQ table as blocks (the table, plus notes) and its caption (the lines above the header)."""
    start = _header_row(table)
    if start is None:
        header, start, rows = [f"第{n}列" for n in range(1, len(table[0]) + 1)], 0, table
    else:
        header, rows = table[start], table[start + 1 :]
        if rows and (merged := _merge_header(header, rows[0])):
            header, rows = merged, rows[1:]
    caption = "；".join(" ".join(dict.fromkeys(_filled(row))) for row in table[:start] if _filled(row))
    data, notes = [], []
    for row in rows:
        cells = _filled(row)
        if len(cells) == 1 and len(header) >= 3 and len(cells[0]) > _LABEL_MAX:
            notes.append(Paragraph(cells[0]))
        elif cells:
            data.append(row)
    return ([Table(header, data, caption)] if data else []) + notes, caption


def _faq_rows(table: list[list[object]], sheet: str, out: Loaded) -> list[Row] | None:
    """The FAQ rows when a header near the top names question and answer columns, else None; a
    header that names only one of them (a mistyped FAQ sheet, or a message log with 答复意见) gets
    a warning in ``out`` saying how to make it an FAQ table."""
    for offset, header in enumerate(table[:_HEADER_SCAN]):
        columns = map_header(header)
        if all(f in columns for f in REQUIRED):
            rows = []
            for number, cells in enumerate(table[offset + 1 :], start=offset + 2):
                values = {f: cells[i] if i < len(cells) else None for f, i in columns.items()}
                if any(v not in (None, "") for v in values.values()):
                    rows.append(Row(number, values, sheet))
            return rows
        if any(f in columns for f in REQUIRED):
            out.warnings.append((f"工作表“{sheet}”" if sheet else "") + "已按表格文档导入（每行一段）；如果这是问答表："
                                + missing_message(header))
            return None
    return None


def _cell(value: object) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return cell_text(value)


def _sheet(table: list[list[object]], path: Path, sheet: str, out: Loaded) -> None:
    """Add one sheet's FAQ rows, or its table document, to ``out``."""
    width = max((len(row) for row in table), default=0)
    cells = [[_cell(c) for c in row] + [""] * (width - len(row)) for row in table]
    cells = [row for row in cells if any(row)]
    if not cells:
        return
    faq = _faq_rows([list(row) + [None] * (width - len(row)) for row in table], sheet, out)
    if faq is not None:
        out.rows.extend(faq)
        return
    blocks, caption = table_blocks(cells)
    name = f"{path.stem}（{sheet}）" if sheet else path.stem
    out.documents.append(RawDocument(blocks=blocks, title=caption.split("；")[0] if caption else name))


def _check_rows(path: Path, sheet: str, rows: int, limits: Limits) -> None:
    if rows > limits.max_rows:
        raise too_many(path, (f"工作表“{sheet}”" if sheet else "表格") + "共", rows, limits.max_rows, "max_rows", "行")


def _merged(ws) -> list[list[object]]:
    """The sheet's values with every merged range filled with its top-left value."""
    table = [list(row) for row in ws.iter_rows(values_only=True)]
    for cells in ws.merged_cells.ranges:
        value = table[cells.min_row - 1][cells.min_col - 1]
        for r in range(cells.min_row - 1, min(cells.max_row, len(table))):
            for c in range(cells.min_col - 1, min(cells.max_col, len(table[r]))):
                table[r][c] = value
    return table


def load_xlsx(path: Path, limits: Limits) -> Loaded:
    """A workbook's sheets; one with more rows than ``limits.max_rows`` fails the file before it is read
    (the count is the sheet's declared dimension, then the rows actually read)."""
    from openpyxl import load_workbook

    big = path.stat().st_size > _MERGE_LIMIT
    workbook = load_workbook(path, read_only=big, data_only=True)
    try:
        sheets = {}
        for ws in workbook.worksheets:
            _check_rows(path, ws.title, ws.max_row or 0, limits)
            sheets[ws.title] = [list(r) for r in ws.iter_rows(values_only=True)] if big else _merged(ws)
            _check_rows(path, ws.title, len(sheets[ws.title]), limits)
    finally:
        workbook.close()
    sheets = {name: t for name, t in sheets.items() if any(any(c not in (None, "") for c in row) for row in t)}
    if not sheets:
        raise IngestError(str(path), "表格是空的，没有任何数据行。")
    named = len(sheets) > 1
    loaded = Loaded()
    for name, table in sheets.items():
        _sheet(table, path, name if named else "", loaded)
    return loaded


def load_csv(path: Path, limits: Limits) -> Loaded:
    text = decode(path.read_bytes(), path)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    table = list(csv.reader(io.StringIO(text), dialect))
    _check_rows(path, "", len(table), limits)
    if not any(c.strip() for row in table for c in row):
        raise IngestError(str(path), "表格是空的，没有任何数据行。")
    loaded = Loaded()
    _sheet(table, path, "", loaded)
    return loaded
