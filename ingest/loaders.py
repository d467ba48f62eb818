"""File loaders, chosen by suffix: each turns one file into sheet-like rows and/or raw documents.

Rows (from .xlsx, .csv, entry records in .json/.jsonl) become entries; texts (.docx, .pdf, .md,
.txt, .html, document records in .json/.jsonl) become documents. Loaders raise
:class:`kb.IngestError` with a Chinese reason; they never write anything.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import IngestError
from kb.text import join_broken_lines, normalize

from .columns import REQUIRED, map_fields, map_header, missing_message


@dataclass
class Row:
    """One record that should become an entry; ``number`` is the sheet row or the JSONL line."""

    number: int
    fields: dict[str, object]
    sheet: str = ""
    state: dict | None = None

    @property
    def where(self) -> str:
        """``工作表“3月”第 5 行`` or ``第 5 行``."""
        return (f"工作表“{self.sheet}”" if self.sheet else "") + f"第 {self.number} 行"


@dataclass
class RawDocument:
    """A text that should become a document; empty fields are filled in by the pipeline."""

    text: str
    title: str = ""
    id: str = ""
    date: str = ""
    item: str = ""
    department: str = ""
    source: str = ""


@dataclass
class Loaded:
    rows: list[Row] = field(default_factory=list)
    documents: list[RawDocument] = field(default_factory=list)


def decode(data: bytes, path: Path) -> str:
    """Decode text: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (covers GBK/GB2312)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise IngestError(str(path), "无法识别文件编码，请用记事本或 WPS 另存为 UTF-8 编码后重新导入。")
    return str(best)


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


def load_docx(path: Path) -> Loaded:
    import docx

    document = docx.Document(str(path))
    lines, title = [], document.core_properties.title or ""
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        if not title and para.style is not None and para.style.name in ("Title", "Heading 1"):
            title = text
        lines.append(text)
    for table in document.tables:
        for row in table.rows:
            cells = list(dict.fromkeys(c.text.strip() for c in row.cells if c.text.strip()))
            if cells:
                lines.append("；".join(cells) + "。")
    return Loaded(documents=[RawDocument("\n".join(lines), title=title)])


def load_pdf(path: Path) -> Loaded:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    if reader.is_encrypted:
        raise IngestError(str(path), "PDF 已加密，请先解除密码保护后重新导入。")
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    if not text.strip():
        raise IngestError(str(path), "PDF 中没有可提取的文字（可能是扫描件），请先做文字识别（OCR）或改用 Word 版本。")
    return Loaded(documents=[RawDocument(join_broken_lines(text))])


_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_MARKUP = re.compile(r"(\*\*|__|`|^\s*[-*+]\s+|^\s*>\s?)", re.MULTILINE)


def load_markdown(path: Path) -> Loaded:
    lines, title = [], ""
    for line in decode(path.read_bytes(), path).splitlines():
        m = _MD_HEADING.match(line)
        if m:
            title = title or (m[2] if len(m[1]) == 1 else "")
            line = m[2]
        lines.append(_MD_MARKUP.sub("", line))
    return Loaded(documents=[RawDocument("\n".join(lines), title=title)])


def load_text(path: Path) -> Loaded:
    return Loaded(documents=[RawDocument(join_broken_lines(decode(path.read_bytes(), path)))])


_HTML_BLOCKS = ["p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "td", "th", "section", "article",
                "table", "ul", "ol", "blockquote", "pre"]


def load_html(path: Path) -> Loaded:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode(path.read_bytes(), path), "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "noscript"]):
        tag.decompose()
    heading = soup.find("h1")
    title = (heading.get_text(strip=True) if heading else "") or (soup.title.get_text(strip=True) if soup.title else "")
    for tag in soup.find_all(_HTML_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    for br in soup.find_all("br"):
        br.replace_with("\n")
    body = soup.body or soup
    return Loaded(documents=[RawDocument(body.get_text(""), title=title)])


def _json_record(obj: object, number: int, path: Path, out: Loaded) -> None:
    if not isinstance(obj, dict):
        raise IngestError(str(path), f"第 {number} 条记录不是 JSON 对象，应为 {{\"question\", \"answer\"}} 或 {{\"id\", \"text\"}}。")
    fields = map_fields(obj)
    if fields.get("question") not in (None, "") or fields.get("answer") not in (None, ""):
        state = obj.get("state")
        out.rows.append(Row(number, fields, state=state if isinstance(state, dict) else None))
    elif isinstance(obj.get("text"), str):
        doc_id = obj.get("docid") or obj.get("id") or ""
        out.documents.append(RawDocument(
            obj["text"], title=str(obj.get("title") or ""), id=str(doc_id), date=str(obj.get("date") or ""),
            item=str(obj.get("item") or ""), department=str(obj.get("department") or ""),
            source=str(obj.get("source") or ""),
        ))
    else:
        raise IngestError(str(path), f"第 {number} 条记录既没有 question/answer 也没有 text 字段，无法识别为条目或文档。")


def load_json(path: Path) -> Loaded:
    text = decode(path.read_bytes(), path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError(str(path), f"JSON 格式错误（第 {exc.lineno} 行第 {exc.colno} 列）：{exc.msg}。") from exc
    out = Loaded()
    for number, obj in enumerate(data if isinstance(data, list) else [data], start=1):
        _json_record(obj, number, path, out)
    return out


def load_jsonl(path: Path) -> Loaded:
    out = Loaded()
    for number, line in enumerate(decode(path.read_bytes(), path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise IngestError(str(path), f"第 {number} 行不是合法的 JSON：{exc.msg}（第 {exc.colno} 列）。") from exc
        _json_record(obj, number, path, out)
    return out


LOADERS: dict[str, Callable[[Path], Loaded]] = {
    ".xlsx": load_xlsx,
    ".csv": load_csv,
    ".docx": load_docx,
    ".pdf": load_pdf,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".json": load_json,
    ".jsonl": load_jsonl,
}


def load(path: Path) -> Loaded:
    """Load one file with the loader for its suffix; the texts come back normalised."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise IngestError(
            str(path), f"不支持的文件类型 {path.suffix or '（无扩展名）'}，支持：{'、'.join(sorted(LOADERS))}。"
        )
    loaded = loader(path)
    for doc in loaded.documents:
        doc.text = normalize(doc.text)
    if not loaded.rows and not any(d.text for d in loaded.documents):
        raise IngestError(str(path), "文件中没有可导入的内容（空文件或只有表头）。")
    return loaded
