"""Lexicon commands: list the domain lexicon, add to it, import a lexicon sheet."""

from __future__ import annotations

from pathlib import Path

import click

from kb.lexicon import KINDS, stored_lines

from .base import cli, data_options, login_options, open_kb, open_reading


@cli.group()
def lexicon():
    """领域词表：群众说法与规范用语（同义词），以及区分相近条目的词（区分词）。组长/培训师、管理员可补充。

    \b
    kb lexicon add 不动产权证书 房产证 房本 --user li
    kb lexicon add --contrast "离职 辞职" "退休" --user li
    kb lexicon add --answer-type "多少钱 交多少钱" "#元 免费" --user li
    kb lexicon import 词表.xlsx --user li
    kb lexicon check "房本丢了怎么补办"
    """


@lexicon.command("list")
@click.option("--mine", is_flag=True, help="只列出本中心补充的词")
@login_options
@data_options
def lexicon_list(settings, mine, login):
    """列出词表：同义词每行一组（第一个是规范用语），区分词用 | 分隔各类。"""
    kb = open_reading(settings, login, "read")
    if mine:
        for kind, line in stored_lines(kb.records.conn):
            click.echo(f"{KINDS[kind]}  {line}")
        return
    lex = kb.tokens.lexicon
    for group in lex.groups:
        click.echo(f"同义词  {' '.join(group)}")
    for i, classes in enumerate(lex.contrasts):
        click.echo(f"区分词  {'证照: ' if i in lex.paper_sets else ''}{' | '.join(' '.join(c) for c in classes)}")


@lexicon.command("check")
@click.argument("question")
@login_options
@data_options
def lexicon_check(settings, question, login):
    """看词表怎样理解一个问题：认出的说法、区分词、问答类型和其余关键词。补充词之后用它核对。"""
    from bot.reading import reading

    kb = open_reading(settings, login, "read")
    for line in reading(kb.tokens, question):
        click.echo(line)


def _report(added: list[str], total: int) -> None:
    for line in added:
        click.echo(f"已补充  {line}")
    click.echo(f"补充 {len(added)} 行，{total - len(added)} 行词表中已有；知识库已按新词表更新关键词索引。")


@lexicon.command("add")
@click.argument("terms", nargs=-1, required=True)
@click.option("--contrast", "kind", flag_value="contrast", help="区分词：每个参数是一类（类内多个词用空格分隔），第一类是默认情形，"
              "第一类前写“证照:”表示只在问题提到证照时才算")
@click.option("--answer-type", "kind", flag_value="answer_type",
              help="问答类型：两个参数，先写问法，再写答复中应有的说法（#单位 表示数字+单位）")
@login_options
@data_options
def lexicon_add(settings, terms, kind, login):
    """补充一组同义词（第一个写规范用语，其余写群众的说法），或一组区分词、一条问答类型。

    \b
    kb lexicon add 不动产权证书 房本 小红本                同义词：与内置的“不动产权证书”一组合并
    kb lexicon add --contrast "首次 第一次" "补领 丢了"        区分词：两类
    kb lexicon add --answer-type "多少钱 收费" "#元 免费"      问答类型：问“多少钱”，答复须有金额或“免费”
    """
    kind = kind or "synonym"
    if kind == "answer_type" and len(terms) != 2:
        raise click.UsageError("--answer-type 需要两个参数：问法、答复中应有的说法，例如 \"多少钱 收费\" \"#元 免费\"。")
    line = {"synonym": " ".join(terms), "contrast": " | ".join(terms), "answer_type": " => ".join(terms)}[kind]
    kb = open_kb(settings)
    added = kb.tokens.add(login(kb.records), [(kind, line)])
    _report(added, 1)


@lexicon.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@login_options
@data_options
def lexicon_import(settings, file, login):
    """从 xlsx/csv 导入词表：“规范用语”“其他说法”两列，或“词语”一列（可加“类型”列：同义词/区分词）。"""
    from ingest.lexicon_sheet import read_lexicon_sheet

    kb = open_kb(settings)
    lines = read_lexicon_sheet(file)
    added = kb.tokens.add(login(kb.records), lines)
    _report(added, len(lines))
