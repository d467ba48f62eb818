"""Multi-turn counter chat: follow-ups resolved against the conversation (offline), stored sessions,
and `kb ask --session` over separate invocations."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from fixtures import make_xlsx
from test_lifecycle_cli import kb_cli, ok  # noqa: F401  (kb_cli is a fixture)

from bot import answer
from bot.chat import Conversation, OfflineRewriter, follow_up, turn_of
from ingest import ingest_paths
from kb.sessions import SessionError, Sessions, Turn

HEADERS = ["编号", "问题", "答复", "事项", "部门"]
ROWS = [
    ["QZ", "居住证签注怎么办理？", "居住证每年签注一次，可通过公安微信平台在线签注，也可到居住地派出所办理；"
     "需带本人身份证和居住证原件，当场办结。", "居住证签注", "市公安局"],
    ["QS", "第一次申领居住证需要什么条件？", "在本市居住满半年并有合法稳定就业或住所的，可到派出所申领居住证，"
     "受理后15个工作日内制证。", "居住证首次申领", "市公安局"],
    ["SF", "身份证丢了，户口在外省能在本市补办吗？", "可以，到本市任一派出所申请补领，按规定缴纳工本费，"
     "一般60日内制证。", "身份证异地补领", "市公安局"],
    ["HZ", "护照丢了怎么补办？", "先办理护照报失，再持本人身份证到出入境接待大厅申请补发，7个工作日内制发。",
     "护照遗失补发", "市公安局出入境管理支队"],
    ["LZ", "辞职后公积金能全部取出来吗？", "离职后账户封存满6个月且在异地没有继续缴存的，可申请销户提取全部余额。",
     "离职销户提取", "市住房公积金管理中心"],
    ["TX", "退休了公积金能一次性全部取出来吗？", "办理退休手续后可申请销户提取公积金账户全部余额，不需要等待封存期。",
     "退休提取公积金", "市住房公积金管理中心"],
    ["SB", "社保卡在异地丢了怎么挂失补办？", "拨打12333临时挂失后，持身份证到社保卡服务网点正式挂失并补卡，"
     "一般15个工作日制卡。", "社保卡挂失补办", "市人力资源和社会保障局"],
]


@pytest.fixture
def chat_kb(kb, tmp_path):
    """A knowledge base of the seven entries above."""
    ingest_paths(kb, [make_xlsx(tmp_path / "常见问题.xlsx", ROWS, HEADERS)])
    return kb


def cited(result) -> str:
    return result.citations[0].parent_id if result.answered else ""


def test_a_follow_up_without_a_subject_is_asked_about_the_previous_one(chat_kb):
    chat = Conversation(chat_kb)
    first = chat.ask("居住证签注怎么办？")
    assert cited(first) == "QZ" and first.resolved == ""
    followup = chat.ask("那需要带什么材料？")
    assert followup.question == "那需要带什么材料？"
    assert "居住证" in followup.resolved and "签注" in followup.resolved and "那" not in followup.resolved
    assert cited(followup) == "QZ"
    assert chat.turns[-1] == Turn("那需要带什么材料？", followup.resolved, "居住证签注", "居住证签注怎么办理？", "QZ",
                                  "answered")
    assert cited(answer(chat_kb, "那需要带什么材料？")) != "QZ"


def test_a_follow_up_with_its_own_subject_is_not_rewritten(chat_kb):
    chat = Conversation(chat_kb)
    chat.ask("居住证签注怎么办？")
    switched = chat.ask("护照丢了怎么补办？")
    assert switched.resolved == "" and cited(switched) == "HZ"
    assert chat.turns[-1].resolved == "护照丢了怎么补办？"


def test_a_subject_the_last_answer_names_as_a_material_is_still_a_new_subject(chat_kb):
    chat = Conversation(chat_kb)
    card = chat.ask("社保卡丢了怎么办？")
    assert cited(card) == "SB" and "身份证" in card.text
    identity = chat.ask("身份证丢了怎么补办？")
    assert identity.resolved == "" and cited(identity) == "SF"


def test_a_new_case_keeps_the_subject_and_drops_the_old_case(chat_kb):
    chat = Conversation(chat_kb)
    assert cited(chat.ask("辞职了，公积金能全部取出来吗？")) == "LZ"
    retired = chat.ask("那退休了呢？")
    assert "公积金" in retired.resolved and "辞职" not in retired.resolved and "离职" not in retired.resolved
    assert cited(retired) == "TX"


def test_a_bare_new_subject_keeps_the_previous_case(chat_kb):
    chat = Conversation(chat_kb)
    assert cited(chat.ask("身份证丢了，户口在外省能在本市补办吗？")) == "SF"
    passport = chat.ask("那护照呢？")
    assert "护照" in passport.resolved and "丢了" in passport.resolved and "身份证" not in passport.resolved
    assert cited(passport) == "HZ"


def test_a_pronoun_points_back_to_the_conversation(chat_kb):
    chat = Conversation(chat_kb)
    chat.ask("社保卡丢了怎么办？")
    how_long = chat.ask("这个要多久？")
    assert how_long.resolved.startswith("社保卡") and "这个" not in how_long.resolved
    assert cited(how_long) == "SB"


def test_the_first_question_is_answered_as_asked(chat_kb):
    assert OfflineRewriter(chat_kb)([], "那需要带什么材料？") == "那需要带什么材料？"
    assert follow_up(chat_kb, [], "居住证签注怎么办？").resolved == ""


def test_subject_words_come_from_the_lexicon_and_department_specific_items(chat_kb):
    rewriter = OfflineRewriter(chat_kb)
    subjects = rewriter.vocabulary().subjects
    assert {"签注", "挂失"} <= subjects
    assert not {"补办", "销户", "离职", "异地", "提取"} & subjects  # 提取 is a case (缴存 | 提取), not a matter
    assert rewriter.subjects("护照和房本都丢了，要带什么材料？") == ["护照", "房本"]
    assert rewriter.subjects("需要带什么材料？") == []


def test_the_rewriting_hook_takes_any_function(chat_kb):
    seen = []

    def rewrite(history, question):
        seen.append(([t.question for t in history], question))
        return "退休了公积金能一次性全部取出来吗？"

    history = [turn_of(follow_up(chat_kb, [], "辞职了，公积金能全部取出来吗？"))]
    result = follow_up(chat_kb, history, "那我爸呢？", rewrite)
    assert seen == [(["辞职了，公积金能全部取出来吗？"], "那我爸呢？")]
    assert result.resolved == "退休了公积金能一次性全部取出来吗？" and cited(result) == "TX"


def test_sessions_belong_to_one_user_and_expire(kb):
    sessions = Sessions(kb.records, hours=1)
    start = datetime(2026, 11, 30, 9, 0)
    sessions.append("窗口3", "zhangsan", Turn("居住证签注怎么办？", "居住证签注怎么办？", "居住证签注"), now=start)
    sessions.append("窗口3", "zhangsan", Turn("要带什么？", "居住证签注，要带什么？"), now=start + timedelta(minutes=5))
    turns = sessions.turns("窗口3", "zhangsan", now=start + timedelta(minutes=30))
    assert [t.resolved for t in turns] == ["居住证签注怎么办？", "居住证签注，要带什么？"]
    assert turns[0].at == start.isoformat(timespec="seconds")
    with pytest.raises(SessionError, match="其他用户"):
        sessions.turns("窗口3", "lisi", now=start)
    with pytest.raises(SessionError, match="其他用户"):
        sessions.append("窗口3", "lisi", Turn("护照怎么办？", "护照怎么办？"), now=start)
    assert sessions.turns("窗口3", "zhangsan", now=start + timedelta(hours=2)) == []
    sessions.append("窗口3", "lisi", Turn("护照怎么办？", "护照怎么办？"), now=start + timedelta(hours=2))
    assert [t.question for t in sessions.turns("窗口3", "lisi", now=start + timedelta(hours=2))] == ["护照怎么办？"]
    with pytest.raises(SessionError, match="不能为空"):
        sessions.turns("  ", "zhangsan")


def test_kb_ask_session_keeps_the_conversation_across_invocations(kb_cli, tmp_path):  # noqa: F811
    ok(kb_cli("ingest", make_xlsx(tmp_path / "常见问题.xlsx", ROWS, HEADERS)))
    first = ok(kb_cli("ask", "辞职了，公积金能全部取出来吗？", "--session", "窗口3"))
    assert "按‘" not in first and "LZ" in first
    followup = ok(kb_cli("ask", "那退休了呢？", "--session", "窗口3"))
    assert followup.splitlines()[0].startswith("按‘") and "公积金" in followup.splitlines()[0]
    assert "编号 TX" in followup
    as_json = json.loads(ok(kb_cli("ask", "要等封存期吗？", "--session", "窗口3", "--json")))
    assert as_json["question"] == "要等封存期吗？" and "公积金" in as_json["resolved"]
    assert as_json["citations"][0]["parent_id"] == "TX"
    elsewhere = json.loads(ok(kb_cli("ask", "那退休了呢？", "--session", "窗口5", "--json")))
    assert elsewhere["resolved"] == ""
    assert json.loads(ok(kb_cli("ask", "要等封存期吗？", "--json")))["resolved"] == ""
    refused = kb_cli("ask", "那退休了呢？", "--session", "x" * 65)
    assert refused.exit_code == 1 and "会话编号" in refused.output and "Traceback" not in refused.output
