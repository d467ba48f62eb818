"""Word documents (.docx)."""

from __future__ import annotations

from pathlib import Path

from .loaded import Loaded, RawDocument


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
