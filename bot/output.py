"""Writing the files a command produces (papers, reports, training packs): a path that cannot be written is
an :class:`OutputError` naming it and saying why in Chinese, instead of the operating system's English."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kb.errors import KBError, os_reason

_REASONS: dict[type[OSError], str] = {
    PermissionError: "没有写入权限",
    IsADirectoryError: "已有同名的文件夹，请写文件名",
    NotADirectoryError: "路径中的上级文件夹其实是一个文件",
    FileExistsError: "路径中的上级文件夹其实是一个文件",
    FileNotFoundError: "这个位置不存在，也无法在那里新建文件夹",
}
"""What these errors mean when writing; any other is told by :func:`kb.errors.os_reason`."""


class OutputError(KBError):
    """A file or folder to write cannot be written (the message names it and the reason)."""


@contextmanager
def writing(path: Path | str) -> Iterator[None]:
    """Run the block that writes ``path`` (creating its folders); an :class:`OSError` in it becomes an
    :class:`OutputError` naming ``path``."""
    try:
        yield
    except OSError as exc:
        reason = next((text for kind, text in _REASONS.items() if isinstance(exc, kind)), os_reason(exc))
        raise OutputError(f"无法写入 {path}：{reason}。请换一个输出位置，或检查这个位置是否可写。") from exc
