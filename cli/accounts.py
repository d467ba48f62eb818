"""Account commands: kb user add / list / passwd."""

from __future__ import annotations

import click

from kb.users import ROLES, Users, parse_role

from .base import cli, data_options, login_options, open_records, read_records


@cli.group()
def user():
    """账号管理：add / list / passwd。第一个账号必须是管理员；此后操作需用 --user 登录。"""


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
    records = open_records(settings)
    users = Users(records)
    created = users.add(login(records), username, password, parse_role(role), display_name, group)
    click.echo(f"已新增账号 {created.username}：{created.label}")


@user.command("list")
@login_options
@data_options
def user_list(settings, login):
    """列出账号（不显示密码；管理员）。"""
    users = Users(read_records(settings, login, "users")).list()
    for u in users:
        click.echo(f"{u.username:<16} {ROLES[u.role]:<8} {u.display_name or '—':<8} {u.group or '—'}")
    click.echo(f"共 {len(users)} 个账号。")


@user.command("passwd")
@click.argument("username")
@click.password_option("--new-password", envvar="KB_NEW_PASSWORD", help="新密码（至少 8 位）[KB_NEW_PASSWORD]")
@login_options
@data_options
def user_passwd(settings, username, new_password, login):
    """修改密码（本人或管理员）。"""
    records = open_records(settings)
    Users(records).set_password(login(records), username, new_password)
    click.echo(f"已修改 {username} 的密码。")
