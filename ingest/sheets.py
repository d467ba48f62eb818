"""Spreadsheets (.xlsx, .csv): an FAQ table becomes entries."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from kb.errors import IngestError

from .columns import REQUIRED, map_header, missing_message
from .loaded import Loaded, Row, decode


def _rows_from_table(table: list[list[object]], path: Path, sheet: str = "") -> list[Row]:
    """Find the header among the first rows, then map every following row through it.

    Row numbers are the sheet's own (1-based, blank rows counted); ``sheet`` prefixes the message.
    """
    for offset, header in enumerate(table[:5]):
        columns = map_header(header)
        if all(f in columns for f in REQUIRED):
            rows = []
            for number, cells in enumerate(table[offset + 1 :], start=offset + 2):
                values = {f: cells[i] if i < len(cells) else None for f, i in columns.items()}
                if any(v not in (None, "") for v in values.values()):
                    rows.append(Row(number, values, sheet))
            return rows
    first = next((row for row in table if any(c not in (None, "") for c in row)), [])
    raise IngestError(str(path), (f"工作表“{sheet}”" if sheet else "") + missing_message(first))


def load_xlsx(path: Path) -> Loaded:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheets = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in workbook.worksheets}
    finally:
        workbook.close()
    sheets = {name: t for name, t in sheets.items() if any(any(c not in (None, "") for c in row) for row in t)}
    if not sheets:
        raise IngestError(str(path), "表格是空的，没有任何数据行。")
    named = len(sheets) > 1
    loaded, errors = Loaded(), []
    for name, table in sheets.items():
        try:
            loaded.rows.extend(_rows_from_table(table, path, name if named else ""))
        except IngestError as exc:
            errors.append(exc)
    if errors and not loaded.rows:
        raise errors[0]
    return loaded


def load_csv(path: Path) -> Loaded:
    text = decode(path.read_bytes(), path)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    table = list(csv.reader(io.StringIO(text), dialect))
    if not any(c.strip() for row in table for c in row):
        raise IngestError(str(path), "表格是空的，没有任何数据行。")
    return Loaded(rows=_rows_from_table(table, path))
