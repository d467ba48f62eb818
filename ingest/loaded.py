"""What a loader returns: sheet-like rows that become entries, and raw documents; plus the text decoder.

Loaders raise :class:`kb.IngestError` with a Chinese reason; they never write anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import IngestError

from .blocks import Block


class UnsupportedFormat(IngestError):
    """No loader reads this kind of file; the reason says what to do instead."""


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
    """A document: its ``blocks`` when the loader read the structure, else plain ``text``; empty
    fields are filled in by the pipeline. ``ocr`` marks text that came from character recognition, and
    ``scanned`` a document all of whose text did (a photo, a screenshot, a PDF without a text layer)."""

    text: str = ""
    title: str = ""
    id: str = ""
    date: str = ""
    item: str = ""
    department: str = ""
    source: str = ""
    blocks: list[Block] = field(default_factory=list)
    ocr: bool = False
    scanned: bool = False


@dataclass
class Loaded:
    """A file's rows and documents, and ``warnings`` about how it was read (shown in the report)."""

    rows: list[Row] = field(default_factory=list)
    documents: list[RawDocument] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def decode(data: bytes, path: Path) -> str:
    """Decode text: UTF-16 when it starts with a BOM, else UTF-8 (with or without BOM), GB18030 (covers
    GBK/GB2312) or what charset_normalizer finds; an :class:`~kb.IngestError` naming ``path`` when none
    reads it (a broken UTF-16 file included)."""
    bom = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    for encoding in ("utf-16",) if bom else ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    if not bom:
        from charset_normalizer import from_bytes

        if (best := from_bytes(data).best()) is not None:
            return str(best)
    raise IngestError(str(path), "无法识别文件编码，请用记事本或 WPS 另存为 UTF-8 编码后重新导入。")
