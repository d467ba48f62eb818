"""审计日志: every change to the knowledge base, newest first, filtered by 操作人, 操作, 对象 and days.

Reads :func:`kb.audit.events` (its WHERE is the shared :func:`kb.logfilter.where`) for an account
admitted to ``audit``; the newest :data:`PAGE` events are shown and 更多 adds as many again. Each
event's changed fields are shown before and after as text in a ``gr.Dataframe`` (never rendered).
"""

from __future__ import annotations

import json

import gradio as gr

from kb.audit import ACTIONS, AuditEvent, events
from kb.dates import ACCEPTED, parse_date
from kb.types import STATUSES
from kb.users import ROLES

from ..context import Context, account, acting
from ..opening import Opening

TITLE = "审计日志"
HEADERS = ["时间", "操作人", "操作", "对象", "改前", "改后", "理由"]
PAGE = 50
ALL = ""
FIELDS = {
    "question": "问题", "answer": "答复", "alt_questions": "其他问法", "item": "事项", "department": "部门",
    "counter": "窗口/组", "basis": "依据", "tags": "标签", "source": "来源", "submitter": "提交人", "date": "日期",
    "effective_from": "生效日期", "expire_on": "失效日期", "supersedes": "替代", "status": "状态", "version": "版本",
    "duplicate_of": "可能重复", "rivals": "其他新口径", "username": "用户名", "display_name": "姓名", "role": "角色",
    "group": "组", "active": "在用", "added": "新增", "updated": "更新", "removed": "删除", "documents": "文档",
}
"""Labels of the fields logged in ``before``/``after``; other fields are shown by their key."""
VALUES = {"role": ROLES, "status": STATUSES}
"""Fields whose stored keys are shown by their Chinese names."""


def choices(ctx: Context) -> list[tuple[str, str]]:
    """The 操作 filter: 全部, every known action, then any other action found in the log."""
    with ctx.lock:
        logged = [r[0] for r in ctx.kb.records.conn.execute("SELECT DISTINCT action FROM audit ORDER BY action")]
    return [("全部", ALL), *((label, key) for key, label in ACTIONS.items()),
            *((key, key) for key in logged if key not in ACTIONS)]


def _day(value: str | None, label: str) -> str:
    day = parse_date((value or "").strip())
    if day is None:
        raise gr.Error(f"{label}“{value}”无法识别（格式不对，或没有这一天）。请写成 {ACCEPTED}，或留空表示不限。",
                       title="日期有误")
    return day


def _text(field: str, value: object) -> str:
    if field in VALUES and isinstance(value, str):
        return VALUES[field].get(value, value)
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(map(str, value)) or "（空）"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _blank(value: object) -> bool:
    return value in (None, "", [], {})


def sides(event: AuditEvent) -> tuple[str, str]:
    """The event's changed fields (both sides not blank) as ``字段：值`` text, before and after."""
    changed = {k: v for k, v in event.changes().items() if not (_blank(v[0]) and _blank(v[1]))}
    before = "；".join(f"{FIELDS.get(k, k)}：{_text(k, b)}" for k, (b, _) in changed.items() if not _blank(b))
    after = "；".join(f"{FIELDS.get(k, k)}：{_text(k, a)}" for k, (_, a) in changed.items() if not _blank(a))
    return before, after


def search(ctx: Context, actor: str, action: str, target: str, since: str, until: str, limit: int,
           request: gr.Request | None) -> tuple[list[list[str]], str]:
    """The newest ``limit`` events matching the filters (empty: any) as table rows, and a Chinese
    line saying how many are shown and whether older ones match too."""
    acting(ctx, request, "audit")
    first, last = _day(since, "起始日期"), _day(until, "截止日期")
    with ctx.lock:
        found = events(ctx.kb.records.conn, (actor or "").strip(), action or "", (target or "").strip(),
                       first, last, limit + 1)
    rows = [[e.at.replace("T", " "), e.actor, ACTIONS.get(e.action, e.action), e.target, *sides(e), e.reason]
            for e in found[:limit]]
    if not rows:
        return [], "没有符合条件的记录。"
    more = "；还有更早的记录，点“更多”继续显示" if len(found) > limit else "；已全部显示"
    return rows, f"显示最新的 {len(rows)} 条{more}。"


def build(ctx: Context, opening: Opening) -> None:
    """The section: the filters, the 查询 and 更多 buttons, and the events."""
    with gr.Row():
        actor = gr.Textbox(label="操作人（用户名）", max_lines=1)
        action = gr.Dropdown([("全部", ALL)], value=ALL, label="操作")
        target = gr.Textbox(label="对象编号", placeholder="条目编号，或 user:用户名、file:路径", max_lines=1)
        since = gr.Textbox(label="起始日期", placeholder="如 2026-11-01，留空不限", max_lines=1)
        until = gr.Textbox(label="截止日期", placeholder="含当天，留空不限", max_lines=1)
    with gr.Row():
        query = gr.Button("查询", variant="primary")
        more = gr.Button("更多")
    shown = gr.Markdown()
    table = gr.Dataframe(headers=HEADERS, datatype="str", interactive=False, wrap=True, label="审计日志（最新的在前）")
    limit = gr.State(PAGE)
    filters = [actor, action, target, since, until]

    def on_query(who, kind, what, first, last, request: gr.Request):
        return (*search(ctx, who, kind, what, first, last, PAGE, request), PAGE)

    def on_more(who, kind, what, first, last, count, request: gr.Request):
        return (*search(ctx, who, kind, what, first, last, count + PAGE, request), count + PAGE)

    def loaded(request: gr.Request):
        """The newest events when the section opens; nothing for a role that does not see the 管理 page."""
        if not account(ctx, request).can("users"):
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return (gr.Dropdown(choices=choices(ctx)), *search(ctx, "", ALL, "", "", "", PAGE, request), PAGE)

    query.click(on_query, filters, [table, shown, limit], api_name="audit_log")
    for box in (actor, target, since, until):
        box.submit(on_query, filters, [table, shown, limit], api_visibility="private")
    more.click(on_more, [*filters, limit], [table, shown, limit], api_visibility="private")
    opening.load(loaded, None, [action, table, shown, limit], api_visibility="private")
