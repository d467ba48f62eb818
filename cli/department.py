"""Department commands (审批部门, 出题阅卷): kb dept banks / questions / propose / edit / compose / papers /
approve / to-grade / grade / results, every one within the 事项 an admin gave the account."""

from __future__ import annotations

import click

from kb.department import BankQuestion, Department
from kb.quizbank import DIFFICULTIES, KINDS

from .base import cli, data_options, login_options, open_records, read_records
from .quiz import show_question


@cli.group()
def dept():
    """审批部门出题阅卷（只涉及管理员为本账号设置的负责事项）。

    \b
    kb dept banks / questions 2026Q4 --user gaj
    kb dept propose 2026Q4 --kind single --stem 题干 --option 甲 --option 乙 --answer A --explanation 解析
    kb dept compose 2026Q4 --title 季度例会试卷 --single 2 --short 1 --name P1
    kb dept papers / approve P1
    kb dept to-grade --paper P1 / grade 答卷编号 题号 得分 --note 评语
    kb dept results --paper P1
    """


def _shown(found: BankQuestion) -> str:
    return show_question(found.number, found.question, item=True, reference=True)


@dept.command("banks")
@login_options
@data_options
def banks(settings, login):
    """题库列表，及其中本部门负责事项的题目数。"""
    with read_records(settings, login, "setpaper") as records:
        department = Department(records)
        found, items = department.banks(login.reader), department.items(login.reader)
    click.echo(f"负责事项：{'、'.join(items) or '—'}")
    for bank_id, since, until, count in found:
        click.echo(f"{bank_id:<24} {since}~{until}  本部门事项 {count} 题")
    if not found:
        click.echo("还没有题库：请培训师先生成本季度题库。")


@dept.command("questions")
@click.argument("bank_id", metavar="BANK")
@login_options
@data_options
def questions(settings, bank_id, login):
    """题库 BANK 中本部门负责事项的题目、答案和解析（不显示其他事项的题目）。"""
    with read_records(settings, login, "setpaper") as records:
        found = Department(records).questions(login.reader, bank_id)
    click.echo(f"题库 {bank_id} 中本部门负责事项的题目 {len(found)} 道。")
    for q in found:
        click.echo("\n" + _shown(q))


def _question_options(f):
    for option in reversed([
        click.option("--stem", required=True, help="题干"),
        click.option("--option", "options", multiple=True, help="选项（单选、多选题，按 A、B、C… 顺序，可重复）"),
        click.option("--answer", "answers", multiple=True, required=True,
                     help="答案：选项字母（如 A，多选 AC）、正确/错误、填空的词（可重复）或简答的参考答案"),
        click.option("--explanation", default="", help="解析"),
        click.option("--point", "points", multiple=True, help="简答题评分要点（可重复）"),
    ]):
        f = option(f)
    return f


def _key(kind: str, answers: tuple[str, ...]) -> list[str]:
    return list("".join(answers).upper()) if kind in ("single", "multiple") else list(answers)


@dept.command("propose")
@click.argument("bank_id", metavar="BANK")
@click.option("--kind", type=click.Choice(list(KINDS)), required=True,
              help="题型：" + "、".join(f"{k}={v}" for k, v in KINDS.items()))
@click.option("--item", default="", help="所属事项（只负责一个事项时可省略）")
@click.option("--difficulty", type=click.Choice(DIFFICULTIES), default="中", show_default=True, help="难度")
@_question_options
@login_options
@data_options
def propose(settings, bank_id, kind, item, difficulty, stem, options, answers, explanation, points, login):
    """为本部门负责的事项向题库 BANK 增加一道题（同一知识点不能重复出题）。"""
    with open_records(settings) as records:
        added = Department(records).propose(login(records), bank_id, kind, item, stem, list(options),
                                            _key(kind, answers), explanation, list(points), difficulty)
    click.echo(f"已加入题库 {bank_id}，题号 {added.number}：\n" + _shown(added))


@dept.command("edit")
@click.argument("bank_id", metavar="BANK")
@click.argument("number", type=click.IntRange(min=1))
@_question_options
@login_options
@data_options
def edit(settings, bank_id, number, stem, options, answers, explanation, points, login):
    """修改题库 BANK 第 NUMBER 题（只能改本部门负责事项的题目；题型和事项不变）。"""
    with open_records(settings) as records:
        department = Department(records)
        user = login(records)
        kind = next((q.question.kind for q in department.questions(user, bank_id) if q.number == number), "short")
        changed = department.edit(user, bank_id, number, stem, list(options), _key(kind, answers), explanation,
                                  list(points))
    click.echo(f"已修改题库 {bank_id} 第 {number} 题：\n" + _shown(changed))


@dept.command("compose")
@click.argument("bank_id", metavar="BANK")
@click.option("--title", required=True, help="试卷标题，如 “第四季度窗口例会测试（公安）”")
@click.option("--name", "paper_id", default="", help="试卷编号（默认由题库编号和时间生成）")
@click.option("--item", "items", multiple=True, help="只用这些负责事项的题目（默认全部负责事项，可重复）")
@click.option("--ab", is_flag=True, help="同时生成 B 卷（题序和选项顺序打乱）")
@click.option("--minutes", type=click.IntRange(min=0), default=0, help="考试时长（分钟），0 为不限时")
@login_options
@data_options
def compose(settings, bank_id, title, paper_id, items, ab, minutes, login, **counts):
    """只用本部门负责事项的题目从题库 BANK 组卷（题数用 --single/--multiple/--judge/--blank/--short）。"""
    with open_records(settings) as records:
        made = Department(records).compose(login(records), bank_id, title, counts, None, 2 if ab else 1, minutes,
                                           paper_id, list(items))
    click.echo(f"试卷 {made.id}《{made.title}》：{len(made.questions)} 道题，满分 {made.total:g} 分。"
               f"审定后请培训师分配：kb dept approve {made.id}")


for _kind, _label in KINDS.items():
    compose = click.option(f"--{_kind}", _kind, type=click.IntRange(min=0), default=0, help=f"{_label}题数量")(compose)


@dept.command("papers")
@login_options
@data_options
def papers(settings, login):
    """含本部门负责事项题目的试卷，以及本部门是否已审定。"""
    with read_records(settings, login, "setpaper") as records:
        found = Department(records).papers(login.reader)
    if not found:
        click.echo("还没有含本部门负责事项题目的试卷：用 kb dept compose 组卷。")
    for paper, approval in found:
        state = f"已审定（{approval.approved_at[:16].replace('T', ' ')}）" if approval else "未审定"
        click.echo(f"{paper.id}《{paper.title}》 题库 {paper.bank_id}，本部门事项 {len(paper.questions)} 题，{state}")


@dept.command("approve")
@click.argument("paper_id", metavar="PAPER")
@login_options
@data_options
def approve(settings, paper_id, login):
    """审定试卷 PAPER 中本部门负责事项的题目，供季度例会使用。"""
    with open_records(settings) as records:
        done = Department(records).approve(login(records), paper_id)
    click.echo(f"已审定试卷 {paper_id} 中本部门负责事项的 {done.questions} 道题。")


@dept.command("to-grade")
@click.option("--paper", "paper_id", default="", help="只看这份试卷")
@click.option("--pending", is_flag=True, help="只看还没有人工评分的")
@login_options
@data_options
def to_grade(settings, paper_id, pending, login):
    """待阅的简答题作答（本部门负责事项；只显示答卷编号，不显示姓名）。"""
    with read_records(settings, login, "setpaper") as records:
        found = Department(records).to_grade(login.reader, paper_id, pending)
    if not found:
        click.echo("没有待阅的简答题作答。")
    for g in found:
        state = (f"已阅 {g.score:g} 分（自动评分 {g.regrade.auto_score:g}，阅卷人 {g.regrade.graded_by}）"
                 if g.regrade else f"自动评分 {g.score:g}")
        click.echo(f"\n答卷 {g.attempt_id} 第 {g.number} 题（试卷 {g.paper_id}，满分 {g.points:g}）{state}\n"
                   f"  题目：{g.question.stem}\n  {g.question.key_line}\n  作答：{g.response or '（未作答）'}")
    if found:
        click.echo("\n评分：kb dept grade 答卷编号 题号 得分 --note 评语")


@dept.command("grade")
@click.argument("attempt_id", metavar="ATTEMPT", type=int)
@click.argument("number", type=click.IntRange(min=1))
@click.argument("score", type=float)
@click.option("--note", default="", help="评语（作答人可以看到）")
@login_options
@data_options
def grade(settings, attempt_id, number, score, note, login):
    """给答卷 ATTEMPT 的第 NUMBER 题（本部门负责事项的简答题）人工评分 SCORE 分，取代自动评分。"""
    with open_records(settings) as records:
        done = Department(records).grade(login(records), attempt_id, number, score, note)
    click.echo(f"答卷 {attempt_id} 第 {number} 题：{done.auto_score:g} 分（自动）→ {done.score:g} 分，总分已更新。")


@dept.command("results")
@click.option("--paper", "paper_id", default="", help="只看这份试卷")
@login_options
@data_options
def results(settings, paper_id, login):
    """本部门负责事项题目的作答情况：每题平均分和满分人数，每人在这些题上的得分（只显示姓名和分数）。"""
    with read_records(settings, login, "setpaper") as records:
        by_question, by_person = Department(records).results(login.reader, paper_id)
    if not by_question:
        click.echo("本部门负责事项的题目还没有人作答。")
        return
    click.echo("试卷 题号 事项 题型 作答人数 平均分/满分 满分人数 题目")
    for r in by_question:
        click.echo(f"{r.paper_id} {r.number} {r.question.item} {r.question.label} {r.answers} "
                   f"{r.average:.1f}/{r.points:g} {r.full} {r.question.stem}")
    click.echo("\n试卷 姓名 得分/满分")
    for p in by_person:
        click.echo(f"{p.paper_id} {p.name} {p.score:g}/{p.points:g}")
