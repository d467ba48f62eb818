"""What every page shares: the context object, the logged-in user of a request, errors and escaping.

The user always comes from the request's server-side session (``request.username``, set by the
login), never from a component value, so calling a page's API cannot act as someone else. The
account is then checked with the same functions the CLI uses (:func:`kb.users.admit`), so a role
that may not do something is refused here as it is on the command line.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import TYPE_CHECKING

import gradio as gr

from kb.errors import IngestError, KBError
from kb.users import User, Users, admit

if TYPE_CHECKING:
    from bot.llm import LLM
    from kb import KnowledgeBase

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")


@dataclass
class Context:
    """The app's state, passed to every page: the knowledge base, the settings (as from
    :func:`kb.config.load_settings`) and the page modules. ``lock`` serialises use of the knowledge
    base's one SQLite connection by handlers running in gradio's worker threads."""

    kb: KnowledgeBase
    settings: SimpleNamespace
    pages: tuple[ModuleType, ...] = ()
    lock: threading.RLock = field(default_factory=threading.RLock)
    llm: LLM | None = None
    """The chat model answering at the counter (:mod:`bot.llm`), or None to answer offline."""


@contextmanager
def shown_errors() -> Iterator[None]:
    """Turn the library's user-facing errors into ``gr.Error`` with their Chinese message."""
    try:
        yield
    except KBError as exc:
        raise gr.Error(str(exc), title="操作未完成") from exc


@contextmanager
def read_upload(what: str, path: Path, title: str) -> Iterator[None]:
    """Turn a file that cannot be read into ``gr.Error`` naming the upload ``what``(登记表, 成绩表 …)by its own
    name, not the server's temporary path that the library's message starts with."""
    try:
        yield
    except IngestError as exc:
        raise gr.Error(f"{what}“{path.name}”无法读取：{exc.reason}", title=title) from exc


def account(ctx: Context, request: gr.Request | None) -> User:
    """The logged-in account of ``request`` as stored now (its current role); ``gr.Error`` if none."""
    name = getattr(request, "username", None)
    if not name:
        raise gr.Error("请先登录：网页界面需要用知识库的账号登录。", title="未登录")
    with ctx.lock:
        user = Users(ctx.kb.records).get(name)
    if user is None:
        raise gr.Error(f"账号“{name}”不存在或已停用，请退出后用有效账号重新登录。", title="未登录")
    return user


def acting(ctx: Context, request: gr.Request | None, permission: str) -> User:
    """The logged-in account, admitted to ``permission`` (a key of :data:`kb.users.PERMISSIONS`)."""
    user = account(ctx, request)
    with ctx.lock, shown_errors():
        return admit(ctx.kb.records, user, permission)


def plain(text: str) -> str:
    """``text`` for a Markdown component, shown exactly as typed: HTML tags and Markdown syntax
    (links, emphasis, headings) become literal characters, never markup."""
    return html.escape(_MARKDOWN.sub(r"\\\1", text), quote=False)
