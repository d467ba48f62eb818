"""Re-ingesting is idempotent; a changed file replaces exactly what changed."""

from __future__ import annotations

import pytest
from fixtures import (
    SMALL_HEADERS,
    SMALL_ROWS,
    WrappedEmbedder,
    make_csv,
    make_jsonl,
    make_md,
    make_xlsx,
)

from ingest import ingest_paths

pytestmark = pytest.mark.store

HEADERS, ROWS = SMALL_HEADERS, SMALL_ROWS
COUNTED = ("entries", "documents", "chunks", "files", "vectors")


def _counts(kb):
    stats = kb.stats()
    return {key: stats[key] for key in COUNTED}


def _entry_id(kb, question):
    ids = [r.id for r in kb.iter_records() if getattr(r, "question", None) == question]
    assert len(ids) == 1, ids
    return ids[0]


@pytest.fixture
def files(small_files):
    return small_files


def test_same_files_again_are_unchanged(kb_factory, files):
    kb = kb_factory()
    first = ingest_paths(kb, files)
    assert [r.status for r in first.results] == ["added"] * 3
    before = _counts(kb)
    assert before["vectors"] == before["chunks"]
    again = ingest_paths(kb, files)
    assert [r.status for r in again.results] == ["unchanged"] * 3
    assert _counts(kb) == before
    # and through the folder, from a second instance on the same data dir
    second = kb_factory()
    report = ingest_paths(second, [files[0].parent])
    assert [r.status for r in report.results] == ["unchanged"] * 3
    assert _counts(second) == before


def test_changed_row_updates_only_that_entry(kb_factory, embedder, files, tmp_path):
    counting = WrappedEmbedder(embedder)
    kb = kb_factory(embedder=counting)
    ingest_paths(kb, files)
    before = _counts(kb)
    entry_id = _entry_id(kb, ROWS[1][0])
    old_answer = ROWS[1][1]
    new_answer = "护照遗失后可以直接在出入境大厅申请补发，无需先到派出所挂失。"
    rows = [list(r) for r in ROWS]
    rows[1][1] = new_answer
    make_xlsx(files[0], rows, HEADERS)
    counting.embedded.clear()

    report = ingest_paths(kb, files)
    assert [r.status for r in report.results] == ["updated", "unchanged", "unchanged"]
    assert _counts(kb) == before
    # only the question+answer chunk of the edited entry is embedded again
    assert len(counting.embedded) == 1 and new_answer in counting.embedded[0]
    assert kb.entry(entry_id).answer == new_answer
    for mode in ("hybrid", "dense", "keyword"):
        hit = kb.search("护照遗失怎么补办", k=1, mode=mode)[0]
        assert (hit.parent_id, hit.answer) == (entry_id, new_answer), mode
    hits = kb.search("先到派出所挂失", k=10, mode="keyword")
    assert all(old_answer not in h.text + h.answer for h in hits)
    assert len([r for r in kb.iter_records() if getattr(r, "question", "") == ROWS[1][0]]) == 1


def test_removed_row_soft_deletes_entry(kb, files):
    ingest_paths(kb, files)
    before = _counts(kb)
    gone = _entry_id(kb, ROWS[2][0])
    make_xlsx(files[0], ROWS[:2], HEADERS)
    report = ingest_paths(kb, files)
    assert report.results[0].status == "updated" and report.results[0].items == 2
    after = _counts(kb)
    assert after["chunks"] == after["vectors"] == before["chunks"]
    assert kb.entry(gone).question == ROWS[2][0]
    assert kb.records.state(gone).status == "deleted"
    for mode in ("hybrid", "dense", "keyword"):
        assert gone not in [h.parent_id for h in kb.search("公积金提取", k=10, mode=mode)], mode


def test_changed_document_replaces_old_text(kb, files):
    ingest_paths(kb, files)
    make_md(files[1], "容缺受理规范", ["欠缺次要材料的，签署承诺书后先行受理。", "材料应在十个工作日内补齐。"])
    assert ingest_paths(kb, [files[1]]).results[0].status == "updated"
    doc = kb.document("容缺")
    assert "十个工作日" in doc.text and "五个工作日" not in doc.text
    assert all("五个工作日" not in h.text for h in kb.search("五个工作日内补齐", k=10))


def test_identical_question_in_two_files_is_stored_once(kb, tmp_path):
    row = ROWS[0]
    a = make_csv(tmp_path / "a.csv", [row[:3]], HEADERS[:3])
    b = make_xlsx(tmp_path / "b.xlsx", [row, ROWS[1]], HEADERS)
    report = ingest_paths(kb, [a, b])
    assert report.count("failed") == 0
    assert kb.stats()["entries"] == 2
    hits = kb.search("居住证续签", k=5)
    assert [h.parent_id for h in hits].count(_entry_id(kb, row[0])) == 1


def test_shared_entry_survives_when_one_file_drops_it(kb, tmp_path):
    a = make_csv(tmp_path / "a.csv", [r[:3] for r in ROWS[:2]], HEADERS[:3])
    b = make_csv(tmp_path / "b.csv", [ROWS[0][:3]], HEADERS[:3])
    ingest_paths(kb, [a, b])
    make_csv(b, [ROWS[2][:3]], HEADERS[:3])
    ingest_paths(kb, [a, b])
    assert ROWS[0][0] in {getattr(r, "question", "") for r in kb.iter_records()}


def test_same_file_name_in_two_folders_keeps_both(kb, tmp_path):
    (tmp_path / "2025").mkdir()
    (tmp_path / "2026").mkdir()
    make_md(tmp_path / "2025" / "通知.md", "2025年公积金提取通知", ["租房提取每年一次。"])
    make_md(tmp_path / "2026" / "通知.md", "2026年护照办理通知", ["护照全国通办。"])
    ingest_paths(kb, [tmp_path / "2025", tmp_path / "2026"])
    assert kb.stats()["documents"] == 2


def test_an_exact_copy_in_another_folder_is_not_stored_twice(kb, tmp_path):
    paragraphs = ["护照遗失后应先报失，再申请补发。", "补发护照一般十个工作日内办结。"]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    original = make_md(tmp_path / "a" / "护照补发.md", "护照补发须知", paragraphs)
    copy = make_md(tmp_path / "b" / "护照补发.md", "护照补发须知", paragraphs)
    ingest_paths(kb, [original])
    before = _counts(kb)
    result = ingest_paths(kb, [copy]).results[0]
    assert result.status == "unchanged" and str(original.resolve()) in result.reason
    assert _counts(kb) == before
    assert [h.parent_id for h in kb.search("护照丢了怎么补", k=5)].count("护照补发") == 1
    make_md(copy, "护照补发须知", [*paragraphs, "加急的三个工作日内办结。"])  # once it differs, it is a file of its own
    assert ingest_paths(kb, [copy]).results[0].status == "added"
    assert kb.stats()["documents"] == 2


def test_a_moved_and_renamed_file_takes_over_its_records_and_later_edits_update_them(kb, tmp_path):
    paragraphs = ["护照遗失后应先报失，再申请补发。", "补发护照一般十个工作日内办结。"]
    (tmp_path / "旧").mkdir()
    (tmp_path / "新").mkdir()
    old = make_md(tmp_path / "旧" / "护照补发.md", "护照补发须知", paragraphs)
    ingest_paths(kb, [old])
    before = _counts(kb)
    new = old.rename(tmp_path / "新" / "护照补发（2026）.md")
    result = ingest_paths(kb, [new]).results[0]
    assert result.status == "unchanged" and str(old.resolve()) in result.reason and "移动或改名" in result.reason
    assert _counts(kb) == before
    assert kb.files_holding("护照补发") == [str(new.resolve())]
    make_md(new, "护照补发须知", [paragraphs[0], "补发护照一般七个工作日内办结。"])
    assert ingest_paths(kb, [new]).results[0].status == "updated"
    assert kb.stats()["documents"] == 1
    [text] = [r.text for r in kb.iter_records()]
    assert "七个工作日" in text and "十个工作日" not in text


def test_a_stored_file_edited_into_a_copy_of_another_is_updated(kb, tmp_path):
    a = make_md(tmp_path / "a.md", "养犬登记", ["城区养犬应当办理养犬登记。"])
    b = make_md(tmp_path / "b.md", "殡葬补贴", ["惠民殡葬补贴由户籍地民政部门发放。"])
    ingest_paths(kb, [a, b])
    make_md(b, "养犬登记", ["城区养犬应当办理养犬登记。"])
    assert ingest_paths(kb, [b]).results[0].status == "updated"
    assert not [r for r in kb.iter_records() if "殡葬" in getattr(r, "text", "")]


def test_jsonl_documents_without_id_are_all_kept(kb, tmp_path):
    path = make_jsonl(tmp_path / "notes.jsonl", [
        {"title": "养犬登记", "text": "城区养犬应当办理养犬登记。"},
        {"title": "殡葬补贴", "text": "惠民殡葬补贴由户籍地民政部门发放。"},
    ])
    result = ingest_paths(kb, [path]).results[0]
    assert kb.stats()["documents"] == 2 or result.warnings


def test_other_chunk_size_reprocesses_file(kb, files):
    ingest_paths(kb, files[1:2])
    report = ingest_paths(kb, files[1:2], chunk_size=20, overlap=0)
    assert report.results[0].status == "updated"
    assert kb.stats()["vectors"] == kb.stats()["chunks"]
    assert ingest_paths(kb, files[1:2], chunk_size=20, overlap=0).results[0].status == "unchanged"


def test_a_new_way_of_reading_files_reads_unchanged_files_again(kb, files, monkeypatch):
    import ingest.pipeline

    assert ingest_paths(kb, files[1:2]).results[0].status == "added"
    assert ingest_paths(kb, files[1:2]).results[0].status == "unchanged"
    monkeypatch.setattr(ingest.pipeline, "READING", ingest.pipeline.READING + 1)
    assert ingest_paths(kb, files[1:2]).results[0].status == "updated"
    assert ingest_paths(kb, files[1:2]).results[0].status == "unchanged"
    assert kb.stats()["vectors"] == kb.stats()["chunks"]
