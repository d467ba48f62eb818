"""The structure a loader reads out of a document: headings, paragraphs and tables, in reading order.

Loaders that know the structure (Word styles and outline levels, PDF font sizes, HTML tags,
spreadsheet cells) build blocks directly; plain text goes through :func:`text_blocks`, which
recognises headings by their numbering pattern. Splitting (:mod:`ingest.split`) works on blocks, so
a table stays where it stood and every row keeps its column headers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kb.text import gaps_to_breaks, normalize

_HEADING = re.compile(
    r"^(第[一二三四五六七八九十百零〇]+[章节条部分篇]|[一二三四五六七八九十]+[、．]|（[一二三四五六七八九十]+）"
    r"|\(\s*[一二三四五六七八九十]+\s*\)|\d{1,2}[、．](?!\d)|\d{1,2}\.(?!\d)\s*[^\d\s.])"
)
_CJK_BREAK = re.compile(r"(?<=[\u3400-\u9fff，。；：、（）“”])\s*\n\s*(?=[\u3400-\u9fff，。；：、（）“”])")
_SENTENCE_END = ("。", "；", ";", "，", ",", "：", ":")
_LETTER_SPACED = re.compile(r"(?<![\u3400-\u9fff])[\u3400-\u9fff](?:[ \u3000]+[\u3400-\u9fff](?![\u3400-\u9fff]))+")
"""Single characters set apart by spaces to fill a form's cell (“撰 写 单 位”, “一 寸 照 片”): one word."""


@dataclass(frozen=True)
class Heading:
    """A heading; ``level`` 1 is the top level below the document title."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass
class Table:
    """A table: one header cell per column and the data rows (each as long as ``header``)."""

    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    caption: str = ""

    def render_row(self, row: list[str]) -> str:
        """``职位：文秘；招考人数：1。`` — every filled cell with its column header."""
        parts = []
        for name, value in zip(self.header, row):
            if not value:
                continue
            parts.append(f"{name}：{value}" if name and name != value else value)
        return "；".join(parts) + "。" if parts else ""

    def lines(self) -> list[str]:
        return [line for line in map(self.render_row, self.rows) if line]


Block = Heading | Paragraph | Table


def is_heading(line: str) -> bool:
    """A numbered heading by its text alone (一、 （二） 第三章 4. ); a decimal number like 2.6 or
    969.57 never counts, nor a line that reads as a sentence."""
    return len(line) <= 40 and not line.endswith(_SENTENCE_END) and bool(_HEADING.match(line))


def heading_level(line: str) -> int:
    """The outline level a numbering pattern implies: 第X章/一、 = 1, （一） = 2, 1. = 3."""
    if line.startswith(("（", "(")):
        return 2
    if line[0].isdigit():
        return 3
    return 1


def text_blocks(text: str) -> list[Block]:
    """Blocks for plain text: a short numbered line is a heading, everything else a paragraph line.
    A space between Chinese characters counts as a line break (:func:`kb.text.gaps_to_breaks`)."""
    blocks: list[Block] = []
    for line in gaps_to_breaks(text).split("\n"):
        line = line.strip()
        if not line:
            continue
        blocks.append(Heading(line, heading_level(line)) if is_heading(line) else Paragraph(line))
    return blocks


def normalized(blocks: list[Block]) -> list[Block]:
    """The blocks with their text normalised (spaces folded, line breaks inside a cell or paragraph
    removed) and empty ones dropped."""
    out: list[Block] = []
    for block in blocks:
        if isinstance(block, Table):
            rows = [[_flat(c) for c in row] for row in block.rows]
            rows = [row for row in rows if any(row)]
            if rows:
                out.append(Table([_flat(c) for c in block.header], rows, _flat(block.caption)))
        elif text := _flat(block.text):
            out.append(Heading(text, block.level) if isinstance(block, Heading) else Paragraph(text))
    return out


def _flat(text: str) -> str:
    """One line: a break between Chinese characters disappears, any other becomes a space, and a
    letter-spaced word is closed up (“送 达 方 式” → “送达方式”)."""
    if not text:
        return ""
    line = normalize(_CJK_BREAK.sub("", text).replace("\n", " "))
    return _LETTER_SPACED.sub(lambda m: "".join(m.group().split()), line)


def plain_text(blocks: list[Block]) -> str:
    """The document's full text: one line per heading and paragraph, one line per table row."""
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Table):
            lines += [block.caption] if block.caption else []
            lines += block.lines()
        elif block.text:
            lines.append(block.text)
    return "\n".join(lines)
