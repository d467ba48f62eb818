"""The part of a document passage that answers a question: at most :data:`MAX_CHARS` characters.

A passage (one chunk of a guidance document, about 300 characters) is cut into sentences; a
sentence too long to show alone is cut into clauses (after ，、：；). Every run of consecutive pieces
that fits in :data:`MAX_CHARS` and spans at most ``n`` sentences is a candidate; the one chosen

1. holds a piece that gives what the question asks for (an amount, a duration … see
   :func:`kb.deciding.gives_asked`), if any does;
2. holds the piece where the most of the question's words stand next to that value
   (:mod:`kb.closeness`: 发热门诊医务人员等每天开展一次, not 除发热门诊外的其他科室工作人员等每周两次);
3. covers the most of the question's units, each counted once and weighted (by its IDF in the
   knowledge base: the rare subject of the question counts far more than 办理 or 要求; a unit in
   the document's title counts less, since it tells which document answers, not where in it);
4. starts with a piece that has a unit of the question, and then has the most pieces: what the
   question asks is usually said with or just after the words it asks with, so no unrelated
   lead-in is shown and the context that follows is kept;
5. comes first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from kb import Hit, KnowledgeBase
from kb.closeness import closeness
from kb.deciding import gives_asked
from kb.lexicon import fold
from kb.text import keyword_tokens, split_sentences

MAX_CHARS = 150
"""The longest answer taken from a document; the whole passage is shown beside it."""

TITLE_WEIGHT = 0.25
"""How much a question unit found in a document's title counts: it tells which document answers,
not where in it."""

_CLAUSE_END = re.compile(r"(?<=[，、：；,:;])")


def pieces(text: str, limit: int = MAX_CHARS) -> list[tuple[str, int]]:
    """``text`` as ``(piece, sentence number)``: its sentences, a sentence longer than ``limit`` cut
    into clauses, a clause longer still cut every ``limit`` characters."""
    out = []
    for number, sentence in enumerate(split_sentences(text)):
        if len(sentence) <= limit:
            out.append((sentence, number))
            continue
        for clause in filter(None, _CLAUSE_END.split(sentence)):
            out += [(clause[i : i + limit], number) for i in range(0, len(clause), limit)]
    return out


def best_span(units: Mapping[str, float], text: str, present: Callable[[str, str], bool] = lambda u, t: u in t,
              answers: Callable[[str], bool] = lambda _: False, n: int = 2, limit: int = MAX_CHARS,
              close: Callable[[str], int] = lambda _: 0) -> str:
    """The run of consecutive pieces of ``text`` (see the module docstring) that best answers a question.

    Args:
        units: the question's units with their weights (e.g. ``token -> IDF``).
        text: the passage.
        present: whether a unit occurs in a piece folded by :func:`kb.lexicon.fold`.
        answers: whether a piece gives what the question asks for.
        n: the most sentences the span may touch.
        limit: the most characters of the span.
        close: how many of the question's words stand next to the value it asks for in a piece.
    """
    parts = pieces(text, limit)
    has = [frozenset(u for u in units if present(u, fold(piece))) for piece, _ in parts]
    gives = [answers(piece) for piece, _ in parts]
    near = [close(piece) if given else 0 for (piece, _), given in zip(parts, gives)]
    best, chosen = None, (0, 0)
    for i in range(len(parts)):
        length, covered, given, closest = 0, set(), False, 0
        for j in range(i, len(parts)):
            length += len(parts[j][0])
            if length > limit or parts[j][1] - parts[i][1] >= n:
                break
            covered |= has[j]
            given, closest = given or gives[j], max(closest, near[j])
            key = (given, closest, round(sum(units[u] for u in covered), 9), bool(has[i]), j - i, -i)
            if best is None or key > best:
                best, chosen = key, (i, j + 1)
    return "".join(piece for piece, _ in parts[chosen[0] : chosen[1]])


def best_sentences(question: str, text: str, n: int = 2, answers: Callable[[str], bool] = lambda _: False) -> str:
    """:func:`best_span` of ``text`` for ``question`` weighing each of its keyword tokens alike (for
    a caller without a knowledge base to weigh them)."""
    return best_span(dict.fromkeys(keyword_tokens(question), 1.0), text, answers=answers, n=n)


def document_span(kb: KnowledgeBase, question: str, hit: Hit) -> str:
    """The sentences of a document ``hit``'s passage that answer ``question`` (:func:`bot.span.best_span`,
    at most 150 characters). The question's units weigh their IDF, a quarter of it for those in the
    document's title (:data:`TITLE_WEIGHT`).

    When the question asks for something (a department, an amount …) that only the title states — a
    form's heading names the centre it belongs to — the title leads the span."""
    title = fold(hit.title)
    units = {token: weight * (TITLE_WEIGHT if kb.tokens.present(token, title) else 1.0)
             for token, (_, weight) in kb.term_weights(question).items()}
    lexicon = kb.tokens.lexicon
    answers = gives_asked(lexicon, question) or (lambda _: False)
    span = best_span(units, hit.text, kb.tokens.present, answers,
                     close=closeness(lexicon, question, kb.tokens.units) or (lambda _: 0))
    if not answers(span) and answers(hit.title):
        return f"{hit.title}：{span}"
    return span
