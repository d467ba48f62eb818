"""Legacy and WPS office files (.doc .wps .rtf .xls .et .ppt .pptx .dps), read as what they really are.

The content is sniffed (:mod:`ingest.sniff`), not the suffix trusted: a .doc downloaded from a web
site is often a web page, an RTF or an MHT archive. Formats no loader reads directly are converted
with LibreOffice (:mod:`ingest.convert`) into the format whose loader does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kb.errors import IngestError

from . import convert, sniff
from .limits import Limits
from .loaded import Loaded
from .pdf import load_pdf
from .sheets import load_xlsx
from .web import load_html
from .word import load_docx


_SHEET_SUFFIXES = {".xls", ".et"}
_CONVERT = {"doc": "docx", "rtf": "docx", "xls": "xlsx", "ppt": "pdf", "pptx": "pdf"}
_READERS: dict[str, tuple[str, Callable[[Path, Limits], Loaded]]] = {
    "docx": (".docx", load_docx), "xlsx": (".xlsx", load_xlsx), "pdf": (".pdf", load_pdf), "html": (".html", load_html),
}


def load_office(path: Path, limits: Limits = Limits()) -> Loaded:
    """A legacy or WPS office file (.doc .wps .rtf .xls .et .ppt .pptx .dps) read as what its content
    really is: converted by LibreOffice when needed, else handed to the loader of its real format; a
    web page named .xls/.et is read as the spreadsheet it stands for. A converted file is held to
    ``limits`` like the original (:func:`ingest.convert.converted` checks it), and so are its rows and pages."""
    data = path.read_bytes()
    found = sniff.kind(data)
    if found == "mht":
        data, found = convert.mht_html(data, path), "html"
    if found == "html" and path.suffix.lower() in _SHEET_SUFFIXES:  # a web system's “导出 Excel” is a web page
        with convert.converted(path, data, "html", "xlsx", limits, infilter="HTML (StarCalc)") as result:
            return _read_for(path, load_xlsx, result, limits)
    if found in _CONVERT:
        with convert.converted(path, data, found, _CONVERT[found], limits) as result:
            return _read_for(path, _READERS[_CONVERT[found]][1], result, limits)
    if found in _READERS:
        suffix, reader = _READERS[found]
        with convert.as_file(path, data, suffix) as copy:
            return _read_for(path, reader, copy, limits)
    if found == "encrypted":
        raise IngestError(str(path), "文件设置了打开密码，无法读取。请用 WPS 或 Word 打开，取消密码后另存，再重新导入。")
    raise IngestError(
        str(path), f"文件内容无法识别：它不是有效的 {path.suffix} 文件，也不是其他支持的文档格式，可能已损坏或是不支持的格式。"
        "请用原软件打开确认，另存为 .docx、.xlsx 或 .pdf 后重新导入。",
    )


def _read_for(path: Path, reader: Callable[[Path, Limits], Loaded], copy: Path, limits: Limits) -> Loaded:
    """``reader`` on a converted or renamed ``copy`` of ``path``; its errors name ``path``."""
    try:
        return reader(copy, limits)
    except IngestError as exc:
        raise type(exc)(str(path), exc.reason) from exc
