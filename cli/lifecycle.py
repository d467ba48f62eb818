"""Lifecycle commands: submit cases, review them, history and rollback, delete/restore, audit, digest."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from kb.audit import ACTIONS, events
from kb.records import entry_from_dict
from kb.types import STATUSES, Entry

from .base import DATE, DeferredHelpOption, cli, data_options, login_options, open_kb, open_reading


def _workflow(settings, login):
    from kb.workflow import Workflow

    kb = open_kb(settings)
    return Workflow(kb), login(kb.records)


def _reading_workflow(settings, login, permission: str):
    from kb.workflow import Workflow

    return Workflow(open_reading(settings, login, permission))


def _editable_help() -> str:
    from kb.workflow import EDITABLE

    return (f"发布前修改，可重复；字段：{', '.join(EDITABLE)}。tags 用逗号或顿号分隔；"
            "alt_questions 每个 --set 写一个问法（留空则清除）")


def _edits(changes: tuple[str, ...]) -> dict:
    """The ``--set 字段=值`` options as the changes :meth:`kb.workflow.Workflow.approve` takes: tags
    split like the 标签 column, every ``alt_questions=…`` one more question."""
    from ingest.columns import parse_lines, parse_tags

    edits: dict = {}
    for change in changes:
        field, sep, value = change.partition("=")
        field = field.strip()
        if not sep or not field:
            raise click.UsageError(f"--set {change!r} 应写成 字段=值，例如 --set basis=市医保局2026年5号文")
        if field == "alt_questions":
            edits[field] = edits.get(field, ()) + parse_lines(value)
        else:
            edits[field] = parse_tags(value) if field == "tags" else value
    return edits


def _reason(reason: str, action: str) -> str:
    """``reason`` stripped; a usage error when it is blank (the option is required)."""
    if not reason.strip():
        raise click.UsageError(f"{action}时必须写明理由（--reason），它会记入审计日志。")
    return reason.strip()


def _entry_block(entry: Entry, title: str) -> list[str]:
    lines = [f"【{title}】{entry.id}", f"  问题：{entry.question}"]
    lines += [f"  另一问法：{q}" for q in entry.alt_questions]
    lines.append(f"  答复：{entry.answer}")
    for label, value in (("事项", entry.item), ("依据", entry.basis), ("窗口/组", entry.counter),
                         ("提交人", entry.submitter), ("日期", entry.date), ("生效", entry.effective_from),
                         ("失效", entry.expire_on), ("替代", entry.supersedes)):
        if value:
            lines.append(f"  {label}：{value}")
    return lines


@cli.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--question", "-q", help="群众咨询的问题或情况")
@click.option("--answer", "-a", help="解决方案 / 答复")
@click.option("--item", default="", help="事项")
@click.option("--department", default="", help="审批部门")
@click.option("--counter", default="", help="窗口/组")
@click.option("--basis", default="", help="依据：文件名称文号，或给出口径的部门和人员")
@click.option("--tags", default="", help="标签，用逗号或顿号分隔")
@click.option("--date", "day", type=DATE, default="", help="案例日期，如 2026-11-28 或 2026/11/28，默认今天")
@click.option("--effective-from", type=DATE, default="", help="新口径生效日期（当天起施行）")
@click.option("--expire-on", type=DATE, default="", help="口径失效日期：最后有效的一天（含当日），次日起失效")
@click.option("--supersedes", default="", help="本口径替代的条目编号")
@click.option("--revises", default="", help="修改已发布条目：填它的编号（审核通过后成为该条目的新版本）")
@login_options
@data_options
def submit(settings, file, question, answer, item, department, counter, basis, tags, day, effective_from,
           expire_on, supersedes, revises, login):
    """提交疑难案例（进入待审核）：一条用选项，整天的登记表用 xlsx/csv，或 JSON/YAML 文件。

    \b
    kb submit -q "居住证到期怎么续签？" -a "…" --item 居住证 --basis "公安局户政科 李科长 电话确认" --user zhang
    kb submit 2026-11-28登记表.xlsx --user zhang
    """
    workflow, actor = _workflow(settings, login)
    if file:
        from ingest.daily import submit_cases

        report = submit_cases(workflow, actor, file)
        for message in report.errors:
            click.secho(f"未提交  {message}", fg="red", err=True)
        for message in report.warnings:
            click.secho(f"提示  {message}", fg="yellow", err=True)
        for s in report.flagged:
            click.secho(f"可能重复  {s.entry_id} 与已发布的 {s.duplicate_of} 相似（{s.similarity:.3f}），请审核人决定合并或保留",
                        fg="yellow")
        for s in report.drafts:
            for warning in s.successor_warnings:
                click.secho(f"{s.entry_id}  {warning}，审核人发布前需确认", fg="yellow")
        for s in report.duplicates:
            click.echo(f"完全相同  已有条目 {s.entry_id}，未重复存储")
        click.echo(f"已提交 {len(report.drafts)} 条待审核：{'、'.join(s.entry_id for s in report.drafts) or '无'}；"
                   f"完全重复 {len(report.duplicates)} 条，有问题的行 {len(report.errors)} 行。")
        raise SystemExit(1 if report.errors else 0)
    if not question or not answer:
        raise click.UsageError("请用 --question 和 --answer 填写问题与答复，或给出登记表文件。")
    from ingest.columns import parse_tags

    entry = Entry("", question, answer, item, department, parse_tags(tags), date=day, counter=counter, basis=basis,
                  effective_from=effective_from, expire_on=expire_on, supersedes=supersedes)
    result = workflow.submit(actor, entry, revises=revises)
    if result.status == "duplicate":
        click.echo(f"已有完全相同的条目 {result.entry_id}，未重复存储。")
        return
    click.echo(f"已提交 {result.entry_id}，状态：待审核。")
    for warning in result.successor_warnings:
        click.secho(f"{warning}，审核人发布前需确认。", fg="yellow")
    if result.duplicate_of:
        click.secho(f"可能与已发布的 {result.duplicate_of} 重复（相似度 {result.similarity:.3f}），审核人会决定合并或保留。",
                    fg="yellow")


@cli.group()
def review():
    """审核待发布的条目：list / show / approve / reject / merge（组长、培训师、管理员）。"""


@review.command("list")
@login_options
@data_options
def review_list(settings, login):
    """列出待审核的条目（最早的在前；组长/培训师、管理员）。"""
    workflow = _reading_workflow(settings, login, "drafts")
    drafts = workflow.drafts()
    for entry, state in drafts:
        flag = f"  ⚠ 可能重复 {state.duplicate_of}" if state.duplicate_of else ""
        kind = f"  修订 {state.revises}" if state.revises else ""
        rivals = "".join(f"  {r.warning()}" for r in workflow.rivals(entry, state.revises))
        click.echo(f"{entry.id}  {entry.item or '—'}  {entry.question}  （{entry.submitter}，{state.created_at}）"
                   f"{kind}{flag}{rivals}")
    click.echo(f"共 {len(drafts)} 条待审核。")


@review.command("show")
@click.argument("entry_id")
@login_options
@data_options
def review_show(settings, entry_id, login):
    """显示一条待审核条目；被标记为可能重复时，与已发布条目并排对照（组长/培训师、管理员）。"""
    workflow = _reading_workflow(settings, login, "drafts")
    history = workflow.history(entry_id)
    entry, state = entry_from_dict(history["entry"]), history["state"]
    click.echo("\n".join(_entry_block(entry, STATUSES[state["status"]])))
    if state["status"] == "draft":
        for rival in workflow.rivals(entry, state["revises"]):
            click.secho(f"  {rival.warning()}（发布前需确认：--confirm-successor）", fg="yellow")
    for label, other in (("可能重复的已发布条目", state["duplicate_of"]), ("修订的原条目", state["revises"])):
        if other:
            click.echo("\n".join(_entry_block(workflow.records.entry(other), label)))


@review.command("approve")
@click.argument("entry_id")
@click.option("--set", "changes", multiple=True, metavar="字段=值", cls=DeferredHelpOption, help_text=_editable_help)
@click.option("--keep-both", is_flag=True, help="被标记为可能重复时，确认两条都保留")
@click.option("--confirm-successor", is_flag=True,
              help="要替代的条目已有其他待审核或尚未生效的新口径时，确认仍发布本条")
@click.option("--reason", default="", help="审核意见")
@login_options
@data_options
def review_approve(settings, entry_id, changes, keep_both, confirm_successor, reason, login):
    """审核通过并发布（可先用 --set 修改）。"""
    edits = _edits(changes)
    workflow, actor = _workflow(settings, login)
    published = workflow.approve(actor, entry_id, edits or None, keep_both, reason, confirm_successor)
    click.echo(f"已发布 {published}。" if published == entry_id else f"已发布为 {published} 的新版本。")


@review.command("reject")
@click.argument("entry_id")
@click.option("--reason", required=True, help="退回理由（提交人据此修改）")
@login_options
@data_options
def review_reject(settings, entry_id, reason, login):
    """退回待审核条目，写明理由。"""
    workflow, actor = _workflow(settings, login)
    workflow.reject(actor, entry_id, reason)
    click.echo(f"已退回 {entry_id}：{reason}")


@review.command("merge")
@click.argument("entry_id")
@click.option("--into", default="", help="并入的已发布条目编号（默认为标记的重复条目）")
@click.option("--keep", type=click.Choice(["existing", "new"]), default="existing", show_default=True,
              help="保留原条目的表述（existing）或采用新提交的表述（new）；另一种问法作为备选问题保留")
@click.option("--reason", default="", help="审核意见")
@login_options
@data_options
def review_merge(settings, entry_id, into, keep, reason, login):
    """把重复提交合并进已发布条目。"""
    workflow, actor = _workflow(settings, login)
    target = workflow.merge(actor, entry_id, into, keep, reason)
    click.echo(f"已将 {entry_id} 合并入 {target}。")


@cli.command()
@click.argument("entry_id")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@login_options
@data_options
def history(settings, entry_id, as_json, login):
    """查看条目的全部版本和操作记录（组长/培训师、管理员）。"""
    data = _reading_workflow(settings, login, "audit").history(entry_id)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    state = data["state"]
    click.echo(f"{entry_id}  当前：{STATUSES[state['status']]}，第 {state['version']} 版")
    for v in data["versions"]:
        click.echo(f"第 {v['version']} 版  {v['at']}  {v['actor']}  {ACTIONS.get(v['action'], v['action'])}")
        click.echo(f"    问：{v['content']['question']}\n    答：{v['content']['answer']}")
    click.echo("操作记录：")
    for e in data["events"]:
        click.echo(f"  {e['at']}  {e['actor']}  {ACTIONS.get(e['action'], e['action'])}  {e['reason']}")


@cli.command()
@click.argument("entry_id")
@click.option("--to", "version", type=int, required=True, help="回滚到的版本号（见 kb history）")
@click.option("--reason", required=True, help="回滚理由")
@login_options
@data_options
def rollback(settings, entry_id, version, reason, login):
    """把条目恢复成以前某一版的内容（作为新的一版发布）。"""
    reason = _reason(reason, "回滚")
    workflow, actor = _workflow(settings, login)
    new = workflow.rollback(actor, entry_id, version, reason)
    click.echo(f"{entry_id} 已回滚到第 {version} 版的内容，现为第 {new} 版。")


@cli.command()
@click.argument("entry_id")
@click.option("--reason", required=True, help="删除理由")
@login_options
@data_options
def delete(settings, entry_id, reason, login):
    """删除条目（软删除，管理员可用 kb restore 恢复）。"""
    reason = _reason(reason, "删除")
    workflow, actor = _workflow(settings, login)
    workflow.delete(actor, entry_id, reason)
    click.echo(f"已删除 {entry_id}（可用 kb restore {entry_id} 恢复）。")


@cli.command()
@click.argument("entry_id")
@click.option("--reason", default="", help="恢复理由")
@login_options
@data_options
def restore(settings, entry_id, reason, login):
    """恢复被删除的条目。"""
    workflow, actor = _workflow(settings, login)
    workflow.restore(actor, entry_id, reason)
    click.echo(f"已恢复 {entry_id}。")


@cli.command()
@click.option("--actor", "who", default="", help="按操作人过滤")
@click.option("--action", type=click.Choice(sorted(ACTIONS)), help="按操作类型过滤")
@click.option("--target", default="", help="按对象过滤（条目编号、file:路径、user:账号）")
@click.option("--since", type=DATE, default="", help="起始日期（含），如 2026-11-28 或 2026/11/28")
@click.option("--until", type=DATE, default="", help="截止日期（含）")
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True, help="最多显示多少条")
@click.option("--json", "as_json", is_flag=True, help="每行输出一个 JSON 事件")
@login_options
@data_options
def audit(settings, who, action, target, since, until, limit, as_json, login):
    """查看审计日志（谁、何时、做了什么、改前改后、理由），最新的在前。"""
    kb = open_reading(settings, login, "audit")
    for e in events(kb.records.conn, who, action or "", target, since, until, limit):
        if as_json:
            click.echo(json.dumps(e.__dict__, ensure_ascii=False))
            continue
        click.echo(f"{e.at}  {e.actor}  {e.action_label}  {e.target}  {e.reason}")
        for field, (before, after) in e.changes().items():
            click.echo(f"    {field}: {before!r} → {after!r}")


@cli.command()
@click.option("--date", "day", type=DATE, default=lambda: date.today().isoformat(),
              help="汇总哪一天，如 2026-11-28 或 2026/11/28，默认今天")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Markdown 和 Word 文件的输出目录")
@login_options
@data_options
def digest(settings, day, out_dir, login):
    """生成当天的疑难案例与口径变更汇总（Markdown + Word），发给所有窗口。"""
    from bot.digest import build_digest, digest_docx, to_markdown
    from bot.output import writing

    day = day or date.today().isoformat()
    kb = open_kb(settings)
    result = build_digest(kb, day, login(kb.records))
    markdown = to_markdown(result)
    stem = out_dir / f"每日汇总-{day}"
    with writing(stem.with_suffix(".md")):
        out_dir.mkdir(parents=True, exist_ok=True)
        stem.with_suffix(".md").write_text(markdown, encoding="utf-8")
    digest_docx(result, stem.with_suffix(".docx"))
    click.echo(markdown)
    click.echo(f"\n已保存：{stem.with_suffix('.md')}、{stem.with_suffix('.docx')}")
