"""办不成事 commands: escalate a question the counter could not answer, and work the window's registry."""

from __future__ import annotations

import click

from kb.escalations import Case, Escalations
from kb.records import now
from kb.users import authorize

from .base import DATE, cli, data_options, login_options, open_kb, open_records, read_records

SITUATION_HELP = "群众的具体情况（不要写身份证号、手机号等个人信息；写了也会自动隐去）"


def _line(case: Case, today: str) -> str:
    late = "  【超期】" if case.overdue(today) else ""
    return (f"{case.number:>4}  {case.label}  期限 {case.due}{late}  事项 {case.item or '—'}  "
            f"部门 {case.department or '—'}  经办 {case.owner_label}  {case.question}")


def _show(case: Case) -> None:
    click.echo(_line(case, now()[:10]))
    for line in case.details():
        click.echo(f"  {line}")
    for event in case.events:
        text = "；".join(part for part in (event.detail, event.note) if part)
        click.echo(f"  {event.at.replace('T', ' ')}  {event.actor}  {text}")


@cli.command()
@click.argument("question", required=False, default="")
@click.option("--situation", default="", help=SITUATION_HELP)
@click.option("--item", default="", help="事项")
@click.option("--department", default="", help="要协调的审批部门")
@click.option("--ask", "ask_id", type=int, default=0, help="kb ask 显示的记录编号：问题取自这条问答")
@login_options
@data_options
def escalate(settings, question, situation, item, department, ask_id, login):
    """把窗口答不上或拿不准的问题转到“办不成事”反映窗口登记（所有账号）。3 个工作日内答复。

    \b
    kb escalate --ask 12 --situation "外省户籍，社保在本市缴满 6 个月"
    kb escalate "外省退休人员能否在本市办理居住证" --item 居住证 --department 市公安局
    """
    if not (question or ask_id):
        raise click.UsageError("请写出问题，或用 --ask 给出 kb ask 显示的记录编号。")
    with open_records(settings) as records:
        case = Escalations(records).escalate(login(records), question, situation, item, department, ask_id)
    click.echo(f"已转办不成事窗口：登记编号 {case.number}，{case.label}，请在 {case.due} 前答复群众。"
               f"查看进度：kb escalations show {case.number}")


@cli.group(invoke_without_command=True)
@click.pass_context
def escalations(click_ctx):
    """办不成事登记：列出、协调、办结，以及月度报告（处理需要组长/培训师或管理员账号）。

    \b
    kb escalations list --overdue
    kb escalations show 3
    kb escalations update 3 --status 协调中 --department 市医保局 --note "已电话联系医保局"
    kb escalations solve 3 --solution "持备案回执到参保地医保经办机构申请报销"
    kb escalations solve 4 --unsolvable --reason "政策不允许，可改走线上申请"
    kb escalations report --month 2026-11
    """
    if not click_ctx.invoked_subcommand:
        click.echo(click_ctx.get_help())


@escalations.command("list")
@click.option("--overdue", is_flag=True, help="只列出超过期限仍未办结的")
@click.option("--status", default="", help="只列出这个状态的：受理、协调中、已解决、无法解决")
@click.option("--item", default="", help="只列出这个事项的")
@click.option("--department", default="", help="只列出这个部门的")
@login_options
@data_options
def escalations_list(settings, overdue, status, item, department, login):
    """登记列表（最新的在前）。组长/培训师和管理员看到全部登记，窗口人员看到自己转办的。"""
    with read_records(settings, login, "escalate") as records:
        registry, reader = Escalations(records), login.reader
        if reader.can("escalations"):
            found = registry.cases(reader, status, overdue, item, department)
        else:
            found = registry.mine(reader)
        today = now()[:10]
        click.echo("编号  状态  期限  事项  部门  经办  问题")
        for case in found:
            click.echo(_line(case, today))
        late = sum(1 for c in found if c.overdue(today))
        click.echo(f"共 {len(found)} 件" + (f"，其中 {late} 件超期未办结。" if late else "。"))


@escalations.command("show")
@click.argument("number", type=int)
@login_options
@data_options
def escalations_show(settings, number, login):
    """一件登记的全部信息和处理经过。"""
    with read_records(settings, login, "escalate") as records:
        _show(Escalations(records).case(login.reader, number))


@escalations.command("update")
@click.argument("number", type=int)
@click.option("--status", default="", help="改为“协调中”")
@click.option("--department", default="", help="转给这个审批部门协调")
@click.option("--due", type=DATE, default="", help="新的答复期限，如 2026-11-20（情况复杂的不超过 10 个工作日）")
@click.option("--note", default="", help="处理记录，例如联系了谁、对方怎么答复")
@login_options
@data_options
def escalations_update(settings, number, status, department, due, note, login):
    """协调一件登记：改状态、转部门、改期限或记一笔处理经过（组长/培训师、管理员）。"""
    with open_records(settings) as records:
        case = Escalations(records).update(login(records), number, status, note, department, due)
    click.echo(f"已更新登记 {case.number}：{case.label}，部门 {case.department or '—'}，期限 {case.due}。")


@escalations.command("solve")
@click.argument("number", type=int)
@click.option("--solution", default="", help="解决方案：作为疑难案例提交审核，发布后窗口可直接查到")
@click.option("--question", default="", help="条目的问题，默认用登记的问题")
@click.option("--item", default="", help="条目的事项，默认用登记的事项")
@click.option("--department", default="", help="条目的部门，默认用登记的部门")
@click.option("--basis", default="", help="依据：文件名称文号，或给出口径的部门和人员")
@click.option("--unsolvable", is_flag=True, help="确实无法解决（须用 --reason 写明依据和替代途径）")
@click.option("--reason", default="", help="无法解决的原因")
@login_options
@data_options
def escalations_solve(settings, number, solution, question, item, department, basis, unsolvable, reason, login):
    """办结一件登记：已解决（解决方案同时提交为待审核的疑难案例）或无法解决（写明原因）。"""
    if unsolvable == bool(solution):
        raise click.UsageError("请用 --solution 写出解决方案，或用 --unsolvable --reason 说明无法解决（二者选一）。")
    with open_records(settings) as records:
        registry, actor = Escalations(records), login(records)
        if unsolvable:
            case = registry.unsolvable(actor, number, reason)
            click.echo(f"登记 {case.number} 已办结：无法解决。原因：{case.reason}")
            return
        authorize(records, actor, "escalations")
    from kb.workflow import Workflow

    kb = open_kb(settings)
    case, submitted = Escalations(kb.records).solve(actor, number, solution, Workflow(kb), question, item,
                                                     department, basis)
    if submitted.status == "duplicate":
        click.echo(f"登记 {case.number} 已解决；知识库已有完全相同的条目 {submitted.entry_id}，未重复存储。")
        return
    click.echo(f"登记 {case.number} 已解决；解决方案已提交为草稿 {submitted.entry_id}（待审核）。"
               f"审核：kb review approve {submitted.entry_id}")


@escalations.command("report")
@click.option("--month", required=True, help="月份，如 2026-11")
@login_options
@data_options
def escalations_report(settings, month, login):
    """月度报告：按事项、部门统计登记，办结用时，转化为知识的比例（组长/培训师、管理员）。"""
    with read_records(settings, login, "escalations") as records:
        report = Escalations(records).report(login.reader, month)
    for line in report.lines():
        click.echo(line)
