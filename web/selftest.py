"""自测: the papers assigned to the logged-in account (and open practice papers), taken online.

我的试卷 lists them with their deadline and the account's status (未开始/作答中/已提交 with the
score). 开始作答 starts or resumes an attempt (:meth:`kb.attempts.Attempts.start`): the page gets
only the :class:`kb.papers.Sheet`, which has no key, and keeps the attempt id and the sheet in the
session's server-side state; the questions are drawn by ``@gr.render`` from that sheet. A timed
paper shows a countdown computed on the server from the attempt's recorded start; when it runs out
the answers as they stand are submitted. Every change of an answer is saved at once as the attempt's
draft (:meth:`~kb.attempts.Attempts.save_draft`, one small write; a status line shows the time), and
resuming the attempt after a reload, a crash or a dropped connection pre-fills the sheet from it.
提交 grades them (:func:`bot.grading.grader`) and shows the score and, per question, the answer, the
key, the points, the missed points, the 解析 and the entries it cites. The key is read only by the
library on submission and for a submitted attempt; asking for the result of an open attempt is
refused by :meth:`~kb.attempts.Attempts.result`.

Every handler acts for the logged-in account with permission ``exam``; the 错题本 tab is
:mod:`web.selftest_book`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import gradio as gr

from bot.grading import grader
from kb.attempts import Attempt, Attempts, Result
from kb.papers import LETTERS, Papers, Sheet

from . import selftest_book
from .context import Context, account, acting, plain, shown_errors
from .opening import Opening
from .selftest_book import Field, field_of, marked, response, widget

TITLE = "自测"
ROLES = frozenset({"staff", "reviewer", "admin"})
PROMPT = ("在“我的试卷”中选择分配给你的试卷或公开练习卷，点击“开始作答”；限时试卷到时会自动交卷。"
          "提交后可以看到得分、正确答案和解析；答错的题进入“错题本”，可以重做。")
PAPER_HEADERS = ["试卷", "编号", "截止日期", "时长", "状态", "得分"]
TICK = 5.0
"""Seconds between countdown updates of a timed paper."""


def _status(attempts: list[Attempt], deadline: str) -> tuple[str, str]:
    if any(not a.submitted_at and a.mode == "online" for a in attempts):
        return "作答中", ""
    done = [a for a in attempts if a.submitted_at]
    if done:
        return "已提交", f"{done[0].score:g} / {done[0].total:g}"
    return ("已截止" if deadline and datetime.now().date().isoformat() > deadline else "未开始"), ""


def paper_rows(ctx: Context, request: gr.Request | None) -> tuple[list[tuple[str, str]], list[list[str]]]:
    """The papers the logged-in account may take, earliest deadline first: picker choices
    (label, paper id) and table rows (title, id, deadline, time limit, status, latest score)."""
    user = acting(ctx, request, "exam")
    with ctx.lock, shown_errors():
        papers = Papers(ctx.kb.records)
        assigned = papers.assigned_to(user)
        limits = {a.paper_id: papers.sheet(a.paper_id).time_limit for a in assigned}
        mine = Attempts(ctx.kb.records).mine(user)
    choices, rows = [], []
    for a in assigned:
        status, score = _status([m for m in mine if m.paper_id == a.paper_id], a.deadline)
        kind = "练习" if a.target_kind == "all" and not a.deadline else "考试"
        choices.append((f"{a.title}（{kind}，{status}）", a.paper_id))
        rows.append([a.title, a.paper_id, a.deadline or "不限", f"{limits[a.paper_id]} 分钟" if limits[a.paper_id]
                     else "不限时", status, score])
    return choices, rows


def begin(ctx: Context, paper_id: str | None, request: gr.Request | None) -> tuple[int, Sheet, str]:
    """Start (or resume) the logged-in account's attempt at ``paper_id``: the attempt id, the sheet
    (no key) and the Markdown heading (title, questions, total points, time limit, start time)."""
    user = acting(ctx, request, "exam")
    if not paper_id:
        raise gr.Error("请先在上方选择一份试卷。", title="没有选择试卷")
    with ctx.lock, shown_errors():
        attempt, sheet = Attempts(ctx.kb.records).start(user, paper_id)
    limit = f"限时 {sheet.time_limit} 分钟，到时自动交卷" if sheet.time_limit else "不限时"
    heading = (f"### {plain(sheet.title)}（{sheet.variant} 卷）\n\n共 {len(sheet.questions)} 题，满分 {sheet.total:g} 分；"
               f"{limit}。开始时间：{attempt.started_at.replace('T', ' ')}")
    return attempt.id, sheet, heading


def fields(sheet: Sheet | None) -> list[Field]:
    """The questions of ``sheet`` as the page draws them (heading and input each; no key)."""
    return [field_of(q) for q in sheet.questions] if sheet else []


def responses(sheet: Sheet, values: list | tuple) -> dict[int, str]:
    """The inputs' ``values`` (in sheet order) as question number -> answer string."""
    return {q.number: response(q.kind, v) for q, v in zip(sheet.questions, values)}


def restored(ctx: Context, attempt_id: int, sheet: Sheet, request: gr.Request | None) -> list:
    """The inputs' values (in sheet order) from the saved draft of the logged-in account's attempt, as
    the sheet is pre-filled when resumed: letters as a list for 多选, None for an unanswered question."""
    user = acting(ctx, request, "exam")
    with ctx.lock, shown_errors():
        saved = Attempts(ctx.kb.records).draft(user, attempt_id)
    return [_value(q.kind, saved.get(q.number, "")) for q in sheet.questions]


def keep(ctx: Context, attempt_id: int | None, field: Field, value, request: gr.Request | None) -> str:
    """Save one input's ``value`` as the answer to ``field`` in the draft of the logged-in account's open
    attempt; the status line (已自动保存 and the time), '' when no attempt is open on the page."""
    user = acting(ctx, request, "exam")
    if attempt_id is None:
        return ""
    with ctx.lock, shown_errors():
        at = Attempts(ctx.kb.records).save_draft(user, attempt_id, {field.number: response(field.kind, value)})
    return f"已自动保存 {at[11:19]}"


def resumed_note(values: list | tuple) -> str:
    """The status line of a sheet pre-filled with ``values``: how many saved answers were restored."""
    answered = sum(1 for v in values if v)
    return f"已恢复上次自动保存的 {answered} 题答案。" if answered else ""


def seconds_left(ctx: Context, attempt_id: int, request: gr.Request | None) -> int | None:
    """Seconds left of the logged-in account's open attempt (0 when time is up), counted on the
    server from its recorded start; None for an untimed paper or a submitted attempt."""
    user = acting(ctx, request, "exam")
    with ctx.lock, shown_errors():
        attempts = Attempts(ctx.kb.records)
        attempt = attempts.attempt(user, attempt_id)
        limit = attempts.papers.sheet(attempt.paper_id, attempt.variant).time_limit
    if not limit or attempt.submitted_at:
        return None
    end = datetime.fromisoformat(attempt.started_at) + timedelta(minutes=limit)
    return max(0, int((end - datetime.now()).total_seconds()))


def hand_in(ctx: Context, attempt_id: int | None, answers: dict[int, str], request: gr.Request | None) -> Result:
    """Submit and grade the logged-in account's open attempt (question number -> answer); its result.
    The grading (a model may mark 简答) runs without the knowledge base's lock, so others are not kept waiting."""
    user = acting(ctx, request, "exam")
    if attempt_id is None:
        raise gr.Error("请先选择试卷并点击“开始作答”。", title="没有正在作答的试卷")
    with ctx.lock, shown_errors():
        submission = Attempts(ctx.kb.records).handing_in(user, attempt_id, answers)
    with shown_errors():
        marks = submission.marks(grader(ctx.llm))
    with ctx.lock, shown_errors():
        return Attempts(ctx.kb.records).hand_in(user, submission, marks)


def tick(ctx: Context, attempt_id: int, sheet: Sheet, values: list | tuple,
         request: gr.Request | None) -> tuple[int | None, Result | None]:
    """The countdown of the logged-in account's attempt: (seconds left, None) while time remains
    (None seconds when untimed or submitted); when time is up the answers ``values`` (inputs in sheet
    order) are submitted as they stand and (0, the result) is returned."""
    left = seconds_left(ctx, attempt_id, request)
    if left is None or left > 0:
        return left, None
    return 0, hand_in(ctx, attempt_id, responses(sheet, values), request)


def result_of(ctx: Context, attempt_id: int, request: gr.Request | None) -> Result:
    """The result of one of the logged-in account's submitted attempts (refused while it is open)."""
    user = acting(ctx, request, "exam")
    with ctx.lock, shown_errors():
        return Attempts(ctx.kb.records).result(user, attempt_id)


def latest_result(ctx: Context, paper_id: str | None, request: gr.Request | None) -> Result:
    """The result of the logged-in account's latest submitted attempt at ``paper_id``."""
    user = acting(ctx, request, "exam")
    with ctx.lock, shown_errors():
        done = [a for a in Attempts(ctx.kb.records).mine(user) if a.paper_id == paper_id and a.submitted_at]
    if not done:
        raise gr.Error("这份试卷你还没有提交过答卷：提交后才能查看成绩和解析。", title="没有成绩")
    return result_of(ctx, done[0].id, request)


def report(ctx: Context, result: Result) -> str:
    """A submitted attempt as Markdown: the score, then each question with its marks and 解析."""
    a = result.attempt
    parts = [f"### {plain(result.title)}：得分 {a.score:g} / {a.total:g}",
             f"提交时间：{a.submitted_at.replace('T', ' ')}；答对 {sum(x.marking.correct for x in result.answers)}"
             f" / {len(result.answers)} 题。" + (f"**超过时限 {result.late_minutes} 分钟交卷。**" if result.late_minutes else "")]
    for x in result.answers:
        q = x.question.question
        options = "选项：" + "　".join(f"{LETTERS[i]}. {plain(o)}" for i, o in enumerate(q.options)) \
            if q.kind in ("single", "multiple") else ""
        parts.append(f"**第 {x.question.number} 题**（{q.label}，{x.question.points:g} 分）{plain(q.stem)}\n\n"
                     + (options + "\n\n" if options else "") + marked(ctx, q, x.response, x.marking))
    return "\n\n".join(parts)


def build(ctx: Context, opening: Opening) -> None:
    """The page: 我的试卷 (list, start, countdown, result, the questions drawn from the sheet, submit)
    and 错题本."""

    def listed(request: gr.Request):
        choices, rows = paper_rows(ctx, request)
        return rows, gr.Dropdown(choices=choices)

    def finished(result: Result, request: gr.Request, note: str = ""):
        rows, picker = listed(request)
        return (note + report(ctx, result), None, None, "", "", gr.Timer(active=False), rows, picker)

    gr.Markdown(PROMPT)
    with gr.Tabs():
        with gr.Tab("我的试卷"):
            table = gr.Dataframe(headers=PAPER_HEADERS, datatype="str", interactive=False, wrap=True)
            with gr.Row():
                pick = gr.Dropdown([], value=None, label="选择试卷", scale=3)
                start = gr.Button("开始作答", variant="primary", scale=1)
                view = gr.Button("查看成绩", scale=1)
                refresh = gr.Button("刷新", scale=1)
            heading = gr.Markdown()
            countdown = gr.Markdown()
            outcome = gr.Markdown()
            attempt = gr.State(None)
            sheet = gr.State(None)
            prefill = gr.State([])
            timer = gr.Timer(TICK, active=False)
            after = [outcome, attempt, sheet, heading, countdown, timer, table, pick]

            def keeper(f: Field):
                def on_input(request: gr.Request, attempt_id, value):
                    return keep(ctx, attempt_id, f, value, request)
                return on_input

            @gr.render(inputs=[sheet, prefill], triggers=[sheet.change])
            def questions(shown: Sheet | None, values: list):
                if shown is None:
                    return
                status = gr.Markdown(resumed_note(values))
                inputs = []
                for f, value in zip(fields(shown), values):
                    gr.Markdown(f.heading)
                    inputs.append(widget(f, value))
                    inputs[-1].input(keeper(f), [attempt, inputs[-1]], status, api_visibility="private",
                                     show_progress="hidden", trigger_mode="always_last")
                send = gr.Button("提交答卷", variant="primary")

                def on_send(request: gr.Request, attempt_id, *values):
                    return finished(hand_in(ctx, attempt_id, responses(shown, values), request), request)

                def on_tick(request: gr.Request, attempt_id, *values):
                    left, result = (tick(ctx, attempt_id, shown, values, request) if attempt_id is not None
                                    else (None, None))
                    if result is not None:
                        return finished(result, request, "**时间到，已自动交卷。**\n\n")
                    if left is None:
                        return (*(gr.skip() for _ in after[:5]), gr.Timer(active=False), gr.skip(), gr.skip())
                    return (*(gr.skip() for _ in after[:4]), _clock(left), gr.skip(), gr.skip(), gr.skip())

                send.click(on_send, [attempt, *inputs], after, api_visibility="private")
                timer.tick(on_tick, [attempt, *inputs], after, api_visibility="private", show_progress="hidden")
        selftest_book.build(ctx)

    def on_start(paper_id, request: gr.Request):
        attempt_id, shown, head = begin(ctx, paper_id, request)
        values = restored(ctx, attempt_id, shown, request)
        left = seconds_left(ctx, attempt_id, request)
        rows, picker = listed(request)
        return attempt_id, shown, values, head, _clock(left), gr.Timer(active=left is not None), "", rows, picker

    def on_view(paper_id, request: gr.Request):
        return report(ctx, latest_result(ctx, paper_id, request))

    def loaded(request: gr.Request):
        if account(ctx, request).role not in ROLES:
            return gr.skip(), gr.skip()
        return listed(request)

    start.click(on_start, pick, [attempt, sheet, prefill, heading, countdown, timer, outcome, table, pick],
                api_visibility="private")
    view.click(on_view, pick, outcome, api_visibility="private")
    refresh.click(listed, None, [table, pick], api_visibility="private")
    opening.load(loaded, None, [table, pick], api_visibility="private")


def _value(kind: str, text: str):
    if not text:
        return None
    return list(text) if kind == "multiple" else text


def _clock(left: int | None) -> str:
    if left is None:
        return ""
    return f"**剩余时间：{left // 60} 分 {left % 60:02d} 秒**"
