"""A document is shown by the passage that names the question's subject when the best-ranked one leaves it out."""

from dataclasses import replace

from bot import answer
from fixtures import make_md
from ingest import ingest_paths
from kb.deciding import gives_asked
from kb.fusion import Ranked
from kb.hits import naming_passages

QUESTION = "食品从业人员健康检查要拍什么片子？"
ROWS = ["检查项目：内科；检查内容：心、肝、脾、肺听诊触诊；说明：由内科医师签名，全套体检收费60元。",
        "检查项目：皮肤科；检查内容：手癣、指甲癣、手部湿疹、银屑病；说明：由皮肤科医师签名。",
        "检查项目：胸部X射线摄影；检查内容：肺结核；说明：由放射科医师签名。",
        "检查项目：化验；检查内容：大便培养、肝功能；说明：由检验师签名。"]


def _form(kb, tmp_path):
    filler = "体检机构应当核对受检人员身份证件，按表逐项检查并如实填写结果，检查结论由主检医师签名并加盖公章。" * 3
    sections = [f"## {n + 1}. 检查项目\n\n{row}{filler}" for n, row in enumerate(ROWS)]
    ingest_paths(kb, [make_md(tmp_path / "健康检查表.md", "食品从业人员健康检查表", sections)])
    first = kb.search("食品从业人员健康检查", k=1)[0]
    chunks = [kb.records.chunk_of(first.parent_id, position) for position in range(4)]
    assert None not in chunks and "X射线" in chunks[2].text and "X射线" not in chunks[0].text
    return first, chunks


def _named(kb):
    lexicon = kb.tokens.lexicon
    subjects = [c for c in lexicon.concepts(QUESTION) if c == "x射线检查"]
    assert subjects, "the shipped lexicon takes 片子 for an X-ray"
    return lambda text: sum(lexicon.names(c, text) for c in subjects), len(subjects)


def test_the_passage_naming_the_subject_replaces_one_that_leaves_it_out(kb, tmp_path):
    first, chunks = _form(kb, tmp_path)
    named, subjects = _named(kb)
    shown = replace(first, chunk_id=chunks[0].id, text=chunks[0].text)
    for runners_up in ((chunks[1].id, chunks[2].id), ()):  # a runner-up, or any passage of the document
        ranked = [Ranked(first.parent_id, first.score, chunks[0].id, first.similarity, runners_up)]
        assert naming_passages(kb.records, [shown], ranked, named, subjects)[0].chunk_id == chunks[2].id
    naming = replace(first, chunk_id=chunks[2].id, text=chunks[2].text)
    ranked = [Ranked(first.parent_id, first.score, chunks[2].id, first.similarity, (chunks[0].id,))]
    assert naming_passages(kb.records, [naming], ranked, named, subjects) == [naming]


def test_a_passage_that_answers_is_not_swapped_for_one_that_does_not(kb, tmp_path):
    first, chunks = _form(kb, tmp_path)
    named, subjects = _named(kb)
    priced = gives_asked(kb.tokens.lexicon, "健康检查拍片子要交多少钱？")
    assert priced is not None and priced(chunks[0].text) and not priced(chunks[2].text)
    shown = replace(first, chunk_id=chunks[0].id, text=chunks[0].text)
    ranked = [Ranked(first.parent_id, first.score, chunks[0].id, first.similarity, (chunks[2].id,))]
    assert naming_passages(kb.records, [shown], ranked, named, subjects, priced) == [shown]


def test_the_answer_comes_from_the_row_that_names_the_subject(kb, tmp_path):
    """The notice's words (食品从业人员健康检查) draw the search to its opening; 片子 is only in the X-ray row."""
    opening = ("食品从业人员健康检查须知：食品从业人员每年应当进行一次健康检查，取得健康证明后方可上岗；"
               "健康检查由食品从业人员本人到指定体检机构进行，检查前一天清淡饮食。")
    sections = [opening, *(f"## {n + 1}. 检查项目\n\n{row}" for n, row in enumerate(ROWS))]
    ingest_paths(kb, [make_md(tmp_path / "须知.md", "食品从业人员健康检查须知", sections)])
    reply = answer(kb, QUESTION, min_confidence=0)
    assert reply.answered and "X射线" in reply.passage, reply
