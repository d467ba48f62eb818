"""Edit then approve, and supersede with an effective date: the 审核 page's form on the picked draft.

The form is pre-filled from the draft; on approval only the fields the reviewer changed are passed
to :meth:`kb.workflow.Workflow.approve` as ``changes``, which validates them as a submission is
validated (dates read by :mod:`kb.dates`, 替代编号 must be a published entry, another successor of
the same entry needs confirming). Making the draft the replacement of a published entry from a date
is the change ``{"supersedes": id, "effective_from": date}``, entered in the form's 替代 group.
"""

from __future__ import annotations

import gradio as gr

from ingest.columns import parse_lines, parse_tags
from kb.dates import require_date
from kb.text import normalize
from kb.types import Entry
from kb.workflow import Workflow

from .context import Context, acting, shown_errors

EDITED = {"question": "问题", "answer": "答复", "alt_questions": "其他问法", "item": "事项", "department": "部门",
          "basis": "依据", "tags": "标签", "expire_on": "失效日期", "supersedes": "替代编号", "effective_from": "生效日期"}
"""The fields the reviewer may edit, in the form's order, with their names in messages."""
LABELS = {**EDITED, "supersedes": "替代已发布条目（编号）", "effective_from": "自该日起生效（生效日期）"}
DATES = ("effective_from", "expire_on")
NOTHING = "请先在上方选择一条待审核的草稿。"
SUPERSEDE_HELP = ("**替代已发布条目**：本条是某条已发布口径的新口径时，填旧条目的编号和新口径的生效日期。"
                  "发布后，从生效日期起问答改用本条，问到旧条目时会提示已被替代；生效日期留空则发布即替代。")


def picked(entry_id: str | None) -> str:
    """``entry_id`` of the draft picked on the page; ``gr.Error`` when none is picked."""
    entry_id = (entry_id or "").strip()
    if not entry_id:
        raise gr.Error(NOTHING, title="未操作")
    return entry_id


def form_values(entry: Entry | None) -> list[str]:
    """The form's values for ``entry`` in :data:`EDITED` order (all empty without one)."""
    if entry is None:
        return ["" for _ in EDITED]
    return ["\n".join(entry.alt_questions) if name == "alt_questions" else
            "、".join(entry.tags) if name == "tags" else getattr(entry, name) for name in EDITED]


def _read(name: str, text: str | None) -> object:
    if name == "alt_questions":
        return tuple(normalize(q) for q in parse_lines(text))
    if name == "tags":
        return parse_tags(text)
    if name in DATES:
        return require_date(text or "", EDITED[name])
    return normalize(text or "")


def changes(entry: Entry, values: dict[str, str | None]) -> dict[str, object]:
    """The fields of ``values`` (form text by field name) that differ from ``entry``, read as stored:
    tags and 其他问法 as tuples, dates as ISO (an unreadable one raises :class:`kb.errors.DateError`)."""
    read = {name: _read(name, text) for name, text in values.items() if name in EDITED}
    return {name: value for name, value in read.items() if value != getattr(entry, name)}


def edit_approve(ctx: Context, entry_id: str | None, values: dict[str, str | None], keep_both: bool,
                 confirm_successor: bool, request: gr.Request | None) -> str:
    """Approve the draft ``entry_id`` with the fields the reviewer changed in the form; returns a
    Chinese confirmation naming the changed fields (and the entry it now supersedes, from when)."""
    user = acting(ctx, request, "review")
    entry_id = picked(entry_id)
    with ctx.lock, shown_errors():
        draft = ctx.kb.records.entry(entry_id)
        edits = changes(draft, values) if draft else {}
        published = Workflow(ctx.kb).approve(user, entry_id, edits or None, keep_both=bool(keep_both),
                                             confirm_successor=bool(confirm_successor))
        entry = ctx.kb.records.entry(published)
    done = f"已修改{'、'.join(EDITED[n] for n in edits)}并发布 {published}" if edits else f"未修改任何字段，已发布 {published}"
    if entry.supersedes and {"supersedes", "effective_from"} & edits.keys():
        done += f"，自 {entry.effective_from or '发布之日'} 起替代 {entry.supersedes}"
    return done + "。"


def build_form() -> tuple[list[gr.components.Component], gr.Button]:
    """The edit form (inside the caller's layout): its inputs in :data:`EDITED` order and its button."""
    boxes = {"question": gr.Textbox(label=LABELS["question"], lines=2),
             "answer": gr.Textbox(label=LABELS["answer"], lines=4),
             "alt_questions": gr.Textbox(label=LABELS["alt_questions"], lines=2, placeholder="每行一个")}
    with gr.Row():
        for name in ("item", "department", "basis"):
            boxes[name] = gr.Textbox(label=LABELS[name])
    with gr.Row():
        boxes["tags"] = gr.Textbox(label=LABELS["tags"], placeholder="用逗号或顿号分隔")
        boxes["expire_on"] = gr.Textbox(label=LABELS["expire_on"], placeholder="口径最后有效的一天（含当日）")
    with gr.Group():
        gr.Markdown(SUPERSEDE_HELP, padding=True)
        with gr.Row():
            boxes["supersedes"] = gr.Textbox(label=LABELS["supersedes"], placeholder="如 K00001")
            boxes["effective_from"] = gr.Textbox(label=LABELS["effective_from"],
                                                 placeholder="如 2026-12-01 或 2026年12月1日")
    button = gr.Button("保存修改并通过", variant="primary")
    return [boxes[name] for name in EDITED], button
