"""A small .docx writer for printable handouts (the daily digest, question banks).

The only module of ``bot`` that imports python-docx. Callers describe a document as a list of
blocks (:class:`Heading`, :class:`Paragraph`, :class:`Table`) and :func:`write_docx` lays them out
on A4 paper with a Chinese font, so the file prints as is from Word or WPS.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from .output import writing

FONT = "宋体"
HEADING_FONT = "黑体"
_STYLES = {"Normal": FONT, "Title": HEADING_FONT, "Heading 1": HEADING_FONT, "Heading 2": HEADING_FONT,
           "Heading 3": HEADING_FONT, "Heading 4": HEADING_FONT}


@dataclass(frozen=True)
class Heading:
    """A section heading; ``level`` 1 is the top level below the document title (1–4)."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text; line breaks inside ``text`` are kept."""

    text: str
    bold: bool = False


@dataclass(frozen=True)
class Table:
    """A grid of plain-text cells. With ``header`` the first row is bold and repeats on every page.
    ``widths`` are column widths in centimetres (empty = equal widths)."""

    rows: tuple[tuple[str, ...], ...]
    header: bool = False
    widths: tuple[float, ...] = ()


Block = Heading | Paragraph | Table


def write_docx(path: Path | str, title: str, blocks: list[Block], subtitle: str = "") -> Path:
    """Write a printable A4 .docx: ``title`` (centred), an optional ``subtitle`` line, then ``blocks``.

    Text is inserted as plain runs, never interpreted as markup. Returns the path written.
    """
    path = Path(path)
    document = docx.Document()
    _page_setup(document)
    document.add_heading(title, level=0).alignment = WD_ALIGN_PARAGRAPH.CENTER
    if subtitle:
        document.add_paragraph(subtitle).alignment = WD_ALIGN_PARAGRAPH.CENTER
    for block in blocks:
        if isinstance(block, Heading):
            document.add_heading(block.text, level=min(max(block.level, 1), 4))
        elif isinstance(block, Paragraph):
            _add_text(document.add_paragraph(), block.text, block.bold)
        else:
            _add_table(document, block)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        document.save(str(path))
    return path


def _page_setup(document) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2.5)
    for name, font in _STYLES.items():
        style = document.styles[name]
        style.font.name = font
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
        style.font.color.rgb = RGBColor(0, 0, 0)
    document.styles["Normal"].font.size = Pt(11)


def _add_text(paragraph, text: str, bold: bool = False) -> None:
    """Add ``text`` as runs, one per line, with a line break between lines."""
    for i, line in enumerate(text.split("\n")):
        run = paragraph.add_run()
        if i:
            run.add_break()
        run.add_text(line)
        run.bold = bold


def _add_table(document, block: Table) -> None:
    if not block.rows:
        return
    columns = max(len(row) for row in block.rows)
    table = document.add_table(rows=len(block.rows), cols=columns)
    table.style = "Table Grid"
    for r, row in enumerate(block.rows):
        for c in range(columns):
            cell = table.cell(r, c)
            _add_text(cell.paragraphs[0], row[c] if c < len(row) else "", bold=block.header and r == 0)
            if c < len(block.widths):
                cell.width = Cm(block.widths[c])
    if block.header:
        header = table.rows[0]._tr.get_or_add_trPr()
        header.append(header.makeelement(qn("w:tblHeader"), {}))
    document.add_paragraph()
