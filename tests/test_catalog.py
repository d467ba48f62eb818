"""Browsing the knowledge base (kb.catalog): filters, standings, pagination, facets, documents with
their passages, and `kb list` / `kb show-doc` with their login and permission checks, on real
ingested entries (an .xlsx), a real .docx notice and drafts made through the workflow."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures import PASSWORD, drop_collection, make_docx, make_xlsx, open_kb, unique_collection, web_context

from cli import cli
from ingest import ingest_paths
from kb.catalog import PUBLISHED_STANDINGS, STANDINGS, BrowseError, Catalog
from kb.types import Entry, Filters
from kb.users import Users
from kb.workflow import Workflow
from web import ask, entry

HOSTILE = "<script>alert(1)</script>请到[点我](javascript:alert(1))办理。"
HEADERS = ["编号", "问题", "答复", "事项", "部门", "日期", "生效日期", "失效日期", "替代编号"]
ROWS = [
    ["GJJ-OLD", "公积金怎么提取？", "旧口径：退休时才能提取。", "公积金提取", "公积金中心", "2026-01-05", "", "", ""],
    ["GJJ-NEW", "公积金怎么提取？", "新口径：购房、租房或退休时均可提取。", "公积金提取", "公积金中心", "2026-02-20",
     "2026-03-01", "", "GJJ-OLD"],
    ["QZ-1", "居住证签注怎么办理？", "到居住地派出所户籍窗口办理签注，当场办结。", "居住证签注", "公安局", "2026-02-10", "", "", ""],
    ["QZ-OLD", "居住证临时签注还能办吗？", "临时签注已停止办理。", "居住证签注", "公安局", "2025-12-01", "", "2026-01-31", ""],
    ["HZ-1", "第一次办护照要带什么？", "携带本人身份证到出入境接待大厅采集照片和指纹。", "普通护照", "出入境", "2026-03-15",
     "2099-01-01", "", ""],
    ["SB-XSS", "社保卡丢了怎么补办？", HOSTILE, "社保卡", "人社局", "2026-03-20", "", "", ""],
    ["DEL-1", "旧窗口还办理业务吗？", "该窗口已撤销。", "已撤销事项", "旧部门", "2026-01-01", "", "", ""],
]
DOC_TITLE = "关于居住证办理的通知"
DOC_PARAGRAPHS = ["发布日期：2026年2月1日", "为方便群众办理居住证，现将有关事项通知如下。", ("h", "一、办理材料"),
                  "申请人应当携带本人身份证、近期照片和居住证明材料。" * 8, ("h", "二、办理地点"),
                  "到居住地派出所户籍窗口办理，也可以在政务服务中心综合窗口办理。" * 8]
DRAFT_Q, REJECTED_Q = "异地就医备案怎么办？", "户口迁回原籍要什么材料？"


@dataclass
class Library:
    """The knowledge base with its web context, the docx path and the ids the workflow made."""

    ctx: object
    docx: Path
    draft: str
    rejected: str
    revision: str


def build_library(root: Path, embedder) -> Library:
    """Seven imported entries (one superseded, one expired, one not yet in effect, one with stored
    markup, one then deleted), a .docx notice, a pending draft and a rejected one; accounts of
    :func:`fixtures.web_context`. The entry QZ-1 has a second version (an approved revision, which is then 已合并)."""
    docx = make_docx(root / "居住证办理通知.docx", DOC_TITLE, DOC_PARAGRAPHS)
    kb = open_kb(root / "data", embedder, unique_collection())
    report = ingest_paths(kb, [make_xlsx(root / "常见问题.xlsx", ROWS, HEADERS), docx])
    assert not report.failed, report.failed
    ctx = web_context(kb, root / "data")
    users = Users(kb.records)
    staff, reviewer, admin = (users.get(name) for name in ("zhangsan", "zuzhang", "admin"))
    flow = Workflow(kb)
    flow.delete(admin, "DEL-1", "窗口已撤销")
    draft = flow.submit(staff, Entry("", DRAFT_Q, "在国家医保服务平台App上申请备案。", item="异地就医",
                                     department="医保局")).entry_id
    rejected = flow.submit(staff, Entry("", REJECTED_Q, "带户口本。", item="户口迁移", department="公安局")).entry_id
    flow.reject(reviewer, rejected, "材料不全，请补充迁移证明")
    revision = flow.submit(staff, Entry("", "", "到居住地派出所或政务服务中心办理签注，当场办结。"), revises="QZ-1").entry_id
    assert flow.approve(reviewer, revision) == "QZ-1"
    return Library(ctx, docx, draft, rejected, revision)


@pytest.fixture(scope="module")
def library(tmp_path_factory, embedder):
    found = build_library(tmp_path_factory.mktemp("catalog"), embedder)
    yield found
    drop_collection(found.ctx.kb)
    found.ctx.kb.close()


def every(catalog: Catalog, **options) -> list:
    """Every row of a listing, page after page."""
    first = catalog.list(**options)
    rows = list(first.rows)
    for page in range(2, first.pages + 1):
        rows += catalog.list(**options, page=page).rows
    return rows


def ids(rows) -> set[str]:
    return {r.id for r in rows}


def the_doc(catalog: Catalog) -> str:
    (doc,) = catalog.list(filters=Filters(kind="document")).rows
    return doc.id


def test_readers_see_published_entries_in_every_standing_and_documents(library):
    catalog = Catalog(library.ctx.kb.records)
    shown = catalog.list(page_size=50)
    published = {row[0] for row in ROWS} - {"DEL-1"}
    assert {r.id for r in shown.rows if r.kind == "entry"} == published
    assert shown.total == len(published) + 1 and shown.pages == 1
    standing = {r.id: r.standing for r in shown.rows}
    assert (standing["GJJ-OLD"], standing["QZ-OLD"], standing["HZ-1"], standing["GJJ-NEW"]) == \
        ("superseded", "expired", "upcoming", "published")
    assert set(standing.values()) <= set(PUBLISHED_STANDINGS)
    everything = catalog.list(drafts=True, page_size=50)
    assert ids(everything.rows) - ids(shown.rows) == {"DEL-1", library.draft, library.rejected, library.revision}
    assert {r.id: r.standing for r in everything.rows}[library.revision] == "merged"
    assert {r.id: r.standing for r in everything.rows}[library.rejected] == "rejected"
    assert [r.standing_label for r in everything.rows if r.id == "DEL-1"] == [STANDINGS["deleted"]]


@pytest.mark.parametrize("standing, expected", [("superseded", {"GJJ-OLD"}), ("expired", {"QZ-OLD"}),
                                                ("upcoming", {"HZ-1"}), ("deleted", set()), ("draft", set())])
def test_the_standing_filter_without_drafts(library, standing, expected):
    assert ids(Catalog(library.ctx.kb.records).list(standing=standing).rows) == expected


def test_the_standing_filter_with_drafts_and_unknown_standings(library):
    catalog = Catalog(library.ctx.kb.records)
    assert ids(catalog.list(standing="draft", drafts=True).rows) == {library.draft}
    assert ids(catalog.list(standing="deleted", drafts=True).rows) == {"DEL-1"}
    with pytest.raises(BrowseError, match="可选"):
        catalog.list(standing="obsolete")
    with pytest.raises(BrowseError, match="每页条数"):
        catalog.list(page_size=0)


def test_text_item_department_kind_and_date_filters(library):
    catalog = Catalog(library.ctx.kb.records)
    doc = the_doc(catalog)
    assert ids(catalog.list("居住证").rows) == {"QZ-1", "QZ-OLD", doc}
    assert ids(catalog.list("居住证 临时").rows) == {"QZ-OLD"}
    assert ids(catalog.list("政务服务中心").rows) == {"QZ-1", doc}, "answers and document text are searched"
    assert ids(catalog.list("hz-1").rows) == {"HZ-1"}, "ids are searched"
    assert ids(catalog.list("%").rows) == set() and ids(catalog.list("_").rows) == set()
    assert ids(catalog.list("<script>").rows) == {"SB-XSS"}
    assert ids(catalog.list(filters=Filters(item="公积金提取")).rows) == {"GJJ-OLD", "GJJ-NEW"}
    assert ids(catalog.list(filters=Filters(department="公安局"), drafts=True).rows) == \
        {"QZ-1", "QZ-OLD", library.rejected, library.revision}
    assert ids(catalog.list(filters=Filters(kind="document")).rows) == {doc}
    window = catalog.list(filters=Filters(kind="entry", date_from="2026-02-01", date_to="2026-03-15")).rows
    assert ids(window) == {r[0] for r in ROWS if "2026-02-01" <= r[5] <= "2026-03-15"}
    assert ids(catalog.list("居住证", Filters(item="居住证签注"), standing="published").rows) == {"QZ-1"}


def test_pages_cover_every_row_once_newest_first(library):
    catalog = Catalog(library.ctx.kb.records)
    whole = catalog.list(drafts=True, page_size=200)
    first = catalog.list(drafts=True, page_size=3)
    assert first.total == whole.total and first.pages == math.ceil(whole.total / 3) and first.page == 1
    paged = every(catalog, drafts=True, page_size=3)
    assert [r.id for r in paged] == [r.id for r in whole.rows]
    dated = [r.date for r in paged if r.date]
    assert dated == sorted(dated, reverse=True)
    assert [bool(r.date) for r in paged] == sorted((bool(r.date) for r in paged), reverse=True), "undated last"
    last = catalog.list(drafts=True, page_size=3, page=99)
    assert last.page == first.pages and last.rows == paged[3 * (first.pages - 1):]
    assert catalog.list(drafts=True, page_size=3, page=0).page == 1


def test_facets_offer_live_entries_and_documents_not_deleted_ones(library):
    found = Catalog(library.ctx.kb.records).facets()
    live = {r[3] for r in ROWS if r[0] != "DEL-1"} | {"异地就医"}
    assert found.items == sorted(live), "the deleted entry's and the rejected draft's 事项 are not offered"
    assert "旧部门" not in found.departments and "医保局" in found.departments
    assert found.departments == sorted(found.departments)
    items, departments = ask.facets(library.ctx)
    assert items == ["全部", *found.items] and departments == ["全部", *found.departments]
    assert entry.items(library.ctx) == found.items


def test_a_document_with_its_source_file_and_passages_in_order(library):
    catalog = Catalog(library.ctx.kb.records)
    view = catalog.document(the_doc(catalog))
    assert view.document.title == DOC_TITLE and view.document.date == "2026-02-01"
    assert view.files == [str(library.docx)]
    assert [p.position for p in view.passages] == list(range(len(view.passages))) and len(view.passages) >= 2
    text = "".join(p.text for p in view.passages)
    assert text.index("有关事项通知如下") < text.index("近期照片") < text.index("综合窗口")
    assert all(p.context.startswith(DOC_TITLE) for p in view.passages)
    assert "二、办理地点" in view.passages[-1].context
    with pytest.raises(BrowseError, match="没有编号为 nope 的文档"):
        catalog.document("nope")


def test_an_entry_not_published_is_found_only_with_drafts(library):
    catalog = Catalog(library.ctx.kb.records)
    assert catalog.entry("QZ-1").state.version == 2 and catalog.entry("GJJ-OLD").standing == "superseded"
    for hidden in (library.draft, library.rejected, "DEL-1"):
        with pytest.raises(BrowseError, match=f"没有编号为 {hidden} 的条目"):
            catalog.entry(hidden)
        assert catalog.entry(hidden, drafts=True).entry.id == hidden


def run(library, *args, user="zhangsan"):
    env = {"KB_USER": user, "KB_PASSWORD": PASSWORD, "KB_ANONYMOUS_READ": None}
    return CliRunner().invoke(cli, [*args, "--data-dir", str(library.ctx.kb.data_dir)], env=env)


def test_kb_list_filters_pages_and_checks_the_reader(library):
    listed = run(library, "list", "--item", "公积金提取")
    assert listed.exit_code == 0, listed.output
    assert "GJJ-OLD" in listed.output and "已发布（已被替代）" in listed.output and "共 2 条" in listed.output
    lines = run(library, "list", "--json", "--page-size", "2", "--page", "2", "--kind", "entry").output.splitlines()
    rows, page = [json.loads(line) for line in lines[:-1]], json.loads(lines[-1])
    expected = Catalog(library.ctx.kb.records).list(filters=Filters(kind="entry"), page=2, page_size=2)
    assert [r["id"] for r in rows] == [r.id for r in expected.rows] and page["page"] == 2
    assert page["total"] == len(ROWS) - 1
    refused = run(library, "list", "--status", "draft")
    assert refused.exit_code == 1 and "无权" in refused.output and library.draft not in refused.output
    assert run(library, "list", "--drafts").exit_code == 1
    drafts = run(library, "list", "--status", "draft", user="zuzhang")
    assert drafts.exit_code == 0 and library.draft in drafts.output and "共 1 条" in drafts.output
    wrong = CliRunner().invoke(cli, ["list", "--data-dir", str(library.ctx.kb.data_dir)],
                               env={"KB_USER": "zhangsan", "KB_PASSWORD": "wrong-password", "KB_ANONYMOUS_READ": None})
    assert wrong.exit_code == 1 and "GJJ" not in wrong.output
    assert run(library, "list", "--page-size", "0").exit_code == 2


def test_kb_show_doc_prints_the_source_file_and_passages(library):
    doc = the_doc(Catalog(library.ctx.kb.records))
    shown = run(library, "show-doc", doc)
    assert shown.exit_code == 0, shown.output
    assert DOC_TITLE in shown.output and str(library.docx) in shown.output and "2026-02-01" in shown.output
    assert shown.output.index("有关事项通知如下") < shown.output.index("综合窗口")
    missing = run(library, "show-doc", "nope")
    assert missing.exit_code == 1 and "没有编号为 nope 的文档" in missing.output
