"""Resource limits for ingest: file size, zip bombs, rows per sheet, pages per PDF.

:func:`check_file` runs before any loader opens a file, :func:`check_archive` before a .zip archive
is expanded (:mod:`ingest.archives`); loaders that count rows or pages raise :func:`too_many` themselves. Every refusal names the limit, the figure found and the setting (and
environment variable) that raises it, so a trusted file that is simply large can still be imported.

Why declared sizes are enough for zip containers (.docx .xlsx .pptx .odt, or any zip whatever its
suffix): Python's :mod:`zipfile` stops inflating a member at the uncompressed size its central
directory declares (a member that inflates further fails its CRC check instead of growing), and
python-docx and openpyxl read through :mod:`zipfile`. So refusing what the central directory
declares bounds what those libraries can inflate. The central directory itself is bounded too:
:mod:`zipfile` keeps an object of about half a kilobyte per member, so a small file that lists a
million empty members costs more memory than a bomb.
"""

from __future__ import annotations

import os
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

from kb.config import SETTINGS
from kb.errors import IngestError, os_reason

MB = 1024 * 1024
SMALL_MB = 1.0  # members (and archives) inflating to less than this are not held to the ratio limit
MAX_DIRECTORY_MB = 8.0  # central directory: up to ~150,000 members, which cost zipfile ~80 MB to list
_END = b"PK\x05\x06"
_END64_LOCATOR = b"PK\x06\x07"
_END64 = b"PK\x06\x06"
_TAIL = 22 + 65535  # the end record and the longest archive comment
BOMB = "可能是压缩炸弹，即解压后异常巨大的文件"


@dataclass(frozen=True)
class Limits:
    """What one file may cost; a file over any of them fails alone and the run goes on.

    Attributes:
        max_file_mb: size of any file on disk, in MB (2**20 bytes).
        max_unzipped_mb: total uncompressed size a zip container's members declare, in MB. Images
            inside a .docx count at about their stored size; the XML parts are what python-docx
            holds in memory several times over.
        max_zip_ratio: uncompressed / compressed size, for the whole archive and for each member
            that inflates to at least ``SMALL_MB``. Office files measured 2–20×; a document of
            20,000 identical paragraphs about 260×; deflate cannot exceed about 1,030×, which is
            what zip bombs of zeros reach.
        max_rows: rows per sheet (.xlsx/.csv).
        max_pages: pages per PDF (and frames per multi-page TIFF).
    """

    max_file_mb: float = 200.0
    max_unzipped_mb: float = 500.0
    max_zip_ratio: float = 300.0
    max_rows: int = 200_000
    max_pages: int = 2_000

    @classmethod
    def from_settings(cls, settings: object) -> Limits:
        """The limits from resolved settings (:func:`kb.config.load_settings`), which hold a value for each field."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


def check_file(path: Path, limits: Limits) -> None:
    """Refuse ``path`` with an :class:`IngestError` when it is over ``max_file_mb``, or when it is a zip
    container whose central directory is oversized or declares more than ``max_unzipped_mb`` or a
    compression ratio above ``max_zip_ratio``.

    A zip is recognised as :mod:`zipfile` finds one, by the end record near the end of the file, not
    by the suffix: a .docx, .xlsx, .pptx, .odt, a zip renamed to anything, or one with bytes put in
    front of it (which python-docx and openpyxl still open) are all checked. Only the central
    directory is read, never a member. A damaged zip is not refused here: the loader reports it; a
    file that cannot be opened (gone or locked since it was found) is an :class:`IngestError` too.
    """
    found = _members(path, limits)
    if found is not None:
        members, size = found
        _check_unzipped(path, members, limits)
        _check_ratio(path, members, size, limits)


def check_archive(path: Path, limits: Limits, name: Callable[[zipfile.ZipInfo], str]) -> dict[str, IngestError]:
    """Check a zip archive about to be expanded (:mod:`ingest.archives`), reading only its central directory.

    The archive is refused whole (:class:`IngestError`) as :func:`check_file` refuses it for its size,
    its central directory and the total its members declare (``max_unzipped_mb``, which also bounds
    the disk the expansion takes). The compression ratio is checked member by member instead, so
    one zip bomb packed beside ordinary files keeps out only itself.

    Args:
        path: the archive.
        limits: the limits of the import.
        name: how a member is named in a refusal (its decoded path in the archive).

    Returns:
        The members over ``max_zip_ratio``, by :attr:`zipfile.ZipInfo.filename`, each with its
        refusal naming the member; empty for a file that is no readable zip (opening it reports that).
    """
    found = _members(path, limits)
    if found is None:
        return {}
    members, size = found
    _check_unzipped(path, members, limits)
    return {member.filename: _ratio_error(path, f"压缩包内的“{name(member)}”压缩比", member, stored, limits)
            for member, stored in zip(members, _stored_sizes(members, size)) if _over_ratio(member, stored, limits)}


def too_many(path: Path, what: str, count: float, limit: float, setting: str, unit: str, why: str = "") -> IngestError:
    """The error for ``path`` being over a limit, in the wording every limit uses.

    Args:
        path: the file refused.
        what: what was measured, read before the figure: ``"PDF 共"``, ``"工作表“3月”共"``.
        count: the figure found.
        limit: the limit it exceeds.
        setting: the name of the setting that raises the limit (``max_pages``); its environment
            variable is looked up in :data:`kb.config.SETTINGS`.
        unit: the unit after both figures: ``"页"``, ``"行"``, ``"MB"``.
        why: an explanation put after the limit, such as ``"（可能是压缩炸弹）"``.

    Returns:
        The error, to be raised by the caller: ``raise too_many(path, "PDF 共", 2500, 2000, "max_pages", "页")``.
    """
    env = next(s.env for s in SETTINGS if s.name == setting)
    return IngestError(str(path), (
        f"{what} {_number(count)} {unit}，超过上限 {_number(limit)} {unit}{why}。"
        f"如确认文件无误且需要导入，可调大设置 {setting}（环境变量 {env}）后重新导入。"
    ))


def _members(path: Path, limits: Limits) -> tuple[list[zipfile.ZipInfo], int] | None:
    """The zip members of ``path`` and its size, after the size and central directory checks; None
    when ``path`` is not a zip or one :mod:`zipfile` cannot list."""
    try:
        size = os.stat(path).st_size
        if size > limits.max_file_mb * MB:
            raise too_many(path, "文件大小", size / MB, limits.max_file_mb, "max_file_mb", "MB")
        with open(path, "rb") as file:
            directory = _directory_size(file, size)
    except OSError as error:
        raise IngestError(str(path), f"无法读取文件（{os_reason(error)}），请检查文件是否还在、是否有读取权限。") from None
    if directory is None:
        return None
    if directory > MAX_DIRECTORY_MB * MB:
        raise IngestError(str(path), (
            f"压缩文件内部目录有 {_number(directory / MB)} MB，超过上限 {_number(MAX_DIRECTORY_MB)} MB，"
            "包含的部件数量异常（可能是恶意构造的文件），未读取。正常的办公文档不会这样；"
            "如确需导入，请用 WPS 或 Word 打开后另存，再重新导入。"
        ))
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.infolist(), size
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return None


def _check_unzipped(path: Path, members: list[zipfile.ZipInfo], limits: Limits) -> None:
    unzipped = sum(m.file_size for m in members)
    if unzipped > limits.max_unzipped_mb * MB:
        raise too_many(path, "文件解压后共", unzipped / MB, limits.max_unzipped_mb, "max_unzipped_mb", "MB", f"（{BOMB}）")


def _check_ratio(path: Path, members: list[zipfile.ZipInfo], size: int, limits: Limits) -> None:
    unzipped = sum(m.file_size for m in members)
    if unzipped < SMALL_MB * MB:
        return
    sizes = _stored_sizes(members, size)
    if unzipped > limits.max_zip_ratio * sum(sizes):
        raise too_many(path, "文件压缩比", unzipped / sum(sizes), limits.max_zip_ratio, "max_zip_ratio", "倍",
                       f"（解压后共 {_number(unzipped / MB)} MB，{BOMB}）")
    for member, stored in zip(members, sizes):
        if _over_ratio(member, stored, limits):
            raise _ratio_error(path, f"文件内 {member.filename} 的压缩比", member, stored, limits)


def _over_ratio(member: zipfile.ZipInfo, stored: int, limits: Limits) -> bool:
    return member.file_size >= SMALL_MB * MB and member.file_size > limits.max_zip_ratio * stored


def _ratio_error(path: Path, what: str, member: zipfile.ZipInfo, stored: int, limits: Limits) -> IngestError:
    return too_many(path, what, member.file_size / stored, limits.max_zip_ratio, "max_zip_ratio", "倍",
                    f"（解压后 {_number(member.file_size / MB)} MB，{BOMB}）")


def _stored_sizes(members: list[zipfile.ZipInfo], size: int) -> list[int]:
    """Each member's compressed size, at most the bytes from its header to the next header (or the
    end of the file): a directory that overstates compressed sizes, or points several members at the
    same data, cannot make a bomb look mildly compressed."""
    offsets = sorted({m.header_offset for m in members} | {size})
    following = dict(zip(offsets, offsets[1:]))
    return [max(1, min(m.compress_size, following.get(m.header_offset, m.header_offset) - m.header_offset))
            for m in members]


def _directory_size(file, size: int) -> int | None:
    """The central directory's size as the end record (or its zip64 version, which :mod:`zipfile`
    prefers when present) declares it; None when there is no end record."""
    start = max(0, size - _TAIL)
    file.seek(start)
    tail = file.read()
    end = tail.rfind(_END)
    if end < 0 or end + 22 > len(tail):
        return None
    directory = struct.unpack_from("<I", tail, end + 12)[0]
    locator = end - 20
    if locator >= 0 and tail[locator:locator + 4] == _END64_LOCATOR:
        file.seek(struct.unpack_from("<Q", tail, locator + 8)[0])
        record = file.read(56)
        if len(record) == 56 and record[:4] == _END64:
            directory = struct.unpack_from("<Q", record, 40)[0]
    return directory


def _number(value: float) -> str:
    """``2048``, ``9.9``, ``0.05``: whole numbers from 10 up, two significant digits below."""
    return f"{value:.0f}" if value >= 10 else f"{value:.2g}"
