"""bot.span: the answer sentences of a document passage, at most 150 characters."""

from __future__ import annotations

import pytest

import bot.span
from bot import answer
from bot.span import MAX_CHARS, best_span, pieces
from fixtures import make_md
from ingest import ingest_paths
from kb.text import split_sentences

LONG = ("根据市政府有关文件精神，为进一步优化营商环境，切实减轻企业负担，经研究决定，对受疫情影响较大的中小微企业，"
        "在疫情防控期间免收承租国有资产类经营用房的租金，免收期限为两个月，已经缴纳的租金可以在以后的租期中抵扣，"
        "具体办理程序由各区国有资产管理部门另行通知，企业可以向所在街道的企业服务中心咨询办理进度和需要提交的材料。")


def test_a_sentence_too_long_to_show_is_cut_into_clauses():
    assert len(LONG) > MAX_CHARS
    parts = pieces(LONG)
    assert len(parts) > 1 and {n for _, n in parts} == {0}
    assert "".join(p for p, _ in parts) == LONG
    assert all(len(p) <= MAX_CHARS for p, _ in parts)


def test_the_span_of_a_long_sentence_fits_and_holds_the_asked_clause():
    span = best_span({"免收期限": 3.0, "租金": 1.0}, LONG)
    assert len(span) <= MAX_CHARS and span in LONG
    assert "免收期限为两个月" in span


def test_a_rare_unit_outweighs_common_ones():
    text = "办理居住证需要本人到场办理。居住证办理材料包括身份证和照片。居住证丢失的可以到派出所补办。"
    units = {"办理": 0.2, "居住证": 0.5, "丢失": 4.0}
    assert best_span(units, text, n=1) == "居住证丢失的可以到派出所补办。"
    assert best_span({**units, "丢失": 0.1}, text, n=1) == "办理居住证需要本人到场办理。"


def test_the_span_keeps_the_neighbouring_sentence_that_fits():
    text = "第一句讲别的事情。申请材料需要向窗口提交。提交后五个工作日内办结。最后一句也讲别的事情，而且写得很长很长很长很长。"
    span = best_span({"申请材料": 2.0}, text, n=2, limit=30)
    assert span == "申请材料需要向窗口提交。提交后五个工作日内办结。"
    assert best_span({"申请材料": 2.0}, text, n=1) == "申请材料需要向窗口提交。"


def test_an_answer_of_the_asked_type_goes_first():
    text = "窗口提供企业开办帮办服务。企业开办全流程不超过2个工作日。"
    assert best_span({"帮办": 2.0}, text, n=1) == "窗口提供企业开办帮办服务。"
    assert best_span({"帮办": 2.0}, text, n=1, answers=lambda s: "工作日" in s) == "企业开办全流程不超过2个工作日。"


TITLE = "临时救助申请办事指南"
PASSAGE = [
    "临时救助申请由困难群众本人或者委托他人向户籍所在地或者实际居住地的街道办事处（乡镇人民政府）提出，街道办事处受理临时救助申请后组织入户调查和审核，并报区民政局审批。",
    "经审批同意给予救助的，救助金由区民政局在审批完成后的十个工作日内按照核定的金额，通过合作银行直接发放到困难群众本人名下的社会保障卡银行账户，一律不发放现金。",
]


@pytest.fixture
def guide_kb(kb, tmp_path):
    ingest_paths(kb, [make_md(tmp_path / "救助.md", TITLE, ["".join(PASSAGE)])])
    return kb


def test_document_answer_is_at_most_150_characters_of_its_passage(guide_kb):
    reply = answer(guide_kb, "临时救助的救助金发放到哪个账户？", min_confidence=0)
    assert reply.answered and reply.citations[0].title == TITLE
    assert len(reply.text) <= MAX_CHARS < len(reply.passage)
    assert "社会保障卡银行账户" in reply.text
    assert all(s in reply.passage for s in split_sentences(reply.text))


def test_words_of_the_document_title_locate_the_answer_less(guide_kb, monkeypatch):
    """临时救助 and 申请 name the document; the rest of the question says where in it the answer is."""
    question = "临时救助申请通过了，钱打到哪个账户？"
    assert all(len(s) > MAX_CHARS / 2 for s in PASSAGE), "only one sentence fits in an answer"
    assert "社会保障卡银行账户" in answer(guide_kb, question, min_confidence=0).text
    monkeypatch.setattr(bot.span, "TITLE_WEIGHT", 1.0)
    assert "社会保障卡银行账户" not in answer(guide_kb, question, min_confidence=0).text


TESTING = [
    "对口岸一线人员和集中隔离场所的工作人员，以及定点收治机构发热门诊医务人员每天开展一次核酸检测，"
    "检测结果由所在单位汇总以后按周报送属地疾控机构备案，并由卫生健康部门定期抽查核实。",
    "普通医院的医务人员中，除发热门诊以外其他各个科室的全体工作人员每周开展两次核酸检测，"
    "出现本土疫情以后按照属地疫情防控要求增加检测频次，具体安排由各医院感染管理部门通知。",
]


def test_the_sentence_that_ties_the_asked_value_to_the_question_is_shown(kb, tmp_path):
    """Both sentences give how often; the second names more of the question, the first says it of 发热门诊医务人员."""
    assert all(len(s) > MAX_CHARS / 2 for s in TESTING), "only one sentence fits in an answer"
    ingest_paths(kb, [make_md(tmp_path / "检测.md", "核酸检测工作安排", ["".join(TESTING)])])
    reply = answer(kb, "普通医院发热门诊医务人员多久做一次核酸检测？", min_confidence=0)
    assert reply.answered
    assert reply.text == TESTING[0]


FORM_TITLE = "唐山市民服务中心申报材料清单"
FORM = ["申报流水号：申报主体：申报主体编号：办理人姓名：联系电话：申报事项名称：办理时限：",
        "申报材料名称：材料份数：是否原件：收件人签名：收件日期：备注："]


def test_a_value_only_the_title_states_leads_the_answer(kb, tmp_path):
    """A form's rows say nothing of the centre it belongs to; its heading does."""
    ingest_paths(kb, [make_md(tmp_path / "清单.md", FORM_TITLE, FORM)])
    reply = answer(kb, "申报材料清单的表头写的是哪个服务中心？", min_confidence=0)
    assert reply.answered and reply.text.startswith(f"{FORM_TITLE}：")
    assert reply.text.removeprefix(f"{FORM_TITLE}：") in reply.passage
    assert not answer(kb, "申报材料清单要写哪些内容？", min_confidence=0).text.startswith(FORM_TITLE)
