"""No code path may fall back to Chroma's default embedding function (it would download a model
and mix an English MiniLM space into our index)."""

from __future__ import annotations

import pytest
from chromadb.utils import embedding_functions
from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

from bot import answer
from fixtures import make_md, make_xlsx
from ingest import ingest_paths

pytestmark = pytest.mark.store


class DefaultEmbeddingUsed(AssertionError):
    pass


def _forbidden(*args, **kwargs):
    raise DefaultEmbeddingUsed("Chroma's default embedding function was called")


@pytest.fixture
def no_default_embedding(monkeypatch):
    monkeypatch.setattr(embedding_functions.DefaultEmbeddingFunction, "__call__", _forbidden)
    for name in ("__call__", "embed_query", "_download_model_if_not_exists", "_forward"):
        monkeypatch.setattr(ONNXMiniLM_L6_V2, name, _forbidden)
    with pytest.raises(DefaultEmbeddingUsed):  # the patch is in force
        embedding_functions.DefaultEmbeddingFunction()(["测试"])


def test_all_paths_work_without_chroma_default_embedding(no_default_embedding, kb_factory, embedder, tmp_path):
    sheet = make_xlsx(tmp_path / "登记表.xlsx",
                      [["社保卡丢了怎么补办？", "带身份证到任一合作银行网点补办，十五个工作日内制卡完成。", "社保卡补办"]],
                      ["问题", "答复", "事项"])
    doc = make_md(tmp_path / "签注.md", "居住证签注口径", ["居住证每年签注一次，可以在居住地派出所办理。"])
    kb = kb_factory()
    assert ingest_paths(kb, [sheet, doc]).failed == []
    for mode in ("hybrid", "dense", "keyword"):
        assert kb.search("社保卡遗失补办", k=1, mode=mode)[0].item == "社保卡补办"
    reply = answer(kb, "社保卡丢了去哪补办？")
    assert reply.answered and "合作银行网点" in reply.text

    kb.close()
    rebuilt = kb_factory(rebuild=True)
    assert rebuilt.reindex() == rebuilt.stats()["vectors"] > 0
    assert rebuilt.search("居住证多久签注一次", k=1, mode="dense")[0].parent_id == "签注"
    assert answer(rebuilt, "居住证每年都要签注吗？").answered

    collection = rebuilt.vectors.collection
    config = collection.configuration
    assert config.get("embedding_function") is None
    assert collection._embedding_function is None
    assert collection.metadata["embedder"] == embedder.model_id
    assert collection.metadata["dim"] == embedder.dim == 384
