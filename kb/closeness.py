"""How closely a passage ties what a question asks for to the question's own words.

A how-long or how-much question (an answer type of the lexicon, :mod:`kb.lexicon`) is often put to
a document with several passages that state *some* duration: 在潜伏期即有传染性，发病后 3 天内传染性
最强 and 潜伏期多为 2～4 天 both give days and both name 潜伏期, but only in the second does 潜伏期
own the value. A passage's closeness is how many of the question's words of two characters or more
stand within :data:`NEAR` characters of a stated value of the asked type, with no clause break
between them: ，。！？, a line break, or a ；that ends a clause. A colon does not break a clause
(潜伏期：2～4 天), nor does the ；between the cells of a table row (人群：特困人员；个人缴费：0元).

On the office benchmark (``benchmarks/office``) showing the closest passage moved the answer into
the first passage for two more questions (66 → 68 of 78) and lost none; ncp_dev and the everyday
questions kept every passage. A window of 8 or 12 characters gave the same; 20 lost one ncp_dev
passage; counting one-character words let a stray 写 pick a worse passage; weighting the words by
their IDF instead of counting them gave the same figures but let a common word outweigh a table
row's subject in a small knowledge base.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .lexicon import Lexicon, fold

NEAR = 12
"""How many characters may stand between a question's word and the value it asks for."""
CLAUSE_BREAK = re.compile(r"[，,。！!？?\n]|[；;](?![^，。；;：:\n]{1,12}[：:])")
"""What ends a clause; a ；followed by a cell label (个人缴费：) separates the cells of one table row."""
RANGE_HEAD = frozenset("0123456789一二三四五六七八九十百千万两半.～~〜至到-— 个或")
"""What may open a value before its last number: 2～4 天, 56 个或 52 个工作日."""


def closeness(lexicon: Lexicon, question: str,
              units: Callable[[str], list[tuple[str, str]]]) -> Callable[[str], int] | None:
    """A scorer of passages for ``question`` (higher: more of its words stand close to the value it
    asks for), or None when it asks for no answer type or has no word of two characters or more
    besides the asking words (几天, 多少钱). ``units`` is :meth:`kb.tokens.Tokens.units`."""
    types = lexicon.asked_types(question)
    if not types:
        return None
    rest = fold(question)
    for index in types:
        for asks in sorted(lexicon.answer_types[index][0], key=len, reverse=True):
            rest = rest.replace(fold(asks), " ")
    words = list(dict.fromkeys(surface for _, surface in units(rest) if len(surface) > 1))
    if not words:
        return None

    def score(text: str) -> int:
        folded = fold(text)
        values = [_widened(folded, span) for index in types for span in lexicon.stated(index, folded)]
        return sum(1 for word in words
                   if any(_gap(folded, found.start(), found.end(), value) <= NEAR
                          for found in re.finditer(re.escape(word), folded) for value in values))
    return score


def _widened(text: str, span: tuple[int, int]) -> tuple[int, int]:
    """A value's span, its start moved back over the rest of a range (2～4 天 rather than 4 天)."""
    start, end = span
    while start > 0 and text[start - 1] in RANGE_HEAD:
        start -= 1
    return start, end


def _gap(text: str, start: int, end: int, value: tuple[int, int]) -> float:
    """Characters between a word (``start``..``end``) and a value; infinite across a clause break."""
    a, b = (end, value[0]) if end <= value[0] else (value[1], start)
    if a >= b:
        return 0
    return float("inf") if CLAUSE_BREAK.search(text, a, b) else b - a
