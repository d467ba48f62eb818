""".docx read by structure: headings from styles and outline levels, tables in place with merged
cells and two-row headers, text boxes, WPS packages with dangling relationships, picture-only files."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from bot import answer
from fixtures import make_docx
from ingest import ingest_paths, ocr
from ingest.blocks import Heading, Paragraph, Table
from ingest.loaders import load
from ingest.word import load_docx
from kb.errors import IngestError

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
NS = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
      'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
      'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
      'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
      'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
      'xmlns:v="urn:schemas-microsoft-com:vml"')
BOX = "<w:txbxContent><w:p><w:r><w:t>咨询电话：0795-3281234</w:t></w:r></w:p></w:txbxContent>"
TEXT_BOX = (  # Word writes a text box twice: the DrawingML shape and a VML fallback
    f'<w:r {NS}><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic>'
    f'<a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp><wps:txbx>{BOX}'
    '</wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>'
    f'<mc:Fallback><w:pict><v:shape><v:textbox>{BOX}</v:textbox></v:shape></w:pict></mc:Fallback>'
    '</mc:AlternateContent></w:r>'
)
ROWS = [
    "招考单位：宜春市中级人民法院；职位：文秘；招考人数：1；联系方式/电话：0795-3281234；联系方式/邮箱：hr@yccourt.cn。",
    "招考单位：宜春市中级人民法院；职位：法官助理；招考人数：2；联系方式/电话：0795-3285678。",
    "招考单位：袁州区人民法院；职位：书记员；招考人数：1；联系方式/电话：见公告；联系方式/邮箱：见公告。",
]


def _fill(table, values):
    for r, row in enumerate(values):
        for c, text in enumerate(row):
            if text is not None:
                table.cell(r, c).text = text


def _positions_table(document):
    """A caption row, a two-row header (联系方式 spans 电话 and 邮箱), a unit vertically merged over two
    rows, a phone spanning both contact columns, equal neighbours, an empty row and a closing note."""
    table = document.add_table(rows=8, cols=5)
    table.cell(0, 0).merge(table.cell(0, 4))
    for c in range(3):
        table.cell(1, c).merge(table.cell(2, c))
    table.cell(1, 3).merge(table.cell(1, 4))
    table.cell(3, 0).merge(table.cell(4, 0))
    table.cell(4, 3).merge(table.cell(4, 4))
    table.cell(7, 0).merge(table.cell(7, 4))
    _fill(table, [
        ["2026年公开招考职位表"],
        ["招考单位", "职位", "招考人数", "联系方式"],
        [None, None, None, "电话", "邮箱"],
        ["宜春市中级人民法院", "文秘", "1", "0795-3281234", "hr@yccourt.cn"],
        [None, "法官助理", "2", "0795-3285678"],
        ["袁州区人民法院", "书记员", "1", "见公告", "见公告"],
        ["", "", "", "", ""],
        ["注：报名咨询时间为工作日。"],
    ])


@pytest.fixture
def notice(tmp_path):
    document = docx.Document()
    document.add_heading("宜春市公开招考工作人员公告", level=0)
    document.add_paragraph("根据工作需要，现面向社会公开招考工作人员。")
    document.add_heading("一、招考职位", level=1)
    document.add_paragraph("招考职位如下表：")
    _positions_table(document)
    document.add_paragraph("以上职位均要求大学本科以上学历。")
    document.add_paragraph("2.6 交货期")
    document.add_paragraph("一、这一行没有标题样式")
    document.add_heading("（一）报名方式", level=2)
    document.add_paragraph("现场报名。")._p.append(parse_xml(TEXT_BOX))
    materials = document.add_table(rows=2, cols=2)
    _fill(materials, [["事项", "材料"], ["报名", ""]])
    nested = materials.cell(1, 1).add_table(rows=1, cols=2)
    _fill(nested, [["身份证", "毕业证"]])
    framed = document.add_table(rows=1, cols=1)
    framed.cell(0, 0).text = "温馨提示：请携带原件。"
    document.add_paragraph("特此公告。")
    path = tmp_path / "招考公告.docx"
    document.save(str(path))
    return path


def test_blocks_in_document_order_with_the_table_in_place(notice):
    doc = load_docx(notice).documents[0]
    assert doc.title == "宜春市公开招考工作人员公告"
    kinds = [(type(b).__name__, getattr(b, "text", getattr(b, "caption", ""))) for b in doc.blocks]
    assert kinds == [
        ("Paragraph", "宜春市公开招考工作人员公告"),
        ("Paragraph", "根据工作需要，现面向社会公开招考工作人员。"),
        ("Heading", "一、招考职位"),
        ("Paragraph", "招考职位如下表："),
        ("Table", "2026年公开招考职位表"),
        ("Paragraph", "注：报名咨询时间为工作日。"),
        ("Paragraph", "以上职位均要求大学本科以上学历。"),
        ("Paragraph", "2.6 交货期"),
        ("Paragraph", "一、这一行没有标题样式"),
        ("Heading", "（一）报名方式"),
        ("Paragraph", "现场报名。"),
        ("Paragraph", "咨询电话：0795-3281234"),
        ("Table", ""),
        ("Paragraph", "温馨提示：请携带原件。"),
        ("Paragraph", "特此公告。"),
    ]
    assert [b.level for b in doc.blocks if isinstance(b, Heading)] == [1, 2]


def test_merged_cells_headers_and_equal_neighbours(notice):
    table = next(b for b in load_docx(notice).documents[0].blocks if isinstance(b, Table))
    assert table.header == ["招考单位", "职位", "招考人数", "联系方式/电话", "联系方式/邮箱"]
    assert table.lines() == ROWS


def test_nested_table_is_flattened_into_its_cell(notice):
    tables = [b for b in load_docx(notice).documents[0].blocks if isinstance(b, Table)]
    assert tables[1].lines() == ["事项：报名；材料：身份证 毕业证。"]


def test_loaded_text_keeps_the_order(notice):
    text = load(notice).documents[0].text
    before, row, after = text.index("招考职位如下表："), text.index(ROWS[0]), text.index("以上职位均要求")
    assert before < row < after
    assert text.count("咨询电话：0795-3281234") == 1
    assert "宜春市中级人民法院；宜春市中级人民法院" not in text


def test_numbered_lines_are_headings_only_without_structural_headings(tmp_path):
    document = docx.Document()
    document.styles.add_style("toc 1", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("一、总则\t1", style="toc 1")  # a table-of-contents line is left out
    for text in ["一、总则", "本办法适用于政府采购项目。", "2.6 交货期", "合同签订后30日内交货。", "（二）验收", "1.身份证原件"]:
        document.add_paragraph(text)
    document.paragraphs[-1]._p.get_or_add_pPr().append(
        parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>'))
    path = tmp_path / "采购办法.docx"
    document.save(str(path))
    doc = load_docx(path).documents[0]
    assert doc.title == ""
    assert doc.blocks == [
        Heading("一、总则", 1), Paragraph("本办法适用于政府采购项目。"), Paragraph("2.6 交货期"),
        Paragraph("合同签订后30日内交货。"), Heading("（二）验收", 2), Paragraph("1.身份证原件"),
    ]


def test_outline_levels_inherited_and_chinese_style_names(tmp_path):
    document = docx.Document()
    base = document.styles.add_style("公文大纲", WD_STYLE_TYPE.PARAGRAPH)
    base.element.get_or_add_pPr().append(parse_xml(f'<w:outlineLvl {nsdecls("w")} w:val="0"/>'))
    first = document.styles.add_style("公文一级标题", WD_STYLE_TYPE.PARAGRAPH)
    first.base_style = base
    document.styles.add_style("标题 3", WD_STYLE_TYPE.PARAGRAPH)
    document.styles.add_style("标题", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("关于做好居住证办理工作的", style="标题")
    document.add_paragraph("通知", style="标题")
    document.add_paragraph("总体要求", style="公文一级标题")
    document.add_paragraph("办理流程")._p.get_or_add_pPr().append(
        parse_xml(f'<w:outlineLvl {nsdecls("w")} w:val="1"/>'))
    document.add_paragraph("材料要求", style="标题 3")
    document.add_paragraph("一律当场办结。")
    path = tmp_path / "通知.docx"
    document.save(str(path))
    doc = load_docx(path).documents[0]
    assert doc.title == "关于做好居住证办理工作的通知"
    assert doc.blocks == [
        Paragraph("关于做好居住证办理工作的通知"), Heading("总体要求", 1), Heading("办理流程", 2),
        Heading("材料要求", 3), Paragraph("一律当场办结。"),
    ]


def test_wps_package_with_a_dangling_image_relationship_is_read(notice, tmp_path):
    broken = tmp_path / "WPS保存.docx"
    with zipfile.ZipFile(notice) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/_rels/document.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.'
                                    b'openxmlformats.org/officeDocument/2006/relationships/image" '
                                    b'Target="media/missing.png"/></Relationships>')
            target.writestr(item, data)
    with pytest.raises(KeyError):
        docx.Document(str(broken))
    doc = load(broken).documents[0]
    assert doc.title == "宜春市公开招考工作人员公告"
    assert ROWS[1] in doc.text


def _picture_docx(path):
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1000, 260), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 56)
    draw.text((40, 40), "窗口受理时间为工作日", font=font, fill="black")
    draw.text((40, 150), "上午九点至下午五点", font=font, fill="black")
    png = io.BytesIO()
    image.save(png, format="PNG")
    document = docx.Document()
    document.add_picture(io.BytesIO(png.getvalue()))
    for paragraph in document.paragraphs:
        if paragraph.text.strip():
            paragraph._p.getparent().remove(paragraph._p)
    document.save(str(path))
    return path


def test_picture_only_document_is_read_by_ocr(tmp_path):
    if not ocr.available():
        pytest.skip("RapidOCR is not installed")
    loaded = load(_picture_docx(tmp_path / "扫描件.docx"))
    doc = loaded.documents[0]
    assert doc.ocr is True
    assert "窗口受理时间为工作日" in doc.text.replace(" ", "")
    assert "上午九点至下午五点" in doc.text.replace(" ", "")


def test_picture_only_document_without_ocr_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(ocr, "available", lambda: False)
    path = _picture_docx(tmp_path / "扫描件.docx")
    with pytest.raises(IngestError) as caught:
        load(path)
    assert caught.value.path == str(path)
    assert "文档只有图片，没有文字" in caught.value.reason and "pip install" in caught.value.reason


def test_letter_spaced_form_labels_are_read_as_words(kb, tmp_path):
    path = make_docx(tmp_path / "送达回证.docx", "行政许可文书送达回证", ["本回证由送达人填写。"],
                     [["送 达 方 式", "直接送达"], ["代 收 人 及 代 收 原 因", "家属代收，本人外出"],
                      ["撰 写 单 位", "临江市政务服务中心"]])
    text = load(path).documents[0].text
    assert all(word in text for word in ("送达方式", "代收人及代收原因", "撰写单位")) and "送 达" not in text
    ingest_paths(kb, [path])
    reply = answer(kb, "送达回证由别人代签收的，代收原因写在哪？", min_confidence=0)
    assert "代收人及代收原因" in reply.text + reply.passage
