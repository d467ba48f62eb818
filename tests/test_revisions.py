"""Review edge cases: a revision that changes only the basis, a successor flagged as a duplicate of
the entry it replaces, and editing the other wordings while approving."""

from __future__ import annotations

import pytest

from kb import Entry
from kb.errors import ReviewError

pytestmark = pytest.mark.store

QUESTION, ANSWER = "居住证签注要带哪些材料？", "身份证、居住证原件和近期一寸照片。"
NEWER = "居住证签注现在只需带身份证，居住证原件和照片不再需要。"


def publish(wf, people, entry: Entry) -> str:
    return wf.approve(people.reviewer, wf.submit(people.staff, entry).entry_id, keep_both=True)


def test_a_revision_of_the_basis_alone_is_a_change_and_an_empty_one_is_not(kb, wf, people):
    target = publish(wf, people, Entry("", QUESTION, ANSWER, item="居住证"))
    unchanged = wf.submit(people.staff, Entry("", QUESTION, ANSWER), revises=target)
    assert (unchanged.status, unchanged.entry_id) == ("duplicate", target)

    revision = wf.submit(people.staff, Entry("", "", "", basis="《居住证暂行条例》第十三条"), revises=target)
    assert revision.status == "draft" and revision.entry_id != target
    assert wf.approve(people.reviewer, revision.entry_id) == target
    assert kb.entry(target).basis == "《居住证暂行条例》第十三条" and kb.entry(target).answer == ANSWER


def test_a_successor_like_the_entry_it_replaces_needs_no_keep_both(kb, wf, people):
    old = publish(wf, people, Entry("", QUESTION, ANSWER, item="居住证"))
    draft = wf.submit(people.staff, Entry("", QUESTION, NEWER, item="居住证"))
    assert draft.duplicate_of == old
    with pytest.raises(ReviewError, match="确认两条都保留"):
        wf.approve(people.reviewer, draft.entry_id)
    published = wf.approve(people.reviewer, draft.entry_id,
                           changes={"supersedes": old, "effective_from": "2026-01-01"})
    assert kb.entry(published).supersedes == old
    assert kb.search(QUESTION)[0].parent_id == published


def test_the_other_wordings_can_be_edited_on_approval(kb, wf, people):
    draft = wf.submit(people.staff, Entry("", QUESTION, ANSWER, item="居住证"))
    wf.approve(people.reviewer, draft.entry_id, changes={"alt_questions": ["签注带什么", "签注材料"]})
    assert kb.entry(draft.entry_id).alt_questions == ("签注带什么", "签注材料")
