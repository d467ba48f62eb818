"""Account commands: kb user add / list / passwd / set / disable / enable / scope."""

from __future__ import annotations

import click

from kb.accounts import Accounts
from kb.scopes import Scopes
from kb.users import ROLES, Users, parse_role

from .base import cli, data_options, login_options, open_records, read_records


@cli.group()
def user():
    """账号管理：add / list / passwd / set / disable / enable / scope。第一个账号必须是管理员；此后操作需用 --user 登录。"""


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, help=f"角色：{'、'.join(ROLES.values())}（或 {'/'.join(ROLES)}）")
@click.option("--name", "display_name", default="", help="姓名")
@click.option("--group", default="", help="所属窗口组")
@click.password_option("--password", envvar="KB_NEW_PASSWORD", help="新账号的密码（至少 8 位）[KB_NEW_PASSWORD]")
@login_options
@data_options
def user_add(settings, username, role, display_name, group, password, login):
    """新增账号（管理员；知识库还没有账号时可直接建第一个管理员）。

    \b
    kb user add admin --role 管理员
    kb user add zhang --role 窗口人员 --name 张三 --group 综合一组 --user admin
    """
    with open_records(settings) as records:
        created = Users(records).add(login(records), username, password, parse_role(role), display_name, group)
    click.echo(f"已新增账号 {created.username}：{created.label}")


@user.command("list")
@login_options
@data_options
def user_list(settings, login):
    """列出全部账号及其状态（在用 / 已停用；不显示密码；管理员）。"""
    with read_records(settings, login, "users") as records:
        accounts = Accounts(Users(records)).list()
    for a in accounts:
        u = a.user
        click.echo(f"{u.username:<16} {ROLES[u.role]:<8} {u.display_name or '—':<8} {u.group or '—':<10} "
                   f"{a.state:<4} {a.created_at[:10]}")
    stopped = sum(not a.active for a in accounts)
    click.echo(f"共 {len(accounts)} 个账号" + (f"，其中 {stopped} 个已停用。" if stopped else "。"))


@user.command("passwd")
@click.argument("username")
@click.password_option("--new-password", envvar="KB_NEW_PASSWORD", help="新密码（至少 8 位）[KB_NEW_PASSWORD]")
@login_options
@data_options
def user_passwd(settings, username, new_password, login):
    """修改密码（本人或管理员）。"""
    with open_records(settings) as records:
        Users(records).set_password(login(records), username, new_password)
    click.echo(f"已修改 {username} 的密码。")


@user.command("set")
@click.argument("username")
@click.option("--role", default=None, help=f"新角色：{'、'.join(ROLES.values())}（或 {'/'.join(ROLES)}）")
@click.option("--name", "display_name", default=None, help="新姓名")
@click.option("--group", default=None, help="新的所属窗口组（空字符串表示不属于任何组）")
@login_options
@data_options
def user_set(settings, username, role, display_name, group, login):
    """修改账号的角色、姓名或所属组（管理员）。不能把最后一个在用的管理员改为其他角色。

    \b
    kb user set zhang --role 组长 --user admin
    kb user set zhang --group 综合二组 --name 张三丰 --user admin
    """
    if role is None and display_name is None and group is None:
        raise click.UsageError("请至少给出 --role、--name 或 --group 中的一项。")
    with open_records(settings) as records:
        accounts = Accounts(Users(records))
        before = accounts.get(username)
        changed = accounts.change(login(records), username, role, display_name, group)
    if before is not None and changed == before.user:
        click.echo(f"{username} 的账号信息没有变化。")
        return
    click.echo(f"已修改账号 {username}：{changed.label}，组：{changed.group or '—'}")


@user.command("disable")
@click.argument("username")
@click.option("--reason", default="", help="停用理由（记入审计日志）")
@login_options
@data_options
def user_disable(settings, username, reason, login):
    """停用账号：不能再登录，历史记录保留（管理员）。不能停用最后一个在用的管理员。"""
    with open_records(settings) as records:
        Accounts(Users(records)).disable(login(records), username, reason)
    click.echo(f"已停用账号 {username}，它不能再登录；需要时可用 `kb user enable {username}` 重新启用。")


@user.command("enable")
@click.argument("username")
@click.option("--reason", default="", help="启用理由（记入审计日志）")
@login_options
@data_options
def user_enable(settings, username, reason, login):
    """重新启用已停用的账号（管理员）。"""
    with open_records(settings) as records:
        Accounts(Users(records)).enable(login(records), username, reason)
    click.echo(f"已重新启用账号 {username}。")


@user.command("scope")
@click.argument("username")
@click.option("--item", "items", multiple=True, help="该审批部门负责的事项（可重复；给出即替换原有设置）")
@login_options
@data_options
def user_scope(settings, username, items, login):
    """查看或设置审批部门账号负责的事项（管理员）：部门只能为这些事项出题、审定试卷、阅卷和查看成绩。

    \b
    kb user scope gaj --item 居住证 --item 普通护照 --user admin
    kb user scope gaj --user admin
    """
    if not items:
        with read_records(settings, login, "users") as records:
            found = Scopes(records).stored(username)
        click.echo(f"{username} 负责的事项：{'、'.join(found) or '（未设置）'}")
        return
    with open_records(settings) as records:
        found = Scopes(records).set(login(records), username, list(items))
    click.echo(f"已设置 {username} 负责的事项：{'、'.join(found)}")
