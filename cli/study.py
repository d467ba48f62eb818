"""Study commands: kb study (the interactive tutor) and kb study progress (the trainer's view)."""

from __future__ import annotations

import click

from kb.learning import STATES, Learning, Topic
from kb.users import User

from .base import cli, data_options, login_options, open_reading, read_records
from .llm_mode import open_llm

PLAN_SHOWN = 5


def _plan(topics: list[Topic]) -> str:
    return "、".join(t.label for t in topics[:PLAN_SHOWN]) + ("……" if len(topics) > PLAN_SHOWN else "")


@cli.group(invoke_without_command=True)
@click.option("--topic", default="", help="学习这个事项（默认从薄弱和未学的事项开始）")
@click.option("--question", "query", default="", help="自由提问：先讲解能回答这个问题的条目")
@click.option("--rounds", type=click.IntRange(min=0), default=0, help="学完几条后结束（默认每条之后询问是否继续）")
@click.option("--llm/--offline", "use_llm", default=None,
              help="用大模型判分（设置了 KB_LLM_BASE_URL 时默认使用）/ 只按要点判分；大模型不可用时自动按要点判分并注明")
@login_options
@data_options
def study(settings, topic, query, rounds, use_llm, login):
    """新员工学习：讲解条目（答复、依据、相关条目）→ 提问 → 您作答 → 判断并讲解遗漏的要点 → 下一条。
    学习记录按人保存，下次从薄弱和未学的事项开始；组长/培训师用 kb study progress 查看学员进度。

    \b
    kb study --user zhangsan
    kb study --topic 居住证签注 --user zhangsan
    kb study --question "居住证签注什么时候办" --user zhangsan
    kb study progress --user zuzhang
    """
    if click.get_current_context().invoked_subcommand:
        return
    kb = open_reading(settings, login, "study", answers=True)
    llm = open_llm(use_llm, settings)
    from bot.judge import LLMJudge
    from bot.study import Tutor, explanation, feedback

    tutor = Tutor(kb, judge=LLMJudge(llm) if llm else None, min_confidence=settings.min_confidence)
    learner = login.reader
    click.echo(f"接下来的学习顺序：{_plan(tutor.learning.topics(learner))}")
    done = 0
    while True:
        lesson = tutor.lesson(learner, topic=topic, query=query if done == 0 else "")
        done += 1
        click.echo(f"\n—— 第 {done} 条 ——\n{explanation(lesson)}\n\n{lesson.question.prompt}")
        reply = click.prompt("您的回答", default="", show_default=False).strip() or "不知道"
        click.echo(feedback(lesson, tutor.check(learner, lesson, reply)))
        if (rounds and done >= rounds) or (not rounds and not click.confirm("继续学习下一条？", default=True)):
            break
    right, wrong = _session(tutor.learning, learner)
    click.echo(f"\n本次学习 {done} 条。累计答对 {right} 次、答错 {wrong} 次；"
               f"下次从这些事项开始：{_plan(tutor.learning.topics(learner))}")


def _session(learning: Learning, learner: User) -> tuple[int, int]:
    topics = learning.topics(learner)
    return sum(t.correct for t in topics), sum(t.wrong for t in topics)


@study.command("progress")
@click.option("--learner", default="", help="只看这位学员（用户名）各事项的进度")
@login_options
@data_options
def progress(settings, learner, login):
    """学习进度。组长/培训师和管理员看到每位学员的进度（--learner 看某人各事项的明细）；窗口人员看到自己的。"""
    with read_records(settings, login, "study") as records:
        learning, reader = Learning(records), login.reader
        if not learner and reader.can("progress"):
            click.echo(f"{'学员':<14} {'姓名':<8} {'已学事项':>6} {'已学条目':>6} {'答对':>4} {'答错':>4}  最近学习")
            for row in learning.learners(reader):
                click.echo(f"{row.username:<16} {row.display_name or '—':<8} {row.topics:>8} {row.entries:>8} "
                           f"{row.correct:>6} {row.wrong:>6}  {row.last_at.replace('T', ' ') or '尚未学习'}")
            return
        topics = learning.topics(reader, learner)
    click.echo(f"{'事项':<16} {'状态':<4} {'已学/条目':>8} {'答对':>4} {'答错':>4}  最近学习")
    for t in topics:
        click.echo(f"{t.item:<16} {STATES[t.state]:<4} {f'{t.covered}/{t.entries}':>10} {t.correct:>6} {t.wrong:>6}  "
                   f"{t.last_at.replace('T', ' ') or '—'}")
