"""Where a question asks: a citizen tells the background first and asks last.

In 我爷爷瘫在床上好几年了，他的社保卡我当孙子的能替他去拿吗？ the first clause is the story and the
second the question; an answer speaks to the question, so the words of the story are no measure of
whether it fits (:meth:`kb.tokens.Tokens.asked_units`). A clause asks when it ends with a question
mark, holds a question word (吗, 怎么, 哪, 多少, 几天 — not the 几 of 好几年, 十几年 …) or an A-not-A
pair (能不能, 有没有, 算不算).
"""

from __future__ import annotations

import re
import unicodedata

_CLAUSE = re.compile(r"[^,.?!;:，。？！；：\n]+[,.?!;:，。？！；：\n]*")
_QUESTION_MARK = re.compile(r"[?？]")
_QUESTION_WORD = re.compile(r"[吗哪啥谁怎]|什么|多少|多久|多长|多大|是否|(?<![好十])几[天个次号岁年月点家套份]|(\w)[不没]\1")


def asks(clause: str) -> bool:
    """Whether ``clause`` asks something (question mark, question word or A-not-A pair)."""
    return bool(_QUESTION_MARK.search(clause) or _QUESTION_WORD.search(clause))


def asked_parts(question: str) -> list[str]:
    """``question`` from its first clause that asks to the end, then widened by one clause before
    it at a time up to the whole question (just the whole when no clause asks). The narrowest one
    with a word of its own is the question proper: a bare tag (……，行不行？) asks about the clause
    before it."""
    clauses = _CLAUSE.findall(unicodedata.normalize("NFKC", question))
    first = next((i for i, clause in enumerate(clauses) if asks(clause)), 0)
    return ["".join(clauses[start:]) for start in range(first, -1, -1)]
