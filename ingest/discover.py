"""Which files an import reads: folders walked safely, and one outcome for anything that is not a file.

A folder is walked depth-first in name order; hidden files and folders in it (names starting with
``.``: .git, .DS_Store) are system files and left out, while a path named directly is kept whatever
its name. Nothing but a regular file is ever opened: FIFOs (opening one waits for a writer),
devices, sockets, missing paths, dangling links, symlink loops and unreadable files or folders
each come back as one :class:`Found` with the reason, and the walk goes on.

Symbolic links inside a given folder are followed when they stay inside it; one that leads out of
it is reported, not followed, unless ``follow_links`` is set. Links are taken after the folder's
real contents, so a file reached both ways is listed under its own path. A directory is entered
once (by device and inode, which also stops bind-mount and link cycles) and a file is listed once.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from kb.errors import os_reason

MISSING = "文件或文件夹不存在，请检查路径。"
DANGLING = "符号链接指向的目标不存在（{target}），请修复或删除这个链接。"
LOOP = "符号链接形成循环，无法解析，请修复或删除这个链接。"
UNREADABLE_FILE = "没有读取这个文件的权限，请检查文件权限后重新导入。"
UNREADABLE_FOLDER = "没有读取这个文件夹的权限，其中的文件都未导入。请检查文件夹权限后重新导入。"
OWN_DATA = "这是知识库自己的数据目录，其中的文件不是资料，未导入。"
OUTSIDE = "符号链接指向导入文件夹以外（{target}），未跟随。如确需导入，请用 `kb ingest --follow-links` 重新导入。"
NOT_A_FILE = {
    stat.S_IFIFO: "这是命名管道（FIFO），不是普通文件，不能导入，已跳过。",
    stat.S_IFCHR: "这是设备文件，不是普通文件，不能导入，已跳过。",
    stat.S_IFBLK: "这是设备文件，不是普通文件，不能导入，已跳过。",
    stat.S_IFSOCK: "这是套接字（socket），不是普通文件，不能导入，已跳过。",
}


@dataclass(frozen=True)
class Found:
    """One path an import met. ``status`` is empty for a regular file to ingest; ``"failed"`` (cannot be
    read: missing, broken link, loop, FIFO, device, socket, no permission) or ``"unsupported"`` (a link
    not followed) for a path to report with ``reason`` and never open."""

    path: Path
    status: str = ""
    reason: str = ""


def discover(paths: list[Path], follow_links: bool = False, own: tuple[Path, ...] = ()) -> list[Found]:
    """Every file in ``paths`` (folders walked recursively) and every path that cannot be read, in order.

    Args:
        paths: files and folders as the user named them; named symlinks are always followed.
        follow_links: also follow symlinks inside a folder that lead out of it.
        own: the knowledge base's own folders (its data directory): never walked, reported once as
            ``unsupported`` when met, so importing the folder that holds them does not read the store.

    Returns:
        One :class:`Found` per file (listed once however often it is reached) and per path that
        cannot be read. Never raises for a path and never opens one.
    """
    walk = _Walk(follow_links, own)
    for path in paths:
        walk.named(Path(path))
    return walk.found


class _Walk:
    def __init__(self, follow_links: bool, own: tuple[Path, ...]):
        self.follow_links = follow_links
        self.found: list[Found] = []
        self.seen: set[object] = set()  # (device, inode) of listed files and entered folders; paths of failures
        self.own = {(info.st_dev, info.st_ino) for info in map(_stat_or_none, own) if info is not None}

    def named(self, path: Path) -> None:
        try:
            info = os.stat(path)
        except OSError as error:
            self._fail(path, _stat_failure(path, error))
            return
        if stat.S_ISDIR(info.st_mode):
            self._folder(path, info, os.path.realpath(path))
        else:
            self._thing(path, info)

    def _folder(self, root: Path, info: os.stat_result, real_root: str) -> None:
        """Walk ``root``, then the links found in it and in the folders they lead to, in the order met."""
        links: list[Path] = []
        self._tree(root, info, links)
        while links:
            link = links.pop(0)
            target = self._link(link, real_root)
            if target is not None:
                self._tree(link, target, links)

    def _tree(self, top: Path, info: os.stat_result, links: list[Path]) -> None:
        """List the files under ``top`` depth-first by name; symlinks are put in ``links`` for later."""
        if not self._enter(top, info):
            return
        stack = [iter(self._entries(top))]
        while stack:
            entry = next(stack[-1], None)
            if entry is None:
                stack.pop()
                continue
            path = Path(entry.path)
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as error:
                self._fail(path, _stat_failure(path, error))
                continue
            if stat.S_ISLNK(info.st_mode):
                links.append(path)
            elif stat.S_ISDIR(info.st_mode):
                if self._enter(path, info):
                    stack.append(iter(self._entries(path)))
            else:
                self._thing(path, info)

    def _link(self, link: Path, real_root: str) -> os.stat_result | None:
        """A symlink met in a folder: reported or listed as a file; a folder it leads to is returned to walk."""
        try:
            info = os.stat(link)
        except OSError as error:
            self._fail(link, _stat_failure(link, error))
            return None
        target = os.path.realpath(link)
        if not self.follow_links and not _inside(target, real_root):
            self._report(link, "unsupported", OUTSIDE.format(target=target))
        elif stat.S_ISDIR(info.st_mode):
            return info
        else:
            self._thing(link, info)
        return None

    def _enter(self, folder: Path, info: os.stat_result) -> bool:
        """Whether to walk ``folder``: not entered before and readable (else reported)."""
        key = (info.st_dev, info.st_ino)
        if key in self.seen:
            return False
        self.seen.add(key)
        if key in self.own:
            self._report(folder, "unsupported", OWN_DATA)
            return False
        if not os.access(folder, os.R_OK | os.X_OK):
            self._fail(folder, UNREADABLE_FOLDER)
            return False
        return True

    def _entries(self, folder: Path) -> list[os.DirEntry]:
        """The visible entries of ``folder`` by name; a folder that cannot be listed is reported."""
        try:
            with os.scandir(folder) as entries:
                return sorted((e for e in entries if not e.name.startswith(".")), key=lambda e: e.name)
        except OSError as error:
            self._fail(folder, UNREADABLE_FOLDER if error.errno in (errno.EACCES, errno.EPERM) else _other(error))
            return []

    def _thing(self, path: Path, info: os.stat_result) -> None:
        """A non-directory: a regular file to list (once), or what it is instead."""
        key = (info.st_dev, info.st_ino)
        if key in self.seen:
            return
        self.seen.add(key)
        kind = stat.S_IFMT(info.st_mode)
        if kind != stat.S_IFREG:
            self._report(path, "failed", NOT_A_FILE.get(kind, "这不是普通文件，不能导入，已跳过。"))
        elif not os.access(path, os.R_OK):
            self._report(path, "failed", UNREADABLE_FILE)
        else:
            self.found.append(Found(path))

    def _fail(self, path: Path, reason: str) -> None:
        key = os.path.abspath(path)
        if key not in self.seen:
            self.seen.add(key)
            self._report(path, "failed", reason)

    def _report(self, path: Path, status: str, reason: str) -> None:
        self.found.append(Found(path, status, reason))


def _inside(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # on different drives
        return False


def _stat_or_none(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _stat_failure(path: Path, error: OSError) -> str:
    """Why ``os.stat(path)`` failed, in words; a link whose target is missing is told from a missing path."""
    if error.errno == errno.ELOOP:
        return LOOP
    if error.errno in (errno.ENOENT, errno.ENOTDIR):
        if os.path.islink(path):
            return DANGLING.format(target=os.readlink(path))
        return MISSING
    if error.errno in (errno.EACCES, errno.EPERM):
        return UNREADABLE_FILE
    return _other(error)


def _other(error: OSError) -> str:
    return f"无法读取（{os_reason(error)}），请检查路径和权限。"
