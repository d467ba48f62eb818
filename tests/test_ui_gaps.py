"""The 知识缺口 page embeds new gap questions outside the knowledge base's lock, so a lead opening the
page never holds up the counters' questions; the groups are the same as the queue's own."""

from __future__ import annotations

import threading

from fixtures import as_user

from kb.asklog import log_question
from kb.gaps import GapQueue
from kb.users import Users
from web import gaps

LICENCE = ["驾驶证到期了怎么换？", "驾照快过期了，换新证需要什么材料", "驾驶证到期换证要带什么"]
LIGHTS = ["小区门口的路灯坏了找谁", "路灯不亮了向哪个部门反映"]


def held(lock: threading.RLock) -> bool:
    """Whether some thread holds ``lock`` (probed from a thread of its own, as the lock is reentrant)."""
    free = []

    def probe():
        free.append(lock.acquire(blocking=False))
        if free[0]:
            lock.release()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return not free[0]


class Watched:
    """The real embedder, noting for each call the texts and whether the lock was held meanwhile."""

    def __init__(self, embedder, lock):
        self.embedder, self.lock, self.calls = embedder, lock, []

    def __getattr__(self, name):
        return getattr(self.embedder, name)

    def embed_queries(self, texts):
        self.calls.append((list(texts), held(self.lock)))
        return self.embedder.embed_queries(texts)


def test_new_gap_questions_are_embedded_outside_the_lock_and_group_as_before(ctx):
    conn = ctx.kb.records.conn
    for text in LICENCE + LIGHTS:
        log_question(conn, "zhangsan", text, "no_answer", 0.2)
    watched = Watched(ctx.kb.embedder, ctx.lock)
    ctx.kb.embedder, lead = watched, as_user("zuzhang")

    count, rows, ids = gaps.listing(ctx, False, lead)
    assert watched.calls == [(LICENCE + LIGHTS, False)]
    assert "待处理 2 组" in count and sorted(r[2] for r in rows) == ["2", "3"]
    expected = GapQueue(ctx.kb, ctx.settings.min_confidence).groups(Users(ctx.kb.records).get("zuzhang"))
    assert {frozenset(q.asked.question for q in g.questions) for g in expected} == {frozenset(LICENCE),
                                                                                  frozenset(LIGHTS)}
    assert [[str(g.id), g.typical] for g in expected] == [[r[0], r[5]] for r in rows]
    assert len(watched.calls) == 1, "cached vectors are not embedded again"

    again = "驾驶证过期了去哪里换"
    log_question(conn, "zhangsan", again, "no_answer", 0.2)
    licence = next(r[0] for r in rows if r[2] == "3")
    summary, asked, _, _ = gaps.detail(ctx, licence, lead)
    assert watched.calls[1:] == [([again], False)]
    assert {r[4] for r in asked} == {*LICENCE, again} and "问题 4 个" in summary
    log_question(conn, "zhangsan", "路灯一直不亮找哪个部门", "no_answer", 0.2)
    message = gaps.make_draft(ctx, licence, "", "持身份证到车管所换证。", "驾驶证", "", "", lead)
    assert "已生成草稿" in message
    gap_calls = [(texts, locked) for texts, locked in watched.calls if "路灯一直不亮找哪个部门" in texts]
    assert gap_calls == [(["路灯一直不亮找哪个部门"], False)]
