"""bot.llm against a real OpenAI-compatible server (llama.cpp serving Gemma 3 270M on 127.0.0.1).

A 270M model answers poorly, so these test the plumbing, not the prose: the request on the wire,
streaming, citation checking on real output (the output is pinned with a llama.cpp grammar where a test
needs exact text), timeouts, server errors, and a server killed in the middle of a conversation.
"""

from __future__ import annotations

import json
import time

from fixtures import make_xlsx
from llm_server import MODEL_NAME, Proxy, Silent, gguf, llm_server, needs_server, start_server  # noqa: F401
from test_lifecycle_cli import kb_cli, ok  # noqa: F401  (kb_cli is a fixture)
from test_llm import LOST_A, LOST_Q, PASSPORT_A, PASSPORT_Q, SIGN_A, SIGN_Q, stocked  # noqa: F401

from bot.llm import DECLINED, GENERATED_NOTE, MAX_TOKENS, openai_compatible, passages_prompt
from cli.llm_mode import llm_follow_up

pytestmark = needs_server


def pinned(text: str) -> dict:
    """Request fields that make llama.cpp's server output exactly ``text``."""
    return {"grammar": f"root ::= {json.dumps(text, ensure_ascii=False)}"}


def test_request_on_the_wire_and_streaming_without_tiktoken(llm_server, stocked, monkeypatch):  # noqa: F811
    import tiktoken

    def refuse(*args, **kwargs):
        raise AssertionError("tiktoken must not be needed for a plain call")

    monkeypatch.setattr(tiktoken, "get_encoding", refuse)
    monkeypatch.setattr(tiktoken, "encoding_for_model", refuse)
    with Proxy(llm_server.url) as proxy:
        reply = openai_compatible(proxy.url, MODEL_NAME, timeout=60, max_tokens=24).reply(stocked, SIGN_Q)
        tokens = list(reply)
    (request,) = proxy.requests
    body = request["json"]
    assert request["path"] == "/v1/chat/completions"
    assert (body["model"], body["stream"], body["max_tokens"], body["temperature"]) == (MODEL_NAME, True, 24, 0.1)
    assert "max_completion_tokens" not in body and "stream_options" not in body
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][1]["content"] == passages_prompt(SIGN_Q, reply.passages)
    assert reply.passages[0].answer == SIGN_A
    assert len(tokens) > 1 and reply.first_token_s is not None, "the answer streams token by token"
    if reply.source == "declined":
        assert reply.answer.status == "no_answer"
        assert "没有这个问题的答案" in reply.answer.notes[0] and not reply.answer.citations
    elif reply.source == "llm":
        assert reply.answer.notes[0] == GENERATED_NOTE and reply.answer.citations
    else:
        assert reply.source == "fallback" and "大模型" in reply.answer.notes[0] and reply.answer.text == SIGN_A


def test_citations_in_real_output_are_checked(llm_server, stocked):  # noqa: F811
    text = "到居住地派出所办理签注[1]，工本费二十元[7]。"
    with Proxy(llm_server.url) as proxy:
        reply = openai_compatible(proxy.url, MODEL_NAME, timeout=60, extra_body=pinned(text)).reply(stocked, SIGN_Q)
        assert "".join(reply) == text
    assert proxy.requests[0]["json"]["max_tokens"] == MAX_TOKENS and "grammar" in proxy.requests[0]["json"]
    result = reply.answer
    assert reply.source == "llm" and result.text == "到居住地派出所办理签注[1]，工本费二十元。"
    assert [c.parent_id for c in result.citations] == [reply.passages[0].parent_id]
    assert any("[7]" in note and "已删除" in note for note in result.notes)


def test_an_answer_without_citations_from_the_server_is_not_used(llm_server, stocked):  # noqa: F811
    reply = openai_compatible(llm_server.url, MODEL_NAME, timeout=60, extra_body=pinned("工本费二十元。")).reply(
        stocked, SIGN_Q)
    assert reply.answer.text == SIGN_A and "没有注明依据" in reply.answer.notes[0] and reply.source == "fallback"


def test_a_server_slower_than_the_timeout_gets_the_offline_answer(llm_server, stocked):  # noqa: F811
    reply = openai_compatible(llm_server.url, MODEL_NAME, timeout=0.001, extra_body=pinned("好[1]")).reply(
        stocked, SIGN_Q)
    result = reply.answer
    assert reply.source == "fallback" and result.notes[0] == "大模型 0.001 秒内没有回应，以下为离线检索的回答。"
    assert result.text == SIGN_A
    time.sleep(1)  # let the server finish the dropped request


def test_a_hung_server_is_given_up_at_the_timeout(stocked):  # noqa: F811
    with Silent() as hung:
        started = time.monotonic()
        result = openai_compatible(hung.url, MODEL_NAME, timeout=1).ask(stocked, SIGN_Q)
        waited = time.monotonic() - started
    assert 0.9 < waited < 3 and result.notes[0] == "大模型 1 秒内没有回应，以下为离线检索的回答。"
    assert result.text == SIGN_A


def test_a_wrong_address_gets_the_offline_answer_with_the_http_status(llm_server, stocked):  # noqa: F811
    wrong = openai_compatible(llm_server.url.removesuffix("/v1") + "/api", MODEL_NAME, timeout=60)
    result = wrong.ask(stocked, SIGN_Q)
    assert result.notes[0] == "大模型服务返回错误（HTTP 404），以下为离线检索的回答。" and result.text == SIGN_A


def test_the_server_killed_mid_stream_and_mid_conversation(gguf, stocked, tmp_path):  # noqa: F811
    server = start_server(gguf, tmp_path / "server.log")
    try:
        llm = openai_compatible(server.url, MODEL_NAME, timeout=60, extra_body=pinned("带身份证和居住证原件[1]。"))
        first = llm_follow_up(llm, stocked, [], SIGN_Q, live=False, min_confidence=0.5)
        assert first.text == "带身份证和居住证原件[1]。" and first.notes[0] == GENERATED_NOTE

        endless = openai_compatible(server.url, MODEL_NAME, timeout=60, extra_body={"grammar": 'root ::= "办理[1]" "好"*'})
        reply = endless.reply(stocked, LOST_Q)
        tokens = iter(reply)
        next(tokens)
        server.stop()
        rest = list(tokens)
        assert len(rest) < MAX_TOKENS and reply.source == "fallback"
        assert reply.answer.notes[0] == "大模型服务连接不上或连接中断，以下为离线检索的回答。"
        assert reply.answer.text == LOST_A
    finally:
        server.stop()


def test_kb_ask_session_goes_on_offline_when_the_server_dies(kb_cli, gguf, tmp_path):  # noqa: F811
    rows = [[SIGN_Q, SIGN_A, "居住证"], [LOST_Q, LOST_A, "居住证"], [PASSPORT_Q, PASSPORT_A, "护照"]]
    ok(kb_cli("ingest", make_xlsx(tmp_path / "常见问题.xlsx", rows, ["问题", "答复", "事项"])))
    server = start_server(gguf, tmp_path / "server.log")
    env = {"KB_LLM_BASE_URL": server.url, "KB_LLM_MODEL": MODEL_NAME, "KB_LLM_TIMEOUT": "60", "KB_LLM_MAX_TOKENS": "24"}
    try:
        before = ok(kb_cli("ask", SIGN_Q, "--session", "窗口3", env=env))
        assert "注意：" in before and "大模型" in before and "连接不上" not in before, "the model was asked"
        server.stop()
        after = ok(kb_cli("ask", "那丢了怎么补办？", "--session", "窗口3", env=env))
    finally:
        server.stop()
    assert "注意：大模型服务连接不上或连接中断，以下为离线检索的回答。" in after
    assert f"答：{LOST_A}" in after and PASSPORT_A not in after.split("相关资料")[0]


def test_kb_ask_refuses_when_the_model_finds_no_answer_and_the_question_becomes_a_gap(llm_server, kb_cli,  # noqa: F811
                                                                                       tmp_path):
    rows = [[SIGN_Q, SIGN_A, "居住证"], [LOST_Q, LOST_A, "居住证"]]
    ok(kb_cli("ingest", make_xlsx(tmp_path / "常见问题.xlsx", rows, ["问题", "答复", "事项"])))
    offline = json.loads(ok(kb_cli("ask", SIGN_Q, "--json", "--offline")))
    assert offline["status"] == "answered" and SIGN_Q not in ok(kb_cli("gaps"))
    with Proxy(llm_server.url, extra=pinned(DECLINED)) as proxy:
        env = {"KB_LLM_BASE_URL": proxy.url, "KB_LLM_MODEL": MODEL_NAME, "KB_LLM_TIMEOUT": "60"}
        declined = json.loads(ok(kb_cli("ask", SIGN_Q, "--json", env=env)))
    assert len(proxy.requests) == 1 and DECLINED in proxy.requests[0]["json"]["messages"][0]["content"]
    assert declined["status"] == "no_answer" and declined["citations"] == []
    assert "认为其中没有这个问题的答案" in declined["notes"][0] and offline["citations"][0]["title"] in declined["notes"][0]
    assert SIGN_Q in ok(kb_cli("gaps")), "the refused question is a knowledge gap"


def test_kb_ask_lets_the_model_read_below_the_threshold_when_the_setting_says(llm_server, kb_cli, tmp_path):  # noqa: F811
    ok(kb_cli("ingest", make_xlsx(tmp_path / "常见问题.xlsx", [[SIGN_Q, SIGN_A, "居住证"]], ["问题", "答复", "事项"])))
    with Proxy(llm_server.url, extra=pinned("带身份证和居住证原件[1]。")) as proxy:
        env = {"KB_LLM_BASE_URL": proxy.url, "KB_LLM_MODEL": MODEL_NAME, "KB_LLM_TIMEOUT": "60"}
        strict = json.loads(ok(kb_cli("ask", SIGN_Q, "--json", "--min-confidence", "1", env=env)))
        assert strict["status"] == "no_answer" and proxy.requests == []
        lenient = json.loads(ok(kb_cli("ask", SIGN_Q, "--json", "--min-confidence", "1",
                                       env={**env, "KB_LLM_MIN_CONFIDENCE": "0.5"})))
    assert len(proxy.requests) == 1 and lenient["status"] == "answered"
    assert lenient["text"] == "带身份证和居住证原件[1]。" and lenient["citations"]
    assert any("未达回答门槛" in note for note in lenient["notes"])


def test_kb_eval_llm_reports_the_models_answers_beside_the_offline_ones(llm_server, kb_cli, tmp_path):  # noqa: F811
    rows = [[SIGN_Q, SIGN_A, "居住证"], [LOST_Q, LOST_A, "居住证"]]
    ok(kb_cli("ingest", make_xlsx(tmp_path / "常见问题.xlsx", rows, ["问题", "答复", "事项"])))
    cases = tmp_path / "questions.jsonl"
    cases.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in (
        {"question": SIGN_Q, "answer": SIGN_A}, {"question": LOST_Q, "answer": LOST_A},
        {"question": "驾驶证到期了怎么换？", "answerable": False})), encoding="utf-8")
    unset = kb_cli("eval", str(cases), "--llm", env={"KB_LLM_BASE_URL": None})
    assert unset.exit_code == 1 and "KB_LLM_BASE_URL" in unset.output and "Traceback" not in unset.output
    with Proxy(llm_server.url, extra=pinned(DECLINED)) as proxy:
        env = {"KB_LLM_BASE_URL": proxy.url, "KB_LLM_MODEL": MODEL_NAME, "KB_LLM_TIMEOUT": "60"}
        result = json.loads(ok(kb_cli("eval", str(cases), "--llm", "--json", env=env)))
        text = ok(kb_cli("eval", str(cases), "--llm", env=env))
    assert len(proxy.requests) == 4, "two answerable questions, twice; the unanswerable one is refused offline"
    offline, llm = result["answers"]["at"], result["llm"]
    assert offline["answered_right"] == 1.0 and llm["answered_right"] == 0.0 and llm["refused_unanswerable"] == 1.0
    assert llm["sources"] == {"llm": 0, "declined": 2, "fallback": 0, "offline": 1}
    assert "大模型回答（阈值 0.7" in text and "认为资料没有答案 2 个" in text
