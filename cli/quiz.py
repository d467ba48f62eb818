"""Question bank commands: kb quiz bank (build a quarterly bank offline), kb quiz list, kb quiz show."""

from __future__ import annotations

import click

from kb.quizbank import DIFFICULTIES, KINDS, QuizBank, QuizError, QuizQuestion, difficulty_mix, period, period_entries

from .base import DATE, cli, data_options, login_options, open_records, read_records

DEFAULT_COUNTS = {"single": 10, "multiple": 5, "judge": 10, "blank": 10, "short": 5}


def _period(quarter: str, since: str, until: str) -> tuple[str, str, str]:
    if quarter and (since or until):
        raise QuizError("--quarter 与 --since/--until 只能二选一。")
    return period(quarter, since, until)


@cli.group()
def quiz():
    """题库与自测：按季度出题（单选、多选、判断、填空、简答），组卷、分配、导出，在线作答、错题本和成绩报告。

    \b
    kb quiz bank --quarter 2026Q4 --user zuzhang
    kb quiz bank --since 2026-10-01 --until 2026-11-30 --item 居住证 --single 5 --short 2
    kb quiz list / show 2026Q4 --user zuzhang
    kb quiz paper 2026Q4 --title 第四季度自测 --single 10 --judge 10 --short 2 --ab --minutes 45
    kb quiz assign 试卷编号 --group 一组 --deadline 2026-12-31
    kb quiz export 试卷编号 --format docx    （key / xlsx / moodle / gift / json；--bank 导出整个题库）
    kb quiz mine / take 试卷编号 / wrong --user zhangsan
    kb quiz report --quarter 2026Q4 --out 自测报告/
    kb quiz import-marks 试卷编号 纸质成绩.xlsx
    """


@quiz.command("bank")
@click.option("--quarter", default="", help="季度，如 2026Q4（出题范围为该季度发布的条目）")
@click.option("--since", type=DATE, default="", help="起始日期（含），与 --until 一起代替 --quarter")
@click.option("--until", type=DATE, default="", help="截止日期（含）")
@click.option("--item", default="", help="只从这个事项出题")
@click.option("--department", default="", help="只从这个部门的条目出题")
@click.option("--earlier", is_flag=True, help="同时从该时段以前发布、仍然有效的条目出题")
@click.option("--difficulty", "mix", default="", help="难度比例 易:中:难，如 3:5:2（默认不限）")
@click.option("--name", default="", help="题库编号（默认用季度或日期范围）")
@click.option("--replace", is_flag=True, help="同编号题库已存在时重新生成并覆盖")
@click.option("--seed", default="", help="随机种子（默认用题库编号，结果可复现）")
@click.option("--llm/--offline", "use_llm", default=None,
              help="用大模型出题（不合格的题目剔除并说明原因，不足部分离线补齐；默认：配置了大模型时使用）")
@login_options
@data_options
def bank(settings, quarter, since, until, item, department, earlier, mix, name, replace, seed, use_llm, login,
         **counts):
    """从时段内发布的条目生成题库并保存（每种题型的数量用 --single/--multiple/--judge/--blank/--short）。
    同一题库中不会有两道题考查同一知识点，也不重复上一季度题库考过的知识点。"""
    from bot.quiz import build

    from .llm_mode import open_llm

    bank_id, start, end = _period(quarter, since, until)
    bank_id = name or bank_id
    wanted = {kind: counts[kind] for kind in KINDS}
    if not any(wanted.values()):
        raise click.UsageError("请至少给一种题型填写题数：--single、--multiple、--judge、--blank、--short 中至少一个大于 0。")
    with open_records(settings) as records:
        actor = login(records)
        banks = QuizBank(records)
        pool = period_entries(records, start, end, item, department, earlier)
        if not pool:
            raise QuizError(f"{start} 至 {end} 没有符合条件的已发布条目，无法出题：换一个时段或去掉事项/部门过滤。")
        args = (pool, wanted, seed or bank_id, banks.previous_facts(start), difficulty_mix(mix))
        llm, dropped = open_llm(use_llm, settings), []
        if llm:
            from bot.quiz_llm import build_with_llm

            questions, made, dropped = build_with_llm(llm, *args)
        else:
            questions, made = build(*args)
        filters = {"item": item, "department": department, "earlier": earlier, "counts": wanted, "mix": mix}
        saved = banks.save(actor, bank_id, start, end, filters, questions, replace)
    got = {kind: sum(q.kind == kind for q in questions) for kind in KINDS}
    click.echo(f"题库 {saved.id}（{start} 至 {end}）：从 {len(pool)} 条条目生成 {saved.questions} 道题"
               f"（候选 {made} 道，未通过质量检查或重复的已剔除）。")
    click.echo("题型：" + "，".join(f"{KINDS[k]} {got[k]}/{wanted[k]}" for k in KINDS if wanted[k]))
    click.echo("难度：" + "，".join(f"{d} {sum(q.difficulty == d for q in questions)}" for d in DIFFICULTIES))
    for reason in dropped:
        click.echo(f"  剔除：{reason}")
    short = [KINDS[k] for k in KINDS if got[k] < wanted[k]]
    if short:
        click.echo(f"注意：{'、'.join(short)}题目不足，条目中可出题的要点不够。")


for _kind, _label in KINDS.items():
    bank = click.option(f"--{_kind}", _kind, type=click.IntRange(min=0), default=DEFAULT_COUNTS[_kind],
                        show_default=True, help=f"{_label}题数量")(bank)


@quiz.command("list")
@login_options
@data_options
def list_banks(settings, login):
    """已保存的题库（最近的时段在前）：题目数和过期题目数。"""
    with read_records(settings, login, "quiz") as records:
        banks = QuizBank(records).banks(login.reader)
    if not banks:
        click.echo("还没有题库：用 kb quiz bank --quarter 2026Q4 生成。")
        return
    click.echo(f"{'题库':<24} {'时段':<24} {'题数':>4} {'过期':>4}  生成人 / 时间")
    for b in banks:
        click.echo(f"{b.id:<24} {b.since + '~' + b.until:<24} {b.questions:>6} {b.stale:>6}  "
                   f"{b.created_by} / {b.created_at.replace('T', ' ')}")


def show_question(number: int, q: QuizQuestion, item: bool = False, reference: bool = False) -> str:
    """A bank question for the terminal: its number, [事项·]题型·难度 and stem (marked if stale), the
    options, the key (with a 简答's reference answer if ``reference``) and the 解析."""
    tags = "·".join([q.item] * item + [q.label, q.difficulty])
    lines = [f"{number}. [{tags}] {q.stem}" + (f"  【过期：{q.stale}】" if q.stale else "")]
    if q.kind in ("single", "multiple"):
        lines += [f"   {letter}. {option}" for letter, option in zip("ABCDEF", q.options)]
    lines.append(f"   {q.key_line}" + (f"（参考答案：{q.answer[0]}）" if reference and q.kind == "short" else ""))
    lines += [f"   解析：{line}" for line in q.explanation.splitlines()]
    return "\n".join(lines)


@quiz.command("show")
@click.argument("bank_id", metavar="BANK")
@click.option("--stale", "stale_only", is_flag=True, help="只看过期的题目（来源条目已修改、被替代或下线）")
@login_options
@data_options
def show(settings, bank_id, stale_only, login):
    """查看题库 BANK 的题目、答案、解析和过期标记。"""
    with read_records(settings, login, "quiz") as records:
        banks = QuizBank(records)
        info = banks.bank(login.reader, bank_id)
        questions = banks.questions(login.reader, bank_id)
    click.echo(f"题库 {info.id}（{info.since} 至 {info.until}）：{info.questions} 道题，其中过期 {info.stale} 道。")
    for number, q in enumerate(questions, 1):
        if q.stale or not stale_only:
            click.echo("\n" + show_question(number, q))
