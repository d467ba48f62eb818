"""题库: the trainer builds a bank from a period's entries, previews it, sees stale questions and edits one.

A bank is built offline by :func:`bot.quiz.build`, or by the chat model of ``ctx.llm`` when one is
set and 用大模型出题 is ticked (:func:`bot.quiz_llm.build_with_llm`, which drops invalid items), from the
entries published in a quarter or a date range (:func:`kb.quizbank.period_entries`), avoiding last
quarter's facts, and stored with :meth:`kb.quizbank.QuizBank.save`. Generation runs outside
``ctx.lock`` (a model may be slow); reading the entries and saving the bank run under it.

Every handler admits the logged-in account to ``quiz`` first; the bank methods check it again, so a
staff account is refused through the page and the API alike. Banks hold the keys: only trainers see this.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import gradio as gr

from bot.quiz import build as build_offline
from bot.quiz_llm import build_with_llm
from kb.attempts import quarter_of
from kb.catalog import Catalog
from kb.quizbank import DIFFICULTIES, KINDS, QuizBank, QuizQuestion, difficulty_mix, period, period_entries
from kb.records import now

from .context import Context, acting, plain, shown_errors
from .opening import Opening

TITLE = "题库"
DEFAULT_COUNTS = {"single": 10, "multiple": 5, "judge": 10, "blank": 10, "short": 5}
"""Questions of each type a new bank asks for unless the trainer changes them."""
HEADERS = ["题号", "题型", "难度", "题干", "答案", "过期原因"]
ALL = "全部"
HINT = ("按季度（或起止日期）从已发布的条目出题。同一题库不会有两道题考查同一知识点，也不重复上一季度题库考过的知识点。"
        "来源条目被修改、替代或下线的题目会标为“过期”，组卷时不会抽到。")
SHOWN_DROPS = 5
"""Reasons for dropped model items shown after a build."""
Progress = Callable[..., object]


def current_quarter() -> str:
    """The quarter of today, e.g. ``2026Q4``."""
    return quarter_of(now()[:10])


def whole(value) -> int | None:
    """A number box's ``value`` as a whole number; None when it is not one (empty, a fraction, text,
    nan or infinite)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) and number.is_integer() else None


def count(value, label: str, title: str) -> int:
    """A number box's ``value`` as a whole number ≥ 0; ``gr.Error`` titled ``title`` naming the field ``label``
    when it is not one."""
    number = whole(value)
    if number is None or number < 0:
        raise gr.Error(f"{label}“{value}”应为 0 或正整数。", title=title)
    return number


def quoted(value) -> str:
    """A number box's ``value`` in Chinese quotes for a message; nothing when the box is empty."""
    return "" if value is None else f"“{value}”"


def question_counts(values) -> dict[str, int]:
    """The per-type counts (in the order of :data:`KINDS`) as whole numbers ≥ 0; at least one above 0."""
    counts = {kind: count(value or 0, f"{KINDS[kind]}题数量", "题数有误") for kind, value in zip(KINDS, values)}
    if not any(counts.values()):
        raise gr.Error("请至少给一种题型填写题数。", title="题数有误")
    return counts


def make_bank(ctx: Context, request: gr.Request | None, quarter: str = "", since: str = "", until: str = "",
              item: str = "", department: str = "", earlier: bool = False, counts=None, mix: str = "",
              name: str = "", replace: bool = False, use_llm: bool = False,
              progress: Progress | None = None) -> tuple[str, str]:
    """Build and store a bank for the logged-in trainer; ``counts`` per type in :data:`KINDS` order
    (:data:`DEFAULT_COUNTS` if None). Returns the summary (Markdown) and the bank's id."""
    user = acting(ctx, request, "quiz")
    report = progress or (lambda *args, **kwargs: None)
    with shown_errors():
        bank_id, start, end = period(quarter, since, until)
        shares = difficulty_mix(mix)
    bank_id = (name or "").strip() or bank_id
    wanted = question_counts(DEFAULT_COUNTS.values() if counts is None else counts)
    item, department = ("" if v in (None, ALL) else v.strip() for v in (item, department))
    report(0.05, desc="正在读取条目…")
    with ctx.lock, shown_errors():
        banks = QuizBank(ctx.kb.records)
        pool = period_entries(ctx.kb.records, start, end, item, department, earlier)
        avoid = banks.previous_facts(start)
        taken = any(b.id == bank_id for b in banks.banks(user))
    if taken and not replace:
        raise gr.Error(f"题库 {bank_id} 已存在：换一个题库编号，或勾选“覆盖同编号的题库”重新生成。", title="题库已存在")
    if not pool:
        raise gr.Error(f"{start} 至 {end} 没有符合条件的已发布条目，无法出题：换一个时段、勾选“同时用以前的条目”，"
                       "或去掉事项/部门过滤。", title="没有可出题的条目")
    dropped: list[str] = []
    with shown_errors():
        if use_llm and ctx.llm is not None:
            def advance(done: int, total: int) -> None:
                report(0.1 + 0.8 * done / max(total, 1), desc=f"大模型正在出题（第 {done}/{total} 次请求）…")

            questions, made, dropped = build_with_llm(ctx.llm, pool, wanted, bank_id, avoid, shares, advance)
        else:
            report(0.1, desc=f"正在从 {len(pool)} 条条目离线出题…")
            questions, made = build_offline(pool, wanted, bank_id, avoid, shares)
    report(0.9, desc="正在保存题库…")
    filters = {"item": item, "department": department, "earlier": earlier, "counts": wanted, "mix": mix or "",
               "llm": bool(use_llm and ctx.llm)}
    with ctx.lock, shown_errors():
        saved = QuizBank(ctx.kb.records).save(user, bank_id, start, end, filters, questions, replace)
    report(1.0, desc="完成")
    return summary(saved.id, start, end, len(pool), questions, wanted, made, dropped), saved.id


def summary(bank_id: str, start: str, end: str, entries: int, questions: list[QuizQuestion],
            wanted: dict[str, int], made: int, dropped: list[str]) -> str:
    """What a build made, as Markdown: totals, per type against what was asked, per 难度, shortfalls,
    and why the model's invalid items were dropped (the first :data:`SHOWN_DROPS`)."""
    got = {kind: sum(q.kind == kind for q in questions) for kind in KINDS}
    lines = [f"**题库 {plain(bank_id)} 已保存**（{start} 至 {end}）：从 {entries} 条条目生成 {len(questions)} 道题"
             f"（候选 {made} 道，未通过质量检查或重复的已剔除" + (f"；大模型生成的无效题目 {len(dropped)} 道已丢弃" if dropped else "")
             + "）。",
             "题型：" + "，".join(f"{KINDS[k]} {got[k]}/{wanted[k]}" for k in KINDS if wanted[k]),
             "难度：" + "，".join(f"{d} {sum(q.difficulty == d for q in questions)}" for d in DIFFICULTIES)]
    short = [KINDS[k] for k in KINDS if got[k] < wanted[k]]
    if short:
        lines.append(f"注意：{'、'.join(short)}题目不足，条目中可出题的要点不够。")
    if dropped:
        lines.append("丢弃原因：" + "；".join(plain(reason) for reason in dropped[:SHOWN_DROPS])
                     + ("……" if len(dropped) > SHOWN_DROPS else ""))
    return "\n\n".join(lines)


def bank_choices(ctx: Context, request: gr.Request | None) -> list[tuple[str, str]]:
    """The banks as picker ``(label, id)`` choices, the latest period first."""
    user = acting(ctx, request, "quiz")
    with ctx.lock, shown_errors():
        banks = QuizBank(ctx.kb.records).banks(user)
    return [(f"{b.id}（{b.since} 至 {b.until}，{b.questions} 题" + (f"，过期 {b.stale} 题" if b.stale else "") + "）",
             b.id) for b in banks]


def answer_text(q: QuizQuestion) -> str:
    """A question's key as the trainer reads and edits it: option letters (``AC``), 正确/错误, the
    blanked terms one per line, or a 简答's reference answer."""
    return ("" if q.kind in ("single", "multiple") else "\n").join(q.answer)


def stem_text(q: QuizQuestion) -> str:
    """The stem with its lettered options on the following lines."""
    return "\n".join([q.stem, *(f"{letter}. {option}" for letter, option in zip("ABCDEF", q.options)
                                if q.kind in ("single", "multiple"))])


def bank_table(ctx: Context, bank_id: str | None, stale_only: bool,
               request: gr.Request | None) -> tuple[str, list[list[str]]]:
    """A bank's heading (Markdown) and its questions as rows of :data:`HEADERS`, only the stale ones
    with ``stale_only``; empty when no bank is picked."""
    user = acting(ctx, request, "quiz")
    if not bank_id:
        return "还没有选择题库。", []
    with ctx.lock, shown_errors():
        info = QuizBank(ctx.kb.records).bank(user, bank_id)
        questions = QuizBank(ctx.kb.records).questions(user, bank_id)
    rows = [[str(n), q.label, q.difficulty, stem_text(q), answer_text(q) if q.kind != "short"
             else "评分要点：" + "；".join(q.points), q.stale]
            for n, q in enumerate(questions, 1) if q.stale or not stale_only]
    head = (f"**题库 {plain(info.id)}**（{info.since} 至 {info.until}）：{info.questions} 道题，其中过期 {info.stale} 道；"
            f"{plain(info.created_by)} 生成于 {info.created_at[:16].replace('T', ' ')}。")
    return head, rows


def _question(ctx: Context, user, bank_id: str | None, number) -> QuizQuestion:
    if not bank_id:
        raise gr.Error("请先选择题库。", title="未选择题库")
    with ctx.lock, shown_errors():
        questions = QuizBank(ctx.kb.records).questions(user, bank_id)
    picked = whole(number)
    if picked is None or not 1 <= picked <= len(questions):
        raise gr.Error(f"题号{quoted(number)}不对：题库 {bank_id} 共 {len(questions)} 题，请填 1 至 {len(questions)}。",
                       title="题号有误")
    return questions[picked - 1]


def question_form(ctx: Context, bank_id: str | None, number,
                  request: gr.Request | None) -> tuple[str, str, str, str, str, str]:
    """Question ``number`` of a bank for editing: its heading (Markdown: type, 难度, stale reason),
    stem, options one per line, key (see :func:`answer_text`), explanation and 评分要点 one per line."""
    user = acting(ctx, request, "quiz")
    q = _question(ctx, user, bank_id, number)
    head = f"**第 {int(number)} 题**　{q.label}·{q.difficulty}" + (f"　**过期**：{plain(q.stale)}" if q.stale else "")
    return head, q.stem, "\n".join(q.options), answer_text(q), q.explanation, "\n".join(q.points)


def _key(kind: str, text: str) -> list[str]:
    if kind in ("single", "multiple"):
        return list(re.sub(r"[\s,，、;；]", "", text).upper())
    if kind == "short":
        return [text.strip()]
    return [line.strip() for line in text.splitlines() if line.strip()]


def save_question(ctx: Context, bank_id: str | None, number, stem: str, options: str, answer: str,
                  explanation: str, points: str, request: gr.Request | None) -> str:
    """Store the trainer's correction of question ``number`` (:meth:`QuizBank.edit`, which checks the key
    fits the type); ``options`` and ``points`` one per line. Returns a confirmation (Markdown)."""
    user = acting(ctx, request, "quiz")
    q = _question(ctx, user, bank_id, number)
    with ctx.lock, shown_errors():
        QuizBank(ctx.kb.records).edit(user, bank_id, int(number), stem or "", (options or "").splitlines(),
                                      _key(q.kind, answer or ""), explanation or "", (points or "").splitlines())
    return f"已保存题库 {plain(bank_id)} 第 {int(number)} 题。"


def build(ctx: Context, opening: Opening) -> tuple[Callable, list]:
    """The section: the build form with its progress, the bank picker and table, and the editor.
    Returns the refresher of its pickers (a handler of the request, and its outputs)."""
    gr.Markdown(HINT)
    with gr.Row():
        quarter = gr.Textbox(label="季度", info="如 2026Q4", max_lines=1)
        since = gr.Textbox(label="起始日期（可选）", info="填写起止日期时按日期范围出题", max_lines=1)
        until = gr.Textbox(label="截止日期（可选）", max_lines=1)
        name = gr.Textbox(label="题库编号（可选）", info="默认用季度或日期范围", max_lines=1)
    with gr.Row():
        item = gr.Dropdown([ALL], value=ALL, label="事项", allow_custom_value=True)
        department = gr.Dropdown([ALL], value=ALL, label="部门", allow_custom_value=True)
        mix = gr.Textbox(label="难度比例（易:中:难）", info="如 3:5:2；留空不限", max_lines=1)
    with gr.Row():
        counts = [gr.Number(DEFAULT_COUNTS[kind], label=f"{label}题数", precision=0)
                  for kind, label in KINDS.items()]
    with gr.Row():
        earlier = gr.Checkbox(False, label="同时用以前的条目（该时段以前发布、仍然有效的条目）")
        replace = gr.Checkbox(False, label="覆盖同编号的题库")
        use_llm = gr.Checkbox(ctx.llm is not None, label="用大模型出题", visible=ctx.llm is not None)
    make = gr.Button("生成题库", variant="primary")
    made = gr.Markdown()
    gr.Markdown("### 查看与修改题目")
    with gr.Row():
        bank = gr.Dropdown([], value=None, label="题库", scale=3)
        stale_only = gr.Checkbox(False, label="只看过期题目", scale=1)
    head = gr.Markdown()
    table = gr.Dataframe(headers=HEADERS, datatype="str", interactive=False, wrap=True, label="题目（点击一行可修改）",
                         column_widths=["6%", "6%", "6%", "50%", "20%", "12%"])
    with gr.Row():
        number = gr.Number(1, label="题号", precision=0, scale=1)
        load = gr.Button("载入这道题", scale=1)
    picked = gr.Markdown()
    stem = gr.Textbox(label="题干", lines=2)
    options = gr.Textbox(label="选项（每行一个，仅单选、多选题）", lines=4)
    with gr.Row():
        answer = gr.Textbox(label="答案", info="选择题写字母如 AC；判断题写 正确 或 错误；填空题每行一个答案", lines=2)
        points = gr.Textbox(label="评分要点（每行一个，仅简答题）", lines=2)
    explanation = gr.Textbox(label="解析", lines=3)
    save = gr.Button("保存修改", variant="primary")
    saved = gr.Markdown()
    form = [picked, stem, options, answer, explanation, points]

    def on_make(q, s, u, i, d, e, n1, n2, n3, n4, n5, m, n, r, llm, request: gr.Request, progress=gr.Progress()):
        text, bank_id = make_bank(ctx, request, q, s, u, i, d, e, [n1, n2, n3, n4, n5], m, n, r, llm, progress)
        return text, gr.Dropdown(choices=bank_choices(ctx, request), value=bank_id)

    def on_show(chosen, only, request: gr.Request):
        return bank_table(ctx, chosen, only, request)

    def on_load(chosen, n, request: gr.Request):
        return question_form(ctx, chosen, n, request)

    def on_select(chosen, evt: gr.SelectData, request: gr.Request):
        n = int(evt.row_value[0]) if evt.row_value else None
        return n, *question_form(ctx, chosen, n, request)

    def on_save(chosen, only, n, s, o, a, e, p, request: gr.Request):
        message = save_question(ctx, chosen, n, s, o, a, e, p, request)
        return message, *bank_table(ctx, chosen, only, request)

    def refresh(request: gr.Request):
        with ctx.lock:
            found = Catalog(ctx.kb.records).facets()
        choices = bank_choices(ctx, request)
        return (gr.Dropdown(choices=choices), gr.Dropdown(choices=[ALL, *found.items]),
                gr.Dropdown(choices=[ALL, *found.departments]))

    inputs = [quarter, since, until, item, department, earlier, *counts, mix, name, replace, use_llm]
    make.click(on_make, inputs, [made, bank], api_visibility="private")
    bank.change(on_show, [bank, stale_only], [head, table], api_visibility="private")
    stale_only.change(on_show, [bank, stale_only], [head, table], api_visibility="private")
    load.click(on_load, [bank, number], form, api_visibility="private")
    table.select(on_select, bank, [number, *form], api_visibility="private")
    save.click(on_save, [bank, stale_only, number, stem, options, answer, explanation, points], [saved, head, table],
               api_visibility="private")
    opening.load(current_quarter, None, quarter, show_progress="hidden", api_visibility="private")
    return refresh, [bank, item, department]
