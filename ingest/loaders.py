"""Which loader reads a file, chosen by suffix; every loader turns one file into rows and/or raw documents.

Rows (FAQ tables, entry records in .json/.jsonl) become entries; everything else becomes documents.
Loaders raise :class:`kb.IngestError` with a Chinese reason; they never write anything.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kb.errors import IngestError
from kb.text import normalize

from .loaded import Loaded
from .pdf import load_pdf
from .plain import load_json, load_jsonl, load_markdown, load_text
from .sheets import load_csv, load_xlsx
from .web import load_html
from .word import load_docx


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
