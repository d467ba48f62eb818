"""知识缺口: the questions the knowledge base could not answer well, grouped by meaning and ranked
(:class:`kb.gaps.GapQueue`), for the group leads.

The ranked table lists each group by its most typical wording with its state, count and last time
asked; picking a group shows every question in it with the staff's ratings (reason, correct answer).
一键生成草稿 submits a draft entry with the question prefilled (the typical wording, editable) and
the answer taken from the correct answers in the feedback (chosen from a list, editable); the draft
then goes through 审核 like any other. A group's 办不成事 cases of the same questions
(:func:`kb.escalations.for_questions`) are listed with it. Every call goes through the library with
the logged-in account, so its ``gaps`` permission check refuses staff through the page and the API
alike. Stored text is shown in tables or escaped with :func:`plain`.
"""

from __future__ import annotations

import gradio as gr

from kb.escalations import for_questions
from kb.gaps import REASONS, STATUSES, Gap, GapQueue

from .context import Context, account, acting, plain, shown_errors
from .opening import Opening

TITLE = "知识缺口"
ROLES = frozenset({"reviewer", "admin"})
GAP_HEADERS = ["编号", "状态", "提问次数", "最近提问", "热度", "典型问法", "条目"]
QUESTION_HEADERS = ["时间", "提问人", "原因", "置信度", "问题", "评价", "评价原因", "正确答案"]
NOTHING = "在上方选择一个缺口，查看全部问法和窗口人员的评价，并一键生成草稿条目。"


def _queue(ctx: Context) -> GapQueue:
    """The gap queue, its new questions embedded: the slow embedding (~25 ms a question) runs outside
    ``ctx.lock`` so it never holds up the other users; the queue is then used under the lock."""
    queue = GapQueue(ctx.kb, ctx.settings.min_confidence)
    with ctx.lock, shown_errors():
        missing = queue.uncached()
    if missing:
        vectors = queue.embed(missing)
        with ctx.lock, shown_errors():
            queue.cache(missing, vectors)
    return queue


def listing(ctx: Context, resolved: bool, request: gr.Request | None) -> tuple[str, list[list], list[str]]:
    """The ranked groups (resolved ones too when ``resolved``) for a user holding ``gaps``: a count line,
    the table rows and the group ids for the picker."""
    user = acting(ctx, request, "gaps")
    queue = _queue(ctx)
    with ctx.lock, shown_errors():
        found = queue.groups(user, resolved=bool(resolved))
    rows = [[str(g.id), STATUSES[g.status], str(len(g.questions)), g.last_at.replace("T", " "), f"{g.score:.2f}",
             g.typical, g.entry_id] for g in found]
    waiting = sum(1 for g in found if g.status in ("open", "reopened"))
    count = f"**知识缺口：待处理 {waiting} 组**（共列出 {len(found)} 组，按热度排序：问得越多、越近越靠前）"
    return count, rows, [r[0] for r in rows]


def _picked(value: str | None) -> int:
    try:
        return int(str(value or "").strip())
    except ValueError:
        raise gr.Error("请先在表格中点击一个缺口，或在“选择缺口”中选择编号。", title="未选择缺口") from None


def _summary(gap: Gap) -> str:
    entry = f"，条目 {plain(gap.entry_id)}" if gap.entry_id else ""
    return (f"### 缺口 {gap.id}：{plain(gap.typical)}\n\n状态：**{STATUSES[gap.status]}**{entry}　"
            f"问题 {len(gap.questions)} 个（待处理 {gap.live} 个）　最近提问：{gap.last_at.replace('T', ' ')}")


def detail(ctx: Context, gap_id: str | None, request: gr.Request | None) -> tuple[str, list[list], str, list[str]]:
    """The group ``gap_id``: a summary, its questions as table rows (newest first), the question to
    prefill the draft with (the typical wording) and the correct answers offered in the feedback."""
    user = acting(ctx, request, "gaps")
    if not gap_id:
        return NOTHING, [], "", []
    picked, queue = _picked(gap_id), _queue(ctx)
    with ctx.lock, shown_errors():
        gap = queue.group(user, picked)
        cases = for_questions(ctx.kb.records, [q.asked.question for q in gap.questions])
    linked = "；".join(f"登记 {c.number}（{c.label}" + (f"，{plain(c.department)}" if c.department else "")
                      + (f"，条目 {plain(c.knowledge or c.entry_id)}" if c.entry_id else "") + "）" for c in cases)
    rows = [[q.asked.at.replace("T", " "), q.asked.user, REASONS[q.why], f"{q.asked.confidence:.2f}", q.asked.question,
             *((q.rating.label, q.rating.reason, q.rating.correct) if q.rating else ("", "", ""))]
            for q in gap.questions]
    escalated = f"\n\n办不成事窗口的同题登记：{linked}（在“办不成事”页面查看）" if cases else ""
    return _summary(gap) + escalated, rows, gap.typical, list(gap.corrections)


def make_draft(ctx: Context, gap_id: str | None, question: str, answer: str, item: str, department: str,
               basis: str, request: gr.Request | None) -> str:
    """Submit the draft entry for the group ``gap_id`` as the logged-in user; returns a Chinese confirmation."""
    user = acting(ctx, request, "gaps")
    picked = _picked(gap_id)
    if not (answer or "").strip():
        raise gr.Error("请填写答复：可从“反馈中的正确答案”选择一条再修改，或直接填写。", title="未生成草稿")
    queue = _queue(ctx)
    with ctx.lock, shown_errors():
        submitted = queue.draft(user, picked, answer, question, (item or "").strip(),
                                (department or "").strip(), (basis or "").strip())
    if submitted.status == "duplicate":
        return f"已有完全相同的条目 {submitted.entry_id}，未重复存储；缺口 {picked} 已关联到该条目。"
    flag = f"（可能与已发布的 {submitted.duplicate_of} 重复，审核时会并排对照）" if submitted.duplicate_of else ""
    return f"已生成草稿 {submitted.entry_id}，请到“审核”页面审核发布{flag}。缺口 {picked} 标记为已起草。"


def build(ctx: Context, opening: Opening) -> None:
    """The page: the ranked queue, the picked group's questions and feedback, and the draft form."""
    with gr.Row():
        resolved = gr.Checkbox(label="同时显示已解决的缺口", scale=1)
        picker = gr.Dropdown([], value=None, label="选择缺口（编号，或点击表格中的一行）", allow_custom_value=True,
                             scale=1)
    count = gr.Markdown()
    table = gr.Dataframe(headers=GAP_HEADERS, datatype="str", interactive=False, wrap=True)
    summary = gr.Markdown(NOTHING)
    asked = gr.Dataframe(headers=QUESTION_HEADERS, datatype="str", interactive=False, wrap=True,
                         label="该缺口的全部问题与评价（最新的在前）")
    with gr.Accordion("起草条目（草稿进入“审核”，与其他草稿一样审核发布）", open=True):
        question = gr.Textbox(label="草稿问题（预填为典型问法，可修改）", max_lines=2)
        offered = gr.Radio([], label="反馈中的正确答案（选择一条填入答复）")
        answer = gr.Textbox(label="草稿答复", lines=4, placeholder="选择上面的正确答案后修改，或直接填写")
        with gr.Row():
            item = gr.Textbox(label="事项", max_lines=1)
            department = gr.Textbox(label="部门", max_lines=1)
            basis = gr.Textbox(label="依据", max_lines=1, placeholder="文件名/文号，或给出口径的人")
        draft_button = gr.Button("一键生成草稿", variant="primary")
    listed_outputs = [count, table, picker]
    shown = [summary, asked, question, offered, answer]

    def listed(show_resolved, request: gr.Request):
        text, rows, ids = listing(ctx, show_resolved, request)
        return text, rows, gr.Dropdown(choices=ids, value=None)

    def loaded(show_resolved, request: gr.Request):
        """The queue when the page opens; nothing for a role that does not see this page (its tab is hidden)."""
        if account(ctx, request).role not in ROLES:
            return tuple(gr.skip() for _ in listed_outputs)
        return listed(show_resolved, request)

    def show(gap_id, request: gr.Request):
        text, rows, typical, corrections = detail(ctx, gap_id, request)
        return (text, rows, typical, gr.Radio(choices=corrections, value=corrections[0] if corrections else None),
                corrections[0] if corrections else "")

    def selected(evt: gr.SelectData):
        return evt.row_value[0] if evt.row_value else None

    def on_draft(gap_id, text, reply, chosen_item, chosen_department, given_basis, show_resolved,
                 request: gr.Request):
        gr.Info(make_draft(ctx, gap_id, text, reply, chosen_item, chosen_department, given_basis, request))
        return (*listed(show_resolved, request), NOTHING, [], "", gr.Radio(choices=[], value=None), "", "", "", "")

    draft_button.click(on_draft, [picker, question, answer, item, department, basis, resolved],
                       [*listed_outputs, *shown, item, department, basis], api_name="draft_gap")
    offered.input(lambda chosen: chosen or "", offered, answer, api_visibility="private")
    resolved.input(listed, resolved, listed_outputs, api_visibility="private")
    picker.change(show, picker, shown, api_visibility="private")
    table.select(selected, None, picker, api_visibility="private")
    opening.load(loaded, resolved, listed_outputs, api_visibility="private")
