"""Multi-turn counter chat: a follow-up is resolved against the conversation before retrieval.

"那需要带什么材料？" says nothing of what it is about; the conversation does. A question is rewritten
into a standalone one by a *rewriter*, any function ``(history, question) -> standalone question``
(:data:`Rewriter`; an LLM-backed one can be plugged in). The offline rewriter, :class:`OfflineRewriter`,
knows two kinds of words from the knowledge base:

* **subject words** name what a question is about: the lexicon's synonym terms (证照、待遇、业务) and the
  words of the 事项 values that are specific to one department (居住证, 公积金, 签注; not 登记, 申请);
* **aspects** are the lexicon's contrast classes (离职/退休, 首次/补领/换领, 租房/购房 …), the case of a matter.

A question that names no new subject, or that points back with a pronoun (它、这个), is asked about the
previous turn's subject: the subject words of its question and of its source's 事项 and title go in
front, with the previous turn's aspects for every contrast set the new question leaves open ("那退休了
呢？" after a question about 离职 keeps 公积金 and drops 离职); if that standalone form is refused, it is
tried without the old aspects. A subject is new unless the previous turn's question or source is about
it: a 公积金 answer naming 封存期 makes "要等封存期吗？" a follow-up, one naming 身份证 as a material does
not make "身份证丢了怎么办？" one (身份证 is what another department's entries are about). A bare
"那护照呢？" keeps the previous aspects under the new subject. Any other question with a new subject is
answered as asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from kb import KnowledgeBase
from kb.lexicon import fold
from kb.sessions import Turn
from kb.text import content_words

from .answer import Answer, answer

Rewriter = Callable[[Sequence[Turn], str], str]
"""The rewriting hook: the conversation so far (oldest first) and the new question -> the standalone
question to retrieve and answer with (the question itself when it needs nothing from the history)."""

MARKERS = re.compile(r"^(?:(?:那么|那|还有|另外|然后|请问|再问一下)(?![边里些时天])[，,\s]*)+")
"""Words that open a follow-up; they are dropped when the question is rewritten."""
POINTERS = ("它", "这个", "这种", "这项", "这事", "这件事", "那个", "那种", "该项", "该证", "上面说的", "刚才")
"""Words that point back at the conversation's subject."""
_PUNCT = re.compile(r"[\s，。！？、；：,.!?;:…~～“”\"'（）()]+")
ANSWER_SPREAD = 2
"""A 事项 word found in the entries of more departments than this is too common to name a subject."""
_TAIL = ("呢", "吗", "啊", "呀", "吧", "么")
STANDALONE_LENGTH = 16
SURE = 0.75
"""A rewritten follow-up is answered as asked instead when that answer is at least this confident and at
least as confident as the rewritten one's (an independent question that happened to name no subject)."""
"""A question longer than this (in characters, punctuation aside) that names no subject and neither opens
like a follow-up nor points back is answered as asked."""


@dataclass(frozen=True)
class Vocabulary:
    """The subject words and aspect classes of one knowledge base (see the module docstring)."""

    subjects: frozenset[str]
    contrast_terms: frozenset[str]
    asked: dict[str, str]
    """department (事项 when there is none) -> its entries' 事项 values and questions, folded"""


class OfflineRewriter:
    """The offline :data:`Rewriter` for ``kb``; its vocabulary is rebuilt when the knowledge base changes."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self._vocabulary: tuple[tuple, Vocabulary] | None = None

    def __call__(self, history: Sequence[Turn], question: str) -> str:
        """The standalone form of ``question`` given ``history`` (``question`` itself when it has its own subject)."""
        return self.candidates(history, question)[0]

    def candidates(self, history: Sequence[Turn], question: str) -> list[str]:
        """Standalone forms of ``question``, the likeliest first: with and without the previous turn's
        aspects (the follow-up may be about a neighbouring case that does not share them); a
        follow-up that names a case of its own is tried without them first."""
        if not history:
            return [question]
        previous = history[-1]
        own = self.subjects(question)
        rest = strip_markers(question)
        points_back = any(p in fold(question) for p in POINTERS)
        if not (own or points_back or rest != question.strip()) and self._standalone(question):
            return [question]
        aspects = self._kept_aspects(previous, question)
        bare = bool(own) and _bare(rest, own)
        if self._new(own, previous) and not points_back:
            return ["".join(dict.fromkeys(own + aspects)) + "？"] if aspects and bare else [question]
        before = f"{previous.resolved}\n{previous.item}\n{previous.title}"
        concepts = {self._concept(w) for w in own}
        carried = [w for w in self.subjects(before) or [previous.item or previous.resolved]
                   if self._concept(w) not in concepts]
        if bare:
            return ["".join(dict.fromkeys(carried + own + aspects)) + "？"]
        for pointer in POINTERS:
            rest = rest.replace(pointer, "")
        forms = [_joined(carried + own, aspects, rest), _joined(carried + own, [], rest)]
        if any(self.kb.tokens.lexicon.marks(question)):
            forms.reverse()
        return list(dict.fromkeys(forms))

    def _standalone(self, question: str) -> bool:
        """Whether a question that names no subject, opens like no follow-up and points back at nothing
        is still to be taken as asked: the knowledge base has no subject words to tell (its knowledge is
        documents, not 事项), or the question is longer than :data:`STANDALONE_LENGTH` characters (a
        follow-up is short because the conversation says the rest)."""
        return not self.vocabulary().subjects or len(_PUNCT.sub("", question)) > STANDALONE_LENGTH

    def _concept(self, word: str) -> str:
        return self.kb.tokens.lexicon.concept_of.get(word, word)

    def _new(self, subjects: list[str], previous: Turn) -> list[str]:
        """The ``subjects`` the previous turn was not about. It was about what its question and the 事项,
        title and questions of its source name, and about what its source's answer names that belongs
        to the source's department or to none (a 公积金 answer naming 封存期; not one naming 身份证 as a
        material, which the questions of another department are about)."""
        records, lexicon = self.kb.records, self.kb.tokens.lexicon
        about, said, owner = f"{previous.resolved}\n{previous.item}\n{previous.title}", "", ""
        if previous.top_parent and (entry := records.entry(previous.top_parent)) is not None:
            about += "\n".join(("", entry.item, *entry.questions))
            said, owner = entry.answer, entry.department or entry.item
        elif previous.top_parent and (document := records.document(previous.top_parent)) is not None:
            said, owner = document.text, document.department
        asked = self.vocabulary().asked
        new = []
        for word in subjects:
            concept = self._concept(word)
            if lexicon.names(concept, about):
                continue
            homes = {o for o, text in asked.items() if lexicon.names(concept, text)}
            if owner and lexicon.names(concept, said) and (owner in homes or not homes):
                continue
            new.append(word)
        return new

    def subjects(self, text: str) -> list[str]:
        """The subject words of ``text`` in order of appearance, one per concept (a word inside a longer
        one is left out)."""
        lexicon = self.kb.tokens.lexicon
        vocabulary = self.vocabulary()
        folded = fold(text)
        found = [(folded.find(s), s, c) for s, c in lexicon.matches(text) if s not in vocabulary.contrast_terms]
        found += [(folded.find(w), w, w) for w in vocabulary.subjects if w in folded]
        kept: dict[str, str] = {}
        for _, surface, concept in sorted(found):
            if not any(surface != t and surface in t for _, t, _ in found):
                kept.setdefault(concept, surface)
        return list(kept.values())

    def _kept_aspects(self, previous: Turn, question: str) -> list[str]:
        """The previous turn's aspect words (as it said them) for each contrast set ``question`` leaves open."""
        lexicon = self.kb.tokens.lexicon
        folded, asked = fold(previous.resolved), lexicon.marks(question)
        return [lexicon.wording(i, c, folded)
                for i, classes in enumerate(lexicon.marks(previous.resolved)) if not asked[i]
                for c in sorted(classes)]

    def vocabulary(self) -> Vocabulary:
        """The subject words: the words of 事项 values that are no contrast term, occur in the 事项 values
        and questions of one department only (of one 事项 when entries have no department), and in the
        entries of at most :data:`ANSWER_SPREAD` departments (办理、领取 are everywhere)."""
        lexicon = self.kb.tokens.lexicon
        key = (self.kb.records.generation(), lexicon.fingerprint, lexicon.contrasts)
        if self._vocabulary is not None and self._vocabulary[0] == key:
            return self._vocabulary[1]
        contrast_terms = frozenset(t for classes in lexicon.contrasts for c in classes for t in c)
        owners, asked, items = {}, {}, set()
        for entry in self.kb.records.iter_entries():
            owners[entry.id] = owner = entry.department or entry.item
            asked.setdefault(owner, []).append(fold("\n".join((entry.item, *entry.questions))))
            items.add(entry.item)
        said: dict[str, set[str]] = {}
        for parent_id, tokens in self.kb.records.iter_parent_tokens():
            if parent_id in owners:
                said.setdefault(owners[parent_id], set()).update(tokens.split())
        texts = {owner: "\n".join(questions) for owner, questions in asked.items()}
        candidates = {w for item in items for w in content_words(item) if len(w) >= 2 and w not in contrast_terms}
        subjects = frozenset(w for w in candidates if sum(w in t for t in texts.values()) <= 1
                             and sum(w in words for words in said.values()) <= ANSWER_SPREAD)
        vocabulary = Vocabulary(subjects, contrast_terms, texts)
        self._vocabulary = (key, vocabulary)
        return vocabulary


def strip_markers(question: str) -> str:
    """``question`` without the follow-up words it opens with (那、还有 …)."""
    text = question.strip()
    return MARKERS.sub("", text) or text


def _bare(rest: str, subjects: list[str]) -> bool:
    """Whether ``rest`` says nothing but its subjects (那护照呢？)."""
    remainder = fold(rest)
    for word in subjects:
        remainder = remainder.replace(word, "")
    remainder = _PUNCT.sub("", remainder)
    for tail in _TAIL:
        remainder = remainder.replace(tail, "")
    return not remainder


def _joined(subjects: list[str], aspects: list[str], rest: str) -> str:
    """A standalone question: subject and aspect words, then what is asked (居住证签注，可以在手机上办吗？)."""
    head = "".join(dict.fromkeys(w for w in subjects + aspects if w and w not in fold(rest)))
    rest = rest.strip("，, ")
    return f"{head}，{rest}" if head and rest else head or rest


def follow_up(kb: KnowledgeBase, history: Sequence[Turn], question: str, rewrite: Rewriter | None = None,
              **options) -> Answer:
    """Answer ``question`` as the next turn of ``history``.

    The question is rewritten by ``rewrite`` (the :class:`OfflineRewriter` by default) and the
    standalone question is answered with :func:`bot.answer.answer` (``options`` are its keyword
    arguments); of the offline rewriter's candidates the first that gets an answer is taken. The
    answer keeps the question as typed in ``question`` and the standalone one in ``resolved`` when
    they differ, so it can say "按‘…’回答".
    """
    rewrite = rewrite or OfflineRewriter(kb)
    if isinstance(rewrite, OfflineRewriter):
        candidates = rewrite.candidates(history, question)
    else:
        candidates = [rewrite(history, question).strip() or question]
    first = None
    for standalone in candidates:
        result = answer(kb, standalone, **options)
        if result.status != "no_answer":
            break
        first = first or (standalone, result)
    else:
        standalone, result = first
    if standalone != question:
        alone = answer(kb, question, **options)
        if alone.status == "answered" and alone.confidence >= max(result.confidence, SURE):
            standalone, result = question, alone
    return replace(result, question=question, resolved=standalone if standalone != question else "")


def turn_of(result: Answer) -> Turn:
    """The conversation turn an answer makes: its question, the standalone question and its source."""
    citation = result.citations[0] if result.citations and result.status != "no_answer" else None
    return Turn(result.question, result.resolved or result.question, citation.item if citation else "",
                citation.title if citation else "", citation.parent_id if citation else "", result.status)


class Conversation:
    """A conversation held in memory: each :meth:`ask` answers a follow-up against the turns before it."""

    def __init__(self, kb: KnowledgeBase, turns: Sequence[Turn] = (), rewrite: Rewriter | None = None):
        self.kb = kb
        self.turns = list(turns)
        self.rewrite = rewrite or OfflineRewriter(kb)

    def ask(self, question: str, **options) -> Answer:
        """Answer ``question`` in this conversation and add it as a turn (``options`` as for :func:`follow_up`)."""
        result = follow_up(self.kb, self.turns, question, self.rewrite, **options)
        self.turns.append(turn_of(result))
        return result
