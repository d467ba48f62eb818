"""Legacy and WPS office files (.doc .wps .rtf .xls .et .ppt .pptx .dps) are sniffed by content and
converted with LibreOffice; .doc files that are really web pages, RTF or MHT are read as what they are."""

from __future__ import annotations

import os
import quopri
import shutil
import subprocess
import time

import docx
import pytest
from openpyxl import Workbook

from ingest import convert, ocr
from ingest.blocks import Table
from ingest.loaders import load
from ingest.sniff import OLE2, kind
from kb.errors import IngestError

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed")

ROWS = ["职位：文秘；招考人数：1；学历：本科。", "职位：法官助理；招考人数：2；学历：本科。"]
FAQ = [["问题", "答复"], ["社保卡丢了怎么补办？", "携带身份证到合作银行网点补办。"]]
SLIDES = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.2"
 office:mimetype="application/vnd.oasis.opendocument.presentation"><office:body><office:presentation>
<draw:page draw:name="p1"><draw:frame svg:x="1cm" svg:y="1cm" svg:width="24cm" svg:height="3cm"><draw:text-box>
<text:p>不动产登记业务培训</text:p></draw:text-box></draw:frame>
<draw:frame svg:x="1cm" svg:y="5cm" svg:width="24cm" svg:height="6cm"><draw:text-box>
<text:p>继承房产办理转移登记需要提交继承权公证书。</text:p></draw:text-box></draw:frame></draw:page>
<draw:page draw:name="p2"><draw:frame svg:x="1cm" svg:y="1cm" svg:width="24cm" svg:height="3cm"><draw:text-box>
<text:p>抵押登记当场办结。</text:p></draw:text-box></draw:frame></draw:page>
</office:presentation></office:body></office:document>
"""
HTML = ('<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><meta http-equiv=Content-Type '
        'content="text/html; charset=gb2312"><title>护照办理</title></head><body><h1>护照办理须知</h1>'
        '<p>申请人须本人到出入境接待大厅办理。</p></body></html>')


def _notice(path):
    document = docx.Document()
    document.add_heading("公开招考公告", level=0)
    document.add_paragraph("根据工作需要公开招考。")
    table = document.add_table(rows=3, cols=3)
    table.cell(1, 2).merge(table.cell(2, 2))  # 学历 merged over both rows must survive the .doc round trip
    for r, row in enumerate([["职位", "招考人数", "学历"], ["文秘", "1", "本科"], ["法官助理", "2"]]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    document.add_paragraph("报名截止日期为9月5日。")
    document.save(str(path))


def _rtf(text: str) -> bytes:
    escaped = "".join(ch if ord(ch) < 128 else f"\\u{ord(ch) - 65536 if ord(ch) > 32767 else ord(ch)}?" for ch in text)
    return ("{\\rtf1\\ansi\\ansicpg936\\deff0{\\fonttbl{\\f0\\fnil\\fcharset134 SimSun;}}\\uc1\\pard\\f0 "
            + escaped + "\\par}").encode("ascii")


def _mht(html: str) -> bytes:
    body = quopri.encodestring(html.encode("gb2312")).decode("ascii")
    return ('MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="----=_NextPart_01"\r\n\r\n'
            'This document is a Single File Web Page.\r\n\r\n------=_NextPart_01\r\n'
            'Content-Location: file:///C:/notice.htm\r\nContent-Transfer-Encoding: quoted-printable\r\n'
            f'Content-Type: text/html; charset="gb2312"\r\n\r\n{body}\r\n\r\n------=_NextPart_01--\r\n').encode("ascii")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Every legacy fixture, made by LibreOffice from generated .docx/.xlsx/.fodp (one call per target)."""
    root = tmp_path_factory.mktemp("legacy")
    made = root / "made"
    made.mkdir()
    _notice(made / "notice.docx")
    book = Workbook()
    for row in FAQ:
        book.active.append(row)
    book.active.auto_filter.ref = "A1:XFD2"  # over whole rows: LibreOffice writes it back as "1:2"
    book.save(made / "faq.xlsx")
    (made / "slides.fodp").write_text(SLIDES, encoding="utf-8")
    profile = (root / "profile").as_uri()
    targets = [("doc", "notice.docx"), ("xls", "faq.xlsx"), ("ppt", "slides.fodp"), ("pptx", "slides.fodp")]
    for target, source in targets:
        subprocess.run([SOFFICE, "--headless", "--norestore", f"-env:UserInstallation={profile}",
                        "--convert-to", target, "--outdir", str(root), str(made / source)],
                       check=True, capture_output=True, timeout=180)
    for original, copy in [("notice.doc", "公告.wps"), ("faq.xls", "登记表.et"), ("slides.ppt", "培训.dps")]:
        shutil.copyfile(root / original, root / copy)
    shutil.copyfile(made / "notice.docx", root / "其实是docx.doc")
    (root / "rtf.doc").write_bytes(_rtf("窗口办理时限为三个工作日。"))
    (root / "网页.doc").write_bytes(b"\r\n  " + HTML.encode("gb2312"))
    cells = "".join(f"<tr><td>{q}</td><td>{a}</td></tr>" for q, a in FAQ)
    (root / "导出.xls").write_bytes(f'<html><head><meta charset="gbk"></head><body><table>{cells}</table></body></html>'
                                    .encode("gbk"))
    (root / "单个网页.doc").write_bytes(_mht(HTML))
    (root / "乱码.doc").write_bytes(os.urandom(3000))
    return root


@pytest.mark.parametrize("name", ["notice.doc", "公告.wps", "其实是docx.doc"])
def test_word_97_and_wps_documents_keep_their_structure(files, name):
    doc = load(files / name).documents[0]
    assert doc.title == "公开招考公告"
    assert [type(b).__name__ for b in doc.blocks] == ["Paragraph", "Paragraph", "Table", "Paragraph"]
    table = doc.blocks[2]
    assert isinstance(table, Table) and table.lines() == ROWS
    text = doc.text
    assert text.index("根据工作需要公开招考。") < text.index(ROWS[0]) < text.index("报名截止日期为9月5日。")


@pytest.mark.parametrize("name", ["faq.xls", "登记表.et", "导出.xls"])
def test_excel_97_and_wps_sheets_become_entries(files, name):
    rows = load(files / name).rows
    assert [str(v) for r in rows for v in r.fields.values()][:2] == FAQ[1]


@pytest.mark.parametrize("name", ["slides.ppt", "培训.dps", "slides.pptx"])
def test_presentations_are_read_slide_by_slide(files, name):
    text = load(files / name).documents[0].text
    assert text.index("不动产登记业务培训") < text.index("继承权公证书") < text.index("抵押登记当场办结")


@pytest.mark.parametrize("name, expected", [
    ("rtf.doc", "窗口办理时限为三个工作日。"),
    ("网页.doc", "申请人须本人到出入境接待大厅办理。"),
    ("单个网页.doc", "申请人须本人到出入境接待大厅办理。"),
])
def test_doc_files_that_are_really_other_formats(files, name, expected):
    assert expected in load(files / name).documents[0].text


def test_unrecognisable_doc_names_the_file_and_the_fix(files):
    with pytest.raises(IngestError) as caught:
        load(files / "乱码.doc")
    assert caught.value.path == str(files / "乱码.doc")
    assert "无法识别" in caught.value.reason and "另存为 .docx" in caught.value.reason


def test_missing_libreoffice_says_how_to_install_it(files, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(IngestError) as caught:
        load(files / "notice.doc")
    assert "LibreOffice" in caught.value.reason
    assert "apt install libreoffice-writer-nogui" in caught.value.reason and ".docx" in caught.value.reason


def _fake_soffice(folder, script, monkeypatch):
    program = folder / "soffice"
    program.write_text(f"#!/bin/sh\n{script}\n")
    program.chmod(0o755)
    monkeypatch.setattr(shutil, "which", lambda name: str(program) if name == "soffice" else None)


def test_conversion_without_output_is_a_clear_error(files, tmp_path, monkeypatch):
    _fake_soffice(tmp_path, "exit 0", monkeypatch)
    with pytest.raises(IngestError) as caught:
        load(files / "notice.doc")
    assert caught.value.path == str(files / "notice.doc")
    assert "没能转换" in caught.value.reason and "密码" in caught.value.reason


def test_conversion_that_hangs_is_stopped(files, tmp_path, monkeypatch):
    _fake_soffice(tmp_path, "sleep 60", monkeypatch)
    monkeypatch.setattr(convert, "TIMEOUT", 1)
    started = time.monotonic()
    with pytest.raises(IngestError) as caught:
        load(files / "notice.doc")
    assert time.monotonic() - started < 10
    assert "超过 1 秒" in caught.value.reason


def test_errors_of_the_inner_loader_name_the_original_file(files, tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.setattr(ocr, "available", lambda: False)
    picture = tmp_path / "scan.png"
    Image.new("RGB", (60, 20), "white").save(picture)
    document = docx.Document()
    document.add_picture(str(picture))
    path = tmp_path / "扫描件.doc"
    document.save(str(path))
    with pytest.raises(IngestError) as caught:
        load(path)
    assert caught.value.path == str(path) and str(path) in str(caught.value)
    assert "文档只有图片" in caught.value.reason


@pytest.mark.parametrize("name, expected", [
    ("notice.doc", "doc"), ("公告.wps", "doc"), ("faq.xls", "xls"), ("登记表.et", "xls"), ("slides.ppt", "ppt"),
    ("培训.dps", "ppt"), ("slides.pptx", "pptx"), ("其实是docx.doc", "docx"), ("rtf.doc", "rtf"), ("网页.doc", "html"),
    ("单个网页.doc", "mht"), ("导出.xls", "html"), ("乱码.doc", "unknown"),
])
def test_sniffed_kinds(files, name, expected):
    assert kind((files / name).read_bytes()) == expected


@pytest.mark.parametrize("data, expected", [
    (b"%PDF-1.7\n", "pdf"),
    ("\ufeff<!DOCTYPE html><p>通知</p>".encode("utf-16"), "html"),
    (b"PK\x03\x04broken", "unknown"),
    (b"", "unknown"),
])
def test_sniffed_kinds_of_bytes(data, expected):
    assert kind(data) == expected


def test_password_protected_file_says_so(tmp_path):
    path = tmp_path / "加密.docx"  # Office encrypts a .docx into an OLE2 file holding an EncryptedPackage stream
    path.write_bytes(OLE2 + bytes(504) + "EncryptedPackage".encode("utf-16-le") + bytes(512))
    assert kind(path.read_bytes()) == "encrypted"
    with pytest.raises(IngestError) as caught:
        load(path)
    assert caught.value.path == str(path) and "密码" in caught.value.reason


def test_xlsx_content_is_sniffed(files):
    assert kind((files / "made" / "faq.xlsx").read_bytes()) == "xlsx"
