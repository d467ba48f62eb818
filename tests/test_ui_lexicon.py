"""The 词表 page: reading a question through the lexicon, adding a line and importing a sheet as a
background job that the app's knowledge base then searches with, bad lines refused before anything is
stored, the table and its filter, and the permissions through the handlers and the served API."""

from __future__ import annotations

import dataclasses
import time

import gradio as gr
import pytest
from fixtures import PASSWORD, as_user, make_csv, make_xlsx, serving

from ingest import ingest_paths
from kb.audit import events
from kb.lexicon import stored_lines
from kb.users import Users
from web import lexicon
from web.jobs import jobs_of

ROWS = [["FAQ-BF", "不动产权证书遗失了，怎么申请补发？", "权利人持身份证到不动产登记中心申请补发，登报公告15个工作日后补发新证。"],
        ["FAQ-SB", "社会保障卡丢了去哪里补？", "带身份证到合作银行网点补办，十五个工作日内制卡。"]]
HEADERS = ["编号", "问题", "答复"]


def read(ctx, question: str) -> str:
    """The page's reading of ``question`` for the group lead, without Markdown's escapes."""
    return lexicon.check(ctx, question, as_user("zuzhang")).replace("\\", "")


def finished(ctx):
    """The last lexicon job once its thread has ended (the test fails if it never does)."""
    job = jobs_of(ctx).latest((lexicon.JOB,))
    deadline = time.monotonic() + 120
    while job.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not job.running, job.status
    return job


@pytest.fixture
def faq(ctx, tmp_path):
    admin = Users(ctx.kb.records).get("admin")
    assert ingest_paths(ctx.kb, [make_xlsx(tmp_path / "常见问题.xlsx", ROWS, HEADERS)], actor=admin).failed == []
    return ctx


def test_a_question_is_read_as_the_knowledge_base_reads_it(ctx):
    shown = read(ctx, "房本不是到期了，是丢了，补办要多少钱？")
    assert "房本 → 不动产权证书" in shown
    assert "问的是“遗失”" in shown and "问“多少钱”" in shown and "数字+元" in shown
    assert "提到“到期”，但前面有否定" in shown
    worked = read(ctx, "工作丢了，公积金能一次取出来吗")
    assert "问的是“离职”" in worked and "提到“丢了”，但问题没有提到证照" in worked
    assert lexicon.check(ctx, "  ", as_user("zuzhang")) == lexicon.NO_QUESTION
    with pytest.raises(gr.Error, match="请先登录"):
        lexicon.check(ctx, "房本丢了", gr.Request(username=None))


def test_a_lead_adds_a_word_and_the_app_searches_with_it(faq):
    ctx = faq
    assert "FAQ-BF" not in [h.parent_id for h in ctx.kb.search("房契找不着了", k=2, mode="keyword")]
    lexicon.start_add(ctx, "synonym", " 不动产权证书 房契 ", as_user("zuzhang"))
    job = finished(ctx)
    assert not job.error and "已补充 1 行" in job.status and "不动产权证书 房契" in job.status
    assert ctx.kb.search("房契找不着了", k=1, mode="keyword")[0].parent_id == "FAQ-BF"
    assert "房契 → 不动产权证书" in read(ctx, "房契找不着了")
    (event,) = events(ctx.kb.records.conn, action="lexicon")
    assert event.actor == "zuzhang" and "房契" in event.after["added"][0]
    mine = lexicon.lexicon_rows(ctx, "", True, as_user("admin"))
    assert [row[:3] for row in mine] == [["同义词", "不动产权证书 房契", "zuzhang"]] and mine[0][3][:4].isdigit()

    lexicon.start_add(ctx, "synonym", "不动产权证书 房契", as_user("admin"))
    assert "已补充 0 行，1 行词表中已有" in finished(ctx).status


def test_a_bad_line_or_a_staff_member_is_refused_and_nothing_is_stored(ctx):
    with pytest.raises(gr.Error, match="只有一个词"):
        lexicon.start_add(ctx, "synonym", "孤零零", as_user("zuzhang"))
    with pytest.raises(gr.Error, match="应写成 问法 => 答复中应有的说法"):
        lexicon.start_add(ctx, "answer_type", "多少钱 #元", as_user("zuzhang"))
    with pytest.raises(gr.Error, match="无权"):
        lexicon.start_add(ctx, "synonym", "不动产权证书 房契", as_user("zhangsan"))
    with pytest.raises(gr.Error, match="会把词表中不同的几组词连成一组"):
        lexicon.start_add(ctx, "synonym", "房本 户口本", as_user("zuzhang"))
    assert lexicon.start_add(ctx, "contrast", "   ", as_user("zuzhang")) is None
    assert jobs_of(ctx).latest((lexicon.JOB,)) is None and stored_lines(ctx.kb.records.conn) == []


def test_a_sheet_is_imported_and_a_bad_one_names_its_row(faq, tmp_path):
    ctx = faq
    bad = make_csv(tmp_path / "坏表.csv", [["同义词", "公积金 公基金"], ["反义词", "多 | 少"]], ["类型", "词语"])
    with pytest.raises(gr.Error, match="第 3 行.*同义词、区分词 或 问答类型"):
        lexicon.start_import(ctx, str(bad), as_user("zuzhang"))
    assert stored_lines(ctx.kb.records.conn) == []
    joining = make_csv(tmp_path / "连组.csv", [["同义词", "公积金 公基金"], ["同义词", "房本 户口本"]], ["类型", "词语"])
    with pytest.raises(gr.Error, match="房本 户口本"):
        lexicon.start_import(ctx, str(joining), as_user("zuzhang"))
    assert stored_lines(ctx.kb.records.conn) == []
    assert lexicon.start_import(ctx, None, as_user("zuzhang")) is None

    sheet = make_xlsx(tmp_path / "词表.xlsx", [["不动产权证书", "房契、老房本"], ["社会保障卡", "养老卡"]], ["规范用语", "其他说法"])
    lexicon.start_import(ctx, str(sheet), as_user("zuzhang"))
    assert "已补充 2 行" in finished(ctx).status
    assert ctx.kb.search("养老卡丢了去哪补", k=1, mode="keyword")[0].parent_id == "FAQ-SB"


def test_the_table_lists_the_centres_lines_first_and_filters(ctx):
    ctx.kb.tokens.add(Users(ctx.kb.records).get("zuzhang"), [("contrast", "个人 | 单位"), ("synonym", "公积金 公基金")])
    rows = lexicon.lexicon_rows(ctx, "", False, as_user("zuzhang"))
    assert [row[1] for row in rows[:2]] == ["公积金 公基金", "个人 | 单位"]
    assert all(row[2] == lexicon.SHIPPED for row in rows[2:]) and len(rows) > 100
    found = lexicon.lexicon_rows(ctx, "房本", False, as_user("zuzhang"))
    assert found and all("房本" in row[1] for row in found)
    assert {row[0] for row in lexicon.lexicon_rows(ctx, "问答类型", False, as_user("zuzhang"))} == {"问答类型"}
    assert [row[1] for row in lexicon.lexicon_rows(ctx, "", True, as_user("zuzhang"))] == ["公积金 公基金", "个人 | 单位"]


def test_the_served_api_refuses_staff_and_lets_a_lead_add(faq):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    served = dataclasses.replace(faq, pages=(lexicon,))
    with serving(served) as url:
        staff = Client(url, auth=("zhangsan", PASSWORD), verbose=False)
        with pytest.raises(AppError, match="无权"):
            staff.predict("synonym", "不动产权证书 房契", "", False, api_name="/lexicon_add")
        lead = Client(url, auth=("zuzhang", PASSWORD), verbose=False)
        with pytest.raises(AppError, match="只有一个词"):
            lead.predict("synonym", "房契", "", False, api_name="/lexicon_add")
        lead.predict("synonym", "不动产权证书 房契", "", False, api_name="/lexicon_add")
        assert "已补充 1 行" in finished(faq).status
        assert "房契 → 不动产权证书" in lead.predict("房契丢了", api_name="/lexicon_check")
        table = lead.predict("房契", True, api_name="/lexicon_list")
        assert [row[1] for row in table["data"]] == ["不动产权证书 房契"]
