"""Web pages (.html, .htm): the article only, without the site's navigation, banners and footers.

trafilatura finds the main content; its HTML is read into blocks (h1–h6 headings, paragraphs,
tables with their header row). The title is the gov.cn ArticleTitle tag, else what trafilatura
reads from the page's metadata, else the <h1>, else <title> without its site name (……_某某市人民政府).
The date is the PubDate tag, a 发布时间 line on the page, the article's own signature date, then
the page's other date metadata — never a guess from figures in the body. A page trafilatura
cannot read (a bare fragment) is read whole, minus nav/header/footer.
"""

from __future__ import annotations

import re
from pathlib import Path

from .blocks import Block, Heading, Paragraph, Table
from .limits import Limits
from .loaded import Loaded, RawDocument, decode
from .meta import date_of, labelled_date

_GOV_TITLE = ("ArticleTitle", "articletitle", "title")
_GOV_DATE = ("PubDate", "pubdate", "firstpublishedtime", "publishdate")
_SITE_SUFFIX = re.compile(r"(?:\s*[_|｜]+\s*|\s+[-—]+\s+)[^_|｜]{2,30}$")
_CLOSING = re.compile(r"</\s*(?:html|body)\s*>", re.IGNORECASE)
"""Closing tags dropped before parsing: CMS pages assembled from includes close the page early
(a header include that ends in </html>), and parsers then lose the article after it."""
_BLOCK_TAGS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "blockquote", "pre", "table", "div"]


def _meta(soup, names: tuple[str, ...]) -> str:
    for name in names:
        tag = soup.find("meta", attrs={"name": name})
        if tag and tag.get("content", "").strip():
            return tag["content"].strip()
    return ""


def _table(tag) -> Table | None:
    rows = []
    for tr in tag.find_all("tr"):
        cells = []
        for cell in tr.find_all(["td", "th"]):
            span = str(cell.get("colspan", "1")).strip()
            cells += [cell.get_text(" ", strip=True)] * (int(span) if span.isdigit() and 0 < int(span) < 50 else 1)
        if any(cells):
            rows.append(cells)
    if not rows:
        return None
    width = max(map(len, rows))
    rows = [row + [""] * (width - len(row)) for row in rows]
    if len(rows) == 1:
        return Table([""] * width, rows)
    return Table(rows[0], rows[1:])


def _blocks(root) -> list[Block]:
    """Headings, paragraphs and tables in document order; a block inside a table or another block
    is read as part of its container."""
    out: list[Block] = []
    for tag in root.find_all(_BLOCK_TAGS):
        if tag.find_parent(["table", "p", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"]):
            continue
        if tag.name == "table":
            if table := _table(tag):
                out.append(table)
        elif tag.name == "div":
            if not tag.find(_BLOCK_TAGS) and (text := tag.get_text(" ", strip=True)):
                out.append(Paragraph(text))
        elif text := tag.get_text(" ", strip=True):
            out.append(Heading(text, max(1, int(tag.name[1]) - 1)) if tag.name[0] == "h" else Paragraph(text))
    return out


def _without_site(title: str) -> str:
    """A page title without the site and column names appended to it (……__2007年第23号国务院公报_中国政府网)."""
    while (shorter := _SITE_SUFFIX.sub("", title)) != title and len(shorter) >= 8:
        title = shorter
    return title


def load_html(path: Path, limits: Limits = Limits()) -> Loaded:
    """The page's article as one document; no limit applies beyond the file size (checked before loading)."""
    import trafilatura
    from bs4 import BeautifulSoup

    html = _CLOSING.sub("", decode(path.read_bytes(), path))
    page = BeautifulSoup(html, "html.parser")
    found = trafilatura.extract_metadata(html, date_config={"extensive_search": False, "original_date": True})
    article = trafilatura.extract(html, output_format="html", include_tables=True)
    if article:
        body = BeautifulSoup(article, "html.parser")
    else:
        for tag in page(["script", "style", "nav", "header", "footer", "noscript"]):
            tag.decompose()
        body = page.body or page
    blocks = _blocks(body)
    heading = page.find("h1")
    title = (_meta(page, _GOV_TITLE) or (found.title if found and found.title else "")
             or (heading.get_text(strip=True) if heading else "") or (page.title.get_text(strip=True) if page.title else ""))
    title = _without_site(title)
    date = (_meta(page, _GOV_DATE)[:10] or labelled_date(page.get_text(" ")) or date_of(blocks)
            or (found.date if found and found.date else ""))
    return Loaded(documents=[RawDocument(blocks=blocks, title=title, date=date)])
