"""Bad files fail one by one, with their path and a Chinese reason; nothing stored is lost."""

from __future__ import annotations

import os
import re

import pytest

from fixtures import WrappedEmbedder, make_csv, make_jsonl, make_md, make_text, make_xlsx
from ingest import ingest_paths

CJK = re.compile(r"[\u4e00-\u9fff]")
GOOD_ROWS = [["社保卡丢了怎么补办？", "带身份证到合作银行网点补办，十五个工作日制卡。", "社保卡补办"]]


def _good_csv(path):
    return make_csv(path, GOOD_ROWS, ["问题", "答复", "事项"])


@pytest.fixture
def bad_files(tmp_path):
    """name -> (path, key words its reason must contain)."""
    from openpyxl import Workbook

    empty_book = tmp_path / "空表.xlsx"
    Workbook().save(empty_book)
    files = {
        "empty_csv": (make_text(tmp_path / "空.csv", ""), ["空"]),
        "empty_txt": (make_text(tmp_path / "空.txt", "  \n\n"), ["没有可导入的文字内容"]),
        "empty_xlsx": (empty_book, ["空"]),
        "corrupt_xlsx": (tmp_path / "坏表.xlsx", ["损坏"]),
        "corrupt_docx": (tmp_path / "坏文档.docx", ["损坏"]),
        "corrupt_pdf": (tmp_path / "坏.pdf", ["损坏"]),
        "exe": (tmp_path / "setup.exe", ["不支持", ".exe", ".xlsx"]),
        "pptx": (tmp_path / "汇报.pptx", ["可能已损坏", "另存为"]),
        "bad_jsonl": (make_jsonl(tmp_path / "坏行.jsonl", [
            {"question": "护照怎么办？", "answer": "到出入境大厅办理。"},
            {"question": "签证怎么办？", "answer": "到出入境大厅办理。"},
            '{"question": "港澳通行证", "answer": ',
        ]), ["第 3 行", "JSON"]),
        "missing": (tmp_path / "不存在的文件.md", ["不存在"]),
        "broken_utf16": (tmp_path / "坏编码.txt", ["无法识别文件编码", "UTF-8"]),
    }
    files["broken_utf16"][0].write_bytes(b"\xff\xfe\x00\x00abc")
    random_bytes = os.urandom(2048)
    for name in ("corrupt_xlsx", "corrupt_docx", "exe", "pptx"):
        files[name][0].write_bytes(random_bytes)
    files["corrupt_pdf"][0].write_bytes(b"%PDF-1.4\n" + random_bytes)
    return files


def test_each_bad_file_fails_alone_with_path_and_reason(kb, tmp_path, bad_files):
    good = _good_csv(tmp_path / "good.csv")
    paths = [p for p, _ in bad_files.values()]
    report = ingest_paths(kb, [paths[0], good, *paths[1:]])
    by_path = {r.path: r for r in report.results}
    assert by_path[str(good)].status == "added"
    assert len(report.failed) == len(bad_files) - 1
    for name, (path, words) in bad_files.items():
        result = by_path[str(path)]
        assert result.status == ("unsupported" if name == "exe" else "failed"), name
        assert CJK.search(result.reason), (name, result.reason)
        for word in words:
            assert word in result.reason, (name, word, result.reason)
    assert kb.stats()["entries"] == 1
    assert kb.search("社保卡掉了去哪补", k=1)[0].answer == GOOD_ROWS[0][1]


def test_failures_are_logged_with_reason(kb, bad_files):
    path, _ = bad_files["exe"]
    ingest_paths(kb, [path])
    event = kb.stats()["recent"][0]
    assert event["status"] == "unsupported"
    assert event["path"].endswith("setup.exe")
    assert "不支持" in event["detail"]


@pytest.mark.parametrize("title", [None, "2026年9月疑难案例登记表"])
def test_rows_without_answer_are_warnings_by_row_number(kb, tmp_path, title):
    rows = [
        ["居住证怎么续签？", "每年签注一次，到派出所办理。", "居住证签注"],
        ["护照丢了怎么办？", None, "护照补办"],
        ["结婚登记要预约吗？", "网上预约或现场取号。", "婚姻登记"],
        ["驾驶证换证要体检吗？", "", "驾驶证换证"],
    ]
    path = make_xlsx(tmp_path / "登记表.xlsx", rows, ["问题", "答复", "事项"], title=title)
    first_data_row = 3 if title else 2
    report = ingest_paths(kb, [path])
    result = report.results[0]
    assert result.status == "added" and result.items == 2
    skipped = [first_data_row + 1, first_data_row + 3]
    assert len(result.warnings) == 2
    for number, warning in zip(skipped, result.warnings):
        assert f"第 {number} 行" in warning and "答案为空" in warning
    questions = {r.question for r in kb.iter_records()}
    assert questions == {"居住证怎么续签？", "结婚登记要预约吗？"}


def test_csv_row_numbers_count_blank_lines(kb, tmp_path):
    path = make_text(tmp_path / "登记.csv", "问题,答复\n\n居住证怎么续签？,到派出所签注。\n\n护照丢了怎么办？,\n")
    warnings = ingest_paths(kb, [path]).results[0].warnings
    assert any("第 5 行" in w for w in warnings), warnings


def test_only_invalid_rows_means_failure(kb, tmp_path):
    path = make_xlsx(tmp_path / "全空.xlsx", [["护照丢了怎么办？", None]], ["问题", "答复"])
    result = ingest_paths(kb, [path]).results[0]
    assert result.status == "failed"
    assert "第 2 行" in result.reason and "答案为空" in result.reason


def test_later_failure_loses_nothing(kb, tmp_path):
    good = _good_csv(tmp_path / "good.csv")
    ingest_paths(kb, [good])
    before = kb.stats()
    other = tmp_path / "other.xlsx"
    other.write_bytes(os.urandom(512))
    assert ingest_paths(kb, [other]).results[0].status == "failed"
    # the same file, now broken: its stored version stays
    good.write_text("\n \n", encoding="utf-8")
    assert ingest_paths(kb, [good]).results[0].status == "failed"
    after = kb.stats()
    for key in ("entries", "documents", "chunks", "files", "vectors"):
        assert after[key] == before[key], key
    for mode in ("hybrid", "dense", "keyword"):
        hits = kb.search("社保卡丢失补办", k=1, mode=mode)
        assert hits and hits[0].answer == GOOD_ROWS[0][1], mode


def test_embedder_failure_keeps_previous_version(kb_factory, embedder, tmp_path):
    path = make_md(tmp_path / "签注.md", "居住证签注口径", ["居住证每年签注一次，可在派出所办理。"])
    kb = kb_factory()
    ingest_paths(kb, [path])
    before = kb.stats()
    old = kb.document("签注")
    kb.close()

    broken = kb_factory(embedder=WrappedEmbedder(embedder, fail_passages=True))
    make_md(path, "居住证签注口径", ["居住证改为每两年签注一次，只能在网上办理。"])
    with pytest.raises(RuntimeError, match="模拟的嵌入失败"):
        ingest_paths(broken, [path])
    after = broken.stats()
    for key in ("entries", "documents", "chunks", "files", "vectors"):
        assert after[key] == before[key], key
    assert broken.document("签注") == old
    hit = broken.search("居住证多久签注一次", k=1)[0]
    assert hit.parent_id == "签注" and "每年签注一次" in hit.text
    assert "每两年" not in hit.text


def test_unknown_date_is_a_warning_not_a_failure(kb, tmp_path):
    path = make_csv(tmp_path / "日期.csv", [["居住证怎么续签？", "到派出所签注。", "下周三"]], ["问题", "答复", "日期"])
    result = ingest_paths(kb, [path]).results[0]
    assert result.status == "added"
    assert any("第 2 行" in w and "下周三" in w for w in result.warnings)
    assert next(kb.iter_records()).date == ""


def test_unusable_chunking_is_refused_before_anything_is_read(kb, tmp_path):
    from kb import KBError

    path = make_md(tmp_path / "签注.md", "居住证签注口径", ["居住证每年签注一次，可在派出所办理。"])
    with pytest.raises(KBError, match="--overlap 或环境变量 KB_CHUNK_OVERLAP"):
        ingest_paths(kb, [path], overlap=-1)
    for size in (0, -5):
        with pytest.raises(KBError, match="--chunk-size 或环境变量 KB_CHUNK_SIZE"):
            ingest_paths(kb, [path], chunk_size=size)
    assert kb.stats()["documents"] == 0 and kb.stats()["recent"] == []


def test_an_unreadable_review_state_in_an_export_is_a_warning_and_imports_as_published(kb, tmp_path):
    rows = [{"type": "entry", "id": f"FAQ-{n}", "question": question, "answer": "到派出所办理。", "state": state}
            for n, (question, state) in enumerate([("居住证怎么签注？", {"status": "作废", "version": 2}),
                                                   ("户口怎么迁入？", {"status": "draft", "version": "二"}),
                                                   ("身份证怎么补办？", {"status": "draft", "version": 1})])]
    result = ingest_paths(kb, [make_jsonl(tmp_path / "导出.jsonl", rows)]).results[0]
    assert result.status == "added"
    assert [w for w in result.warnings if "state 字段无法识别" in w and "按已发布导入" in w] == \
        [f"第 {n} 行：state 字段无法识别（status 应为 draft/published/rejected/merged/deleted 之一，version 应为正整数），"
         "按已发布导入" for n in (1, 2)]
    states = [kb.records.state(f"FAQ-{n}") for n in range(3)]
    assert [(s.status, s.version) for s in states] == [("published", 1), ("published", 1), ("draft", 1)]
