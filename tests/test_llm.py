"""bot.llm with langchain-core's fake chat models: what the prompt holds, citation parsing and checking,
the confidence gate (and a model let read below it), the offline fallback on errors, slowness and
unusable output, a model that finds no answer in the passages turning the answer into a refusal,
question rewriting, the langchain retriever, and `kb ask --llm/--offline`."""

from __future__ import annotations

import json
import socket
import time

import httpx
import openai
import pytest
from fixtures import make_xlsx
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from pydantic import Field
from test_lifecycle_cli import kb_cli, ok  # noqa: F401  (kb_cli is a fixture)
from test_workflow import case, day, publish

from bot import answer
from bot.answer import NO_ANSWER_TEXT
from bot.llm import DECLINED, GENERATED_NOTE, LLM, check_citations, failure_note
from bot.retriever import KnowledgeRetriever
from cli.llm_mode import erase, llm_follow_up
from kb.sessions import Turn

SIGN_Q, SIGN_A = "居住证签注要带哪些材料？", "带身份证和居住证原件，到居住地派出所办理签注。"
LOST_Q, LOST_A = "居住证丢了怎么补办？", "到居住地派出所申请补领，十五个工作日内领取。"
PASSPORT_Q, PASSPORT_A = "护照丢了怎么补办？", "先到派出所挂失，再到出入境大厅申请补发。"
DRAFT_Q, DRAFT_A = "居住证签注可以在手机上办吗？", "可以通过公安微信平台在线签注。"


class Scripted(FakeListChatModel):
    """A fake chat model that records the messages it gets and streams its scripted reply character by
    character, optionally failing with ``error`` after ``fail_after`` characters."""

    seen: list = Field(default_factory=list)
    error: Exception | None = None
    fail_after: int = 0

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(messages)
        for i, chunk in enumerate(super()._stream(messages, stop, run_manager, **kwargs)):
            if self.error is not None and i >= self.fail_after:
                raise self.error
            yield chunk
        if self.error is not None:
            raise self.error


def scripted(*responses: str, **fields) -> Scripted:
    return Scripted(responses=list(responses) or [""], **fields)


def connection_error() -> openai.APIConnectionError:
    return openai.APIConnectionError(request=httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions"))


@pytest.fixture
def stocked(kb, wf, people):
    """Three published entries and one draft."""
    publish(wf, people, SIGN_Q, SIGN_A)
    publish(wf, people, LOST_Q, LOST_A)
    publish(wf, people, PASSPORT_Q, PASSPORT_A, item="护照")
    wf.submit(people.staff, case(DRAFT_Q, DRAFT_A))
    return kb


def prompt_of(model: Scripted) -> str:
    (messages,) = model.seen
    return messages[-1].content


@pytest.mark.parametrize("text, given, expected, cited, removed", [
    ("要带身份证[1]。", 2, "要带身份证[1]。", (1,), ()),
    ("要带身份证[2]，还要照片【1】。", 2, "要带身份证[2]，还要照片[1]。", (1, 2), ()),
    ("见 [1, 3]，另见［3］。", 3, "见 [1][2]，另见[2]。", (1, 3), ()),
    ("要带身份证[1、5]，当场办结[4]。", 2, "要带身份证[1]，当场办结。", (1,), (4, 5)),
    ("只看第二条[2]。", 3, "只看第二条[1]。", (2,), ()),
    ("没有出处。", 2, "没有出处。", (), ()),
    ("编号[0]不算。", 2, "编号不算。", (), (0,)),
])
def test_citations_are_parsed_renumbered_and_checked(text, given, expected, cited, removed):
    checked = check_citations(text, given)
    assert (checked.text, checked.cited, checked.removed) == (expected, cited, removed)


def test_prompt_holds_only_current_numbered_passages_and_the_answer_cites_them(stocked):
    model = scripted("带身份证和居住证原件[1]，到派出所办理[1]。")
    reply = LLM(model, timeout=5).reply(stocked, SIGN_Q)
    tokens = list(reply)
    offline = answer(stocked, SIGN_Q)
    prompt = prompt_of(model)
    assert "".join(tokens) == "带身份证和居住证原件[1]，到派出所办理[1]。" and len(tokens) > 5
    assert prompt.startswith("资料：") and prompt.endswith(f"问题：{SIGN_Q}")
    assert f"[1] 《{offline.citations[0].title}》" in prompt and SIGN_A in prompt
    assert DRAFT_A not in prompt, "a draft is given only when drafts are asked for"
    assert [f"[{i}] 《{hit.title}》" in prompt for i, hit in enumerate(reply.passages, 1)] == [True] * len(reply.passages)
    result = reply.answer
    assert reply.source == "llm" and result.text == "".join(tokens)
    assert [c.parent_id for c in result.citations] == [offline.citations[0].parent_id]
    assert result.notes[0] == GENERATED_NOTE and result.confidence == offline.confidence
    assert result.citations[0].parent_id not in {h.parent_id for h in result.related}


def test_drafts_are_given_when_asked_and_expired_entries_never(kb, wf, people):
    publish(wf, people, SIGN_Q, SIGN_A, expire_on=day(0))
    publish(wf, people, LOST_Q, LOST_A)
    wf.submit(people.staff, case(DRAFT_Q, DRAFT_A))
    model = scripted("可以在线签注[1]。")
    reply = LLM(model).reply(kb, DRAFT_Q, drafts=True)
    assert reply.answer.text == "可以在线签注[1]。"
    assert "待审核，未发布" in prompt_of(model) and DRAFT_A in prompt_of(model)
    assert any("待审核" in note for note in reply.answer.notes)

    later = scripted("补领要十五个工作日[1]。")
    reply = LLM(later).reply(kb, LOST_Q, as_of=day(1))
    assert reply.answer.text == "补领要十五个工作日[1]。"
    assert LOST_A in prompt_of(later) and SIGN_A not in prompt_of(later), "the expired entry is not a passage"


def test_a_citation_of_a_passage_not_given_is_removed_and_marked(stocked):
    reply = LLM(scripted("到派出所办理[1]，工本费二十元[9]。")).reply(stocked, SIGN_Q)
    result = reply.answer
    assert result.text == "到派出所办理[1]，工本费二十元。"
    assert any("[9]" in note and "已删除" in note for note in result.notes)
    assert len(result.citations) == 1 and reply.source == "llm"


def test_citations_are_renumbered_to_the_listed_sources(stocked):
    reply = LLM(scripted("参见第二条资料[2]。")).reply(stocked, SIGN_Q)
    result = reply.answer
    assert result.text == "参见第二条资料[1]。"
    assert [c.parent_id for c in result.citations] == [reply.passages[1].parent_id]


@pytest.mark.parametrize("question, threshold", [("驾驶证到期了怎么换？", 0.5), (SIGN_Q, 1.01)])
def test_below_the_threshold_the_model_is_not_called(stocked, question, threshold):
    model = scripted("驾驶证到车管所换领[1]。")
    reply = LLM(model).reply(stocked, question, min_confidence=threshold)
    assert list(reply) == [] and model.seen == []
    assert reply.answer.text == NO_ANSWER_TEXT and reply.answer.status == "no_answer"
    assert reply.source == "offline" and reply.passages == ()


@pytest.mark.parametrize("model, said", [
    (scripted("不会用到", error=connection_error()), "连接不上"),
    (scripted("到派出所办理[1]，工本费", error=httpx.RemoteProtocolError("peer closed connection"), fail_after=6),
     "连接不上或连接中断"),
    (scripted("不会用到", error=openai.InternalServerError(
        "boom", response=httpx.Response(500, request=httpx.Request("POST", "http://x")), body=None)), "HTTP 500"),
    (scripted(""), "没有给出可用的回答"),
    (scripted("  [1] 。"), "回答为空"),
    (scripted("<think>想一想[1]</think>"), "回答为空"),
    (scripted("到派出所办理。"), "没有注明依据"),
    (scripted("工本费二十元[7]。"), "没有注明依据"),
])
def test_failures_and_unusable_output_fall_back_to_the_offline_answer_with_a_note(stocked, model, said):
    reply = LLM(model, timeout=5).reply(stocked, SIGN_Q)
    list(reply)
    offline = answer(stocked, SIGN_Q)
    result = reply.answer
    assert reply.source == "fallback" and said in result.notes[0] and "离线" in result.notes[0]
    assert (result.text, result.citations, result.notes[1:]) == (offline.text, offline.citations, offline.notes)


@pytest.mark.parametrize("said", ["资料中没有答案", "抱歉，资料中没有答案。", "资料中 没有答案[7]"])
def test_a_model_that_finds_no_answer_in_the_passages_turns_the_answer_into_a_refusal(stocked, said):
    model = scripted(said)
    reply = LLM(model).reply(stocked, SIGN_Q)
    result, offline = reply.answer, answer(stocked, SIGN_Q)
    assert offline.status == "answered", "the offline answer would have been given"
    assert DECLINED in model.seen[0][0].content, "the model is told how to say so"
    assert reply.source == "declined" and result.status == "no_answer" and result.text == NO_ANSWER_TEXT
    assert result.citations == () and result.confidence == offline.confidence
    assert offline.citations[0].parent_id in {h.parent_id for h in result.related}
    assert f"《{offline.citations[0].title}》" in result.notes[0] and "没有这个问题的答案" in result.notes[0]


@pytest.mark.parametrize("model, status, said", [
    (scripted("带身份证和居住证原件[1]。"), "answered", "未达回答门槛"),
    (scripted(DECLINED), "no_answer", "没有这个问题的答案"),
    (scripted("不会用到", error=connection_error()), "no_answer", "连接不上"),
])
def test_a_model_let_read_below_the_threshold_answers_cited_declines_or_leaves_the_refusal(stocked, model, status,
                                                                                           said):
    assert answer(stocked, SIGN_Q, min_confidence=1.01).status == "no_answer"
    reply = LLM(model, timeout=5, read_from=0.5).reply(stocked, SIGN_Q, min_confidence=1.01)
    result = reply.answer
    assert len(model.seen) == 1 and result.status == status and any(said in note for note in result.notes)
    assert bool(result.citations) == (status == "answered") and (result.text == NO_ANSWER_TEXT) == (status != "answered")


def test_below_where_the_model_may_read_or_against_a_rule_it_is_not_asked(stocked):
    model = scripted("不会用到")
    assert LLM(model, read_from=1.01).reply(stocked, SIGN_Q, min_confidence=1.01).answer.status == "no_answer"
    assert LLM(model, read_from=0.0).reply(stocked, "驾驶证到期了怎么换？").answer.status == "no_answer"
    assert model.seen == []


def test_an_answer_that_cites_a_passage_is_kept_though_it_says_part_is_missing(stocked):
    reply = LLM(scripted("工本费资料中没有答案；签注要带身份证和居住证原件[1]。")).reply(stocked, SIGN_Q)
    result = reply.answer
    assert reply.source == "llm" and result.status == "answered" and len(result.citations) == 1
    assert result.notes[0] == GENERATED_NOTE


def test_a_model_slower_than_the_timeout_falls_back_at_the_timeout(stocked):
    reply = LLM(scripted("到派出所办理[1]。", sleep=2.0), timeout=0.3).reply(stocked, SIGN_Q)
    started = time.monotonic()
    result = reply.answer
    assert time.monotonic() - started < 1.5
    assert reply.source == "fallback" and result.notes[0] == "大模型 0.3 秒内没有回应，以下为离线检索的回答。"
    assert result.text == answer(stocked, SIGN_Q).text


def test_think_blocks_are_dropped_from_the_answer(stocked):
    result = LLM(scripted("<think>先看资料一</think>带身份证办理[1]。")).ask(stocked, SIGN_Q)
    assert result.text == "带身份证办理[1]。"


def test_failure_notes_name_the_cause():
    assert failure_note(TimeoutError(), 2.5) == "大模型 2.5 秒内没有回应，以下为离线检索的回答。"
    assert "连接不上" in failure_note(connection_error(), 2)


def test_rewrite_question_uses_the_history_and_falls_back():
    history = [("居住证签注要带哪些材料？", "带身份证和居住证原件[1]。")]
    model = scripted("改写后的问题：“居住证签注可以在网上办吗？”\n")
    assert LLM(model).rewrite_question(history, "线上能办吗？") == "居住证签注可以在网上办吗？"
    (messages,) = model.seen
    assert "居住证签注要带哪些材料？" in messages[-1].content and messages[-1].content.endswith("线上能办吗？")

    silent = scripted("不会用到")
    assert LLM(silent).rewrite_question([], "护照怎么办？") == "护照怎么办？" and silent.seen == []
    dead = LLM(scripted("x", error=connection_error()))
    assert dead.rewrite_question(history, "线上能办吗？") == "线上能办吗？"
    assert dead.rewrite_question(history, "线上能办吗？", fallback=lambda h, q: f"居住证签注{q}") == "居住证签注线上能办吗？"
    rambling = LLM(scripted("好的。" * 80))
    assert rambling.rewrite_question(history, "线上能办吗？", fallback=lambda h, q: "回退") == "回退"


def test_retriever_returns_current_knowledge_as_langchain_documents(kb, wf, people):
    first = publish(wf, people, SIGN_Q, SIGN_A, expire_on=day(0))
    wf.submit(people.staff, case(DRAFT_Q, DRAFT_A))
    docs = KnowledgeRetriever(kb=kb, k=3).invoke("居住证签注")
    assert [d.metadata["id"] for d in docs] == [first]
    assert docs[0].page_content == f"问：{SIGN_Q}\n答：{SIGN_A}"
    assert {k: docs[0].metadata[k] for k in ("title", "item", "status", "kind")} == {
        "title": SIGN_Q, "item": "居住证", "status": "published", "kind": "entry"}
    assert KnowledgeRetriever(kb=kb, as_of=day(1)).invoke("居住证签注") == []
    with_drafts = KnowledgeRetriever(kb=kb, drafts=True).invoke("居住证签注在手机上办")
    assert "draft" in {d.metadata["status"] for d in with_drafts}


def test_follow_up_is_rewritten_streamed_live_and_erased(stocked, capsys):
    model = scripted("居住证丢了怎么补办？", "到派出所申请补领[1]。")
    history = [Turn("居住证签注要带哪些材料？", "居住证签注要带哪些材料？", "居住证", SIGN_Q, "", "answered")]
    result = llm_follow_up(LLM(model), stocked, history, "那丢了呢？", live=True)
    shown = capsys.readouterr().out
    assert shown.startswith("答（生成中）：到派出所申请补领[1]。") and shown.endswith("\x1b[J")
    assert result.question == "那丢了呢？" and result.resolved == "居住证丢了怎么补办？"
    assert result.text == "到派出所申请补领[1]。"


def test_erase_counts_wrapped_wide_lines(monkeypatch):
    monkeypatch.setenv("COLUMNS", "10")
    assert erase("答：" + "字" * 6 + "\n短") == "\r" + "\x1b[1A" * 2 + "\x1b[J"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_kb_ask_llm_mode_chosen_by_settings_and_flags(kb_cli, tmp_path):  # noqa: F811
    ok(kb_cli("ingest", make_xlsx(tmp_path / "常见问题.xlsx", [[SIGN_Q, SIGN_A, "居住证"]], ["问题", "答复", "事项"])))
    dead = {"KB_LLM_BASE_URL": f"http://127.0.0.1:{_closed_port()}/v1", "KB_LLM_MODEL": "gemma", "KB_LLM_TIMEOUT": "3"}

    fell_back = json.loads(ok(kb_cli("ask", SIGN_Q, "--json", env=dead)))
    assert fell_back["text"] == SIGN_A and "大模型服务连接不上" in fell_back["notes"][0]
    offline = json.loads(ok(kb_cli("ask", SIGN_Q, "--json", "--offline", env=dead)))
    assert offline["text"] == SIGN_A and offline["notes"] == []
    plain = json.loads(ok(kb_cli("ask", SIGN_Q, "--json", env={"KB_LLM_BASE_URL": None})))
    assert plain["notes"] == []

    unset = kb_cli("ask", SIGN_Q, "--llm", env={"KB_LLM_BASE_URL": None})
    assert unset.exit_code == 1 and "KB_LLM_BASE_URL" in unset.output and "Traceback" not in unset.output
    nameless = kb_cli("ask", SIGN_Q, "--llm", env={**dead, "KB_LLM_MODEL": None})
    assert nameless.exit_code == 1 and "KB_LLM_MODEL" in nameless.output
    text = ok(kb_cli("ask", SIGN_Q, env=dead))
    assert "注意：大模型服务连接不上" in text and f"答：{SIGN_A}" in text


def test_langchain_openai_is_imported_by_the_adapter_only():
    from test_architecture import ROOT, imported_top_names, python_files

    importers = {str(p.relative_to(ROOT)) for package in ("kb", "ingest", "bot", "cli", "web")
                 for p in python_files(package) if "langchain_openai" in imported_top_names(p)}
    assert importers == {"bot/llm.py"}
