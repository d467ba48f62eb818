"""A lexicon sheet (xlsx or csv) as lexicon lines for :meth:`kb.tokens.Tokens.add`.

Columns are found by name in the first five rows of the first sheet that has them:

* ``规范用语`` + ``其他说法`` — one synonym group per row: the official term, then the other ways
  people say it (separated by spaces, 、 ， , or ；);
* ``词语`` (with an optional ``类型`` column: 同义词, 区分词 or 问答类型) — a line as written in the
  lexicon file: ``不动产权证书 房产证 房本``; for 区分词, classes separated by ``|`` (``离职 辞职 | 退休``);
  for 问答类型, ``多少钱 => #元 免费``.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from kb import IngestError
from kb.lexicon import KINDS, LexiconError, normal_line

from .columns import cell_text
from .loaded import decode

_TERMS = re.compile(r"[\s、，,；;]+")
_HEADERS = {"类型": "kind", "规范用语": "official", "其他说法": "others", "词语": "line"}
_KIND_NAMES = {name: key for key, name in KINDS.items()} | {key: key for key in KINDS}


def sheets(path: Path, what: str = "词表", first: bool = False) -> list[tuple[str, list[list[object]]]]:
    """``(name, cells)`` of every sheet of an .xlsx, or of its first one only (a .csv is one sheet, named
    ''); ``what`` names the file in errors."""
    if path.suffix.lower() == ".csv":
        return [("", list(csv.reader(io.StringIO(decode(path.read_bytes(), path)))))]
    if path.suffix.lower() != ".xlsx":
        raise IngestError(str(path), f"{what}只能是 .xlsx 或 .csv 文件。")
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a corrupt workbook makes openpyxl raise anything
        raise IngestError(str(path), f"无法读取表格（{type(exc).__name__}）。请用 Excel/WPS 打开检查后另存再试。") from exc
    try:
        return [(sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)])
                for sheet in workbook.worksheets[:1 if first else None]]
    finally:
        workbook.close()


def sheet_rows(path: Path, what: str = "词表") -> list[list[object]]:
    """The cells of the first sheet of an .xlsx (or the rows of a .csv); ``what`` names the file in errors."""
    return sheets(path, what, first=True)[0][1]


def _header(table: list[list[object]]) -> tuple[int, dict[str, int]] | None:
    """The offset of the lexicon's header row among the first five, and its columns by role."""
    for offset, header in enumerate(table[:5]):
        columns = {_HEADERS[h]: i for i, cell in enumerate(header) if (h := cell_text(cell)) in _HEADERS}
        if "line" in columns or {"official", "others"} <= columns.keys():
            return offset, columns
    return None


def read_lexicon_sheet(path: Path) -> list[tuple[str, str]]:
    """``(kind, line)`` for every filled row of the first sheet that has the lexicon's columns; a row
    with an unknown 类型 or a line the lexicon cannot use is an error naming its sheet and row."""
    book = sheets(path)
    found = [(name, table, header) for name, table in book if (header := _header(table))]
    if not found:
        names = "、".join(f"“{name}”" for name, _ in book if name)
        raise IngestError(str(path), f"没有找到词表的列{f'（已查看工作表 {names} 的前五行）' if names else ''}："
                                     "请用“规范用语”和“其他说法”两列，或用“词语”一列（可加“类型”列：同义词/区分词/问答类型）。")
    sheet, table, (offset, columns) = found[0]
    where = f"工作表“{sheet}”" if len(book) > 1 else ""
    lines = []
    for number, row in enumerate(table[offset + 1:], start=offset + 2):
        cell = {name: cell_text(row[i]) if i < len(row) else "" for name, i in columns.items()}
        kind = _KIND_NAMES.get(cell.get("kind") or "同义词")
        if kind is None:
            raise IngestError(str(path), f"{where}第 {number} 行的类型“{cell['kind']}”无法识别，请写 同义词、区分词 或 问答类型。")
        if cell.get("line"):
            line = (kind, cell["line"])
        elif cell.get("official") or cell.get("others"):
            terms = [t for t in _TERMS.split(f"{cell.get('official', '')} {cell.get('others', '')}") if t]
            line = ("synonym", " ".join(terms))
        else:
            continue
        try:
            normal_line(*line)
        except LexiconError as exc:
            raise IngestError(str(path), f"{where}第 {number} 行：{exc}") from None
        lines.append(line)
    if not lines:
        raise IngestError(str(path), "词表中没有任何词语行。")
    return lines
