"""bot.quiz_llm, question generation with an LLM, with a fake model that answers per entry and type:
valid items of each type become questions with their source and a citing explanation; invalid items
(unreadable JSON, two keys for a 单选, repeated options, a blank key not in the entry, a letter outside
the options …) are dropped with a reason naming the entry and the field; a dead model and invalid items
leave the shortfall to the offline generator; and a round trip through the real llama.cpp server."""

from __future__ import annotations

import json
import logging

import pytest
from llm_server import MODEL_NAME, Proxy, gguf, llm_server, needs_server  # noqa: F401
from test_quiz import ROWS

from bot.llm import openai_compatible
from bot.quiz import LETTERS, build, duplicate_facts, problems
from bot.quiz_llm import GENERATE_PROMPT, QuizItem, build_with_llm, generation_prompt, parse_item
from bot.study import BLANK, normalized
from kb.quizbank import KINDS, Source
from kb.text import split_sentences
from kb.types import Entry

ENTRIES = {row[0]: Entry(row[0], row[1], row[2], row[3], row[4], date=row[5], basis="《居住证暂行条例》")
           for row in ROWS}
POOL = [(entry, 2) for entry in ENTRIES.values()]
MARK = "（模型解析）"
INVALID = "抱歉，我不会出这道题。"


class Canned:
    """A fake LLM: ``complete`` answers from ``replies`` keyed by (entry id, type) — the entry and type
    read back from the prompt — else ``default``; every request is recorded."""

    def __init__(self, replies: dict[tuple[str, str], str | None] | None = None, default: str | None = INVALID):
        self.replies = replies or {}
        self.default = default
        self.calls: list[tuple[str, str, str, str]] = []

    def complete(self, system: str, user: str) -> str | None:
        entry_id = next(e.id for e in ENTRIES.values() if f"问题：{e.question}\n" in user)
        kind = next(k for k, label in KINDS.items() if f"出一道{label}题" in user)
        self.calls.append((entry_id, kind, system, user))
        return self.replies.get((entry_id, kind), self.default)


def item(kind: str, stem: str, answer, options=(), points=()) -> str:
    return json.dumps({"kind": KINDS[kind], "stem": stem, "options": list(options), "answer": answer,
                       "points": list(points), "explanation": f"答案见条目原文。{MARK}"}, ensure_ascii=False)


VALID = {
    ("JZ-1", "single"): item("single", "居住证应在有效期满前___办理签注。", ["A"],
                             ["A. 30日内", "B. 60日内", "C. 15日内", "D. 10日内"]),
    ("JZ-2", "multiple"): "好的，题目如下：\n```json\n" + item(
        "multiple", "第一次申领居住证，需要持哪些材料？", ["A", "B"], ["身份证", "租赁合同", "户口簿", "出生医学证明"])
        + "\n```",
    ("JZ-3", "judge"): "题目：" + item("judge", "持身份证到居住地派出所申请补领，填写《居住证补领申请表》，10个工作日内制证。",
                                    "正确") + " 以上。",
    ("JZ-4", "judge"): item("judge", "居住证有效期为10年，期满前60日内可申请换领。", ["错误"]),
    ("GJJ-1", "blank"): "<think>挖去到账时限。{\"kind\": \"单选\"}</think>" + item(
        "blank", "租房提取公积金的，通过公积金APP线上申请，资金＿＿＿＿到账。", ["3个工作日内"]),
    ("GJJ-2", "short"): item("short", "退休后怎样提取公积金？请简述要点。", ["持身份证和银行卡到窗口销户提取。"],
                             points=["身份证", "本人银行卡", "公积金窗口", "5个工作日内"]),
}


def _built(replies, pool, counts, **options):
    llm = Canned(replies)
    seen: list[tuple[int, int]] = []
    questions, made, reasons = build_with_llm(llm, pool, counts, progress=lambda d, t: seen.append((d, t)), **options)
    return llm, questions, made, reasons, seen


@pytest.mark.parametrize("key", list(VALID), ids=[f"{e}-{k}" for e, k in VALID])
def test_a_valid_item_of_each_type_becomes_a_question_citing_its_entry(key):
    entry_id, kind = key
    entry = ENTRIES[entry_id]
    llm, questions, made, reasons, seen = _built(VALID, [(entry, 3)], {kind: 1})
    assert reasons == [] and made == 1 and seen[-1] == (1, 1)
    ((asked_id, asked_kind, system, user),) = llm.calls
    assert (asked_id, asked_kind, system) == (entry_id, kind, GENERATE_PROMPT)
    assert user == generation_prompt(kind, entry) and user.endswith(f"答复：{entry.answer}\n依据：《居住证暂行条例》\n>>>")
    (q,) = questions
    assert q.kind == kind and q.sources == (Source(entry_id, 3),) and q.item == entry.item
    assert problems(q, entry) == []
    assert MARK in q.explanation and f"出处：条目 {entry_id}（第 3 版）《{entry.question}》" in q.explanation
    answer = normalized(entry.answer)
    if kind == "short":
        assert q.stem == "退休后怎样提取公积金？请简述要点。" and q.answer == (entry.answer,)
        assert q.points == ("身份证", "本人银行卡", "公积金窗口", "5个工作日内") and q.fact == answer
        assert q.difficulty == "难"
        return
    assert q.stem.startswith(f"关于“{entry.question}”：")
    if kind == "single":
        assert q.options == ("30日内", "60日内", "15日内", "10日内") and q.answer == ("A",)
        assert BLANK in q.stem and q.fact == f"{normalized(split_sentences(entry.answer)[0])}#30日内"
    elif kind == "multiple":
        assert q.answer == ("A", "B") and [q.options[LETTERS.index(k)] for k in q.answer] == ["身份证", "租赁合同"]
        assert q.fact == answer
    elif kind == "judge":
        assert q.options == ("正确", "错误")
        assert q.answer == (("正确",) if entry_id == "JZ-3" else ("错误",))
        assert q.fact.startswith(normalized(split_sentences(entry.answer)[0]) + "#")
    else:
        assert q.answer == ("3个工作日内",) and BLANK in q.stem and "3个工作日内" not in q.stem
        assert q.fact == f"{normalized(entry.answer)}#{normalized('3个工作日内')}"


SINGLE = "居住证应在有效期满前＿＿＿＿办理签注。"
BROKEN = [
    ("unreadable", "single", '{"kind": "单选", "stem": "居住证应在", "options": ["30日内", ', "没有可以解读的 JSON"),
    ("two keys", "single", item("single", SINGLE, ["A", "B"], ["30日内", "60日内", "15日内", "10日内"]),
     "字段 answer（答案）：单选题应有一个正确答案，给了 2 个"),
    ("repeated options", "single", item("single", SINGLE, ["A"], ["30日内", "三十天内", "15日内", "10日内"]),
     "字段 options（选项）：选项重复"),
    ("letter outside", "single", item("single", SINGLE, "E", ["30日内", "60日内", "15日内", "10日内"]),
     "字段 answer（答案）：答案 E 不在选项 A–D 之中"),
    ("three options", "single", item("single", SINGLE, "A", ["30日内", "60日内", "15日内"]),
     "字段 options（选项）：单选题应有 4 个选项，给了 3 个"),
    ("lengths", "single", item("single", SINGLE, "A", ["30日内", "60日内", "15日内", "到居住地派出所或综合窗口办理签注手续"]),
     "选项长短相差太大"),
    ("key not in the entry", "single", item("single", SINGLE, "B", ["30日内", "60日内", "15日内", "10日内"]),
     "质量检查：正确选项不在条目答复中"),
    ("blank key not in the entry", "blank", item("blank", "居住证应在有效期满前＿＿＿＿办理签注。", ["45日内"]),
     "字段 answer（答案）：填空的答案“45日内”不在条目答复中"),
    ("no blank", "blank", item("blank", "居住证应在有效期满前办理签注。", ["30日内"]), "字段 stem（题干）：填空题的题干应有一处"),
    ("empty stem", "blank", item("blank", " ", ["30日内"]), "字段 stem（题干）：题干是空的"),
    ("unknown kind", "blank", item("blank", SINGLE, ["30日内"]).replace('"填空"', '"连线"'), "题型“连线”不认识"),
    ("other kind", "blank", item("judge", "居住证每年签注一次。", ["正确"]), "要的是填空题，给的是判断题"),
    ("maybe", "judge", item("judge", "居住证每年签注一次。", ["也许"]), "判断题的答案应为“正确”或“错误”"),
    ("true but not so", "judge", item("judge", "居住证每年签注两次。", ["正确"]), "质量检查：判断题的答案与原文不符"),
    ("false and unrelated", "judge", item("judge", "护照可以在网上自助办理。", ["错误"]), "与条目答复中的任何一句都不相像"),
    ("point not in the entry", "short", item("short", "居住证怎样签注？", "见条目", points=["30日内", "户口簿"]),
     "字段 points（评分要点）：评分要点“户口簿”不在条目答复中"),
    ("missing stem", "short", json.dumps({"kind": "简答", "points": ["30日内", "派出所"]}), "字段 stem（题干）：缺少这一项"),
]


@pytest.mark.parametrize("case, kind, reply, reason", BROKEN, ids=[b[0] for b in BROKEN])
def test_an_invalid_item_is_dropped_with_a_reason_naming_the_entry_and_field(case, kind, reply, reason, caplog):
    entry = ENTRIES["JZ-1"]
    with caplog.at_level(logging.WARNING, logger="bot.quiz_llm"):
        llm, questions, made, reasons, _ = _built({("JZ-1", kind): reply}, [(entry, 1)], {kind: 1})
    assert len(llm.calls) == 1 and made >= 1
    (dropped,) = reasons
    assert dropped.startswith(f"条目 JZ-1（《{entry.question}》）的{KINDS[kind]}题未采用：") and reason in dropped
    assert dropped in caplog.text
    assert all(MARK not in q.explanation and problems(q, entry) == [] for q in questions), "only offline questions"


def test_a_model_that_does_not_answer_leaves_the_bank_to_the_offline_generator():
    counts = {"single": 2, "multiple": 1, "judge": 2, "blank": 2, "short": 1}
    llm = Canned(default=None)
    questions, made, reasons = build_with_llm(llm, POOL, counts, seed="2026Q4", avoid={"x"})
    assert len(llm.calls) == 1, "a dead model is not asked again"
    assert reasons == ["大模型没有回应（出错或超时），其余题目改用离线方法生成。"]
    assert (questions, made) == build(POOL, counts, "2026Q4", {"x"})
    assert {kind: sum(q.kind == kind for q in questions) for kind in counts} == counts


def test_model_items_and_offline_ones_fill_a_bank_without_repeating_an_entry_or_fact():
    counts = {"single": 2, "multiple": 1, "judge": 2, "blank": 2, "short": 1}
    llm, questions, made, reasons, seen = _built(VALID, POOL, counts, seed="2026Q4")
    assert {kind: sum(q.kind == kind for q in questions) for kind in counts} == counts
    assert duplicate_facts(questions) == 0 and len({q.sources[0].entry_id for q in questions}) == len(questions)
    assert all(problems(q, ENTRIES[q.sources[0].entry_id]) == [] for q in questions)
    asked = [(e, k) for e, k, _, _ in llm.calls]
    from_model = {(q.sources[0].entry_id, q.kind) for q in questions if MARK in q.explanation}
    assert from_model == {key for key in asked if key in VALID}, "every valid item asked for is taken"
    assert len(from_model) >= 3 and len(questions) > len(from_model), "both the model and the offline generator made some"
    assert len(reasons) == len(asked) - len(from_model) and made >= len(asked)
    assert all(r.startswith("条目 ") for r in reasons)
    assert seen[-1][0] == seen[-1][1] and [d for d, _ in seen[:len(asked)]] == list(range(1, len(asked) + 1))
    assert len(asked) <= 2 * sum(counts.values())


def test_last_quarters_fact_is_not_asked_again():
    entry = ENTRIES["GJJ-1"]
    first, _, _ = build_with_llm(Canned(VALID), [(entry, 1)], {"blank": 1})
    again, _, reasons = build_with_llm(Canned(VALID), [(entry, 1)], {"blank": 1}, avoid={first[0].fact})
    assert MARK in first[0].explanation and all(q.fact != first[0].fact for q in again)
    assert reasons == [f"条目 GJJ-1（《{entry.question}》）的填空题未采用：考查的知识点本题库或上一季度题库已经考过"]


def test_a_difficulty_mix_takes_the_model_items_it_wants_and_frees_the_other_entries():
    replies = {(e, "judge"): item("judge", split_sentences(ENTRIES[e].answer)[0], ["正确"]) for e in ENTRIES}
    llm, questions, _, _, _ = _built(replies, POOL, {"judge": 2, "blank": 1}, seed="难度", mix={"易": 1.0})
    judged = [e for e, k, _, _ in llm.calls if k == "judge"]
    assert len(judged) == 4, "twice the wanted count is made for the mix to choose from"
    chosen = [q.sources[0].entry_id for q in questions if q.kind == "judge"]
    assert chosen == judged[:2] and all(MARK in q.explanation and q.difficulty == "易" for q in questions[:2])
    first_blank = next(e for e, k, _, _ in llm.calls if k == "blank")
    assert first_blank == judged[2], "an entry whose item was not chosen is free again"
    assert sum(q.kind == "blank" for q in questions) == 1


def test_parsing_reads_letters_in_one_string_and_fills_judge_options():
    entry = ENTRIES["JZ-2"]
    parsed, faults = parse_item(item("multiple", "需要哪些材料？", "A、B", ["身份证", "租赁合同", "户口簿", "出生医学证明"]), entry)
    assert faults == [] and parsed.answer == ["A", "B"] and parsed.kind == "multiple"
    judged = QuizItem.model_validate({"kind": "判断题", "stem": "在本市居住满半年。", "answer": "对"})
    assert (judged.kind, judged.answer, judged.options) == ("judge", ["正确"], ["正确", "错误"])


@needs_server
def test_the_real_server_never_yields_a_half_formed_question(llm_server):  # noqa: F811
    schema = {"type": "object", "required": ["kind", "stem", "options", "answer", "points", "explanation"],
              "properties": {"kind": {"enum": list(KINDS.values())}, "stem": {"type": "string", "maxLength": 60},
                             "options": {"type": "array", "items": {"type": "string", "maxLength": 12}, "maxItems": 4},
                             "answer": {"type": "array", "items": {"type": "string", "maxLength": 12}, "maxItems": 2},
                             "points": {"type": "array", "items": {"type": "string", "maxLength": 12}, "maxItems": 3},
                             "explanation": {"type": "string", "maxLength": 30}}}
    constrained = {"response_format": {"type": "json_object", "schema": schema}}
    counts = {"single": 1, "blank": 1}
    with Proxy(llm_server.url) as proxy:
        llm = openai_compatible(proxy.url, MODEL_NAME, timeout=60, max_tokens=200, extra_body=constrained)
        questions, made, reasons = build_with_llm(llm, POOL, counts, seed="真模型")
    assert 1 <= len(proxy.requests) <= 2 * sum(counts.values())
    assert proxy.requests[0]["json"]["messages"][0]["content"] == GENERATE_PROMPT
    assert {kind: sum(q.kind == kind for q in questions) for kind in counts} == counts
    for q in questions:
        entry = ENTRIES[q.sources[0].entry_id]
        assert problems(q, entry) == [] and f"条目 {entry.id}（第 2 版）" in q.explanation
        if q.kind != "short":
            assert q.stem.startswith(f"关于“{entry.question}”：")
    assert made >= len(proxy.requests) - sum("没有回应" in r for r in reasons)
    assert all(r.startswith("条目 ") or "没有回应" in r for r in reasons)


@needs_server
def test_a_pinned_item_from_the_real_server_becomes_a_question(llm_server):  # noqa: F811
    pinned = {"grammar": f"root ::= {json.dumps(VALID[('GJJ-1', 'blank')], ensure_ascii=False)}"}
    llm = openai_compatible(llm_server.url, MODEL_NAME, timeout=60, extra_body=pinned)
    (q,), made, reasons = build_with_llm(llm, [(ENTRIES["GJJ-1"], 4)], {"blank": 1})
    assert (made, reasons, q.answer, q.sources) == (1, [], ("3个工作日内",), (Source("GJJ-1", 4),))
    assert MARK in q.explanation
