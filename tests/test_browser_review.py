"""The daily submit → review flow in a real browser (Debian's chromium, headless, 1366×768): staff
submit a case, the group lead edits and approves it and staff get the edited answer; a rejection's
reason reaches 我的提交; a day's sheet with a bad row shows that row's error in the preview; asking
about a replaced 口径 shows the replacement note, whether it was imported so or the lead made a
draft replace it from a date on the page. Screenshots go to ``test-screenshots/``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium (run scripts/system_deps.sh to install Debian's chromium)",
                allow_module_level=True)

from browsing import ask, browser, ctx, expect_tabs, log_in, open_tab, page, pick_draft, switch, url  # noqa: E402,F401
from fixtures import PASSWORD, make_xlsx  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from ingest.daily import read_cases  # noqa: E402
from kb.types import Entry  # noqa: E402
from kb.users import Users  # noqa: E402
from kb.workflow import Workflow  # noqa: E402
from web.app import PAGES  # noqa: E402

YESTERDAY = (date.today() - timedelta(days=1)).isoformat()
OLD_Q, OLD_A = "灵活就业人员医保怎么缴费？", "到社保大厅窗口现场缴纳灵活就业人员医保费。"
NEW_Q, NEW_A = "灵活就业人员医保现在怎么缴费？", "灵活就业人员医保费改为通过税务APP线上缴纳，窗口不再收取。"
FAQ = [["FAQ-YB1", OLD_Q, OLD_A, "灵活就业医保", "医保局", "", ""],
       ["FAQ-YB2", NEW_Q, NEW_A, "灵活就业医保", "医保局", "FAQ-YB1", YESTERDAY],
       ["FAQ-HZ", "第一次办护照需要带什么材料？", "携带本人身份证到出入境接待大厅现场采集照片和指纹。", "普通护照", "出入境", "", ""]]
FAQ_HEADERS = ["编号", "问题", "答复", "事项", "部门", "替代编号", "生效日期"]
SHEET = (FAQ, FAQ_HEADERS)
CASE_Q = "新生儿落户需要父母双方到场吗？"
CASE_A = "父母一方持出生医学证明和户口簿到派出所办理即可。"
EDITED_A = "父母一方持出生医学证明、户口簿和结婚证到派出所户籍窗口办理即可，无需双方到场。"


def test_staff_submits_a_case_the_lead_edits_and_approves_it_and_staff_get_the_edit(page, url, ctx):
    log_in(page, url, "zhangsan", PASSWORD)
    form = open_tab(page, "每日登记")
    form.get_by_label("问题（必填）").fill(CASE_Q)
    form.get_by_label("答复（必填）").fill(CASE_A)
    form.get_by_label("部门").fill("公安局")
    form.get_by_role("button", name="提交", exact=True).click()
    outcome = form.get_by_text(re.compile(r"已提交，编号 K\d{5}"))
    expect(outcome).to_be_visible()
    case_id = re.search(r"K\d{5}", outcome.inner_text())[0]
    page.shot("2-submitted")

    switch(page, url, "zuzhang", PASSWORD)
    review = open_tab(page, "审核")
    pick_draft(review, CASE_Q)
    answer = review.get_by_label("答复", exact=True)
    expect(answer).to_have_value(CASE_A)
    expect(review.get_by_label("部门", exact=True)).to_have_value("公安局")
    page.shot("3-picked")
    answer.fill(EDITED_A)
    review.get_by_role("button", name="保存修改并通过").click()
    expect(page.get_by_text(f"已修改答复并发布 {case_id}。")).to_be_visible()
    expect(review.get_by_label("答复", exact=True)).to_have_value("")
    page.shot("4-approved")
    assert ctx.kb.records.entry(case_id).answer == EDITED_A

    switch(page, url, "zhangsan", PASSWORD)
    open_tab(page, "窗口问答")
    ask(page, CASE_Q)
    expect(page.get_by_text(EDITED_A).first).to_be_visible()
    expect(page.get_by_text(f"编号 {case_id}").first).to_be_visible()
    page.shot("5-answer")
    assert CASE_A not in page.inner_text("body") and not page.dialogs


def test_a_rejection_reason_reaches_my_cases(page, url, ctx):
    staff = Users(ctx.kb.records).get("zhangsan")
    question = "身份证<b>过期</b>了还能坐火车吗？"
    draft = Workflow(ctx.kb).submit(staff, Entry("", question, "可以到车站公安制证口办理临时乘车证明。")).entry_id
    reason = "请补充依据：车站派出所的电话确认记录"
    log_in(page, url, "zuzhang", PASSWORD)
    review = open_tab(page, "审核")
    pick_draft(review, question)
    expect(review.get_by_text(f"问题：{question}")).to_be_visible()
    review.get_by_label("退回理由（必填）").fill(reason)
    page.shot("2-reason")
    review.get_by_role("button", name="驳回").click()
    expect(page.get_by_text(f"已退回 {draft}：{reason}")).to_be_visible()
    expect(review.get_by_role("gridcell", name=question)).to_have_count(0)

    switch(page, url, "zhangsan", PASSWORD)
    mine = open_tab(page, "每日登记")
    row = mine.get_by_role("row").filter(has_text=draft)
    expect(row).to_contain_text("已退回")
    expect(row).to_contain_text(reason)
    expect(row).to_contain_text("李组长")
    page.shot("3-my-cases")
    assert not page.dialogs


def test_a_bad_row_of_a_sheet_shows_its_error_in_the_preview(page, url, tmp_path):
    sheet = make_xlsx(tmp_path / "当天登记表.xlsx", [
        ["居住证签注可以代办吗？", "可以，代办人带委托书和双方身份证。", "居住证签注"],
        ["护照加急要多久？", None, "普通护照"],
    ], ["问题", "答复", "事项"])
    [(_, good, ready), (_, bad, error)] = read_cases(sheet)[0]
    assert good is not None and bad is None and error
    log_in(page, url, "zhangsan", PASSWORD)
    panel = open_tab(page, "每日登记")
    panel.get_by_role("button", name=re.compile("上传当天的登记表")).click()
    expect(panel.get_by_role("button", name="预览")).to_be_visible()
    panel.locator("input[type=file][accept*='.xlsx']").set_input_files(str(sheet))
    expect(panel.get_by_role("cell", name=sheet.name)).to_be_visible()
    panel.get_by_role("button", name="预览").click()
    expect(panel.get_by_role("row").filter(has_text="护照加急要多久？")).to_contain_text(error)
    expect(panel.get_by_role("row").filter(has_text="居住证签注可以代办吗？")).to_contain_text("可提交")
    page.shot("2-preview")


def test_asking_about_a_replaced_entry_shows_the_replacement(page, url):
    log_in(page, url, "zhangsan", PASSWORD)
    expect_tabs(page, [p.TITLE for p in PAGES if "staff" in p.ROLES])
    ask(page, OLD_Q)
    expect(page.get_by_text(re.compile(rf"原口径 FAQ-YB1.*自 {YESTERDAY} 起已由 FAQ-YB2 替代")).first).to_be_visible()
    expect(page.get_by_text(NEW_A).first).to_be_visible()
    page.shot("2-replaced")
    assert OLD_A not in page.inner_text("body")


def test_the_lead_makes_a_draft_replace_a_published_entry_from_a_date(page, url, ctx):
    staff = Users(ctx.kb.records).get("zhangsan")
    question, new_answer = "第一次办护照要带哪些材料？", "只需携带本人身份证，照片和指纹在出入境大厅现场采集，无需另带照片。"
    submitted = Workflow(ctx.kb).submit(staff, Entry("", question, new_answer, item="普通护照"))
    assert submitted.duplicate_of == "FAQ-HZ", "the draft should be flagged as a duplicate of the entry it replaces"
    log_in(page, url, "zuzhang", PASSWORD)
    review = open_tab(page, "审核")
    pick_draft(review, question)
    expect(review.get_by_text("草稿改动").first).to_be_visible()
    expect(review.get_by_text(re.compile("◆ 答复（不同）")).first).to_be_visible()
    review.get_by_label("替代已发布条目（编号）").fill("FAQ-HZ")
    review.get_by_label("自该日起生效（生效日期）").fill(YESTERDAY.replace("-", "/"))
    review.get_by_label("可能重复时确认两条都保留").check()
    page.shot("2-supersede")
    review.get_by_role("button", name="保存修改并通过").click()
    expect(page.get_by_text(f"自 {YESTERDAY} 起替代 FAQ-HZ")).to_be_visible()
    page.shot("3-approved")

    switch(page, url, "zhangsan", PASSWORD)
    ask(page, "第一次办护照需要带什么材料？")
    note = rf"原口径 FAQ-HZ.*自 {YESTERDAY} 起已由 {submitted.entry_id} 替代"
    expect(page.get_by_text(re.compile(note)).first).to_be_visible()
    expect(page.get_by_text(new_answer).first).to_be_visible()
    page.shot("4-replaced")
