"""The domain lexicon: how citizens say things (房产证) and how the knowledge base writes them (不动产权证书).

Three kinds of knowledge, all shipped in ``resources/lexicon.txt`` and extended by the centre
(``kb lexicon add``, stored in the record store's ``lexicon`` table):

* **synonym groups** — every term of a group names one *concept*, called by the group's first
  (official) term. Keyword search adds a concept token for each term it finds, so a question
  with 房产证 matches an entry that says 不动产权证书, and answer confidence counts the two as one word.
* **contrast sets** — classes of words that separate two near entries (办理/取消, 离职/退休,
  首次/补领, 个人/单位). A set with one class contrasts "says it" with "does not say it". A set
  written ``证照: …`` is about certificates and cards: a question asks about one of its cases only
  when it names a paper (护照找不到了 is a lost passport; 老板找不到了, 工作丢了, 社保断掉了 are not).
* **answer types** — what a question asks for (多少钱, 多久, 几岁) and what an answer to it must
  say (an amount in 元 or 免费, a duration, an age). A term of the form ``#单位`` stands for a number
  followed by that unit (``#个工作日`` matches 15个工作日 and 三个工作日).

Terms are matched as substrings of NFKC-normalised, lower-cased text, longest term first, without
overlaps; jieba is not involved, so the lexicon never changes how text is segmented.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from itertools import accumulate

from .errors import KBError
from .text import content_hash, segment

SCHEMA = """
CREATE TABLE IF NOT EXISTS lexicon (
    kind TEXT NOT NULL, line TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (kind, line));
"""
KINDS = {"synonym": "同义词", "contrast": "区分词", "answer_type": "问答类型"}
CONCEPT_PREFIX = "#"
NUMBER_PREFIX = "#"
_SECTIONS = {f"[{name}]": kind for kind, name in KINDS.items()}
_NUMBER = "[0-9一二三四五六七八九十百千万两半]+(?:\\.[0-9]+)?\\s*"
_SPACES = re.compile(r"[\s\u3000]+")
_YEAR = "[0-9〇零一二三四五六七八九]{4}\\s*年"
_DAY = "[0-9一二三四五六七八九十]{1,3}\\s*"
DATES = re.compile(f"(?:{_YEAR}\\s*)?{_DAY}月\\s*{_DAY}[日号]|{_YEAR}(?:\\s*{_DAY}月)?")
"""Calendar dates (2026年9月1日, 9月1日, 十月九日, 2026年, 2026年10月): a point in time, not a
duration, so 9月1日 does not tell how long something takes."""


PAPER_ENDINGS = ("证", "证书", "证明", "卡", "照", "簿", "凭证", "通行证", "护照")
"""How the official names of certificates, cards and papers (证照) end: 居住证, 社会保障卡, 护照 …"""
PAPER_ONLY = re.compile(r"^\s*证照\s*[:：]\s*")
"""How a contrast line about certificates and cards begins."""
_PAPER_WORD = re.compile("[证卡照簿]")
"""A character that ends the names of most papers, including those the lexicon does not list (毕业证)."""


def is_paper(concept: str) -> bool:
    """Whether a lexicon concept is a certificate, card or paper, by how its official name ends."""
    return concept.endswith(PAPER_ENDINGS)


class LexiconError(KBError):
    """A lexicon line that cannot be used; the message says which and how to fix it."""


def fold(text: str) -> str:
    """The form terms are matched in: NFKC-normalised and lower-cased."""
    return unicodedata.normalize("NFKC", text).lower()


_EMPTY = {
    "synonym": "同义词“{line}”是空的：请写规范用语和至少一个其他说法，用空格分隔。",
    "contrast": "区分词“{line}”有空的一类：每类至少写一个词，类之间用 | 分隔。",
    "answer_type": "问答类型“{line}”的问法或答复说法是空的：应写成 问法 => 答复中应有的说法，例如：多少钱 => #元 免费。",
}


def parse_line(kind: str, line: str) -> tuple[tuple[str, ...], ...]:
    """One line as classes of terms: a synonym line is one class, a contrast line is split at ``|``,
    an answer-type line at ``=>`` (the question's wordings, then what the answer must say).

    Raises :class:`LexiconError` for an empty class, a one-term synonym group or a duplicated term.
    """
    if kind not in KINDS:
        raise LexiconError(f"词表类型只能是 {'、'.join(KINDS.values())}。")
    if kind == "answer_type" and line.count("=>") != 1:
        raise LexiconError(f"问答类型“{line}”应写成 问法 => 答复中应有的说法，例如：多少钱 => #元 免费。")
    parts = line.split("|") if kind == "contrast" else line.split("=>") if kind == "answer_type" else [line]
    classes = tuple(tuple(dict.fromkeys(fold(t) for t in _SPACES.split(p.strip()) if t)) for p in parts)
    if not classes or any(not c for c in classes):
        raise LexiconError(_EMPTY[kind].format(line=line))
    if kind == "synonym" and len(classes[0]) < 2:
        raise LexiconError(f"同义词“{line}”只有一个词：请写规范用语和至少一个其他说法，用空格分隔。")
    terms = [t for c in classes for t in c]
    if len(terms) != len(set(terms)):
        raise LexiconError(f"词表行“{line}”中有重复的词，请删去重复。")
    return classes


def normal_line(kind: str, line: str) -> str:
    """``line`` as stored: folded terms, single spaces, `` | `` or `` => `` between classes, a contrast
    set about papers led by ``证照: ``."""
    separator = {"contrast": " | ", "answer_type": " => "}.get(kind, " ")
    papers, rest = paper_only(kind, line)
    return ("证照: " if papers else "") + separator.join(" ".join(c) for c in parse_line(kind, rest))


def paper_only(kind: str, line: str) -> tuple[bool, str]:
    """Whether ``line`` is a contrast set about papers (it begins ``证照:``), and the line without that."""
    found = PAPER_ONLY.match(line) if kind == "contrast" else None
    return (True, line[found.end():]) if found else (False, line)


@dataclass(frozen=True)
class Lexicon:
    """Synonym groups (official term first), contrast sets (tuples of classes of terms; ``paper_sets``
    are the indexes of those about papers) and answer types.

    Synonym lines that share a term form one group (the group of the first of them keeps its
    official term), so the centre can add a colloquial word to a shipped group by naming any of its terms.
    """

    groups: tuple[tuple[str, ...], ...] = ()
    contrasts: tuple[tuple[tuple[str, ...], ...], ...] = ()
    answer_types: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()
    paper_sets: frozenset[int] = frozenset()

    @classmethod
    def from_lines(cls, lines: Iterable[tuple[str, str]]) -> Lexicon:
        """A lexicon from ``(kind, line)`` pairs (kind ``synonym``, ``contrast`` or ``answer_type``)."""
        groups: list[list[str]] = []
        contrasts, answer_types, paper_sets = [], [], set()
        for kind, line in lines:
            papers, rest = paper_only(kind, line)
            classes = parse_line(kind, rest)
            if papers:
                paper_sets.add(len(contrasts))
            if kind != "synonym":
                (contrasts if kind == "contrast" else answer_types).append(classes)
                continue
            terms = list(classes[0])
            joined = [g for g in groups if set(g) & set(terms)]
            for g in joined:
                groups.remove(g)
            merged = [t for g in joined for t in g]
            groups.append(list(dict.fromkeys(merged + terms)) if joined else terms)
        return cls(tuple(tuple(g) for g in groups), tuple(contrasts), tuple(answer_types), frozenset(paper_sets))

    @cached_property
    def concept_of(self) -> dict[str, str]:
        """term -> the official term of its group."""
        return {term: group[0] for group in self.groups for term in group}

    @cached_property
    def members(self) -> dict[str, tuple[str, ...]]:
        """concept -> every term that names it."""
        out: dict[str, list[str]] = {}
        for term, concept in self.concept_of.items():
            out.setdefault(concept, []).append(term)
        return {c: tuple(terms) for c, terms in out.items()}

    @cached_property
    def _pattern(self) -> re.Pattern | None:
        terms = sorted(self.concept_of, key=lambda t: (-len(t), t))
        return re.compile("|".join(map(re.escape, terms))) if terms else None

    @cached_property
    def fingerprint(self) -> str:
        """Changes whenever the concept tokens of some text could change."""
        return content_hash(*("\t".join(g) for g in self.groups))[:16]

    def check_additions(self, lines: Iterable[tuple[str, str]]) -> None:
        """Raise :class:`LexiconError` for a synonym line among ``lines`` that would join groups that
        are apart (in this lexicon or made by the lines before it): 房本 户口本 would make the papers
        of a house and of a household one concept for search and for the confidence. A line that
        extends one group, or makes a new one, is fine."""
        concept_of = dict(self.concept_of)
        for kind, line in lines:
            if kind != "synonym":
                continue
            terms = parse_line(kind, line)[0]
            joined = list(dict.fromkeys(concept_of[t] for t in terms if t in concept_of))
            if len(joined) > 1:
                members = {c: [t for t, o in concept_of.items() if o == c] for c in joined}
                groups = "；".join(f"“{c}”（{'、'.join(members[c][:4])}）" for c in joined)
                raise LexiconError(f"同义词“{line}”会把词表中不同的几组词连成一组：{groups}。同义词只写同一事物的"
                                   "不同说法；要给其中一组补充说法，请每行只写那一组的词和新说法。")
            for term in terms:
                concept_of[term] = joined[0] if joined else terms[0]

    def matches(self, text: str) -> list[tuple[str, str]]:
        """``(surface term, concept)`` for each non-overlapping term in ``text``, longest first, in order."""
        if self._pattern is None:
            return []
        return [(m[0], self.concept_of[m[0]]) for m in self._pattern.finditer(fold(text))]

    def annotated(self, text: str) -> str:
        """``text`` (folded) with each term that is not itself official followed by its official term in brackets."""
        if self._pattern is None:
            return fold(text)

        def note(m: re.Match) -> str:
            concept = self.concept_of[m[0]]
            return m[0] if concept == m[0] else f"{m[0]}（{concept}）"

        return self._pattern.sub(note, fold(text))

    def concepts(self, text: str) -> list[str]:
        """The concepts ``text`` names, in order of first mention, without repeats."""
        return list(dict.fromkeys(concept for _, concept in self.matches(text)))

    def concept_tokens(self, text: str) -> list[str]:
        """One keyword token per concept mention (``#`` + official term), for the keyword index."""
        return [CONCEPT_PREFIX + concept for _, concept in self.matches(text)]

    def names(self, concept: str, text: str) -> bool:
        """Whether ``text`` names ``concept`` by any of its terms."""
        folded = fold(text)
        return any(term in folded for term in self.members.get(concept, (concept,)))

    def marks(self, text: str) -> tuple[frozenset[int], ...]:
        """For each contrast set, the classes whose terms ``text`` contains."""
        return self._classes(fold(text))

    def asked(self, question: str) -> tuple[frozenset[int], ...]:
        """Like :meth:`marks`, for a question: a class that is only named after a negation
        (是辞职不是退休, 不是到期，是丢了) is not what it asks about, nor a class of a set about
        papers when the question names no paper (工作丢了 is not a lost card)."""
        folded = fold(question)
        asked = self._classes(folded, affirmed=True)
        if not self.paper_sets or self.names_paper(question):
            return asked
        return tuple(frozenset() if i in self.paper_sets else a for i, a in enumerate(asked))

    def wording(self, index: int, cls: int, folded: str) -> str:
        """How ``folded`` (text folded by :func:`fold`) says class ``cls`` of contrast set ``index``: the
        first of the class's terms it contains."""
        return next(t for t in self.contrasts[index][cls] if t in folded)

    def names_paper(self, text: str) -> bool:
        """Whether ``text`` names a certificate, card or paper: a lexicon term of one (户口本), or a word
        ending like one (毕业证, 老年卡, 执照)."""
        return bool(_PAPER_WORD.search(fold(text))) or any(is_paper(c) for _, c in self.matches(text))

    @cached_property
    def _contrast_terms(self) -> frozenset[str]:
        return frozenset(t for classes in self.contrasts for cls in classes for t in cls)

    def affirmative(self, question: str) -> str:
        """``question`` without what it says it is not about, for searching: each clause after a
        negation (不是问年度认证, 不是我自己交，是公司…) is dropped up to the next punctuation mark or 是.
        When the rest names no concept, the concepts of the dropped clauses stay (unless a contrast set
        lists them): in 不是换护照，是第一次申请 the subject is 护照. 是不是 is a question, not a
        negation. A question with a negation comes back folded, one without unchanged."""
        folded = fold(question)
        text, negated = _NEGATED_CLAUSE.subn("", folded)
        if not negated:
            return question
        if self.matches(text):
            return text
        return _NEGATED_CLAUSE.sub(
            lambda m: "".join(s for s, _ in self.matches(m[1]) if s not in self._contrast_terms), folded)

    def _classes(self, folded: str, affirmed: bool = False) -> tuple[frozenset[int], ...]:
        """For each contrast set, the classes with a term in ``folded`` that does not stand inside a
        longer term of another class (没有单位 names 灵活就业, not 单位 too); with ``affirmed``, only
        terms not right after a negation (:data:`_NEGATION`) count."""
        out = []
        for classes in self.contrasts:
            spans = [(start, start + len(term), i) for i, cls in enumerate(classes) for term in cls
                     for start in _starts(folded, term)]
            out.append(frozenset(i for start, end, i in spans
                                 if not any(o != i and s <= start and end <= e and e - s > end - start
                                            for s, e, o in spans)
                                 and not (affirmed and _NEGATION_ENDS.search(folded, max(0, start - 3), start))))
        return tuple(out)

    @cached_property
    def _answer_patterns(self) -> tuple[re.Pattern, ...]:
        def term(t: str) -> str:
            return _NUMBER + re.escape(t[1:]) if t.startswith(NUMBER_PREFIX) else re.escape(t)

        return tuple(re.compile("|".join(map(term, sorted(gives, key=len, reverse=True))))
                     for _, gives in self.answer_types)

    def asked_types(self, question: str) -> tuple[int, ...]:
        """The answer types ``question`` asks for (indexes into :attr:`answer_types`)."""
        folded = fold(question)
        return tuple(i for i in range(len(self.answer_types)) if self._asking(i, folded))

    def asking(self, index: int, question: str) -> str:
        """The first wording of answer type ``index`` that ``question`` asks with, or "" if none. A
        几 that counts vaguely (好几年, 十几天, 这几天) is a statement, not a question."""
        return self._asking(index, fold(question))

    def _asking(self, index: int, folded: str) -> str:
        return next((t for t in self.answer_types[index][0] if _asks_with(folded, t)), "")

    def gives(self, index: int, text: str) -> bool:
        """Whether ``text`` says what answer type ``index`` asks for (dates left out: 9月1日 is not a
        duration of 1 day; a one-character term only ends a word: 住建局, 医保办, not 办理)."""
        return bool(self.stated(index, fold(text)))

    def stated(self, index: int, folded: str) -> list[tuple[int, int]]:
        """Where ``folded`` (text folded by :func:`fold`) states a value of answer type ``index``, as
        ``(start, end)`` offsets into it (dates left out, one-character terms at a word's end, as in
        :meth:`gives`)."""
        text = _undated(folded)
        spans = [m.span() for m in self._answer_patterns[index].finditer(text)]
        if any(end - start == 1 for start, end in spans):
            ends = set(accumulate(map(len, segment(text))))
            spans = [(start, end) for start, end in spans if end - start > 1 or end in ends]
        return spans


VAGUE_COUNT = frozenset("好十这那近头过数0123456789")
"""Before 几, what makes it a vague count rather than a question: 好几年, 十几天, 这几天, 近几个月 (not
前: 前几天 is a few days ago, but 提前几天 asks how many)."""


def _asks_with(folded: str, term: str) -> bool:
    """Whether ``folded`` contains ``term`` as a question: a term that starts with 几 must stand
    somewhere without a :data:`VAGUE_COUNT` character right before it."""
    if not term.startswith("几"):
        return term in folded
    return any(start == 0 or folded[start - 1] not in VAGUE_COUNT for start in _starts(folded, term))


def _undated(folded: str) -> str:
    """``folded`` with each calendar date (:data:`DATES`) blanked out, offsets kept."""
    return DATES.sub(lambda m: " " * len(m.group()), folded)


NEGATIONS = ("不是", "并非", "而非", "不是问")
_NEGATION = "(?<!是)(?:" + "|".join(map(re.escape, sorted(NEGATIONS, key=len, reverse=True))) + ")"
"""A negation, but not the 不是 of 是不是 (a question)."""
_NEGATED_CLAUSE = re.compile(_NEGATION + "([^,.?!;:，。？！；：是]*)")
_NEGATION_ENDS = re.compile(_NEGATION + "$")


def _starts(text: str, term: str) -> list[int]:
    """Where ``term`` occurs in ``text``."""
    found, start = [], text.find(term)
    while start >= 0:
        found.append(start)
        start = text.find(term, start + 1)
    return found


@cache
def builtin_lines() -> tuple[tuple[str, str], ...]:
    """The shipped lexicon (``resources/lexicon.txt``) as ``(kind, line)`` pairs."""
    text = (resources.files("kb") / "resources" / "lexicon.txt").read_text(encoding="utf-8")
    lines, kind = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line in _SECTIONS:
            kind = _SECTIONS[line]
            continue
        lines.append((kind, line))
    return tuple(lines)


def additions(conn: sqlite3.Connection) -> list[tuple[str, str, str, str]]:
    """The centre's own lexicon lines as ``(kind, line, who added it, when)``, in the order they were added."""
    return [tuple(r) for r in conn.execute("SELECT kind, line, actor, at FROM lexicon ORDER BY rowid")]


def stored_lines(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """The centre's own lexicon lines as ``(kind, line)``, in the order they were added."""
    return [(kind, line) for kind, line, _, _ in additions(conn)]


def load(conn: sqlite3.Connection) -> Lexicon:
    """The shipped lexicon plus the centre's additions."""
    return Lexicon.from_lines([*builtin_lines(), *stored_lines(conn)])
