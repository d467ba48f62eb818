"""The 审核 page: the queue and its filters, a draft beside its duplicate with the differences marked,
approve / edit then approve / supersede / reject / merge through the handlers and through the served
app's API, refused for staff, stored markup escaped."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, timedelta

import gradio as gr
import pytest
from fixtures import as_user, serving, PASSWORD

from kb.audit import events
from kb.types import Entry
from kb.users import Users
from kb.workflow import Workflow
from web import ask, review
from web.review_compare import ADDED, DIFFERS, REMOVED, highlighted
from web.review_edit import EDITED, changes, edit_approve, form_values
from web.app import PAGES, build_app, visible

RENEW_Q, RENEW_A = "居住证到期了怎么续签？", "携带身份证和居住证到居住地派出所办理签注，当场办结。"
PARAPHRASE, PARAPHRASE_A = "居住证过期了如何续签", "带上身份证去派出所签注就可以。"
HOSTILE = "<script>alert(1)</script>社保卡丢了怎么补办？"


def submit(ctx, question, answer, item="居住证", counter="一组") -> str:
    staff = Users(ctx.kb.records).get("zhangsan")
    result = Workflow(ctx.kb).submit(staff, Entry("", question, answer, item=item, counter=counter))
    assert result.status == "draft"
    return result.entry_id


def status(ctx, entry_id):
    state = ctx.kb.records.state(entry_id)
    return state.status, state.note


@pytest.fixture
def flagged(ctx):
    """A published 居住证续签 entry and a paraphrased draft flagged as its duplicate."""
    published = Workflow(ctx.kb).approve(Users(ctx.kb.records).get("zuzhang"), submit(ctx, RENEW_Q, RENEW_A))
    draft = submit(ctx, PARAPHRASE, PARAPHRASE_A, counter="二组")
    assert ctx.kb.records.state(draft).duplicate_of == published
    return published, draft


def test_the_queue_lists_drafts_filtered_by_group_and_item(ctx, flagged):
    published, draft = flagged
    other = submit(ctx, "护照丢了怎么补办？", "先到派出所挂失，再到出入境大厅申请补发。", item="护照")
    count, rows, picker, groups, items = review.refreshed(ctx, "全部", "全部", as_user("zuzhang"))
    assert "共 2 条" in count and [r[0] for r in rows] == [draft, other]
    assert rows[0][1:] == [PARAPHRASE, "居住证", "张三（窗口人员）", rows[0][4], published] and rows[0][4]
    assert groups.choices == [("全部", "全部"), ("一组", "一组"), ("二组", "二组")]
    assert [c[0] for c in items.choices] == ["全部", *sorted(["护照", "居住证"])]
    _, rows, picker, _, _ = review.refreshed(ctx, "二组", "全部", as_user("zuzhang"))
    assert [r[0] for r in rows] == [draft] and [c[0] for c in picker.choices] == [draft]
    _, rows, _, _, _ = review.refreshed(ctx, "全部", "护照", as_user("zuzhang"))
    assert [r[0] for r in rows] == [other]
    _, _, _, groups, _ = review.refreshed(ctx, "三组", "全部", as_user("zuzhang"))
    assert groups.value == "全部"
    with pytest.raises(gr.Error, match="无权"):
        review.refreshed(ctx, "全部", "全部", as_user("zhangsan"))


def test_a_flagged_draft_is_shown_beside_its_duplicate_with_the_differences(ctx, flagged):
    published, draft = flagged
    shown, other, diff, spans, mergeable, picked = review.detail(ctx, draft, as_user("zuzhang"))
    assert draft in shown and "过期了如何续签" in shown and published in other and "到期了怎么续签" in other
    assert mergeable and picked == ctx.kb.records.entry(draft)
    fields = {row[0]: row[1:] for row in diff}
    assert fields["问题"] == [PARAPHRASE, RENEW_Q] and fields["答复"] == [PARAPHRASE_A, RENEW_A]
    assert fields["窗口/组"] == ["二组", "一组"] and "事项" not in fields
    for block in (shown, other):
        assert f"**问题**{DIFFERS}" in block and f"**答复**{DIFFERS}" in block
        assert "**事项**：" in block and "**窗口/组**：" in block and DIFFERS not in block.replace(
            f"**问题**{DIFFERS}", "").replace(f"**答复**{DIFFERS}", "")
    assert review.detail(ctx, "", as_user("zuzhang"))[0] == review.NOTHING
    assert review.detail(ctx, "", as_user("zuzhang"))[-1] is None
    with pytest.raises(gr.Error, match="没有编号"):
        review.detail(ctx, "K99999", as_user("zuzhang"))


def test_a_reviewer_approves_a_draft(ctx):
    draft = submit(ctx, RENEW_Q, RENEW_A)
    assert review.approve(ctx, draft, False, False, as_user("zuzhang")) == f"已发布 {draft}。"
    assert status(ctx, draft)[0] == "published"
    with pytest.raises(gr.Error, match="只有待审核"):
        review.approve(ctx, draft, False, False, as_user("zuzhang"))


def test_a_flagged_draft_needs_keep_both_or_a_merge(ctx, flagged):
    published, draft = flagged
    with pytest.raises(gr.Error, match="可能与已发布"):
        review.approve(ctx, draft, False, False, as_user("zuzhang"))
    assert status(ctx, draft)[0] == "draft"
    assert "合并入" in review.merge(ctx, draft, "new", as_user("admin"))
    assert status(ctx, draft)[0] == "merged"
    merged = ctx.kb.records.entry(published)
    assert (merged.question, merged.answer, merged.alt_questions) == (PARAPHRASE, PARAPHRASE_A, (RENEW_Q,))


def test_merge_keeping_the_published_wording_and_merge_without_a_duplicate(ctx, flagged):
    published, draft = flagged
    review.merge(ctx, draft, "existing", as_user("zuzhang"))
    merged = ctx.kb.records.entry(published)
    assert (merged.question, merged.alt_questions) == (RENEW_Q, (PARAPHRASE,))
    lone = submit(ctx, "护照丢了怎么补办？", "先到派出所挂失，再到出入境大厅申请补发。", item="护照")
    with pytest.raises(gr.Error, match="没有被标记为重复"):
        review.merge(ctx, lone, "existing", as_user("zuzhang"))
    assert status(ctx, lone)[0] == "draft"


def test_reject_needs_a_reason(ctx):
    draft = submit(ctx, RENEW_Q, RENEW_A)
    for empty in ("", "   ", None):
        with pytest.raises(gr.Error, match="退回理由"):
            review.reject(ctx, draft, empty, as_user("zuzhang"))
    assert status(ctx, draft) == ("draft", "")
    assert "请补充依据" in review.reject(ctx, draft, "请补充依据", as_user("zuzhang"))
    assert status(ctx, draft) == ("rejected", "请补充依据")


def test_staff_cannot_review(ctx, flagged):
    published, draft = flagged
    for action in (lambda: review.approve(ctx, draft, True, False, as_user("zhangsan")),
                   lambda: review.reject(ctx, draft, "不行", as_user("zhangsan")),
                   lambda: review.merge(ctx, draft, "new", as_user("zhangsan")),
                   lambda: review.detail(ctx, draft, as_user("zhangsan"))):
        with pytest.raises(gr.Error, match="无权"):
            action()
    assert status(ctx, draft) == ("draft", "")
    assert ctx.kb.records.entry(published).question == RENEW_Q
    with pytest.raises(gr.Error, match="请先登录"):
        review.approve(ctx, draft, True, False, gr.Request(username=None))


def test_the_review_tab_is_only_for_reviewers(ctx):
    users = Users(ctx.kb.records)
    at = PAGES.index(review)
    assert visible(PAGES, users.get("zhangsan"))[at] is False
    assert visible(PAGES, users.get("zuzhang"))[at] and visible(PAGES, users.get("admin"))[at]


def test_stored_markup_is_escaped_in_the_detail(ctx):
    draft = submit(ctx, HOSTILE, "请到[点我](javascript:alert(1))办理。", item="社保卡")
    shown, *_ = review.detail(ctx, draft, as_user("zuzhang"))
    assert "<script>" not in shown and "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in shown
    assert "](javascript" not in shown


def test_the_served_api_refuses_staff_and_lets_a_reviewer_approve(ctx):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    draft = submit(ctx, RENEW_Q, RENEW_A)
    with serving(ctx) as url:
        staff = Client(url, auth=("zhangsan", PASSWORD), verbose=False)
        with pytest.raises(AppError, match="无权"):
            staff.predict(draft, True, True, "全部", "全部", api_name="/approve")
        with pytest.raises(AppError, match="无权"):
            staff.predict(draft, "不行", "全部", "全部", api_name="/reject")
        with pytest.raises(AppError, match="无权"):
            staff.predict(draft, True, True, "全部", "全部", *form(ctx, draft, answer="改了").values(),
                          api_name="/edit_approve")
        assert status(ctx, draft) == ("draft", "") and ctx.kb.records.entry(draft).answer == RENEW_A
        reviewer = Client(url, auth=("zuzhang", PASSWORD), verbose=False)
        result = reviewer.predict(draft, False, False, "全部", "全部", api_name="/approve")
        assert "共 0 条" in result[0]
        assert status(ctx, draft)[0] == "published"


def test_the_wording_differences_are_highlighted(ctx, flagged):
    published, draft = flagged
    spans = review.detail(ctx, draft, as_user("zuzhang"))[3]
    assert {label for _, label in spans} == {None, ADDED, REMOVED}
    assert "".join(t for t, label in spans if label != REMOVED) == f"【问题】{PARAPHRASE}　【答复】{PARAPHRASE_A}"
    assert "".join(t for t, label in spans if label != ADDED) == f"【问题】{RENEW_Q}　【答复】{RENEW_A}"
    revision = Workflow(ctx.kb).submit(Users(ctx.kb.records).get("zhangsan"),
                                       Entry("", "", RENEW_A + "周末照常办理。", basis="户政科"), revises=published)
    shown, other, diff, spans, mergeable, _ = review.detail(ctx, revision.entry_id, as_user("zuzhang"))
    assert [(t, label) for t, label in spans if label] == [("周末照常办理。", ADDED)]
    assert not mergeable and "修订的原条目" in other
    assert diff[-1] == ["依据", "户政科", ""] and f"**依据**{DIFFERS}：户政科" in shown and f"**依据**{DIFFERS}：（空）" in other
    entry = ctx.kb.records.entry(published)
    assert highlighted(entry, replace(entry, basis="户政科")) == [] and highlighted(entry, None) == []


def form(ctx, draft_id, **changed) -> dict:
    """The edit form's values as the page pre-fills them for ``draft_id``, with ``changed`` typed in."""
    return {**dict(zip(EDITED, form_values(ctx.kb.records.entry(draft_id)))), **changed}


def test_edit_then_approve_passes_only_the_changed_fields(ctx):
    staff = Users(ctx.kb.records).get("zhangsan")
    draft = Workflow(ctx.kb).submit(staff, Entry("", RENEW_Q, RENEW_A, item="居住证", tags=("居住证", "签注"),
                                                 effective_from="2026-11-03", basis="电话确认")).entry_id
    new_answer = "携带身份证到居住地派出所签注，也可在政务服务网办理。"
    values = form(ctx, draft, answer=f"  {new_answer} ", basis="", tags="居住证，签注",
                  effective_from="2026年11月3日", department="公安局")
    assert changes(ctx.kb.records.entry(draft), values) == {"answer": new_answer, "basis": "", "department": "公安局"}
    shown = edit_approve(ctx, draft, values, False, False, as_user("zuzhang"))
    assert shown == f"已修改答复、部门、依据并发布 {draft}。"
    entry, state = ctx.kb.records.entry(draft), ctx.kb.records.state(draft)
    assert (entry.answer, entry.department, entry.basis, entry.tags) == (new_answer, "公安局", "", ("居住证", "签注"))
    assert (state.status, state.version, state.reviewed_by) == ("published", 2, "zuzhang")
    edit = events(ctx.kb.records.conn, action="edit", target=draft)[0]
    assert set(edit.changes()) == {"answer", "department", "basis"}


def test_an_untouched_form_approves_the_draft_as_it_is(ctx):
    draft = submit(ctx, RENEW_Q, RENEW_A)
    assert edit_approve(ctx, draft, form(ctx, draft), False, False, as_user("admin")) == f"未修改任何字段，已发布 {draft}。"
    assert ctx.kb.records.state(draft).version == 1 and events(ctx.kb.records.conn, action="edit") == []


def test_edit_errors_are_shown_and_change_nothing(ctx, flagged):
    published, draft = flagged
    with pytest.raises(gr.Error, match="失效日期“下周五”不是有效的日期"):
        edit_approve(ctx, draft, form(ctx, draft, expire_on="下周五"), True, False, as_user("zuzhang"))
    with pytest.raises(gr.Error, match="答复不能为空"):
        edit_approve(ctx, draft, form(ctx, draft, answer="  "), True, False, as_user("zuzhang"))
    with pytest.raises(gr.Error, match="可能与已发布"):
        edit_approve(ctx, draft, form(ctx, draft, basis="户政科"), False, False, as_user("zuzhang"))
    with pytest.raises(gr.Error, match="选择一条待审核的草稿"):
        edit_approve(ctx, "", form(ctx, draft), True, False, as_user("zuzhang"))
    assert status(ctx, draft) == ("draft", "") and ctx.kb.records.entry(draft).basis == ""
    assert "已修改依据" in edit_approve(ctx, draft, form(ctx, draft, basis="户政科"), True, False, as_user("zuzhang"))


def test_staff_cannot_edit_and_approve(ctx):
    draft = submit(ctx, RENEW_Q, RENEW_A)
    for values in (form(ctx, draft, answer="改成我的答复"), form(ctx, draft, expire_on="不是日期")):
        with pytest.raises(gr.Error, match="无权"):
            edit_approve(ctx, draft, values, True, True, as_user("zhangsan"))
    assert status(ctx, draft) == ("draft", "") and ctx.kb.records.entry(draft).answer == RENEW_A


def test_edited_markup_is_stored_as_typed_and_shown_escaped(ctx, flagged):
    published, draft = flagged
    hostile = "请到[点我](javascript:alert(1))办理<img src=x onerror=alert(1)>。"
    shown = edit_approve(ctx, draft, form(ctx, draft, answer=hostile), True, False, as_user("zuzhang"))
    assert shown == f"已修改答复并发布 {draft}。" and ctx.kb.records.entry(draft).answer == hostile
    revision = Workflow(ctx.kb).submit(Users(ctx.kb.records).get("zhangsan"),
                                       Entry("", "", hostile + "<b>周末</b>"), revises=draft).entry_id
    shown, old, _, spans, _, _ = review.detail(ctx, revision, as_user("zuzhang"))
    assert "<img" not in shown and "](javascript" not in shown and "<b>" not in shown
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;" in shown and "&lt;b&gt;周末&lt;/b&gt;" in shown
    assert "<" not in old and "<b>周末</b>" in [t for t, label in spans if label == ADDED]


def test_supersede_a_published_entry_from_an_effective_date(ctx):
    reviewer = as_user("zuzhang")
    old = Workflow(ctx.kb).approve(Users(ctx.kb.records).get("zuzhang"), submit(ctx, RENEW_Q, RENEW_A))
    new_answer = "居住证签注已改为线上办理：登录政务服务网提交申请，无需到派出所。"
    draft = submit(ctx, "居住证签注现在怎么办理？", new_answer, counter="二组")
    with pytest.raises(gr.Error, match="没有编号为 K09999 的条目"):
        edit_approve(ctx, draft, form(ctx, draft, supersedes="K09999"), True, False, reviewer)
    with pytest.raises(gr.Error, match="生效日期“明天”不是有效的日期"):
        edit_approve(ctx, draft, form(ctx, draft, supersedes=old, effective_from="明天"), True, False, reviewer)
    start = (date.today() - timedelta(days=1)).isoformat()
    shown = edit_approve(ctx, draft, form(ctx, draft, supersedes=f" {old} ", effective_from=start.replace("-", "/")),
                         True, False, reviewer)
    assert shown == f"已修改替代编号、生效日期并发布 {draft}，自 {start} 起替代 {old}。"
    entry = ctx.kb.records.entry(draft)
    assert (entry.supersedes, entry.effective_from) == (old, start)
    chat, *_ = ask.ask(ctx, RENEW_Q, "全部", "全部", [], as_user("zhangsan"))
    assert f"已由 {draft} 替代" in chat[-1]["content"] and "政务服务网" in chat[-1]["content"]


def test_a_second_successor_needs_confirming(ctx):
    reviewer = as_user("zuzhang")
    old = Workflow(ctx.kb).approve(Users(ctx.kb.records).get("zuzhang"), submit(ctx, RENEW_Q, RENEW_A))
    first = submit(ctx, "居住证签注明年起怎么办？", "自明年起在政务服务网线上签注。", counter="二组")
    edit_approve(ctx, first, form(ctx, first, supersedes=old, effective_from="2099-01-01"), True, False, reviewer)
    second = submit(ctx, "居住证签注改到哪里办？", "改到街道便民服务中心办理签注。", counter="三组")
    with pytest.raises(gr.Error, match=f"{old} 已有将于 2099-01-01 生效的新口径 {first}"):
        edit_approve(ctx, second, form(ctx, second, supersedes=old), True, False, reviewer)
    assert status(ctx, second) == ("draft", "")
    shown = edit_approve(ctx, second, form(ctx, second, supersedes=old), True, True, reviewer)
    assert shown == f"已修改替代编号并发布 {second}，自 发布之日 起替代 {old}。"


def test_the_other_wordings_can_be_edited(ctx):
    draft = submit(ctx, RENEW_Q, RENEW_A)
    edit_approve(ctx, draft, form(ctx, draft, alt_questions="居住证过期\n居住证怎么续"), False, False, as_user("zuzhang"))
    assert ctx.kb.records.entry(draft).alt_questions == ("居住证过期", "居住证怎么续")


def fired_by(app, block, event):
    """The handler the app runs on ``event`` of ``block``."""
    return next(f for f in app.fns.values() if (block._id, event) in f.targets)


def test_the_edit_form_is_closed_until_a_draft_is_picked(ctx):
    """The served page opens with the form closed (the queue near the top); picking a draft opens it
    filled in, and clearing the pick or finishing a review closes it again."""
    draft = submit(ctx, RENEW_Q, RENEW_A)
    app = build_app(ctx)
    panel = next(b for b in app.blocks.values() if isinstance(b, gr.Accordion) and b.label == review.EDIT_TITLE)
    picker = next(b for b in app.blocks.values() if isinstance(b, gr.Dropdown) and b.label.startswith("选择草稿"))
    served = {c["id"]: c["props"] for c in app.get_config_file()["components"]}
    assert served[panel._id]["open"] is False
    show = fired_by(app, picker, "change")

    def shown(value):
        result = asyncio.run(app.process_api(show, [value], request=as_user("zuzhang")))
        return dict(zip([o._id for o in show.outputs], result["data"]))

    opened = shown(draft)
    assert opened[panel._id] == {"__type__": "update", "open": True}
    form_ids = [o._id for o in show.outputs][-len(EDITED):]
    assert [opened[i] for i in form_ids][:2] == [RENEW_Q, RENEW_A]
    assert shown(None)[panel._id] == {"__type__": "update", "open": False}
    approve = fired_by(app, next(b for b in app.blocks.values() if isinstance(b, gr.Button) and b.value == "通过"),
                       "click")
    done = asyncio.run(app.process_api(approve, [draft, False, False, "全部", "全部"], request=as_user("zuzhang")))
    assert dict(zip([o._id for o in approve.outputs], done["data"]))[panel._id] == {"__type__": "update", "open": False}
