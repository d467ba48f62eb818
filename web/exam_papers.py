"""组卷与分配: the trainer composes a paper from a bank, assigns it to people, groups or everyone with a
deadline, and downloads a paper version or a whole bank as Word, Excel, Moodle XML, GIFT or JSON.

Papers are :class:`kb.papers.Papers` (composing draws no stale question; version B shuffles the order
and the options); files are written by :func:`bot.paper_export.export` into a new folder of the
page's :class:`~web.downloads.Downloads` for the request. Every handler admits the logged-in account
to ``quiz`` first (the paper methods check it again): papers with keys are for trainers only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import gradio as gr

from bot.paper_export import FORMATS, export
from kb.dates import ACCEPTED, parse_date
from kb.department import approvals
from kb.papers import DEFAULT_POINTS, TARGET_KINDS, VARIANTS, PaperQuestion, Papers, people
from kb.quizbank import KINDS, QuizBank

from .context import Context, acting, plain, shown_errors
from .downloads import Downloads
from .exam_bank import bank_choices, count
from .opening import Opening

TITLE = "组卷与分配"
PAPER_HEADERS = ["试卷编号", "标题", "题库", "版本", "题数", "总分", "时长", "组卷人", "组卷时间", "审批部门审定"]
ASSIGNMENT_HEADERS = ["试卷编号", "标题", "对象类型", "对象", "截止日期", "分配人"]
DEFAULT_COUNTS = {"single": 5, "multiple": 3, "judge": 5, "blank": 5, "short": 2}
"""Questions of each type a new paper draws unless the trainer changes them."""
EVERYONE_LABEL = "全体人员"
_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


def compose_paper(ctx: Context, bank_id: str | None, title: str, counts, points, two_versions: bool,
                  time_limit, paper_id: str, request: gr.Request | None) -> tuple[str, str]:
    """Compose a paper from bank ``bank_id``: ``counts`` and ``points`` per type in :data:`KINDS` order,
    A/B versions if ``two_versions``, ``time_limit`` in minutes (0: untimed), ``paper_id`` optional.
    Returns a confirmation (Markdown) and the new paper's id."""
    user = acting(ctx, request, "quiz")
    if not bank_id:
        raise gr.Error("请先选择题库。", title="未选择题库")
    wanted = {kind: count(n or 0, f"{label}题数", "数字有误") for (kind, label), n in zip(KINDS.items(), counts)}
    worth = {kind: float(DEFAULT_POINTS[kind] if p is None else p) for kind, p in zip(KINDS, points)}
    minutes = count(time_limit or 0, "考试时长（分钟）", "数字有误")
    with ctx.lock, shown_errors():
        paper = Papers(ctx.kb.records).compose(user, bank_id, title or "", wanted, worth, 2 if two_versions else 1,
                                               minutes, paper_id or "")
    return (f"**试卷 {plain(paper.id)} 已组好**：《{plain(paper.title)}》，{len(paper.questions)} 题，"
            f"满分 {paper.total:g} 分，{'A/B 两个版本' if len(paper.variants) > 1 else '一个版本'}，"
            f"{_minutes(paper.time_limit)}。"), paper.id


def _minutes(limit: int) -> str:
    return f"限时 {limit} 分钟" if limit else "不限时"


def paper_choices(ctx: Context, request: gr.Request | None) -> list[tuple[str, str]]:
    """The papers as picker ``(label, id)`` choices, the newest first."""
    user = acting(ctx, request, "quiz")
    with ctx.lock, shown_errors():
        papers = Papers(ctx.kb.records).papers(user)
    return [(f"{p.id}　{p.title}（{'/'.join(p.variants)} 卷，{len(p.questions)} 题）", p.id) for p in papers]


def paper_rows(ctx: Context, request: gr.Request | None) -> list[list[str]]:
    """Every paper as a row of :data:`PAPER_HEADERS`, the newest first."""
    user = acting(ctx, request, "quiz")
    with ctx.lock, shown_errors():
        papers = Papers(ctx.kb.records).papers(user)
        approved = approvals(ctx.kb.records)
    return [[p.id, p.title, p.bank_id, "/".join(p.variants), str(len(p.questions)), f"{p.total:g}",
             _minutes(p.time_limit), p.created_by, p.created_at[:16].replace("T", " "),
             "；".join(f"{a.name} {a.questions} 题" for a in approved if a.paper_id == p.id) or "—"] for p in papers]


def people_choices(ctx: Context, request: gr.Request | None) -> tuple[list[tuple[str, str]], list[str]]:
    """The assign pickers' choices: active accounts as ``(姓名（用户名）, username)`` and their groups."""
    acting(ctx, request, "quiz")
    with ctx.lock:
        found = people(ctx.kb.records)
    users = [(f"{u.display_name or u.username}（{u.username}）", u.username) for u in found]
    return users, sorted({u.group for u in found if u.group})


def deadline_of(value: str | None) -> str:
    """The deadline as an ISO date ('' for none); ``gr.Error`` if unreadable or already past."""
    day = parse_date((value or "").strip())
    if day is None:
        raise gr.Error(f"截止日期“{value}”无法识别。请写成 {ACCEPTED}（如 2026-12-31），不设截止请留空。",
                       title="截止日期有误")
    if day and day < date.today().isoformat():
        raise gr.Error(f"截止日期 {day} 已经过去，分配后没人能作答：请选今天或以后的日期。", title="截止日期有误")
    return day


def assign_paper(ctx: Context, paper_id: str | None, target_kind: str, users: list[str] | None,
                 groups: list[str] | None, deadline: str | None, request: gr.Request | None) -> str:
    """Assign a paper to the chosen ``users`` (``target_kind`` user), ``groups`` (group) or everyone
    (all) with an optional deadline; returns a confirmation (Markdown)."""
    user = acting(ctx, request, "quiz")
    if not paper_id:
        raise gr.Error("请先选择试卷。", title="未选择试卷")
    day = deadline_of(deadline)
    targets = {"user": users, "group": groups}.get(target_kind) or []
    with ctx.lock, shown_errors():
        count = Papers(ctx.kb.records).assign(user, paper_id, target_kind, list(targets), day)
    whom = EVERYONE_LABEL if target_kind == "all" else f" {count} 个{TARGET_KINDS[target_kind]}"
    return f"试卷 {plain(paper_id)} 已分配给{whom}，" + (f"截止日期 {day}。" if day else "不设截止日期。")


def assignment_rows(ctx: Context, paper_id: str | None, request: gr.Request | None) -> list[list[str]]:
    """The assignments of one paper (or of every paper when none is picked) as rows of :data:`ASSIGNMENT_HEADERS`."""
    acting(ctx, request, "quiz")
    with ctx.lock, shown_errors():
        found = Papers(ctx.kb.records).assignments(paper_id or "")
    return [[a.paper_id, a.title, TARGET_KINDS[a.target_kind], EVERYONE_LABEL if a.target_kind == "all" else a.target,
             a.deadline or "不设", a.assigned_by] for a in found]


def file_name(*parts: str) -> str:
    """A safe file name (no folders, spaces or characters Windows refuses) of ``parts`` joined by ``-``."""
    return "-".join(_UNSAFE.sub("_", p).strip("._") or "试卷" for p in parts)[:120]


def _format(fmt: str | None) -> tuple[str, str]:
    if fmt not in FORMATS:
        raise gr.Error("请选择下载格式。", title="未选择格式")
    return FORMATS[fmt]


def export_paper(ctx: Context, paper_id: str | None, variant: str | None, fmt: str | None,
                 request: gr.Request | None, downloads: Downloads) -> str:
    """Write version ``variant`` of a paper in format ``fmt`` (a key of :data:`FORMATS`) to a new
    download folder of the logged-in trainer; returns the file's path."""
    user = acting(ctx, request, "quiz")
    if not paper_id:
        raise gr.Error("请先选择试卷。", title="未选择试卷")
    label, suffix = _format(fmt)
    with ctx.lock, shown_errors():
        paper = Papers(ctx.kb.records).paper(user, paper_id, variant or "A")
    target = downloads.folder(user.username) / (file_name(paper.title, f"{paper.variant}卷", label) + suffix)
    with shown_errors():
        return str(export(fmt, f"{paper.title}（{paper.variant}卷）", paper.questions, target))


def export_bank(ctx: Context, bank_id: str | None, fmt: str | None, request: gr.Request | None,
                downloads: Downloads) -> str:
    """Write a whole bank's current (not stale) questions, each worth its type's default points, in
    format ``fmt`` to a new download folder of the logged-in trainer; returns the file's path."""
    user = acting(ctx, request, "quiz")
    if not bank_id:
        raise gr.Error("请先选择题库。", title="未选择题库")
    label, suffix = _format(fmt)
    with ctx.lock, shown_errors():
        questions = QuizBank(ctx.kb.records).questions(user, bank_id)
    numbered = [(n, q) for n, q in enumerate(questions, 1) if not q.stale]
    wrapped = [PaperQuestion(i, q, DEFAULT_POINTS[q.kind], f"{bank_id}#{n}") for i, (n, q) in enumerate(numbered, 1)]
    target = downloads.folder(user.username) / (file_name(f"题库{bank_id}", label) + suffix)
    with shown_errors():
        return str(export(fmt, f"题库 {bank_id}", wrapped, target))


def build(ctx: Context, opening: Opening) -> tuple[Callable, list]:
    """The section: compose, the papers, assign, the assignments, and the downloads. Returns the
    refresher of its pickers and tables (a handler of the request, and its outputs)."""
    downloads = Downloads("kb-papers-")
    formats = [(label, fmt) for fmt, (label, _) in FORMATS.items()]
    gr.Markdown("### 组卷")
    with gr.Row():
        bank = gr.Dropdown([], value=None, label="题库", scale=2)
        title = gr.Textbox(label="试卷标题", placeholder="如：2026年第四季度业务知识测试", max_lines=1, scale=2)
        paper_id = gr.Textbox(label="试卷编号（可选）", info="默认由题库编号和时间生成", max_lines=1, scale=1)
    with gr.Row():
        counts = [gr.Number(DEFAULT_COUNTS[k], label=f"{label}题数", precision=0)
                  for k, label in KINDS.items()]
    with gr.Row():
        points = [gr.Number(DEFAULT_POINTS[k], label=f"{label}每题分值") for k, label in KINDS.items()]
    with gr.Row():
        two = gr.Checkbox(False, label="A/B 两个版本（B 卷题序和选项顺序打乱）")
        limit = gr.Number(0, label="时长（分钟，0 为不限时）", precision=0)
        compose = gr.Button("组卷", variant="primary")
    composed = gr.Markdown()
    papers = gr.Dataframe(headers=PAPER_HEADERS, datatype="str", interactive=False, wrap=True, label="试卷")
    gr.Markdown("### 分配")
    with gr.Row():
        paper = gr.Dropdown([], value=None, label="试卷", scale=2)
        kind = gr.Radio([(label, key) for key, label in TARGET_KINDS.items()], value="group", label="分配给", scale=1)
        deadline = gr.Textbox(label="截止日期（可选）", info="如 2026-12-31；留空不设截止", max_lines=1, scale=1)
    with gr.Row():
        users = gr.Dropdown([], value=[], multiselect=True, label="人员（分配给人员时）")
        groups = gr.Dropdown([], value=[], multiselect=True, label="小组（分配给小组时）")
    assign = gr.Button("分配", variant="primary")
    assigned = gr.Markdown()
    assignments = gr.Dataframe(headers=ASSIGNMENT_HEADERS, datatype="str", interactive=False, wrap=True,
                               label="已分配（所选试卷）")
    gr.Markdown("### 下载")
    with gr.Row():
        variant = gr.Radio(list(VARIANTS), value="A", label="试卷版本")
        paper_format = gr.Dropdown(formats, value="docx", label="试卷格式")
        get_paper = gr.Button("下载所选试卷")
    with gr.Row():
        bank_format = gr.Dropdown(formats, value="xlsx", label="题库格式")
        get_bank = gr.Button("下载所选题库（不含过期题目）")
    file = gr.File(label="下载文件", interactive=False)

    def on_compose(b, t, n1, n2, n3, n4, n5, p1, p2, p3, p4, p5, ab, minutes, pid, request: gr.Request):
        text, new = compose_paper(ctx, b, t, [n1, n2, n3, n4, n5], [p1, p2, p3, p4, p5], ab, minutes, pid, request)
        return text, paper_rows(ctx, request), gr.Dropdown(choices=paper_choices(ctx, request), value=new)

    def on_assign(p, k, chosen_users, chosen_groups, day, request: gr.Request):
        text = assign_paper(ctx, p, k, chosen_users, chosen_groups, day, request)
        return text, assignment_rows(ctx, p, request)

    def on_paper(p, request: gr.Request):
        return assignment_rows(ctx, p, request)

    def on_get_paper(p, v, fmt, request: gr.Request):
        return export_paper(ctx, p, v, fmt, request, downloads)

    def on_get_bank(b, fmt, request: gr.Request):
        return export_bank(ctx, b, fmt, request, downloads)

    def refresh(request: gr.Request):
        names, teams = people_choices(ctx, request)
        return (gr.Dropdown(choices=bank_choices(ctx, request)), gr.Dropdown(choices=paper_choices(ctx, request)),
                paper_rows(ctx, request), gr.Dropdown(choices=names), gr.Dropdown(choices=teams))

    compose.click(on_compose, [bank, title, *counts, *points, two, limit, paper_id], [composed, papers, paper],
                  api_visibility="private")
    assign.click(on_assign, [paper, kind, users, groups, deadline], [assigned, assignments], api_visibility="private")
    paper.change(on_paper, paper, assignments, api_visibility="private")
    get_paper.click(on_get_paper, [paper, variant, paper_format], file, api_visibility="private")
    get_bank.click(on_get_bank, [bank, bank_format], file, api_visibility="private")
    return refresh, [bank, paper, papers, users, groups]
