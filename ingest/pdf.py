"""PDF documents, read with their layout (pdfplumber): headings by font size, tables in place, running
headers, footers and page numbers removed, wrapped lines joined back into paragraphs.

A page without a text layer but with images (a scan), or whose text layer is garbled
(:mod:`ingest.plausible`), is rendered with pypdfium2 and read by OCR (:mod:`ingest.ocr`). A page that is
mostly pictures with a heading or two of text (a table pasted in as an image) keeps its text layer and
has its pictures read by OCR, in place, when OCR is installed (without it, its text alone is kept).
"""

from __future__ import annotations

import io
import logging
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from kb.errors import IngestError

from . import ocr
from .blocks import Block, Heading, Paragraph, Table, heading_level, is_heading
from .images import ends_sentence, ocr_blocks
from .limits import Limits, too_many
from .loaded import Loaded, RawDocument
from .pdf_cells import clean, joined, table_of, table_text
from .plausible import garbled

MARGIN = 0.08  # running headers and footers sit in this share of the page height, at the top and bottom
NUMBER_MARGIN = 0.12  # page numbers too (a 公文 puts them about 9 % up from the bottom edge)
EDGE = 0.1  # text turned on its side this close to a page edge is a page number or a label printed along the edge
HEADING_STEP = 1.5  # points above the body size that make a short line a heading
HEADING_MAX = 40  # characters
WRAP_SLACK = 2.0  # a line ending within this many characters of the right text edge was wrapped
INDENT = 0.8  # a line starting this many characters right of the left text edge opens a paragraph
MIN_IMAGE_SHARE = 0.05  # a page without text (page number aside) is a scan when its images cover this share of it
MOSTLY_IMAGE = 0.3  # a page whose images cover this share of it, with little text besides, has its pictures read:
SPARSE_TEXT = 60  # characters (a heading or two over a table pasted in as a picture), its page number aside
DIAGRAM_BOX = 6  # a picture whose text boxes hold fewer characters than this (median) is a diagram: left unread
OCR_DPI = 200

_PAGE_NUMBER = re.compile(
    r"^(?:[-—–－·•\s]*\d{1,4}[-—–－·•\s]*|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
    r"|共\s*\d{1,4}\s*页\s*[,，]?\s*第\s*\d{1,4}\s*页|(?:page\s*)?\d{1,4}\s*(?:/|of)\s*\d{1,4})$",
    re.IGNORECASE,
)
_DECIMAL = re.compile(r"^\d+\.\d")
_NUMBERED = re.compile(
    r"^(第[一二三四五六七八九十百零〇]+[章节条款]|[一二三四五六七八九十]+[、．]|[（(][一二三四五六七八九十\d]{1,3}[）)]"
    r"|\d{1,2}[、．.)）](?!\d)|[①-⑳])"
)
_PAIRS = ("《》", "（）", "()", "“”", "【】")


@dataclass
class _Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float


@dataclass(frozen=True)
class _Picture:
    """The text OCR read in a picture on a page of text."""

    blocks: list[Block]


@dataclass
class _Page:
    number: int
    height: float
    lines: list[_Line]
    tables: list[tuple[float, Table]]  # each table with the top of its frame
    scan: bool = False
    garbled: str | None = None
    recognised: list[Block] = field(default_factory=list)
    pictures: list[tuple[float, float, float, float]] = field(default_factory=list)  # x0, top, x1, bottom
    read_pictures: list[tuple[float, list[Block]]] = field(default_factory=list)  # each picture's top and text

    @property
    def needs_ocr(self) -> bool:
        return self.scan or self.garbled is not None


def load_pdf(path: Path, limits: Limits = Limits()) -> Loaded:
    """The PDF as one document: its blocks in reading order and the title its layout shows, if any.
    A PDF of more than ``limits.max_pages`` pages is refused before any page is read."""
    pages = _read(path, limits.max_pages)
    unread = [page for page in pages if page.needs_ocr or (page.pictures and ocr.available())]
    if unread:
        _recognise(path, unread, digital=any((page.lines or page.tables) and not page.needs_ocr for page in pages))
    if not any(page.lines or page.tables or page.recognised or page.read_pictures for page in pages):
        if unread:
            raise IngestError(str(path), "PDF 是扫描件，但文字识别没有找到文字（图片可能太模糊或是空白页）。"
                                         "请提供更清晰的扫描件，或改用原始的 Word/PDF 文档。")
        raise IngestError(str(path), "PDF 中没有可读取的文字，也没有扫描页（可能全是空白页），请检查是否选错了文件。")
    _drop_running_lines([page for page in pages if not page.needs_ocr])
    blocks, title = _Layout(pages).read()
    ocr_read = any(p.recognised or p.read_pictures for p in pages)
    scanned = not any((p.lines or p.tables) and not p.needs_ocr for p in pages)
    return Loaded(documents=[RawDocument(title=title, blocks=blocks, ocr=ocr_read, scanned=scanned)])


def _read(path: Path, max_pages: int) -> list[_Page]:
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfplumber.utils.exceptions import PdfminerException

    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # font quirks it copes with are no news to the user
    try:
        with pdfplumber.open(path) as pdf:
            if len(pdf.pages) > max_pages:  # only the page tree is parsed so far
                raise too_many(path, "PDF 共", len(pdf.pages), max_pages, "max_pages", "页")
            return [_read_page(page) for page in pdf.pages]
    except PdfminerException as error:
        if error.args and isinstance(error.args[0], PDFPasswordIncorrect):
            raise IngestError(str(path), "PDF 已加密（设置了打开密码），无法读取。请用原软件去掉密码"
                                         "（或另存一份不加密的 PDF）后重新导入。") from None
        raise IngestError(str(path), f"PDF 文件已损坏，无法解析（{error.args[0] if error.args else error}）。"
                                     "请重新下载或从原始文档重新导出 PDF 后导入。") from None


def _read_page(page) -> _Page:
    copies = _copies(page.chars)
    width, height = float(page.width), float(page.height)
    page = page.filter(lambda obj: id(obj) not in copies and not _along_edge(obj, width, height))
    found = [t for t in page.find_tables() if len(t.rows) >= 2 and len(t.rows[0].cells) >= 2]
    kept = [(t.bbox, table) for t in found if (table := table_of(t)) is not None]
    tables = [(frame[1], table) for frame, table in kept]
    frames = [frame for frame, _ in kept]
    text_only = page.filter(lambda obj: obj.get("object_type") != "char" or not _inside(obj, frames))
    lines = [line for raw in text_only.extract_text_lines(return_chars=True) if (line := _line(raw))]
    text = "\n".join([line.text for line in lines] + [table_text(table) for _, table in tables])
    size = float(page.width * page.height)
    images = [(float(i["x0"]), float(i["top"]), float(i["x1"]), float(i["bottom"])) for i in page.images]
    share = sum(abs((x1 - x0) * (bottom - top)) for x0, top, x1, bottom in images) / size
    words = "".join("".join(line.split()) for line in text.split("\n") if not _PAGE_NUMBER.match(line.strip()))
    scan = not words and share >= MIN_IMAGE_SHARE
    pictured = not scan and share >= MOSTLY_IMAGE and len(words) <= SPARSE_TEXT
    return _Page(
        number=page.page_number, height=float(page.height), lines=lines, tables=tables, scan=scan,
        garbled=garbled(text),
        pictures=[i for i in images if (i[2] - i[0]) * (i[3] - i[1]) >= MIN_IMAGE_SHARE * size] if pictured else [],
    )


def _copies(chars: list[dict]) -> set[int]:
    """The ids of glyphs drawn again within a point of the same glyph (fake bold, shadows)."""
    seen: set[tuple[str, int, int]] = set()
    copies = set()
    for char in chars:
        x, y = round(char["x0"]), round(char["top"])
        if any((char["text"], x + dx, y + dy) in seen for dx in (-1, 0, 1) for dy in (-1, 0, 1)):
            copies.add(id(char))
        else:
            seen.add((char["text"], x, y))
    return copies


def _along_edge(obj: dict, width: float, height: float) -> bool:
    """Whether ``obj`` is a glyph turned on its side within :data:`EDGE` of an edge of the page: the page
    number of a landscape page printed along its short side (— 1 3 — read as four lines, its digit joined to
    the title beside it), a 装订线 label."""
    matrix = obj.get("matrix")
    if obj.get("object_type") != "char" or not matrix or abs(matrix[1]) <= abs(matrix[0]):
        return False
    return (obj["x1"] < EDGE * width or obj["x0"] > (1 - EDGE) * width
            or obj["bottom"] < EDGE * height or obj["top"] > (1 - EDGE) * height)


def _inside(char: dict, frames: list[tuple[float, float, float, float]]) -> bool:
    x, y = (char["x0"] + char["x1"]) / 2, (char["top"] + char["bottom"]) / 2
    return any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in frames)


def _line(raw: dict) -> _Line | None:
    text = clean(raw["text"])
    sizes = Counter(round(c["size"] * 2) / 2 for c in raw["chars"] if not c["text"].isspace())
    if not text or not sizes:
        return None
    return _Line(text, raw["x0"], raw["x1"], raw["top"], raw["bottom"], sizes.most_common(1)[0][0])


def _unclosed(text: str) -> bool:
    """Whether a bracket or quotation mark opened in ``text`` is still open (the line was wrapped)."""
    return any(text.count(left) > text.count(right) for left, right in _PAIRS)


def _mask(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def _drop_running_lines(pages: list[_Page]) -> None:
    """Remove the headers and footers repeated (digits aside) on most pages, then a page number
    standing as the first or last line of a page."""
    def margin(page: _Page, line: _Line, share: float) -> bool:
        return line.top < share * page.height or line.bottom > (1 - share) * page.height

    def numbered(page: _Page, line: _Line) -> bool:
        return margin(page, line, NUMBER_MARGIN) and bool(_PAGE_NUMBER.match(line.text))

    counts = Counter(key for page in pages for key in {_mask(l.text) for l in page.lines if margin(page, l, MARGIN)})
    running = {key for key, n in counts.items() if n >= 2 and n >= len(pages) / 2}
    for page in pages:
        lines = [line for line in page.lines if not (margin(page, line, MARGIN) and _mask(line.text) in running)]
        if lines and numbered(page, lines[-1]):
            lines.pop()
        if lines and numbered(page, lines[0]):
            lines.pop(0)
        page.lines = lines


def _recognise(path: Path, pages: list[_Page], digital: bool) -> None:
    """Read ``pages`` by OCR, rendered at ``OCR_DPI``: a scanned or garbled page whole, a page of text
    around pictures (a table pasted in as an image) only where its pictures are; the engine must be
    installed. A diagram is left unread in a picture and, when the document is ``digital`` (other pages
    have text), on a page that is one whole picture too (a flowchart inserted as a page of its own); a
    document scanned throughout is read whole, page by page."""
    if not ocr.available():
        bad = [page for page in pages if page.garbled]
        if bad:
            raise IngestError(str(path), (
                f"{_numbers(bad)}的文字层是乱码（{bad[0].garbled}），无法直接读取。"
                "请安装文字识别扩展 pip install -e '.[ocr]' 后重新导入（将改用文字识别读取），"
                "或用原始文档重新导出 PDF（导出时勾选“嵌入字体”）。"
            ))
        ocr.require(str(path), f"PDF {_numbers(pages)}是扫描图片、没有文字层")
    import pypdfium2

    scale = OCR_DPI / 72  # pixels per point: picture frames (in points) are cropped from the rendered page
    document = pypdfium2.PdfDocument(str(path))
    try:
        for page in tqdm(pages, desc=f"文字识别 {path.name}", unit="页", leave=False, disable=None):
            picture = document[page.number - 1].render(scale=scale).to_pil()
            if page.needs_ocr:
                page.recognised = ocr_blocks(_ocr_lines(picture, skip_diagram=digital))
                continue
            for x0, top, x1, bottom in page.pictures:
                crop = picture.crop(tuple(round(v * scale) for v in (x0, top, x1, bottom)))
                if (lines := _ocr_lines(crop, skip_diagram=True)) and (found := ocr_blocks(lines)):
                    page.read_pictures.append((top, found))
    finally:
        document.close()


def _ocr_lines(picture, skip_diagram: bool = False) -> list[str]:
    """The text OCR reads in a rendered page or picture, without a page number at either end; with
    ``skip_diagram``, none when the picture is a diagram (a flowchart, an organisation chart): its boxes hold
    a few characters each, and read in rows they make no sentences, only word salad that matches
    questions by chance."""
    image = io.BytesIO()
    picture.save(image, format="PNG", compress_level=1)
    boxes = ocr.boxes(image.getvalue())
    if skip_diagram and boxes and statistics.median(len(box.text) for box in boxes) < DIAGRAM_BOX:
        return []
    lines = [line for line in map(clean, ocr.rows(boxes)) if line]
    if lines and _PAGE_NUMBER.match(lines[-1]):
        lines.pop()
    if lines and _PAGE_NUMBER.match(lines[0]):
        lines.pop(0)
    return lines


def _numbers(pages: list[_Page]) -> str:
    """``第 2、3 页`` (the first five pages named, then how many in all)."""
    names = "、".join(str(page.number) for page in pages[:5])
    return f"第 {names} 页" + (f"等共 {len(pages)} 页" if len(pages) > 5 else "")


class _Layout:
    """Turns the pages' lines and tables into blocks: the title, headings by font size, paragraphs."""

    def __init__(self, pages: list[_Page]):
        self.pages = pages
        lines = [line for page in pages if not page.needs_ocr for line in page.lines]
        sizes = Counter()
        for line in lines:
            sizes[line.size] += len(line.text)
        self.body = sizes.most_common(1)[0][0] if sizes else 0.0
        self.title_lines = self._title_lines()
        sizes_big = {round(line.size) for line in lines if self._big(line) and id(line) not in self.title_lines}
        self.levels = {size: level for level, size in enumerate(sorted(sizes_big, reverse=True), 1)}
        edges = {page.number: self._edges(page.lines) for page in pages if not page.needs_ocr}
        known = [edge for edge in edges.values() if edge]
        fallback = (min(e[0] for e in known), max(e[1] for e in known)) if known else self._edges(lines, 1)
        self.edges = {number: edge or fallback for number, edge in edges.items()}

    def _big(self, line: _Line) -> bool:
        """A heading by its size: short, clearly larger than the body text, not a number or a sentence."""
        return (
            len(line.text) <= HEADING_MAX and line.size >= self.body + HEADING_STEP
            and not _DECIMAL.match(line.text) and not line.text.endswith(("。", "；", "，"))
        )

    def _title_lines(self) -> tuple[int, ...]:
        """The largest-font lines on page 1 when they stand together, are clearly larger than the body
        text and do not read as a numbered heading; else none."""
        first = self.pages[0]
        if first.needs_ocr or not first.lines:
            return ()
        top = max(line.size for line in first.lines)
        picked = [i for i, line in enumerate(first.lines) if line.size >= top - 0.5]
        text = "".join(first.lines[i].text for i in picked)
        if (
            top < self.body + HEADING_STEP or len(picked) > 3 or picked[-1] - picked[0] + 1 != len(picked)
            or is_heading(text) or _DECIMAL.match(text)
        ):
            return ()
        return tuple(id(first.lines[i]) for i in picked)

    def _edges(self, lines: list[_Line], least: int = 3) -> tuple[float, float] | None:
        """The left and right edges of the body text in ``lines``, when there are enough to tell."""
        body = [line for line in lines if abs(line.size - self.body) < 1]
        if len(body) < least:
            return None
        return min(line.x0 for line in body), max(line.x1 for line in body)

    def read(self) -> tuple[list[Block], str]:
        """The blocks in reading order, and the title (a paragraph where it stands)."""
        title = joined(line.text for line in self.pages[0].lines if id(line) in self.title_lines)
        blocks: list[Block] = []
        paragraph: list[tuple[_Line, int]] = []

        def flush() -> None:
            if paragraph:
                text = joined(line.text for line, _ in paragraph)
                blocks.append(Heading(text, heading_level(text)) if is_heading(text) else Paragraph(text))
                paragraph.clear()

        for page in self.pages:
            if page.needs_ocr:
                flush()
                blocks.extend(page.recognised)
                continue
            items = [(line.top, 1, line) for line in page.lines] + [(top, 0, table) for top, table in page.tables]
            items += [(top, 0, _Picture(read)) for top, read in page.read_pictures]
            for position, (_, _, item) in enumerate(sorted(items, key=lambda entry: entry[:2])):
                if isinstance(item, _Picture):
                    flush()
                    blocks.extend(item.blocks)
                elif isinstance(item, Table):
                    flush()
                    self._add_table(blocks, item, continued=position == 0)
                elif id(item) in self.title_lines:
                    if id(item) == self.title_lines[0]:
                        flush()
                        blocks.append(Paragraph(title))
                elif self._big(item):
                    flush()
                    level, last = self.levels[round(item.size)], blocks[-1] if blocks else None
                    if isinstance(last, Heading) and last.level == level and _unclosed(last.text):
                        blocks[-1] = Heading(joined([last.text, item.text]), level)
                    else:
                        blocks.append(Heading(item.text, level))
                elif paragraph and self._continues(paragraph, item, page.number):
                    paragraph.append((item, page.number))
                else:
                    flush()
                    paragraph.append((item, page.number))
        flush()
        return blocks, title

    def _continues(self, paragraph: list[tuple[_Line, int]], line: _Line, page: int) -> bool:
        """Whether ``line`` goes on with ``paragraph``: its last line was wrapped (ran to the right edge
        without a closing mark) and ``line`` is not indented. After a paragraph's first line any start
        goes (a first-line or a hanging indent); after that, lines start where the one before did."""
        previous, previous_page = paragraph[-1]
        if (
            abs(previous.size - line.size) >= 1 or ends_sentence(previous.text) or _NUMBERED.match(line.text)
            or previous.x1 < self.edges[previous_page][1] - WRAP_SLACK * previous.size
        ):
            return False
        if len(paragraph) == 1:
            return True
        left = previous.x0 if previous_page == page else self.edges[page][0]
        return line.x0 < left + INDENT * line.size

    @staticmethod
    def _add_table(blocks: list[Block], table: Table, continued: bool) -> None:
        """Append ``table``; at the top of a page, right after a table with as many columns, it is the
        rest of that table (its header repeated or not)."""
        last = blocks[-1] if blocks else None
        if continued and isinstance(last, Table) and len(last.header) == len(table.header):
            last.rows.extend(table.rows if table.header == last.header else [table.header, *table.rows])
        else:
            blocks.append(table)
