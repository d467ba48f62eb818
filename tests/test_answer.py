"""bot.answer on the bundled sample: verbatim entry answers, extractive document answers, refusals."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import answer
from bot.answer import DEFAULT_MIN_CONFIDENCE, NO_ANSWER_TEXT, decide, lead_of, settle
from bot.confidence import LEAD_CAP, confidence
from bot.span import best_sentences
from fixtures import drop_collection, make_md, open_kb, unique_collection
from ingest import ingest_paths
from kb import Filters
from kb.deciding import Verdict
from kb.text import split_sentences

pytestmark = pytest.mark.store


@pytest.fixture(scope="module")
def sample_kb(tmp_path_factory, embedder, sample_files):
    kb = open_kb(tmp_path_factory.mktemp("sample") / "data", embedder, unique_collection())
    report = ingest_paths(kb, sample_files)
    assert report.failed == [] and report.count("added") == len(sample_files)
    yield kb
    kb.close()
    drop_collection(kb)


def _entry_with_question(kb, question):
    found = [r for r in kb.iter_records() if getattr(r, "question", None) == question]
    assert len(found) == 1, f"the sample should hold: {question}"
    return found[0]


@pytest.mark.parametrize("asked, stored_question", [
    ("我退休了想长期住到外省儿子家，在那边看病怎么报销？", "退休后长期住在外省儿子家，看病报销需要办什么手续？"),
    ("第一次办护照，户口不在本市能办吗？", "第一次办护照，户口在外省，能在本市办吗？"),
    ("子女的公积金能取出来给生重病的父亲用吗？", "父亲得了重病花了不少钱，子女的公积金能取出来用吗？"),
])
def test_entry_question_returns_stored_answer_with_citation(sample_kb, asked, stored_question):
    entry = _entry_with_question(sample_kb, stored_question)
    reply = answer(sample_kb, asked)
    assert reply.status == "answered" and reply.answered
    assert reply.text == entry.answer
    assert 0.5 <= reply.confidence <= 1.0
    (citation,) = reply.citations
    assert (citation.kind, citation.parent_id, citation.title) == ("entry", entry.id, stored_question)
    assert citation.source == "窗口疑难案例登记表.xlsx"
    assert citation.date == entry.date and len(entry.date) == 10
    assert citation.item == entry.item != ""
    label = citation.label()
    for part in (citation.source, citation.date, f"事项：{entry.item}", stored_question):
        assert part in label
    assert entry.id not in [h.parent_id for h in reply.related]


@pytest.mark.parametrize("asked, stored_question", [
    ("头一回领退休金要办什么手续？不是问年度认证", "下个月就到退休年龄了，退休金要自己去申请吗？什么时候能领到？"),
    ("不是我个人交，是单位给新来的员工上社保，要多久内办？", "单位新招了员工，社保增员要在多长时间内办好？"),
])
def test_the_case_a_question_denies_does_not_lead_its_search(sample_kb, asked, stored_question):
    entry = _entry_with_question(sample_kb, stored_question)
    assert sample_kb.search(asked, k=1)[0].parent_id == entry.id


@pytest.mark.parametrize("asked, term", [
    ("被列入严重失信名单的人能容缺受理吗？", "严重失信"),
    ("近两年有容缺承诺没履行的还能容缺受理吗？", "未履行"),
])
def test_document_question_returns_its_sentences(sample_kb, asked, term):
    reply = answer(sample_kb, asked, filters=Filters(kind="document"))
    assert reply.answered
    (citation,) = reply.citations
    assert citation.kind == "document"
    doc = sample_kb.document(citation.parent_id)
    assert citation.title == doc.title and "容缺受理" in doc.title
    assert citation.source == "综合窗口容缺受理和办不成事反映工作规范.md"
    assert citation.date == doc.date != ""
    assert term in reply.text
    sentences = split_sentences(reply.text)
    assert 1 <= len(sentences) <= 2
    assert all(s in doc.text for s in sentences)
    assert doc.title in citation.label()


def test_document_answer_comes_from_the_passage_that_means_the_question(sample_kb):
    """The question's words (开办, 企业, 办) are all over the guide; only one passage says how long it takes."""
    reply = answer(sample_kb, "开办企业一天能办完吗？", min_confidence=0, filters=Filters(kind="document"))
    assert reply.answered
    (citation,) = reply.citations
    assert citation.source == "企业开办一件事办事指南.pdf"
    assert "工作日" in reply.text


def test_a_document_and_an_entry_equally_close_are_both_shown(sample_kb):
    """The 容缺 rules and the FAQ on taking a case in with a paper missing are both near an unkept
    容缺 promise: rather than pick one, the bot shows both and says to check which applies."""
    reply = answer(sample_kb, "近两年有容缺承诺没履行的还能容缺受理吗？")
    assert reply.status == "ambiguous", reply
    assert {c.kind for c in reply.citations} == {"document", "entry"}
    assert "两处资料都与问题相近" in reply.text
    assert "未履行" in reply.text  # the document is shown by its sentences that answer the question
    entry = next(c for c in reply.citations if c.kind == "entry")
    assert sample_kb.entry(entry.parent_id).answer in reply.text


def test_document_filter_is_respected(sample_kb):
    reply = answer(sample_kb, "居住证制成后三个月没去领怎么办？", filters=Filters(kind="document"), min_confidence=0)
    assert reply.answered
    assert reply.citations[0].source == "居住证办理业务口径.docx"
    assert all(h.kind == "document" for h in reply.related)


OUT_OF_SCOPE = ["驾驶证快到期了，换证需要先去医院体检吗？", "自来水水费怎么在网上交？"]
@pytest.mark.parametrize("question", [*OUT_OF_SCOPE, "驾驶证到期了怎么换领？", "家里老人去世了，惠民殡葬补贴怎么领？",
                                      "结婚登记可以在网上预约吗？周末能不能领证？"])
def test_out_of_scope_question_is_refused(sample_kb, question):
    reply = answer(sample_kb, question)
    assert reply.status == "no_answer" and not reply.answered
    assert reply.citations == ()
    assert "办不成事" in reply.text and "暂无可靠答案" in reply.text
    assert reply.confidence < DEFAULT_MIN_CONFIDENCE


def test_threshold_decides(sample_kb):
    question = "小区停车位怎么申请？"  # it names no lexicon subject and asks no answer type: only the threshold refuses it
    assert answer(sample_kb, question, min_confidence=0.0).status != "no_answer"
    assert answer(sample_kb, question).status == "no_answer"
    strict = answer(sample_kb, "第一次办护照，户口不在本市能办吗？", min_confidence=1.01)
    assert strict.status == "no_answer" and strict.text == NO_ANSWER_TEXT
    assert strict.related, "related hits are still offered for reference"


def test_empty_knowledge_base_has_no_answer(kb):
    reply = answer(kb, "居住证怎么续签？")
    assert reply.status == "no_answer" and reply.confidence == 0.0 and reply.related == ()


TEXT = ("居住证每年签注一次。申领居住证需要在本市连续居住半年以上。居住证丢失的，可以到派出所补领，补领时提交身份证。"
        "居住证制成后三个月未领取的，退回派出所保管。")


@pytest.mark.parametrize("question, expected", [
    ("居住证丢了去哪补领", "居住证丢失的，可以到派出所补领，补领时提交身份证。"),
    ("要住满多久才能申领", "申领居住证需要在本市连续居住半年以上。"),
    ("做好的居住证一直没领取会怎样", "居住证制成后三个月未领取的，退回派出所保管。"),
])
def test_best_sentences_picks_the_sentence_with_the_term(question, expected):
    assert best_sentences(question, TEXT, n=1) == expected


def test_document_answer_shows_its_sentences_with_the_whole_passage(kb, tmp_path):
    sentences = ["不动产登记申请可以在市民中心三楼不动产登记窗口提交。", "申请人应当提交身份证明和不动产权属来源材料。",
                 "登记机构应当自受理之日起五个工作日内办结登记。", "办结后可以选择邮寄送达不动产权证书。"]
    ingest_paths(kb, [make_md(tmp_path / "登记.md", "不动产登记办事指南", ["".join(sentences)])])
    reply = answer(kb, "不动产登记多久能办好？", min_confidence=0)
    assert reply.answered and "五个工作日内办结" in reply.text
    assert reply.passage == "".join(sentences)
    assert all(s in reply.passage for s in split_sentences(reply.text)) and reply.text != reply.passage


def test_best_sentences_put_a_sentence_giving_the_asked_type_first():
    text = "企业开办可以在窗口办理。企业开办全流程不超过2个工作日。窗口设有企业开办帮办人员。"
    assert best_sentences("企业开办在哪办", text, n=1) == "企业开办可以在窗口办理。"
    assert best_sentences("企业开办在哪办", text, n=1, answers=lambda s: "工作日" in s) == "企业开办全流程不超过2个工作日。"


def test_best_sentences_keeps_original_order_and_short_texts():
    two = best_sentences("居住证丢了补领，没领取的退回哪里", TEXT, n=2)
    assert two == "居住证丢失的，可以到派出所补领，补领时提交身份证。居住证制成后三个月未领取的，退回派出所保管。"
    assert best_sentences("任何问题", "只有一句话。", n=2) == "只有一句话。"


def test_a_close_runner_up_lowers_the_confidence(sample_kb):
    question = "第一次办护照，户口不在本市能办吗？"
    verdict = sample_kb.judged_search(question)
    assert len(verdict.judged) > 1 and lead_of(verdict) > 0
    alone = Verdict(verdict.judged[:1])
    assert lead_of(alone) == LEAD_CAP
    tied = Verdict((verdict.judged[0], replace(verdict.judged[1], hit=replace(verdict.judged[1].hit,
                                                                               score=verdict.judged[0].hit.score))))
    assert lead_of(tied) == 0
    scores = [decide(sample_kb, question, v).score for v in (tied, verdict, alone)]
    assert scores[0] < scores[1] <= scores[2], "the same entry is trusted less when another is just as close"


def test_entries_and_documents_are_scored_by_their_own_model(sample_kb):
    question = "被列入严重失信名单的人能容缺受理吗？"
    hit = sample_kb.judged_search(question, filters=Filters(kind="document")).best.hit
    as_entry = replace(hit, kind="entry")
    weights = sample_kb.term_weights(question)
    assert confidence(sample_kb, question, hit, weights) != confidence(sample_kb, question, as_entry, weights)


@pytest.mark.parametrize("question", ["孩子刚出生，医保怎么办？", "灵活就业人员交社保有没有政府补贴？"])
@pytest.mark.parametrize("k", [1, 2])
def test_asking_for_few_hits_does_not_inflate_the_confidence(sample_kb, question, k):
    few, many = (answer(sample_kb, question, k=n, min_confidence=0) for n in (k, 5))
    assert (few.status, few.confidence) == (many.status, many.confidence)


def test_two_close_answers_that_stand_out_together_are_both_shown(sample_kb):
    question = "公司不做了要正常注销，债权人公告要登多少天？"
    decision = decide(sample_kb, question, sample_kb.judged_search(question))
    assert decision.rival is not None
    assert decision.score < DEFAULT_MIN_CONFIDENCE, "neither of the two stands out from the other"
    assert min(decision.pair_score, decision.rival_score) >= DEFAULT_MIN_CONFIDENCE, "together they lead the rest"
    reply = settle(sample_kb, question, decision, DEFAULT_MIN_CONFIDENCE)
    assert reply.status == "ambiguous" and len(reply.citations) == 2
    assert answer(sample_kb, question).status == "ambiguous"


def test_a_pair_trusted_on_average_is_shown_rather_than_refused(sample_kb):
    """The first hit alone falls short and its rival too, as one of the pair; the two on average do."""
    question = "公司刚招了个人，最晚什么时候要把他的社保登记上？"
    decision = decide(sample_kb, question, sample_kb.judged_search(question))
    low, high = sorted((decision.pair_score, decision.rival_score))
    assert decision.score < DEFAULT_MIN_CONFIDENCE and low < DEFAULT_MIN_CONFIDENCE <= (low + high) / 2
    reply = settle(sample_kb, question, decision, DEFAULT_MIN_CONFIDENCE)
    assert reply.status == "ambiguous" and len(reply.citations) == 2
    assert "FAQ085" in {c.parent_id for c in reply.citations}, "the entry that answers it is one of the two"
    assert settle(sample_kb, question, decision, (low + high) / 2 + 0.01).status == "no_answer"


def test_a_first_hit_trusted_alone_is_not_turned_into_a_question_by_a_weak_rival(sample_kb):
    question = "公司不做了要正常注销，债权人公告要登多少天？"
    decision = replace(decide(sample_kb, question, sample_kb.judged_search(question)),
                       score=0.9, pair_score=0.95, rival_score=0.5)
    reply = settle(sample_kb, question, decision, DEFAULT_MIN_CONFIDENCE)
    assert reply.status == "answered" and len(reply.citations) == 1


def test_the_words_of_a_story_weigh_less_than_a_subject_the_knowledge_base_lacks(sample_kb):
    question = "瘫在床上的爷爷补社保卡的邮费谁出？"
    weights = {surface: weight for surface, weight in sample_kb.term_weights(question).values()}
    assert not any(sample_kb.keywords.found(w) for w in ("爷爷", "床上", "邮费"))
    unknown = sample_kb.keywords.idf("邮费")
    assert weights["邮费"] == unknown, "a word rare in everyday Chinese may be what the question is about"
    assert weights["爷爷"] < unknown / 3 and weights["床上"] < unknown / 3, "common words of a story say little"
    assert sample_kb.keywords.found("补") and weights["补"] == sample_kb.keywords.idf("补"), "a used word keeps its IDF"


def test_the_characters_of_a_name_the_dictionary_lacks_keep_their_weight(sample_kb):
    weights = {surface: weight for surface, weight in sample_kb.term_weights("麻林村的老人看病怎么报销？").values()}
    for piece in "麻林":
        assert not sample_kb.keywords.found(piece)
        assert weights[piece] == sample_kb.keywords.idf(piece), "a piece of a place name is no everyday word"


def test_what_a_question_says_it_is_not_about_has_no_weight(sample_kb):
    question = "房本不是旧了要换，是丢了，补一本多久能拿到？"
    surfaces = {surface for surface, _ in sample_kb.term_weights(question).values()}
    assert {"房本", "补", "多久"} <= surfaces
    assert not surfaces & {"旧", "换"}, "the answer to a lost 房本 need not speak of replacing a worn one"


def test_the_story_told_before_a_question_has_no_weight_but_its_subject_keeps_it(sample_kb):
    question = "我爷爷瘫在床上好几年了，他的社保卡我当孙子的能替他去拿吗？"
    surfaces = {surface for surface, _ in sample_kb.term_weights(question).values()}
    assert {"社保卡", "孙子", "拿"} <= surfaces, "the clause that asks counts whole"
    assert not surfaces & {"瘫", "床上", "好几年"}, "an answer need not retell the story"
    subject_first = {surface for surface, _ in sample_kb.term_weights("社保卡丢了，怎么补？").values()}
    assert subject_first == {"社保卡", "补"}, "a concept named in the story is still what is asked about"
