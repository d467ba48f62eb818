"""Resource limits: file size, zip bombs (by content, whatever the suffix), pages per PDF and picture,
and the settings behind them. Bombs are made here, small, against small limits."""

from __future__ import annotations

import os
import re
import struct
import zipfile

import pytest
from PIL import Image
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from ingest import limits as L
from ingest import ocr
from ingest.images import load_image
from ingest.limits import Limits, check_file, too_many
from ingest.pdf import load_pdf
from ingest.word import load_docx
from kb.config import SETTINGS, default, load_settings
from kb.errors import IngestError

from fixtures import make_docx, make_text, make_zip_bomb

MB = 1024 * 1024
ROOMY = Limits(max_unzipped_mb=1000, max_zip_ratio=1e6)


def _bomb(path, pad_mb: int):
    source = make_docx(path.with_name("source.docx"), "居住证办理", ["携带身份证到派出所办理。"])
    make_zip_bomb(path, source, pad_mb)
    source.unlink()
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    return _bomb(tmp_path_factory.mktemp("bomb") / "通知.docx", 12)


def _refusal(path, limits: Limits) -> str:
    with pytest.raises(IngestError) as caught:
        check_file(path, limits)
    assert caught.value.path == str(path)
    return caught.value.reason


def test_the_bomb_is_a_real_document_that_passes_when_limits_allow(bomb):
    assert zipfile.ZipFile(bomb).getinfo("word/document.xml").file_size > 12 * MB
    assert {"[Content_Types].xml", "_rels/.rels"} <= set(zipfile.ZipFile(bomb).namelist())
    assert os.path.getsize(bomb) < 200_000
    check_file(bomb, ROOMY)
    assert "携带身份证" in load_docx(bomb, ROOMY).documents[0].blocks[-1].text


def test_unzipped_size_over_the_limit_is_refused_naming_the_setting(bomb):
    reason = _refusal(bomb, Limits(max_unzipped_mb=10, max_zip_ratio=1e6))
    assert re.match(r"文件解压后共 1[23] MB，超过上限 10 MB", reason)
    assert "压缩炸弹" in reason
    assert "max_unzipped_mb" in reason and "KB_MAX_UNZIPPED_MB" in reason


def test_compression_ratio_over_the_limit_is_refused_naming_the_setting(bomb):
    reason = _refusal(bomb, Limits(max_unzipped_mb=1000))
    assert re.match(r"文件(内 word/document.xml 的)?压缩比 \d+ 倍，超过上限 300 倍（解压后共? 1[23] MB，可能是压缩炸弹", reason)
    assert "max_zip_ratio" in reason and "KB_MAX_ZIP_RATIO" in reason


def test_one_bombed_member_is_refused_even_when_the_archive_ratio_is_low(tmp_path):
    path = tmp_path / "表格.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/media/image1.png", os.urandom(4 * MB), zipfile.ZIP_STORED)
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (2 * MB), zipfile.ZIP_DEFLATED)
    reason = _refusal(path, Limits())
    assert reason.startswith("文件内 xl/worksheets/sheet1.xml 的压缩比 ") and "max_zip_ratio" in reason


def test_small_members_are_not_held_to_the_ratio(tmp_path):
    path = tmp_path / "小.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b" " * 500_000)
    check_file(path, Limits())


@pytest.mark.parametrize("name, prefix", [("通知.txt", b""), ("通知.pdf", b""), ("通知.docx", b"MZ" + b"\0" * 1000)])
def test_a_zip_is_recognised_by_content_not_suffix(bomb, tmp_path, name, prefix):
    disguised = tmp_path / name
    disguised.write_bytes(prefix + bomb.read_bytes())
    assert zipfile.is_zipfile(disguised)  # python-docx and openpyxl would open it
    assert "max_unzipped_mb" in _refusal(disguised, Limits(max_unzipped_mb=10))


def test_a_directory_that_overstates_compressed_sizes_does_not_hide_a_bomb(bomb, tmp_path):
    data = bytearray(bomb.read_bytes())
    name = b"word/document.xml"
    entry = next(i for i in range(len(data)) if data.startswith(b"PK\x01\x02", i) and data[i + 46:i + 46 + len(name)] == name)
    struct.pack_into("<I", data, entry + 20, 0xFFFFFFF0)  # compressed size: 4 GB
    liar = tmp_path / "liar.docx"
    liar.write_bytes(bytes(data))
    assert zipfile.ZipFile(liar).getinfo("word/document.xml").compress_size == 0xFFFFFFF0
    assert "max_zip_ratio" in _refusal(liar, Limits(max_unzipped_mb=1000))


def test_an_oversized_central_directory_is_refused_before_zipfile_reads_it(tmp_path, monkeypatch):
    path = tmp_path / "部件.docx"
    with zipfile.ZipFile(path, "w") as archive:
        for n in range(400):
            archive.writestr(f"word/media/{n}.bin", b"")
    monkeypatch.setattr(L, "MAX_DIRECTORY_MB", 0.01)
    reason = _refusal(path, Limits())
    assert "内部目录" in reason and "另存" in reason


def test_a_normal_docx_passes(tmp_path):
    path = make_docx(tmp_path / "指南.docx", "社保卡补办", ["携带身份证到合作银行网点补办。"] * 50)
    check_file(path, Limits())
    check_file(path, Limits(max_unzipped_mb=1, max_zip_ratio=30))


def test_a_damaged_zip_is_left_to_its_loader(tmp_path):
    path = tmp_path / "坏.docx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100 + b"PK\x05\x06" + b"\x00" * 18)
    check_file(path, Limits())


def test_a_file_gone_since_it_was_found_is_an_ingest_error(tmp_path):
    assert "无法读取文件" in _refusal(tmp_path / "gone.docx", Limits())


def test_file_over_the_size_limit_is_refused_naming_the_setting(tmp_path):
    path = make_text(tmp_path / "长.txt", "办理时限为二十个工作日。" * 3000)
    check_file(path, Limits())
    reason = _refusal(path, Limits(max_file_mb=0.01))
    assert reason.startswith("文件大小 0.1 MB，超过上限 0.01 MB。")
    assert "max_file_mb" in reason and "KB_MAX_FILE_MB" in reason


def _pdf(path, pages: int):
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    page = canvas.Canvas(str(path))
    for n in range(1, pages + 1):
        page.setFont("STSong-Light", 12)
        page.drawString(72, 720, f"第{n}部分：申请人应当携带本人居民身份证到窗口办理。")
        page.showPage()
    page.save()
    return path


def test_pdf_over_the_page_limit_is_refused_naming_the_setting(tmp_path):
    path = _pdf(tmp_path / "指南.pdf", 3)
    with pytest.raises(IngestError) as caught:
        load_pdf(path, Limits(max_pages=2))
    assert caught.value.reason.startswith("PDF 共 3 页，超过上限 2 页。")
    assert "max_pages" in caught.value.reason and "KB_MAX_PAGES" in caught.value.reason
    assert "第3部分" in "".join(b.text for b in load_pdf(path, Limits(max_pages=3)).documents[0].blocks)


@pytest.mark.skipif(not ocr.available(), reason="OCR is not installed")
def test_multi_page_tiff_over_the_page_limit_is_refused(tmp_path):
    path = tmp_path / "扫描.tif"
    frames = [Image.new("RGB", (200, 100), "white") for _ in range(3)]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    with pytest.raises(IngestError, match="图片共 3 页，超过上限 2 页.*max_pages"):
        load_image(path, Limits(max_pages=2))


@pytest.mark.skipif(not ocr.available(), reason="OCR is not installed")
def test_a_picture_with_too_many_pixels_is_refused_before_decoding(tmp_path, monkeypatch):
    path = tmp_path / "大图.png"
    Image.new("RGB", (100, 100), "white").save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(IngestError, match="像素过多"):
        load_image(path)


def test_too_many_words_every_limit_alike(tmp_path):
    error = too_many(tmp_path / "a.xlsx", "工作表“3月”共", 250_000, 200_000, "max_rows", "行")
    assert error.reason == ("工作表“3月”共 250000 行，超过上限 200000 行。"
                            "如确认文件无误且需要导入，可调大设置 max_rows（环境变量 KB_MAX_ROWS）后重新导入。")


def test_limits_come_from_the_settings_table(monkeypatch):
    names = [s.name for s in SETTINGS]
    for field in ("max_file_mb", "max_unzipped_mb", "max_zip_ratio", "max_rows", "max_pages"):
        assert field in names and default(field) == getattr(Limits(), field)
    assert Limits.from_settings(load_settings()) == Limits()
    monkeypatch.setenv("KB_MAX_PAGES", "5")
    monkeypatch.setenv("KB_MAX_UNZIPPED_MB", "0.5")
    assert Limits.from_settings(load_settings()) == Limits(max_pages=5, max_unzipped_mb=0.5)


def test_check_reads_only_the_directory(bomb, monkeypatch):
    def no_member(*args, **kwargs):
        raise AssertionError("a member was opened")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_member)
    with pytest.raises(IngestError):
        check_file(bomb, Limits(max_unzipped_mb=10))
