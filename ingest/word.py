"""Word documents (.docx) read by their structure.

A .docx becomes blocks in document order. Headings come from the structure: the style name (Title,
Heading N, 标题 N) or the outline level of the paragraph or its style (inherited through basedOn);
numbering patterns (一、 （二）) count only in a document without any structural heading. Tables
stay where they stand: a cell spanning several columns counts once, a vertically merged cell gives
its value to every row it covers, a full-width first row is the caption and a header of spanned
cells with a second row below combines the two (联系方式/电话). Text boxes follow the paragraph
that anchors them. A package whose relationships point to missing parts (WPS leaves them for
images) is repaired in memory; a document that is only pictures is read with OCR.
A file named .docx whose content is something else goes to :func:`ingest.office.load_office`.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from pathlib import Path

from lxml import etree

from kb.errors import IngestError
from kb.text import join_broken_lines

from . import ocr, sniff
from .blocks import Block, Heading, Paragraph, Table, heading_level, is_heading
from .limits import Limits
from .loaded import Loaded, RawDocument

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_BLIP = "{http://schemas.openxmlformats.org/drawingml/2006/main}blip"
_IMAGEDATA = "{urn:schemas-microsoft-com:vml}imagedata"
_CHARACTERS = {_W + "tab": " ", _W + "br": "\n", _W + "cr": "\n", _W + "noBreakHyphen": "-"}
_NOT_TEXT = {_FALLBACK, _W + "txbxContent", _W + "del", _W + "moveFrom", _W + "pPr", _W + "rPr"}
_WRAPPERS = {_W + "sdt", _W + "sdtContent", _W + "customXml"}
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.IGNORECASE)
_TITLE_STYLES = {"title", "标题"}
_TOC_STYLE = re.compile(r"^(?:toc|目录)\s*\d$", re.IGNORECASE)
_TITLE = 0  # the level _Styles gives a Title style

Slot = tuple[object, str]  # one grid column of a table row: the w:tc element covering it (None if none) and its text


def load_docx(path: Path, limits: Limits = Limits()) -> Loaded:
    """A .docx as one document of blocks; a file that is really another format goes to :func:`load_office`.

    The package is read whole by python-docx: :func:`ingest.limits.check_file` must have passed it
    (the pipeline checks every file before loading it)."""
    import docx

    data = path.read_bytes()
    if sniff.kind(data) != "docx":
        from .office import load_office

        return load_office(path, limits)
    document = docx.Document(io.BytesIO(_without_dangling_relationships(data)))
    reader = _Reader(document.styles.element)
    reader.walk(document.element.body, top=True)
    blocks = reader.finish()
    if blocks:
        return Loaded(documents=[RawDocument(title=reader.title, blocks=blocks)])
    images = _images(document)
    if not images:
        return Loaded(documents=[RawDocument()])
    return Loaded(documents=[RawDocument(text=_recognise(path, images), ocr=True, scanned=True)])


def _val(element: etree._Element | None) -> str:
    return "" if element is None else element.get(_W + "val", "")


class _Styles:
    """Paragraph styles by id: the heading level each one gives (``_TITLE`` for the title, None for
    body text), by name or outline level, inherited through basedOn."""

    def __init__(self, styles: etree._Element):
        paragraph_styles = (s for s in styles.iterfind(_W + "style") if s.get(_W + "type") == "paragraph")
        self.by_id = {s.get(_W + "styleId"): s for s in paragraph_styles}
        self.default = next((i for i, s in self.by_id.items() if s.get(_W + "default") in ("1", "true", "on")), "")
        self.toc = {i for i, s in self.by_id.items() if _TOC_STYLE.match(_val(s.find(_W + "name")).strip())}
        self.levels: dict[str, int | None] = {}

    def level(self, style_id: str) -> int | None:
        style_id = style_id or self.default
        if style_id not in self.levels:
            self.levels[style_id] = self._resolve(style_id, set())
        return self.levels[style_id]

    def _resolve(self, style_id: str, seen: set[str]) -> int | None:
        style = self.by_id.get(style_id)
        if style is None or style_id in seen:
            return None
        seen.add(style_id)
        name = _val(style.find(_W + "name")).strip()
        if name.lower() in _TITLE_STYLES:
            return _TITLE
        if match := _HEADING_STYLE.match(name):
            return int(match[1])
        outline = _val(style.find(f"{_W}pPr/{_W}outlineLvl"))
        if outline.isdigit():
            return int(outline) + 1 if int(outline) < 9 else None
        return self._resolve(_val(style.find(_W + "basedOn")), seen)


class _Reader:
    """Collects the blocks of a body (or text box) in document order."""

    def __init__(self, styles: etree._Element):
        self.styles = _Styles(styles)
        self.blocks: list[Block] = []
        self.title = ""
        self._title_at = -1
        self._plain: list[int] = []  # top-level paragraphs that may be numbered headings

    def walk(self, container: etree._Element, top: bool) -> None:
        for child in container:
            if child.tag == _W + "p":
                self._paragraph(child, top)
            elif child.tag == _W + "tbl":
                self.blocks += _table(child)
            elif child.tag in _WRAPPERS:
                self.walk(child, top)

    def finish(self) -> list[Block]:
        """The blocks; without any structural heading, short numbered paragraphs become headings."""
        if not any(isinstance(b, Heading) for b in self.blocks):
            for i in self._plain:
                if is_heading(text := self.blocks[i].text):
                    self.blocks[i] = Heading(text, heading_level(text))
        return self.blocks

    def _paragraph(self, p: etree._Element, top: bool) -> None:
        boxes: list[etree._Element] = []
        text = _text(p, boxes).strip()
        style = _val(p.find(f"{_W}pPr/{_W}pStyle"))
        if text and style not in self.styles.toc:
            self._add(p, style, text, top)
        for box in boxes:
            self.walk(box, top=False)

    def _add(self, p: etree._Element, style: str, text: str, top: bool) -> None:
        level = self.styles.level(style)
        outline = _val(p.find(f"{_W}pPr/{_W}outlineLvl"))
        if level != _TITLE and outline.isdigit():
            level = int(outline) + 1 if int(outline) < 9 else None
        if level == _TITLE and not self.title:
            self.title, self._title_at = text, len(self.blocks)
            self.blocks.append(Paragraph(text))
        elif level == _TITLE and self._title_at == len(self.blocks) - 1:  # a title set on two lines
            self.title += text
            self.blocks[-1] = Paragraph(self.title)
        elif level:
            self.blocks.append(Heading(text, level))
        else:
            if top and p.find(f"{_W}pPr/{_W}numPr") is None:
                self._plain.append(len(self.blocks))
            self.blocks.append(Paragraph(text))


def _text(element: etree._Element, boxes: list[etree._Element]) -> str:
    """The visible text of a paragraph (runs, hyperlinks, fields, content controls, smart tags);
    text boxes met on the way are added to ``boxes`` (the Fallback copy of a box is skipped)."""
    parts = []
    for child in element:
        if child.tag == _W + "t":
            parts.append(child.text or "")
        elif child.tag in _CHARACTERS:
            parts.append(_CHARACTERS[child.tag])
        elif child.tag == _W + "txbxContent":
            boxes.append(child)
        elif child.tag not in _NOT_TEXT:
            parts.append(_text(child, boxes))
    return "".join(parts)


def _texts(container: etree._Element) -> list[str]:
    """Every piece of text inside a table cell: paragraphs, text boxes, nested tables row by row."""
    out = []
    for child in container:
        if child.tag == _W + "p":
            boxes: list[etree._Element] = []
            out.append(_text(child, boxes).strip())
            for box in boxes:
                out += _texts(box)
        elif child.tag == _W + "tbl":
            out += [" ".join(v for v in _values(row) if v) for row in _grid(child)]
        elif child.tag in _WRAPPERS:
            out += _texts(child)
    return [text for text in out if text]


def _grid(tbl: etree._Element) -> list[list[Slot]]:
    """The table as rows of equal length, one slot per grid column; a cell spanning columns fills
    each of them with the same slot, a vertically continued cell repeats the slot above."""
    rows: list[list[Slot]] = []
    for tr in tbl.iterchildren(_W + "tr"):
        row: list[Slot] = [(None, "")] * int(_val(tr.find(f"{_W}trPr/{_W}gridBefore")) or 0)
        for tc in tr.iterchildren(_W + "tc"):
            merge = tc.find(f"{_W}tcPr/{_W}vMerge")
            above = rows[-1] if rows else []
            if merge is not None and _val(merge) != "restart" and len(above) > len(row):
                slot = above[len(row)]
            else:
                slot = (tc, " ".join(_texts(tc)))
            row += [slot] * int(_val(tc.find(f"{_W}tcPr/{_W}gridSpan")) or 1)
        rows.append(row)
    width = max(map(len, rows), default=0)
    return [row + [(None, "")] * (width - len(row)) for row in rows]


def _values(row: list[Slot]) -> list[str]:
    """A row's cell values: a cell spanning several columns counts once (by identity, not by text)."""
    return ["" if i and row[i - 1][0] is cell else text for i, (cell, text) in enumerate(row)]


def _single(row: list[Slot]) -> bool:
    return len({id(cell) for cell, _ in row if cell is not None}) == 1


def _first(row: list[Slot]) -> str:
    return next(text for cell, text in row if cell is not None)


def _spanned_header(top: list[Slot], under: list[Slot]) -> bool:
    """Whether ``under`` splits a cell of ``top`` that spans columns (联系方式 over 电话, 邮箱)."""
    return any(top[i][0] is top[i - 1][0] is not None and under[i][0] is not under[i - 1][0]
               for i in range(1, len(top)))


def _header_name(top: Slot, under: Slot) -> str:
    if under[0] is top[0] or not under[1] or under[1] == top[1]:
        return top[1]
    return f"{top[1]}/{under[1]}" if top[1] else under[1]


def _table(tbl: etree._Element) -> list[Block]:
    """A table as Table blocks (paragraphs when every row is a single cell, as in a framed notice)."""
    grid = [row for row in _grid(tbl) if any(text for _, text in row)]
    if all(_single(row) for row in grid):
        return [Paragraph(_first(row)) for row in grid]
    captions = []
    while _single(grid[0]):
        captions.append(_first(grid.pop(0)))
    header, body = [text for _, text in grid[0]], grid[1:]
    if sum(not _single(row) for row in body) > 1 and _spanned_header(grid[0], body[0]):
        header, body = [_header_name(t, u) for t, u in zip(grid[0], body[0])], body[1:]
    if all(_single(row) for row in body):  # a header row alone: its cells are the content
        header, body = [""] * len(header), grid
    return _sections(header, body, " ".join(captions))


def _sections(header: list[str], body: list[list[Slot]], caption: str) -> list[Block]:
    """The data rows as tables; a full-width row inside (一、市直单位) starts a new section, named in the
    caption, and full-width rows at the end (注：……) become paragraphs after the table."""
    out: list[Block] = []
    section, rows = "", []
    for row in body:
        if not _single(row):
            rows.append(_values(row))
            continue
        if rows:
            out.append(Table(header, rows, " ".join(filter(None, (caption, section)))))
            section, rows = "", []
        section = " ".join(filter(None, (section, _first(row))))
    if rows:
        out.append(Table(header, rows, " ".join(filter(None, (caption, section)))))
    elif section:
        out.append(Paragraph(section))
    return out


def _without_dangling_relationships(data: bytes) -> bytes:
    """The package with relationships to parts missing from the zip removed (WPS writes them for
    images it did not save); python-docx refuses such a file. Unchanged when nothing dangles."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        fixed = {}
        for name in (n for n in names if n.endswith(".rels")):
            relationships = etree.fromstring(archive.read(name))
            base = posixpath.dirname(posixpath.dirname(name))
            dangling = [
                rel for rel in relationships
                if rel.get("TargetMode") != "External"
                and posixpath.normpath(posixpath.join("/" + base, rel.get("Target", "")))[1:] not in names
            ]
            for rel in dangling:
                relationships.remove(rel)
            if dangling:
                fixed[name] = etree.tostring(relationships, xml_declaration=True, encoding="UTF-8", standalone=True)
        if not fixed:
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as repaired:
            for item in archive.infolist():
                repaired.writestr(item, fixed.get(item.filename) or archive.read(item.filename))
    return out.getvalue()


def _images(document) -> list[bytes]:
    """The pictures in the body, in reading order, each once."""
    related, seen, out = document.part.related_parts, set(), []
    for element in document.element.body.iter(_BLIP, _IMAGEDATA):
        part = related.get(element.get(_R + "embed") or element.get(_R + "id"))
        if part is not None and part.partname not in seen:
            seen.add(part.partname)
            out.append(part.blob)
    return out


def _recognise(path: Path, images: list[bytes]) -> str:
    """The text of a document's pictures, by OCR, picture after picture."""
    ocr.require(str(path), "文档只有图片，没有文字")
    texts = []
    for image in images:
        try:
            lines = ocr.lines(image)
        except OSError:  # a picture Pillow cannot read (WMF/EMF vector drawings)
            continue
        if lines:
            texts.append(join_broken_lines("\n".join(lines)))
    if not texts:
        raise IngestError(
            str(path), "文档只有图片，图片里没有识别出文字（图片可能太模糊，或是 WMF/EMF 矢量图）。"
            "请提供带文字的原文件或更清晰的扫描件后重新导入。",
        )
    return "\n".join(texts)
