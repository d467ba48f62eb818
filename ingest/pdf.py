"""PDF documents."""

from __future__ import annotations

from pathlib import Path

from kb.errors import IngestError
from kb.text import join_broken_lines

from .loaded import Loaded, RawDocument


def load_pdf(path: Path) -> Loaded:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    if reader.is_encrypted:
        raise IngestError(str(path), "PDF 已加密，请先解除密码保护后重新导入。")
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    if not text.strip():
        raise IngestError(str(path), "PDF 中没有可提取的文字（可能是扫描件），请先做文字识别（OCR）或改用 Word 版本。")
    return Loaded(documents=[RawDocument(join_broken_lines(text))])
