"""Training commands: kb training (the monthly pack), kb training plan (a new hire's four weeks) and
kb training evaluation (the quarterly evaluation as xlsx)."""

from __future__ import annotations

from pathlib import Path

import click

from .base import cli, data_options, login_options, read_records

_OUT = click.Path(file_okay=False, path_type=Path)


@cli.group(invoke_without_command=True)
@click.option("--month", default="", help="月份，如 2026-11（生成该月的培训资料）")
@click.option("--out", "out_dir", type=_OUT, default=Path("."), show_default=True, help="输出目录")
@click.option("--pdf", is_flag=True, help="同时生成 PDF（需要安装 LibreOffice）")
@login_options
@data_options
def training(settings, month, out_dir, pdf, login):
    """月度培训资料：本月新增和变更的口径（按事项，附依据）、咨询和拒答最多的问题、自测错题和一份月度自测，
    输出 Word（可选 PDF）和 Markdown。需要组长/培训师或管理员账号。

    \b
    kb training --month 2026-11 --out 培训 --pdf --user zuzhang
    kb training plan zhangsan --start 2026-12-01 --user zuzhang
    kb training evaluation --quarter 2026Q4 --out 考评.xlsx --user zuzhang
    """
    if click.get_current_context().invoked_subcommand:
        return
    if not month:
        raise click.UsageError("请用 --month 指定月份，例如 kb training --month 2026-11。")
    from bot.output import writing
    from bot.training import training_pack
    from bot.training_word import pack_docx, pack_markdown, to_pdf

    with read_records(settings, login, "training") as records:
        pack = training_pack(records, month, login.reader)
    stem = out_dir / f"月度培训资料-{pack.month}"
    with writing(stem.with_suffix(".md")):
        out_dir.mkdir(parents=True, exist_ok=True)
        stem.with_suffix(".md").write_text(pack_markdown(pack), encoding="utf-8")
    written = [stem.with_suffix(".md"), pack_docx(pack, stem.with_suffix(".docx"))]
    if pdf:
        written.append(to_pdf(written[1]))
    click.echo(f"{pack.title}：新增和变更口径 {pack.change_count} 条（{len(pack.changes)} 个事项），"
               f"咨询最多 {len(pack.asked)} 个、拒答 {len(pack.refused)} 个问题，自测错题 {len(pack.missed)} 道，"
               f"月度自测 {len(pack.self_test)} 题。")
    for path in written:
        click.echo(f"已写入 {path}")


@training.command("plan")
@click.argument("learner", required=False, default="")
@click.option("--start", default="", help="开始日期，如 2026-12-01（默认下周一）")
@click.option("--out", "out_dir", type=_OUT, default=Path("."), show_default=True, help="输出目录")
@login_options
@data_options
def plan(settings, learner, start, out_dir, login):
    """新员工四周学习计划：事项按窗口遇到的频次排序，分四周，并标出学习记录中的进度。
    窗口人员可以看自己的计划（不写用户名或写自己的用户名）；看别人的需要组长/培训师或管理员账号。"""
    from bot.onboarding import onboarding_plan
    from bot.training_word import plan_docx

    own = not learner or learner == login.name
    with read_records(settings, login, "study" if own else "training") as records:
        made = onboarding_plan(records, login.reader, learner, start)
    path = plan_docx(made, out_dir / f"四周学习计划-{made.username}-{made.start}.docx")
    click.echo(f"{made.title}：共 {len(made.items)} 个事项；已完成 {made.count('done')} 个，"
               f"进行中 {made.count('started')} 个，未开始 {made.count('todo')} 个。")
    for week in made.weeks:
        names = "、".join(i.item for i in week.items[:6]) + ("……" if len(week.items) > 6 else "")
        click.echo(f"第 {week.number} 周（{week.start} 至 {week.end}）：{names or '复习'}")
    click.echo(f"已写入 {path}")


@training.command("evaluation")
@click.option("--quarter", required=True, help="季度，如 2026Q4")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="输出的 xlsx 文件（默认 季度考评-季度.xlsx）")
@login_options
@data_options
def evaluation(settings, quarter, out_file, login):
    """季度考评：每人和每个小组的自测成绩、提交和审核通过的案例、处理的办不成事，导出 xlsx（个人、小组两张表）。"""
    from bot.evaluation import evaluation_xlsx, quarterly_evaluation

    with read_records(settings, login, "training") as records:
        made = quarterly_evaluation(records, quarter, login.reader)
    path = evaluation_xlsx(made, out_file or Path(f"季度考评-{made.quarter}.xlsx"))
    click.echo(f"{made.quarter} 季度考评（{made.since} 至 {made.until}）：{len(made.people)} 人，"
               f"{len(made.groups)} 个小组。已写入 {path}")
