"""Answer trust on near entries: the deciding word, ambiguity, an uncovered subject, the asked answer type.

The knowledge base holds pairs of entries that one word separates (离职/退休, 办理/取消); each test
asks in everyday words and checks which entry answers, or that the bot asks or refuses instead.
"""

from __future__ import annotations

import pytest

from bot import answer
from fixtures import drop_collection, make_xlsx, open_kb, unique_collection
from ingest import ingest_paths
from kb.deciding import SILENT_LEAD

ROWS = [
    ["FAQ-LZ", "辞职后要去外地工作，本市的住房公积金能一次性全部取出来吗？",
     "非本市户籍职工与单位解除劳动关系、账户封存满6个月且在异地没有继续缴存的，可以申请销户提取，带身份证和本人银行卡到公积金窗口办理。",
     "离职销户提取"],
    ["FAQ-TX", "办完退休手续了，住房公积金账户里的钱能全部取出来吗？",
     "职工办理退休手续后，可以持身份证和退休证明申请提取住房公积金账户全部余额，并办理销户，资金转入本人银行卡。",
     "退休提取公积金"],
    ["FAQ-BA", "退休后要长期住在外省，医保异地长期居住备案怎么办理？",
     "通过国家医保服务平台APP或医保窗口申请异地长期居住备案，填写居住地址并签署承诺书，备案后在居住地定点医院直接结算。",
     "异地长期居住备案"],
    ["FAQ-QX", "已经搬回本市居住了，之前的异地长期居住备案怎么取消？",
     "通过国家医保服务平台APP或到医保窗口申请取消异地长期居住备案，取消后在本市定点医院就医按本市规定结算。",
     "取消异地长期居住备案"],
    ["FAQ-SB", "社会保障卡丢了怎么补办？",
     "先拨打12333挂失，再持身份证到合作银行网点补办社会保障卡，一般15个工作日内制卡。", "社保卡补办"],
    ["FAQ-DJ", "以前单位有几个月没给我交养老保险，断缴的那几个月还能补上吗？",
     "因用人单位原因漏缴的，由单位持劳动合同、工资发放记录到社保窗口申请补缴，补缴后缴费年限连续计算。", "养老保险中断缴费补缴"],
    ["FAQ-HZ", "第一次办护照需要带什么材料？",
     "携带本人身份证到出入境接待大厅现场采集照片和指纹，符合条件的7个工作日内制发护照。", "普通护照首次申请"],
]
HEADERS = ["编号", "问题", "答复", "事项"]


@pytest.fixture(scope="module")
def near_kb(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("near")
    kb = open_kb(root / "data", embedder, unique_collection())
    assert ingest_paths(kb, [make_xlsx(root / "常见问题.xlsx", ROWS, HEADERS)]).failed == []
    yield kb
    kb.close()
    drop_collection(kb)


@pytest.mark.parametrize("question, expected", [
    ("辞职了公积金能全部取出来吗？", "FAQ-LZ"),
    ("刚退休，公积金能全部取出来吗？", "FAQ-TX"),
    ("异地长期居住备案怎么取消？", "FAQ-QX"),
    ("是退休不是辞职，公积金能全部取出来吗？", "FAQ-TX"),
    ("是辞职，不是退休，公积金能全部取出来吗？", "FAQ-LZ"),
])
def test_the_answer_agrees_with_the_deciding_word(near_kb, question, expected):
    reply = answer(near_kb, question, min_confidence=0)
    assert reply.status == "answered", reply
    assert reply.citations[0].parent_id == expected


def test_a_question_that_names_the_other_case_is_not_answered_from_this_one(near_kb):
    hits = near_kb.search("退休了公积金能一次取完吗？", k=2)
    assert hits[0].parent_id == "FAQ-TX"
    only_leaving = near_kb.search("退休了公积金能一次取完吗？", k=1, filters=None)
    assert only_leaving[0].parent_id != "FAQ-LZ"


def test_paying_in_is_not_answered_by_taking_out(near_kb):
    """接着交 asks about paying into the account; both 公积金 entries are about taking the money out."""
    reply = answer(near_kb, "退休了还能接着交公积金吗？", min_confidence=0)
    assert reply.status == "no_answer", reply
    assert any("“提取”" in note and "“缴存”" in note for note in reply.notes), reply.notes


def test_two_near_entries_the_question_does_not_separate_are_both_shown(near_kb):
    reply = answer(near_kb, "住房公积金账户里的钱能一次性全部取出来吗？", min_confidence=0)
    assert reply.status == "ambiguous" and not reply.answered
    assert {c.parent_id for c in reply.citations} == {"FAQ-LZ", "FAQ-TX"}
    assert reply.text.startswith("您问的是") and "还是" in reply.text
    assert "离职" in reply.text and "退休" in reply.text  # the word that separates them is named


def test_a_subject_no_near_entry_mentions_is_refused(near_kb):
    reply = answer(near_kb, "房产证丢了怎么补办？", min_confidence=0)
    assert reply.status == "no_answer" and reply.citations == ()
    assert any("房产证" in note for note in reply.notes)


def test_an_answer_that_does_not_say_what_was_asked_is_refused(near_kb):
    reply = answer(near_kb, "第一次办护照要交多少钱？", min_confidence=0)
    assert reply.status == "no_answer"
    assert any("多少钱" in note for note in reply.notes)
    assert answer(near_kb, "第一次办护照要几天能拿到？", min_confidence=0).citations[0].parent_id == "FAQ-HZ"


def test_an_entry_about_the_other_case_is_refused(near_kb):
    reply = answer(near_kb, "护照找不到了怎么办", min_confidence=0)  # the passport entry is about first applications
    assert reply.status == "no_answer"
    assert any("“首次”" in note and "“遗失”" in note for note in reply.notes)


def test_an_entry_about_another_paper_does_not_answer(near_kb):
    question = "护照丢了，去哪补办护照？"
    judged = {j.hit.parent_id: j for j in near_kb.judged_search(question, k=5).judged}
    assert judged["FAQ-SB"].other_papers == ("社会保障卡",) and not judged["FAQ-SB"].clean
    assert judged["FAQ-HZ"].other_papers == ()
    reply = answer(near_kb, question, min_confidence=0)
    assert reply.status == "no_answer" and "FAQ-SB" not in [c.parent_id for c in reply.citations]


def test_a_one_class_contrast_picks_the_entry_that_says_it(near_kb):
    reply = answer(near_kb, "异地长期居住备案能撤销吗？", min_confidence=0)  # 撤销 = 取消: not the 办理 entry
    assert reply.status == "answered" and reply.citations[0].parent_id == "FAQ-QX"


def test_an_entry_whose_answer_covers_the_asked_case_is_not_contradicted(kb, tmp_path):
    """The entry asks about the employer's missed months, and its answer also covers the self-paid case."""
    rows = [["FAQ-BJ", "以前单位有几个月没给我交养老保险，断缴的那几个月还能补上吗？",
             "因用人单位原因漏缴的，由单位到社保窗口申请补缴。灵活就业人员自己中断缴费的，一般不能补缴中断期间的费用，"
             "可从当月起继续缴费，中断前后的缴费年限累计计算。", "养老保险中断缴费补缴"],
            ["FAQ-LH", "自己开网店没有单位，社保怎么交？", "可以以灵活就业人员身份在社保窗口或网上办理参保登记，按月缴费。",
             "灵活就业人员参保"]]
    assert ingest_paths(kb, [make_xlsx(tmp_path / "社保.xlsx", rows, HEADERS)]).failed == []
    question = "我自己交的社保断了一年，能补回来吗？"
    judged = {j.hit.parent_id: j for j in kb.judged_search(question, k=2).judged}
    assert judged["FAQ-BJ"].contradicted == () and judged["FAQ-BJ"].clean
    reply = answer(kb, question, min_confidence=0)
    assert reply.citations[0].parent_id == "FAQ-BJ", reply


@pytest.mark.parametrize("question", ["养老保险断掉了，还能补上吗？", "单位没给我交，养老保险断掉了，能补缴吗？",
                                      "单位倒闭了老板也找不到，断缴的养老保险能补上吗？"])
def test_a_loss_word_about_no_paper_does_not_decide(near_kb, question):
    """掉了 and 找不到 mark a lost certificate (社保卡掉了); 养老保险断掉了 and 老板找不到 lose no paper."""
    judged = {j.hit.parent_id: j for j in near_kb.judged_search(question, k=3).judged}
    assert judged["FAQ-DJ"].contradicted == ()
    reply = answer(near_kb, question, min_confidence=0)
    assert reply.status == "answered" and reply.citations[0].parent_id == "FAQ-DJ", reply
    lost = answer(near_kb, "社保卡掉了，去哪补？", min_confidence=0)
    assert lost.status == "answered" and lost.citations[0].parent_id == "FAQ-SB", lost


@pytest.mark.parametrize("question, word, expected", [("刚搬到本市，第一次办护照要带什么？", "搬到", "FAQ-HZ"),
                                                      ("老人长期卧床，社保卡丢了怎么补？", "长期", "FAQ-SB")])
def test_a_case_named_in_passing_does_not_refuse_the_entry(near_kb, question, word, expected):
    """搬到 (a change) and 长期 are cases of contrast sets, here said in passing: the entry that never
    mentions them still answers, with a note saying so."""
    reply = answer(near_kb, question, min_confidence=0)
    assert reply.status == "answered" and reply.citations[0].parent_id == expected, reply
    assert any(f"“{word}”" in note and "请核对" in note for note in reply.notes), reply.notes


@pytest.mark.parametrize("question", ["公司的员工第一次办护照要带什么？", "我在单位上班，第一次办护照要带什么？"])
def test_a_silent_entry_far_ahead_of_those_mentioning_the_case_answers(near_kb, question):
    """单位/员工 said in passing: the passport entry never mentions them and the entries that do (公积金,
    养老保险) are far behind in search, so they do not go ahead of it."""
    judged = near_kb.judged_search(question, k=3).judged
    assert judged[0].hit.parent_id == "FAQ-HZ" and judged[0].unsaid
    assert judged[0].hit.score - max(j.hit.score for j in judged[1:]) > SILENT_LEAD
    reply = answer(near_kb, question)
    assert reply.status == "answered" and reply.citations[0].parent_id == "FAQ-HZ", reply
    assert any("请核对" in note for note in reply.notes), reply.notes
