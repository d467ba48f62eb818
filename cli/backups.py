"""`kb restore-backup`: replace the records with a backup made by `kb backup`, then rebuild the indexes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kb.users import authorize

from .base import cli, data_options, login_options, open_kb, open_records


@cli.command("restore-backup")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="不再询问确认")
@login_options
@data_options
def restore_backup(settings, file, yes, login):
    """用 kb backup 的备份文件替换当前的全部记录（条目、版本历史、审计日志、账号、词表），再重建索引（管理员）。

    先检查备份文件，不是知识库备份时什么都不改；恢复前把当前记录自动备份到 数据目录/backups/。

    恢复单个已删除的条目请用 kb restore 编号。

    \b
    kb restore-backup 知识库备份-20261130.sqlite3 --user admin
    """
    from kb.backups import check_backup, restore

    with open_records(settings) as records:
        actor = authorize(records, login(records), "import")
        summary = check_backup(file)
        if not yes:
            click.confirm(f"将用 {file}（{summary.describe()}）替换当前的全部记录，继续吗？", abort=True, err=True)
        restored = restore(records, file, actor)
    click.echo(f"已从 {file} 恢复（{restored.summary.describe()}）；恢复前的记录已备份到 {restored.safety}。")
    kb = open_kb(settings)
    with click.progressbar(length=kb.records.counts()["chunks"], label="重建索引", file=sys.stderr) as bar:
        count = kb.reindex(on_embedded=lambda chunks, _: bar.update(chunks))
    click.echo(f"已重建 {count} 个分块的索引。")
