"""`kb ingest` with hostile input beside a good file: each bad one gets one line, the good one is
ingested, nothing hangs (real files, embedded Chroma on a tmp dir; small limits keep it fast)."""

from __future__ import annotations

import os
import zipfile

import pytest
from click.testing import CliRunner

from cli import cli
from fixtures import make_docx, make_zip_bomb

pytestmark = pytest.mark.store


def test_every_hostile_path_fails_alone_and_the_good_file_goes_in(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_MAX_ROWS", "3")
    monkeypatch.setenv("KB_MAX_UNZIPPED_MB", "5")
    files = tmp_path / "资料"
    files.mkdir()
    good = files / "居住证.txt"
    good.write_text("居住证办理\n\n申请人携带身份证和居住证明到派出所办理，当场受理。", encoding="utf-8")
    rows = files / "名单.csv"
    rows.write_text("姓名,窗口\n" + "".join(f"张{n},{n}号\n" for n in range(5)), encoding="utf-8")
    template = make_docx(tmp_path / "模板.docx", "通知", ["按时办理。"])
    make_zip_bomb(files / "通知.docx", template, 8)
    fifo = tmp_path / "管道"
    os.mkfifo(fifo)
    loop = tmp_path / "循环"
    loop.symlink_to(loop)
    with zipfile.ZipFile(files / "附件.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("../../逃逸.txt", "不应写到压缩包以外")
        archive.writestr("子目录/零.txt", b"\0" * (3 << 20))
        archive.writestr("子目录/社保.txt", "社保卡挂失\n\n社保卡丢失后可拨打服务电话或到社保窗口挂失。")
    script = files / "网页.html"
    script.write_text("<html><body><script>alert(1)</script><p>社保卡补办请带身份证到社保窗口。</p></body></html>",
                      encoding="utf-8")

    result = CliRunner().invoke(cli, ["ingest", str(fifo), str(loop), str(files), "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 1
    out = result.output
    lines = {name: [line for line in out.splitlines() if name in line] for name in ("管道", "循环", "名单", "通知", "居住证", "逃逸", "零", "社保")}
    assert "命名管道" in lines["管道"][0] and "循环" in lines["循环"][0]
    assert "max_rows" in lines["名单"][0] and "KB_MAX_ROWS" in lines["名单"][0]
    assert "max_unzipped_mb" in lines["通知"][0]
    assert lines["居住证"][0].startswith("新增")
    assert lines["逃逸"][0].startswith(f"失败  {files}/附件.zip/../../逃逸.txt：压缩包内的路径“../../逃逸.txt”不安全")
    assert lines["零"][0].startswith(f"失败  {files}/附件.zip/子目录/零.txt：压缩包内的“子目录/零.txt”压缩比")
    assert lines["社保"][0].startswith(f"新增  {files}/附件.zip/子目录/社保.txt")
    assert not list(tmp_path.rglob("逃逸.txt"))
    assert "失败 6 个" in out

    asked = CliRunner().invoke(cli, ["search", "社保卡补办带什么", "--data-dir", str(tmp_path / "data")])
    assert asked.exit_code == 0 and "<script>" not in asked.output and "alert" not in asked.output
