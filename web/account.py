"""账号: every user changes their own password here (the current one is asked again first)."""

from __future__ import annotations

import gradio as gr

from kb.errors import AuthenticationFailed
from kb.users import Users

from .context import Context, account, shown_errors
from .opening import Opening

TITLE = "账号"
ROLES = frozenset({"staff", "reviewer", "admin", "department"})


def change_password(ctx: Context, current: str, new: str, repeated: str, request: gr.Request) -> str:
    """Change the logged-in user's own password; returns a Chinese confirmation."""
    user = account(ctx, request)
    if new != repeated:
        raise gr.Error("两次输入的新密码不一致，请重新输入。", title="未修改")
    with ctx.lock, shown_errors():
        users = Users(ctx.kb.records)
        try:
            users.authenticate(user.username, current or "")
        except AuthenticationFailed:
            raise gr.Error("当前密码不正确，请重新输入；忘记密码请联系管理员重置。", title="未修改") from None
        users.set_password(user, user.username, new or "")
    return f"已修改 {user.username} 的密码，下次登录请用新密码。"


def build(ctx: Context, opening: Opening) -> None:
    """The password form."""
    gr.Markdown("### 修改密码")
    current = gr.Textbox(label="当前密码", type="password")
    new = gr.Textbox(label="新密码（至少 8 位）", type="password")
    repeated = gr.Textbox(label="再次输入新密码", type="password")
    button = gr.Button("修改密码", variant="primary")
    result = gr.Textbox(label="结果", interactive=False)

    def submit(current_password, new_password, repeated_password, request: gr.Request):
        return change_password(ctx, current_password, new_password, repeated_password, request), "", "", ""

    button.click(submit, [current, new, repeated], [result, current, new, repeated], api_name="change_password")
