"""A second successor: a draft that supersedes an entry which already has another new 口径 (a pending
draft, or a published one not yet in effect) is flagged at submission, shown to the reviewer, and
published only when the reviewer confirms, checked again at approval time."""

from __future__ import annotations

import re

import pytest
from test_lifecycle_cli import kb_cli, ok  # noqa: F401  (kb_cli is a fixture)
from test_workflow import NEW_A, NEW_Q, OLD_A, OLD_Q, case, day, publish

from kb import RECORDS_FILE
from kb.audit import events
from kb.errors import ReviewError
from kb.records import Records

pytestmark = pytest.mark.store

OTHER_Q, OTHER_A = "居住证签注需要本人到场吗？", "签注可由他人代办，带上委托书即可。"


def test_second_pending_successor_is_flagged_and_needs_confirmation(kb, wf, people):
    old = publish(wf, people, OLD_Q, OLD_A)
    first = wf.submit(people.staff, case(NEW_Q, NEW_A, supersedes=old, effective_from=day(30)))
    assert first.successor_warnings == () and kb.records.state(first.entry_id).rivals == ""
    second = wf.submit(people.staff, case(OTHER_Q, OTHER_A, supersedes=old))
    assert kb.records.state(second.entry_id).rivals == first.entry_id
    assert second.successor_warnings == (f"⚠ {old} 已有待审核的新口径 {first.entry_id}",)

    # the first draft had no rival when submitted, but has one now: checked again at approval
    with pytest.raises(ReviewError, match=f"{second.entry_id}.*--confirm-successor"):
        wf.approve(people.reviewer, first.entry_id)
    assert kb.records.state(first.entry_id).status == "draft"
    wf.approve(people.reviewer, first.entry_id, confirm_successor=True)
    approval = events(kb.records.conn, action="approve", target=first.entry_id)[0]
    assert "已确认" in approval.reason and second.entry_id in approval.reason
    assert kb.records.state(first.entry_id).rivals == ""

    (rival,) = wf.rivals(kb.entry(second.entry_id))
    assert rival.warning() == f"⚠ {old} 已有将于 {day(30)} 生效的新口径 {first.entry_id}"
    with pytest.raises(ReviewError, match=f"将于 {day(30)} 生效"):
        wf.approve(people.reviewer, second.entry_id)
    assert wf.approve(people.reviewer, second.entry_id, confirm_successor=True) == second.entry_id


def test_successor_in_effect_and_revisions_are_not_rivals(kb, wf, people):
    old = publish(wf, people, OLD_Q, OLD_A)
    current = publish(wf, people, NEW_Q, NEW_A, supersedes=old, effective_from=day(0))
    later = wf.submit(people.staff, case(OTHER_Q, OTHER_A, supersedes=old))
    assert later.successor_warnings == ()
    wf.reject(people.reviewer, later.entry_id, "不需要")

    upcoming = publish(wf, people, "居住证签注收费吗？", "签注不收取费用。", supersedes=current, effective_from=day(10))
    revision = wf.submit(people.staff, case("居住证签注收费吗？", "签注免费，线上线下均可。"), revises=upcoming)
    assert kb.entry(revision.entry_id).supersedes == current and revision.successor_warnings == ()
    assert wf.approve(people.reviewer, revision.entry_id) == upcoming


def test_review_commands_show_the_warning(kb_cli):  # noqa: F811
    first = re.search(r"K\d{5}", ok(kb_cli("submit", "-q", OLD_Q, "-a", OLD_A, "--item", "居住证"))).group(0)
    ok(kb_cli("review", "approve", first))
    pending = re.search(r"K\d{5}", ok(kb_cli("submit", "-q", NEW_Q, "-a", NEW_A, "--supersedes", first))).group(0)
    submitted = ok(kb_cli("submit", "-q", OTHER_Q, "-a", OTHER_A, "--supersedes", first))
    second = re.search(r"已提交 (K\d{5})", submitted).group(1)
    warning = f"⚠ {first} 已有待审核的新口径 {pending}"
    assert warning in submitted
    listed = ok(kb_cli("review", "list"))
    assert f"{warning}" in next(line for line in listed.splitlines() if line.startswith(second))
    assert warning in ok(kb_cli("review", "show", second))
    refused = kb_cli("review", "approve", second)
    assert refused.exit_code == 1 and "--confirm-successor" in refused.output and "Traceback" not in refused.output
    assert "已发布" in ok(kb_cli("review", "approve", second, "--confirm-successor"))


def test_a_store_from_before_the_flag_gets_the_column(kb, wf, people):
    old = publish(wf, people, OLD_Q, OLD_A)
    kb.records.conn.execute("ALTER TABLE entries DROP COLUMN rivals")
    reopened = Records(kb.data_dir / RECORDS_FILE)
    assert reopened.state(old).rivals == ""
    reopened.close()
