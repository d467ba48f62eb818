"""Web pages (.html, .htm)."""

from __future__ import annotations

from pathlib import Path

from .loaded import Loaded, RawDocument, decode


_HTML_BLOCKS = ["p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "td", "th", "section", "article",
                "table", "ul", "ol", "blockquote", "pre"]


def load_html(path: Path) -> Loaded:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode(path.read_bytes(), path), "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "noscript"]):
        tag.decompose()
    heading = soup.find("h1")
    title = (heading.get_text(strip=True) if heading else "") or (soup.title.get_text(strip=True) if soup.title else "")
    for tag in soup.find_all(_HTML_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    for br in soup.find_all("br"):
        br.replace_with("\n")
    body = soup.body or soup
    return Loaded(documents=[RawDocument(body.get_text(""), title=title)])
