"""Assembles the pages into one gradio app and serves it behind the knowledge base's own login.

Each page is a tab; a tab is shown only to the roles in its page's ``ROLES``, decided on the server
when the page loads from the logged-in account's current role. The handlers check permissions
again on every call, so a hidden tab is not the protection, only the tidiness. The first page fills
itself when the app loads, every other page when its tab is first opened (:mod:`web.opening`).
"""

from __future__ import annotations

import gradio as gr

from kb.errors import AuthenticationFailed
from kb.users import User, Users

from . import (
    account, admin, ask, browse, department, digest, entry, escalations, exams, gaps, lexicon, review, selftest, study,
    training,
)
from .context import Context, plain
from .context import account as logged_in
from .opening import Opening

PAGES = (ask, entry, review, gaps, lexicon, escalations, digest, study, selftest, exams, training, department, browse,
         admin, account)
"""The pages in tab order; a new page is a module with ``TITLE``, ``ROLES`` and ``build(ctx, opening)``, added
here. Every role sees the first, which fills itself as the app loads."""

AUTH_MESSAGE = "窗口知识库：请用管理员为您建立的账号登录。忘记密码请联系管理员重置。"


def build_app(ctx: Context) -> gr.Blocks:
    """The app for ``ctx`` (``ctx.pages`` defaults to :data:`PAGES`), built but not launched."""
    pages = ctx.pages or PAGES
    with gr.Blocks(title="窗口知识库") as app:
        header = gr.Markdown("窗口知识库")
        tabs = []
        with gr.Tabs():
            for number, page in enumerate(pages):
                with gr.Tab(page.TITLE, visible=False) as tab:
                    page.build(ctx, Opening.with_tab(tab) if number else Opening.with_app(app))
                tabs.append(tab)

        def show(request: gr.Request):
            user = logged_in(ctx, request)
            title = f"**窗口知识库**　当前用户：{plain(user.label)}　[退出登录](/logout)"
            return [title, *(gr.Tab(visible=shown) for shown in visible(pages, user))]

        app.load(show, None, [header, *tabs], api_visibility="private")
    return app


def visible(pages, user: User) -> list[bool]:
    """For each page, whether ``user``'s role sees it."""
    return [user.role in page.ROLES for page in pages]


def check_login(ctx: Context, username: str, password: str) -> bool:
    """Whether ``username``/``password`` is an active account of the knowledge base (argon2)."""
    with ctx.lock:
        try:
            Users(ctx.kb.records).authenticate(username, password)
        except AuthenticationFailed:
            return False
    return True


def launch(ctx: Context, app: gr.Blocks, host: str, port: int, block: bool = True) -> gr.Blocks:
    """Serve ``app`` on ``host``:``port`` behind the login; returns at once unless ``block``."""
    app.queue(api_open=False)
    app.launch(server_name=host, server_port=port, auth=lambda u, p: check_login(ctx, u, p),
               auth_message=AUTH_MESSAGE, prevent_thread_lock=not block, ssr_mode=False, quiet=not block)
    return app
