"""An entry's history as a block any page can mount: its state, every version (number, time, who,
action, content) with what changed from the version before, its audit events, and 回滚到此版本.

The history is the ``audit`` permission's (:data:`kb.users.PERMISSIONS`): for a role without it the
block stays hidden and no history is sent. Rolling back goes through
:meth:`kb.workflow.Workflow.rollback` as the logged-in account, whose ``review`` check refuses anyone
else through the page and the API alike; the reason is required. Stored text is shown in tables
(plain text) or escaped with :func:`plain`.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from kb.audit import ACTIONS
from kb.ownership import FIELD_LABELS
from kb.types import STATUSES
from kb.users import LOCAL_ADMIN, Users
from kb.workflow import Workflow

from .context import Context, account, acting, plain, shown_errors

VERSION_HEADERS = ["版本", "时间", "操作人", "操作", "问题", "答复", "与上一版不同的字段"]
CHANGE_HEADERS = ["版本", "字段", "上一版", "本版"]
EVENT_HEADERS = ["时间", "操作人", "操作", "理由"]
CONTENT_FIELDS = {name: label for name, label in FIELD_LABELS.items() if name != "status"}


def _text(value: object) -> str:
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return "" if value is None else str(value)


def changes(versions: list[dict]) -> list[list[str]]:
    """Rows 版本 / 字段 / 上一版 / 本版 for every field that differs between consecutive versions
    (``versions`` oldest first, as :meth:`kb.workflow.Workflow.history` gives them)."""
    rows = []
    for before, after in zip(versions, versions[1:]):
        old, new = before["content"], after["content"]
        rows += [[f"第 {after['version']} 版", label, _text(old.get(name)), _text(new.get(name))]
                 for name, label in CONTENT_FIELDS.items() if old.get(name) != new.get(name)]
    return rows


def _changed(before: dict | None, after: dict) -> str:
    if before is None:
        return "（首版）"
    labels = [label for name, label in CONTENT_FIELDS.items()
              if before["content"].get(name) != after["content"].get(name)]
    return "、".join(labels) or "（内容未变）"


def history(ctx: Context, entry_id: str | None, request: gr.Request | None) -> tuple:
    """What the block shows for ``entry_id`` to the logged-in account: whether it is visible, the
    state as Markdown, the version rows, the change rows, the event rows, whether the rollback row is
    offered and the versions to roll back to. Hidden (and empty) for a role without ``audit`` or when
    no entry is picked."""
    user, entry_id = account(ctx, request), (entry_id or "").strip()
    if not entry_id or not user.can("audit"):
        return False, "", [], [], [], False, []
    with ctx.lock, shown_errors():
        data = Workflow(ctx.kb).history(entry_id)
        names = {name: Users(ctx.kb.records).get(name) for name in
                 {v["actor"] for v in data["versions"]} | {e["actor"] for e in data["events"]}}
    who = {name: found.label if found else name for name, found in names.items()}
    who[LOCAL_ADMIN.username] = LOCAL_ADMIN.label
    state, versions = data["state"], data["versions"]
    shown = (f"**{plain(entry_id)}**　当前：{plain(STATUSES.get(state['status'], state['status']))}，"
             f"第 {state['version']} 版，共保存 {len(versions)} 个版本")
    rows = [[str(v["version"]), v["at"].replace("T", " "), who[v["actor"]], ACTIONS.get(v["action"], v["action"]),
             v["content"].get("question", ""), v["content"].get("answer", ""), _changed(before, v)]
            for before, v in zip([None, *versions], versions)]
    events = [[e["at"].replace("T", " "), who[e["actor"]], ACTIONS.get(e["action"], e["action"]), e["reason"]]
              for e in data["events"]]
    earlier = [str(v["version"]) for v in versions if v["version"] != state["version"]]
    offered = user.can("review") and state["status"] == "published" and bool(earlier)
    return True, shown, rows, changes(versions), events, offered, earlier


def rollback(ctx: Context, entry_id: str | None, version: str | None, reason: str | None,
             request: gr.Request | None) -> str:
    """Publish version ``version`` of ``entry_id`` again as the logged-in account (permission
    ``review``), with ``reason`` (required); returns a Chinese confirmation."""
    user = acting(ctx, request, "review")
    entry_id, version, reason = (entry_id or "").strip(), str(version or "").strip(), (reason or "").strip()
    if not entry_id:
        raise gr.Error("请先选择一个条目。", title="未回滚")
    if not version.isdecimal():
        raise gr.Error("请先选择要回滚到的版本（可点击版本表中的一行）。", title="未回滚")
    if not reason:
        raise gr.Error("回滚时必须填写理由，它会记入操作记录。", title="未回滚")
    with ctx.lock, shown_errors():
        new = Workflow(ctx.kb).rollback(user, entry_id, int(version), reason)
    return f"已将 {entry_id} 回滚到第 {version} 版的内容，发布为第 {new} 版。"


@dataclass
class HistoryBlock:
    """The mounted block: ``box`` holds everything; ``outputs`` are what :func:`history` fills;
    ``rolled_back`` is the rollback event, for the page to chain a refresh of its own with ``.success``."""

    box: gr.Column
    outputs: list
    rolled_back: object


def build(ctx: Context, entry_id: gr.components.Component) -> HistoryBlock:
    """Mount the block (inside a ``gr.Blocks``) for the entry whose id is ``entry_id``'s value (a
    component the API can set, e.g. a hidden Textbox, so that ``/rollback`` names its entry); it
    refreshes whenever that value changes and after a rollback."""
    with gr.Column(visible=False) as box:
        gr.Markdown("#### 版本历史")
        state = gr.Markdown()
        versions = gr.Dataframe(headers=VERSION_HEADERS, datatype="str", interactive=False, wrap=True,
                                label="全部版本（点击一行可选为回滚版本）")
        diffs = gr.Dataframe(headers=CHANGE_HEADERS, datatype="str", interactive=False, wrap=True,
                             label="相邻版本的差异")
        events = gr.Dataframe(headers=EVENT_HEADERS, datatype="str", interactive=False, wrap=True, label="操作记录")
        with gr.Row(visible=False) as rolling:
            version = gr.Dropdown([], value=None, label="回滚到的版本", allow_custom_value=True, scale=1)
            reason = gr.Textbox(label="回滚理由（必填）", scale=3)
            button = gr.Button("回滚到此版本", variant="stop", scale=1)
    outputs = [box, state, versions, diffs, events, rolling, version]

    def show(picked, request: gr.Request):
        visible, text, rows, changed, logged, offered, earlier = history(ctx, picked, request)
        return (gr.Column(visible=visible), text, rows, changed, logged, gr.Row(visible=offered),
                gr.Dropdown(choices=earlier, value=None))

    def on_rollback(picked, chosen, why, request: gr.Request):
        gr.Info(rollback(ctx, picked, chosen, why, request))
        return (*show(picked, request), "")

    def selected(evt: gr.SelectData):
        return evt.row_value[0] if evt.row_value else None

    entry_id.change(show, entry_id, outputs, api_visibility="private")
    versions.select(selected, None, version, api_visibility="private")
    done = button.click(on_rollback, [entry_id, version, reason], [*outputs, reason], api_name="rollback")
    return HistoryBlock(box, outputs, done)
