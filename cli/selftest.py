"""Self-test commands of ``kb quiz``: the papers assigned to me, taking one in the terminal, my
wrong-answer book.

``kb quiz take`` saves each answer as the attempt's draft as soon as it is given. Run again before
submitting, it resumes the same attempt, lists the saved answers and asks 沿用已保存的答案？: yes asks only
the questions not yet answered, no asks every question again (each new answer replaces the saved one).
"""

from __future__ import annotations

import click

from kb.attempts import Attempts, Result
from kb.papers import PaperError, Papers, Sheet, SheetQuestion
from kb.users import User
from kb.wrong_book import WrongBook

from .base import data_options, login_options, open_records
from .llm_mode import open_llm
from .quiz import quiz

_HINTS = {"single": "填一个字母", "multiple": "填所有正确的字母，如 AC", "judge": "填 正确 或 错误",
          "blank": "填空处的内容", "short": "简要作答"}


@quiz.command("mine")
@login_options
@data_options
def mine(settings, login):
    """分配给我的试卷（含公开练习卷）和我的成绩。"""
    with open_records(settings) as records:
        user = login(records)
        assigned = Papers(records).assigned_to(user)
        attempts = Attempts(records).mine(user)
    if not assigned:
        click.echo("目前没有分配给你的试卷。")
    for a in assigned:
        done = [t for t in attempts if t.paper_id == a.paper_id and t.submitted_at]
        state = f"已交卷，{done[0].score:g}/{done[0].total:g} 分" if done else "未交卷"
        click.echo(f"{a.paper_id}《{a.title}》{f'截止 {a.deadline}' if a.deadline else '不限日期'}：{state}")


def _ask(q: SheetQuestion) -> str:
    click.echo(f"\n{q.number}. [{q.label}，{q.points:g} 分] {q.stem}")
    for letter, option in zip("ABCDEF", q.options if q.kind != "judge" else ()):
        click.echo(f"   {letter}. {option}")
    return click.prompt(f"   你的答案（{_HINTS[q.kind]}，直接回车跳过）", default="", show_default=False)


def _saved(attempts: Attempts, user: User, attempt_id: int, sheet: Sheet) -> dict[int, str]:
    """The saved answers of a resumed attempt the taker keeps, after listing them; {} when there are
    none or the taker answers every question again."""
    saved = attempts.draft(user, attempt_id)
    if not saved:
        return {}
    click.echo(f"\n继续作答答卷 {attempt_id}，已保存 {len(saved)} 题的答案：")
    for q in sheet.questions:
        if q.number in saved:
            click.echo(f"   {q.number}. {saved[q.number]}")
    return saved if click.confirm("沿用已保存的答案？（否：全部重新作答）", default=True) else {}


def _keep(attempts: Attempts, user: User, attempt_id: int, number: int, answer: str) -> None:
    try:
        attempts.save_draft(user, attempt_id, {number: answer})
    except PaperError as exc:
        click.echo(f"   （这道题的答案未能保存：{exc}）")


def show_result(result: Result) -> None:
    """Print a submitted attempt: the score, then each answer with its marks, the key and the explanation."""
    a = result.attempt
    click.echo(f"\n《{result.title}》得分：{a.score:g} / {a.total:g}"
               + (f"（超过时限 {result.late_minutes} 分钟交卷）" if result.late_minutes else ""))
    for item in result.answers:
        q, m = item.question.question, item.marking
        mark = "✓" if m.correct else "✗"
        click.echo(f"\n{mark} {item.question.number}. [{q.label}] {q.stem}")
        click.echo(f"   你的答案：{item.response or '（未作答）'}　得分：{m.score:g}/{m.points:g}")
        click.echo(f"   {q.key_line}")
        if m.missed:
            click.echo(f"   未答到：{'；'.join(m.missed)}")
        if m.note:
            click.echo(f"   说明：{m.note}")
        for line in q.explanation.splitlines():
            click.echo(f"   {line}")


@quiz.command("take")
@click.argument("paper_id", metavar="PAPER")
@click.option("--llm/--offline", "use_llm", default=None, help="简答题用大模型按要点评分（默认：配置了大模型时使用）")
@login_options
@data_options
def take(settings, paper_id, use_llm, login):
    """在终端作答分配给我的试卷 PAPER：逐题作答，确认后交卷，显示得分、答案和解析。

    每答一题即自动保存；交卷前中断后再次运行，会列出已保存的答案并询问是否沿用（沿用则只问未答的题）。"""
    from bot.grading import grader

    with open_records(settings) as records:
        user = login(records)
        attempts = Attempts(records)
        attempt, sheet = attempts.start(user, paper_id)
        click.echo(f"《{sheet.title}》（{sheet.variant} 卷）共 {len(sheet.questions)} 题，满分 {sheet.total:g} 分"
                   + (f"，限时 {sheet.time_limit} 分钟" if sheet.time_limit else "") + "。")
        responses = _saved(attempts, user, attempt.id, sheet)
        for q in sheet.questions:
            if q.number not in responses:
                responses[q.number] = _ask(q)
                _keep(attempts, user, attempt.id, q.number, responses[q.number])
        if not click.confirm("\n确认交卷？", default=True):
            click.echo(f"未交卷；答卷 {attempt.id} 和已作答的答案已保存，再次运行本命令继续作答。")
            return
        result = attempts.submit(user, attempt.id, responses, grader(open_llm(use_llm, settings)))
    show_result(result)


@quiz.command("wrong")
@login_options
@data_options
def wrong(settings, login):
    """我的错题本：答错的题目、正确答案、解析和要复习的条目。"""
    with open_records(settings) as records:
        book = WrongBook(records).of(login(records))
    if not book:
        click.echo("错题本是空的。")
    for w in book:
        q = w.question.question
        click.echo(f"\n[{q.label}] {q.stem}\n   你的答案：{w.response or '（未作答）'}　错 {w.times} 次\n"
                   f"   {q.key_line}")
        click.echo(f"   复习条目：{'、'.join(s.entry_id for s in q.sources)}")
        for line in q.explanation.splitlines():
            click.echo(f"   {line}")
