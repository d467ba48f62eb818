"""知识库: browse the entries and documents page by page, search and filter them (事项, 部门, date,
status, kind), open an entry (with its version history for roles holding ``audit``) or a document
(its source file and its passages in order).

The listing is :class:`kb.catalog.Catalog` for the logged-in account: everyone reads published
knowledge (permission ``read``); drafts and entries that are rejected, merged or deleted are listed
and opened only for roles holding ``drafts``, decided on the server from the account, never from a
form field. Stored text is shown in tables (plain text) or escaped with :func:`plain`.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from kb.catalog import PUBLISHED_STANDINGS, STANDINGS, Catalog, DocumentView, EntryView, Listing
from kb.dates import require_date
from kb.types import Filters
from kb.users import User

from . import history
from .context import Context, account, acting, plain, shown_errors
from .opening import Opening

TITLE = "知识库"
ROLES = frozenset({"staff", "reviewer", "admin"})
ALL = "全部"
PAGE_SIZE = 10
KINDS = {"entry": "条目", "document": "文档"}
HEADERS = ["类型", "编号", "问题/标题", "事项", "部门", "日期", "状态", "版本"]
PASSAGE_HEADERS = ["序号", "所在章节", "内容"]
ENTRY_FIELDS = {"answer": "答复", "alt_questions": "其他问法", "item": "事项", "department": "部门", "date": "日期",
                "source": "来源", "basis": "依据", "counter": "窗口/组", "tags": "标签", "effective_from": "生效日期",
                "expire_on": "失效日期", "supersedes": "替代编号", "submitter": "提交人"}
NOTHING = "点击表格中的一行，查看条目或文档的全部内容。"
MAX_SEARCH = 200
"""The longest search text: each word is matched as typed, and the store refuses very long patterns."""


def _chosen(value: str | None) -> str:
    return "" if value in (None, "", ALL) else value


def _catalog(ctx: Context, request: gr.Request | None) -> tuple[Catalog, bool]:
    """The catalog for the logged-in account (permission ``read``), and whether it may see drafts."""
    return Catalog(ctx.kb.records), acting(ctx, request, "read").can("drafts")


def listing(ctx: Context, text: str | None, kind: str | None, item: str | None, department: str | None,
            standing: str | None, date_from: str | None, date_to: str | None, page: int | None,
            request: gr.Request | None, page_size: int = PAGE_SIZE) -> Listing:
    """The page ``page`` (of ``page_size`` rows) of the entries and documents matching the filters
    (全部 or empty: any) that the logged-in account may read; dates in any form :mod:`kb.dates` reads."""
    catalog, drafts = _catalog(ctx, request)
    text = (text or "").strip()
    if len(text) > MAX_SEARCH:
        raise gr.Error(f"搜索文字太长（{len(text)} 字），请只输入要找的几个词，{MAX_SEARCH} 字以内。", title="未查询")
    with ctx.lock, shown_errors():
        filters = Filters(item=_chosen(item), department=_chosen(department), kind=_chosen(kind) or None,
                          date_from=require_date(date_from, "起始日期"), date_to=require_date(date_to, "截止日期"))
        return catalog.list(text, filters, _chosen(standing), drafts, int(page or 1), page_size)


def rows(found: Listing) -> list[list[str]]:
    """The listing as table rows (shown as plain text by the table)."""
    return [[KINDS[r.kind], r.id, r.title, r.item, r.department, r.date, r.standing_label,
             str(r.version) if r.kind == "entry" else ""] for r in found.rows]


def summary(found: Listing) -> str:
    """第 x/y 页，共 n 条."""
    return f"第 {found.page}/{found.pages} 页，共 {found.total} 条"


def _value(value: object) -> str:
    return "、".join(value) if isinstance(value, tuple) else str(value)


def entry_markdown(view: EntryView) -> str:
    """An entry in full, every stored text escaped."""
    e = view.entry
    lines = [f"### {plain(e.question)}", f"**编号** {plain(e.id)}　**状态** {plain(view.standing_label)}　"
             f"**版本** 第 {view.state.version} 版"]
    lines += [f"**{label}**：{plain(_value(getattr(e, name)))}" for name, label in ENTRY_FIELDS.items()
              if getattr(e, name)]
    if view.state.note:
        lines.append(f"**审核意见**：{plain(view.state.note)}")
    return "\n\n".join(lines)


def document_markdown(view: DocumentView) -> str:
    """A document's title, source file (name and path), date, 事项 and 部门, every stored text escaped."""
    d = view.document
    files = "；".join(f"{plain(Path(f).name)}（{plain(f)}）" for f in view.files) or plain(d.source or "不详")
    lines = [f"### {plain(d.title)}", f"**编号** {plain(d.id)}　**段落** {len(view.passages)} 段",
             f"**来源文件**：{files}", f"**日期**：{plain(d.date or '不详')}",
             f"**部门**：{plain(d.department or '不详')}", f"**事项**：{plain(d.item or '不详')}"]
    return "\n\n".join(lines)


def passages(view: DocumentView) -> list[list[str]]:
    """A document's passages in order: 序号 (from 1), the section heading path and the text."""
    return [[str(c.position + 1), c.context, c.text] for c in view.passages]


def opened(ctx: Context, picked: str | None, request: gr.Request | None) -> tuple[str, str, list[list[str]], str]:
    """What selecting ``picked`` (an entry or document id) shows the logged-in account: the entry as
    Markdown, the document as Markdown, the document's passages, and the id of the entry shown (for
    its history; '' for a document)."""
    catalog, drafts = _catalog(ctx, request)
    picked = (picked or "").strip()
    if not picked:
        return NOTHING, "", [], ""
    with ctx.lock, shown_errors():
        if ctx.kb.records.document(picked) is not None:
            view = catalog.document(picked)
            return "", document_markdown(view), passages(view), ""
        return entry_markdown(catalog.entry(picked, drafts)), "", [], picked


def standings(user: User) -> list[tuple[str, str]]:
    """The status filter's choices for ``user``: the standings of published entries, every status
    for roles holding ``drafts``."""
    keys = STANDINGS if user.can("drafts") else PUBLISHED_STANDINGS
    return [(ALL, ALL), *((STANDINGS[k], k) for k in keys)]


def build(ctx: Context, opening: Opening) -> None:
    """The page: search and filters, the paginated table, and the picked entry or document."""
    with gr.Row():
        text = gr.Textbox(label="搜索", placeholder="问题、答复、标题或编号中的文字，多个词用空格分开", scale=3)
        kind = gr.Dropdown([(ALL, ALL), *((label, key) for key, label in KINDS.items())], value=ALL,
                           label="类型", scale=1)
        standing = gr.Dropdown([(ALL, ALL), *((label, key) for key, label in STANDINGS.items())], value=ALL,
                               label="状态", scale=1)
    with gr.Row():
        item = gr.Dropdown([ALL], value=ALL, label="事项", allow_custom_value=True, scale=1)
        department = gr.Dropdown([ALL], value=ALL, label="部门", allow_custom_value=True, scale=1)
        date_from = gr.Textbox(label="起始日期", placeholder="如 2026-11-01", max_lines=1, scale=1)
        date_to = gr.Textbox(label="截止日期", placeholder="如 2026-11-30", max_lines=1, scale=1)
        search = gr.Button("查询", variant="primary", scale=1)
    table = gr.Dataframe(headers=HEADERS, datatype="str", interactive=False, wrap=True)
    with gr.Row():
        previous = gr.Button("上一页", size="sm", scale=1)
        count = gr.Markdown()
        following = gr.Button("下一页", size="sm", scale=1)
    page = gr.State(1)
    picked = gr.Textbox(label="编号（点击表格中的一行，或输入编号后按回车）", max_lines=1)
    entry_box = gr.Markdown(NOTHING)
    document_box = gr.Markdown()
    passage_table = gr.Dataframe(headers=PASSAGE_HEADERS, datatype="str", interactive=False, wrap=True,
                                 label="文档段落（按原文顺序）", visible=False, column_widths=["6%", "20%", "74%"])
    entry_id = gr.Textbox(visible=False)
    first = gr.State(1)
    filters = [text, kind, item, department, standing, date_from, date_to]

    def listed(words, chosen_kind, chosen_item, dept, status, start, end, number, request: gr.Request):
        found = listing(ctx, words, chosen_kind, chosen_item, dept, status, start, end, number, request)
        return summary(found), rows(found), found.page

    def earlier(words, chosen_kind, chosen_item, dept, status, start, end, number, request: gr.Request):
        return listed(words, chosen_kind, chosen_item, dept, status, start, end, int(number or 1) - 1, request)

    def later(words, chosen_kind, chosen_item, dept, status, start, end, number, request: gr.Request):
        return listed(words, chosen_kind, chosen_item, dept, status, start, end, int(number or 1) + 1, request)

    def show(chosen, request: gr.Request):
        entry_text, document_text, parts, shown_entry = opened(ctx, chosen, request)
        return entry_text, document_text, gr.Dataframe(value=parts, visible=bool(document_text)), shown_entry

    def selected(evt: gr.SelectData):
        return evt.row_value[1] if evt.row_value else None

    def loaded(words, chosen_kind, chosen_item, dept, status, start, end, request: gr.Request):
        """The first page and the filters' choices when the page opens (nothing for a role without the page)."""
        user = account(ctx, request)
        if user.role not in ROLES:
            return tuple(gr.skip() for _ in range(6))
        with ctx.lock:
            found = Catalog(ctx.kb.records).facets()
        return (*listed(words, chosen_kind, chosen_item, dept, status, start, end, 1, request),
                gr.Dropdown(choices=[ALL, *found.items]), gr.Dropdown(choices=[ALL, *found.departments]),
                gr.Dropdown(choices=standings(user)))

    listing_out = [count, table, page]
    shown = [entry_box, document_box, passage_table, entry_id]
    search.click(listed, [*filters, first], listing_out, api_name="browse")
    text.submit(listed, [*filters, first], listing_out, api_visibility="private")
    previous.click(earlier, [*filters, page], listing_out, api_visibility="private")
    following.click(later, [*filters, page], listing_out, api_visibility="private")
    table.select(selected, None, picked, api_visibility="private").then(show, picked, shown,
                                                                        api_visibility="private")
    picked.submit(show, picked, shown, api_name="open_item")
    history.build(ctx, entry_id).rolled_back.success(show, picked, shown, api_visibility="private").then(
        listed, [*filters, page], listing_out, api_visibility="private")
    opening.load(loaded, filters, [*listing_out, item, department, standing], api_visibility="private")
