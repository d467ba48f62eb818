"""The knowledge-gap loop in a real browser (Debian's chromium, headless, 1366×768): staff ask two
wordings of a question the knowledge base cannot answer, rate the first 没用 with its thumb and the
latest with the button, giving the correct answer; the group lead opens 知识缺口, turns the gap into a
draft in one step (question and answer prefilled), approves it in 审核; staff ask a third wording and
get the new entry. Screenshots go to ``test-screenshots/``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium (run scripts/system_deps.sh to install Debian's chromium)",
                allow_module_level=True)

from browsing import approve_in_review, ask, browser, ctx, log_in, open_tab, page, switch, url  # noqa: E402,F401
from fixtures import PASSWORD  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from kb.feedback import ratings  # noqa: E402
from web import ask as ask_page  # noqa: E402
from web import gaps, review  # noqa: E402

FAQ = [["FAQ-QZ", "居住证签注怎么办理？", "到居住地派出所户籍窗口办理签注，需本人到场，当场办结。", "居住证签注", "公安局"],
       ["FAQ-HZ", "第一次办护照需要带什么材料？", "携带本人身份证到出入境接待大厅现场采集照片和指纹。", "普通护照", "出入境"]]
SHEET = (FAQ, ["编号", "问题", "答复", "事项", "部门"])
SERVED = (ask_page, review, gaps)
QUESTION = "驾驶证到期了怎么换？"
AGAIN = "驾照快过期了，换新证需要什么材料"
NEXT = "驾驶证到期换证要带什么"
CORRECT = "驾驶证有效期满前90日内，持身份证和体检证明到车管所或交管12123申请换证，当场办结。"


def slowed(rate, seconds: float):
    """``rate`` (web.ask.rate_answer) answering ``seconds`` late, as on a loaded server."""
    def late(*args, **kwargs):
        time.sleep(seconds)
        return rate(*args, **kwargs)
    return late


def test_a_rated_gap_becomes_an_entry_that_answers_the_next_asker(page, url, ctx, monkeypatch):
    monkeypatch.setattr(ask_page, "rate_answer", slowed(ask_page.rate_answer, 1.0))
    log_in(page, url, "zhangsan", PASSWORD)
    expect(page.get_by_role("tab", name="知识缺口", exact=True)).to_have_count(0)
    for number, text in enumerate((QUESTION, AGAIN), 1):
        ask(page, text)
        expect(page.get_by_text("暂无可靠答案")).to_have_count(number)
    page.get_by_role("button", name=re.compile("^(踩|Dislike)$")).first.click()
    page.get_by_label("原因（可选）").fill("没有答案")  # typed while the thumb's rating is on its way:
    page.get_by_label("正确答案（可选）").fill(CORRECT)  # its late update must not empty the boxes
    expect(page.get_by_text(f"已将“{QUESTION}”的回答评为")).to_be_visible()
    expect(page.get_by_label("原因（可选）")).to_have_value("没有答案")
    expect(page.get_by_label("正确答案（可选）")).to_have_value(CORRECT)
    page.shot("2-refused")
    page.get_by_role("button", name="没用", exact=True).click()
    expect(page.get_by_text(f"已将“{AGAIN}”的回答评为")).to_be_visible()
    expect(page.get_by_label("正确答案（可选）")).to_have_value("")
    page.shot("3-rated")
    assert "无权执行" not in page.inner_text("body"), "the hidden 知识缺口 page's handler refused staff"
    logged = ctx.kb.records.conn.execute("SELECT MAX(id) FROM asklog").fetchone()[0]
    assert ratings(ctx.kb.records.conn, [logged])[logged].correct == CORRECT

    switch(page, url, "zuzhang", PASSWORD)
    panel = open_tab(page, "知识缺口")
    expect(panel.get_by_text("待处理 1 组")).to_be_visible()
    panel.get_by_role("gridcell", name="待处理").click()
    expect(panel.get_by_text(re.compile("缺口 1："))).to_be_visible()
    typical = panel.get_by_label("草稿问题（预填为典型问法，可修改）")
    expect(typical).to_have_value(re.compile(f"^({QUESTION}|{AGAIN})$"))
    asked = panel.get_by_label("该缺口的全部问题与评价（最新的在前）")
    expect(asked.get_by_role("gridcell", name=QUESTION)).to_be_visible()
    expect(asked.get_by_role("row").filter(has_text=AGAIN)).to_contain_text(CORRECT)
    expect(panel.get_by_label("草稿答复")).to_have_value(CORRECT)
    typical_text = typical.input_value()
    panel.get_by_label("事项").fill("驾驶证")
    page.shot("4-gap")
    panel.get_by_role("button", name="一键生成草稿").click()
    made = page.get_by_text(re.compile(r"已生成草稿 K\d{5}"))
    expect(made).to_be_visible()
    entry_id = re.search(r"K\d{5}", made.inner_text())[0]
    expect(panel.get_by_role("gridcell", name="已起草")).to_be_visible()
    page.shot("5-drafted")

    page.reload()
    approve_in_review(page, typical_text, entry_id)
    page.shot("6-approved")
    panel = open_tab(page, "知识缺口")
    panel.get_by_label("同时显示已解决的缺口").check()
    expect(panel.get_by_role("gridcell", name="已解决")).to_be_visible()
    page.shot("7-resolved")

    switch(page, url, "zhangsan", PASSWORD)
    ask(page, NEXT)
    expect(page.get_by_text("置信度").first).to_be_visible()
    page.shot("8-answered")
    expect(page.get_by_text(f"编号 {entry_id}").first).to_be_visible()
    expect(page.get_by_text("车管所").first).to_be_visible()
    assert not page.dialogs
