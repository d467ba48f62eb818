"""Search: the three modes, filters, one hit per entry/document, embedder checks, stale indexes."""

from __future__ import annotations

import re

import pytest

from fixtures import WrappedEmbedder, drop_collection, make_jsonl, make_md, make_xlsx, open_kb, unique_collection
from ingest import ingest_paths
from kb import EmbedderMismatch, Filters, get_embedder

pytestmark = pytest.mark.store

MODES = ("hybrid", "dense", "keyword")
HEADERS = ["问题", "答复", "事项", "部门", "日期"]
ENTRIES = {
    "e-juzhu": ["居住证到期前怎么续签？", "居住证每年签注一次，应在有效期满前三十日内到居住地派出所办理签注。",
                "居住证签注", "市公安局", "2026-08-10"],
    "e-huzhao": ["第一次办护照需要什么材料？", "本人携带身份证到出入境接待大厅现场采集照片和指纹，七个工作日内制发护照。",
                 "普通护照首次申请", "市公安局出入境管理支队", "2026-09-04"],
    "e-gjj": ["租房子住能不能把公积金取出来？", "无自有住房且租房自住的职工，可以按年申请提取住房公积金支付房租。",
              "租房提取", "市住房公积金管理中心", "2026-09-12"],
    "e-yidi": ["退休后住到外省子女家，看病怎么报销？", "需办理异地长期居住人员备案，备案后在居住地联网定点医院看病直接结算。",
               "异地长期居住备案", "市医疗保障局", "2026-10-02"],
    "e-zhizhao": ["注册一家公司多久能拿到营业执照？", "材料齐全的，营业执照一般一个工作日内办结，企业开办全流程不超过两个工作日。",
                  "企业开办", "市市场监督管理局", "2026-10-15"],
    "e-jiehun": ["领结婚证需要带哪些证件？", "男女双方携带本人户口簿和身份证，到婚姻登记处共同申请结婚登记。",
                 "婚姻登记", "市民政局", ""],
    "e-sbk": ["社保卡丢了去哪里补？", "可到任一合作银行网点或者社保经办窗口补办社会保障卡，十五个工作日内制卡。",
              "社保卡补办", "市人力资源和社会保障局", "2026-11-10"],
    "e-luohu": ["孩子出生后怎么上户口？", "持出生医学证明、父母双方户口簿和结婚证到派出所申报出生登记。",
                "出生登记", "市公安局", "2026-11-20"],
}
DOC_ID = "budongchan"
DOC_SENTENCES = [
    "不动产登记实行一窗受理、并联办理，群众只需到综合窗口提交一次材料。",
    "买卖二手房办理不动产转移登记，需提供买卖合同、双方身份证明和原不动产权证书。",
    "新建商品房首次办理不动产登记，由开发企业统一申请，购房人凭购房合同领证。",
    "继承房屋办理不动产登记，应提交继承权公证书或者生效的法律文书。",
    "不动产抵押登记由抵押人和抵押权人共同申请，银行可通过线上平台提交。",
    "不动产登记资料查询，权利人凭身份证即可在自助机上打印查询结果。",
    "不动产登记费按件收取，住宅每件八十元，小微企业免收登记费。",
    "办理不动产登记的承诺时限为五个工作日，抵押登记一个工作日办结。",
]


@pytest.fixture(scope="module")
def skb(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("search")
    sheet = make_xlsx(root / "登记表.xlsx", [[*row, pid] for pid, row in ENTRIES.items()], [*HEADERS, "编号"])
    doc = make_jsonl(root / "docs.jsonl", [{
        "docid": DOC_ID, "title": "不动产登记办事指南", "item": "不动产登记", "department": "市自然资源和规划局",
        "date": "2026-07-01", "text": "".join(DOC_SENTENCES)}])
    kb = open_kb(root / "data", embedder, unique_collection())
    report = ingest_paths(kb, [sheet, doc], chunk_size=40, overlap=0)
    assert report.failed == []
    yield kb
    kb.close()
    drop_collection(kb)


PARAPHRASES = [
    ("居住证快过期了，去哪里办理延期签注", "e-juzhu"),
    ("首次申请护照要准备哪些东西", "e-huzhao"),
    ("租房的职工可以提取公积金交房租吗", "e-gjj"),
    ("老人去外地跟孩子住，医保看病能直接结算吗", "e-yidi"),
    ("开公司办营业执照要几天", "e-zhizhao"),
    ("二手房过户要带什么材料", DOC_ID),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("query, expected", PARAPHRASES)
def test_paraphrase_finds_the_right_record_first(skb, mode, query, expected):
    hits = skb.search(query, k=3, mode=mode)
    assert hits, mode
    assert hits[0].parent_id == expected, [(h.parent_id, round(h.score, 3)) for h in hits]


FILTER_CASES = [
    (Filters(item="婚姻登记"), {"e-jiehun"}),
    (Filters(department="市公安局"), {"e-juzhu", "e-luohu"}),
    (Filters(kind="document"), {DOC_ID}),
    (Filters(kind="entry"), set(ENTRIES)),
    (Filters(date_from="2026-10-01", date_to="2026-10-31"), {"e-yidi", "e-zhizhao"}),
    (Filters(date_from="2026-11-01"), {"e-sbk", "e-luohu"}),
    (Filters(date_to="2026-08-31"), {"e-juzhu", DOC_ID}),  # the undated entry never matches a date filter
    (Filters(department="市公安局", date_from="2026-11-01"), {"e-luohu"}),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("filters, allowed", FILTER_CASES)
def test_filters_restrict_results(skb, mode, filters, allowed):
    query = "办理需要带身份证户口簿什么材料多久办结登记"
    hits = skb.search(query, k=20, filters=filters, mode=mode)
    found = {h.parent_id for h in hits}
    assert found, (mode, filters)
    assert found <= allowed, (mode, filters, found - allowed)
    if mode == "dense":  # the dense retriever returns every chunk that passes the filter
        assert found == allowed
    unfiltered = {h.parent_id for h in skb.search(query, k=20, mode=mode)}
    assert unfiltered - allowed, "the filter should have removed something"


@pytest.mark.parametrize("mode", MODES)
def test_one_hit_per_document_and_k_counts_parents(skb, mode):
    chunks = [c for c, _ in skb.records.iter_chunks() if c.parent_id == DOC_ID]
    assert len(chunks) >= 4  # the premise: the document matches through many chunks
    hits = skb.search("不动产登记", k=5, mode=mode)
    ids = [h.parent_id for h in hits]
    assert ids[0] == DOC_ID
    assert len(ids) == len(set(ids))
    if mode != "keyword":
        assert len(ids) == 5
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_hit_fields_are_populated(skb):
    entry_hit = skb.search("社保卡丢失在哪补办", k=1)[0]
    assert entry_hit.kind == "entry" and entry_hit.parent_id == "e-sbk"
    assert entry_hit.title == ENTRIES["e-sbk"][0]
    assert entry_hit.answer == ENTRIES["e-sbk"][1]
    assert (entry_hit.source, entry_hit.date) == ("登记表.xlsx", "2026-11-10")
    assert (entry_hit.item, entry_hit.department) == ("社保卡补办", "市人力资源和社会保障局")
    assert 0.5 < entry_hit.similarity <= 1.0
    assert isinstance(entry_hit.score, float)
    assert skb.records.chunks([entry_hit.chunk_id])[entry_hit.chunk_id].parent_id == "e-sbk"

    doc_hit = skb.search("不动产抵押登记怎么申请", k=1, mode="dense")[0]
    assert (doc_hit.kind, doc_hit.parent_id, doc_hit.title) == ("document", DOC_ID, "不动产登记办事指南")
    assert (doc_hit.source, doc_hit.date) == ("docs.jsonl", "2026-07-01")
    assert "抵押" in doc_hit.text and doc_hit.text in "".join(DOC_SENTENCES)
    assert doc_hit.similarity > 0

    keyword_hit = skb.search("不动产抵押登记", k=1, mode="keyword")[0]
    assert keyword_hit.parent_id == DOC_ID
    assert keyword_hit.similarity == 0.0  # the dense retriever did not run


def test_bad_mode_and_empty_queries(skb):
    with pytest.raises(ValueError):
        skb.search("护照", mode="fuzzy")
    assert skb.search("的了吗？", mode="keyword") == []


def test_empty_knowledge_base_returns_nothing(kb):
    for mode in MODES:
        assert kb.search("居住证怎么续签", mode=mode) == []


@pytest.fixture
def small_dir(kb_factory, tmp_path):
    path = make_md(tmp_path / "签注.md", "居住证签注口径", ["居住证每年签注一次，可在派出所办理。"])
    kb = kb_factory()
    ingest_paths(kb, [path])
    kb.close()
    return tmp_path / "data"


def test_other_embedder_is_refused(kb_factory, embedder, small_dir):
    other = WrappedEmbedder(embedder, model_id="other:model-v2")
    with pytest.raises(EmbedderMismatch) as info:
        kb_factory(small_dir, embedder=other)
    message = str(info.value)
    assert "kb reindex" in message
    assert embedder.name in message and "other:model-v2" in message


def test_rebuild_with_other_embedder_then_search(kb_factory, embedder, small_dir):
    other = WrappedEmbedder(embedder, model_id="other:model-v2")
    kb = kb_factory(small_dir, embedder=other, rebuild=True)
    assert kb.reindex() == kb.stats()["chunks"] > 0
    assert kb.search("居住证多久签注一次", k=1)[0].parent_id == "签注"
    assert kb.stats()["embedder"] == "other:model-v2"
    kb.close()
    kb_factory(small_dir, embedder=other)  # now the new model is the recorded one


def test_mismatch_message_suggests_a_working_embedder_name(kb_factory, embedder, small_dir):
    with pytest.raises(EmbedderMismatch) as info:
        kb_factory(small_dir, embedder=WrappedEmbedder(embedder, model_id="other:model-v2"))
    name = re.search(r"改回 --embedder (\S+?)。", str(info.value))[1]
    assert get_embedder(name).model_id == embedder.model_id


def test_reindex_same_embedder_restores_vectors(kb_factory, small_dir):
    kb = kb_factory(small_dir, rebuild=True)
    assert kb.stats()["vectors"] == 0
    assert kb.search("居住证多久签注一次", mode="dense") == []
    count = kb.reindex()
    assert count == kb.stats()["chunks"] == kb.stats()["vectors"] > 0
    for mode in MODES:
        assert kb.search("居住证多久签注一次", k=1, mode=mode)[0].parent_id == "签注"


def test_keyword_index_follows_writes_from_another_instance(kb_factory, tmp_path, small_dir):
    reader = kb_factory(small_dir)
    assert reader.search("居住证签注", k=1, mode="keyword")[0].parent_id == "签注"
    writer = kb_factory(small_dir)
    extra = make_md(tmp_path / "养犬.md", "养犬登记说明", ["城区养犬应当办理养犬登记并年检。"])
    ingest_paths(writer, [extra])
    hits = reader.search("养犬登记", k=1, mode="keyword")
    assert hits and hits[0].parent_id == "养犬"
    make_md(extra, "养犬登记说明", ["城区饲养宠物应当按规定管理。"])
    ingest_paths(writer, [extra])
    assert all("年检" not in h.text for h in reader.search("养犬登记年检", k=5, mode="keyword"))
