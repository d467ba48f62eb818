"""The deciding word: an answer must agree with what the question names.

Near entries are often separated by one word (办理/取消, 离职/退休, 首次/补领, 个人/单位): the
lexicon's contrast sets (:mod:`kb.lexicon`). Five rules, applied to the first :data:`NEAR` hits, and a choice left open:

* **contradiction** — the question names a class of a contrast set and an entry names only other
  classes of it in its own question wordings and 事项 (辞职 asked, the entry is about 退休), unless
  its answer covers the asked class too (an entry asked about the employer's missed months whose
  answer also says what 灵活就业人员自己中断缴费 can do answers 我自己交的社保断了一年). A
  class other than the set's first one (its default: an entry on applying is about a first
  application) must moreover be mentioned somewhere in the entry, answer included (丢了 asked, the
  entry only explains how to apply). That silence rules the entry out only for a set whose words
  are what the question is about wherever they stand: a one-class set (取消, 复查) or a set about
  papers (read only when the question names a paper). The other sets' words often come up in
  passing (我在单位上班，社保卡丢了; 老人长期卧床; 刚搬到本市): an entry silent on such a case goes
  behind the near hits that mention it unless it stands well ahead of them (:data:`SILENT_LEAD`),
  and when it answers it does so with a note saying which case it does not mention. A question that
  names no class is never contradicted: it may still be about that case in other words.
* **another paper** — certificates and cards (证照: lexicon concepts whose official name ends in 证,
  卡, 照, 簿, 证明 …) contrast with each other: an entry whose own question is about one paper (社会
  保障卡丢了怎么补办) does not answer a question about another (护照丢了怎么补办). An entry whose
  question names no paper is not ruled out: the paper may come up in passing.
* **answer type** — a question that asks 多少钱, 多久 or 几岁 is only answered by an entry whose answer
  states an amount, a duration or an age (the lexicon's answer types): the entry on how to apply for
  a passport does not answer what the passport costs.
* **subject** — a lexicon concept the question names (房产证, 驾驶证 …) that none of the near hits
  names anywhere is a subject the knowledge base does not cover: the question is refused rather
  than answered from a neighbour. (Requiring every hit to name every concept of the question was
  measured and rejected: concepts come up in passing — 房本 in a question about selling a mortgaged
  flat — and the rule then refused or demoted right answers more often than it caught wrong ones.)
* **figure** — a figure of four digits or more in the question (a year 2024, an error code 6301, a
  document or phone number) must appear in the hit: in an entry, or anywhere in a document (whose
  passage that has it is then shown): the 2026 position table does not answer a question about 2024.
* **open choice** — when the two best entries that keep the rules differ on a contrast set the
  question does not settle (公积金全部取出来：离职 or 退休?), neither is picked: the bot asks which.

Search (:meth:`kb.KnowledgeBase.search`) moves the near hits that break a rule behind those that keep
them; the answer step reads the verdict to refuse, or to ask which.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from .lexicon import Lexicon, is_paper
from .types import Entry, Hit

NEAR = 3
"""How many of the best hits count as near: a rule may promote one of these over the first."""
SILENT_LEAD = 5.0
"""How far ahead in search score (a sum of z-scores) an entry silent on the asked case must be of the
best near hit that mentions the case to stay ahead of it: half the lead at which the confidence counts
a first hit as standing out fully (``bot.confidence.LEAD_CAP``). In a knowledge base of seven
entries, 「公司的员工第一次办护照要带什么」 put the passport entry 11 ahead of two entries on 公积金 and
社保 that mention 单位; going behind them, it was refused. Any lead from 0 to 12 gave the same figures
on the sample sets; of 25 questions naming such a case in passing, 22 are answered right at 5 or 8,
21 at 12, 20 when a silent entry always goes behind."""


@dataclass(frozen=True)
class Judged:
    """A hit, the classes of each contrast set its own text names, the sets it contradicts the question
    on, the answer types the question asks for that it does not give, and the sets whose asked case it
    never mentions without that ruling it out (``unsaid``: it goes behind the near hits that do)."""

    hit: Hit
    marks: tuple[frozenset[int], ...]
    contradicted: tuple[int, ...] = ()
    unanswered: tuple[int, ...] = ()
    other_papers: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    unsaid: tuple[int, ...] = ()

    @property
    def clean(self) -> bool:
        return not self.contradicted and not self.unanswered and not self.other_papers and not self.missing


@dataclass(frozen=True)
class Verdict:
    """The hits reordered by the rules (within the first :data:`NEAR`, those that keep them first),
    the question's concepts that no near hit names, and the contrast set that leaves the choice
    between the first two open (-1 when none does)."""

    judged: tuple[Judged, ...]
    uncovered: tuple[str, ...] = ()
    open_set: int = -1

    @property
    def best(self) -> Judged | None:
        return self.judged[0] if self.judged else None


FIGURE = re.compile(r"\d{4,}")
"""A figure the answer must repeat: a year, a code, a document or phone number (4 digits or more)."""


def figures(question: str) -> tuple[str, ...]:
    """The figures of ``question`` (2024, 6301 …) that any answer to it must contain."""
    return tuple(dict.fromkeys(FIGURE.findall(unicodedata.normalize("NFKC", question))))


def gives_asked(lexicon: Lexicon, question: str) -> Callable[[str], bool] | None:
    """A test for whether a text states what ``question`` asks for (its answer types and its
    figures), or None when the question asks for nothing in particular."""
    types, asked_figures = lexicon.asked_types(question), figures(question)
    if not types and not asked_figures:
        return None
    return lambda text: all(lexicon.gives(t, text) for t in types) and \
        all(f in unicodedata.normalize("NFKC", text) for f in asked_figures)


def hit_text(hit: Hit) -> str:
    """Everything a hit shows: title (an entry's question), passage, answer, 事项 and the questions of
    the old 口径 it stands in for."""
    return "\n".join((hit.title, hit.text, hit.answer, hit.item, *(r.old_question for r in hit.replaced)))


def _own_text(hit: Hit, entry: Callable[[str], Entry | None]) -> str:
    """An entry's question wordings, 事项 and the questions of the old 口径 it replaced: what it is about."""
    found = entry(hit.parent_id)
    questions = found.questions if found is not None else (hit.title,)
    return "\n".join((hit.item, *questions, *(r.old_question for r in hit.replaced)))


def judge(lexicon: Lexicon, question: str, hits: list[Hit], entry: Callable[[str], Entry | None],
          document_text: Callable[[str], str] = lambda _: "") -> Verdict:
    """Apply the rules to ``hits`` (best first) for ``question``; ``entry(id)`` looks an entry up,
    ``document_text(id)`` gives a document's whole text (a figure may stand outside the passage shown).

    Documents cover many cases and are shown by one passage of many, so only entries are held to the
    contrast, paper and answer-type rules.
    """
    asked, types, concepts = lexicon.asked(question), lexicon.asked_types(question), lexicon.concepts(question)
    papers = {c for c in concepts if is_paper(c)}
    texts = [hit_text(hit) for hit in hits]
    asked_figures = figures(question)
    judged = []
    for hit, text in zip(hits, texts):
        missing = tuple(f for f in asked_figures if f not in unicodedata.normalize("NFKC", text))
        if missing and hit.kind == "document":
            whole = unicodedata.normalize("NFKC", document_text(hit.parent_id))
            missing = tuple(f for f in missing if f not in whole)
        if hit.kind != "entry":
            judged.append(Judged(hit, tuple(frozenset() for _ in asked), missing=missing))
            continue
        unanswered = tuple(t for t in types if not lexicon.gives(t, hit.answer))
        own = _own_text(hit, entry)
        marks = lexicon.marks(own)
        anywhere = lexicon.marks(text)
        its_papers = [c for c in lexicon.concepts(own) if is_paper(c)]
        other_papers = tuple(its_papers) if papers and its_papers and not papers & set(its_papers) else ()
        answered = lexicon.marks(hit.answer)
        silent = {i for i, a in enumerate(asked) if a and not a & anywhere[i] and _marked(lexicon, i, a)}
        contradicted = tuple(i for i, a in enumerate(asked) if a and (
            (marks[i] and not a & marks[i] and not a & answered[i]) or (i in silent and _topical(lexicon, i))))
        unsaid = tuple(sorted(silent.difference(contradicted)))
        judged.append(Judged(hit, marks, contradicted, unanswered, other_papers, missing, unsaid))
    uncovered = tuple(c for c in concepts if not any(lexicon.names(c, t) for t in texts[:NEAR]))
    near = _ordered(judged[:NEAR]) + judged[NEAR:]
    return Verdict(tuple(near), uncovered, _open_set(lexicon, asked, near))


def _ordered(near: list[Judged]) -> list[Judged]:
    """The near hits with those that break a rule last (in search order among them). An entry silent on
    the asked case (``unsaid``) goes with them, unless it leads every near hit that keeps the rules and
    mentions the case by more than :data:`SILENT_LEAD`."""
    best = max((j.hit.score for j in near if j.clean and not j.unsaid), default=None)
    return sorted(near, key=lambda j: not j.clean or (
        bool(j.unsaid) and (best is None or j.hit.score - best <= SILENT_LEAD)))


def _marked(lexicon: Lexicon, index: int, asked: frozenset[int]) -> bool:
    """Whether the classes a question names of contrast set ``index`` include one besides its default
    (the first class of a set with several; a one-class set has no default)."""
    return len(lexicon.contrasts[index]) == 1 or bool(asked - {0})


def _topical(lexicon: Lexicon, index: int) -> bool:
    """Whether contrast set ``index`` names what a question is about wherever it says it: a one-class
    set (取消, 复查) or a set about papers, read only when the question names one."""
    return len(lexicon.contrasts[index]) == 1 or index in lexicon.paper_sets


def _open_set(lexicon: Lexicon, asked: tuple[frozenset[int], ...], judged: list[Judged]) -> int:
    """The contrast set on which the first two entries differ while the question names none of its
    classes: each names a different class, or (a one-class set) one says it and the other does not.
    -1 when there is none, or either entry breaks a rule."""
    if len(judged) < 2 or not (judged[0].clean and judged[1].clean):
        return -1
    first, second = judged[0], judged[1]
    if first.hit.kind != "entry" or second.hit.kind != "entry":
        return -1
    for i, classes in enumerate(lexicon.contrasts):
        if asked[i] or first.marks[i] == second.marks[i]:
            continue
        if len(classes) == 1 or (first.marks[i] and second.marks[i]):
            return i
    return -1
