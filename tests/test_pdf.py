"""The PDF loader: layout (headers, footers, page numbers, headings, tables, wrapped lines), scans and
garbled text layers read by OCR, and the plausibility check behind it. Every PDF is made here."""

from __future__ import annotations

import random

import pytest
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib import colors, pdfencrypt
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ingest import blocks as B
from ingest import ocr
from ingest.pdf import load_pdf
from ingest.plausible import garbled
from kb.errors import IngestError

FONT_FILE = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
pdfmetrics.registerFont(TTFont("WQY", FONT_FILE, subfontIndex=0))
BODY = ParagraphStyle("body", fontName="WQY", fontSize=11, leading=17, wordWrap="CJK", firstLineIndent=22)
CELL = ParagraphStyle("cell", fontName="WQY", fontSize=10, leading=13, wordWrap="CJK")
H1 = ParagraphStyle("h1", fontName="WQY", fontSize=15, leading=22)
H2 = ParagraphStyle("h2", fontName="WQY", fontSize=13, leading=19)
TITLE = ParagraphStyle("title", fontName="WQY", fontSize=20, leading=28, alignment=1)
HEADER = "某市政务服务中心办事指南（2024年版）"
LONG = ("申请人应当携带本人居民身份证、户口簿以及近期免冠证件照片，到户籍所在地的派出所户籍窗口提出申请，"
        "窗口工作人员当场核对材料并录入系统，材料齐全且符合法定形式的，应当场受理并出具受理回执。")
ACROSS = ("窗口实行首问负责制和一次性告知制，对材料不全的申请人应当一次性告知需要补正的全部内容，"
          "不得要求申请人重复提交已经提供的材料，也不得以任何理由推诿或者拖延办理，")
SCAN_LINES = ["一、办理材料", "申请人本人的居民身份证原件", "近期二寸免冠彩色照片两张"]


def _grid(data, widths, extra=(), repeat=0) -> Table:
    table = Table(data, colWidths=widths, repeatRows=repeat)
    grid = ("GRID", (0, 0), (-1, -1), 0.5, colors.black)
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "WQY"), grid, *extra]))
    return table


def _build(path, story, footer=lambda n: f"- {n} -"):
    def decorate(page, doc):
        page.saveState()
        page.setFont("WQY", 9)
        page.drawCentredString(A4[0] / 2, A4[1] - 12 * mm, HEADER)
        page.drawCentredString(A4[0] / 2, 12 * mm, footer(doc.page))
        page.restoreState()

    SimpleDocTemplate(str(path), pagesize=A4).build(story, onFirstPage=decorate, onLaterPages=decorate)
    return path


@pytest.fixture(scope="module")
def guide(tmp_path_factory):
    wrapped_cell = Paragraph("综合窗口受理员（负责不动产登记）", CELL)
    story = [
        Paragraph("居民身份证换领办事指南", TITLE), Spacer(1, 8),
        Paragraph("一、办理条件", H1), Paragraph(LONG, BODY),
        Paragraph("2.6 交货期为合同签订后30日", BODY),
        Paragraph("969.57 万人", H1),
        Paragraph("（一）所需材料", H2), Paragraph("本人居民身份证原件。", BODY), PageBreak(),
        Paragraph("招考职位", H1), Paragraph("本次招考的职位如下表所示。", BODY), Spacer(1, 6),
        _grid([["职位", "招考人数", "联系电话"], ["文秘", "1", "0571-87654321"], [wrapped_cell, "2", "0571-87654322"]],
              [40 * mm, 40 * mm, 50 * mm]),
        Spacer(1, 6), Paragraph("报名时间为工作日上午九时至下午五时。", BODY), PageBreak(),
        Paragraph("三、办理时限", H1), Paragraph("2021年起实行网上预约，自受理之日起二十个工作日内办结。", BODY),
    ]
    path = _build(tmp_path_factory.mktemp("pdf") / "guide.pdf", story)
    return load_pdf(path).documents[0]


def test_title_is_the_largest_line_on_page_one(guide):
    assert guide.title == "居民身份证换领办事指南"
    assert guide.blocks[0] == B.Paragraph("居民身份证换领办事指南")
    assert guide.ocr is False


def test_running_header_footer_and_page_numbers_are_gone(guide):
    text = B.plain_text(guide.blocks)
    assert HEADER not in text and "2024年版" not in text
    assert not any(line.strip("- ").isdigit() for line in text.splitlines())
    # the footer "- 2 -" is not glued onto the first figure of page 3
    assert B.Paragraph("2021年起实行网上预约，自受理之日起二十个工作日内办结。") in guide.blocks


def test_headings_by_font_size_and_numbers_are_not_headings(guide):
    headings = [block for block in guide.blocks if isinstance(block, B.Heading)]
    assert headings == [B.Heading("一、办理条件", 1), B.Heading("（一）所需材料", 2), B.Heading("招考职位", 1),
                        B.Heading("三、办理时限", 1)]
    assert B.Paragraph("2.6 交货期为合同签订后30日") in guide.blocks
    assert B.Paragraph("969.57 万人") in guide.blocks


def test_wrapped_lines_are_joined_into_one_paragraph(guide):
    assert B.Paragraph(LONG) in guide.blocks


def test_table_stays_in_place_with_its_header(guide):
    position = next(i for i, block in enumerate(guide.blocks) if isinstance(block, B.Table))
    table = guide.blocks[position]
    assert guide.blocks[position - 1] == B.Paragraph("本次招考的职位如下表所示。")
    assert guide.blocks[position + 1] == B.Paragraph("报名时间为工作日上午九时至下午五时。")
    assert table.header == ["职位", "招考人数", "联系电话"]
    assert table.lines() == ["职位：文秘；招考人数：1；联系电话：0571-87654321。",
                             "职位：综合窗口受理员（负责不动产登记）；招考人数：2；联系电话：0571-87654322。"]
    assert not any("招考人数" in block.text for block in guide.blocks if not isinstance(block, B.Table))


@pytest.mark.parametrize("repeat", [1, 0], ids=["header repeated", "header not repeated"])
def test_caption_row_merged_cells_and_a_table_over_two_pages(tmp_path, repeat):
    spans = [("SPAN", (0, 0), (-1, 0)), ("SPAN", (0, 2), (0, 3))]
    small = _grid([["表1 窗口分工", "", ""], ["单位", "事项", "窗口"], ["公安局", "户籍迁移", "3号"], ["", "身份证", "4号"]],
                  [40 * mm, 40 * mm, 40 * mm], spans)
    rows = [["事项", "时限"], *([f"事项{n}", f"{n}个工作日"] for n in range(1, 61))]
    story = [Paragraph("窗口分工如下。", BODY), small, Spacer(1, 8), Paragraph("办理时限如下。", BODY),
             _grid(rows, [60 * mm, 60 * mm], repeat=repeat)]
    tables = [b for b in load_pdf(_build(tmp_path / "tables.pdf", story)).documents[0].blocks if isinstance(b, B.Table)]
    assert tables[0].caption == "表1 窗口分工"
    assert tables[0].lines() == ["单位：公安局；事项：户籍迁移；窗口：3号。", "单位：公安局；事项：身份证；窗口：4号。"]
    assert len(tables) == 2 and tables[1].header == ["事项", "时限"]
    assert tables[1].rows == rows[1:]


@pytest.mark.parametrize("footer", [lambda n: f"第{n}页", lambda n: f"第 {n} 页 共 3 页", lambda n: f"{n}/3", str])
def test_page_number_forms_are_removed(tmp_path, footer):
    story = [Paragraph(f"第{n}部分的正文内容到此结束。", BODY) for n in (1, 2, 3)]
    story = [part for p in story for part in (p, PageBreak())][:-1]
    blocks = load_pdf(_build(tmp_path / "numbers.pdf", story, footer)).documents[0].blocks
    assert blocks == [B.Paragraph(f"第{n}部分的正文内容到此结束。") for n in (1, 2, 3)]


def test_paragraph_goes_on_over_a_page_break(tmp_path):
    filler = [Paragraph(f"第{n}条 本条为占位内容，用于把后面的段落推到页面底部。", BODY) for n in range(1, 38)]
    story = [*filler, Paragraph(ACROSS * 3 + "并在办结后及时告知申请人。", BODY)]
    blocks = load_pdf(_build(tmp_path / "across.pdf", story)).documents[0].blocks
    assert B.Paragraph(ACROSS * 3 + "并在办结后及时告知申请人。") in blocks


def test_radicals_standing_for_common_characters_are_mapped_back(tmp_path):
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    path = tmp_path / "radicals.pdf"
    page = canvas.Canvas(str(path))
    page.setFont("STSong-Light", 12)
    page.drawString(72, 700, "中华人⺠共和国⻓期居住证明")
    page.save()
    assert load_pdf(path).documents[0].blocks == [B.Paragraph("中华人民共和国长期居住证明")]


def _text_image(lines: list[str], size=(1240, 420)) -> Image.Image:
    font = ImageFont.truetype(FONT_FILE, 40)
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for n, line in enumerate(lines):
        draw.text((80, 60 + n * 90), line, font=font, fill="black")
    return image


def _scan_pdf(path, hidden: str = ""):
    """A page showing a picture of text; ``hidden`` is drawn as an invisible text layer over it."""
    page = canvas.Canvas(str(path), pagesize=A4)
    page.drawImage(ImageReader(_text_image(SCAN_LINES)), 40, A4[1] - 220, width=496, height=168)
    if hidden:
        layer = page.beginText(60, A4[1] - 80)
        layer.setTextRenderMode(3)
        layer.setFont("WQY", 12)
        for start in range(0, len(hidden), 15):
            layer.textLine(hidden[start:start + 15])
        page.drawText(layer)
    page.showPage()
    page.save()
    return path


def _recognised(doc) -> str:
    return B.plain_text(doc.blocks)


def test_scanned_pdf_is_read_by_ocr(tmp_path):
    doc = load_pdf(_scan_pdf(tmp_path / "scan.pdf")).documents[0]
    assert doc.ocr is True
    assert doc.blocks[0] == B.Heading("一、办理材料", 1)
    assert "居民身份证原件" in _recognised(doc) and "免冠彩色照片" in _recognised(doc)


PICTURED = ["错误类型；错误实例；正确写法", "介词连用；关于对某事的批复；删去对字",
            "文种重复；关于某意见的函；删去意见", "缺少介词；某同志称号的通报；前加关于",
            "用词不当；关于请求解决经费的请示；删去请求"]


def _pictured_pdf(path):
    """A table pasted in as a picture under a text heading, a page number below; then a page of text."""
    page = canvas.Canvas(str(path), pagesize=A4)
    page.setFont("WQY", 16)
    page.drawString(60, A4[1] - 60, "公文标题常见错误")
    page.drawImage(ImageReader(_text_image(PICTURED, (1240, 760))), 36, A4[1] - 420, width=520, height=319)
    page.setFont("WQY", 9)
    page.drawCentredString(A4[0] / 2, 12 * mm, "- 1 -")
    page.showPage()
    page.setFont("WQY", 11)
    page.drawString(60, A4[1] - 60, "正文部分另有说明，这一页只有文字，没有图片。")
    page.showPage()
    page.save()
    return path


def test_page_mostly_a_picture_under_a_heading_is_read_by_ocr(tmp_path):
    """A text layer of a heading and a page number says nothing of the picture: the picture is read."""
    doc = load_pdf(_pictured_pdf(tmp_path / "pictured.pdf")).documents[0]
    assert doc.ocr is True
    text = _recognised(doc)
    assert "介词连用" in text and "公文标题常见错误" in text
    assert "这一页只有文字" in text


def test_without_ocr_a_page_mostly_a_picture_keeps_its_text(tmp_path, monkeypatch):
    monkeypatch.setattr(ocr, "available", lambda: False)
    doc = load_pdf(_pictured_pdf(tmp_path / "pictured.pdf")).documents[0]
    text = _recognised(doc)
    assert doc.ocr is False and "公文标题常见错误" in text and "这一页只有文字" in text and "介词连用" not in text


def _flowchart() -> Image.Image:
    """A flowchart: twelve boxes of two characters each."""
    font = ImageFont.truetype(FONT_FILE, 40)
    image = Image.new("RGB", (1240, 900), "white")
    draw = ImageDraw.Draw(image)
    steps = ["申请", "受理", "审查", "踏勘", "公示", "决定", "送达", "归档", "立项", "验收", "备案", "发证"]
    for n, step in enumerate(steps):
        x, y = 80 + (n % 4) * 290, 80 + (n // 4) * 280
        draw.rectangle((x - 20, y - 20, x + 120, y + 70), outline="black", width=3)
        draw.text((x, y), step, font=font, fill="black")
    return image


def test_a_flowchart_picture_is_left_unread(tmp_path):
    """A diagram's boxes hold a few characters each; read in rows they are word salad, so a picture
    like that is not read, while the page's own text is."""
    path = tmp_path / "flow.pdf"
    page = canvas.Canvas(str(path), pagesize=A4)
    page.setFont("WQY", 16)
    page.drawString(60, A4[1] - 60, "施工许可审批流程图（12 个工作日）")
    page.drawImage(ImageReader(_flowchart()), 36, A4[1] - 460, width=520, height=377)
    page.showPage()
    page.save()
    doc = load_pdf(path).documents[0]
    text = _recognised(doc)
    assert "施工许可审批流程图" in text and "12 个工作日" in text
    assert doc.ocr is False and "踏勘" not in text and "归档" not in text


@pytest.mark.parametrize("with_text", [True, False])
def test_a_flowchart_page_is_left_unread_only_in_a_document_with_text(tmp_path, with_text):
    """A page that is one flowchart picture and its page number: inserted into a document of text, it is
    a diagram like any other; a document scanned throughout is read whole, whatever its pages show."""
    path = tmp_path / "flow-page.pdf"
    page = canvas.Canvas(str(path), pagesize=A4)
    if with_text:
        page.setFont("WQY", 11)
        page.drawString(60, A4[1] - 60, "附件：施工许可审批流程图见下页。")
        page.showPage()
    page.drawImage(ImageReader(_flowchart()), 20, 80, width=555, height=403)
    page.setFont("WQY", 9)
    page.drawCentredString(A4[0] / 2, 12 * mm, "- 2 -")
    page.showPage()
    page.save()
    text = _recognised(load_pdf(path).documents[0])
    assert ("踏勘" in text) is not with_text
    assert ("施工许可审批流程图见下页" in text) is with_text


def test_a_page_number_along_the_edge_of_a_landscape_page_is_dropped(tmp_path):
    """A landscape page prints its page number turned on its side along the short edge (— 13 —): it is
    neither read as lines of its own nor joined to the title that stands level with it."""
    path = tmp_path / "landscape.pdf"
    width, height = landscape(A4)
    page = canvas.Canvas(str(path), pagesize=(width, height))
    titles = {13: "政府投资房屋建筑项目审批流程图", 14: "社会投资房屋建筑项目审批流程图"}
    for number, title in titles.items():
        page.setFont("WQY", 18)
        page.drawCentredString(width / 2, height / 2, title)
        page.setFont("WQY", 11)
        page.drawCentredString(width / 2, height / 2 - 40, "（以划拨方式取得土地使用权，54 个工作日）")
        page.saveState()
        page.translate(50, height / 2)
        page.rotate(90)
        page.setFont("WQY", 14)
        page.drawCentredString(0, 0, f"— {number} —")
        page.restoreState()
        page.showPage()
    page.save()
    text = _recognised(load_pdf(path).documents[0])
    assert set(titles.values()) <= set(text.split("\n"))
    assert "—" not in text and "13" not in text and "14" not in text


random.seed(5)
GARBAGE = {
    "private use": "".join(chr(0xE000 + 7 * n) for n in range(60)),
    "rare characters": "".join(chr(random.randint(0x4E00, 0x9FA5)) for _ in range(60)),
}


@pytest.mark.parametrize("kind", GARBAGE)
def test_garbled_text_layer_is_replaced_by_ocr(tmp_path, kind):
    doc = load_pdf(_scan_pdf(tmp_path / "garbled.pdf", GARBAGE[kind])).documents[0]
    assert doc.ocr is True
    assert "居民身份证原件" in _recognised(doc)
    assert not set(GARBAGE[kind]) & set(_recognised(doc))


def test_garbled_text_layer_without_ocr_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(ocr, "available", lambda: False)
    with pytest.raises(IngestError, match="乱码") as raised:
        load_pdf(_scan_pdf(tmp_path / "garbled.pdf", GARBAGE["rare characters"]))
    assert "garbled.pdf" in str(raised.value) and "[ocr]" in raised.value.reason and "重新导出" in raised.value.reason


def test_scan_without_ocr_asks_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(ocr, "available", lambda: False)
    with pytest.raises(IngestError, match=r"扫描.*pip install -e '\.\[ocr\]'"):
        load_pdf(_scan_pdf(tmp_path / "scan.pdf"))


def test_encrypted_pdf_is_refused(tmp_path):
    path = tmp_path / "locked.pdf"
    page = canvas.Canvas(str(path), encrypt=pdfencrypt.StandardEncryption("secret", ownerPassword="owner"))
    page.setFont("WQY", 12)
    page.drawString(72, 700, "内部资料")
    page.save()
    with pytest.raises(IngestError, match="加密") as raised:
        load_pdf(path)
    assert "locked.pdf" in str(raised.value)


def test_pdf_without_text_or_images_is_refused(tmp_path):
    path = tmp_path / "blank.pdf"
    page = canvas.Canvas(str(path))
    page.rect(72, 72, 200, 100)
    page.showPage()
    page.save()
    with pytest.raises(IngestError, match="没有可读取的文字，也没有扫描页"):
        load_pdf(path)


PROSE = (
    "为进一步优化营商环境，市政务服务中心自下月起推行“一窗受理、集成服务”改革。企业和群众办理不动产登记、"
    "户籍迁移、社会保险等事项，只需在综合窗口提交一次材料，由后台分类审批、统一出件。"
)
TRADITIONAL = "臺灣居民如需辦理居住證，應當攜帶本人的臺灣居民來往大陸通行證，到居住地公安機關指定的受理點提出申請。"
NUMBERS = "序号 项目 2022年 2023年 增长率\n1 办件量 125,431 138,902 10.7%\n2 满意度 98.61 99.02 0.4%\n合计 264,030.6 277,902.0 5.3%"


@pytest.mark.parametrize("text", [
    PROSE, TRADITIONAL, NUMBERS, "第 3 页 共 10 页", "- 3 -", "附件", "969.57 万人",
    "\uf0b7 身份证\n\uf0b7 户口簿\n\uf0b7 结婚证", "姓名：________ 性别：____", "The applicant shall sign the form.",
    "Zhōngguó Běijīng Shì", "", "   \n ",
])
def test_real_text_is_plausible(text):
    assert garbled(text) is None


@pytest.mark.parametrize("text, reason", [
    ("".join(chr(0xE000 + 11 * n) for n in range(40)), "无法显示"),
    ("(cid:1234)(cid:88)(cid:907)(cid:3)(cid:77)(cid:12)", "无法显示"),
    ("\x01\x02\x03\x04\x05\x06\x07\x08 \x0e\x0f\x10\x11", "无法显示"),
    ("".join(chr(0x0378 + n % 8) + chr(0x0380 + n % 4) for n in range(20)), "无法显示"),
    (PROSE.encode("gbk").decode("latin-1"), "编码错乱"),
    (PROSE.encode("utf-8").decode("latin-1"), "编码错乱"),
    (PROSE.encode("utf-8").decode("gbk", "ignore"), "常用字"),
    ("".join(chr(ord(c) + 37) if "\u4e00" <= c <= "\u9fa5" else c for c in PROSE), "常用字"),
    (GARBAGE["rare characters"], "常用字"),
    ("钛合金牌号 " + " ".join(['!$#-*,+"*)(', "<@=<", "9>:9", "&%$#", "?;:<"] * 6), "符号"),
])
def test_garbage_is_caught(text, reason):
    assert reason in (garbled(text) or "")
