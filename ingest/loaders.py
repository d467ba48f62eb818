"""Which loader reads a file, chosen by suffix; every loader turns one file into rows and/or raw documents.

Rows (FAQ tables, entry records in .json/.jsonl) become entries; everything else becomes documents.
Loaders raise :class:`kb.IngestError` with a Chinese reason; they never write anything.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kb.errors import IngestError
from kb.text import normalize

from .blocks import normalized, plain_text, text_blocks
from .images import load_image
from .limits import Limits
from .loaded import Loaded, UnsupportedFormat
from .pdf import load_pdf
from .plain import load_json, load_jsonl, load_markdown, load_text
from .sheets import load_csv, load_xlsx
from .web import load_html
from .office import load_office
from .word import load_docx


LOADERS: dict[str, Callable[[Path, Limits], Loaded]] = {
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
    ".doc": load_office,
    ".wps": load_office,
    ".rtf": load_office,
    ".xls": load_office,
    ".et": load_office,
    ".ppt": load_office,
    ".pptx": load_office,
    ".dps": load_office,
    ".jpg": load_image,
    ".jpeg": load_image,
    ".png": load_image,
    ".bmp": load_image,
    ".tif": load_image,
    ".tiff": load_image,
}


def load(path: Path, limits: Limits = Limits()) -> Loaded:
    """Load one file with the loader for its suffix, within ``limits`` (rows, pages); every document
    comes back as normalised blocks (plain text is split into blocks here) with ``text`` the blocks'
    full text."""
    loaded = loader_for(path)(path, limits)
    for doc in loaded.documents:
        doc.blocks = normalized(doc.blocks) if doc.blocks else text_blocks(normalize(doc.text))
        doc.text = plain_text(doc.blocks)
    if not loaded.rows and not any(d.text for d in loaded.documents):
        raise IngestError(str(path), "文件中没有可导入的文字内容（空文件、只有表头，或只有空白页）。")
    return loaded


def loader_for(path: Path) -> Callable[[Path, Limits], Loaded]:
    """The loader for ``path``, or :class:`UnsupportedFormat` saying what to do with the file."""
    if path.name.startswith("~$"):
        raise UnsupportedFormat(str(path), "这是 Office/WPS 打开文档时生成的临时文件，不含内容，已忽略；关闭文档后它会自动消失。")
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise UnsupportedFormat(str(path), _unsupported_reason(path))
    return loader


def _unsupported_reason(path: Path) -> str:
    hint = _HINTS.get(path.suffix.lower(), "如内容是文字，请另存为 .docx、.pdf 或 .txt 后导入")
    return f"不支持的文件类型 {path.suffix or '（无扩展名）'}：{hint}。支持的类型：{'、'.join(sorted(LOADERS))}。"


_HINTS = {
    ".rar": "压缩包请先解压，再导入解压后的文件夹（.zip 可直接导入）",
    ".7z": "压缩包请先解压，再导入解压后的文件夹（.zip 可直接导入）",
    ".ofd": "OFD 版式文件请用数科阅读器等软件另存为 PDF 后导入",
    ".xlsm": "请在 Excel/WPS 中另存为 .xlsx 后导入",
    ".exe": "程序文件不含知识内容，请从导入目录中移除",
}
