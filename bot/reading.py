"""How the knowledge base reads a question through its lexicon, told in Chinese for the people who
keep the lexicon: after adding a word, a group lead checks that a question in counter words now
reads as meant (``kb lexicon check``, the 词表 page).

The reading lists what retrieval and the deciding rules (:mod:`kb.deciding`) take from the question:
the concepts it names (房本 → 不动产权证书), the class of each contrast set it asks about (遗失), the
classes it mentions without asking about them (after a negation, or a 证照 class in a question that
names no paper), the answer types it asks for (多少钱: the answer must state an amount) and the words
left for plain keyword search.
"""

from __future__ import annotations

from kb.lexicon import NUMBER_PREFIX, Lexicon, fold
from kb.tokens import Tokens

SHOWN_GIVES = 8
"""How many of an answer type's required wordings a reading lists."""
NOTHING = "词表里的词一个也没有认出，只按下面的关键词和语义检索。"


def reading(tokens: Tokens, question: str) -> list[str]:
    """What the lexicon of ``tokens`` makes of ``question``, one Chinese line per finding."""
    lexicon = tokens.lexicon
    folded = fold(question)
    lines = [f"认出的说法：{surface} → {concept}" if surface != concept else f"认出的说法：{concept}（规范用语）"
             for surface, concept in dict.fromkeys(lexicon.matches(question))]
    lines += _contrasts(lexicon, question, folded)
    for index in lexicon.asked_types(question):
        gives = lexicon.answer_types[index][1]
        said = lexicon.asking(index, question)
        shown = [f"数字+{t[1:]}" if t.startswith(NUMBER_PREFIX) else t for t in gives]
        more = "等" if len(shown) > SHOWN_GIVES else ""
        lines.append(f"问答类型：问“{said}”，答复须写明其中之一：{'、'.join(shown[:SHOWN_GIVES])}{more}")
    if not lines:
        lines.append(NOTHING)
    words = [surface for token, surface in tokens.units(question) if token == surface]
    lines.append(f"其余关键词：{'、'.join(words)}" if words else "其余关键词：无")
    return lines


def _contrasts(lexicon: Lexicon, question: str, folded: str) -> list[str]:
    """A line per contrast class the question asks about, and per class it names without asking."""
    lines = []
    asked, named = lexicon.asked(question), lexicon.marks(question)
    for index, classes in enumerate(lexicon.contrasts):
        heads = " | ".join(c[0] for c in classes)
        for cls in sorted(asked[index]):
            lines.append(f"区分词（{heads}）：问的是“{classes[cls][0]}”（问题里说“{lexicon.wording(index, cls, folded)}”）")
        for cls in sorted(named[index] - asked[index]):
            word = lexicon.wording(index, cls, folded)
            why = "问题没有提到证照，这一行不算" if index in lexicon.paper_sets and not lexicon.names_paper(question) \
                else "前面有否定，不算问的是这一类"
            lines.append(f"区分词（{heads}）：提到“{word}”，但{why}")
    return lines
