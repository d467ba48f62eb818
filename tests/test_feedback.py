"""Feedback on answers: stored beside the question log, only by the one who asked (library and the chat
page's rating of its latest answer); and the whole loop
through the `kb` command: ask → rate 没用 with a correct answer → `kb gaps` → `kb gaps draft` →
`kb review approve` → the next asker gets the new entry."""

from __future__ import annotations

import json
import re

import gradio as gr
import pytest
from fixtures import as_user, make_xlsx
from test_ask_cli import HEADERS, ROWS
from test_lifecycle_cli import PASSWORDS, kb_cli, ok  # noqa: F401  (kb_cli is a fixture)

from ingest import ingest_paths
from kb.asklog import log_question
from kb.feedback import MAX_TEXT, FeedbackError, rate, ratings
from kb.records import RECORDS_FILE, Records
from kb.users import Users
from web import ask

CORRECT = "驾驶证有效期满前90日内，持身份证和体检证明到车管所申请换证，当场办结。"


@pytest.fixture
def records(tmp_path):
    store = Records(tmp_path / RECORDS_FILE)
    yield store
    store.close()


def test_a_rating_is_stored_replaced_and_only_by_the_asker(records):
    conn = records.conn
    first = log_question(conn, "zhang", "驾驶证到期怎么换？", "no_answer", 0.2)
    second = log_question(conn, "li", "居住证怎么签注？", "answered", 0.9, "FAQ-QZ")
    assert second == first + 1

    rate(conn, "zhang", first, True)
    rate(conn, "zhang", first, False, " 没有答案 ", CORRECT)
    stored = ratings(conn, [first, second])
    assert list(stored) == [first]
    assert (stored[first].useful, stored[first].reason, stored[first].correct, stored[first].label) == \
        (False, "没有答案", CORRECT, "没用")

    with pytest.raises(FeedbackError, match="只能评价自己"):
        rate(conn, "zhang", second, False)
    with pytest.raises(FeedbackError, match="没有编号为 999"):
        rate(conn, "zhang", 999, True)
    with pytest.raises(FeedbackError, match="正确答案太长"):
        rate(conn, "zhang", first, False, correct="长" * (MAX_TEXT + 1))
    assert ratings(conn, [first])[first].correct == CORRECT


def test_the_gap_loop_through_the_cli(kb_cli, tmp_path):  # noqa: F811
    ok(kb_cli("ingest", make_xlsx(tmp_path / "常见问题.xlsx", ROWS, HEADERS)))
    for name, role in (("admin", "管理员"), ("lead", "组长"), ("zhang", "窗口人员")):
        ok(kb_cli("user", "add", name, "--role", role, user="admin" if name != "admin" else None,
                  env={"KB_NEW_PASSWORD": PASSWORDS[name]}))

    shown = ok(kb_cli("ask", "驾驶证到期了怎么换？", user="zhang"))
    log_id = int(re.search(r"记录编号：(\d+)", shown).group(1))
    assert f"kb feedback {log_id} --useful 或 --useless" in shown
    again = json.loads(ok(kb_cli("ask", "驾照快过期了，换新证需要什么材料", "--json", user="zhang")))
    assert again["status"] == "no_answer" and again["log_id"] == log_id + 1

    refused = kb_cli("feedback", log_id, "--useless", user="lead")
    assert refused.exit_code == 1 and "只能评价自己" in refused.output
    assert "评为“没用”" in ok(kb_cli("feedback", log_id, "--useless", "--reason", "没有答案", "--correct", CORRECT,
                                     user="zhang"))
    denied = kb_cli("gaps", user="zhang")
    assert denied.exit_code == 1 and "无权执行“处理知识缺口”" in denied.output

    listed = ok(kb_cli("gaps", user="lead"))
    rows = [line for line in listed.splitlines() if re.match(r"\s*\d+\s+待处理", line)]
    assert len(rows) == 1 and "2 次（待处理 2）" in rows[0] and "共 1 个知识缺口" in listed
    gap_id = rows[0].split()[0]
    detail = ok(kb_cli("gaps", "show", gap_id, user="lead"))
    assert f"正确答复 1：{CORRECT}" in detail and "评为没用" in detail and "没有答案" in detail

    bad = kb_cli("gaps", "draft", gap_id, "--correction", "2", user="lead")
    assert bad.exit_code == 2 and "1 到 1" in bad.output
    drafted = ok(kb_cli("gaps", "draft", gap_id, "--correction", "1", "--item", "驾驶证", user="lead"))
    entry_id = re.search(r"已生成草稿 (\S+)（待审核）", drafted).group(1)
    assert "已起草" in ok(kb_cli("gaps", user="lead"))
    ok(kb_cli("review", "approve", entry_id, user="lead"))
    assert "共 0 个知识缺口" in ok(kb_cli("gaps", user="lead"))
    assert "已解决  2 次（待处理 0）" in ok(kb_cli("gaps", "--all", user="lead"))

    answered = json.loads(ok(kb_cli("ask", "驾驶证到期换证要带什么", "--json", user="zhang")))
    assert answered["status"] == "answered" and answered["citations"][0]["parent_id"] == entry_id
    assert CORRECT in answered["text"]


def test_the_chat_rates_the_latest_answer_of_its_own_user(ctx, tmp_path):
    ingest_paths(ctx.kb, [make_xlsx(tmp_path / "常见问题.xlsx", ROWS, HEADERS)], actor=Users(ctx.kb.records).get("admin"))
    chat, _, _, logged, _ = ask.ask(ctx, "居住证签注去哪办", "全部", "全部", [], as_user("zhangsan"))
    chat, _, _, logged, _ = ask.ask(ctx, "驾驶证到期了怎么换？", "全部", "全部", chat, as_user("zhangsan"), logged)
    assert len(chat) == 4 and len(logged) == 2
    shown = ask.rate_answer(ctx, logged, False, "没有答案", CORRECT, as_user("zhangsan"))
    assert "驾驶证到期了怎么换？" in shown and "没用" in shown and "原因和正确答案" in shown
    stored = ratings(ctx.kb.records.conn, logged)
    assert list(stored) == [logged[1]] and stored[logged[1]].correct == CORRECT

    assert "居住证签注去哪办" in ask.rate_answer(ctx, logged, True, "", "", as_user("zhangsan"), position=0)
    assert ratings(ctx.kb.records.conn, logged)[logged[0]].useful is True
    with pytest.raises(gr.Error, match="找不到要评价的这条回答"):
        ask.rate_answer(ctx, logged, True, "", "", as_user("zhangsan"), position=2)
    with pytest.raises(gr.Error, match="只能评价自己"):
        ask.rate_answer(ctx, logged, True, "", "", as_user("zuzhang"))
    with pytest.raises(gr.Error, match="请先提问"):
        ask.rate_answer(ctx, [], True, "", "", as_user("zhangsan"))
    with pytest.raises(gr.Error):
        ask.rate_answer(ctx, logged, True, "", "", as_user(None))
    assert ratings(ctx.kb.records.conn, logged)[logged[1]].useful is False
