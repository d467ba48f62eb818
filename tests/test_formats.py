"""Every supported format goes in and its content can be found again.

One module-scoped knowledge base holds one small file per format (read-only tests).
"""

from __future__ import annotations

from datetime import date

import pytest

from fixtures import (
    drop_collection, make_csv, make_docx, make_html, make_json, make_jsonl, make_md, make_pdf, make_text,
    make_xlsx, open_kb, unique_collection,
)
from ingest import ingest_paths

FAQ_HEADERS = ["问题", "答复", "事项", "部门", "日期", "登记人", "标签"]
FAQ_ROWS = [
    ["社保卡丢了怎么补办？", "携带本人身份证到任一合作银行网点补办，十五个工作日内制卡完成。", "社保卡补办",
     "市人力资源和社会保障局", date(2026, 9, 2), "刘建国", "社保卡;补办"],
    ["第一次办护照，户口在外省能在本市办吗？", "可以，护照全国通办，带身份证到出入境接待大厅现场采集照片和指纹。",
     "普通护照首次申请", "市公安局出入境管理支队", "2026/9/4", "王晓燕", "出入境、护照"],
]
PDF_SENTENCE = (
    "新生儿出生后一个月内，监护人可以持出生医学证明、父母双方户口簿和结婚证到派出所或者综合窗口申报出生登记，"
    "系统联网核验通过后当场办结。"
)
GB18030_NAME = "𠮷"  # outside GBK: decoding with GBK alone would fail
SCRIPT_TEXT = "脚本变量不应进入索引"


@pytest.fixture(scope="module")
def built(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("formats")
    files = {
        "faq": make_xlsx(root / "faq.xlsx", FAQ_ROWS, FAQ_HEADERS),
        "titled": make_xlsx(
            root / "titled.xlsx",
            [["2026年9月5日", "父亲得了重病，子女的公积金能取出来给他看病吗？",
              "可以，直系亲属患重大疾病可申请提取住房公积金，需提供诊断证明和医疗费票据。", "重大疾病提取"]],
            ["日期", "疑难问题", "处理结果", "事项"], title="2026年9月疑难案例登记表"),
        "utf-8": make_csv(root / "u8.csv", [["结婚登记需要提前预约吗？", "婚姻登记实行网上预约，也可现场取号。", "婚姻登记"]],
                          ["问题", "答案", "事项"], "utf-8"),
        "utf-8-sig": make_csv(root / "bom.csv", [["居住证签注过期了怎么办？", "逾期未签注的居住证暂停使用，补签后恢复。", "居住证签注"]],
                              ["问题", "答案", "事项"], "utf-8-sig"),
        "gbk": make_csv(root / "gbk.csv", [["营业执照丢了能补领吗？", "可以在企业开办平台申请补领营业执照。", "营业执照补领"]],
                        ["问题", "答案", "事项"], "gbk"),
        "docx": make_docx(root / "居住证口径.docx", "居住证办理业务口径",
                          ["申领居住证应当在居住地连续居住满半年。", ("h", "一、办理地点"), "到居住地派出所或者综合窗口办理。"],
                          table=[["材料", "要求"], ["租房合同", "需经房屋出租登记备案"]]),
        "pdf": make_pdf(root / "birth.pdf", "新生儿落户办理指南", [PDF_SENTENCE]),
        "md": make_md(root / "容缺受理规范.md", "综合窗口容缺受理规范",
                      ["欠缺次要材料的，申请人签署承诺书后窗口可以先行受理。", "容缺材料应当在五个工作日内补齐。"]),
        "txt": make_text(root / "优待证.txt",
                         f"老年人优待证办理说明\n年满六十周岁的本市户籍老人可以申领优待证，经办人{GB18030_NAME}先生负责审核。\n",
                         "gb18030"),
        "html": make_html(root / "残疾人证.html", "残疾人证申领指南",
                          ["申请人持身份证和近期免冠照片到户籍所在地残联提出申请，经评残后发证。"],
                          script=f"var note = '{SCRIPT_TEXT}';"),
        "json": make_json(root / "faq.json", [
            {"问题": "不动产证上要加配偶的名字怎么办？", "答复": "夫妻双方持结婚证到不动产登记窗口申请更名登记。", "事项": "不动产变更登记"},
            {"question": "公司注销需要登报吗？", "answer": "简易注销通过国家企业信用信息公示系统公告即可，无需登报。", "item": "企业注销"},
        ]),
        "jsonl": make_jsonl(root / "docs.jsonl", [
            {"docid": "doc-hukou-2026", "title": "户口迁移口径", "date": "2026-10-01",
             "text": "大中专学生毕业后可以把户口从学校集体户迁回原籍或者迁入就业地。"},
        ]),
        "jsonl-noid": make_jsonl(root / "notes.jsonl", [{"title": "养犬登记说明", "text": "城区养犬应当在取得犬只免疫证明后办理养犬登记。"}]),
    }
    kb = open_kb(root / "data", embedder, unique_collection())
    report = ingest_paths(kb, list(files.values()))
    yield kb, report, files
    kb.close()
    drop_collection(kb)


def test_every_file_is_added(built):
    kb, report, files = built
    assert report.failed == []
    assert {r.status for r in report.results} == {"added"}
    assert len(report.results) == len(files)
    counts = kb.stats()
    # 2 faq + 1 titled + 3 csv + 2 json entries; docx, pdf, md, txt, html, 2 jsonl documents
    assert (counts["entries"], counts["documents"]) == (8, 7)
    assert counts["vectors"] == counts["chunks"] > 0


@pytest.mark.parametrize("query, source, expected", [
    ("社会保障卡遗失了去哪里重新办", "faq.xlsx", "合作银行网点"),
    ("户籍在其他省份可以在这里申请护照吗", "faq.xlsx", "全国通办"),
    ("父母生大病能不能提取公积金", "titled.xlsx", "重大疾病"),
    ("领结婚证要不要预约", "u8.csv", "网上预约"),
    ("居住证没按时签注有什么后果", "bom.csv", "暂停使用"),
    ("营业执照遗失后补办", "gbk.csv", "补领营业执照"),
    ("居住证办理需要住多久", "居住证口径.docx", "连续居住满半年"),
    ("孩子刚出生怎么上户口", "birth.pdf", "出生登记"),
    ("缺少一份材料窗口能不能先受理", "容缺受理规范.md", "承诺书"),
    ("六十岁老人优待证怎么申请", "优待证.txt", "优待证"),
    ("残疾人证在哪里申请", "残疾人证.html", "残联"),
    ("房产证加上老婆的名字", "faq.json", "更名登记"),
    ("企业注销还要在报纸上公告吗", "faq.json", "无需登报"),
    ("大学毕业以后户口迁到哪里", "docs.jsonl", "集体户"),
    ("养狗要去登记吗", "notes.jsonl", "养犬登记"),
])
def test_content_is_found_first(built, query, source, expected):
    kb, _, _ = built
    hit = kb.search(query, k=3)[0]
    assert hit.source == source, [(h.source, h.title) for h in kb.search(query, k=3)]
    assert expected in hit.text + hit.answer


def _entry_by_question(kb, question):
    found = [r for r in kb.iter_records() if getattr(r, "question", None) == question]
    assert len(found) == 1, f"{question} stored {len(found)} times"
    return kb.entry(found[0].id)


def test_xlsx_chinese_aliases_fill_every_field(built):
    kb, _, _ = built
    first = _entry_by_question(kb, FAQ_ROWS[0][0])
    assert first.answer == FAQ_ROWS[0][1]
    assert (first.item, first.department, first.submitter) == ("社保卡补办", "市人力资源和社会保障局", "刘建国")
    assert first.date == "2026-09-02"
    assert first.tags == ("社保卡", "补办")
    assert first.source == "faq.xlsx"
    second = _entry_by_question(kb, FAQ_ROWS[1][0])
    assert second.date == "2026-09-04"  # a text date "2026/9/4" becomes ISO
    assert second.tags == ("出入境", "护照")


def test_xlsx_header_below_a_title_row(built):
    kb, _, _ = built
    entry = _entry_by_question(kb, "父亲得了重病，子女的公积金能取出来给他看病吗？")
    assert entry.item == "重大疾病提取"
    assert entry.date == "2026-09-05"
    assert "诊断证明" in entry.answer
    assert not any(getattr(r, "question", "") == "疑难问题" for r in kb.iter_records())


@pytest.mark.parametrize("name, question", [
    ("u8.csv", "结婚登记需要提前预约吗？"),
    ("bom.csv", "居住证签注过期了怎么办？"),
    ("gbk.csv", "营业执照丢了能补领吗？"),
])
def test_csv_encodings_decode_to_the_same_text(built, name, question):
    kb, _, _ = built
    entry = _entry_by_question(kb, question)
    assert entry.source == name
    assert not entry.question.startswith("\ufeff")


def test_docx_title_headings_and_table(built):
    kb, _, _ = built
    doc = kb.document("居住证口径")
    assert doc is not None and doc.source == "居住证口径.docx"
    assert doc.title == "居住证办理业务口径"
    assert "一、办理地点" in doc.text
    assert "租房合同" in doc.text and "出租登记备案" in doc.text
    hit = kb.search("租房合同有什么要求", k=1, mode="keyword")[0]
    assert hit.parent_id == "居住证口径"


def test_pdf_wrapped_sentence_is_rejoined(built):
    kb, _, _ = built
    doc = kb.document("birth")
    assert doc is not None
    # the sentence is longer than a line of the PDF, so the PDF breaks it over lines
    assert PDF_SENTENCE in doc.text
    hit = kb.search("刚出生的孩子在哪里申报出生登记", k=1)[0]
    assert hit.parent_id == "birth"
    assert "\n" not in hit.text and "结婚证到派出所" in hit.text


def test_pdf_title_is_its_first_line(built):
    kb, _, _ = built
    assert kb.document("birth").title == "新生儿落户办理指南"


def test_markdown_title_from_heading_and_id_from_stem(built):
    kb, _, _ = built
    doc = kb.document("容缺受理规范")
    assert doc is not None
    assert doc.title == "综合窗口容缺受理规范"
    assert "#" not in doc.text


def test_txt_in_gb18030(built):
    kb, _, _ = built
    doc = kb.document("优待证")
    assert doc.source == "优待证.txt"
    assert doc.text.startswith("老年人优待证办理说明")
    assert f"经办人{GB18030_NAME}先生" in doc.text


def test_txt_title_is_its_first_line(built):
    kb, _, _ = built
    assert kb.document("优待证").title == "老年人优待证办理说明"


def test_html_title_from_h1_and_script_not_indexed(built):
    kb, _, _ = built
    doc = kb.document("残疾人证")
    assert doc.title == "残疾人证申领指南"
    assert SCRIPT_TEXT not in doc.text and "var note" not in doc.text
    hits = kb.search(SCRIPT_TEXT, k=10, mode="keyword")
    assert all(SCRIPT_TEXT not in h.text for h in hits)


def test_json_list_maps_chinese_and_english_keys(built):
    kb, _, _ = built
    cn = _entry_by_question(kb, "不动产证上要加配偶的名字怎么办？")
    en = _entry_by_question(kb, "公司注销需要登报吗？")
    assert (cn.item, en.item) == ("不动产变更登记", "企业注销")
    assert "无需登报" in en.answer


def test_jsonl_docid_and_stem_ids(built):
    kb, _, _ = built
    with_id = kb.document("doc-hukou-2026")
    assert with_id is not None
    assert (with_id.title, with_id.date, with_id.source) == ("户口迁移口径", "2026-10-01", "docs.jsonl")
    no_id = kb.document("notes")
    assert no_id is not None and no_id.title == "养犬登记说明"


def test_pdf_line_wrapped_next_to_a_number_is_rejoined(tmp_path):
    from ingest.loaders import load

    base = "申请人提交的申请材料齐全并且符合法定形式的，审批部门原则上应当按照承诺时限"
    sentences = [base[:n] + "在30个工作日内作出决定。" for n in range(20, 34)]
    text = load(make_pdf(tmp_path / "limits.pdf", "办理时限", sentences)).documents[0].text
    assert [s for s in sentences if s not in text] == []


def test_every_sheet_of_a_workbook_is_ingested(kb, tmp_path):
    path = make_xlsx(tmp_path / "按月登记.xlsx", [["护照丢了怎么补办？", "先挂失，再到出入境大厅申请补发。"]], ["问题", "答复"],
                     extra_sheets={"10月": [["问题", "答复"], ["社保卡丢了怎么补办？", "到任一合作银行网点补办。"]]})
    result = ingest_paths(kb, [path]).results[0]
    assert result.status == "added"
    assert kb.stats()["entries"] == 2, result


def test_html_inline_markup_keeps_sentences_whole(tmp_path):
    from ingest.loaders import load

    path = make_html(tmp_path / "护照.html", "护照办理", ["申请人<strong>必须</strong>本人到场，并携带<a href='#'>身份证</a>原件。"])
    assert "申请人必须本人到场，并携带身份证原件。" in load(path).documents[0].text
