"""每日登记: submit a solved case (or a change to a published entry) through a form, submit a day's
case sheet after previewing each row, and follow one's own submissions (我的提交).

Every submission goes through :class:`kb.workflow.Workflow` (a sheet through
:func:`ingest.daily.submit_cases`) as the logged-in account, never as a name typed into the page, so
the workflow's ``submit`` permission check and validation apply as on the command line. Stored text
is shown in tables (plain text) or escaped with :func:`plain`.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from ingest.columns import parse_lines, parse_tags
from ingest.daily import SheetReport, read_cases, submit_cases
from kb.catalog import Catalog
from kb.types import STATUSES, Entry
from kb.users import Users
from kb.workflow import Submitted, Workflow

from .context import Context, acting, plain, read_upload, shown_errors
from .opening import Opening

TITLE = "每日登记"
ROLES = frozenset({"staff", "reviewer", "admin"})
READY = "可提交"
PREVIEW_HEADERS = ["位置", "问题", "事项", "状态"]
MINE_HEADERS = ["编号", "问题", "状态", "审核人", "审核意见", "日期"]
SHEET_TYPES = [".xlsx", ".csv"]
NO_SHEET = "请先上传当天的登记表（.xlsx 或 .csv）。"


def items(ctx: Context) -> list[str]:
    """The 事项 values of the live (published or pending) entries and the documents, sorted."""
    with ctx.lock:
        return Catalog(ctx.kb.records).facets().items


def mine(ctx: Context, request: gr.Request | None) -> list[list[str]]:
    """The logged-in account's submissions, newest first: 编号, 问题, 状态, 审核人, 审核意见, 日期."""
    user = acting(ctx, request, "submit")
    with ctx.lock:
        rows = ctx.kb.records.entries_where("created_by = ? AND origin != 'import'", (user.username,))
        users = Users(ctx.kb.records)
        reviewers = {s.reviewed_by: users.get(s.reviewed_by) for _, s in rows if s.reviewed_by}
    rows.sort(key=lambda row: (row[1].created_at, row[0].id), reverse=True)
    return [[e.id, e.question, STATUSES.get(s.status, s.status),
             reviewers[s.reviewed_by].label if reviewers.get(s.reviewed_by) else s.reviewed_by,
             s.note, e.date or s.created_at[:10]] for e, s in rows]


def outcome(result: Submitted) -> str:
    """A submission's outcome as Chinese Markdown (ids escaped)."""
    if result.status == "duplicate":
        return f"已有完全相同的条目 {plain(result.entry_id)}，未重复存储。"
    lines = [f"已提交，编号 {plain(result.entry_id)}，等待组长审核。"]
    if result.duplicate_of:
        lines.append(f"⚠ 可能与已发布的 {plain(result.duplicate_of)} 重复（相似度 {result.similarity:.2f}），"
                     "组长审核时会决定合并或两条都保留。")
    lines += [f"{plain(w)}，组长发布前需确认。" for w in result.successor_warnings]
    return "\n\n".join(lines)


def submit_case(ctx: Context, question: str, answer: str, item: str, department: str, basis: str,
                supersedes: str, effective_from: str, expire_on: str, tags: str, alternatives: str,
                revises: str, request: gr.Request | None) -> str:
    """Submit the form as a draft by the logged-in account; returns the outcome as Markdown.

    问题 and 答复 are required for a new case (an empty one only warns, returning ''); a revision
    (``revises``, the published entry's id) keeps every field of that entry that is left empty.
    Dates are read by :mod:`kb.dates`; an unreadable one raises ``gr.Error`` naming the field.
    """
    user = acting(ctx, request, "submit")
    question, answer, revises = _clean(question), _clean(answer), _clean(revises)
    missing = [label for label, value in (("问题", question), ("答复", answer)) if not value]
    if missing and not revises:
        gr.Warning(f"请填写{'和'.join(missing)}后再提交（修订已发布条目时可留空，沿用原条目）。", title="未提交")
        return ""
    entry = Entry("", question, answer, item=_clean(item), department=_clean(department), tags=parse_tags(tags),
                  counter="" if revises else user.group, basis=_clean(basis), alt_questions=parse_lines(alternatives),
                  effective_from=_clean(effective_from), expire_on=_clean(expire_on), supersedes=_clean(supersedes))
    with ctx.lock, shown_errors():
        result = Workflow(ctx.kb).submit(user, entry, revises=revises)
    return outcome(result)


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _sheet(file: str | None) -> Path | None:
    if not file:
        gr.Warning(NO_SHEET, title="未上传")
        return None
    return Path(file)


def preview(ctx: Context, file: str | None, request: gr.Request | None) -> list[list[str]]:
    """Each record of the uploaded sheet: 位置, 问题, 事项 and 可提交 or the reason it will be skipped."""
    acting(ctx, request, "submit")
    path = _sheet(file)
    if path is None:
        return []
    with read_upload("登记表", path, "登记表无法读取"):
        records, _ = read_cases(path)
    return [[row.where, entry.question if entry else str(row.fields.get("question") or ""),
             entry.item if entry else str(row.fields.get("item") or ""),
             (f"{READY}（{message}）" if message else READY) if entry else message]
            for row, entry, message in records]


def report(result: SheetReport) -> str:
    """A submitted sheet's counts and problems as Chinese Markdown (stored text escaped)."""
    ids = "、".join(plain(s.entry_id) for s in result.drafts) or "无"
    lines = [f"**已提交 {len(result.drafts)} 条，等待组长审核**（{ids}）；完全重复未存储 {len(result.duplicates)} 条；"
             f"未提交 {len(result.errors)} 行。"]
    lines += [f"- 未提交：{plain(m)}" for m in result.errors]
    lines += [f"- 提示：{plain(m)}" for m in result.warnings]
    lines += [f"- 可能重复：{plain(s.entry_id)} 与已发布的 {plain(s.duplicate_of)} 相似，组长审核时决定合并或保留"
              for s in result.flagged]
    lines += [f"- 完全相同：已有条目 {plain(s.entry_id)}，未重复存储" for s in result.duplicates]
    return "\n".join(lines)


def submit_sheet(ctx: Context, file: str | None, request: gr.Request | None) -> str:
    """Submit every valid record of the uploaded sheet as a draft; a bad row never blocks the others."""
    user = acting(ctx, request, "submit")
    path = _sheet(file)
    if path is None:
        return ""
    with ctx.lock, shown_errors(), read_upload("登记表", path, "登记表无法读取"):
        result = submit_cases(Workflow(ctx.kb), user, path)
    return report(result)


def build(ctx: Context, opening: Opening) -> None:
    """The page: the case form, the sheet upload with its preview, and 我的提交."""
    with gr.Accordion("登记一个案例", open=True):
        question = gr.Textbox(label="问题（必填）", placeholder="群众咨询的问题或遇到的情况", lines=2)
        answer = gr.Textbox(label="答复（必填）", placeholder="解决方案或答复口径", lines=4)
        with gr.Row():
            item = gr.Dropdown([], value=None, label="事项", allow_custom_value=True, info="可从已有事项中选，也可直接输入")
            department = gr.Textbox(label="部门")
            basis = gr.Textbox(label="依据", placeholder="文件名称文号，或给出口径的部门和人员")
        with gr.Row():
            effective_from = gr.Textbox(label="生效日期", placeholder="如 2026-11-03 或 2026年11月3日")
            expire_on = gr.Textbox(label="失效日期", placeholder="口径最后有效的一天（含当日）")
            supersedes = gr.Textbox(label="替代编号", placeholder="本口径替代的已发布条目编号")
        tags = gr.Textbox(label="标签", placeholder="用逗号或顿号分隔")
        alternatives = gr.Textbox(label="其他问法", placeholder="群众的其他问法，每行一个", lines=2)
        revises = gr.Textbox(label="修订编号（可选）",
                             placeholder="修改已发布条目时填它的编号：留空的字段沿用原条目，审核通过后成为它的新版本")
        submit_button = gr.Button("提交", variant="primary")
        outcome_box = gr.Markdown()
    with gr.Accordion("上传当天的登记表", open=False):
        sheet = gr.File(label="登记表（.xlsx 或 .csv）", file_types=SHEET_TYPES, type="filepath")
        with gr.Row():
            preview_button = gr.Button("预览")
            sheet_button = gr.Button("提交全部有效行", variant="primary")
        rows = gr.Dataframe(headers=PREVIEW_HEADERS, datatype="str", interactive=False, wrap=True, label="预览")
        sheet_box = gr.Markdown()
    gr.Markdown("### 我的提交")
    mine_table = gr.Dataframe(headers=MINE_HEADERS, datatype="str", interactive=False, wrap=True)
    form = [question, answer, item, department, basis, supersedes, effective_from, expire_on, tags,
            alternatives, revises]

    def on_submit(text, reply, chosen_item, dept, ground, replaced, start, end, labels, others, revised,
                  request: gr.Request):
        shown = submit_case(ctx, text, reply, chosen_item, dept, ground, replaced, start, end, labels, others,
                            revised, request)
        return shown, mine(ctx, request), gr.Dropdown(choices=items(ctx))

    def on_preview(file, request: gr.Request):
        return preview(ctx, file, request)

    def on_sheet(file, request: gr.Request):
        return submit_sheet(ctx, file, request), mine(ctx, request), gr.Dropdown(choices=items(ctx))

    def on_mine(request: gr.Request):
        return mine(ctx, request)

    def on_load(request: gr.Request):
        return gr.Dropdown(choices=items(ctx)), mine(ctx, request)

    submit_button.click(on_submit, form, [outcome_box, mine_table, item], api_name="submit_case")
    preview_button.click(on_preview, sheet, rows, api_name="preview_sheet")
    sheet_button.click(on_sheet, sheet, [sheet_box, mine_table, item], api_name="submit_sheet")
    gr.Button("刷新我的提交", size="sm").click(on_mine, None, mine_table, api_name="my_cases")
    opening.load(on_load, None, [item, mine_table], api_visibility="private")
