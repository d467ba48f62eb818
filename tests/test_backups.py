"""Backups and restoring them (kb.backups): through the library, `kb restore-backup` and the 维护 page.
A restore brings back exactly the backed-up records, keeps a safety backup of what it replaced, makes
every open knowledge base refresh its indexes, and refuses a wrong file with nothing changed."""

from __future__ import annotations

import sqlite3

import gradio as gr
import pytest
from click.testing import CliRunner
from fixtures import CHROMA_URL, as_user, make_md, make_small_set, unique_collection
from test_ui_jobs import wait

from cli import cli
from ingest import ingest_paths
from kb.backups import SAFETY_FOLDER, InvalidBackup, check_backup, restore
from kb.config import SETTINGS
from kb.errors import KBError, PermissionDenied
from kb.users import Users
from web.admin import maintenance
from web.downloads import Downloads

pytestmark = pytest.mark.store

LATE = ("晚到的通知", ["临时身份证明可以在派出所当场开具，用于乘坐火车。"])
LATE_QUESTION = "临时身份证明去哪里开"


def parents(kb) -> set[str]:
    return {e.id for e in kb.records.iter_entries()} | {d.id for d in kb.records.iter_documents()}


def found(kb, question: str) -> list[str]:
    return [hit.parent_id for hit in kb.search(question, k=3)]


@pytest.fixture
def filled(kb, people, tmp_path):
    """The knowledge base with the small set imported by the admin, and its backup."""
    ingest_paths(kb, make_small_set(tmp_path / "src"), actor=people.admin)
    backup = tmp_path / "备份.sqlite3"
    kb.records.backup(backup)
    return backup


def test_restore_brings_back_the_backup_and_every_open_index_follows(kb, kb_factory, people, filled, tmp_path):
    before = parents(kb)
    reader = kb_factory()  # another knowledge base open on the same data, as the web app's is
    late = make_md(tmp_path / "late.md", *LATE)
    ingest_paths(kb, [late], actor=people.admin)
    assert "late" in found(reader, LATE_QUESTION)
    generation = reader.records.generation()

    restored = restore(kb.records, filled, people.admin)
    kb.reindex()
    assert parents(kb) == parents(reader) == before
    assert restored.summary == check_backup(filled) and restored.summary.entries == 3
    assert reader.records.generation() > generation
    assert "late" not in found(reader, LATE_QUESTION)
    assert found(reader, "护照丢了怎么补办")[0] == found(kb, "护照丢了怎么补办")[0]
    assert reader.stats()["vectors"] == kb.records.counts()["chunks"]
    assert restored.safety.parent == kb.data_dir / SAFETY_FOLDER
    assert check_backup(restored.safety).documents == check_backup(filled).documents + 1
    assert kb.records.conn.execute("SELECT action, actor FROM audit ORDER BY id DESC LIMIT 1").fetchone()[:] == \
        ("restore_backup", "admin")


def test_a_backup_with_another_page_size_is_restored(kb, people, filled, tmp_path):
    other = tmp_path / "8k.sqlite3"
    copy = sqlite3.connect(other, isolation_level=None)
    sqlite3.connect(filled).backup(copy)
    copy.execute("PRAGMA journal_mode=DELETE")
    copy.execute("PRAGMA page_size=8192")
    copy.execute("VACUUM")
    assert copy.execute("PRAGMA page_size").fetchone()[0] == 8192
    copy.close()
    ingest_paths(kb, [make_md(tmp_path / "late.md", *LATE)], actor=people.admin)
    restore(kb.records, other, people.admin)
    assert "late" not in parents(kb) and len(parents(kb)) == 5
    assert kb.records.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert kb.records.conn.execute("PRAGMA page_size").fetchone()[0] != 8192


def not_records(tmp_path):
    text = tmp_path / "改了扩展名的文本.sqlite3"
    text.write_text("这不是数据库", encoding="utf-8")
    other = tmp_path / "别的数据库.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE entries (id TEXT)")
    conn.commit()
    conn.close()
    (tmp_path / "备份文件夹").mkdir()
    return {"这不是 SQLite 数据库文件": text, "缺少数据表": other, "无法读取文件（文件不存在）": tmp_path / "不存在.sqlite3",
            "无法读取文件（这是文件夹，不是文件）": tmp_path / "备份文件夹"}


def test_a_wrong_file_is_refused_and_nothing_changes(kb, people, filled, tmp_path):
    counts, generation = kb.records.counts(), kb.records.generation()
    for problem, path in not_records(tmp_path).items():
        with pytest.raises(InvalidBackup) as caught:
            restore(kb.records, path, people.admin)
        message = str(caught.value)
        assert f"“{path.name}”不能用来恢复" in message and problem in message
        assert "没有任何改动" in message and "kb backup" in message
    assert kb.records.counts() == counts and kb.records.generation() == generation
    assert not (kb.data_dir / SAFETY_FOLDER).exists()


def test_only_an_admin_restores(kb, people, filled):
    generation = kb.records.generation()
    for user in (people.staff, people.reviewer):
        with pytest.raises(PermissionDenied, match="批量导入"):
            restore(kb.records, filled, user)
    assert kb.records.generation() == generation and not (kb.data_dir / SAFETY_FOLDER).exists()


def kb_command(*args, data_dir, collection):
    extra = ["--data-dir", str(data_dir), "--collection", collection]
    extra += ["--chroma-url", CHROMA_URL] if CHROMA_URL else []
    return CliRunner().invoke(cli, [*map(str, args), *extra])


def test_the_restore_command(tmp_path, monkeypatch):
    for setting in SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)
    data, collection = tmp_path / "data", unique_collection()
    run = lambda *args: kb_command(*args, data_dir=data, collection=collection)  # noqa: E731
    assert run("ingest", *make_small_set(tmp_path / "src")).exit_code == 0
    assert run("backup", tmp_path / "备份.sqlite3").exit_code == 0
    assert run("ingest", make_md(tmp_path / "late.md", *LATE)).exit_code == 0
    wrong = not_records(tmp_path)["缺少数据表"]
    refused = run("restore-backup", wrong, "--yes")
    assert refused.exit_code == 1 and "别的数据库.sqlite3" in refused.output and "没有任何改动" in refused.output
    result = run("restore-backup", tmp_path / "备份.sqlite3", "--yes")
    assert result.exit_code == 0, result.output
    assert "条目 3 条，文档 2 份" in result.output and SAFETY_FOLDER in result.output
    chunks = sqlite3.connect(data / "records.sqlite3").execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    assert f"已重建 {chunks} 个分块的索引" in result.output
    answer = run("search", LATE_QUESTION, "--k", "5")
    assert answer.exit_code == 0 and '"late"' not in answer.output and '"容缺"' in answer.output


def test_the_page_restores_a_downloaded_backup(ctx, tmp_path):
    admin = Users(ctx.kb.records).get("admin")
    ingest_paths(ctx.kb, make_small_set(tmp_path / "src"), actor=admin)
    downloads = Downloads("kb-backup-test-")
    backup = maintenance.make_backup(ctx, as_user("admin"), downloads)
    assert backup.suffix == ".sqlite3" and check_backup(backup).entries == 3
    ingest_paths(ctx.kb, [make_md(tmp_path / "late.md", *LATE)], actor=admin)
    for path in not_records(tmp_path).values():
        if path.exists():
            with pytest.raises(gr.Error, match=f"“{path.name}”不能用来恢复"):
                maintenance.start_restore(ctx, str(path), True, as_user("admin"))
    assert maintenance.start_restore(ctx, str(backup), False, as_user("admin")) is None
    assert "late" in parents(ctx.kb) and not (ctx.kb.data_dir / SAFETY_FOLDER).exists()
    job = wait(maintenance.start_restore(ctx, str(backup), True, as_user("admin")))
    assert not job.error and "已重建" in job.status and SAFETY_FOLDER in job.status
    assert "late" not in parents(ctx.kb)
    with ctx.lock:
        assert "late" not in found(ctx.kb, LATE_QUESTION) and "容缺" in found(ctx.kb, "材料不齐能先受理吗")
    bar, text, timer = maintenance.progress(ctx, as_user("admin"))
    assert 'value="100"' in bar and "从备份恢复" in text and timer.active is False


def test_a_backup_that_cannot_be_written_is_a_clean_error_and_overwrites_nothing(kb, filled, tmp_path):
    counts = kb.records.counts()
    text = tmp_path / "说明.txt"
    text.write_text("不是数据库", encoding="utf-8")
    live = kb.data_dir / "records.sqlite3"
    for path, words in ((text, "不是 SQLite 数据库"), (live, "不能备份到它自己"),
                        (tmp_path / "没有的文件夹" / "备份.sqlite3", "文件夹是否存在")):
        with pytest.raises(KBError, match=words) as caught:
            kb.records.backup(path)
        assert str(path) in str(caught.value)
    assert text.read_text(encoding="utf-8") == "不是数据库"
    assert kb.records.counts() == counts and check_backup(live).entries == counts["entries"]
