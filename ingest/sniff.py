"""What a file really is, read from its bytes rather than its suffix.

Government sites often serve a ``.doc`` that is really a web page, an RTF or a single-file web
page (MHT), and WPS saves ``.wps``/``.et``/``.dps`` in the same binary formats as Word, Excel and
PowerPoint 97–2003. :func:`kind` names the format: ``doc``, ``xls``, ``ppt`` (OLE2 compound files,
told apart by their top-level streams), ``encrypted`` (a password-protected Office 2007+ file,
which is an OLE2 file holding an ``EncryptedPackage``), ``docx``, ``xlsx``, ``pptx``, ``rtf``,
``pdf``, ``mht``, ``html`` or ``unknown``.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_END = 0xFFFFFFFE
_NONE = 0xFFFFFFFF
_OLE_STREAMS = (  # checked in this order: a .doc may embed a workbook, a .ppt usually does
    ("WordDocument", "doc"),
    ("PowerPoint Document", "ppt"),
    ("Workbook", "xls"),
    ("Book", "xls"),
    ("EncryptedPackage", "encrypted"),
)
_ZIP_PARTS = (("word/document.xml", "docx"), ("xl/workbook.xml", "xlsx"), ("ppt/presentation.xml", "pptx"))
_ZIP_TYPES = (
    ("wordprocessingml.document.main", "docx"), ("ms-word.document.macroEnabled.main", "docx"),
    ("spreadsheetml.sheet.main", "xlsx"), ("ms-excel.sheet.macroEnabled.main", "xlsx"),
    ("presentationml.presentation.main", "pptx"), ("ms-powerpoint.presentation.macroEnabled.main", "pptx"),
)
_HTML_MARKS = ("<html", "<!doctype html", "<meta", "<body", "<head")
_MIME = re.compile(rb"^mime-version\s*:", re.IGNORECASE | re.MULTILINE)
_HEAD = 4096


def kind(data: bytes) -> str:
    """The real format of a file's content (see the module docstring for the names)."""
    if data.startswith(OLE2):
        return _ole_kind(data)
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    head = data[:_HEAD].lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if _MIME.search(head) and b"multipart/related" in data[: 4 * _HEAD].lower():
        return "mht"
    text = head.replace(b"\x00", b"").decode("latin-1").lower()  # tags are ASCII in GBK, UTF-8 and UTF-16
    if any(mark in text for mark in _HTML_MARKS):
        return "html"
    return "unknown"


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            found = next((k for part, k in _ZIP_PARTS if part in names), "")
            if found or "[Content_Types].xml" not in names:
                return found or "unknown"
            types = archive.read("[Content_Types].xml").decode("utf-8", "replace")
    except (zipfile.BadZipFile, OSError, EOFError):
        return "unknown"
    return next((k for marker, k in _ZIP_TYPES if marker in types), "unknown")


def _ole_kind(data: bytes) -> str:
    try:
        names = _ole_top_names(data)
    except (struct.error, IndexError, ValueError):  # damaged directory: look for the names anywhere
        names = {name for name, _ in _OLE_STREAMS if name.encode("utf-16-le") in data}
    return next((k for name, k in _OLE_STREAMS if name in names), "unknown")


def _ole_top_names(data: bytes) -> set[str]:
    """The names of the streams and storages directly under the root of an OLE2 compound file."""
    size = 1 << struct.unpack_from("<H", data, 0x1E)[0]
    limit = len(data) // size + 1

    def sector(number: int) -> bytes:
        if number >= limit:
            raise ValueError("sector out of range")
        return data[(number + 1) * size : (number + 2) * size]

    fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < _END]
    difat, hops = struct.unpack_from("<I", data, 0x44)[0], 0
    while difat < _END and hops < limit:
        entries = struct.unpack(f"<{size // 4}I", sector(difat))
        fat_sectors += [s for s in entries[:-1] if s < _END]
        difat, hops = entries[-1], hops + 1
    fat = [n for s in fat_sectors for n in struct.unpack(f"<{size // 4}I", sector(s))]
    directory, current = b"", struct.unpack_from("<I", data, 0x30)[0]
    while current < _END and len(directory) < limit * size:
        directory += sector(current)
        current = fat[current]
    entries = [directory[i : i + 128] for i in range(0, len(directory) - 127, 128)]
    names, stack, seen = set(), [struct.unpack_from("<I", entries[0], 0x4C)[0]], set()
    while stack:
        index = stack.pop()
        if index == _NONE or index in seen or index >= len(entries):
            continue
        seen.add(index)
        entry = entries[index]
        length = struct.unpack_from("<H", entry, 0x40)[0]
        names.add(entry[: max(length - 2, 0)].decode("utf-16-le", "replace"))
        stack += struct.unpack_from("<II", entry, 0x44)
    return names
