"""审核: the queue of drafts awaiting review, a draft beside the entry it may duplicate with the
differences marked, and the review actions (approve, edit then approve or supersede, reject with a
reason, merge into the duplicate), and any entry's history with rollback (:mod:`web.history`).

Every action goes through :class:`kb.workflow.Workflow` with the logged-in account, so the
workflow's own ``review`` permission check refuses anyone else, through the page or the API alike.
All stored text is escaped with :func:`plain` or shown in tables and highlighted text, which never
render HTML. The comparison is in :mod:`web.review_compare`, the edit form in :mod:`web.review_edit`.
"""

from __future__ import annotations

import gradio as gr

from kb.types import STATUSES, Entry, EntryState
from kb.workflow import Workflow

from . import history
from .context import Context, account, acting, plain, shown_errors
from .opening import Opening
from .review_compare import COLORS, DIFF_HEADERS, block, differences, differing, highlighted
from .review_edit import EDITED, NOTHING, build_form, edit_approve, form_values, picked

TITLE = "审核"
ROLES = frozenset({"reviewer", "admin"})
ALL = "全部"
QUEUE_HEADERS = ["编号", "问题", "事项", "提交人", "日期", "可能重复"]
KEEP = [("保留已发布条目的表述", "existing"), ("采用草稿的表述", "new")]
EDIT_TITLE = "修改后通过 · 替代已发布条目（新口径及生效日期）"
"""The edit form's panel: closed until a draft is picked, so the queue stays near the top."""


def drafts(ctx: Context, request: gr.Request | None) -> list[tuple[Entry, EntryState]]:
    """The drafts awaiting review, oldest first, for a user holding ``drafts``."""
    acting(ctx, request, "drafts")
    with ctx.lock:
        return Workflow(ctx.kb).drafts()


def _chosen(value: str | None) -> str:
    return "" if value in (None, "", ALL) else value


def queue(pending: list[tuple[Entry, EntryState]], group: str | None, item: str | None) -> list[list[str]]:
    """Table rows of the drafts in 组 ``group`` and 事项 ``item`` (全部 or empty: any)."""
    group, item = _chosen(group), _chosen(item)
    return [[e.id, e.question, e.item, e.submitter, e.date or s.created_at[:10], s.duplicate_of]
            for e, s in pending if (not group or e.counter == group) and (not item or e.item == item)]


def _choices(values) -> list[str]:
    return [ALL, *sorted({v for v in values if v})]


def refreshed(ctx: Context, group: str | None, item: str | None, request: gr.Request | None) -> tuple:
    """The queue after a change: count, table, draft picker, 组 and 事项 filters (kept if still offered)."""
    pending = drafts(ctx, request)
    groups, items = _choices(e.counter for e, _ in pending), _choices(e.item for e, _ in pending)
    group = group if group in groups else ALL
    item = item if item in items else ALL
    rows = queue(pending, group, item)
    count = f"**待审核：共 {len(pending)} 条**（当前筛选 {len(rows)} 条）"
    return (count, rows, gr.Dropdown(choices=[r[0] for r in rows], value=None),
            gr.Dropdown(choices=groups, value=group), gr.Dropdown(choices=items, value=item))


def detail(ctx: Context, entry_id: str | None, request: gr.Request | None) -> tuple:
    """The draft ``entry_id`` as Markdown, the published entry it may duplicate (or revises), the
    differing fields as table rows, the 问题/答复 wording differences for ``gr.HighlightedText``,
    whether it can be merged (it is flagged as a duplicate), and the draft itself (None without one)."""
    acting(ctx, request, "drafts")
    entry_id = (entry_id or "").strip()
    if not entry_id:
        return NOTHING, "", [], [], False, None
    with ctx.lock, shown_errors():
        history = Workflow(ctx.kb).history(entry_id)
        entry, state = ctx.kb.records.entry(entry_id), history["state"]
        other_id = state["duplicate_of"] or state["revises"]
        other = ctx.kb.records.entry(other_id) if other_id else None
    status = STATUSES.get(state["status"], state["status"])
    marked = differing(entry, other)
    shown = block(entry, f"草稿（{plain(status)}，第 {state['version']} 版）", marked)
    if other is None:
        return shown, "", [], [], False, entry
    heading = "可能重复的已发布条目" if state["duplicate_of"] else "修订的原条目"
    return (shown, block(other, heading, marked), differences(entry, other), highlighted(entry, other),
            bool(state["duplicate_of"]), entry)


def approve(ctx: Context, entry_id: str, keep_both: bool, confirm_successor: bool,
            request: gr.Request | None) -> str:
    """Publish the draft ``entry_id`` as the logged-in user; returns a Chinese confirmation."""
    user, entry_id = account(ctx, request), picked(entry_id)
    with ctx.lock, shown_errors():
        published = Workflow(ctx.kb).approve(user, entry_id, keep_both=bool(keep_both),
                                             confirm_successor=bool(confirm_successor))
    return f"已发布 {published}。" if published == entry_id else f"已将 {entry_id} 发布为 {published} 的新版本。"


def reject(ctx: Context, entry_id: str, reason: str, request: gr.Request | None) -> str:
    """Send the draft back with ``reason`` (required); returns a Chinese confirmation."""
    user = account(ctx, request)
    entry_id, reason = picked(entry_id), (reason or "").strip()
    if not reason:
        raise gr.Error("退回时必须填写退回理由，提交人要据此修改。", title="未退回")
    with ctx.lock, shown_errors():
        Workflow(ctx.kb).reject(user, entry_id, reason)
    return f"已退回 {entry_id}：{reason}"


def merge(ctx: Context, entry_id: str, keep: str, request: gr.Request | None) -> str:
    """Merge the draft into the published entry it duplicates; returns a Chinese confirmation."""
    user, entry_id = account(ctx, request), picked(entry_id)
    with ctx.lock, shown_errors():
        target = Workflow(ctx.kb).merge(user, entry_id, keep=keep or "existing")
    return f"已将 {entry_id} 合并入 {target}（{'保留原表述' if keep != 'new' else '采用新表述'}）。"


def build(ctx: Context, opening: Opening) -> None:
    """The page: filters and queue, the picked draft beside its duplicate, and the actions."""
    with gr.Row():
        group = gr.Dropdown([ALL], value=ALL, label="组", allow_custom_value=True, scale=1)
        item = gr.Dropdown([ALL], value=ALL, label="事项", allow_custom_value=True, scale=1)
        picker = gr.Dropdown([], value=None, label="选择草稿（编号，或点击表格中的一行）",
                             allow_custom_value=True, scale=1)
    count = gr.Markdown()
    table = gr.Dataframe(headers=QUEUE_HEADERS, datatype="str", interactive=False, wrap=True)
    with gr.Row():
        draft = gr.Markdown(NOTHING)
        other = gr.Markdown()
    wording = gr.HighlightedText(label="问题与答复的差异（红：已发布条目原文，绿：草稿改动）", color_map=COLORS,
                                 combine_adjacent=True, show_legend=True, visible=False)
    diff = gr.Dataframe(headers=DIFF_HEADERS, datatype="str", interactive=False, wrap=True, label="不同的字段",
                        visible=False)
    with gr.Row():
        keep_both = gr.Checkbox(label="可能重复时确认两条都保留")
        confirm = gr.Checkbox(label="已有其他新口径时确认仍发布")
        approve_button = gr.Button("通过", variant="primary")
    with gr.Accordion(EDIT_TITLE, open=False) as editing:
        form, edit_button = build_form()
    with gr.Row():
        reason = gr.Textbox(label="退回理由（必填）", scale=3)
        reject_button = gr.Button("驳回", variant="stop", scale=1)
    with gr.Row(visible=False) as merging:
        keep = gr.Radio(KEEP, value="existing", label="合并到已发布条目时")
        merge_button = gr.Button("合并")
    with gr.Accordion("条目历史与回滚", open=False):
        lookup = gr.Textbox(label="条目编号", placeholder="输入编号后按回车，查看全部版本，可回滚到以前的版本", max_lines=1)
        looked_up = gr.Textbox(visible=False)
        history.build(ctx, looked_up)
    listing = [count, table, picker, group, item]
    shown = [draft, other, diff, wording, merging, editing, *form]

    def show(entry_id, request: gr.Request):
        text, published, rows, spans, mergeable, entry = detail(ctx, entry_id, request)
        return (text, published, gr.Dataframe(rows, visible=bool(rows)), gr.HighlightedText(spans, visible=bool(spans)),
                gr.Row(visible=mergeable), gr.Accordion(open=entry is not None), *form_values(entry))

    def listed(chosen_group, chosen_item, request: gr.Request):
        return refreshed(ctx, chosen_group, chosen_item, request)

    def loaded(chosen_group, chosen_item, request: gr.Request):
        """The queue when the page opens; nothing for a role that does not see this page (its tab is hidden)."""
        if account(ctx, request).role not in ROLES:
            return tuple(gr.skip() for _ in listing)
        return listed(chosen_group, chosen_item, request)

    def selected(evt: gr.SelectData):
        return evt.row_value[0] if evt.row_value else None

    def done(message, chosen_group, chosen_item, request):
        gr.Info(message)
        return (*refreshed(ctx, chosen_group, chosen_item, request), NOTHING, "", gr.Dataframe([], visible=False),
                gr.HighlightedText([], visible=False), gr.Row(visible=False), gr.Accordion(open=False),
                *form_values(None), "")

    def on_approve(entry_id, both, successor, chosen_group, chosen_item, request: gr.Request):
        return done(approve(ctx, entry_id, both, successor, request), chosen_group, chosen_item, request)

    def on_edit(entry_id, both, successor, chosen_group, chosen_item, question, answer, alternatives, chosen,
                department, basis, tags, expire_on, supersedes, effective_from, request: gr.Request):
        values = (question, answer, alternatives, chosen, department, basis, tags, expire_on, supersedes,
                  effective_from)
        message = edit_approve(ctx, entry_id, dict(zip(EDITED, values)), both, successor, request)
        return done(message, chosen_group, chosen_item, request)

    def on_reject(entry_id, text, chosen_group, chosen_item, request: gr.Request):
        return done(reject(ctx, entry_id, text, request), chosen_group, chosen_item, request)

    def on_merge(entry_id, wording_kept, chosen_group, chosen_item, request: gr.Request):
        return done(merge(ctx, entry_id, wording_kept, request), chosen_group, chosen_item, request)

    after = [*listing, *shown, reason]
    approve_button.click(on_approve, [picker, keep_both, confirm, group, item], after, api_name="approve")
    edit_button.click(on_edit, [picker, keep_both, confirm, group, item, *form], after, api_name="edit_approve")
    reject_button.click(on_reject, [picker, reason, group, item], after, api_name="reject")
    merge_button.click(on_merge, [picker, keep, group, item], after, api_name="merge")
    for control in (group, item):
        control.input(listed, [group, item], listing, api_visibility="private")
    picker.change(show, picker, shown, api_visibility="private")
    table.select(selected, None, picker, api_visibility="private")
    lookup.submit(lambda text: (text or "").strip(), lookup, looked_up, api_visibility="private")
    opening.load(loaded, [group, item], listing, api_visibility="private")
