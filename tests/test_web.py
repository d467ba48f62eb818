"""Saved web pages: the article only, title and date from the page's metadata or its own lines."""

from __future__ import annotations

from pathlib import Path

from ingest import ingest_paths
from ingest.blocks import Table
from ingest.loaders import load

CHROME = ["今天是2026年11月30日", "无障碍", "机构概况", "当前位置", "版权所有", "网站标识码", "0795-3999999"]


def _page(path: Path, head: str = "", info: str = "") -> Path:
    path.write_text(f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>城乡居民医保缴费通知_宜春市医疗保障局</title>{head}</head><body>
<div class="top">今天是2026年11月30日 星期一 | 无障碍 | 长者模式</div>
<nav><a href="/">首页</a> <a href="/a">机构概况</a> <a href="/b">政务公开</a> <a href="/c">政务服务</a></nav>
<div class="crumb">当前位置：首页 &gt; 通知公告</div>
<div class="article"><h1>关于2027年城乡居民医保缴费的通知</h1>{info}
<div class="content">
<p>各县（市、区）医疗保障局：</p>
<p>一、缴费标准。2027年度城乡居民医保个人缴费标准为每人每年400元，比上年提高20元。</p>
<p>二、缴费时间。集中缴费期为2026年9月1日至12月31日，逾期缴费的设置待遇等待期。</p>
<table><tr><th>人群</th><th>个人缴费</th><th>财政资助</th></tr>
<tr><td>普通居民</td><td>400元</td><td>0元</td></tr>
<tr><td>特困人员</td><td>0元</td><td>400元</td></tr></table>
<p>三、缴费渠道。可通过“赣服通”小程序、税务APP或合作银行柜台缴费。</p>
<p style="text-align:right">宜春市医疗保障局</p><p style="text-align:right">2026年8月28日</p>
</div></div>
<div class="footer">主办：宜春市人民政府办公室 版权所有 网站标识码3609000001 联系电话：0795-3999999</div>
</body></html>""", encoding="utf-8")
    return path


def test_article_without_chrome_and_with_its_table(tmp_path):
    doc = load(_page(tmp_path / "通知.html")).documents[0]
    for word in CHROME:
        assert word not in doc.text, word
    assert "每人每年400元" in doc.text and "合作银行柜台缴费" in doc.text
    table = next(b for b in doc.blocks if isinstance(b, Table))
    assert table.lines()[1] == "人群：特困人员；个人缴费：0元；财政资助：400元。"
    texts = doc.text.split("\n")
    assert texts.index(table.lines()[0]) == texts.index(next(t for t in texts if t.startswith("二、"))) + 1


def test_title_and_date_from_gov_metadata(tmp_path):
    head = '<meta name="ArticleTitle" content="关于2027年城乡居民医保缴费的通知"><meta name="PubDate" content="2026-09-02 10:30">'
    doc = load(_page(tmp_path / "通知.html", head=head)).documents[0]
    assert (doc.title, doc.date) == ("关于2027年城乡居民医保缴费的通知", "2026-09-02")


def test_date_from_the_info_line_then_from_the_signature_never_from_the_chrome(kb, tmp_path):
    info = '<div class="info">发布时间：2026-09-03 来源：市医保局 浏览次数：1234</div>'
    with_info, bare = _page(tmp_path / "有发布时间.html", info=info), _page(tmp_path / "无元数据.html")
    ingest_paths(kb, [with_info, bare])
    dated = {d.source: (d.title, d.date) for d in map(kb.document, ("有发布时间", "无元数据"))}
    assert dated["有发布时间.html"] == ("关于2027年城乡居民医保缴费的通知", "2026-09-03")
    assert dated["无元数据.html"] == ("关于2027年城乡居民医保缴费的通知", "2026-08-28")
    hit = kb.search("特困人员医保个人要交多少钱", k=1)[0]
    assert "特困人员；个人缴费：0元" in hit.text


def test_page_closed_early_by_an_include_keeps_its_article_and_title_loses_the_site_name(tmp_path):
    path = tmp_path / "公报.html"
    path.write_text("""<html><head><meta charset="utf-8">
<title>全国人民代表大会常务委员会关于批准调整国债余额限额的决议__2007年第23号国务院公报_中国政府网</title></head>
<body><div class="header">首页 | 简 | 繁 | EN | 登录</div></body></html>
<div class="content"><div class="pages_content">
<p>全国人民代表大会常务委员会关于批准调整国债余额限额的决议（2007年6月29日第十届全国人民代表大会常务委员会第二十八次会议通过）</p>
<p>会议决定：批准发行15500亿元特别国债购买外汇，批准2007年末国债余额限额调整为53365.53亿元。</p>
</div></div>""", encoding="utf-8")
    doc = load(path).documents[0]
    assert "批准发行15500亿元特别国债" in doc.text and "登录" not in doc.text
    assert doc.title == "全国人民代表大会常务委员会关于批准调整国债余额限额的决议"
