"""窗口问答: a chat where counter staff ask between citizens.

The answer comes first, then its sources (title, entry id, 事项, 部门, date, status and 口径
version), the currency notes (replaced, upcoming, expired, draft) above the answer where nobody can
miss them, the confidence, and the escalation hint when there is no reliable answer (the bot's own
text). The other hits are in a collapsed panel. Every question is written to the question log.
"""

from __future__ import annotations

import gradio as gr

from bot import Answer, answer
from kb.asklog import log_answer
from kb.catalog import Catalog
from kb.types import Filters

from .context import Context, acting, plain, shown_errors

TITLE = "窗口问答"
ROLES = frozenset({"staff", "reviewer", "admin"})
ALL = "全部"
RELATED_HEADERS = ["标题", "编号", "事项", "部门", "日期", "来源"]
_STATUS = {"published": "已发布", "draft": "待审核，未发布"}
_OUTCOME = {"answered": "答", "ambiguous": "请先问清楚", "no_answer": "暂无可靠答案"}


def facets(ctx: Context) -> tuple[list[str], list[str]]:
    """The 事项 and 部门 values of the live entries and the documents (:meth:`kb.catalog.Catalog.facets`),
    sorted, each list led by 全部."""
    with ctx.lock:
        found = Catalog(ctx.kb.records).facets()
    return [ALL, *found.items], [ALL, *found.departments]


def render(result: Answer) -> str:
    """The answer as Markdown for the chat; every stored text in it is escaped with :func:`plain`."""
    lines = [f"> ⚠️ **注意**：{plain(note)}" for note in result.notes]
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


def ask(ctx: Context, question: str, item: str, department: str, history: list | None,
        request: gr.Request) -> tuple[list, str, list[list[str]]]:
    """Answer ``question`` for the logged-in user (permission ``read``) and log it (channel ``web``).

    Returns the chat history with the question and the answer appended, an empty question box and
    the rows of the other hits; an empty question only warns and changes nothing.
    """
    user = acting(ctx, request, "read")
    question = (question or "").strip()
    if not question:
        gr.Warning("请先输入问题。")
        return list(history or []), "", []
    filters = Filters(item="" if item in ("", ALL, None) else item,
                      department="" if department in ("", ALL, None) else department)
    with ctx.lock, shown_errors():
        result = answer(ctx.kb, question, k=ctx.settings.top_k, min_confidence=ctx.settings.min_confidence,
                        filters=filters)
        with ctx.kb.records.transaction(changes_index=False) as conn:
            log_answer(conn, user.username, result, "web")
    messages = [*(history or []), {"role": "user", "content": plain(question)},
                {"role": "assistant", "content": render(result)}]
    return messages, "", related_rows(result)


def build(ctx: Context, app: gr.Blocks) -> None:
    """The page: filters, the chat, the question box, and the other hits in a collapsed panel."""
    with gr.Row():
        item = gr.Dropdown([ALL], value=ALL, label="事项", scale=1)
        department = gr.Dropdown([ALL], value=ALL, label="部门", scale=1)
    chat = gr.Chatbot(label="问答记录", height=480, sanitize_html=True, latex_delimiters=[],
                      buttons=["copy", "copy_all"], feedback_options=None)
    question = gr.Textbox(label="问题", placeholder="输入群众的问题，按回车提问", lines=1, max_lines=3)
    with gr.Accordion("其他相关资料", open=False):
        related = gr.Dataframe(headers=RELATED_HEADERS, datatype="str", interactive=False, wrap=True)

    def submit(text, chosen_item, chosen_department, history, request: gr.Request):
        return ask(ctx, text, chosen_item, chosen_department, history, request)

    def refresh(request: gr.Request):
        acting(ctx, request, "read")
        items, departments = facets(ctx)
        return gr.Dropdown(choices=items), gr.Dropdown(choices=departments)

    question.submit(submit, [question, item, department, chat], [chat, question, related], api_name="ask")
    app.load(refresh, None, [item, department], api_visibility="private")
