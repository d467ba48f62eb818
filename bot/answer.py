"""Grounded answers without an LLM.

For an entry the stored answer is returned verbatim; for a document, the one or two sentences of the
shown passage that share most (rare) words with the question, at most 150 characters
(:mod:`bot.span`). Every answer cites its source and date.

The best hits of a search are judged by the deciding-word rules (:mod:`kb.deciding`) and the
first one that keeps them is scored (:mod:`bot.confidence`). Three outcomes (``Answer.status``):

* ``answered`` — one entry/document answers, with a confidence at or above the threshold;
* ``ambiguous`` — the two best entries answer differently and the question does not say which case
  it is about (离职 or 退休?), or an entry and another entry or a document are equally close to it:
  both are shown and the bot asks which, when both clear the threshold as a pair (each scored by
  its lead over the third hit) or, the first alone falling short, their mean does;
* ``no_answer`` — the best hit breaks a deciding-word rule, no near hit names the question's subject,
  nothing clears the threshold, or the only match has expired: a fixed "no reliable answer" text
  suggests escalation, and ``notes`` say why the nearest hit does not apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kb import Filters, Hit, KnowledgeBase
from kb.config import default
from kb.deciding import Judged, Verdict
from kb.lexicon import fold, is_paper

from .confidence import LEAD_CAP, confidence
from .span import document_span

DEFAULT_MIN_CONFIDENCE = float(default("min_confidence"))
NO_ANSWER_TEXT = (
    "知识库中暂无可靠答案，请不要凭经验答复。建议：向该事项的审批部门电话确认，"
    "或引导群众到“办不成事”反映窗口登记；问题解决后请把答复登记为疑难案例。"
)
CLOSE = 4.0
"""Two hits whose fused search scores differ by less than this are equally close to a question (the
score adds z-scores). On the calibration set (``kb/sample/questions.jsonl``) a right first hit led its
runner-up by 7.2 at the median and a wrong one by 2.7; this is about their geometric mean."""


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
    """``status`` is ``answered``, ``ambiguous`` (two cited entries, the text asks which one is
    meant) or ``no_answer``; ``notes`` are warnings to read with the answer (a replaced or expired
    口径, an upcoming change, an unreviewed draft, why the nearest entry does not apply);
    ``related`` holds the other hits for reference; ``passage`` is the whole passage a document
    answer's sentences were taken from, shown with them so the reader sees their context;
    ``resolved`` is the standalone question a follow-up was answered as (see :mod:`bot.chat`),
    empty when the question was answered as asked."""

    question: str
    status: str
    text: str
    confidence: float
    citations: tuple[Citation, ...] = ()
    related: tuple[Hit, ...] = field(default=(), repr=False)
    notes: tuple[str, ...] = ()
    passage: str = ""
    resolved: str = ""

    @property
    def answered(self) -> bool:
        return self.status == "answered"


def currency_notes(hit: Hit) -> tuple[str, ...]:
    """Warnings about the validity of a hit: replaced old 口径, expiry, an upcoming change, draft status."""
    notes = [f"原口径 {r.old_id}（“{r.old_question}”）自 {r.changed_on or '发布之日'} 起已由 {r.new_id} 替代，"
             f"以下为现行口径，请勿再按旧口径答复。" for r in hit.replaced]
    if hit.expired_on:
        notes.append(f"该口径有效至 {hit.expired_on}（含当日），现已失效，不再适用。")
    if hit.upcoming:
        notes.append(f"新口径 {hit.upcoming.new_id} 将于 {hit.upcoming.changed_on} 起施行，届时本答复作废。")
    if hit.status == "draft":
        notes.append("【待审核】此条尚未经组长审核发布，仅供内部参考，不能作为正式口径答复群众。")
    return tuple(notes)


def answer(kb: KnowledgeBase, question: str, k: int = 5, min_confidence: float = DEFAULT_MIN_CONFIDENCE,
           filters: Filters | None = None, drafts: bool = False, as_of: str = "") -> Answer:
    """Answer ``question`` from the knowledge base, extractively.

    Args:
        kb: the knowledge base.
        question: the question as typed at the counter.
        k: how many hits to consider (the best one answers, the rest are kept as ``related``).
        min_confidence: below this, return the fixed no-answer result.
        filters: optional metadata filters.
        drafts: also consider entries awaiting review (an answer from one is labelled as such).
        as_of: answer as the knowledge base will stand on this ISO date (today by default), so a
            lead can preview a 口径 change before it takes effect.

    Only current knowledge is given as the answer: a match on a superseded entry is answered with
    the entry that replaced it, with a note saying since when; a match on an expired entry is refused.
    """
    verdict = judged_search(kb, question, k, filters=filters, drafts=drafts, as_of=as_of)
    return settle(kb, question, decide(kb, question, verdict), min_confidence)


def judged_search(kb: KnowledgeBase, question: str, k: int, **options) -> Verdict:
    """``kb.judged_search`` for at least three hits, whatever ``k``: the confidence weighs how far the
    first hit leads the second, and a pair of close hits the third; missing hits would seem to be
    led by everything."""
    return kb.judged_search(question, k=max(k, 3), **options)


@dataclass(frozen=True)
class Decision:
    """What the hits say before a threshold is applied: the judged hits, the confidence of the first,
    and the hit that would make the answer ambiguous (:func:`_rival`), with the confidences of the
    two as a pair (``pair_score`` the first's, ``rival_score`` the rival's)."""

    verdict: Verdict
    score: float = 0.0
    rival: Judged | None = None
    rival_score: float = 0.0
    pair_score: float = 0.0


def decide(kb: KnowledgeBase, question: str, verdict: Verdict) -> Decision:
    """Score the first hit of a search's ``verdict`` for ``question``, and find a rival for it.

    The first hit leads by its score over the second's. A rival is shown beside the first hit, so
    the two are scored as a pair, each by its lead over the third hit: two close answers that stand
    out from the rest are trusted together though neither stands out from the other."""
    if verdict.best is None:
        return Decision(verdict)
    weights, best, rival = kb.term_weights(question), verdict.best.hit, _rival(verdict)
    score = confidence(kb, question, best, weights, lead_of(verdict))
    if rival is None:
        return Decision(verdict, score)
    third = verdict.judged[2].hit.score if len(verdict.judged) > 2 else None

    def paired(hit: Hit) -> float:
        return confidence(kb, question, hit, weights, LEAD_CAP if third is None else hit.score - third)
    return Decision(verdict, score, rival, paired(rival.hit), paired(best))


def lead_of(verdict: Verdict) -> float:
    """How far the first hit's search score is ahead of the second's (a lone hit leads fully)."""
    judged = verdict.judged
    return judged[0].hit.score - judged[1].hit.score if len(judged) > 1 else LEAD_CAP


def settle(kb: KnowledgeBase, question: str, decision: Decision, min_confidence: float) -> Answer:
    """The answer at threshold ``min_confidence``."""
    best, score = decision.verdict.best, decision.score
    if best is None:
        return Answer(question, "no_answer", NO_ANSWER_TEXT, 0.0)
    hits = tuple(j.hit for j in decision.verdict.judged)
    if not best.clean or decision.verdict.uncovered:
        return Answer(question, "no_answer", NO_ANSWER_TEXT, score, related=hits,
                      notes=rule_notes(kb, question, decision.verdict))
    pair = _shown_together(decision, min_confidence)
    if score < min_confidence and not pair:
        return Answer(question, "no_answer", NO_ANSWER_TEXT, score, related=hits)
    notes = currency_notes(best.hit) + unsaid_notes(kb, question, best)
    if best.hit.expired_on:
        return Answer(question, "no_answer", NO_ANSWER_TEXT, score, (Citation.of(best.hit),), hits[1:], notes)
    if pair:
        return _ambiguous(kb, question, decision.verdict, best, decision.rival, decision.pair_score)
    if best.hit.kind == "entry":
        return Answer(question, "answered", best.hit.answer, score, (Citation.of(best.hit),), hits[1:], notes)
    text = document_span(kb, question, best.hit)
    passage = best.hit.text if text != best.hit.text else ""
    return Answer(question, "answered", text, score, (Citation.of(best.hit),), hits[1:], notes, passage)


def _shown_together(decision: Decision, min_confidence: float) -> bool:
    """Whether the first hit and its rival are given together: each is trusted as one of the pair, or,
    when the first alone is not trusted, the two are on average. One of two close answers that stand out
    from the rest is likely right, so a counter gets both rather than nothing; when the first alone is
    trusted, a weak rival does not turn its answer into a question."""
    if decision.rival is None:
        return False
    low, high = sorted((decision.pair_score, decision.rival_score))
    return low >= min_confidence or (decision.score < min_confidence and (low + high) / 2 >= min_confidence)


def _rival(verdict: Verdict) -> Judged | None:
    """The second hit when the bot cannot choose between the first two: both keep the rules, at least
    one is an entry (two documents are told apart by their passages), they answer differently, and
    either the question leaves open which of their cases (离职/退休) it is about — then however much
    closer its wording is to one of them — or they are equally close to it."""
    if len(verdict.judged) < 2:
        return None
    best, second = verdict.judged[0], verdict.judged[1]
    if not (best.clean and second.clean) or "entry" not in (best.hit.kind, second.hit.kind):
        return None
    if best.hit.answer.strip() == second.hit.answer.strip() or second.hit.expired_on:
        return None
    return second if verdict.open_set >= 0 or best.hit.score - second.hit.score < CLOSE else None


def _ambiguous(kb: KnowledgeBase, question: str, verdict: Verdict, best: Judged, other: Judged,
               score: float) -> Answer:
    first, second = best.hit, other.hit
    differ = "两种情形的答复不同，请先问清楚" if first.kind == second.kind == "entry" else "两处资料都与问题相近，请核对适用哪一处"
    lines = [f"您问的是“{first.title}”，还是“{second.title}”？{differ}："]
    if verdict.open_set >= 0:
        terms = "、".join(c[0] for c in kb.tokens.lexicon.contrasts[verdict.open_set])
        lines[0] += f"（区别在于：{terms}）"
    lines += [f"①“{first.title}”：{_said(kb, question, first)}", f"②“{second.title}”：{_said(kb, question, second)}"]
    notes = currency_notes(first) + currency_notes(second)
    related = tuple(j.hit for j in verdict.judged[2:])
    return Answer(question, "ambiguous", "\n".join(lines), score, (Citation.of(first), Citation.of(second)),
                  related, notes)


def _said(kb: KnowledgeBase, question: str, hit: Hit) -> str:
    """What a hit answers: an entry's answer, or the sentences of a document's passage that match."""
    return hit.answer if hit.kind == "entry" else document_span(kb, question, hit)


def unsaid_notes(kb: KnowledgeBase, question: str, best: Judged) -> tuple[str, ...]:
    """The cases the question names that the answering entry never mentions (单位 in 我在单位上班，社保卡丢了):
    not enough to refuse, worth checking."""
    if not best.unsaid:
        return ()
    lexicon, folded = kb.tokens.lexicon, fold(question)
    asked = lexicon.asked(question)
    said = ("、".join(lexicon.wording(i, c, folded) for c in sorted(asked[i])) for i in best.unsaid)
    return tuple(f"问题提到“{words}”，这条答复没有专门讲到这种情形，请核对是否适用。" for words in said)


def rule_notes(kb: KnowledgeBase, question: str, verdict: Verdict) -> tuple[str, ...]:
    """Why the nearest hit cannot answer: the case it is about, or the subject no near hit mentions."""
    lexicon = kb.tokens.lexicon
    asked = lexicon.asked(question)
    best = verdict.best
    notes = []
    for i in best.contradicted:
        classes = lexicon.contrasts[i]
        theirs = "、".join(classes[c][0] for c in sorted(best.marks[i]))
        ours = "、".join(classes[c][0] for c in sorted(asked[i]))
        case = f"讲的是“{theirs}”的情形，与问题中的“{ours}”不符" if theirs else f"没有讲到“{ours}”的情形"
        notes.append(f"知识库中最接近的条目“{best.hit.title}”{case}，不能套用。")
    for t in best.unanswered:
        notes.append(f"知识库中最接近的资料“{best.hit.title}”没有说明问题问的“{lexicon.asking(t, question)}”。")
    surfaces = {concept: surface for surface, concept in lexicon.matches(question)}
    if best.other_papers:
        asked_papers = "、".join(s for s, c in lexicon.matches(question) if is_paper(c))
        notes.append(f"知识库中最接近的条目“{best.hit.title}”讲的是“{'、'.join(best.other_papers)}”，"
                     f"不是问题中的“{asked_papers}”，不能套用。")
    if best.missing:
        notes.append(f"知识库中最接近的资料“{best.hit.title}”里没有问题中的“{'、'.join(best.missing)}”。")
    for concept in verdict.uncovered:
        notes.append(f"知识库中相近的资料都没有提到问题中的“{surfaces.get(concept, concept)}”。")
    return tuple(notes)
