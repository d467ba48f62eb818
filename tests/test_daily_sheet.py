"""Daily case sheets (xlsx, csv, YAML) submitted for review: bad rows reported, good rows become drafts."""

from __future__ import annotations

import pytest
import yaml
from fixtures import make_csv, make_xlsx
from test_workflow import LOST_A, LOST_Q, PASSPORT_A, PASSPORT_Q, day

from ingest.daily import submit_cases
from kb import IngestError
from kb.audit import events
from kb.workflow import Submitted


def test_daily_xlsx_reports_bad_rows_and_submits_the_rest(kb, wf, people, tmp_path):
    headers = ["问题", "解决方案", "事项", "依据", "窗口", "生效日期"]
    path = make_xlsx(tmp_path / "11月28日登记表.xlsx", [
        [LOST_Q, LOST_A, "居住证", "居住证暂行条例", "综合窗口一组", day(10)],
        ["居住证能请人代办吗？", None, "居住证", None, "综合窗口一组", None],
        [PASSPORT_Q, PASSPORT_A, "护照", None, "出入境窗口", "下个月"],
        ["社保卡丢了怎么办？", "到社保窗口挂失补办，当场制卡。", "社保卡", None, "社保窗口", None],
    ], headers)
    report = submit_cases(wf, people.staff, path)
    assert len(report.errors) == 2 and report.duplicates == []
    assert "第 3 行" in report.errors[0] and "答案为空" in report.errors[0]
    assert "第 4 行" in report.errors[1] and "生效日期" in report.errors[1] and "下个月" in report.errors[1]
    assert [s.status for s in report.drafts] == ["draft", "draft"]
    entries = {s.entry_id: kb.entry(s.entry_id) for s in report.drafts}
    assert sorted(e.question for e in entries.values()) == sorted([LOST_Q, "社保卡丢了怎么办？"])
    lost = next(e for e in entries.values() if e.question == LOST_Q)
    assert (lost.answer, lost.item, lost.basis, lost.counter, lost.effective_from, lost.source) == (
        LOST_A, "居住证", "居住证暂行条例", "综合窗口一组", day(10), path.name)
    assert {e.id for e, s in wf.drafts() if s.created_by == "zhangsan"} == set(entries)
    assert kb.records.counts()["entries"] == 2


def test_daily_csv_and_yaml_are_submitted(kb, wf, people, tmp_path):
    csv_path = make_csv(tmp_path / "登记.csv", [[LOST_Q, LOST_A, "居住证"]], ["咨询内容", "答复意见", "事项"])
    yaml_path = tmp_path / "登记.yaml"
    yaml_path.write_text(yaml.safe_dump([
        {"问题": PASSPORT_Q, "答案": PASSPORT_A, "事项": "护照", "依据": "出入境管理法", "窗口": "出入境窗口"},
        {"问题": LOST_Q, "答案": LOST_A, "事项": "居住证"},  # the CSV's case again
    ], allow_unicode=True), encoding="utf-8")

    from_csv = submit_cases(wf, people.staff, csv_path)
    assert from_csv.errors == [] and [s.status for s in from_csv.drafts] == ["draft"]
    assert kb.entry(from_csv.drafts[0].entry_id).source == "登记.csv"
    from_yaml = submit_cases(wf, people.staff, yaml_path)
    assert from_yaml.errors == [] and [s.status for s in from_yaml.drafts] == ["draft"]
    assert from_yaml.duplicates == [Submitted(from_csv.drafts[0].entry_id, "duplicate")]
    passport = kb.entry(from_yaml.drafts[0].entry_id)
    assert (passport.question, passport.answer, passport.item, passport.basis, passport.counter, passport.source) == (
        PASSPORT_Q, PASSPORT_A, "护照", "出入境管理法", "出入境窗口", "登记.yaml")
    assert {e.id for e, _ in wf.drafts()} == {from_csv.drafts[0].entry_id, passport.id}


def test_sheet_without_question_and_answer_columns_stores_nothing(kb, wf, people, tmp_path):
    path = make_xlsx(tmp_path / "错表.xlsx", [["居住证", "到派出所办理"]], ["标题", "内容"])
    with pytest.raises(IngestError) as info:
        submit_cases(wf, people.staff, path)
    message = str(info.value)
    assert "标题、内容" in message and "问题" in message and "答复" in message
    corrupt = tmp_path / "损坏.xlsx"
    corrupt.write_bytes(b"not a workbook")
    with pytest.raises(IngestError, match="损坏"):
        submit_cases(wf, people.staff, corrupt)
    assert kb.records.counts()["entries"] == 0 and events(kb.records.conn, action="create") == []


def test_gbk_case_files_and_impossible_yaml_dates_are_read_case_by_case(kb, wf, people, tmp_path):
    gbk = tmp_path / "登记.yaml"
    gbk.write_bytes(f"问题: {LOST_Q}\n答复: {LOST_A}\n事项: 居住证\n日期: 2026-11-03\n".encode("gbk"))
    report = submit_cases(wf, people.staff, gbk)
    assert report.errors == [] and kb.entry(report.drafts[0].entry_id).date == "2026-11-03"
    dated = tmp_path / "日期.yml"
    dated.write_text(f"- 问题: {PASSPORT_Q}\n  答复: {PASSPORT_A}\n  生效日期: 2026-02-30\n"
                     "- 问题: 社保卡丢了怎么办？\n  答复: 到社保窗口挂失补办。\n", encoding="utf-8")
    report = submit_cases(wf, people.staff, dated)
    assert len(report.errors) == 1 and "生效日期“2026-02-30”" in report.errors[0] and "第 1 行" in report.errors[0]
    assert [kb.entry(s.entry_id).question for s in report.drafts] == ["社保卡丢了怎么办？"]
    empty = tmp_path / "空.json"
    empty.write_text("[]", encoding="utf-8")
    with pytest.raises(IngestError, match="空.json：文件中没有案例"):
        submit_cases(wf, people.staff, empty)


def test_a_document_pasted_into_a_cell_is_that_rows_error_and_is_never_embedded(kb, wf, people, tmp_path, monkeypatch):
    pasted = "居住证申领须知。" * 2000
    path = make_xlsx(tmp_path / "登记表.xlsx", [[LOST_Q, pasted, "居住证", None], [PASSPORT_Q, PASSPORT_A, "护照", None],
                                              [LOST_Q + "（代办）", LOST_A, "居住证", "依据" * 300]],
                     ["问题", "解决方案", "事项", "依据"])
    embedded = []
    embed = kb.embedder.embed_passages
    monkeypatch.setattr(kb.embedder, "embed_passages", lambda texts: embedded.extend(texts) or embed(texts))
    report = submit_cases(wf, people.staff, path)
    assert len(report.errors) == 2 and [kb.entry(s.entry_id).question for s in report.drafts] == [PASSPORT_Q]
    assert "第 2 行" in report.errors[0] and "答复太长（16000 字），请压缩到 5000 字以内" in report.errors[0]
    assert "第 4 行" in report.errors[1] and "依据太长（600 字）" in report.errors[1]
    assert max(map(len, embedded)) < 1000
