"""The image loader: pictures of text read by OCR."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from ingest import blocks as B
from ingest import ocr
from ingest.images import load_image, ocr_blocks
from ingest.loaders import LOADERS
from ingest.pipeline import to_document
from kb.errors import IngestError

FONT_FILE = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


def _picture(path, lines: list[str]):
    font = ImageFont.truetype(FONT_FILE, 40)
    image = Image.new("RGB", (1240, 120 + 90 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for n, line in enumerate(lines):
        draw.text((80, 60 + n * 90), line, font=font, fill="black")
    image.save(path)
    return path


def test_png_is_read_by_ocr(tmp_path):
    doc = load_image(_picture(tmp_path / "notice.png", ["二、办理时限", "即来即办，当场出证。"])).documents[0]
    assert doc.ocr is True
    assert doc.blocks[0] == B.Heading("二、办理时限", 1)
    assert "当场出证" in B.plain_text(doc.blocks)


def test_a_screenshot_is_titled_by_its_file_name_a_scanned_notice_by_its_title(tmp_path):
    screenshot = _picture(tmp_path / "认证对接申请流程.png", ["DING8工作通讯录", "第一步：登录政务服务网填写申请表。"])
    notice = _picture(tmp_path / "scan.png", ["关于调整窗口受理时间的通知", "各窗口：自下月起受理时间延长至18时。"])
    assert to_document(load_image(screenshot).documents[0], screenshot, "d1").title == "认证对接申请流程"
    assert to_document(load_image(notice).documents[0], notice, "d2").title == "关于调整窗口受理时间的通知"


def test_every_page_of_a_tiff_is_read(tmp_path):
    first, second = (Image.open(_picture(tmp_path / f"{n}.png", [line])) for n, line in enumerate(["一、受理条件", "即来即办"]))
    path = tmp_path / "scan.tif"
    first.save(path, save_all=True, append_images=[second])
    text = B.plain_text(load_image(path).documents[0].blocks)
    assert "受理条件" in text and "即来即办" in text


def test_image_without_text_is_refused(tmp_path):
    path = tmp_path / "blank.jpg"
    Image.new("RGB", (800, 600), "white").save(path)
    with pytest.raises(IngestError, match="没有识别出文字") as raised:
        load_image(path)
    assert "blank.jpg" in str(raised.value)


def test_image_without_ocr_asks_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(ocr, "available", lambda: False)
    with pytest.raises(IngestError, match=r"pip install -e '\.\[ocr\]'"):
        load_image(_picture(tmp_path / "notice.png", ["即来即办"]))


def test_broken_image_is_refused(tmp_path):
    path = tmp_path / "photo.png"
    path.write_bytes(b"not a picture")
    with pytest.raises(IngestError, match="损坏"):
        load_image(path)


def test_image_suffixes_are_registered():
    assert all(LOADERS[suffix] is load_image for suffix in (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"))


def test_wrapped_lines_join_but_list_items_stay_apart():
    wrapped = ["申请人应当携带本人居民身份证、户口簿以及近期免冠证件照片，到户", "籍所在地的派出所户籍窗口提出申请。"]
    items = ["居民身份证原件", "户口簿原件", "二寸照片两张"]
    assert ocr_blocks(["一、办理材料", *wrapped, *items]) == [
        B.Heading("一、办理材料", 1), B.Paragraph("".join(wrapped)), *map(B.Paragraph, items),
    ]


def test_ocr_lines_mend_the_year_brackets_of_document_numbers():
    from ingest.images import tidy

    assert tidy("根据（唐政办发〔2019]1号）精神") == "根据（唐政办发〔2019〕1号）精神"
    assert tidy("唐港城办发〔2019】 13号") == "唐港城办发〔2019〕 13号"
    assert tidy("2019年(2020)工作 安排") == "2019年(2020)工作安排"


def test_boxes_set_apart_on_one_row_are_kept_apart(tmp_path):
    """The cells of a table row (or a flowchart's boxes) read by OCR keep a ；between them, so their words
    do not run into one phrase; words a space apart stay one line of text."""
    font = ImageFont.truetype(FONT_FILE, 40)
    image = Image.new("RGB", (1400, 300), "white")
    draw = ImageDraw.Draw(image)
    draw.text((80, 60), "介词连用", font=font, fill="black")
    draw.text((600, 60), "删去对字", font=font, fill="black")
    draw.text((80, 180), "申请材料 身份证原件", font=font, fill="black")
    image.save(tmp_path / "row.png")
    lines = ocr.lines((tmp_path / "row.png").read_bytes())
    assert lines == ["介词连用；删去对字", "申请材料身份证原件"]
