"""In a long guidance document the passage shown (and answered from) is the one that answers the question.

The document is a realistic 经办规程 padded to about a megabyte with on-topic boilerplate that repeats
the question's words (高龄津贴, 老人, 认证) without answering it; one paragraph says that a person who
cannot come can be verified at home. Repeated paragraphs are embedded once, so the test stays fast.
"""

from __future__ import annotations

import pytest
from bot import answer
from fixtures import make_md
from ingest import ingest_paths

pytestmark = pytest.mark.store

BOILERPLATE = (
    "各街道、社区要高度重视高龄津贴发放和老人领取待遇资格认证工作，加强组织领导，压实工作责任。",
    "要通过宣传栏、微信群、入户走访等方式，广泛宣传高龄津贴政策和认证要求，确保符合条件的老人应享尽享。",
    "对认证工作中发现的问题，要及时研究解决，重大情况及时向区民政局报告。",
)
SECTIONS = (
    ("一、申领条件", "本市户籍年满80周岁的老年人可以申领高龄津贴，按年龄分档发放。"),
    ("二、申领材料", "申领时提交老年人身份证、户口簿和本人银行账户信息，由社区受理后报街道审核。"),
    ("三、资格认证", "领取高龄津贴的老年人每年应进行一次待遇领取资格认证，可以通过手机人脸识别自助认证，也可以到社区现场认证。"
                   "因年老体弱、重病卧床等原因行动不便、无法到现场认证的老人，由家属向社区提出申请，社区工作人员应当在5个工作日内上门认证。"),
    ("四、停发和恢复", "未按期认证的暂停发放高龄津贴，认证通过后恢复发放并补发暂停期间的津贴。"),
)


def write_guide(folder, copies: int):
    paragraphs = []
    for heading, body in SECTIONS:
        paragraphs += [heading, body]
    paragraphs.append("五、工作要求")
    paragraphs += [BOILERPLATE[i % len(BOILERPLATE)] for i in range(copies)]
    return make_md(folder / "高龄津贴经办规程.md", "临江市高龄津贴经办规程", paragraphs)


def test_the_answering_paragraph_is_shown_however_large_the_document(kb, tmp_path):
    guide = write_guide(tmp_path, copies=20000)
    assert guide.stat().st_size > 1_000_000
    report = ingest_paths(kb, [guide])
    assert report.failed == []
    reply = answer(kb, "高龄津贴认证，老人走不动能上门吗？")
    assert reply.status == "answered", reply
    (citation,) = reply.citations
    assert citation.parent_id == "高龄津贴经办规程"
    assert "上门认证" in reply.text
    hit = kb.search("高龄津贴认证，老人走不动能上门吗？", k=1)[0]
    assert "上门认证" in hit.text
    whole = stored_tokens(kb, "高龄津贴经办规程").split(" ")
    assert len(whole) == len(set(whole)) and {"上门", "临江市", "#高龄津贴"} <= set(whole)
    with kb.records.transaction() as conn:
        kb.tokens.retokenize(conn)
    assert stored_tokens(kb, "高龄津贴经办规程").split(" ") == whole


def stored_tokens(kb, document_id: str) -> str:
    """The keyword tokens a long document is indexed with as a whole: the distinct tokens of its title and chunks."""
    return dict(kb.records.iter_parent_tokens())[document_id]
