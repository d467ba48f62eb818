"""账号管理: the table of every account, adding one, changing its role, 组 and name (and a 审批部门's
负责事项, :mod:`kb.scopes`), resetting its password, and disabling or re-enabling it.

Every handler first admits the logged-in account to ``users`` (:func:`web.context.acting`), then
acts through :class:`kb.users.Users` and :class:`kb.accounts.Accounts` as that account, whose own
checks apply again (the last active admin is kept). The account table is a ``gr.Dataframe``, which
shows stored names as plain text.
"""

from __future__ import annotations

import re

import gradio as gr

from kb.accounts import Accounts
from kb.scopes import Scopes
from kb.users import MIN_PASSWORD, ROLES, Users

from ..context import Context, account, acting, shown_errors
from ..opening import Opening

TITLE = "账号管理"
HEADERS = ["用户名", "姓名", "角色", "组", "状态", "建立时间"]
ROLE_CHOICES = [(name, key) for key, name in ROLES.items()]
NOTHING = "请先在“选择账号”中选一个账号（或点击表格中的一行）。"


def listing(ctx: Context, request: gr.Request | None) -> list[list[str]]:
    """Every account as table rows (用户名, 姓名, 角色, 组, 状态, 建立时间), for an admin."""
    acting(ctx, request, "users")
    with ctx.lock:
        found = Accounts(Users(ctx.kb.records)).list()
    return [[a.user.username, a.user.display_name, ROLES[a.user.role], a.user.group, a.state,
             a.created_at[:16].replace("T", " ")] for a in found]


def details(ctx: Context, username: str | None, request: gr.Request | None) -> tuple[str, str, str, str, str]:
    """The picked account's 姓名, role key, 组, state and (a department's) 负责事项, to fill the edit form."""
    acting(ctx, request, "users")
    if not username:
        return "", "staff", "", "", ""
    with ctx.lock:
        found = Accounts(Users(ctx.kb.records)).get(username)
        items = Scopes(ctx.kb.records).stored(username)
    if found is None:
        raise gr.Error(f"账号“{username}”不存在，请从列表中选择。", title="未找到账号")
    return found.user.display_name, found.user.role, found.user.group, f"当前状态：{found.state}", "、".join(items)


def add_account(ctx: Context, username: str, display_name: str, role: str, group: str, password: str,
                request: gr.Request | None) -> str:
    """Create an account as the logged-in admin; returns a Chinese confirmation."""
    user = acting(ctx, request, "users")
    with ctx.lock, shown_errors():
        created = Users(ctx.kb.records).add(user, (username or "").strip(), password or "", role or "",
                                            display_name or "", group or "")
    return f"已新增账号 {created.username}：{created.label}。请把初始密码告知本人，并提醒登录后在“账号”页修改。"


def edit_account(ctx: Context, username: str | None, display_name: str, role: str, group: str,
                 request: gr.Request | None, items: str = "") -> str:
    """Set the picked account's 姓名, role and 组 (and a department's 负责事项, separated by 、 ， , or spaces)
    as the logged-in admin; returns a Chinese confirmation."""
    user = acting(ctx, request, "users")
    username = _picked(username)
    wanted = [i for i in re.split(r"[、，,;；\s]+", items or "") if i]
    if wanted and role != "department":
        raise gr.Error("只有审批部门账号需要填写负责事项；其他角色请清空该栏。", title="负责事项")
    if role == "department" and not wanted:
        raise gr.Error("审批部门账号请在“负责事项”中填写它负责的事项（用顿号分隔），它只能看到这些事项的题目和成绩。",
                       title="负责事项")
    with ctx.lock, shown_errors():
        accounts = Accounts(Users(ctx.kb.records))
        before = accounts.get(username)
        changed = accounts.change(user, username, role or None, display_name or "", group or "")
        scopes = Scopes(ctx.kb.records)
        scope = scopes.set(user, username, wanted) if role == "department" else []
    if before is not None and changed == before.user and not scope:
        return f"{username} 的账号信息没有变化。"
    return (f"已修改账号 {username}：{changed.label}，组：{changed.group or '—'}"
            + (f"，负责事项：{'、'.join(scope)}" if scope else "") + "。")


def reset_password(ctx: Context, username: str | None, password: str, request: gr.Request | None) -> str:
    """Give the picked account a new password as the logged-in admin; returns a Chinese confirmation."""
    user = acting(ctx, request, "users")
    username = _picked(username)
    with ctx.lock, shown_errors():
        Users(ctx.kb.records).set_password(user, username, password or "")
    return f"已重置 {username} 的密码。请把新密码告知本人，并提醒登录后在“账号”页修改。"


def set_active(ctx: Context, username: str | None, active: bool, reason: str, request: gr.Request | None) -> str:
    """Disable (``active`` false) or re-enable the picked account as the logged-in admin."""
    user = acting(ctx, request, "users")
    username = _picked(username)
    with ctx.lock, shown_errors():
        accounts = Accounts(Users(ctx.kb.records))
        if active:
            accounts.enable(user, username, reason or "")
        else:
            accounts.disable(user, username, reason or "")
    return f"已重新启用账号 {username}。" if active else f"已停用账号 {username}，它不能再登录。"


def _picked(username: str | None) -> str:
    if not username:
        raise gr.Error(NOTHING, title="未操作")
    return username


def build(ctx: Context, opening: Opening) -> None:
    """The section: the account table, the add form, and the changes to the picked account."""
    table = gr.Dataframe(headers=HEADERS, datatype="str", interactive=False, wrap=True, label="全部账号")
    with gr.Accordion("新增账号", open=False):
        with gr.Row():
            new_name = gr.Textbox(label="用户名", placeholder="工号或姓名拼音，不含空格", max_lines=1)
            new_display = gr.Textbox(label="姓名", max_lines=1)
            new_role = gr.Dropdown(ROLE_CHOICES, value="staff", label="角色")
            new_group = gr.Textbox(label="组", placeholder="所属窗口组，可留空", max_lines=1)
        new_password = gr.Textbox(label=f"初始密码（至少 {MIN_PASSWORD} 位）", type="password", max_lines=1)
        add_button = gr.Button("新增账号", variant="primary")
    gr.Markdown("### 修改账号")
    with gr.Row():
        picker = gr.Dropdown([], value=None, label="选择账号（用户名，或点击表格中的一行）", scale=1)
        state = gr.Markdown()
    with gr.Row():
        display = gr.Textbox(label="姓名", max_lines=1)
        role = gr.Dropdown(ROLE_CHOICES, value="staff", label="角色")
        group = gr.Textbox(label="组", max_lines=1)
        items = gr.Textbox(label="负责事项（仅审批部门，用顿号分隔）", max_lines=1)
        save_button = gr.Button("保存修改", variant="primary")
    with gr.Row():
        password = gr.Textbox(label=f"新密码（至少 {MIN_PASSWORD} 位）", type="password", max_lines=1, scale=3)
        reset_button = gr.Button("重置密码", scale=1)
    with gr.Row():
        reason = gr.Textbox(label="停用或启用的理由（记入审计日志，可留空）", max_lines=1, scale=3)
        disable_button = gr.Button("停用账号", variant="stop", scale=1)
        enable_button = gr.Button("重新启用", scale=1)
    form = [display, role, group, state, items]

    def refreshed(request: gr.Request, chosen=None):
        rows = listing(ctx, request)
        names = [r[0] for r in rows]
        return rows, gr.Dropdown(choices=names, value=chosen if chosen in names else None)

    def loaded(request: gr.Request):
        """The table when the section opens; nothing for a role that does not see the 管理 page."""
        if not account(ctx, request).can("users"):
            return gr.skip(), gr.skip()
        return refreshed(request)

    def show(username, request: gr.Request):
        return details(ctx, username, request)

    def selected(evt: gr.SelectData):
        return evt.row_value[0] if evt.row_value else None

    def on_add(username, name, chosen_role, chosen_group, initial, request: gr.Request):
        gr.Info(add_account(ctx, username, name, chosen_role, chosen_group, initial, request))
        return (*refreshed(request, (username or "").strip()), "", "", "staff", "", "")

    def on_save(username, name, chosen_role, chosen_group, chosen_items, request: gr.Request):
        gr.Info(edit_account(ctx, username, name, chosen_role, chosen_group, request, chosen_items))
        return refreshed(request, username)

    def on_reset(username, new_password, request: gr.Request):
        gr.Info(reset_password(ctx, username, new_password, request))
        return ""

    def on_state(active):
        def handler(username, text, request: gr.Request):
            gr.Info(set_active(ctx, username, active, text, request))
            return (*refreshed(request, username), "", *details(ctx, username, request))
        return handler

    listed = [table, picker]
    add_button.click(on_add, [new_name, new_display, new_role, new_group, new_password],
                     [*listed, new_name, new_display, new_role, new_group, new_password], api_name="add_account")
    save_button.click(on_save, [picker, display, role, group, items], listed, api_name="edit_account")
    reset_button.click(on_reset, [picker, password], password, api_name="reset_password")
    disable_button.click(on_state(False), [picker, reason], [*listed, reason, *form], api_name="disable_account")
    enable_button.click(on_state(True), [picker, reason], [*listed, reason, *form], api_name="enable_account")
    picker.change(show, picker, form, api_visibility="private")
    table.select(selected, None, picker, api_visibility="private")
    opening.load(loaded, None, listed, api_visibility="private")
