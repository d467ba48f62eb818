"""Feedback and knowledge-gap commands: rate an answer, list the gap queue, turn a gap into a draft."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kb.config import load_settings
from kb.feedback import rate

from .base import cli, data_options, login_options, open_kb, open_reading, read_records

if TYPE_CHECKING:
    from kb.gaps import Gap, GapQueue


@cli.command()
@click.argument("log_id", type=int)
@click.option("--useful/--useless", "useful", required=True, help="有用 / 没用")
@click.option("--reason", default="", help="原因（可选），例如“答非所问”“口径已过时”")
@click.option("--correct", default="", help="正确的答复（可选），组长起草条目时可直接采用")
@login_options
@data_options
def feedback(settings, log_id, useful, reason, correct, login):
    """评价一条回答（kb ask 显示的记录编号），只能评价自己提的问题。评为没用的回答进入知识缺口队列。

    \b
    kb feedback 12 --useless --reason "没有答案" --correct "持身份证到车管所换证"
    """
    with read_records(settings, login, "read") as records, records.transaction(changes_index=False) as conn:
        rating = rate(conn, login.reader.username, log_id, useful, reason, correct)
    click.echo(f"已记录：问答 {log_id} 评为“{rating.label}”。")


def _line(gap: Gap) -> str:
    from kb.gaps import STATUSES

    entry = f"  → {gap.entry_id}" if gap.entry_id else ""
    return (f"{gap.id:>4}  {STATUSES[gap.status]}  {len(gap.questions)} 次（待处理 {gap.live}）  最近 {gap.last_at}  "
            f"热度 {gap.score:.2f}  {gap.typical}{entry}")


def _queue(settings, login) -> GapQueue:
    from kb.gaps import GapQueue

    return GapQueue(open_reading(settings, login, "gaps"), load_settings().min_confidence)


@cli.group(invoke_without_command=True)
@click.option("--all", "resolved", is_flag=True, help="也列出已解决的缺口")
@login_options
@data_options
@click.pass_context
def gaps(click_ctx, settings, resolved, login):
    """知识缺口：被拒答、低置信度或被评为没用的问题，按意思归组，按次数和新近程度排序（组长/培训师、管理员）。

    \b
    kb gaps                         列出待处理的缺口
    kb gaps show 3                  一个缺口的全部问法和评价
    kb gaps draft 3 --correction 1  用第 1 条反馈的正确答复起草条目（进入正常审核）
    """
    if click_ctx.invoked_subcommand:
        return
    queue = _queue(settings, login)
    found = queue.groups(login.reader, resolved=resolved)
    click.echo("编号  状态  提问次数  最近提问  热度  典型问法")
    for gap in found:
        click.echo(_line(gap))
    click.echo(f"共 {len(found)} 个知识缺口。")


@gaps.command("show")
@click.argument("gap_id", type=int)
@login_options
@data_options
def gaps_show(settings, gap_id, login):
    """一个缺口的全部问题（最新的在前）、评价，以及反馈中给出的正确答复。"""
    from kb.gaps import REASONS

    gap = _queue(settings, login).group(login.reader, gap_id)
    click.echo(_line(gap))
    for q in gap.questions:
        rated = f"  评价：{q.rating.label}" + (f"，{q.rating.reason}" if q.rating.reason else "") if q.rating else ""
        click.echo(f"  {q.asked.at}  {q.asked.user}  {REASONS[q.why]}  置信度 {q.asked.confidence:.2f}  "
                   f"{q.asked.question}{rated}")
    for number, text in enumerate(gap.corrections, 1):
        click.echo(f"正确答复 {number}：{text}")


@gaps.command("draft")
@click.argument("gap_id", type=int)
@click.option("--answer", default="", help="条目的答复")
@click.option("--correction", type=int, default=0, help="采用反馈中的第几条正确答复（见 kb gaps show）")
@click.option("--question", default="", help="条目的问题，默认用该缺口的典型问法")
@click.option("--item", default="", help="事项")
@click.option("--department", default="", help="部门")
@click.option("--basis", default="", help="依据")
@login_options
@data_options
def gaps_draft(settings, gap_id, answer, correction, question, item, department, basis, login):
    """把一个缺口生成待审核的草稿条目：问题预填为典型问法，其他问法作为相似问法（组长/培训师、管理员）。"""
    from kb.gaps import GapQueue

    kb = open_kb(settings)
    queue = GapQueue(kb, load_settings().min_confidence)
    actor = login(kb.records)
    if correction:
        offered = queue.group(actor, gap_id).corrections
        if not 1 <= correction <= len(offered):
            raise click.UsageError(f"缺口 {gap_id} 的反馈中有 {len(offered)} 条正确答复，--correction 应在 1 到 "
                                   f"{len(offered)} 之间（见 kb gaps show {gap_id}）。")
        answer = answer or offered[correction - 1]
    if not answer.strip():
        raise click.UsageError("请用 --answer 写出答复，或用 --correction 采用反馈中的正确答复。")
    submitted = queue.draft(actor, gap_id, answer, question, item, department, basis)
    if submitted.status == "duplicate":
        click.echo(f"已有完全相同的条目 {submitted.entry_id}，未重复存储；缺口 {gap_id} 关联到该条目。")
        return
    click.echo(f"已生成草稿 {submitted.entry_id}（待审核），缺口 {gap_id} 标记为已起草。"
               f"审核：kb review approve {submitted.entry_id}")
    if submitted.duplicate_of:
        click.secho(f"可能与已发布的 {submitted.duplicate_of} 重复，审核人会决定合并或保留。", fg="yellow")
