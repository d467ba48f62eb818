"""Every file under an ingest path gets an outcome: nothing is skipped silently."""

from __future__ import annotations

import pytest

from fixtures import make_md, make_text
from ingest import ingest_paths
from test_cli import Runner

pytestmark = pytest.mark.store


@pytest.fixture
def mixed(tmp_path):
    folder = tmp_path / "来文"
    (folder / "子目录").mkdir(parents=True)
    (folder / ".git").mkdir()
    make_md(folder / "签注.md", "居住证签注口径", ["居住证每年签注一次，可在派出所办理。"])
    make_text(folder / "子目录" / "说明.txt", "窗口受理时间为工作日上午九点至下午五点。")
    (folder / "附件.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    (folder / "电子公文.ofd").write_bytes(b"PK\x03\x04")
    (folder / "~$签注.docx").write_bytes(b"\x00" * 162)
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / ".git" / "config").write_text("[core]\n")
    return folder


def test_each_file_has_an_outcome_and_unsupported_ones_say_what_to_do(kb, mixed):
    report = ingest_paths(kb, [mixed])
    outcome = {r.path.split("来文/")[1]: r for r in report.results}
    assert set(outcome) == {"签注.md", "子目录/说明.txt", "附件.zip", "电子公文.ofd", "~$签注.docx"}
    assert outcome["签注.md"].status == outcome["子目录/说明.txt"].status == "added"
    assert outcome["附件.zip"].status == "unsupported" and "压缩包是空的" in outcome["附件.zip"].reason
    assert "另存为 PDF" in outcome["电子公文.ofd"].reason
    assert outcome["~$签注.docx"].status == "unsupported" and "临时文件" in outcome["~$签注.docx"].reason
    assert report.failed == []
    assert kb.stats()["recent"][0]["status"] in ("added", "unsupported")


def test_cli_prints_one_line_per_file(tmp_path, mixed):
    runner = Runner()
    try:
        result = runner("ingest", mixed, data_dir=tmp_path / "data")
    finally:
        runner.close()
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert sum(line.startswith("新增  ") for line in lines) == 2
    assert sum(line.startswith("不支持  ") for line in lines) == 3
    assert any(line.startswith("新增  ") and "签注.md（" in line and "条记录" in line for line in lines)
    assert "不支持 3 个" in lines[-1] and "新增 2 个文件" in lines[-1]
