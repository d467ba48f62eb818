"""Hostile input a counter could type or upload on the 窗口问答, 每日登记, 审核, 知识库, 知识缺口, 词表 and
每日汇总 pages: each is refused with a Chinese ``gr.Error`` naming the field and the fix (never a Python
or SQLite error, never minutes of the knowledge base's lock held), nothing stored is changed, and
ordinary input next to it still goes through."""

from __future__ import annotations

from datetime import date, timedelta

import gradio as gr
import pytest
from fixtures import as_user, make_csv
from test_ui_lexicon import finished

from kb.asklog import log_question
from kb.lexicon import stored_lines
from kb.types import Entry
from kb.users import Users
from kb.workflow import Workflow
from web import ask, browse, digest, gaps, history, lexicon, review
from web.downloads import Downloads
from web.entry import submit_case
from web.review_edit import edit_approve

STAFF, REVIEWER = as_user("zhangsan"), as_user("zuzhang")
PASTED = "居住证" * 33_334
"""A pasted document of 100k characters."""
QUESTION, ANSWER = "居住证到期了怎么续签？", "携带身份证和居住证到居住地派出所办理签注，当场办结。"


def submitted(ctx, question=QUESTION, answer=ANSWER, revises="") -> str:
    staff = Users(ctx.kb.records).get("zhangsan")
    return Workflow(ctx.kb).submit(staff, Entry("", question, answer, item="居住证"), revises=revises).entry_id


def published(ctx, question=QUESTION, answer=ANSWER, revises="") -> str:
    return Workflow(ctx.kb).approve(Users(ctx.kb.records).get("zuzhang"), submitted(ctx, question, answer, revises))


def stored(ctx) -> list:
    return ctx.kb.records.conn.execute("SELECT id, status, version FROM entries ORDER BY id").fetchall()


def case(ctx, question, answer, request=STAFF):
    return submit_case(ctx, question, answer, "居住证", "", "", "", "", "", "", "", "", request)


def test_a_pasted_document_is_refused_as_a_question_and_nothing_is_logged(ctx):
    published(ctx)
    with pytest.raises(gr.Error, match="问题太长（100002 字），请只写要问的事，500 字以内"):
        ask.ask(ctx, PASTED, "全部", "全部", [], STAFF)
    assert ctx.kb.records.conn.execute("SELECT COUNT(*) FROM asklog").fetchone()[0] == 0
    messages, box, _, logged, _ = ask.ask(ctx, f"  {QUESTION}  ", None, None, None, STAFF)
    assert box == "" and len(logged) == 1 and "派出所" in messages[-1]["content"]


def test_an_overlong_case_names_the_field_and_stores_nothing(ctx):
    before = stored(ctx)
    with pytest.raises(gr.Error, match="答复太长（100002 字），请压缩到 5000 字以内"):
        case(ctx, QUESTION, PASTED)
    with pytest.raises(gr.Error, match="问题太长（100002 字）"):
        case(ctx, PASTED, ANSWER)
    for field in range(2, 10):
        form = [QUESTION, ANSWER, "", "", "", "", "", "", "", "", ""]
        form[field] = PASTED
        with pytest.raises(gr.Error, match=r"(事项|部门|依据|替代编号|生效日期|失效日期|标签|其他问法)(太长|“)"):
            submit_case(ctx, *form, STAFF)
    assert stored(ctx) == before
    assert "已提交" in case(ctx, QUESTION, "答" * 5000)


def test_an_overlong_edit_on_review_leaves_the_draft_as_it_was(ctx):
    draft = submitted(ctx)
    with pytest.raises(gr.Error, match="答复太长"):
        edit_approve(ctx, draft, {"question": QUESTION, "answer": PASTED}, False, False, REVIEWER)
    assert ctx.kb.records.state(draft).status == "draft" and ctx.kb.records.entry(draft).answer == ANSWER
    assert "已修改答复并发布" in edit_approve(ctx, f" {draft} ", {"answer": ANSWER + "周末也可以办理。"}, False, False,
                                              REVIEWER)


def test_an_overlong_gap_draft_is_refused_and_the_gap_stays_open(ctx):
    with ctx.kb.records.transaction(changes_index=False) as conn:
        log_question(conn, "zhangsan", "路灯不亮了向哪个部门反映", "no_answer", 0.1, "", "web")
    _, rows, ids = gaps.listing(ctx, False, REVIEWER)
    before = stored(ctx)
    with pytest.raises(gr.Error, match="答复太长"):
        gaps.make_draft(ctx, ids[0], "路灯不亮了找谁", PASTED, "", "", "", REVIEWER)
    assert stored(ctx) == before and gaps.listing(ctx, False, REVIEWER)[1] == rows


def test_a_long_search_text_is_refused_in_chinese_not_by_sqlite(ctx):
    entry_id = published(ctx)
    with pytest.raises(gr.Error, match="搜索文字太长（100002 字），请只输入要找的几个词"):
        browse.listing(ctx, PASTED, None, None, None, None, "", "", 1, STAFF)
    found = browse.listing(ctx, "  居住证 续签 ", None, None, None, None, "", "", 1, STAFF)
    assert [r.id for r in found.rows] == [entry_id]


def test_a_typed_version_or_id_with_spaces_rolls_back_and_a_strange_digit_is_refused(ctx):
    entry_id = published(ctx)
    published(ctx, answer=ANSWER + "周末也可以办理。", revises=entry_id)
    assert ctx.kb.records.state(entry_id).version == 2
    with pytest.raises(gr.Error, match="请先选择要回滚到的版本"):
        history.rollback(ctx, entry_id, "²", "口径写错了", REVIEWER)
    assert ctx.kb.records.state(entry_id).version == 2
    assert "发布为第 3 版" in history.rollback(ctx, f" {entry_id} ", " 1 ", "口径写错了", REVIEWER)
    assert ctx.kb.records.entry(entry_id).answer == ANSWER
    assert history.history(ctx, f"{entry_id} ", REVIEWER)[0]


def test_a_pasted_draft_id_with_spaces_is_the_draft(ctx):
    draft = submitted(ctx)
    shown = review.detail(ctx, f" {draft}\n", REVIEWER)
    assert shown[-1] is not None and shown[-1].id == draft
    assert review.approve(ctx, f"{draft} ", False, False, REVIEWER) == f"已发布 {draft}。"


def test_a_digest_day_years_ahead_is_refused_in_chinese_and_tomorrow_is_previewed(ctx):
    with pytest.raises(gr.Error, match="汇总日期 9999-12-31 太远：每日汇总只能预览 366 天以内"):
        digest.make_digest(ctx, "9999-12-31", REVIEWER, Downloads("kb-digest-test-"))
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    markdown, _, _ = digest.make_digest(ctx, tomorrow, REVIEWER, Downloads("kb-digest-test-"))
    assert tomorrow in markdown


def test_a_bad_lexicon_file_is_named_without_the_servers_path(ctx, tmp_path):
    broken = tmp_path / "词表.xlsx"
    broken.write_bytes(b"\x00\x01not a workbook" * 50)
    for file in (broken, tmp_path / "不存在.xlsx"):
        with pytest.raises(gr.Error) as refused:
            lexicon.start_import(ctx, str(file), REVIEWER)
        assert refused.value.message.startswith(f"词表文件“{file.name}”无法读取：")
        assert str(tmp_path) not in refused.value.message
    assert stored_lines(ctx.kb.records.conn) == []
    gbk = make_csv(tmp_path / "本地词表.csv", [["社会保障卡", "养老卡"]], ["规范用语", "其他说法"], encoding="gbk")
    lexicon.start_import(ctx, str(gbk), REVIEWER)
    assert "已补充 1 行" in finished(ctx).status
