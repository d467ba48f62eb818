"""自测's 错题本 and retries, and the question widgets and marked answers the paper shares with it.

A question is shown to a taker as a :class:`Field` made from a :class:`kb.papers.SheetQuestion`
(which has no key): a heading (number, type, points, stem) and one input, a radio for 单选/判断, a
checkbox group for 多选, a text box for 填空 and a multi-line one for 简答. :func:`response` turns the
input's value into the answer string the grader takes ("B", "AC", "正确", free text).

The 错题本 is the logged-in account's own (:meth:`kb.wrong_book.WrongBook.of`, permission
``exam``). A retry shows one wrong question without its key; the answer is graded at once
(:func:`bot.grading.grader`, by the chat model when one is set, outside the lock): right, it leaves
the book (:meth:`~kb.wrong_book.WrongBook.master`); wrong, the key and the explanation are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from bot.grading import grader
from kb.attempts import Marking
from kb.wrong_book import Wrong, WrongBook
from kb.papers import LETTERS, SheetQuestion
from kb.quizbank import QuizQuestion

from .context import Context, acting, plain, shown_errors

BOOK_HEADERS = ["题型", "题干", "你的答案", "错误次数", "试卷", "学习条目"]
JUDGE_CHOICES = ("正确", "错误")


@dataclass(frozen=True)
class Field:
    """One question as a taker sees it: ``heading`` is Markdown (stored text escaped); ``widget`` is
    ``radio``, ``checkbox`` or ``text``; ``choices`` are (shown label, value) pairs; ``lines`` the
    text box's height in lines."""

    number: int
    kind: str
    heading: str
    widget: str
    choices: tuple[tuple[str, str], ...] = ()
    lines: int = 1


def field_of(question: SheetQuestion) -> Field:
    """The heading and input of a sheet question (no key: a sheet has none)."""
    heading = f"**第 {question.number} 题**（{question.label}，{question.points:g} 分）\n\n{plain(question.stem)}"
    if question.kind in ("single", "multiple"):
        choices = tuple((f"{LETTERS[i]}. {option}", LETTERS[i]) for i, option in enumerate(question.options))
        return Field(question.number, question.kind, heading, "radio" if question.kind == "single" else "checkbox",
                     choices)
    if question.kind == "judge":
        return Field(question.number, question.kind, heading, "radio",
                     tuple((c, c) for c in (question.options or JUDGE_CHOICES)))
    return Field(question.number, question.kind, heading, "text", lines=5 if question.kind == "short" else 1)


def widget(field: Field, value=None) -> gr.components.Component:
    """The gradio input of ``field``, created in the current Blocks context, labelled 第 n 题作答,
    showing ``value`` (an input value as :func:`response` takes it; None: unanswered)."""
    name = f"第 {field.number} 题作答"
    if field.widget == "radio":
        return gr.Radio(list(field.choices), value=value, label=name)
    if field.widget == "checkbox":
        return gr.CheckboxGroup(list(field.choices), value=value or [], label=name + "（可多选）")
    return gr.Textbox(value=value or "", label=name, lines=field.lines, max_lines=max(field.lines, 8),
                      placeholder="请填写答案" if field.lines == 1 else "请分条写出要点")


def response(kind: str, value) -> str:
    """An input's value as the answer string of a question of type ``kind``: option letters in order
    for 多选 ("AC"), the letter or 正确/错误 for 单选/判断, the text (trimmed) otherwise; '' unanswered."""
    if value is None:
        return ""
    if kind == "multiple":
        return "".join(sorted(str(v) for v in value))
    return str(value).strip()


def _with_options(question: QuizQuestion, letters: str) -> str:
    if question.kind not in ("single", "multiple"):
        return letters
    return "；".join(f"{k}. {question.options[LETTERS.index(k)]}" if k in LETTERS[:len(question.options)] else k
                    for k in letters)


def given(question: QuizQuestion, text: str) -> str:
    """A taker's answer as shown: chosen letters with their option text; '（未作答）' when empty."""
    return _with_options(question, text) if text else "（未作答）"


def key_of(question: QuizQuestion) -> str:
    """The key as shown: the right options with their text, 正确/错误, the blanked term or the reference answer."""
    return _with_options(question, "".join(question.answer)) if question.kind in ("single", "multiple") \
        else "；".join(question.answer)


def sources_of(ctx: Context, question: QuizQuestion) -> str:
    """The cited entries as 'ID 第 n 版《问题》' (the entry's current question when it still exists)."""
    shown = []
    for s in question.sources:
        entry = ctx.kb.entry(s.entry_id)
        shown.append(f"{s.entry_id} 第 {s.version} 版" + (f"《{entry.question}》" if entry else ""))
    return "；".join(shown)


def marked(ctx: Context, question: QuizQuestion, text: str, marking: Marking) -> str:
    """Markdown lines after grading: your answer, the key, the score, missed points, the 解析 and sources."""
    lines = [f"- 你的答案：{plain(given(question, text))}",
             f"- 正确答案：{plain(key_of(question))}",
             f"- 得分：{marking.score:g} / {marking.points:g}" + ("（正确）" if marking.correct else "")]
    if marking.missed:
        lines.append(f"- 未答到的要点：{plain('；'.join(marking.missed))}")
    if marking.note:
        lines.append(f"- 说明：{plain(marking.note)}")
    lines.append("- 解析：" + "<br>".join(plain(line) for line in question.explanation.split("\n")))
    lines.append(f"- 学习条目：{plain(sources_of(ctx, question))}")
    return "\n".join(lines)


def _wrong(ctx: Context, request: gr.Request | None, key: str | None) -> tuple:
    user = acting(ctx, request, "exam")
    with ctx.lock, shown_errors():
        found = next((w for w in WrongBook(ctx.kb.records).of(user) if w.key == key), None)
    if found is None:
        raise gr.Error("这道题不在你的错题本里（可能已经重做答对）：请刷新错题本后重新选择。", title="没有这道错题")
    return user, found


def book(ctx: Context, request: gr.Request | None) -> tuple[list[tuple[str, str]], list[list[str]], str]:
    """The logged-in account's 错题本: picker choices (label, question key), table rows, and the
    Markdown of every wrong question with its key, 解析 and the entries to study."""
    user = acting(ctx, request, "exam")
    with ctx.lock, shown_errors():
        wrongs: list[Wrong] = WrongBook(ctx.kb.records).of(user)
    choices, rows, notes = [], [], []
    for i, w in enumerate(wrongs, 1):
        q = w.question.question
        stem = q.stem if len(q.stem) <= 40 else q.stem[:40] + "…"
        choices.append((f"{i}. [{q.label}] {stem}", w.key))
        rows.append([q.label, q.stem, given(q, w.response), str(w.times), w.paper_id,
                     "、".join(s.entry_id for s in q.sources)])
        notes.append(f"**{i}. [{q.label}]** {plain(q.stem)}（错 {w.times} 次）\n\n{marked(ctx, q, w.response, w.marking)}")
    return choices, rows, "\n\n".join(notes) or "错题本是空的。"


def retry_field(ctx: Context, key: str | None, request: gr.Request | None) -> Field:
    """The wrong question ``key`` of the logged-in account to answer again, without its key."""
    _, wrong = _wrong(ctx, request, key)
    q = wrong.question
    return field_of(SheetQuestion(q.number, q.question.kind, q.question.stem, q.question.options, q.points))


def retry(ctx: Context, key: str | None, text: str, request: gr.Request | None) -> tuple[bool, str]:
    """Grade a new answer ``text`` to wrong question ``key``: right, it is mastered and leaves the book;
    wrong, the key is shown. Returns whether it was right and the Markdown verdict."""
    user, wrong = _wrong(ctx, request, key)
    question = wrong.question.question
    marking = grader(ctx.llm)(question, text, wrong.question.points)  # a slow model holds no lock
    if marking.correct:
        with ctx.lock, shown_errors():
            WrongBook(ctx.kb.records).master(user, wrong.key)
        return True, f"**回答正确**，这道题已移出错题本。\n\n{marked(ctx, question, text, marking)}"
    return False, f"**仍未答对**，请对照正确答案和学习条目再学习。\n\n{marked(ctx, question, text, marking)}"


def build(ctx: Context) -> gr.Tab:
    """The 错题本 tab: the table, the keys and 解析 (folded), and 重做 of one question; returns the tab,
    whose selection refreshes it."""
    with gr.Tab("错题本") as tab:
        table = gr.Dataframe(headers=BOOK_HEADERS, datatype="str", interactive=False, wrap=True)
        with gr.Accordion("正确答案与解析", open=False):
            notes = gr.Markdown()
        with gr.Row():
            pick = gr.Dropdown([], value=None, label="选择一道错题重做", scale=4)
            refresh = gr.Button("刷新错题本", scale=1)
        chosen = gr.State(None)
        heading = gr.Markdown()
        choice = gr.Radio([], label="作答", visible=False)
        many = gr.CheckboxGroup([], label="作答（可多选）", visible=False)
        text = gr.Textbox(label="作答", visible=False)
        send = gr.Button("提交重做", variant="primary")
        verdict = gr.Markdown()

    def on_refresh(request: gr.Request):
        choices, rows, shown = book(ctx, request)
        return rows, shown, gr.Dropdown(choices=choices, value=None), None, "", gr.Radio(visible=False), \
            gr.CheckboxGroup(visible=False), gr.Textbox(visible=False)

    def on_pick(key, request: gr.Request):
        if not key:
            return None, "", gr.Radio(visible=False), gr.CheckboxGroup(visible=False), gr.Textbox(visible=False), ""
        f = retry_field(ctx, key, request)
        return (key, f.heading, gr.Radio(list(f.choices), value=None, visible=f.widget == "radio"),
                gr.CheckboxGroup(list(f.choices), value=[], visible=f.widget == "checkbox"),
                gr.Textbox(value="", lines=f.lines, visible=f.widget == "text"), "")

    def on_send(key, one, several, typed, request: gr.Request):
        if not key:
            raise gr.Error("请先在上方选择一道错题。", title="没有选择错题")
        f = retry_field(ctx, key, request)
        value = {"radio": one, "checkbox": several}.get(f.widget, typed)
        right, shown = retry(ctx, key, response(f.kind, value), request)
        choices, rows, notes_md = book(ctx, request)
        if not right:
            return shown, rows, notes_md, gr.Dropdown(choices=choices), key, *(gr.skip() for _ in range(4))
        return shown, rows, notes_md, gr.Dropdown(choices=choices, value=None), None, "", \
            gr.Radio(visible=False), gr.CheckboxGroup(visible=False), gr.Textbox(visible=False)

    reset = [table, notes, pick, chosen, heading, choice, many, text]
    refresh.click(on_refresh, None, reset, api_visibility="private")
    tab.select(on_refresh, None, reset, api_visibility="private")
    pick.input(on_pick, pick, [chosen, heading, choice, many, text, verdict], api_visibility="private")
    send.click(on_send, [chosen, choice, many, text],
               [verdict, table, notes, pick, chosen, heading, choice, many, text], api_visibility="private")
    return tab
