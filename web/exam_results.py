"""成绩: the results of a quarter and/or a paper — three charts, per-person and per-group scores with who
handed in late, the most missed questions and an xlsx — and the import of marks of papers taken on paper.

The report is :func:`bot.quiz_report.build_report` over :meth:`kb.attempts.Attempts.results` (each
person's latest attempt at each paper counts); its charts (PNG) and workbook are written into a new
folder of the page's :class:`~web.downloads.Downloads` for the request. Marks sheets (姓名, 题号, 得分)
are read by :func:`ingest.marks_sheet.read_marks_sheet` and stored by :func:`kb.paper_marks.import_marks`;
rows that cannot be read or stored are listed with their row numbers. Every handler admits the
logged-in account to ``quiz`` first.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gradio as gr

from bot.quiz_report import build_report, summary_lines, write_charts, write_workbook
from ingest.marks_sheet import read_marks_sheet
from kb.attempts import Attempts
from kb.dates import ACCEPTED, parse_date
from kb.paper_marks import import_marks as store_marks
from kb.papers import VARIANTS, people
from kb.quizbank import quarter_range

from .context import Context, acting, plain, read_upload, shown_errors
from .downloads import Downloads
from .exam_bank import current_quarter
from .exam_papers import file_name, paper_choices
from .opening import Opening

TITLE = "成绩"
PERSON_HEADERS = ["姓名", "用户名", "小组", "得分", "满分", "得分率", "是否及格", "作答次数", "最近提交", "超时交卷（分钟）",
                  "逾期（天）"]
GROUP_HEADERS = ["小组", "人数", "及格人数", "平均得分率", "及格率", "最高得分率", "最低得分率", "迟交份数"]
MISSED_HEADERS = ["题目编号", "题型", "事项", "题干", "作答次数", "失分次数", "错误率"]
ALL_PAPERS = ("全部试卷", "")
MARKS_HINT = ("导入纸质答卷的成绩：上传 .xlsx 或 .csv，第一行写“姓名”“题号”“得分”三列（姓名也可以写用户名），"
              "每人每题一行。同一人再次导入同一试卷会覆盖上次导入的成绩。")


def _percent(value: float) -> str:
    return f"{value:.1f}%"


def _blank(count: int) -> str:
    return str(count) if count else ""


def _quarter(value: str | None) -> str:
    quarter = (value or "").strip().upper().replace(" ", "")
    if quarter:
        with shown_errors():
            quarter_range(quarter)
    return quarter


def results(ctx: Context, quarter: str | None, paper_id: str | None, request: gr.Request | None,
            downloads: Downloads) -> tuple[str, list[str], list[list[str]], list[list[str]], list[list[str]], str]:
    """The report of ``quarter`` (``2026Q4``; empty: every quarter) and/or ``paper_id`` (empty: every
    paper): a summary (Markdown), the paths of its three charts, the rows of :data:`PERSON_HEADERS` (超时交卷
    and 逾期 blank when on time), :data:`GROUP_HEADERS` and :data:`MISSED_HEADERS`, and the path of its xlsx."""
    user = acting(ctx, request, "quiz")
    quarter, paper_id = _quarter(quarter), (paper_id or "").strip()
    with ctx.lock, shown_errors():
        found = Attempts(ctx.kb.records).results(user, quarter, paper_id)
        names = {u.username: u.display_name for u in people(ctx.kb.records)}
    with shown_errors():
        report = build_report(found, names, quarter, paper_id)
    folder = downloads.folder(user.username)
    try:
        charts = [str(p) for p in write_charts(report, folder)]
        parts = ["成绩报告", quarter or "全部季度", *([paper_id] if paper_id else [])]
        workbook = write_workbook(report, folder / (file_name(*parts) + ".xlsx"))
    except OSError as exc:
        raise gr.Error(f"无法写入成绩报告文件：{exc.strerror}。请检查服务器临时目录的空间和权限。",
                       title="报告未生成") from exc
    persons = [[p.name, p.username, p.group, f"{p.score:g}", f"{p.total:g}", _percent(p.percent),
                "是" if p.passed else "否", str(p.attempts), p.latest_at[:16].replace("T", " "),
                _blank(p.late_minutes), _blank(p.overdue_days)] for p in report.people]
    groups = [[g.group, str(g.people), str(g.passed), _percent(g.average_percent), _percent(g.pass_rate),
               _percent(g.best_percent), _percent(g.lowest_percent), str(g.late)] for g in report.groups]
    missed = [[m.key, m.kind, m.item, m.stem, str(m.answered), str(m.missed), _percent(m.error_rate)]
              for m in report.missed]
    summary = "\n\n".join(plain(line) for line in summary_lines(report)[:2])
    return summary, charts, persons, groups, missed, str(workbook)


def import_marks(ctx: Context, paper_id: str | None, variant: str | None, day: str | None, file: str | None,
                 request: gr.Request | None) -> str:
    """Import the marks sheet ``file`` for version ``variant`` of a paper taken on paper on ``day`` (ISO
    date; empty: today); returns how many people's marks were stored and every skipped row (Markdown)."""
    user = acting(ctx, request, "quiz")
    if not paper_id:
        raise gr.Error("请先选择纸质考试用的试卷。", title="未选择试卷")
    if not file:
        raise gr.Error("请先上传成绩表（.xlsx 或 .csv）。", title="未上传成绩表")
    taken = parse_date((day or "").strip())
    if taken is None:
        raise gr.Error(f"考试日期“{day}”无法识别。请写成 {ACCEPTED}，或留空表示今天。", title="日期有误")
    sheet = Path(file)
    if not sheet.is_file():
        raise gr.Error(f"成绩表“{sheet.name}”在服务器上已找不到（上传未完成或已过期），请重新上传。", title="未导入")
    with read_upload("成绩表", sheet, "未导入"):
        rows, unread = read_marks_sheet(sheet)
    with ctx.lock, shown_errors():
        count, refused = store_marks(ctx.kb.records, user, paper_id, rows, variant or "A", taken)
    problems = [*unread, *refused]
    text = f"**已导入 {count} 人的成绩**（试卷 {plain(paper_id)}，{variant or 'A'} 卷）。"
    if problems:
        text += (f"\n\n以下 {len(problems)} 行未导入，请改正后重新导入：\n\n"
                 + "\n".join(f"- {plain(p)}" for p in problems))
    return text


def build(ctx: Context, opening: Opening) -> tuple[Callable, list]:
    """The section: the filters, the charts and tables with the xlsx, and the marks import. Returns the
    refresher of its paper pickers (a handler of the request, and its outputs)."""
    downloads = Downloads("kb-results-")
    with gr.Row():
        quarter = gr.Textbox(label="季度", info="如 2026Q4；留空表示全部季度", max_lines=1)
        paper = gr.Dropdown([ALL_PAPERS], value="", label="试卷")
        show = gr.Button("查看成绩", variant="primary")
    summary = gr.Markdown()
    with gr.Row():
        charts = [gr.Image(type="filepath", label=label, interactive=False)
                  for label in ("成绩分布", "各组平均得分率", "薄弱事项")]
    workbook = gr.File(label="成绩报告（.xlsx）", interactive=False)
    persons = gr.Dataframe(headers=PERSON_HEADERS, datatype="str", interactive=False, wrap=True, label="个人成绩")
    groups = gr.Dataframe(headers=GROUP_HEADERS, datatype="str", interactive=False, wrap=True, label="小组成绩")
    missed = gr.Dataframe(headers=MISSED_HEADERS, datatype="str", interactive=False, wrap=True, label="易错题")
    with gr.Accordion("导入纸质答卷成绩", open=False):
        gr.Markdown(MARKS_HINT)
        with gr.Row():
            marked_paper = gr.Dropdown([], value=None, label="试卷")
            variant = gr.Radio(list(VARIANTS), value="A", label="试卷版本")
            day = gr.Textbox(label="考试日期（可选）", info="留空表示今天", max_lines=1)
        sheet = gr.File(label="成绩表（.xlsx 或 .csv）", file_types=[".xlsx", ".csv"], type="filepath")
        load = gr.Button("导入成绩", variant="primary")
        imported = gr.Markdown()

    def on_show(q, p, request: gr.Request):
        text, paths, *tables, book = results(ctx, q, p, request, downloads)
        return text, *paths, *tables, book

    def on_import(p, v, d, f, request: gr.Request):
        return import_marks(ctx, p, v, d, f, request)

    def refresh(request: gr.Request):
        choices = paper_choices(ctx, request)
        return gr.Dropdown(choices=[ALL_PAPERS, *choices]), gr.Dropdown(choices=choices)

    show.click(on_show, [quarter, paper], [summary, *charts, persons, groups, missed, workbook],
               api_visibility="private")
    load.click(on_import, [marked_paper, variant, day, sheet], imported, api_visibility="private")
    opening.load(current_quarter, None, quarter, show_progress="hidden", api_visibility="private")
    return refresh, [paper, marked_paper]
