"""The 每日登记 page: the case form (required fields, dates, duplicates, revisions), a day's sheet
previewed then submitted with a bad row, 我的提交 with the reviewer's reason, and the served API."""

from __future__ import annotations

import gradio as gr
import pytest
from fixtures import as_user, serving, PASSWORD, make_xlsx

from kb.types import Entry
from kb.users import Users
from kb.workflow import Workflow
from web import entry

RENEW_Q, RENEW_A = "居住证到期了怎么续签？", "携带身份证和居住证到居住地派出所办理签注，当场办结。"
PASSPORT_Q, PASSPORT_A = "护照丢了怎么补办？", "先到派出所挂失，再到出入境大厅申请补发。"
HEADERS = ["问题", "答复", "事项", "日期"]


def submit(ctx, user="zhangsan", **fields) -> str:
    """Call the form handler with the fields given by name (the others empty)."""
    names = ("question", "answer", "item", "department", "basis", "supersedes", "effective_from", "expire_on",
             "tags", "alternatives", "revises")
    return entry.submit_case(ctx, *(fields.get(n, "") for n in names), as_user(user))


def user(ctx, name):
    return Users(ctx.kb.records).get(name)


def test_staff_submits_a_case_as_a_draft_they_own(ctx):
    shown = submit(ctx, question=RENEW_Q, answer=RENEW_A, item="居住证", department="公安局", basis="户政科电话确认",
                   effective_from="2026年11月3日", tags="居住证，签注、续签", alternatives="居住证过期\n 居住证怎么续 \n")
    drafts = Workflow(ctx.kb).drafts()
    assert len(drafts) == 1
    draft, state = drafts[0]
    assert shown == f"已提交，编号 {draft.id}，等待组长审核。"
    assert state.created_by == "zhangsan" and draft.submitter == "张三（窗口人员）"
    assert (draft.item, draft.department, draft.basis, draft.effective_from) == ("居住证", "公安局", "户政科电话确认",
                                                                                "2026-11-03")
    assert draft.tags == ("居住证", "签注", "续签") and draft.alt_questions == ("居住证过期", "居住证怎么续")
    rows = entry.mine(ctx, as_user("zhangsan"))
    assert rows == [[draft.id, RENEW_Q, "待审核", "", "", draft.date]]
    assert entry.mine(ctx, as_user("zuzhang")) == []
    assert entry.items(ctx) == ["居住证"]


def test_an_empty_answer_warns_and_submits_nothing(ctx):
    for empty in ("", "   ", None):
        with pytest.warns(UserWarning, match="请填写答复"):
            assert submit(ctx, question=RENEW_Q, answer=empty) == ""
    with pytest.warns(UserWarning, match="请填写问题和答复"):
        submit(ctx)
    assert Workflow(ctx.kb).drafts() == []


def test_an_unreadable_date_names_the_field_and_the_accepted_forms(ctx):
    with pytest.raises(gr.Error, match="生效日期.*2026年11月3日"):
        submit(ctx, question=RENEW_Q, answer=RENEW_A, effective_from="下个月一号")
    with pytest.raises(gr.Error, match="失效日期"):
        submit(ctx, question=RENEW_Q, answer=RENEW_A, expire_on="2026-02-30")
    assert Workflow(ctx.kb).drafts() == []


def test_a_possible_duplicate_is_flagged_and_a_revision_keeps_the_rest(ctx):
    first = Workflow(ctx.kb).submit(user(ctx, "zhangsan"), Entry("", RENEW_Q, RENEW_A, item="居住证", basis="户政科"))
    published = Workflow(ctx.kb).approve(user(ctx, "zuzhang"), first.entry_id)
    shown = submit(ctx, question="居住证过期了如何续签", answer="带上身份证去派出所签注就可以。", item="居住证")
    assert f"可能与已发布的 {published} 重复" in shown
    assert "未重复存储" in submit(ctx, question=RENEW_Q, answer=RENEW_A, item="居住证")
    revision = submit(ctx, answer="携带身份证到派出所签注，也可以在政务服务网上办理。", revises=published)
    assert "等待组长审核" in revision
    draft, state = Workflow(ctx.kb).drafts()[-1]
    assert state.revises == published and (draft.question, draft.basis) == (RENEW_Q, "户政科")


def test_a_sheet_is_previewed_and_its_good_rows_submitted(ctx, tmp_path):
    sheet = make_xlsx(tmp_path / "11月28日登记表.xlsx",
                      [[RENEW_Q, RENEW_A, "居住证", "2026-11-28"], [PASSPORT_Q, None, "护照", "2026-11-28"]], HEADERS)
    rows = entry.preview(ctx, str(sheet), as_user("zhangsan"))
    assert [r[1:] for r in rows] == [[RENEW_Q, "居住证", entry.READY], [PASSPORT_Q, "护照", rows[1][3]]]
    assert "答案为空" in rows[1][3] and rows[1][0] in rows[1][3]
    assert Workflow(ctx.kb).drafts() == []
    shown = entry.submit_sheet(ctx, str(sheet), as_user("zhangsan"))
    drafts = Workflow(ctx.kb).drafts()
    assert len(drafts) == 1 and drafts[0][0].question == RENEW_Q and drafts[0][1].created_by == "zhangsan"
    assert "已提交 1 条" in shown and "未提交 1 行" in shown and "答案为空" in shown
    assert drafts[0][0].source == sheet.name
    assert [r[0] for r in entry.mine(ctx, as_user("zhangsan"))] == [drafts[0][0].id]


def test_an_unreadable_sheet_is_refused_with_the_reason(ctx, tmp_path):
    broken = tmp_path / "登记表.xlsx"
    broken.write_bytes(b"not a workbook")
    for handler in (entry.preview, entry.submit_sheet):
        with pytest.raises(gr.Error, match="登记表“登记表.xlsx”无法读取") as caught:
            handler(ctx, str(broken), as_user("zhangsan"))
        assert str(tmp_path) not in str(caught.value)
    no_columns = make_xlsx(tmp_path / "其他.xlsx", [["甲", "乙"]], ["姓名", "电话"])
    with pytest.raises(gr.Error, match="无法读取"):
        entry.preview(ctx, str(no_columns), as_user("zhangsan"))
    with pytest.warns(UserWarning, match="请先上传"):
        assert entry.preview(ctx, None, as_user("zhangsan")) == []
    assert Workflow(ctx.kb).drafts() == []


def test_my_cases_show_the_rejection_and_its_reason(ctx):
    submit(ctx, question=RENEW_Q, answer=RENEW_A, item="居住证")
    draft_id = Workflow(ctx.kb).drafts()[0][0].id
    Workflow(ctx.kb).reject(user(ctx, "zuzhang"), draft_id, "请补充<b>依据</b>的文号")
    [row] = entry.mine(ctx, as_user("zhangsan"))
    assert row[:5] == [draft_id, RENEW_Q, "已退回", "李组长（组长/培训师）", "请补充<b>依据</b>的文号"]


def test_the_page_needs_a_login(ctx):
    with pytest.raises(gr.Error, match="请先登录"):
        submit(ctx, user=None, question=RENEW_Q, answer=RENEW_A)
    with pytest.raises(gr.Error, match="请先登录"):
        entry.mine(ctx, gr.Request(username=None))
    assert Workflow(ctx.kb).drafts() == []


def test_the_served_api_refuses_anonymous_callers_and_takes_a_staff_case(ctx):
    from gradio_client import Client
    from gradio_client.exceptions import AppError, AuthenticationError

    from web.context import Context

    served = Context(ctx.kb, ctx.settings, pages=(entry,))
    with serving(served) as url:
        with pytest.raises(AuthenticationError):
            Client(url, verbose=False).predict(RENEW_Q, RENEW_A, "", "", "", "", "", "", "", "", "",
                                               api_name="/submit_case")
        assert Workflow(ctx.kb).drafts() == []
        staff = Client(url, auth=("zhangsan", PASSWORD), verbose=False)
        shown, mine, _ = staff.predict(RENEW_Q, RENEW_A, "居住证", "", "", "", "", "", "", "", "",
                                       api_name="/submit_case")
        [(draft, state)] = Workflow(ctx.kb).drafts()
        assert draft.id in shown and state.created_by == "zhangsan"
        assert mine["data"][0][:3] == [draft.id, RENEW_Q, "待审核"]
        with pytest.raises(AppError, match="生效日期"):
            staff.predict(PASSPORT_Q, PASSPORT_A, "", "", "", "", "明天", "", "", "", "", api_name="/submit_case")
