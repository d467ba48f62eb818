"""Spreadsheets that are not FAQ tables become table documents; tables are split by rows and every
row keeps its column headers; numbered lines and decimals are told apart."""

from __future__ import annotations

from pathlib import Path

from fixtures import make_csv, make_xlsx, make_text
from ingest import ingest_paths
from ingest.blocks import Heading, Paragraph, Table, text_blocks
from ingest.loaders import load
from ingest.split import document_chunks
from kb.types import Document

POSITIONS = [
    ["宜春市中级人民法院", "文秘", 1, "0795-3210001", "zp@ycfy.gov.cn"],
    ["宜春市中级人民法院", "法警", 2, "0795-3210001", "zp@ycfy.gov.cn"],
    ["袁州区人民法院", "书记员", 3, "0795-3210002", "zp@yzfy.gov.cn"],
]


def _position_sheet(path: Path) -> Path:
    """A 职位表 as offices make it: a merged title row, a two-row header with 联系方式 over 电话/邮箱,
    the 单位 column merged down over its positions, and a note row at the end."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["2026年宜春市法院系统公开招聘聘用制书记员职位表"])
    ws.merge_cells("A1:E1")
    ws.append(["招录单位", "职位", "招考人数", "联系方式", None])
    ws.merge_cells("D2:E2")
    ws.append([None, None, None, "电话", "邮箱"])
    for col in "ABC":
        ws.merge_cells(f"{col}2:{col}3")
    for row in POSITIONS:
        ws.append(row)
    ws.merge_cells("A4:A5")
    ws.append(["注：报名时须提交本人身份证、毕业证书原件及复印件，近期免冠证件照两张。"])
    wb.save(path)
    return path


def test_position_table_header_found_by_content(tmp_path):
    loaded = load(_position_sheet(tmp_path / "职位表.xlsx"))
    assert not loaded.rows
    doc = loaded.documents[0]
    table = next(b for b in doc.blocks if isinstance(b, Table))
    assert table.header == ["招录单位", "职位", "招考人数", "联系方式/电话", "联系方式/邮箱"]
    assert table.caption == "2026年宜春市法院系统公开招聘聘用制书记员职位表"
    assert doc.title == table.caption
    lines = table.lines()
    assert lines[1] == "招录单位：宜春市中级人民法院；职位：法警；招考人数：2；联系方式/电话：0795-3210001；联系方式/邮箱：zp@ycfy.gov.cn。"
    assert len(lines) == 3
    assert isinstance(doc.blocks[-1], Paragraph) and doc.blocks[-1].text.startswith("注：")


def test_position_table_answers_from_the_right_row(kb, tmp_path):
    path = _position_sheet(tmp_path / "职位表.xlsx")
    result = ingest_paths(kb, [path]).results[0]
    assert result.status == "added"
    hit = kb.search("袁州区法院书记员招几个人", k=1)[0]
    assert "书记员；招考人数：3" in hit.text
    assert hit.title == "2026年宜春市法院系统公开招聘聘用制书记员职位表"


def test_name_list_without_title_becomes_a_table_document(tmp_path):
    path = make_csv(tmp_path / "通讯录.csv", [["张三", "13800000000", "城关镇"], ["李四", "13900000000", "西村镇"]],
                    ["姓名", "电话", "住址"])
    doc = load(path).documents[0]
    assert doc.blocks == [Table(["姓名", "电话", "住址"], [["张三", "13800000000", "城关镇"], ["李四", "13900000000", "西村镇"]])]
    assert "姓名：李四；电话：13900000000；住址：西村镇。" in doc.text


def test_faq_sheet_keeps_the_entry_path(tmp_path):
    path = make_xlsx(tmp_path / "问答.xlsx", [["社保卡丢了怎么办？", "先挂失再补办。"]], ["问题", "答复"], title="常见问题")
    loaded = load(path)
    assert [r.fields["question"] for r in loaded.rows] == ["社保卡丢了怎么办？"] and not loaded.documents


def test_sheet_with_an_answer_column_but_no_question_column_is_a_table_with_a_warning(kb, tmp_path):
    path = make_xlsx(tmp_path / "留言.xlsx", [["A0001", "小区门口路灯坏了", "已安排维修，三日内修复。"]],
                     ["留言编号", "留言主题", "答复意见"])
    result = ingest_paths(kb, [path]).results[0]
    assert result.status == "added"
    (warning,) = result.warnings
    assert "表格文档" in warning and "问题列" in warning and "留言主题" in warning
    assert "留言主题：小区门口路灯坏了；答复意见：已安排维修" in kb.search("路灯坏了有人修吗", k=1)[0].text


def test_statistics_sheet_with_a_unit_line_above_the_header(tmp_path):
    path = make_text(tmp_path / "统计.csv", "填报单位：宜春市人社局,,,日期：2026-10-08\n"
                                          "县区,参保人数,待遇领取人数,基金收入（万元）\n"
                                          "袁州区,412000,96000,969.57\n樟树市,301000,71000,702.10\n")
    table = load(path).documents[0].blocks[0]
    assert table.header == ["县区", "参保人数", "待遇领取人数", "基金收入（万元）"]
    assert table.caption == "填报单位：宜春市人社局 日期：2026-10-08"
    assert table.lines()[0] == "县区：袁州区；参保人数：412000；待遇领取人数：96000；基金收入（万元）：969.57。"


def _doc(blocks) -> Document:
    return Document(id="d", title="招聘公告", text="")


def test_long_table_split_by_rows_each_chunk_names_its_columns():
    rows = [[f"职位{n:02d}", str(n), f"0795-32100{n:02d}"] for n in range(40)]
    blocks = [Paragraph("一、招聘计划如下。"), Table(["职位", "人数", "电话"], rows, "职位表"), Paragraph("二、报名时间另行通知。")]
    chunks = document_chunks(_doc(blocks), blocks, size=200)
    table_chunks = [c for c in chunks if "职位：" in c.text]
    assert len(table_chunks) > 3
    for chunk in table_chunks:
        assert "职位表" in chunk.context
        assert all(line.startswith("职位：") for line in chunk.text.split("。") if line)
        assert len(chunk.text) <= 200
    texts = [c.text for c in chunks]
    assert texts[0].startswith("一、招聘计划") and texts[-1].startswith("二、报名时间")
    assert sum(c.text.count("职位：") for c in table_chunks) == 40


def test_the_sentence_introducing_a_table_goes_with_it():
    blocks = [Paragraph("各地须在月底前完成改造。短信发送平台使用如下地址对接的，请改用对应的域名对接："),
              Table(["原地址", "应使用的域名"], [["115.29.3.87", "sms.example.gov.cn"]]),
              Paragraph("快递送达平台的地址不变。")]
    chunks = document_chunks(_doc(blocks), blocks, size=300)
    table = next(c for c in chunks if "sms.example.gov.cn" in c.text)
    assert table.text.startswith("短信发送平台使用如下地址对接的，请改用对应的域名对接：原地址：115.29.3.87")
    assert "短信发送平台" in table.context
    assert not any("短信发送平台" in c.text for c in chunks if c is not table)


def test_decimal_numbers_are_not_headings_but_numbered_lines_are():
    blocks = text_blocks("一、总则\n2.6 交货期为合同签订后30日内。\n969.57 万人参保\n（二）申请材料\n3. 身份证原件")
    assert [type(b).__name__ for b in blocks] == ["Heading", "Paragraph", "Paragraph", "Heading", "Heading"]
    assert blocks[3] == Heading("（二）申请材料", 2)


def test_heading_chain_becomes_the_chunk_context():
    blocks = [Heading("一、参保登记", 1), Heading("（一）申请条件", 2),
              Paragraph("在本市就业的职工、个体工商户和灵活就业人员，应当在用工之日起三十日内办理参保登记。"),
              Heading("（二）办理材料", 2), Paragraph("身份证原件、劳动合同或者营业执照副本；委托他人办理的，另附授权委托书和受托人的身份证原件。")]
    chunks = document_chunks(_doc(blocks), blocks, size=300)
    assert [c.context for c in chunks] == ["招聘公告 一、参保登记 （一）申请条件", "招聘公告 一、参保登记 （二）办理材料"]
    assert chunks[0].text.startswith("（一）申请条件：在本市就业") and chunks[1].text.startswith("（二）办理材料：身份证原件")


def test_short_sections_join_the_next_and_every_heading_is_in_the_text():
    blocks = [Heading("（一）办理时限", 2), Paragraph("即办。"), Heading("（二）收费标准", 2), Paragraph("不收费。"),
              Heading("（三）办理地点", 2), Paragraph("市民中心二楼综合窗口，工作日上午九点至下午五点，周六上午延时服务。")]
    chunks = document_chunks(_doc(blocks), blocks, size=300)
    assert [c.text for c in chunks] == [
        "（一）办理时限：即办。（二）收费标准：不收费。（三）办理地点：市民中心二楼综合窗口，工作日上午九点至下午五点，周六上午延时服务。"]
    assert chunks[0].context == "招聘公告 （一）办理时限"


def test_a_label_on_its_own_line_captions_the_table_after_it():
    blocks = [Paragraph("各平台请按下表改用域名对接，改造完成后及时验证服务，确保服务正常，不得继续使用IP地址访问。"),
              Paragraph("短信发送平台"), Table(["原地址", "应使用的域名"], [["115.29.3.87", "sms.example.gov.cn"]]),
              Paragraph("快递送达平台"), Table(["原地址", "应使用的域名"], [["118.178.167.195", "kd.example.gov.cn"]])]
    chunks = document_chunks(_doc(blocks), blocks, size=300)
    assert [c.text for c in chunks[1:]] == ["短信发送平台：原地址：115.29.3.87；应使用的域名：sms.example.gov.cn。",
                                            "快递送达平台：原地址：118.178.167.195；应使用的域名：kd.example.gov.cn。"]
    assert all(len(c.text) >= 40 for c in chunks)


def test_an_empty_form_field_at_the_end_joins_the_table_before_it():
    blocks = [Table(["许可事项", "受送达人"], [["送达人", "送达地点"], ["代收人及代收原因", ""]]), Paragraph("备注：")]
    chunks = document_chunks(_doc(blocks), blocks, size=300)
    assert len(chunks) == 1 and chunks[0].text.endswith("备注：") and "代收人及代收原因" in chunks[0].text


def test_an_empty_form_field_between_two_tables_is_not_a_chunk_of_its_own():
    blocks = [Table(["序号", "材料名称"], [["1", "营业执照副本复印件"], ["2", "法定代表人身份证复印件"]]), Paragraph("备注："),
              Paragraph("工程名称："), Table(["送达部门", "取件时间"], [["市场监管局", "当日"]])]
    chunks = document_chunks(_doc(blocks), blocks, size=300)
    assert all(len(c.text) > len("备注：") for c in chunks)
    captioned = next(c for c in chunks if "市场监管局" in c.text)
    assert captioned.text.startswith("备注：工程名称：") and "工程名称" in captioned.context


def test_text_set_vertically_a_character_a_line_reads_as_one_word():
    blocks = [Paragraph("附件1："), *(Paragraph(c) for c in "一寸照片"), Paragraph("体检日期：年月日。")]
    assert document_chunks(_doc(blocks), blocks)[0].text == "附件1：一寸照片 体检日期：年月日。"
