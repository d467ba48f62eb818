"""The 办不成事 page's handlers and the 转办 control of 窗口问答, called as gradio calls them: a refused
answer offers 转办, the case reaches the window, staff are refused the registry, the window works and
solves it, the draft is approved in 审核 and the next asker gets the answer; the gap queue links the case."""

from __future__ import annotations

import gradio as gr
import pytest
from fixtures import as_user, make_xlsx
from test_escalations import HARD, HEADERS, ROWS, SOLUTION

from ingest import ingest_paths
from kb.users import Users
from web import ask, escalations, gaps, review
from web.app import build_app


@pytest.fixture
def filled(ctx, tmp_path):
    ingest_paths(ctx.kb, [make_xlsx(tmp_path / "常见问题.xlsx", ROWS, HEADERS)],
                 actor=Users(ctx.kb.records).get("admin"))
    return ctx


def test_the_page_builds_with_the_ask_page(filled):
    filled.pages = (ask, escalations, gaps)
    assert isinstance(build_app(filled), gr.Blocks)


def test_a_refused_answer_is_escalated_solved_and_then_answers(filled):
    staff, lead = as_user("zhangsan"), as_user("zuzhang")
    chat, _, _, logged, _ = ask.ask(filled, "居住证签注怎么办理？", "全部", "全部", [], staff)
    assert not escalations.doubtful(filled, logged, staff)
    ask.rate_answer(filled, logged, False, "没说清楚", "", staff)
    assert escalations.doubtful(filled, logged, staff)
    assert not escalations.doubtful(filled, logged, lead)  # not the lead's own question
    chat, _, _, logged, _ = ask.ask(filled, HARD, "全部", "全部", chat, staff, logged)
    assert "暂无可靠答案" in chat[-1]["content"] and escalations.doubtful(filled, logged, staff)

    with pytest.raises(gr.Error, match="请先提问"):
        escalations.from_answer(filled, [], "", "全部", "全部", staff)
    message = escalations.from_answer(filled, logged, "社保在外省，身份证110101199003071234", "全部", "全部", staff)
    assert message.startswith("已转办不成事窗口：登记编号 1，受理")
    assert not escalations.doubtful(filled, logged, staff)
    with pytest.raises(gr.Error, match="已转办"):
        escalations.from_answer(filled, logged, "", "全部", "全部", staff)
    mine = escalations.mine(filled, staff)
    assert [r[:2] for r in mine] == [["1", "受理"]] and mine[0][5] == HARD and mine[0][6:] == ["", ""]

    for refused in (lambda: escalations.listing(filled, "全部", False, staff),
                    lambda: escalations.detail(filled, "1", staff),
                    lambda: escalations.update(filled, "1", "协调中", "市医保局", "", "", staff),
                    lambda: escalations.solve(filled, "1", SOLUTION, HARD, "", "", "", staff),
                    lambda: escalations.unsolvable(filled, "1", "政策不允许", staff),
                    lambda: escalations.report(filled, "2026-11", staff)):
        with pytest.raises(gr.Error, match="处理办不成事"):
            refused()

    count, rows, ids = escalations.listing(filled, "全部", False, lead)
    assert "列出 1 件，未办结 1 件，其中超期 0 件" in count and ids == ["1"] and rows[0][5:] == ["办不成事窗口", "zhangsan", HARD]
    shown, question, item, department = escalations.detail(filled, "1", lead)
    assert "110101199003071234" not in shown and "身份证号已隐去" in shown and question == HARD
    with pytest.raises(gr.Error, match="请先在表格中点击一件登记"):
        escalations.update(filled, None, "协调中", "", "", "备注", lead)
    confirmed = escalations.update(filled, "1", "协调中", "市医保局", "2020-01-06", "已电话联系医保局", lead)
    assert confirmed == "已更新登记 1：协调中，部门 市医保局，期限 2020-01-06。"
    count, rows, _ = escalations.listing(filled, "全部", True, lead)
    assert "其中超期 1 件" in count and rows[0][1:3] == ["协调中", "⚠ 2020-01-06 超期"]
    assert escalations.listing(filled, "已解决", False, lead)[1] == []
    shown, *_ = escalations.detail(filled, "1", lead)
    assert "⚠ 已超期" in shown and "已电话联系医保局" in shown and "受理 → 协调中" in shown

    group = next(row[0] for row in gaps.listing(filled, False, lead)[1] if row[5] == HARD)
    summary, *_ = gaps.detail(filled, group, lead)
    assert "办不成事窗口的同题登记：登记 1（协调中，市医保局）" in summary

    with pytest.raises(gr.Error, match="解决方案不能为空"):
        escalations.solve(filled, "1", " ", HARD, "", "", "", lead)
    solved = escalations.solve(filled, "1", SOLUTION, HARD, "异地就医", "市医保局", "医保局口径", lead)
    entry_id = solved.split("草稿 ")[1].split("，")[0]
    assert solved.startswith("登记 1 已解决") and "审核" in solved
    assert escalations.mine(filled, staff)[0][6:] == [SOLUTION, f"{entry_id}（待审核）"]
    assert review.approve(filled, entry_id, False, False, lead) == f"已发布 {entry_id}。"
    assert escalations.mine(filled, staff)[0][1::6] == ["已解决", entry_id]
    assert f"条目 {entry_id}" in gaps.detail(filled, group, lead)[0]

    chat, *_ = ask.ask(filled, HARD, "全部", "全部", [], staff)
    assert entry_id in chat[-1]["content"].replace("\\", "") and "定点药店" in chat[-1]["content"]
    month = shown.split("登记：zhangsan ")[1][:7]
    assert "办不成事登记 1 件" in escalations.report(filled, month, lead)


def test_the_escalate_form_and_closing_as_unsolvable(filled):
    staff, lead = as_user("zhangsan"), as_user("zuzhang")
    with pytest.raises(gr.Error, match="问题不能为空"):
        escalations.escalate(filled, " ", "", "", "", staff)
    message = escalations.escalate(filled, "<b>公租房</b>能转租吗", "电话 138 1234 5678", "公租房", "全部", staff)
    assert "登记编号 1" in message
    shown, *_ = escalations.detail(filled, "1", lead)
    assert "<b>" not in shown and "&lt;b&gt;" in shown and "电话 \\[手机号已隐去\\]" in shown
    with pytest.raises(gr.Error, match="原因.*不能为空"):
        escalations.unsolvable(filled, "1", "", lead)
    assert escalations.unsolvable(filled, "1", "公租房不得转租。", lead) == "登记 1 已办结：无法解决。"
    assert escalations.mine(filled, staff)[0][1] == "无法解决" and escalations.mine(filled, staff)[0][6] == "公租房不得转租。"
    with pytest.raises(gr.Error, match="不能再修改"):
        escalations.update(filled, "1", "协调中", "", "", "再联系", lead)
