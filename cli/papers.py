"""Paper commands of ``kb quiz``: compose a paper from a bank, assign it, export papers and banks,
report the results and import marks of papers taken on paper."""

from __future__ import annotations

from pathlib import Path

import click

from kb.papers import DEFAULT_POINTS, EVERYONE, Papers
from kb.quizbank import KINDS, QuizBank

from .base import DATE, data_options, login_options, open_records, read_records
from .quiz import quiz

EXPORT_CHOICES = ("docx", "key", "xlsx", "moodle", "gift", "json")


@quiz.command("paper")
@click.argument("bank_id", metavar="BANK")
@click.option("--title", required=True, help="试卷标题，如 “2026年第四季度窗口业务自测”")
@click.option("--name", "paper_id", default="", help="试卷编号（默认由题库编号和时间生成）")
@click.option("--ab", is_flag=True, help="同时生成 B 卷（题目相同，顺序和选项顺序打乱）")
@click.option("--minutes", type=click.IntRange(min=0), default=0, help="考试时长（分钟），0 为不限时")
@click.option("--points", "worth", default="", help="每题分值，如 single=2,multiple=3,judge=1,blank=2,short=10")
@click.option("--seed", default="", help="抽题随机种子（默认由题库和标题决定）")
@login_options
@data_options
def paper(settings, bank_id, title, paper_id, ab, minutes, worth, seed, login, **counts):
    """从题库 BANK 抽题组卷（每种题型的题数用 --single/--multiple/--judge/--blank/--short；过期题目不会被抽到）。"""
    with open_records(settings) as records:
        made = Papers(records).compose(login(records), bank_id, title, counts, _points(worth), 2 if ab else 1,
                                       minutes, paper_id, seed)
    got = "，".join(f"{KINDS[k]} {sum(q.question.kind == k for q in made.questions)}" for k in KINDS if counts[k])
    click.echo(f"试卷 {made.id}《{made.title}》：{len(made.questions)} 道题（{got}），满分 {made.total:g} 分，"
               f"{'A/B 两个版本' if ab else '一个版本'}{f'，限时 {minutes} 分钟' if minutes else ''}。")
    click.echo(f"分配给人员：kb quiz assign {made.id} --group 小组名 --deadline 2026-12-31")


for _kind, _label in KINDS.items():
    paper = click.option(f"--{_kind}", _kind, type=click.IntRange(min=0), default=0, help=f"{_label}题数量")(paper)


def _points(text: str) -> dict[str, float]:
    worth: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.replace("，", ",").split(","))):
        kind, _, value = part.partition("=")
        try:
            if kind.strip() not in KINDS:
                raise ValueError
            worth[kind.strip()] = float(value)
        except ValueError:
            raise click.BadParameter(f"“{part}”应写成 题型=分值，题型为 {'/'.join(KINDS)}，如 short=10。",
                                     param_hint="--points") from None
    return worth


@quiz.command("papers")
@login_options
@data_options
def papers(settings, login):
    """已组的试卷、分配情况和审批部门的审定。"""
    from kb.department import approvals

    with read_records(settings, login, "quiz") as records:
        store = Papers(records)
        found = [(p, store.assignments(p.id), approvals(records, p.id)) for p in store.papers(login.reader)]
    if not found:
        click.echo("还没有试卷：用 kb quiz paper 题库编号 --title 标题 --single 10 … 组卷。")
    for p, assigned, approved in found:
        to = "、".join(("全体" if a.target == EVERYONE else a.target) + (f"（截止 {a.deadline}）" if a.deadline else "")
                      for a in assigned) or "未分配"
        click.echo(f"{p.id}《{p.title}》 题库 {p.bank_id}，{len(p.questions)} 题，满分 {p.total:g}，"
                   f"{'/'.join(p.variants)} 卷，分配：{to}"
                   + "".join(f"，{a.name}已审定 {a.questions} 题" for a in approved))


@quiz.command("assign")
@click.argument("paper_id", metavar="PAPER")
@click.option("--person", "people", multiple=True, help="分配给这个账号（用户名，可重复）")
@click.option("--group", "groups", multiple=True, help="分配给这个小组的所有人（可重复）")
@click.option("--everyone", is_flag=True, help="分配给全体人员（不设截止日期即为公开练习卷）")
@click.option("--deadline", type=DATE, default="", help="截止日期（含）")
@login_options
@data_options
def assign(settings, paper_id, people, groups, everyone, deadline, login):
    """把试卷 PAPER 分配给人员、小组或全体。"""
    if sum(map(bool, (people, groups, everyone))) != 1:
        raise click.UsageError("请只用 --person、--group、--everyone 中的一种指定分配对象。")
    kind, targets = ("user", list(people)) if people else ("group", list(groups)) if groups else ("all", [])
    with open_records(settings) as records:
        count = Papers(records).assign(login(records), paper_id, kind, targets, deadline)
    click.echo(f"试卷 {paper_id} 已分配给 {count} 个{'账号' if kind == 'user' else '小组' if kind == 'group' else '对象（全体）'}"
               f"{f'，截止 {deadline}' if deadline else ''}。")


@quiz.command("export")
@click.argument("source_id", metavar="PAPER|BANK")
@click.option("--format", "fmt", type=click.Choice(EXPORT_CHOICES), required=True,
              help="docx 试卷；key 答案与解析；xlsx 题库表（考试平台导入格式）；moodle；gift；json")
@click.option("--bank", "is_bank", is_flag=True, help="导出整个题库（而不是一份试卷）")
@click.option("--variant", default="A", type=click.Choice(["A", "B"]), show_default=True, help="试卷版本")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="输出文件（默认按编号命名）")
@login_options
@data_options
def export_(settings, source_id, fmt, is_bank, variant, out, login):
    """导出试卷或题库：Word 试卷和答案、Excel 题库、Moodle XML、GIFT、JSON。"""
    from bot.paper_export import FORMATS, export
    from kb.papers import PaperQuestion

    with read_records(settings, login, "quiz") as records:
        if is_bank:
            title = f"题库 {source_id}"
            questions = [PaperQuestion(n, q, DEFAULT_POINTS[q.kind], f"{source_id}#{n}")
                         for n, q in enumerate(QuizBank(records).questions(login.reader, source_id), 1)]
        else:
            made = Papers(records).paper(login.reader, source_id, variant)
            title, questions = made.title, list(made.questions)
    label, suffix = FORMATS[fmt]
    name = f"{source_id}{'' if is_bank else '-' + variant}{'-答案' if fmt == 'key' else ''}{suffix}"
    path = export(fmt, title, questions, out or Path(name))
    click.echo(f"已导出{label}：{path}")


@quiz.command("report")
@click.option("--quarter", default="", help="季度，如 2026Q4（按交卷时间）")
@click.option("--paper", "paper_id", default="", help="只统计这份试卷")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("自测报告"), show_default=True,
              help="图表和 Excel 的输出目录")
@login_options
@data_options
def report(settings, quarter, paper_id, out, login):
    """自测成绩报告：个人和小组成绩、最常错的题及所属事项；写出图表（PNG）和 Excel。"""
    from bot.output import writing
    from bot.quiz_report import build_report, summary_lines, write_charts, write_workbook
    from kb.attempts import Attempts
    from kb.papers import people

    with read_records(settings, login, "quiz") as records:
        results = Attempts(records).results(login.reader, quarter.upper(), paper_id)
        names = {u.username: u.display_name or u.username for u in people(records)}
    made = build_report(results, names, quarter.upper(), paper_id)
    for line in summary_lines(made):
        click.echo(line)
    with writing(out):
        out.mkdir(parents=True, exist_ok=True)
        charts = write_charts(made, out)
        book = write_workbook(made, out / "自测成绩.xlsx")
    click.echo("已写出：" + "、".join(str(p) for p in [*charts, book]))


@quiz.command("import-marks")
@click.argument("paper_id", metavar="PAPER")
@click.argument("sheet", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--variant", default="A", type=click.Choice(["A", "B"]), show_default=True, help="纸质试卷的版本")
@click.option("--date", "day", type=DATE, default="", help="考试日期（默认今天，决定计入哪个季度）")
@login_options
@data_options
def import_marks(settings, paper_id, sheet, variant, day, login):
    """导入纸质答卷的人工评分：SHEET 为 Excel/CSV，列为 姓名（或用户名）、题号、得分。"""
    from ingest.marks_sheet import read_marks_sheet
    from kb.paper_marks import import_marks

    rows, problems = read_marks_sheet(sheet)
    with open_records(settings) as records:
        count, refused = import_marks(records, login(records), paper_id, rows, variant, day)
    click.echo(f"已导入 {count} 人的成绩（{len(rows) - len(refused)} 行）。")
    for problem in problems + refused:
        click.echo(f"  跳过 {problem}")
    if not count:
        raise click.ClickException(f"{sheet} 中没有一行成绩导入：请按上面每行说明的原因改正成绩表后重新导入。")
