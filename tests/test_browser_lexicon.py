"""The 词表 page in a real browser (Debian's chromium, headless, 1366×768): a counter question in an
everyday word the lexicon lacks is not answered; the group lead reads the question on 词表 (the word is
not recognised, so its 丢了 is not read as a lost paper), adds the word to the official term's group,
sees the background job finish, the word recognised and the line listed as the centre's own; staff
then ask the question again and get the entry. Screenshots go to ``test-screenshots/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium (run scripts/system_deps.sh to install Debian's chromium)",
                allow_module_level=True)

from browsing import ask, browser, ctx, log_in, open_tab, page, switch, url  # noqa: E402,F401
from fixtures import PASSWORD  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from web import ask as ask_page  # noqa: E402
from web import lexicon  # noqa: E402

FAQ = [["FAQ-BF", "不动产权证书遗失了，怎么申请补发？", "权利人持身份证到不动产登记中心申请补发，登报公告15个工作日后补发新证。"],
       ["FAQ-HZ", "第一次办护照需要带什么材料？", "携带本人身份证到出入境接待大厅现场采集照片和指纹。"],
       ["FAQ-SB", "社会保障卡丢了去哪里补？", "带身份证到合作银行网点补办，十五个工作日内制卡。"]]
SHEET = (FAQ, ["编号", "问题", "答复"])
SERVED = (ask_page, lexicon)
QUESTION = "地契丢了咋补"
WORD = "地契"


def test_a_lead_teaches_the_lexicon_a_word_and_the_counter_question_is_answered(page, url, ctx):
    log_in(page, url, "zhangsan", PASSWORD)
    expect(page.get_by_role("tab", name="词表", exact=True)).to_have_count(0)
    ask(page, QUESTION)
    expect(page.get_by_text("暂无可靠答案")).to_be_visible()

    switch(page, url, "zuzhang", PASSWORD)
    panel = open_tab(page, "词表")
    expect(panel.get_by_role("gridcell", name="内置").first).to_be_visible()
    panel.get_by_label("试一试：输入一个问题，看知识库怎样理解").fill(QUESTION)
    panel.get_by_role("button", name="查看", exact=True).click()
    expect(panel.get_by_text("提到“丢了”，但问题没有提到证照")).to_be_visible()
    panel.get_by_label("词表行").fill(f"不动产权证书 {WORD}")
    panel.get_by_role("button", name="补充", exact=True).click()
    expect(panel.get_by_text("已补充 1 行")).to_be_visible()
    panel.get_by_role("button", name="查看", exact=True).click()
    expect(panel.get_by_text(f"认出的说法：{WORD} → 不动产权证书")).to_be_visible()
    expect(panel.get_by_text("问的是“遗失”")).to_be_visible()
    panel.get_by_label("只看本中心补充的").check()
    expect(panel.get_by_role("gridcell", name=f"不动产权证书 {WORD}")).to_be_visible()
    expect(panel.get_by_role("gridcell", name="内置")).to_have_count(0)
    page.shot("2-added")

    switch(page, url, "zhangsan", PASSWORD)
    ask(page, QUESTION)
    expect(page.get_by_text("登报公告15个工作日后补发新证").first).to_be_visible()
    page.shot("3-answered")
