"""The passage shown for a how-long question is the one that ties the question's words to the value."""

from dataclasses import replace

from fixtures import make_md
from ingest import ingest_paths
from kb.closeness import closeness
from kb.deciding import gives_asked
from kb.fusion import Ranked
from kb.hits import answering_passages

QUESTION = "新冠病毒感染的潜伏期一般是几天？"


def test_value_next_to_the_subject_outscores_one_in_another_clause(kb):
    score = closeness(kb.tokens.lexicon, QUESTION, kb.tokens.units)
    assert score("（一）临床表现。潜伏期多为 2～4 天。") > 0
    assert score("传染源主要是新冠病毒感染者，在潜伏期即有传染性，发病后 3 天内传染性最强。") == 0
    assert closeness(kb.tokens.lexicon, "潜伏期是什么意思？", kb.tokens.units) is None
    assert closeness(kb.tokens.lexicon, "要几天？", kb.tokens.units) is None  # nothing to tie to the value


def test_the_passage_that_ties_the_subject_to_the_duration_is_shown(kb, tmp_path):
    more = "各地应当结合本地实际，组织医疗机构和疾控机构开展培训，做好病例发现、报告和处置工作。" * 5
    sections = ["## 二、流行病学特点", "传染源主要是新冠病毒感染者，在潜伏期即有传染性，发病后 3 天内传染性最强。" + more,
                "## 三、病原学特点", "新冠病毒对紫外线和热敏感，乙醚、75%乙醇可有效灭活病毒。" + more,
                "## 四、临床特点", "潜伏期多为 2～4 天。主要表现为咽干、咽痛、咳嗽、发热等。" + more]
    ingest_paths(kb, [make_md(tmp_path / "诊疗方案.md", "新冠病毒感染诊疗方案", sections)])
    first = kb.search("新冠病毒 传染源", k=1)[0]
    chunks = [kb.records.chunk_of(first.parent_id, position) for position in range(3)]
    assert None not in chunks and "3 天内" in chunks[0].text and "2～4 天" in chunks[2].text
    shown = replace(first, chunk_id=chunks[0].id, text=chunks[0].text)
    answers = gives_asked(kb.tokens.lexicon, QUESTION)
    close = closeness(kb.tokens.lexicon, QUESTION, kb.tokens.units)
    for runners_up in ((chunks[2].id,), ()):  # a runner-up, or (no word near the shown value) anywhere
        ranked = [Ranked(first.parent_id, first.score, chunks[0].id, first.similarity, runners_up)]
        assert answering_passages(kb.records, [shown], ranked, answers, close=close)[0].chunk_id == chunks[2].id
        assert answering_passages(kb.records, [shown], ranked, answers) == [shown]


def test_the_cells_of_a_table_row_stay_together(kb):
    """A ；before a cell label (个人缴费：) joins the cells of one row; a ；between clauses breaks them."""
    score = closeness(kb.tokens.lexicon, "特困人员医保个人要交多少钱？", kb.tokens.units)
    assert score("人群：特困人员；个人缴费：0元；财政资助：400元。") == 2
    assert score("特困人员另有规定；个人缴费标准为每人每年400元。") == 1
