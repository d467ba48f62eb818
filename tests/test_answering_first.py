"""Of near-tied documents, the one that says what the question asks for is shown first."""

from dataclasses import replace

from fixtures import make_md
from ingest import ingest_paths
from kb.closeness import closeness
from kb.deciding import gives_asked
from kb.hits import TIE, answering_first

QUESTION = "政务服务网的实名认证分哪两个级别？"
DOCUMENTS = {
    "个人用户对接说明": "高级实名认证用户可以通过政务服务网APP扫脸认证，也可以到行政审批中心的实名认证窗口现场认证。",
    "统一身份认证实施指引": "政务服务网的个人用户、法人用户均分为初级实名和高级实名两种认证级别。",
    "法人用户对接说明": "法人用户按证书类型分为两种，实名认证的要求另行规定。",
}


def test_a_near_document_that_states_the_asked_value_goes_first(kb, tmp_path):
    ingest_paths(kb, [make_md(tmp_path / f"{title}.md", title, [text]) for title, text in DOCUMENTS.items()])
    found = {h.title: h for h in kb.search(QUESTION, k=3)}
    assert set(found) == set(DOCUMENTS)
    lexicon = kb.tokens.lexicon
    answers, close = gives_asked(lexicon, QUESTION), closeness(lexicon, QUESTION, kb.tokens.units)
    silent, levels, other = (found[t] for t in DOCUMENTS)
    first = replace(silent, score=10.0)

    def order(*hits):
        return [h.title for h in answering_first(list(hits), answers, close)]

    assert order(first, replace(levels, score=10.0 - TIE / 2)) == [levels.title, silent.title]
    assert order(first, replace(levels, score=10.0 - 2 * TIE)) == [silent.title, levels.title]
    # of two that state it, the one tying 实名认证 and 级别 to the value, though scored lower
    assert order(first, replace(other, score=9.9), replace(levels, score=9.5))[0] == levels.title
    assert order(replace(levels, score=10.0), replace(silent, score=9.9)) == [levels.title, silent.title]
