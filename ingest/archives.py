"""Zip archives in an import: expanded safely into a staging folder, one outcome per member.

An archive is a file named ``*.zip`` (any case); .docx, .xlsx and the like are zip containers too
but are read by their loaders, never expanded. Before anything is written the archive is held to
the import's limits (:func:`ingest.limits.check_archive`: file size, central directory, total
unpacked size, so a zip bomb is refused whole, and the compression ratio member by member). Each
member is then written to the staging folder under its path in the archive and ingested like any
other file, or refused with a reason that names it: a path that is absolute or climbs out with
``..``, a symbolic link, a password, a compression ratio over the limit, an archive inside the
archive, damaged data (a partly written file is deleted). Folders, hidden files (a name part
starting with ``.``) and macOS ``__MACOSX`` folders are left out, as a folder walk leaves out
hidden files. Names stored in GBK without the UTF-8 flag (zips made on Chinese Windows) are
decoded as GBK.

Identity: a member is known to the knowledge base as ``<the archive's absolute path>/<member
path>``, the path it would have if the archive were a folder of that name, and is reported as
``<the archive as given>/<member path>``. Re-ingesting the same archive therefore skips unchanged
members and updates changed ones, as re-ingesting a folder does; an archive moved or renamed takes
over its members' records, as a moved folder does its files' (:func:`vanished`). The staging
folder is a temporary directory, removed when :func:`expanded` ends, whatever happened.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from kb.errors import IngestError

from .limits import Limits, check_archive

SUFFIX = ".zip"
UNSAFE = "压缩包内的路径“{name}”不安全（绝对路径或含“..”），未解压。请检查压缩包来源，重新打包后导入。"
LINK = "压缩包内的“{name}”是符号链接，不是文件，未解压。"
LOCKED = "压缩包内的“{name}”有密码保护，无法解压。请解除密码后重新打包导入。"
BROKEN = "压缩包内的“{name}”无法解压（{error}）。压缩包可能已损坏，请重新打包后导入。"
NESTED = "压缩包内的“{name}”本身又是压缩包，不再展开。请解压后单独导入。"
TWICE = "压缩包内有两个同名的“{name}”，只导入了第一个。请改名后重新打包导入。"
NOT_ZIP = "不是有效的 zip 压缩包（{error}）。请重新打包为 .zip 后导入。"
EMPTY = "压缩包是空的，解压后没有可导入的文件。"


@dataclass(frozen=True)
class Member:
    """One file an import takes, from an archive or found on disk as it is.

    Attributes:
        path: where it is on disk (a member: in the staging folder); None for a refused member.
        key: its identity in the knowledge base (an absolute path; see the module docstring).
        shown: the path reported to the user, such as ``资料.zip/表格/登记表.xlsx``.
        status: empty for a file to ingest; ``"failed"`` or ``"unsupported"`` for one refused.
        reason: why it was refused, in Chinese, naming the member.
    """

    path: Path | None
    key: str
    shown: str
    status: str = ""
    reason: str = ""


def vanished(key: str) -> bool:
    """Whether nothing is left on disk of the file that ``key`` names: neither the file nor an
    archive holding it (a member's key runs through its archive's path)."""
    path = Path(key)
    return not any(p.is_file() for p in (path, *path.parents))


def is_archive(path: Path) -> bool:
    """Whether ``path`` is a zip archive to expand (by its suffix, as the user named it)."""
    return path.suffix.lower() == SUFFIX


@contextmanager
def expanded(archive: Path, limits: Limits) -> Iterator[list[Member]]:
    """The archive's members (see :func:`expand`), staged in a temporary folder removed on exit."""
    with tempfile.TemporaryDirectory(prefix="kb-zip-") as staging:
        yield expand(archive, Path(staging), limits)


def expand(archive: Path, staging: Path, limits: Limits) -> list[Member]:
    """Write the members of ``archive`` into the empty folder ``staging`` within ``limits``.

    Returns:
        One :class:`Member` per member file in archive order: staged, or refused with its reason.
        An archive refused whole (over a limit, not a zip) is one failed :class:`Member` for the
        archive itself; one with no member to import is one ``"unsupported"`` member saying so.
        Never raises for a bad archive or member.
    """
    key = str(archive.resolve())
    try:
        bombs = check_archive(archive, limits, member_name)
        with zipfile.ZipFile(archive) as opened:
            written: set[str] = set()
            members = [m for info in opened.infolist()
                       if (m := _member(opened, info, staging, key, str(archive), bombs, written))]
    except IngestError as exc:
        return [Member(None, key, str(archive), "failed", exc.reason)]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        return [Member(None, key, str(archive), "failed", NOT_ZIP.format(error=exc))]
    return members or [Member(None, key, str(archive), "unsupported", EMPTY)]


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's path in the archive; names stored in GBK without the UTF-8 flag are decoded as such."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _member(opened: zipfile.ZipFile, info: zipfile.ZipInfo, staging: Path, key: str, shown: str,
            bombs: dict[str, IngestError], written: set[str]) -> Member | None:
    """Stage one member, or say why not; None for what an import leaves out (folders, hidden files)."""
    name = member_name(info)
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if info.is_dir() or not parts or parts[0] == "__MACOSX" or any(p.startswith(".") and p != ".." for p in parts):
        return None
    if name.startswith(("/", "\\")) or ":" in parts[0] or ".." in parts:
        return Member(None, f"{key}/{name}", f"{shown}/{name}", "failed", UNSAFE.format(name=name))
    inner = "/".join(parts)
    where = f"{key}/{inner}", f"{shown}/{inner}"
    if stat.S_ISLNK(info.external_attr >> 16):
        return Member(None, *where, "unsupported", LINK.format(name=name))
    if info.flag_bits & 0x1:
        return Member(None, *where, "failed", LOCKED.format(name=name))
    if info.filename in bombs:
        return Member(None, *where, "failed", bombs[info.filename].reason)
    if is_archive(PurePosixPath(parts[-1])):
        return Member(None, *where, "unsupported", NESTED.format(name=name))
    if inner in written:
        return Member(None, *where, "failed", TWICE.format(name=name))
    written.add(inner)
    target = staging.joinpath(*parts)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with opened.open(info) as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        target.unlink(missing_ok=True)
        return Member(None, *where, "failed", BROKEN.format(name=name, error=exc))
    return Member(target, *where)
