"""kb serve: the web UI (gradio), behind the knowledge base's own accounts."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from types import SimpleNamespace

import click

from kb.errors import KBError
from kb.records import RECORDS_FILE
from kb.scopes import Scopes
from kb.users import LOCAL_ADMIN, ROLES, Users

from .base import cli, data_options, open_kb, open_records

DEMO_DIR = Path("demo-data")
DEMO_ACCOUNTS = (("admin", "admin", "王主任", "demo-admin-2026"),
                 ("reviewer", "reviewer", "李组长", "demo-reviewer-2026"),
                 ("staff", "staff", "张三", "demo-staff-2026"),
                 ("bumen", "department", "市公安局出入境管理支队", "demo-bumen-2026"))
"""(username, role, display name, password) of the demo accounts; the passwords are public. The
审批部门 account is given the 事项 of its department's entries in the sample."""

_FIRST_ADMIN = ("请先创建第一个管理员账号：kb user add admin --role 管理员（知识库在别的目录时加 --data-dir），"
                "再用它添加其他人员；或运行 kb serve --demo 用内置示例知识库和示例账号体验。")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this computer only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def has_accounts(settings) -> bool:
    """Whether the knowledge base of ``settings`` has accounts (a missing one has none; nothing is created)."""
    if not (Path(settings.data_dir) / RECORDS_FILE).is_file():
        return False
    with open_records(settings) as records:
        return Users(records).count() > 0


def demo_kb(settings):
    """The sample knowledge base in ./demo-data, with the demo accounts (created on first use)."""
    from .knowledge import build_demo

    settings = SimpleNamespace(**{**vars(settings), "data_dir": str(DEMO_DIR)})
    if has_accounts(settings):
        return settings, open_kb(settings)
    kb = build_demo(settings)
    users = Users(kb.records)
    admin = LOCAL_ADMIN
    for username, role, name, password in DEMO_ACCOUNTS:
        created = users.add(admin, username, password, role, name)
        admin = created if role == "admin" else admin
        if role == "department":
            owned = kb.records.entries_where("department = ? AND item != ''", (name,))
            Scopes(kb.records).set(admin, username, [entry.item for entry, _ in owned])
    return settings, kb


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="监听地址；0.0.0.0 让局域网内的其他电脑访问（需已建立账号）")
@click.option("--port", type=int, default=7860, show_default=True, help="端口")
@click.option("--demo", is_flag=True, help="用内置示例知识库（./demo-data）和示例账号，只能在本机地址上使用")
@data_options
def serve(settings, host, port, demo):
    """启动网页界面（窗口问答、每日登记、审核、每日汇总、知识库、管理、账号），用知识库的账号登录，按角色显示页面。

    网页界面总是需要登录：知识库还没有账号时不启动（无论监听哪个地址），
    请先用 kb user add 创建第一个管理员，或用 --demo 体验示例知识库。

    \b
    kb serve --demo                 示例知识库，示例账号在启动时列出
    kb serve --host 0.0.0.0 --port 8080 --data-dir /srv/kb
    """
    if demo and not is_loopback(host):
        raise KBError(f"--demo 的示例账号密码是公开的，只能在本机地址（如 127.0.0.1）上使用，不能监听 {host}。")
    if demo:
        settings, kb = demo_kb(settings)
    elif not has_accounts(settings):
        where = "" if is_loopback(host) else f"不能在 {host} 上启动网页界面：任何能访问该地址的人都将不受限制。"
        raise KBError(f"知识库 {settings.data_dir} 还没有账号，网页界面必须登录。{where}{_FIRST_ADMIN}")
    else:
        kb = open_kb(settings)
    from web.app import build_app, launch
    from web.context import Context

    from .llm_mode import open_llm

    ctx = Context(kb, settings, llm=open_llm(None, settings))
    if ctx.llm is not None:
        click.echo(f"窗口问答用大模型 {settings.llm_model}（{settings.llm_base_url}）组织回答；不可用时自动改用离线回答。")
    click.echo(f"窗口知识库网页界面：http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/")
    if demo:
        click.echo("示例账号（仅供本机体验；在网页上改过密码的，以新密码为准）：")
        for username, role, name, password in DEMO_ACCOUNTS:
            click.echo(f"  {username:<10} 密码 {password:<20} {name}（{ROLES[role]}）")
    launch(ctx, build_app(ctx), host, port)
