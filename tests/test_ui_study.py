"""The 学习 page's handlers, called as gradio calls them: a lesson and a checked reply for the logged-in
learner, stored text escaped, the record updated, and 学员进度 refused to staff."""

from __future__ import annotations

import re

import gradio as gr
import pytest
from fixtures import as_user, make_xlsx
from test_study import HEADERS, ROWS

from ingest import ingest_paths
from kb.learning import Learning
from kb.users import Users
from web import study
from web.app import build_app

HOSTILE = ["XSS-1", "社保卡丢了怎么补办？", "<script>alert(1)</script>持身份证到[点我](javascript:alert(1))社保卡服务网点补办。",
           "社保卡", "市人社局", "", "2026-11-18"]


@pytest.fixture
def studied(ctx, tmp_path):
    ingest_paths(ctx.kb, [make_xlsx(tmp_path / "学习资料.xlsx", [*ROWS, HOSTILE], HEADERS)],
                 actor=Users(ctx.kb.records).get("admin"))
    return ctx


def test_the_page_builds_and_offers_weak_and_unseen_topics_first(studied):
    studied.pages = (study,)
    assert isinstance(build_app(studied), gr.Blocks)
    choices, rows = study.plan(studied, as_user("zhangsan"))
    assert [item for _, item in choices][0] == "居住证"
    assert all("未学" in label for label, _ in choices) and [r[1] for r in rows] == ["未学"] * len(rows)


def test_a_lesson_then_a_reply_is_checked_and_recorded(studied):
    chat, lesson = study.teach(studied, "公积金提取", "", [], as_user("zhangsan"))
    assert chat[0] == {"role": "user", "content": "学习事项：公积金提取"}
    assert "依据" in chat[1]["content"] and lesson.entry.basis in chat[1]["content"].replace("\\", "")
    assert chat[2]["content"].startswith("**请回答**")
    chat, check = study.reply(studied, lesson, "不知道", chat, as_user("zhangsan"))
    assert not check.correct and chat[-1]["content"].startswith("**回答不正确")
    assert lesson.entry.id in chat[-1]["content"].replace("\\", "")
    _, rows = study.plan(studied, as_user("zhangsan"))
    assert [r[:5] for r in rows if r[0] == "公积金提取"] == [["公积金提取", "薄弱", "1/2", "0", "1"]]
    choices, _ = study.plan(studied, as_user("zhangsan"))
    assert choices[0][1] == "公积金提取"
    with pytest.raises(gr.Error, match="请先选择事项"):
        study.reply(studied, None, "30日内", chat, as_user("zhangsan"))
    weeks = study.my_plan(studied, as_user("zhangsan"))
    rows = [line.split(" | ") for line in weeks.splitlines() if re.match(r"\| \d+ \|", line)]
    assert {r[1]: (r[4], r[-1].rstrip(" |")) for r in rows}["公积金提取"] == ("1/2", "进行中")
    assert sum(r[-1].rstrip(" |") == "未开始" for r in rows) == len(rows) - 1 and "第四周" in weeks


def test_stored_text_is_escaped_in_the_chat(studied):
    chat, lesson = study.teach(studied, "", "社保卡丢了怎么补办", [], as_user("zhangsan"))
    assert lesson.entry.id == "XSS-1"
    shown = chat[1]["content"]
    assert "<script>" not in shown and "&lt;script&gt;" in shown and "](javascript" not in shown


def test_staff_cannot_see_other_learners_progress(studied):
    chat, lesson = study.teach(studied, "普通护照", "", [], as_user("zhangsan"))
    study.reply(studied, lesson, "，".join(lesson.question.points), chat, as_user("zhangsan"))
    with pytest.raises(gr.Error, match="查看学员进度"):
        study.progress_rows(studied, as_user("zhangsan"))
    rows = study.progress_rows(studied, as_user("zuzhang"))
    assert [r[:6] for r in rows if r[0] == "zhangsan"] == [["zhangsan", "张三", "1", "1", "1", "0"]]
    assert study.progress_rows(studied, as_user("admin")) == rows
    with pytest.raises(gr.Error, match="请先登录"):
        study.teach(studied, "普通护照", "", [], as_user(None))
    assert Learning(studied.kb.records).learners(Users(studied.kb.records).get("admin"))[0].username == "zhangsan"
