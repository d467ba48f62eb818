"""The 审核 page: the queue and its filters, a draft beside its duplicate, approve / reject / merge
through the handlers and through the served app's API, refused for staff, stored markup escaped."""

from __future__ import annotations

import gradio as gr
import pytest
from fixtures import as_user, serving, PASSWORD

from kb.types import Entry
from kb.users import Users
from kb.workflow import Workflow
from web import review
from web.app import PAGES, visible

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
    shown, other, diff, mergeable = review.detail(ctx, draft, as_user("zuzhang"))
    assert draft in shown and "过期了如何续签" in shown and published in other and "到期了怎么续签" in other
    assert mergeable
    fields = {row[0]: row[1:] for row in diff}
    assert fields["问题"] == [PARAPHRASE, RENEW_Q] and fields["答复"] == [PARAPHRASE_A, RENEW_A]
    assert fields["窗口/组"] == ["二组", "一组"] and "事项" not in fields
    assert review.detail(ctx, "", as_user("zuzhang"))[0] == review.NOTHING
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
    shown, _, _, _ = review.detail(ctx, draft, as_user("zuzhang"))
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
        assert status(ctx, draft) == ("draft", "")
        reviewer = Client(url, auth=("zuzhang", PASSWORD), verbose=False)
        result = reviewer.predict(draft, False, False, "全部", "全部", api_name="/approve")
        assert "共 0 条" in result[0]
        assert status(ctx, draft)[0] == "published"
