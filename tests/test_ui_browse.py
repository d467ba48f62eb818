"""The 知识库 page and the history block: listing by role, filters and pages, an entry and a document
opened, stored markup escaped, the history with its differences, and rollback through the handlers
and the served API (refused for staff, done with a required reason by a reviewer)."""

from __future__ import annotations

import gradio as gr
import pytest
from fixtures import PASSWORD, as_user, drop_collection, serving
from test_catalog import DOC_TITLE, DRAFT_Q, ROWS, build_library, library  # noqa: F401  (module fixture)

from kb.audit import events
from kb.catalog import PUBLISHED_STANDINGS, STANDINGS, Catalog
from kb.types import Filters
from kb.users import Users
from web import browse, history
from web.context import plain

STAFF, REVIEWER = as_user("zhangsan"), as_user("zuzhang")
NO_FILTERS = ("", "全部", "全部", "全部", "全部", "", "")


@pytest.fixture
def fresh(tmp_path, embedder):
    """A library of its own, for the tests that roll back."""
    found = build_library(tmp_path, embedder)
    yield found
    drop_collection(found.ctx.kb)
    found.ctx.kb.close()


def listed(ctx, request, *, text="", kind="全部", item="全部", department="全部", standing="全部", start="",
           end="", page=1):
    return browse.listing(ctx, text, kind, item, department, standing, start, end, page, request)


def test_staff_list_published_knowledge_only_whatever_the_form_says(library):
    staff = listed(library.ctx, STAFF, standing="draft")
    assert staff.rows == [] and staff.total == 0
    everything = {r.id for r in listed(library.ctx, STAFF).rows}
    assert library.draft not in everything and "DEL-1" not in everything and "GJJ-OLD" in everything
    reviewer = {r.id for r in listed(library.ctx, REVIEWER, standing="draft").rows}
    assert reviewer == {library.draft}
    users = Users(library.ctx.kb.records)
    assert [key for _, key in browse.standings(users.get("zhangsan"))] == ["全部", *PUBLISHED_STANDINGS]
    assert [key for _, key in browse.standings(users.get("zuzhang"))] == ["全部", *STANDINGS]


def test_filters_pages_and_the_page_line(library):
    found = listed(library.ctx, STAFF, item="公积金提取")
    assert {r.id for r in found.rows} == {"GJJ-OLD", "GJJ-NEW"} and browse.summary(found) == "第 1/1 页，共 2 条"
    by_date = listed(library.ctx, STAFF, kind="entry", start="2026年2月1日", end="2026/3/15")
    assert {r.id for r in by_date.rows} == {r[0] for r in ROWS if "2026-02-01" <= r[5] <= "2026-03-15"}
    whole = Catalog(library.ctx.kb.records).list(drafts=True, page_size=200)
    second = listed(library.ctx, REVIEWER, page=2)
    assert second.pages == 2 and second.page_size == browse.PAGE_SIZE
    assert browse.summary(second) == f"第 2/{second.pages} 页，共 {whole.total} 条"
    assert [r.id for r in second.rows] == [r.id for r in whole.rows[second.page_size:2 * second.page_size]]
    assert listed(library.ctx, REVIEWER, page=1000).page == second.pages
    table = browse.rows(listed(library.ctx, STAFF, text="GJJ-OLD"))
    assert table == [["条目", "GJJ-OLD", "公积金怎么提取？", "公积金提取", "公积金中心", "2026-01-05",
                      STANDINGS["superseded"], "1"]]
    with pytest.raises(gr.Error, match="起始日期"):
        listed(library.ctx, STAFF, start="下周一")


def test_a_stored_script_is_escaped_when_an_entry_is_opened(library):
    shown, document, passages, entry_id = browse.opened(library.ctx, "SB-XSS", STAFF)
    assert entry_id == "SB-XSS" and document == "" and passages == []
    assert "<script>" not in shown and "&lt;script&gt;" in shown and "](javascript" not in shown
    listed_row = browse.rows(listed(library.ctx, STAFF, text="SB-XSS"))[0]
    assert "<script>alert(1)</script>" not in listed_row[2], "the table shows the question, not the answer"


def test_staff_cannot_open_drafts_nor_see_history_nor_roll_back(library):
    for hidden in (library.draft, library.rejected, "DEL-1"):
        with pytest.raises(gr.Error, match="没有编号"):
            browse.opened(library.ctx, hidden, STAFF)
    assert browse.opened(library.ctx, library.draft, REVIEWER)[3] == library.draft
    visible, *rest = history.history(library.ctx, "QZ-1", STAFF)
    assert visible is False and rest == ["", [], [], [], False, []]
    with pytest.raises(gr.Error, match="无权"):
        history.rollback(library.ctx, "QZ-1", "1", "想回滚", STAFF)
    assert library.ctx.kb.records.state("QZ-1").version == 2


def test_a_document_shows_its_source_file_and_passages(library):
    doc = Catalog(library.ctx.kb.records).list(filters=Filters(kind="document")).rows[0].id
    entry_text, shown, passages, entry_id = browse.opened(library.ctx, doc, STAFF)
    assert entry_text == "" and entry_id == ""
    assert plain(DOC_TITLE) in shown and plain(library.docx.name) in shown
    assert plain(str(library.docx)) in shown and "2026\\-02\\-01" in shown
    assert [row[0] for row in passages] == [str(n) for n in range(1, len(passages) + 1)]
    assert "有关事项通知如下" in passages[0][2] and "二、办理地点" in passages[-1][1]


def test_the_history_shows_every_version_and_their_differences(library):
    visible, state, versions, changes, logged, offered, earlier = history.history(library.ctx, "QZ-1", REVIEWER)
    assert visible and offered and earlier == ["1"]
    assert "第 2 版" in state and "共保存 2 个版本" in state
    assert [v[0] for v in versions] == ["1", "2"] and versions[0][2] == "本机管理员（管理员）"
    assert versions[1][2] == "李组长（组长/培训师）" and "答复" in versions[1][6].split("、")
    assert versions[1][5].startswith("到居住地派出所或政务服务中心")
    assert ["第 2 版", "答复", ROWS[2][2], versions[1][5]] in changes
    assert {c[1] for c in changes} == set(versions[1][6].split("、"))
    assert [e[2] for e in logged][:1] == ["审核发布"]
    assert history.changes([]) == []


def test_a_reviewer_rolls_back_with_a_reason(fresh):
    ctx = fresh.ctx
    with pytest.raises(gr.Error, match="理由"):
        history.rollback(ctx, "QZ-1", "1", "  ", REVIEWER)
    with pytest.raises(gr.Error, match="版本"):
        history.rollback(ctx, "QZ-1", None, "理由", REVIEWER)
    message = history.rollback(ctx, "QZ-1", "1", "新口径未经批准", REVIEWER)
    assert "第 3 版" in message
    assert ctx.kb.records.entry("QZ-1").answer == ROWS[2][2]
    last = events(ctx.kb.records.conn, target="QZ-1", limit=1)[0]
    assert (last.action, last.actor, last.reason) == ("rollback", "zuzhang", "新口径未经批准")
    _, _, versions, changes, _, _, earlier = history.history(ctx, "QZ-1", REVIEWER)
    assert [v[0] for v in versions] == ["1", "2", "3"] and versions[2][3] == "回滚" and earlier == ["1", "2"]
    assert ["第 3 版", "答复", versions[1][5], ROWS[2][2]] in changes
    with pytest.raises(gr.Error, match="只能引用已发布"):
        history.rollback(ctx, fresh.draft, "1", "不行", REVIEWER)


def test_the_served_api_refuses_staff_and_lets_a_reviewer_roll_back(fresh):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    with serving(fresh.ctx) as url:
        staff = Client(url, auth=("zhangsan", PASSWORD), verbose=False)
        count, table = staff.predict(*NO_FILTERS, api_name="/browse")
        assert fresh.draft not in str(table["data"]) and "共" in count
        with pytest.raises(AppError, match="没有编号"):
            staff.predict(fresh.draft, api_name="/open_item")
        with pytest.raises(AppError, match="无权"):
            staff.predict("QZ-1", "1", "想回滚", api_name="/rollback")
        with pytest.raises(AppError, match="无权"):
            staff.predict("", "", "", api_name="/rollback")
        assert fresh.ctx.kb.records.state("QZ-1").version == 2
        reviewer = Client(url, auth=("zuzhang", PASSWORD), verbose=False)
        count, table = reviewer.predict("", "全部", "全部", "全部", "draft", "", "", api_name="/browse")
        assert DRAFT_Q in str(table["data"]) and "共 1 条" in count
        reviewer.predict("QZ-1", "1", "新口径未经批准", api_name="/rollback")
    assert fresh.ctx.kb.records.state("QZ-1").version == 3
