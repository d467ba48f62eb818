"""The in-memory dense index (incremental refresh, exact per-parent search) and fusion over its scores."""

from __future__ import annotations

import numpy as np
import pytest

from ingest import ingest_paths
from kb.dense import DenseIndex
from kb.fusion import agreement, fuse
from kb.keyword import KeywordScores
from kb.segments import Segments

pytestmark = pytest.mark.store

VECTORS = {
    "a1": [1.0, 0.0, 0.0], "a2": [0.0, 1.0, 0.0],
    "b1": [0.0, 0.0, 2.0],  # not unit length: the index normalises it
    "c1": [0.6, 0.8, 0.0],
}


class Store:
    """Stands in for Chroma: ``fetch(ids)`` returns the stored ones, and records which were asked for."""

    def __init__(self, vectors: dict[str, list[float]]):
        self.vectors = dict(vectors)
        self.asked: list[list[str]] = []

    def fetch(self, ids: list[str]) -> tuple[list[str], np.ndarray]:
        self.asked.append(list(ids))
        found = [i for i in ids if i in self.vectors]
        return found, np.array([self.vectors[i] for i in found], dtype=np.float32).reshape(len(found), 3)


ROWS = [("a1", "A"), ("a2", "A"), ("b1", "B"), ("c1", "C")]
DOCS = frozenset()  # no entries: every parent in these tests is a document


def test_search_gives_every_parent_its_best_chunk():
    index = DenseIndex(3)
    index.refresh(ROWS, 1, "col", Store(VECTORS).fetch)
    scores = index.search(np.array([0.0, 3.0, 0.0]))
    assert scores.parents == ["A", "B", "C"]
    assert scores.similarity == pytest.approx([1.0, 0.0, 0.8])
    assert scores.best_chunk(0) == ("a2", pytest.approx(1.0))
    assert index.search(np.array([0.0, 0.0, 1.0])).best_chunk(1) == ("b1", pytest.approx(1.0))


def test_allowed_masks_parents():
    index = DenseIndex(3)
    index.refresh(ROWS, 1, "col", Store(VECTORS).fetch)
    scores = index.search(np.array([1.0, 0.0, 0.0]), allowed={"C", "A"})
    assert scores.parents == ["A", "C"]
    assert scores.best_chunk(scores.position["C"])[0] == "c1"
    assert index.search(np.array([1.0, 0.0, 0.0]), allowed=set()).parents == []


def test_refresh_fetches_only_what_is_missing():
    store = Store(VECTORS)
    index = DenseIndex(3)
    index.refresh(ROWS[:2], 1, "col", store.fetch)
    index.refresh(ROWS, 2, "col", store.fetch)
    assert store.asked == [["a1", "a2"], ["b1", "c1"]]
    index.refresh(ROWS, 3, "col", store.fetch)  # same rows: nothing to fetch
    assert len(store.asked) == 2
    index.refresh([ROWS[0], ROWS[3]], 4, "col", store.fetch)  # a2 and b1 were deleted
    assert len(store.asked) == 2 and len(index) == 2
    assert index.search(np.array([0.0, 1.0, 0.0])).parents == ["A", "C"]
    assert index.generation == 4


def test_refresh_skips_missing_vectors_and_refetches_a_new_collection():
    store = Store({k: v for k, v in VECTORS.items() if k != "c1"})
    index = DenseIndex(3)
    index.refresh(ROWS, 1, "col", store.fetch)
    assert index.search(np.array([1.0, 0.0, 0.0])).parents == ["A", "B"]
    store.vectors["a1"] = [0.0, 0.0, 1.0]
    store.vectors["c1"] = VECTORS["c1"]
    index.refresh(ROWS, 2, "recreated", store.fetch)
    assert store.asked[-1] == ["a1", "a2", "b1", "c1"]
    assert index.search(np.array([1.0, 0.0, 0.0])).similarity == pytest.approx([0.0, 0.0, 0.6])


def keyword_scores(parents: list[str], chunk_max: list[float], whole: list[float]) -> KeywordScores:
    """One chunk per parent, named after it."""
    return KeywordScores(Segments.of(parents), np.array(chunk_max), [f"{p}-kw" for p in parents],
                         chunk_max=np.array(chunk_max), whole=np.array(whole))


def chunk_keyword_scores(rows: list[tuple[str, str]], chunk_scores: list[float],
                         allowed: set[str] | None = None) -> KeywordScores:
    """Keyword scores given per chunk row; the whole-parent field repeats each parent's best chunk."""
    segments, scores = Segments.of([p for _, p in rows]), np.array(chunk_scores)
    best, keep = segments.best(scores), np.arange(len(segments.parents))
    if allowed is not None:
        segments, keep = segments.restricted(allowed)
    return KeywordScores(segments, scores, [c for c, _ in rows], chunk_max=best[keep], whole=best[keep])


def test_fusion_ranks_every_parent_and_keeps_similarity():
    index = DenseIndex(3)
    index.refresh(ROWS, 1, "col", Store(VECTORS).fetch)
    dense = index.search(np.array([0.6, 0.8, 0.0]))
    keyword = chunk_keyword_scores(ROWS, [0.0, 0.0, 3.0, 0.0])
    ranked = fuse(dense, keyword, 3, DOCS)
    assert [r.parent_id for r in ranked][2] == "A"  # last on both the words and the meaning
    shown = {r.parent_id: r.chunk_id for r in ranked}
    assert shown == {"B": "b1", "C": "c1", "A": "a2"}  # no query word: the nearest chunk
    assert next(r for r in ranked if r.parent_id == "C").similarity == pytest.approx(1.0)
    assert [r.parent_id for r in fuse(dense, None, 2, DOCS)] == ["C", "A"]
    assert fuse(None, keyword, 1, DOCS)[0].similarity == 0.0


def test_shown_passage_weighs_the_words_and_the_meaning():
    index = DenseIndex(3)
    index.refresh(ROWS, 1, "col", Store(VECTORS).fetch)
    dense = index.search(np.array([0.0, 1.0, 0.0]))  # a1 0.0, a2 1.0, b1 0.0, c1 0.8
    keyword = chunk_keyword_scores(ROWS, [2.0, 1.8, 0.0, 0.0])  # a1 has a few more of the words
    assert fuse(dense, keyword, 1, DOCS)[0].chunk_id == "a2"
    assert fuse(None, keyword, 1, DOCS)[0].chunk_id == "a1"  # keyword search alone: the most words


def test_fusion_aligns_indexes_refreshed_at_different_generations():
    index = DenseIndex(3)
    index.refresh(ROWS, 1, "col", Store(VECTORS).fetch)
    dense = index.search(np.array([0.0, 0.0, 1.0]))
    keyword = keyword_scores(["A", "C", "D"], [0.0, 0.0, 5.0], [0.0, 0.0, 5.0])
    ranked = fuse(dense, keyword, 4, DOCS)
    assert {r.parent_id for r in ranked} == {"A", "B", "C", "D"}
    assert ranked[0].parent_id in {"B", "D"}
    assert next(r for r in ranked if r.parent_id == "D").similarity == 0.0


def test_agreement_is_the_similarity_of_the_keyword_best_chunk():
    index = DenseIndex(3)
    index.refresh(ROWS, 1, "col", Store(VECTORS).fetch)
    dense = index.search(np.array([1.0, 0.0, 0.0]))  # a1 1.0, a2 0.0, b1 0.0, c1 0.6
    assert dense.similarity == pytest.approx([1.0, 0.0, 0.6])
    # A's words are in a2, not in its nearest chunk a1; B and C have no query word: their nearest chunk
    assert agreement(dense, chunk_keyword_scores(ROWS, [0.0, 2.0, 0.0, 0.0]), DOCS) == pytest.approx([0.0, 0.0, 0.6])
    # a tie between A's chunks goes to the nearer one
    assert agreement(dense, chunk_keyword_scores(ROWS, [1.0, 1.0, 3.0, 0.0]), DOCS)[0] == pytest.approx(1.0)
    restricted = chunk_keyword_scores(ROWS, [0.0, 2.0, 0.0, 0.0], allowed={"C", "A"})
    assert agreement(dense, restricted, DOCS) == pytest.approx([0.0, 0.6])
    # a chunk the dense index has no vector for yet counts as the least similar
    later = [*ROWS, ("d1", "D")]
    assert agreement(dense, chunk_keyword_scores(later, [0.0, 0.0, 0.0, 0.0, 5.0]), DOCS)[-1] == pytest.approx(0.0)


def test_fusion_prefers_the_parent_whose_matching_passage_means_the_question():
    vectors = {"a1": [1.0, 0.0, 0.0], "a2": [0.0, 1.0, 0.0], "b1": [1.0, 0.0, 0.0], "b2": [0.0, 0.0, 1.0],
               "c1": [0.0, 1.0, 0.0], "d1": [0.0, 0.0, 1.0]}
    rows = [("a1", "A"), ("a2", "A"), ("b1", "B"), ("b2", "B"), ("c1", "C"), ("d1", "D")]
    index = DenseIndex(3)
    index.refresh(rows, 1, "col", Store(vectors).fetch)
    dense = index.search(np.array([1.0, 0.0, 0.0]))
    # A and B tie on every other signal: same best similarity, same keyword scores
    keyword = chunk_keyword_scores(rows, [0.0, 2.0, 2.0, 0.0, 0.0, 0.0])
    assert [r.parent_id for r in fuse(dense, keyword, 2, DOCS)] == ["B", "A"]


def test_saved_vectors_round_trip_and_only_changes_are_fetched(tmp_path):
    store = Store(VECTORS)
    first = DenseIndex(3)
    first.refresh(ROWS, 1, "col", store.fetch)
    first.save(tmp_path)
    second = DenseIndex(3)
    second.load(tmp_path)
    assert second.refresh(ROWS, 2, "col", store.fetch) == 0 and len(store.asked) == 1
    query = np.array([0.0, 1.0, 0.0])
    assert second.search(query).parents == first.search(query).parents
    assert np.allclose(second.search(query).similarity, first.search(query).similarity)
    third = DenseIndex(3)
    third.load(tmp_path)
    assert third.refresh(ROWS, 3, "another collection", store.fetch) == len(ROWS)


def test_a_new_knowledge_base_object_starts_from_the_saved_vectors(kb_factory, small_files):
    kb = kb_factory()
    ingest_paths(kb, small_files)
    expected = kb.search("居住证签注", k=3, mode="dense")
    reopened = kb_factory()
    asked = []
    original = reopened.vectors.get
    reopened.vectors.get = lambda ids: asked.append(ids) or original(ids)
    assert [h.parent_id for h in reopened.search("居住证签注", k=3, mode="dense")] == [h.parent_id for h in expected]
    assert asked == []


ENTRY_ROWS = [("e1", "E1"), ("e1q", "E1"), ("e2", "E2"), ("e2q", "E2"), ("d1", "D"), ("d2", "D")]
"""Two entries (question + answer chunk, then a question-wording chunk) and a two-chunk document."""


def entry_fusion(vectors, keyword_scores, query=(1.0, 0.0, 0.0)):
    index = DenseIndex(3)
    index.refresh(ENTRY_ROWS, 1, "col", Store(vectors).fetch)
    dense = index.search(np.array(query))
    return fuse(dense, chunk_keyword_scores(ENTRY_ROWS, keyword_scores), 3, frozenset({"E1", "E2"}))


def test_the_entry_whose_question_wording_matches_comes_first_among_entries():
    vectors = {"e1": [0.8, 0.6, 0.0], "e1q": [1.0, 0.0, 0.0], "e2": [0.8, 0.6, 0.0], "e2q": [0.6, 0.8, 0.0],
               "d1": [0.0, 1.0, 0.0], "d2": [0.0, 0.0, 1.0]}
    ranked = entry_fusion(vectors, [1.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    assert [r.parent_id for r in ranked] == ["E1", "E2", "D"]
    assert ranked[0].similarity == pytest.approx(1.0)  # an entry's similarity is its best chunk's


def test_a_question_wording_alone_does_not_outrank_a_passage_that_answers():
    # E1's wording chunk is the question itself, but its question + answer chunk is off the point;
    # the document's passage means what was asked. Wording chunks only order entries among themselves.
    vectors = {"e1": [0.2, 0.98, 0.0], "e1q": [1.0, 0.0, 0.0], "e2": [0.0, 1.0, 0.0], "e2q": [0.0, 1.0, 0.0],
               "d1": [0.95, 0.31, 0.0], "d2": [0.0, 0.0, 1.0]}
    ranked = entry_fusion(vectors, [0.0, 0.0, 0.0, 0.0, 1.0, 0.0])
    assert [r.parent_id for r in ranked][:2] == ["D", "E1"]
