"""Browsing commands: kb list (entries and documents, filtered, page by page) and kb show-doc."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from kb.catalog import MAX_PAGE_SIZE, PAGE_SIZE, PUBLISHED_STANDINGS, STANDINGS, Catalog
from kb.errors import EmptyKnowledgeBase
from kb.records import RECORDS_FILE

from .base import cli, data_options, filter_options, login_options, read_records

KINDS = {"entry": "条目", "document": "文档"}


def _reading(settings, login, permission: str):
    """:func:`read_records` for a read needing ``permission`` (use it in a ``with``); a missing
    knowledge base is not created."""
    if not Path(settings.data_dir).is_dir():
        raise EmptyKnowledgeBase(settings.data_dir, missing=True)
    if not (Path(settings.data_dir) / RECORDS_FILE).is_file():
        raise EmptyKnowledgeBase(settings.data_dir, missing=False)
    return read_records(settings, login, permission)


@cli.command("list")
@click.argument("text", required=False, default="")
@click.option("--status", "standing", type=click.Choice(list(STANDINGS)), default=None,
              help="按状态过滤：" + "、".join(f"{k}={v}" for k, v in STANDINGS.items())
              + "；已发布以外的状态需组长/培训师或管理员")
@click.option("--drafts", is_flag=True, help="也列出待审核、已退回、已合并和已删除的条目（组长/培训师、管理员）")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True, help="页码")
@click.option("--page-size", type=click.IntRange(1, MAX_PAGE_SIZE), default=PAGE_SIZE, show_default=True,
              help="每页条数")
@click.option("--json", "as_json", is_flag=True, help="每行输出一个 JSON 对象，最后一行是页码信息")
@filter_options
@login_options
@data_options
def list_(settings, text, standing, drafts, page, page_size, as_json, filters, login):
    """按条件列出知识库中的条目和文档（日期新的在前），分页显示。TEXT 为问题、答复、标题或编号中的文字。
    已建立账号的知识库需登录；未发布的内容需组长/培训师或管理员。

    \b
    kb list --item 公积金提取 --kind entry
    kb list 居住证 --date-from 2026-11-01 --page 2
    kb list --status draft --user zuzhang
    """
    drafts = drafts or bool(standing and standing not in PUBLISHED_STANDINGS)
    with _reading(settings, login, "drafts" if drafts else "read") as records:
        found = Catalog(records).list(text, filters, standing or "", drafts, page, page_size)
    if as_json:
        for row in found.rows:
            click.echo(json.dumps({**asdict(row), "standing_label": row.standing_label}, ensure_ascii=False))
        click.echo(json.dumps({"page": found.page, "pages": found.pages, "total": found.total,
                               "page_size": found.page_size}, ensure_ascii=False))
        return
    for r in found.rows:
        version = f"第{r.version}版" if r.kind == "entry" else "—"
        click.echo(f"{KINDS[r.kind]}  {r.id}  {r.date or '日期不详'}  {r.standing_label}  {version}  "
                   f"{r.item or '—'}  {r.department or '—'}  {r.title}")
    click.echo(f"第 {found.page}/{found.pages} 页，共 {found.total} 条")


@cli.command("show-doc")
@click.argument("doc_id")
@login_options
@data_options
def show_doc(settings, doc_id, login):
    """显示一篇文档：来源文件、日期、部门和按原文顺序的全部段落。"""
    with _reading(settings, login, "read") as records:
        view = Catalog(records).document(doc_id)
    d = view.document
    click.echo(f"{d.title}  （编号 {d.id}）")
    click.echo(f"来源文件：{'；'.join(view.files) or d.source or '不详'}")
    click.echo(f"日期：{d.date or '不详'}  部门：{d.department or '不详'}  事项：{d.item or '不详'}")
    for passage in view.passages:
        where = f"〔{passage.context}〕" if passage.context else ""
        click.echo(f"\n[{passage.position + 1}] {where}\n{passage.text}")
