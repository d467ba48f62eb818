"""窗口问答: a chat where counter staff ask between citizens.

The answer comes first, then its sources (title, entry id, 事项, 部门, date, status and 口径
version), the currency notes (replaced, upcoming, expired, draft) above the answer where nobody can
miss them, the confidence, and the escalation hint when there is no reliable answer (the bot's own
text). When the latest answer is refused, asks which case is meant or is rated 没用, a 转办不成事窗口
button (with an optional situation) registers it with the 办不成事 window (:mod:`web.escalations`).
The other hits are in a collapsed panel. Every question is written to the question log.
A follow-up ("那需要带什么材料？") is read against the chat's earlier turns (:mod:`bot.chat`), and the
answer then says which question it answered ("按‘…’回答"). With a chat model configured
(``ctx.llm``), the model rewrites follow-ups and writes the answer token by token from the retrieved
passages; its citations are checked, and when it fails the offline answer is shown with a note.

Each answer can be rated 有用 / 没用, with an optional reason and correct answer (:mod:`kb.feedback`):
the buttons under the chat rate the latest answer, the thumbs on an answer rate that one. Both go
through :func:`rate_answer`, and after either the chat's thumbs are set from the stored ratings
(:func:`thumbs`), so a thumb shows the rating of its answer whichever control gave it; a thumb clicked
off, or one whose rating was refused, goes back to what is stored. The log ids
of the chat's answers are kept in a ``gr.State``, which lives on the server and is written only by
:func:`ask` (and emptied when the chat is cleared), and :func:`kb.feedback.rate` refuses any log row
the logged-in user did not ask, so no one can rate someone else's answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from weakref import WeakKeyDictionary

import gradio as gr

from bot import Answer
from bot.chat import OfflineRewriter, follow_up, turn_of
from bot.llm import history_pairs
from kb import KnowledgeBase
from kb.asklog import log_answer
from kb.asklog import question as question_of
from kb.catalog import Catalog
from kb.feedback import rate, ratings
from kb.types import Filters

from .context import Context, acting, plain, shown_errors
from .opening import Opening
from .escalations import SITUATION, doubtful, from_answer

TITLE = "窗口问答"
MAX_QUESTION = 500
"""The longest question the page takes: a question is embedded while the knowledge base is locked, at about 1 ms a
character, so a pasted document would hold up every other counter for minutes."""
ROLES = frozenset({"staff", "reviewer", "admin", "department"})
ALL = "全部"
RELATED_HEADERS = ["标题", "编号", "事项", "部门", "日期", "来源"]
_STATUS = {"published": "已发布", "draft": "待审核，未发布"}
_OUTCOME = {"answered": "答", "ambiguous": "请先问清楚", "no_answer": "暂无可靠答案"}
WRITING = "大模型正在依据知识库组织回答……"
THUMBS = {True: "Like", False: "Dislike"}
"""The chat's feedback value for a rating 有用 (True) and 没用 (False)."""
KEPT = "评价不能撤销，已恢复为原来的评价；要改评请点另一个拇指，或用下方的有用 / 没用按钮。"
_REWRITERS: WeakKeyDictionary[KnowledgeBase, OfflineRewriter] = WeakKeyDictionary()
"""One offline rewriter per knowledge base, so its word lists are built once per change of the records."""


def _rewriter(kb: KnowledgeBase) -> OfflineRewriter:
    """The offline follow-up rewriter of ``kb`` (call under ``ctx.lock``)."""
    if kb not in _REWRITERS:
        _REWRITERS[kb] = OfflineRewriter(kb)
    return _REWRITERS[kb]


def facets(ctx: Context) -> tuple[list[str], list[str]]:
    """The 事项 and 部门 values of the live entries and the documents (:meth:`kb.catalog.Catalog.facets`),
    sorted, each list led by 全部."""
    with ctx.lock:
        found = Catalog(ctx.kb.records).facets()
    return [ALL, *found.items], [ALL, *found.departments]


def render(result: Answer) -> str:
    """The answer as Markdown for the chat; every stored text in it is escaped with :func:`plain`."""
    lines = [f"*按‘{plain(result.resolved)}’回答*"] if result.resolved else []
    lines += [f"> ⚠️ **注意**：{plain(note)}" for note in result.notes]
    head = f"**{_OUTCOME.get(result.status, result.status)}**："
    lines.append(head + plain(result.text))
    if result.passage:
        lines.append(f"**原文**：{plain(result.passage)}")
    if result.citations:
        lines.append("**出处**：")
    for c in result.citations:
        parts = [f"编号 {plain(c.parent_id)}", f"事项：{plain(c.item or '—')}", f"部门：{plain(c.department or '—')}",
                 f"日期：{plain(c.date or '日期不详')}"]
        if c.kind == "entry":
            parts.append(f"第 {c.version} 版，{_STATUS.get(c.status, plain(c.status))}")
        if c.basis:
            parts.append(f"依据：{plain(c.basis)}")
        source = f"（{plain(c.source)}）" if c.source else ""
        lines.append(f"- 《{plain(c.title)}》{source}  \n  {'　'.join(parts)}")
    lines.append(f"置信度：{result.confidence:.2f}")
    return "\n\n".join(lines)


def related_rows(result: Answer) -> list[list[str]]:
    """The other hits as table rows (shown as plain text by the table)."""
    return [[h.title, h.parent_id, h.item, h.department, h.date, h.source] for h in result.related]


def _question(text: str | None) -> str:
    """The question as typed, trimmed; ``gr.Error`` when it is longer than :data:`MAX_QUESTION`."""
    question = (text or "").strip()
    if len(question) > MAX_QUESTION:
        raise gr.Error(f"问题太长（{len(question)} 字），请只写要问的事，{MAX_QUESTION} 字以内；成篇的材料请由管理员导入知识库。",
                       title="未提问")
    return question


def ask(ctx: Context, question: str, item: str, department: str, history: list | None,
        request: gr.Request, logged: list[int] | None = None,
        turns: list | None = None) -> tuple[list, str, list[list[str]], list[int], list]:
    """Answer ``question`` for the logged-in user (permission ``read``) as the next turn of the chat
    (a follow-up such as "那需要带什么材料？" is read against ``turns``, see :mod:`bot.chat`) and log it
    (channel ``web``).

    Returns the chat history with the question and the answer appended, an empty question box, the
    rows of the other hits, ``logged`` (the log ids of the chat's answers) and ``turns`` (the
    conversation) each with the new one appended; an empty question only warns and changes nothing.
    """
    user = acting(ctx, request, "read")
    question = _question(question)
    if not question:
        gr.Warning("请先输入问题。")
        return list(history or []), "", [], list(logged or []), list(turns or [])
    filters = _filters(item, department)
    with ctx.lock, shown_errors():
        result = follow_up(ctx.kb, list(turns or []), question, _rewriter(ctx.kb), k=ctx.settings.top_k,
                           min_confidence=ctx.settings.min_confidence, filters=filters)
        with ctx.kb.records.transaction(changes_index=False) as conn:
            log_id = log_answer(conn, user.username, result, "web")
    messages = [*(history or []), {"role": "user", "content": plain(question)},
                {"role": "assistant", "content": render(result)}]
    return messages, "", related_rows(result), [*(logged or []), log_id], [*(turns or []), turn_of(result)]


def ask_streaming(ctx: Context, question: str, item: str, department: str, history: list | None,
                  request: gr.Request, logged: list[int] | None = None, turns: list | None = None) -> Iterator[tuple]:
    """:func:`ask` with the chat model of ``ctx.llm`` (:mod:`bot.llm`): yields what :func:`ask` returns,
    first with the model's text as it is written, last with the checked answer (or the offline one,
    with a note, when the model fails). The model rewrites a follow-up and writes the answer outside
    ``ctx.lock``, so a slow model never holds up the other counters' questions."""
    question = _question(question)
    if ctx.llm is None or not question:
        yield ask(ctx, question, item, department, history, request, logged, turns)
        return
    user = acting(ctx, request, "read")
    turns, logged = list(turns or []), list(logged or [])
    standalone = ctx.llm.rewrite_question(history_pairs(turns), question, fallback=lambda _pairs, _q: "")
    with ctx.lock, shown_errors():
        standalone = standalone or _rewriter(ctx.kb)(turns, question)
        reply = ctx.llm.reply(ctx.kb, standalone, k=ctx.settings.top_k, min_confidence=ctx.settings.min_confidence,
                              filters=_filters(item, department), asked=question)
    asked = [*(history or []), {"role": "user", "content": plain(question)}]
    written = ""
    for token in reply:
        written += token
        shown = {"role": "assistant", "content": f"*{WRITING}*\n\n{plain(written)}"}
        yield [*asked, shown], "", [], logged, turns
    result = reply.answer
    with ctx.lock, shown_errors(), ctx.kb.records.transaction(changes_index=False) as conn:
        log_id = log_answer(conn, user.username, result, "web")
    yield ([*asked, {"role": "assistant", "content": render(result)}], "", related_rows(result), [*logged, log_id],
           [*turns, turn_of(result)])


def _filters(item: str | None, department: str | None) -> Filters:
    return Filters(item="" if item in ("", ALL, None) else item,
                   department="" if department in ("", ALL, None) else department)


def rate_answer(ctx: Context, logged: list[int] | None, useful: bool, reason: str, correct: str,
                request: gr.Request, position: int = -1) -> str:
    """Rate an answer of the chat 有用 or 没用 as the logged-in user, who must have asked it; returns a
    Chinese confirmation. ``position`` counts the chat's answers (0: the first; -1, the default: the
    latest), whose log ids are ``logged``. Rating an answer again replaces its rating."""
    user = acting(ctx, request, "read")
    if not logged:
        raise gr.Error("还没有可评价的回答：请先提问。", title="未评价")
    if not -len(logged) <= position < len(logged):
        raise gr.Error("找不到要评价的这条回答的记录，请重新提问后再评价。", title="未评价")
    log_id = logged[position]
    with ctx.lock, shown_errors(), ctx.kb.records.transaction(changes_index=False) as conn:
        rating = rate(conn, user.username, log_id, useful, reason, correct)
        asked = question_of(conn, log_id)
    kept = "和".join(label for label, text in (("原因", rating.reason), ("正确答案", rating.correct)) if text)
    return (f"已将“{plain(asked.question)}”的回答评为**{rating.label}**" + (f"，并记录了{kept}" if kept else "") + "。"
            + ("组长会在“知识缺口”中补充这类问题的答复。" if not rating.useful else ""))


def thumbs(ctx: Context, logged: list[int] | None) -> list[str | None]:
    """The chat's thumbs as stored: for each of its answers (log ids ``logged``, in order) ``"Like"``
    (有用), ``"Dislike"`` (没用) or None (not rated), as the chat's ``feedback_value``."""
    logged = list(logged or [])
    with ctx.lock:
        stored = ratings(ctx.kb.records.conn, logged)
    return [THUMBS[stored[i].useful] if i in stored else None for i in logged]


def build(ctx: Context, opening: Opening) -> None:
    """The page: filters, the chat, the question box, the rating of the latest answer, and the other hits
    in a collapsed panel."""
    with gr.Row():
        item = gr.Dropdown([ALL], value=ALL, label="事项", scale=1)
        department = gr.Dropdown([ALL], value=ALL, label="部门", scale=1)
    chat = gr.Chatbot(label="问答记录", height=480, sanitize_html=True, latex_delimiters=[],
                      buttons=["copy", "copy_all"], feedback_options=("Like", "Dislike"))
    question = gr.Textbox(label="问题", placeholder="输入群众的问题，按回车提问", lines=1, max_lines=3)
    logged = gr.State([])
    turns = gr.State([])
    with gr.Row(equal_height=True):
        reason = gr.Textbox(label="原因（可选）", placeholder="例如：答非所问、口径已过时", max_lines=2, scale=2)
        correct = gr.Textbox(label="正确答案（可选）", placeholder="知道正确的答复请写在这里，组长补充知识时可直接采用",
                             max_lines=4, scale=3)
        useful = gr.Button("有用", scale=0, min_width=96)
        useless = gr.Button("没用", scale=0, min_width=96)
    with gr.Row(visible=False, equal_height=True) as escalation:
        situation = gr.Textbox(label=SITUATION, max_lines=3, scale=4)
        escalate = gr.Button("转办不成事窗口", scale=0, min_width=160)
    rated = gr.Markdown("提问后可评价最近一条回答（点任意一条回答下方的赞 / 踩可评价那一条）；没用时可写原因和正确答案。")
    with gr.Accordion("其他相关资料", open=False):
        related = gr.Dataframe(headers=RELATED_HEADERS, datatype="str", interactive=False, wrap=True)

    def submit(text, chosen_item, chosen_department, history, ids, conversation, request: gr.Request):
        for shown in ask_streaming(ctx, text, chosen_item, chosen_department, history, request, ids, conversation):
            yield *shown, "可评价最近一条回答：有用 / 没用。"

    def used(text: str):
        """Empty a reason/answer box the rating just used; leave an empty one alone, so that text typed
        into it meanwhile (the next answer's reason) is not wiped by a late update."""
        return "" if text else gr.skip()

    def on_rate(useful_or_not: bool):
        def rated_now(ids, why, right, request: gr.Request):
            return rate_answer(ctx, ids, useful_or_not, why, right, request), used(why), used(right)
        return rated_now

    def stored_thumbs(ids):
        """The chat's thumbs set from the stored ratings, after a rating (the chat's messages kept)."""
        return gr.Chatbot(feedback_value=thumbs(ctx, ids))

    def on_like(history, ids, why, right, request: gr.Request, evt: gr.LikeData):
        """A thumb on any answer of the chat rates that answer (with the reason and answer typed below).

        The chat's thumbs are first set to what it shows after the click; the next step sets them to the
        stored ratings. A thumb keeps its own state until the chat's value for it changes, so without the
        first step a thumb clicked off, or one whose rating is refused, would not go back."""
        index = evt.index if isinstance(evt.index, int) else evt.index[0]
        position = sum(1 for message in (history or [])[:index] if message["role"] == "assistant")
        clicked = THUMBS[evt.liked] if isinstance(evt.liked, bool) else None
        shown = [*thumbs(ctx, ids), *[None] * (position + 1)][:max(len(ids or []), position + 1)]
        shown[position] = clicked
        yield gr.Chatbot(feedback_value=shown), gr.skip(), gr.skip(), gr.skip()
        if clicked is None:
            yield gr.skip(), KEPT, gr.skip(), gr.skip()
        else:
            yield gr.skip(), rate_answer(ctx, ids, evt.liked, why, right, request, position), used(why), used(right)

    def offered(ids, request: gr.Request):
        return gr.Row(visible=doubtful(ctx, ids, request))

    def on_escalate(ids, about, chosen_item, chosen_department, request: gr.Request):
        return from_answer(ctx, ids, about, chosen_item, chosen_department, request), "", gr.Row(visible=False)

    def refresh(request: gr.Request):
        acting(ctx, request, "read")
        items, departments = facets(ctx)
        return gr.Dropdown(choices=items), gr.Dropdown(choices=departments)

    question.submit(submit, [question, item, department, chat, logged, turns],
                    [chat, question, related, logged, turns, rated], api_name="ask"
                    ).then(offered, logged, escalation, api_visibility="private")
    useful.click(on_rate(True), [logged, reason, correct], [rated, reason, correct], api_name="rate_useful"
                 ).then(stored_thumbs, logged, chat, api_visibility="private", show_progress="hidden")
    useless.click(on_rate(False), [logged, reason, correct], [rated, reason, correct], api_name="rate_useless"
                  ).then(stored_thumbs, logged, chat, api_visibility="private", show_progress="hidden"
                         ).then(offered, logged, escalation, api_visibility="private")
    escalate.click(on_escalate, [logged, situation, item, department], [rated, situation, escalation],
                   api_name="escalate_answer")
    chat.like(on_like, [chat, logged, reason, correct], [chat, rated, reason, correct], api_visibility="private",
              show_progress="hidden"
              ).then(stored_thumbs, logged, chat, api_visibility="private", show_progress="hidden"
                     ).then(offered, logged, escalation, api_visibility="private")
    chat.clear(lambda: ([], [], "提问后可评价最近一条回答。", gr.Row(visible=False), gr.Chatbot(feedback_value=[])),
               None, [logged, turns, rated, escalation, chat], api_visibility="private")
    opening.load(refresh, None, [item, department], api_visibility="private")
