"""办不成事: sending a question the counter could not answer to the 办不成事 window, and working the registry.

Everyone (permission ``escalate``) sees the escalate form and their own cases with the answer once
there is one; 窗口问答 offers the same from a refused or doubtful answer (:func:`from_answer`). Holders
of ``escalations`` (组长/培训师, 管理员) also see the registry (filtered by status, overdue cases
marked ⚠), open a case, move it to 协调中 or another department with a note, solve it (the solution is
submitted as a draft for 审核 in the same step, :meth:`kb.escalations.Escalations.solve`) or close it
as 无法解决 with a reason, and read the monthly report. Every call goes through the library with the
logged-in account, so staff are refused the registry through the page and the API alike. Stored
text is shown in tables or escaped with :func:`plain`.
"""

from __future__ import annotations

import gradio as gr

from kb.asklog import question as logged_question
from kb.escalations import STATUSES, Case, Escalations, cases_where
from kb.feedback import ratings
from kb.records import now
from kb.workflow import Workflow

from .context import Context, account, acting, plain, shown_errors
from .opening import Opening

TITLE = "办不成事"
ROLES = frozenset({"staff", "reviewer", "admin"})
ALL = "全部"
MINE_HEADERS = ["编号", "状态", "期限", "事项", "部门", "问题", "答复或原因", "知识库条目"]
REGISTRY_HEADERS = ["编号", "状态", "期限", "事项", "部门", "经办", "登记人", "问题"]
SITUATION = "群众情况（可选；请勿填写身份证号、手机号等个人信息，写了也会自动隐去）"
NOTHING = "在上方选择一件登记，查看处理经过并协调、办结。"
LARGEST = 2 ** 63
"""Case numbers are below this (SQLite's integers)."""


def _registry(ctx: Context) -> Escalations:
    return Escalations(ctx.kb.records)


def _number(value) -> int:
    try:
        number = int(str(value or "").strip())
    except ValueError:
        raise gr.Error("请先在表格中点击一件登记，或在“选择登记”中选择编号。", title="未选择登记") from None
    if not 0 < number < LARGEST:
        raise gr.Error(f"没有编号为 {number} 的办不成事登记：请在表格中点击一件登记，或在“选择登记”中选择编号。",
                       title="未找到登记")
    return number


def _due(case: Case, today: str) -> str:
    return f"⚠ {case.due} 超期" if case.overdue(today) else case.due


def _confirmation(case: Case) -> str:
    return f"已转办不成事窗口：登记编号 {case.number}，{case.label}，请在 {case.due} 前答复群众。"


def escalate(ctx: Context, question: str, situation: str, item: str, department: str,
             request: gr.Request | None) -> str:
    """Register ``question`` as the logged-in user (``escalate``); returns a Chinese confirmation."""
    user = acting(ctx, request, "escalate")
    with ctx.lock, shown_errors():
        case = _registry(ctx).escalate(user, question, situation, _chosen(item), _chosen(department))
    return _confirmation(case)


def from_answer(ctx: Context, logged: list[int] | None, situation: str, item: str, department: str,
                request: gr.Request | None) -> str:
    """Escalate the latest answer of the 窗口问答 chat (its log id is the last of ``logged``), with the
    citizen's ``situation`` and the chat's 事项/部门 filters; returns a Chinese confirmation."""
    user = acting(ctx, request, "escalate")
    if not logged:
        raise gr.Error("还没有可转办的问题：请先提问。", title="未转办")
    with ctx.lock, shown_errors():
        case = _registry(ctx).escalate(user, "", situation, _chosen(item), _chosen(department), ask_id=logged[-1])
    return _confirmation(case)


def doubtful(ctx: Context, logged: list[int] | None, request: gr.Request | None) -> bool:
    """Whether the chat's latest answer should offer 转办不成事窗口: it was refused or asked which case
    was meant, or its asker rated it 没用, and it is not escalated yet."""
    user = account(ctx, request)
    if not logged or not user.can("escalate"):
        return False
    with ctx.lock:
        asked = logged_question(ctx.kb.records.conn, logged[-1])
        rating = ratings(ctx.kb.records.conn, [logged[-1]]).get(logged[-1])
        done = cases_where(ctx.kb.records, "ask_id = ?", (logged[-1],))
    if asked is None or asked.user != user.username or done:
        return False
    return asked.status != "answered" or (rating is not None and not rating.useful)


def mine(ctx: Context, request: gr.Request | None) -> list[list[str]]:
    """The logged-in user's cases as table rows, newest first, with the answer once there is one."""
    user = acting(ctx, request, "escalate")
    with ctx.lock, shown_errors():
        found = _registry(ctx).mine(user)
    today = now()[:10]
    return [[str(c.number), c.label, _due(c, today), c.item, c.department, c.question, c.solution or c.reason,
             c.knowledge or (f"{c.entry_id}（待审核）" if c.entry_id else "")] for c in found]


def listing(ctx: Context, status: str | None, overdue: bool, request: gr.Request | None) -> tuple[str, list, list]:
    """The registry for a holder of ``escalations``: a count line, the rows (newest first, overdue ones
    marked ⚠) and the case numbers for the picker; ``status`` 全部 or a status name, ``overdue`` only late ones."""
    user = acting(ctx, request, "escalations")
    with ctx.lock, shown_errors():
        found = _registry(ctx).cases(user, _chosen(status), bool(overdue))
    today = now()[:10]
    late = sum(1 for c in found if c.overdue(today))
    rows = [[str(c.number), c.label, _due(c, today), c.item, c.department, c.owner_label, c.created_by, c.question]
            for c in found]
    waiting = sum(1 for c in found if c.status in ("accepted", "coordinating"))
    count = f"**办不成事登记：列出 {len(found)} 件，未办结 {waiting} 件，其中超期 {late} 件**"
    return count, rows, [r[0] for r in rows]


def detail(ctx: Context, number, request: gr.Request | None) -> tuple[str, str, str, str]:
    """The case ``number`` as Markdown (facts, solution, events), and its question, 事项 and department
    to prefill the solution form; :data:`NOTHING` and blanks without a number."""
    user = acting(ctx, request, "escalations")
    if not number:
        return NOTHING, "", "", ""
    with ctx.lock, shown_errors():
        case = _registry(ctx).case(user, _number(number))
    late = "　**⚠ 已超期**" if case.overdue(now()[:10]) else ""
    lines = [f"### 登记 {case.number}：{plain(case.question)}",
             f"状态：**{case.label}**{late}　期限：{case.due}　事项：{plain(case.item or '—')}　"
             f"部门：{plain(case.department or '—')}　经办：{plain(case.owner_label)}　"
             f"登记：{plain(case.created_by)} {case.created_at.replace('T', ' ')}"]
    lines += [plain(line) for line in case.details()]
    lines.append("**处理经过**：")
    lines += [f"- {e.at.replace('T', ' ')}　{plain(e.actor)}　"
              + plain("；".join(p for p in (e.detail, e.note) if p)) for e in case.events]
    return "\n\n".join(lines), case.question, case.item, case.department


def update(ctx: Context, number, status: str, department: str, due: str, note: str,
           request: gr.Request | None) -> str:
    """Move the case to 协调中 / another department / a new deadline, with a note; a confirmation."""
    user = account(ctx, request)
    picked = _number(number)
    with ctx.lock, shown_errors():
        case = _registry(ctx).update(user, picked, _chosen(status), note, (department or "").strip(),
                                     (due or "").strip())
    return f"已更新登记 {case.number}：{case.label}，部门 {case.department or '—'}，期限 {case.due}。"


def solve(ctx: Context, number, solution: str, question: str, item: str, department: str, basis: str,
          request: gr.Request | None) -> str:
    """Close the case as 已解决 and submit ``solution`` as a draft for 审核; a confirmation."""
    user = account(ctx, request)
    picked = _number(number)
    with ctx.lock, shown_errors():
        case, submitted = _registry(ctx).solve(user, picked, solution, Workflow(ctx.kb), question, item,
                                               department, basis)
    if submitted.status == "duplicate":
        return f"登记 {case.number} 已解决；知识库已有完全相同的条目 {submitted.entry_id}，未重复存储。"
    return f"登记 {case.number} 已解决；解决方案已提交为草稿 {submitted.entry_id}，请到“审核”页面审核发布。"


def unsolvable(ctx: Context, number, reason: str, request: gr.Request | None) -> str:
    """Close the case as 无法解决 with ``reason``; a confirmation."""
    user = account(ctx, request)
    picked = _number(number)
    with ctx.lock, shown_errors():
        case = _registry(ctx).unsolvable(user, picked, reason)
    return f"登记 {case.number} 已办结：无法解决。"


def report(ctx: Context, month: str, request: gr.Request | None) -> str:
    """The monthly report of ``month`` (``2026-11``) as Markdown."""
    user = acting(ctx, request, "escalations")
    with ctx.lock, shown_errors():
        found = _registry(ctx).report(user, (month or "").strip())
    return f"### {found.month} 月度报告\n\n" + "\n\n".join(plain(line) for line in found.lines())


def _chosen(value: str | None) -> str:
    return "" if value in (None, "", ALL) else str(value).strip()


def build(ctx: Context, opening: Opening) -> None:
    """The page: the escalate form and one's own cases; for the window, the registry, a case's handling
    and the monthly report."""
    with gr.Accordion("转办不成事窗口（窗口答不上、拿不准的问题）", open=True):
        question = gr.Textbox(label="问题", max_lines=3, placeholder="群众要办的事和遇到的问题")
        situation = gr.Textbox(label=SITUATION, lines=2)
        with gr.Row():
            item = gr.Textbox(label="事项（可选）", max_lines=1)
            department = gr.Textbox(label="审批部门（可选）", max_lines=1)
        send = gr.Button("登记转办", variant="primary")
    with gr.Accordion("我转办的问题", open=True):
        own = gr.Dataframe(headers=MINE_HEADERS, datatype="str", interactive=False, wrap=True)
        reload = gr.Button("刷新", size="sm")
    with gr.Column(visible=False) as window:
        gr.Markdown("### 办不成事登记")
        with gr.Row():
            status = gr.Dropdown([ALL, *STATUSES.values()], value=ALL, label="状态", scale=1)
            overdue = gr.Checkbox(label="只看超期未办结", scale=1)
            picker = gr.Dropdown([], value=None, label="选择登记（编号，或点击表格中的一行）", allow_custom_value=True,
                                 scale=1)
        count = gr.Markdown()
        table = gr.Dataframe(headers=REGISTRY_HEADERS, datatype="str", interactive=False, wrap=True)
        shown = gr.Markdown(NOTHING)
        with gr.Accordion("协调", open=True):
            with gr.Row():
                moved = gr.Dropdown(["协调中"], value="协调中", label="改为状态", scale=1)
                sent = gr.Textbox(label="转给部门", max_lines=1, scale=1)
                due = gr.Textbox(label="新期限（可选，如 2026-11-20）", max_lines=1, scale=1)
            note = gr.Textbox(label="处理记录", lines=2, placeholder="联系了哪个部门、对方怎么答复")
            save = gr.Button("保存处理记录")
        with gr.Accordion("办结", open=True):
            solution = gr.Textbox(label="解决方案（提交为疑难案例，审核发布后窗口可直接查到）", lines=3)
            draft_question = gr.Textbox(label="条目问题（预填为登记的问题）", max_lines=2)
            with gr.Row():
                draft_item = gr.Textbox(label="条目事项", max_lines=1)
                draft_department = gr.Textbox(label="条目部门", max_lines=1)
                basis = gr.Textbox(label="依据", max_lines=1, placeholder="文件名/文号，或给出口径的部门和人员")
            solved = gr.Button("已解决：提交解决方案", variant="primary")
            reason = gr.Textbox(label="无法解决的原因（依据和可行的替代途径）", lines=2)
            closed = gr.Button("无法解决：办结", variant="stop")
        with gr.Accordion("月度报告", open=False):
            with gr.Row():
                month = gr.Textbox(label="月份", value=now()[:7], max_lines=1, scale=3)
                compile_report = gr.Button("生成报告", scale=1)
            monthly = gr.Markdown()
    listed = [count, table, picker]
    opened = [shown, draft_question, draft_item, draft_department]

    def relisted(chosen_status, late, request: gr.Request, keep=None):
        """The registry, keeping the case ``keep`` picked while it is still listed."""
        text, rows, ids = listing(ctx, chosen_status, late, request)
        return text, rows, gr.Dropdown(choices=ids, value=str(keep) if str(keep) in ids else None)

    def loaded(chosen_status, late, request: gr.Request):
        user = account(ctx, request)
        if user.role not in ROLES:
            return tuple(gr.skip() for _ in range(5))
        works = user.can("escalations")
        listing_shown = relisted(chosen_status, late, request) if works else tuple(gr.skip() for _ in listed)
        return (mine(ctx, request), gr.Column(visible=works), *listing_shown)

    def on_send(text, about, chosen_item, chosen_department, chosen_status, late, request: gr.Request):
        gr.Info(escalate(ctx, text, about, chosen_item, chosen_department, request))
        return "", "", "", "", *loaded(chosen_status, late, request)

    def after(message, number, chosen_status, late, request: gr.Request):
        gr.Info(message)
        return (*relisted(chosen_status, late, request, number), *detail(ctx, number, request), mine(ctx, request))

    def on_save(number, target, where, when, text, chosen_status, late, request: gr.Request):
        return (*after(update(ctx, number, target, where, when, text, request), number, chosen_status, late,
                       request), "", "", "")

    def on_solve(number, text, asked, chosen_item, chosen_department, given_basis, chosen_status, late,
                 request: gr.Request):
        message = solve(ctx, number, text, asked, chosen_item, chosen_department, given_basis, request)
        return *after(message, number, chosen_status, late, request), "", ""

    def on_close(number, why, chosen_status, late, request: gr.Request):
        return *after(unsolvable(ctx, number, why, request), number, chosen_status, late, request), ""

    def on_report(chosen, request: gr.Request):
        return report(ctx, chosen, request)

    def on_pick(number, request: gr.Request):
        return detail(ctx, number, request)

    def selected(evt: gr.SelectData):
        return evt.row_value[0] if evt.row_value else None

    send.click(on_send, [question, situation, item, department, status, overdue],
               [question, situation, item, department, own, window, *listed], api_name="escalate")
    refreshed = [*listed, *opened, own]
    save.click(on_save, [picker, moved, sent, due, note, status, overdue], [*refreshed, sent, due, note],
               api_name="escalation_update")
    solved.click(on_solve, [picker, solution, draft_question, draft_item, draft_department, basis, status, overdue],
                 [*refreshed, solution, basis], api_name="escalation_solve")
    closed.click(on_close, [picker, reason, status, overdue], [*refreshed, reason], api_name="escalation_unsolvable")
    compile_report.click(on_report, month, monthly, api_name="escalation_report")
    status.input(relisted, [status, overdue], listed, api_visibility="private")
    overdue.input(relisted, [status, overdue], listed, api_visibility="private")
    picker.change(on_pick, picker, opened, api_visibility="private")
    table.select(selected, None, picker, api_visibility="private")
    reload.click(loaded, [status, overdue], [own, window, *listed], api_visibility="private")
    opening.load(loaded, [status, overdue], [own, window, *listed], api_visibility="private")
