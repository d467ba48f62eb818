"""The counter Q&A page with a chat model (fake models from langchain-core, as in test_llm): the
answer streams into the chat, the checked answer replaces it and is logged once, a failing model
gives the offline answer with a note, a model that finds no answer in the passages gives a logged
refusal, and a refusal never calls the model."""

from __future__ import annotations

from dataclasses import replace

from fixtures import as_user
from test_llm import connection_error, scripted
from test_ui import ctx  # noqa: F401  (the knowledge base of the web tests, with its accounts)

from bot.llm import GENERATED_NOTE, LLM
from kb.asklog import questions
from web import ask


def asked(ctx, model, question, history=(), logged=(), turns=()):  # noqa: F811
    with_model = replace(ctx, llm=LLM(model, timeout=5))
    return list(ask.ask_streaming(with_model, question, "全部", "全部", list(history), as_user("zhangsan"),
                                  list(logged), list(turns)))


def test_the_answer_streams_then_the_checked_answer_is_shown_and_logged_once(ctx):  # noqa: F811
    before = len(questions(ctx.kb.records.conn))
    model = scripted("到居住地派出所户籍窗口办理签注[1]。")
    shown = asked(ctx, model, "居住证签注去哪办")
    assert len(shown) > 3 and len(model.seen) == 1
    partial = [s[0][-1]["content"] for s in shown[:-1]]
    assert all(ask.WRITING in text for text in partial)
    assert [len(text) for text in partial] == sorted(len(text) for text in partial)
    chat, box, related, logged, turns = shown[-1]
    final = chat[-1]["content"]
    assert GENERATED_NOTE in final and "到居住地派出所户籍窗口办理签注" in final and "FAQ\\-QZ" in final
    assert ask.WRITING not in final
    assert len(logged) == len(turns) == 1 and turns[0].top_parent == "FAQ-QZ"
    rows = questions(ctx.kb.records.conn)
    assert len(rows) == before + 1 and rows[0].question == "居住证签注去哪办" and rows[0].id == logged[0]


def test_a_failing_model_gives_the_offline_answer_with_a_note(ctx):  # noqa: F811
    chat, *_ = asked(ctx, scripted("不会用到", error=connection_error()), "居住证签注去哪办")[-1]
    final = chat[-1]["content"]
    assert "离线" in final.split("\n")[0] and "派出所户籍窗口" in final and GENERATED_NOTE not in final


def test_a_model_that_finds_no_answer_gives_a_refusal_logged_as_one(ctx):  # noqa: F811
    chat, _, related, logged, _ = asked(ctx, scripted("资料中没有答案"), "居住证签注去哪办")[-1]
    final = chat[-1]["content"]
    assert "暂无可靠答案" in final and "认为其中没有这个问题的答案" in final and GENERATED_NOTE not in final
    assert "FAQ-QZ" in [row[1] for row in related], "the nearest sources stay listed for reference"
    (row,) = [r for r in questions(ctx.kb.records.conn) if r.id == logged[-1]]
    assert row.status == "no_answer" and row.top_parent == "FAQ-QZ"


def test_a_refusal_never_calls_the_model_and_a_follow_up_is_rewritten_by_it(ctx):  # noqa: F811
    model = scripted("不会用到")
    (chat, *_), = asked(ctx, model, "公司注销要多久")
    assert model.seen == [] and "暂无可靠答案" in chat[-1]["content"]

    rewriting = scripted("第一次办护照要本人去吗", "本人到出入境接待大厅现场采集[1]。")
    first = asked(ctx, scripted("带身份证到出入境接待大厅[1]。"), "第一次办护照需要带什么材料？")[-1]
    chat, _, _, logged, turns = asked(ctx, rewriting, "那要本人去吗？", first[0], first[3], first[4])[-1]
    assert chat[-1]["content"].startswith("*按‘第一次办护照要本人去吗’回答*") and turns[-1].top_parent == "FAQ-HZ"
    assert len(logged) == 2
