"""The text of a PDF's glyph runs and table cells (pdfplumber): compatibility characters mapped back,
wrapped pieces joined, a table's cells into a :class:`~ingest.blocks.Table`."""

from __future__ import annotations

import re
import unicodedata

from .blocks import Table
from .images import tidy

_WORD_END = re.compile(r"[A-Za-z0-9]$")
_WORD_START = re.compile(r"^[A-Za-z0-9]")
# Radicals and compatibility ideographs that some fonts map common characters to (⽇ for 日, ⺠ for 民)
_COMPATIBLE = {
    **{
        code: folded
        for code in (*range(0x2E80, 0x2FE0), *range(0xF900, 0xFB00))
        if len(folded := unicodedata.normalize("NFKC", chr(code))) == 1 and folded != chr(code)
    },
    **str.maketrans("⺠⻄⻅⻆⻉⻋⻓⻔⻘⻚⻛⻜⻝⻢⻣⻤⻥⻦⻧⻨⻩⻪⻬⻮⻰", "民西见角贝车长门青页风飞食马骨鬼鱼鸟卤麦黄黾齐齿龙"),
}


def clean(text: str) -> str:
    """One line of text: compatibility characters mapped back, no spaces between Chinese characters."""
    return tidy(text.translate(_COMPATIBLE))


def joined(pieces) -> str:
    """The pieces of a wrapped text put together: a space only between two Latin words or numbers."""
    text = ""
    for piece in pieces:
        if text and piece and _WORD_END.search(text) and _WORD_START.match(piece):
            text += " "
        text += piece
    return text


def table_of(found) -> Table | None:
    """A table from pdfplumber's cells (line breaks inside a cell removed): a merged first row is the
    caption and the next row the header; a cell merged over several rows gives each of them its value."""
    grid = [[joined(map(clean, (value or "").split("\n"))) for value in row] for row in found.extract()]
    frames = [row.cells for row in found.rows]
    caption = ""
    if sum(frame is not None for frame in frames[0]) == 1:
        caption = next(value for value, frame in zip(grid[0], frames[0]) if frame is not None)
        grid, frames = grid[1:], frames[1:]
    columns = [min((row[c][0] for row in frames if row[c]), default=0) for c in range(len(frames[0]))]
    for r, row in enumerate(frames[1:], 1):
        for c, frame in enumerate(row):
            left = next((cell for cell in reversed(row[:c]) if cell), None)
            if frame is None and not (left and left[2] > columns[c] + 1):
                grid[r][c] = grid[r - 1][c]
    rows = [row for row in grid[1:] if any(row)]
    return Table(grid[0], rows, caption) if rows else None


def table_text(table: Table) -> str:
    return "\n".join(["".join(table.header), *("".join(row) for row in table.rows)])
