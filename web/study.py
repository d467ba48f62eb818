"""学习: the new-hire study chat, and the trainer's 学员进度.

A learner picks a 事项 (weak and unseen ones are offered first, from their own record) or asks a
question freely (and can see their four-week onboarding plan, :mod:`bot.onboarding`); the tutor (:class:`bot.study.Tutor`) explains the entry (answer, 依据, related
entries) and asks a short question on it; the reply is checked and what was missed is explained with
the source. The lesson being answered is kept in the session's server-side state, so a reply always
refers to the question actually asked, and once answered it cannot be answered again.

The learner is always the logged-in account (permission ``study``). The 学员进度 table needs
``progress`` (组长/培训师, 管理员), checked by :class:`kb.learning.Learning` on every call, so a
staff account is refused through the page and the API alike. Stored text is escaped with
:func:`plain` in the chat and shown as plain text in tables.
"""

from __future__ import annotations

import gradio as gr

from bot.judge import LLMJudge
from bot.onboarding import onboarding_plan
from bot.study import Check, Lesson, Tutor, explanation, feedback
from bot.training_word import plan_markdown
from kb.learning import STATES, Learning

from .context import Context, account, acting, plain, shown_errors
from .opening import Opening

TITLE = "学习"
ROLES = frozenset({"staff", "reviewer", "admin"})
PROMPT = ("选择一个事项后点击“讲解下一条”（薄弱和未学的事项排在前面），或在“自由提问”中输入想学的问题。"
          "讲解之后请回答提问，系统会判断并讲解遗漏的要点。")
TOPIC_HEADERS = ["事项", "状态", "已学/条目", "答对", "答错", "最近学习"]
LEARNER_HEADERS = ["学员", "姓名", "已学事项", "已学条目", "答对", "答错", "最近学习"]


def _lines(text: str, bold_first: bool = False) -> str:
    """Plain text as Markdown paragraphs, every line escaped; the first line in bold if asked."""
    lines = [plain(line) for line in text.split("\n")]
    if bold_first:
        lines[0] = f"**{lines[0]}**"
    return "\n\n".join(lines)


def _when(at: str) -> str:
    return at.replace("T", " ") if at else "—"


def plan(ctx: Context, request: gr.Request | None) -> tuple[list[tuple[str, str]], list[list[str]]]:
    """The logged-in learner's topics in the order of the next session: the picker's (label, 事项)
    choices and the rows of their own record."""
    user = acting(ctx, request, "study")
    with ctx.lock, shown_errors():
        topics = Learning(ctx.kb.records).topics(user)
    choices = [(t.label, t.item) for t in topics]
    rows = [[t.item, STATES[t.state], f"{t.covered}/{t.entries}", str(t.correct), str(t.wrong), _when(t.last_at)]
            for t in topics]
    return choices, rows


def my_plan(ctx: Context, request: gr.Request | None) -> str:
    """The logged-in learner's four-week onboarding plan from next Monday (Markdown, escaped): the 事项 in
    the order counters meet them, each with what the learner has done of it so far."""
    user = acting(ctx, request, "study")
    with ctx.lock, shown_errors():
        return plan_markdown(onboarding_plan(ctx.kb.records, user))


def progress_rows(ctx: Context, request: gr.Request | None) -> list[list[str]]:
    """Every learner's totals for a trainer (permission ``progress``), most recently studied first."""
    user = acting(ctx, request, "progress")
    with ctx.lock, shown_errors():
        learners = Learning(ctx.kb.records).learners(user)
    return [[r.username, r.display_name, str(r.topics), str(r.entries), str(r.correct), str(r.wrong),
             _when(r.last_at) if r.last_at else "尚未学习"] for r in learners]


def tutor(ctx: Context) -> Tutor:
    """The tutor of the page: replies are judged by the chat model of ``ctx.llm`` when one is set
    (:class:`bot.judge.LLMJudge`, which falls back to the key points), else offline by key points."""
    return Tutor(ctx.kb, judge=LLMJudge(ctx.llm) if ctx.llm else None, min_confidence=ctx.settings.min_confidence)


def teach(ctx: Context, topic: str | None, query: str | None, history: list | None,
          request: gr.Request | None) -> tuple[list, Lesson]:
    """The next lesson for the logged-in learner, on 事项 ``topic`` or on the entry answering the free
    question ``query``; returns the chat with the explanation and the question appended, and the lesson."""
    user = acting(ctx, request, "study")
    query = (query or "").strip()
    with ctx.lock, shown_errors():
        lesson = tutor(ctx).lesson(user, topic=topic or "", query=query)
    asked = query or (f"学习事项：{topic}" if topic else "学习下一条")
    messages = [*(history or []), {"role": "user", "content": plain(asked)},
                {"role": "assistant", "content": _lines(explanation(lesson), bold_first=True)},
                {"role": "assistant", "content": "**请回答**：" + _lines(lesson.question.prompt)}]
    return messages, lesson


def reply(ctx: Context, lesson: Lesson | None, text: str | None, history: list | None,
          request: gr.Request | None) -> tuple[list, Check]:
    """Check the learner's ``text`` against the lesson's question and record it; returns the chat with
    the reply and the verdict (what was missed, the full answer and its source) appended, and the check."""
    user = acting(ctx, request, "study")
    if lesson is None:
        raise gr.Error("请先选择事项并点击“讲解下一条”，或自由提问，再回答问题。", title="还没有提问")
    checking = tutor(ctx)
    judged = checking.judge(lesson.question, text) if (text or "").strip() else None  # a slow model holds no lock
    with ctx.lock, shown_errors():
        check = checking.record(user, lesson, judged) if judged else checking.check(user, lesson, "")
    messages = [*(history or []), {"role": "user", "content": plain(text or "")},
                {"role": "assistant", "content": _lines(feedback(lesson, check), bold_first=True)}]
    return messages, check


def build(ctx: Context, opening: Opening) -> None:
    """The page: topic picker and free question, the chat, the answer box, the learner's own record,
    and for trainers the 学员进度 table."""
    gr.Markdown(PROMPT)
    with gr.Row():
        topic = gr.Dropdown([], value=None, label="事项（薄弱和未学的在前）", scale=3)
        start = gr.Button("讲解下一条", variant="primary", scale=1)
    query = gr.Textbox(label="自由提问", placeholder="输入想学的问题，按回车讲解能回答它的条目", max_lines=2)
    chat = gr.Chatbot(label="学习对话", height=460, sanitize_html=True, latex_delimiters=[],
                      buttons=["copy"], feedback_options=None)
    with gr.Row():
        answer = gr.Textbox(label="您的回答", placeholder="写下您的回答，按回车提交", max_lines=4, scale=4)
        send = gr.Button("提交回答", scale=1)
    lesson = gr.State(None)
    with gr.Accordion("我的学习记录", open=False):
        mine = gr.Dataframe(headers=TOPIC_HEADERS, datatype="str", interactive=False, wrap=True)
    with gr.Accordion("我的四周入职计划", open=False):
        show_plan = gr.Button("生成我的四周计划", size="sm")
        weeks = gr.Markdown()
    with gr.Column(visible=False) as trainer:
        gr.Markdown("### 学员进度")
        learners = gr.Dataframe(headers=LEARNER_HEADERS, datatype="str", interactive=False, wrap=True)
        refresh = gr.Button("刷新学员进度")

    def on_teach(chosen, text, history, request: gr.Request):
        messages, given = teach(ctx, chosen, text, history, request)
        return messages, given, "", ""

    def on_topic(chosen, history, request: gr.Request):
        return on_teach(chosen, "", history, request)

    def on_reply(given, text, history, request: gr.Request):
        messages, _ = reply(ctx, given, text, history, request)
        choices, rows = plan(ctx, request)
        return messages, None, "", gr.Dropdown(choices=choices), rows

    def loaded(request: gr.Request):
        """The learner's plan and record; the 学员进度 table only for trainers; nothing for a role
        that does not see this page."""
        user = account(ctx, request)
        if user.role not in ROLES:
            return tuple(gr.skip() for _ in range(4))
        choices, rows = plan(ctx, request)
        trains = user.can("progress")
        return (gr.Dropdown(choices=choices, value=choices[0][1] if choices else None), rows,
                gr.Column(visible=trains), progress_rows(ctx, request) if trains else [])

    def on_refresh(request: gr.Request):
        return progress_rows(ctx, request)

    def on_plan(request: gr.Request):
        return my_plan(ctx, request)

    show_plan.click(on_plan, None, weeks, api_visibility="private")
    start.click(on_topic, [topic, chat], [chat, lesson, query, answer], api_name="study_lesson")
    query.submit(on_teach, [topic, query, chat], [chat, lesson, query, answer], api_visibility="private")
    send.click(on_reply, [lesson, answer, chat], [chat, lesson, answer, topic, mine], api_name="study_answer")
    answer.submit(on_reply, [lesson, answer, chat], [chat, lesson, answer, topic, mine], api_visibility="private")
    refresh.click(on_refresh, None, learners, api_name="study_progress")
    opening.load(loaded, None, [topic, mine, trainer, learners], api_visibility="private")
