"""Safe path discovery: folders walked in order without hidden files, and every path that is not a
readable regular file (FIFO, device, socket, loop, dangling link, missing, unreadable, a link out of
the folder) reported once without being opened, whether met in a folder or named directly."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import tempfile
import threading
import traceback
from pathlib import Path

import pytest

from ingest.discover import Found, discover

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX paths (FIFOs, sockets, permissions)")


def _files(found: list[Found]) -> list[str]:
    return [str(f.path) for f in found if not f.status]


def _problems(found: list[Found]) -> dict[str, tuple[str, str]]:
    return {str(f.path): (f.status, f.reason) for f in found if f.status}


def _tree(root: Path, names: list[str]) -> Path:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("办理须知", encoding="utf-8")
    return root


def test_folders_are_walked_in_order_without_hidden_files(tmp_path):
    root = _tree(tmp_path / "docs", ["b/c.txt", "a.txt", "c.txt", ".hidden.txt", ".git/config", "b/.DS_Store", "b/d/e.md"])
    hidden = root / ".hidden.txt"
    found = discover([root, hidden])
    assert _files(found) == [str(root / n) for n in ("a.txt", "b/c.txt", "b/d/e.md", "c.txt")] + [str(hidden)]
    assert _problems(found) == {}


def test_a_path_named_twice_is_listed_once(tmp_path):
    root = _tree(tmp_path / "docs", ["a.txt"])
    assert _files(discover([root, root / "a.txt", root])) == [str(root / "a.txt")]


def test_a_fifo_is_reported_and_never_opened(tmp_path):
    root = _tree(tmp_path / "docs", ["a.txt", "z.txt"])
    os.mkfifo(root / "pipe.txt")
    found = discover([root])
    assert _files(found) == [str(root / "a.txt"), str(root / "z.txt")]
    assert _problems(found) == {str(root / "pipe.txt"): ("failed", "这是命名管道（FIFO），不是普通文件，不能导入，已跳过。")}


def test_a_fifo_named_directly_returns_promptly(tmp_path):
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)
    result: list[list[Found]] = []
    worker = threading.Thread(target=lambda: result.append(discover([pipe, tmp_path / "next.txt"])), daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert result, "discover blocked on a FIFO"
    assert [(str(f.path), f.status) for f in result[0]] == [(str(pipe), "failed"), (str(tmp_path / "next.txt"), "failed")]


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null")
def test_a_device_is_reported():
    assert discover([Path("/dev/null")]) == [Found(Path("/dev/null"), "failed", "这是设备文件，不是普通文件，不能导入，已跳过。")]


def test_a_socket_is_reported(tmp_path):
    root = _tree(tmp_path / "docs", ["a.txt"])
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(root / "kb.sock"))
        found = discover([root])
    finally:
        server.close()
    assert _files(found) == [str(root / "a.txt")]
    assert _problems(found)[str(root / "kb.sock")][0] == "failed"
    assert "套接字" in _problems(found)[str(root / "kb.sock")][1]


def test_symlink_loops_are_reported_and_the_run_goes_on(tmp_path):
    root = _tree(tmp_path / "docs", ["a.txt", "z.txt"])
    os.symlink("loop2", root / "loop1")
    os.symlink("loop1", root / "loop2")
    found = discover([root / "loop1", root])
    assert _files(found) == [str(root / "a.txt"), str(root / "z.txt")]
    loop = ("failed", "符号链接形成循环，无法解析，请修复或删除这个链接。")
    assert _problems(found) == {str(root / "loop1"): loop, str(root / "loop2"): loop}


def test_dangling_links_and_missing_paths_are_reported(tmp_path):
    root = _tree(tmp_path / "docs", ["a.txt"])
    os.symlink("gone.txt", root / "link.txt")
    found = discover([root, tmp_path / "missing.docx"])
    assert _files(found) == [str(root / "a.txt")]
    assert _problems(found) == {
        str(root / "link.txt"): ("failed", "符号链接指向的目标不存在（gone.txt），请修复或删除这个链接。"),
        str(tmp_path / "missing.docx"): ("failed", "文件或文件夹不存在，请检查路径。"),
    }


def test_links_out_of_the_folder_are_not_followed_unless_asked(tmp_path):
    root = _tree(tmp_path / "docs", ["a.txt"])
    outside = _tree(tmp_path / "private", ["secret.txt", "more/plan.txt"])
    os.symlink(outside, root / "private")
    os.symlink(outside / "secret.txt", root / "secret.txt")
    found = discover([root])
    assert _files(found) == [str(root / "a.txt")]
    problems = _problems(found)
    assert set(problems) == {str(root / "private"), str(root / "secret.txt")}
    assert all(status == "unsupported" and "导入文件夹以外" in reason and "kb ingest --follow-links" in reason
               for status, reason in problems.values())
    followed = discover([root], follow_links=True)
    assert _files(followed) == [str(root / n) for n in ("a.txt", "private/more/plan.txt", "private/secret.txt")]
    assert _problems(followed) == {}


def test_links_inside_the_folder_are_followed_once_without_cycles(tmp_path):
    root = _tree(tmp_path / "docs", ["a.txt", "sub/b.txt", ".store/kept.txt"])
    os.symlink("..", root / "sub" / "up")  # a cycle back to the folder
    os.symlink("sub", root / "again")  # a folder reached twice
    os.symlink("sub/b.txt", root / "b-link.txt")  # a file reached twice
    os.symlink(".store", root / "store")  # a hidden folder reached only through a link
    found = discover([root, root / "again" / "b.txt"])
    assert _files(found) == [str(root / "a.txt"), str(root / "sub" / "b.txt"), str(root / "store" / "kept.txt")]
    assert _problems(found) == {}


def test_a_folder_named_through_a_link_is_walked(tmp_path):
    root = _tree(tmp_path / "docs", ["a.txt"])
    os.symlink(root, tmp_path / "shortcut")
    assert _files(discover([tmp_path / "shortcut"])) == [str(tmp_path / "shortcut" / "a.txt")]


def _as_unprivileged(call):
    """``call()`` (a discover) with the permissions of an ordinary user: as root, who reads everything,
    it runs in a forked child that drops to ``nobody`` and sends its result back as JSON."""
    if os.geteuid() != 0:
        return call()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.setgid(65534)
            os.setuid(65534)
            payload = [[str(f.path), f.status, f.reason] for f in call()]
        except BaseException:
            payload = {"error": traceback.format_exc()}
        os.write(write, json.dumps(payload).encode("utf-8"))
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        payload = json.loads(pipe.read().decode("utf-8"))
    os.waitpid(child, 0)
    if isinstance(payload, dict):
        pytest.fail(payload["error"])
    return [Found(Path(path), status, reason) for path, status, reason in payload]


@pytest.fixture
def open_folder():
    """A folder anyone can traverse (pytest's own tmp folders are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="kb-paths-"))
    folder.chmod(0o755)
    yield folder
    for path in folder.rglob("*"):
        if not path.is_symlink():
            path.chmod(stat.S_IRWXU)
    shutil.rmtree(folder)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork to drop root privileges")
def test_unreadable_files_and_folders_are_reported_and_the_others_go_on(open_folder):
    root = _tree(open_folder / "docs", ["a.txt", "locked/b.txt", "secret.txt", "z/c.txt"])
    for path in (root, root / "z"):
        path.chmod(0o755)
    for path in (root / "a.txt", root / "z" / "c.txt"):
        path.chmod(0o644)
    (root / "secret.txt").chmod(0)
    (root / "locked").chmod(0)
    found = _as_unprivileged(lambda: discover([root, root / "locked" / "b.txt"]))
    assert _files(found) == [str(root / "a.txt"), str(root / "z" / "c.txt")]
    assert _problems(found) == {
        str(root / "locked"): ("failed", "没有读取这个文件夹的权限，其中的文件都未导入。请检查文件夹权限后重新导入。"),
        str(root / "secret.txt"): ("failed", "没有读取这个文件的权限，请检查文件权限后重新导入。"),
        str(root / "locked" / "b.txt"): ("failed", "没有读取这个文件的权限，请检查文件权限后重新导入。"),
    }


def test_the_knowledge_bases_own_folder_is_reported_once_and_never_walked(tmp_path):
    root = _tree(tmp_path / "docs", ["a.txt", "kb-data/records.sqlite3", "kb-data/keyword/index.json", "z.txt"])
    own = (root / "kb-data",)
    found = discover([root, root / "kb-data"], own=own)
    assert _files(found) == [str(root / "a.txt"), str(root / "z.txt")]
    assert _problems(found) == {str(root / "kb-data"): ("unsupported", "这是知识库自己的数据目录，其中的文件不是资料，未导入。")}
    assert _files(discover([root])) == [str(root / n) for n in ("a.txt", "kb-data/keyword/index.json",
                                                                 "kb-data/records.sqlite3", "z.txt")]
