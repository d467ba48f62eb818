"""Turning a file into a format the loaders read: LibreOffice for legacy Office/WPS formats,
the standard library for single-file web pages (MHT), a renamed copy when only the suffix is wrong.

LibreOffice runs headless with a private profile, created once per process (its first start is
the slow one) and removed at exit, so it never meets a LibreOffice the user has open. Conversions
run one at a time; each takes about a second once the profile exists.
"""

from __future__ import annotations

import atexit
import email
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kb.errors import IngestError

from .limits import Limits, check_file

TIMEOUT = 180
_AUTOFILTER = re.compile(rb"<autoFilter\b[^>]*?(?:/>|>.*?</autoFilter>)", re.DOTALL)
_KNOWN_PLACES = (
    r"C:\Program Files\LibreOffice\program\soffice.exe",
    r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
)
_INSTALL = (
    "这种格式需要 LibreOffice 转换，但本机没有找到 LibreOffice（soffice）。请安装后重新导入："
    "Debian/Ubuntu 运行 apt install libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui，"
    "Windows/macOS 从 https://zh-cn.libreoffice.org 下载安装；"
    "或者用 WPS/Word 打开这个文件，另存为 .docx（表格另存为 .xlsx）后导入。"
)
_LOCK = threading.Lock()
_profiles: dict[int, Path] = {}
_log = logging.getLogger(__name__)


def soffice(path: Path) -> str:
    """The LibreOffice program, or an :class:`IngestError` for ``path`` saying how to install it."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    found = found or next((place for place in _KNOWN_PLACES if os.path.isfile(place)), None)
    if found is None:
        raise IngestError(str(path), _INSTALL)
    return found


@contextmanager
def converted(path: Path, data: bytes, data_kind: str, target: str, limits: Limits,
              infilter: str = "") -> Iterator[Path]:
    """``data``, the content of ``path``, converted by LibreOffice to ``target`` (a suffix: docx, xlsx,
    pdf) in a temporary folder removed afterwards. The input is written under an ASCII name ending in
    ``data_kind`` (the sniffed format), so a .wps is read as the .doc it is; ``infilter`` names the
    import filter when the suffix alone would choose the wrong one. The result is named after ``path``
    (a loader may take its title from the file name) and held to ``limits`` before anything reads it
    (a small legacy file can convert into a huge one); a refusal names ``path``."""
    program = soffice(path)
    with tempfile.TemporaryDirectory(prefix="kb-convert-") as folder:
        source = Path(folder) / f"input.{data_kind}"
        source.write_bytes(data)
        out = Path(folder) / "out"
        with _LOCK:
            started = time.monotonic()
            _run([
                program, "--headless", "--norestore", "--nolockcheck", f"-env:UserInstallation={_profile().as_uri()}",
                *([f"--infilter={infilter}"] if infilter else []),
                "--convert-to", target, "--outdir", str(out), str(source),
            ], path)
            _log.info("LibreOffice converted %s to %s in %.1f s", path.name, target, time.monotonic() - started)
        suffix = target.split(":")[0]
        result = out / f"input.{suffix}"
        if not result.is_file() or result.stat().st_size == 0:
            raise IngestError(
                str(path), "LibreOffice 没能转换这个文件，文件可能已损坏或设置了打开密码。"
                "请用 WPS 或 Word 打开确认能正常打开（有密码的先取消密码），另存为 .docx（表格另存为 .xlsx）后重新导入。",
            )
        try:
            check_file(result, limits)
        except IngestError as error:
            raise IngestError(str(path), "LibreOffice 转换后：" + error.reason) from None
        if suffix == "xlsx":
            _drop_autofilters(result)
        yield result.rename(out / f"{path.stem}.{suffix}")


@contextmanager
def as_file(path: Path, data: bytes, suffix: str) -> Iterator[Path]:
    """``data`` (the content of ``path``, or the web page inside it) in a temporary file named like
    ``path`` but ending in ``suffix``, for a loader that goes by the suffix."""
    with tempfile.TemporaryDirectory(prefix="kb-copy-") as folder:
        copy = Path(folder) / f"{path.stem}{suffix}"
        copy.write_bytes(data)
        yield copy


def mht_html(data: bytes, path: Path) -> bytes:
    """The web page inside a single-file web page (.mht, as Word and IE save it), in its own encoding."""
    for part in email.message_from_bytes(data).walk():
        if part.get_content_type() == "text/html":
            return part.get_payload(decode=True) or b""
    raise IngestError(str(path), "这是单个网页文件（MHT），但里面没有网页正文。请用浏览器或 Word 打开，另存为 .docx 或 .html 后重新导入。")


def _drop_autofilters(xlsx: Path) -> None:
    """Remove the sheets' filter buttons: LibreOffice writes a filter over whole rows as ``3:5865``,
    a range openpyxl refuses, and a filter holds no content."""
    with zipfile.ZipFile(xlsx) as archive:
        parts = [(item, archive.read(item.filename)) for item in archive.infolist()]
    with zipfile.ZipFile(xlsx, "w", zipfile.ZIP_DEFLATED) as archive:
        for item, data in parts:
            archive.writestr(item, _AUTOFILTER.sub(b"", data) if item.filename.startswith("xl/worksheets/") else data)


def _run(command: list[str], path: Path) -> None:
    """Run LibreOffice; on timeout end it and everything it started."""
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        process.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait()
        raise IngestError(
            str(path), f"LibreOffice 转换超过 {TIMEOUT} 秒仍未完成，文件可能过大或已损坏。"
            "请用 WPS 或 Word 打开，另存为 .docx（表格另存为 .xlsx）后重新导入。",
        ) from None


def _profile() -> Path:
    """This process's private LibreOffice profile folder."""
    pid = os.getpid()
    if pid not in _profiles:
        _profiles[pid] = Path(tempfile.mkdtemp(prefix="kb-libreoffice-"))
        atexit.register(shutil.rmtree, _profiles[pid], True)
    return _profiles[pid]
