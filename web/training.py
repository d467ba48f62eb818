"""培训: the monthly training pack, a new hire's four-week plan and the quarterly evaluation.

A trainer picks a month and gets the pack (:func:`bot.training.training_pack`) as a Markdown
preview with Word and PDF downloads; picks a learner and a start date and gets the four-week plan
(:func:`bot.onboarding.onboarding_plan`) with a Word download; types a quarter and gets the
evaluation (:func:`bot.evaluation.quarterly_evaluation`) as xlsx. Everything needs ``training``
(组长/培训师, 管理员), checked here first and again by the library, so staff are refused through the
page and the API alike; a learner may only read their own plan without it.

The previews are Markdown whose stored texts are escaped (:func:`bot.training_word.markdown`), shown
in a ``gr.Markdown`` that also sanitises HTML. Files go to the app's :class:`~web.downloads.Downloads`;
``ctx.lock`` is held only while the records are read, not while files are written or converted.
"""

from __future__ import annotations

from datetime import date

import gradio as gr

from bot.evaluation import evaluation_xlsx, quarterly_evaluation
from bot.onboarding import onboarding_plan
from bot.training import TrainingError, month_range, training_pack
from bot.training_word import pack_docx, pack_markdown, plan_docx, plan_markdown, to_pdf
from kb.papers import people

from .context import Context, account, acting, shown_errors
from .opening import Opening
from .downloads import Downloads
from .exam_bank import current_quarter

TITLE = "培训"
ROLES = frozenset({"reviewer", "admin"})
PROMPT = "选择月份后点击“生成培训资料”，预览本月的新口径、高频问题、自测错题和月度自测，并下载 Word 和 PDF。"


def _written(what: str):
    return gr.Error(f"无法写入{what}文件：请检查服务器临时目录的空间和权限。", title=f"{what}未生成")


def make_pack(ctx: Context, month: str | None, request: gr.Request | None,
              downloads: Downloads) -> tuple[str, str, str | None]:
    """The pack of ``month`` for the logged-in trainer: its Markdown, the .docx path and the .pdf path
    (None, with a warning, when LibreOffice is not installed)."""
    user = acting(ctx, request, "training")
    with shown_errors():
        chosen = month_range(month or date.today().isoformat()[:7])[0]
    with ctx.lock, shown_errors():
        pack = training_pack(ctx.kb.records, chosen, user)
    try:
        word = pack_docx(pack, downloads.folder(user.username) / f"月度培训资料-{pack.month}.docx")
    except OSError as exc:
        raise _written("培训资料") from exc
    try:
        pdf = str(to_pdf(word))
    except TrainingError as exc:
        gr.Warning(str(exc))
        pdf = None
    return pack_markdown(pack), str(word), pdf


def learner_choices(ctx: Context, request: gr.Request | None) -> list[tuple[str, str]]:
    """The active accounts as (``姓名（用户名，小组）``, username) choices, for a trainer."""
    acting(ctx, request, "training")
    with ctx.lock:
        found = people(ctx.kb.records)
    return [(f"{u.display_name or u.username}（{u.username}{'，' + u.group if u.group else ''}）", u.username)
            for u in found]


def make_plan(ctx: Context, learner: str | None, start: str | None, request: gr.Request | None,
              downloads: Downloads) -> tuple[str, str]:
    """The four-week plan of ``learner`` (the logged-in account when empty) from ``start``: its
    Markdown and the .docx path. Another learner's plan needs ``training``."""
    me = account(ctx, request)
    learner = (learner or "").strip()
    user = acting(ctx, request, "study" if learner in ("", me.username) else "training")
    with ctx.lock, shown_errors():
        plan = onboarding_plan(ctx.kb.records, user, learner, (start or "").strip())
    try:
        word = plan_docx(plan, downloads.folder(user.username) / f"四周学习计划-{plan.username}-{plan.start}.docx")
    except OSError as exc:
        raise _written("学习计划") from exc
    return plan_markdown(plan), str(word)


def make_evaluation(ctx: Context, quarter: str | None, request: gr.Request | None, downloads: Downloads) -> str:
    """The quarterly evaluation of ``quarter`` (this quarter when empty) as an .xlsx path."""
    user = acting(ctx, request, "training")
    with ctx.lock, shown_errors():
        made = quarterly_evaluation(ctx.kb.records, (quarter or "").strip() or current_quarter(), user)
    try:
        return str(evaluation_xlsx(made, downloads.folder(user.username) / f"季度考评-{made.quarter}.xlsx"))
    except OSError as exc:
        raise _written("季度考评") from exc


def build(ctx: Context, opening: Opening) -> None:
    """The page: the month and the pack with its downloads; the learner, start date and plan; the
    quarter and the evaluation download."""
    downloads = Downloads("kb-training-")
    gr.Markdown("### 月度培训资料")
    with gr.Row():
        month = gr.Textbox(label="月份", info="如 2026-11", max_lines=1, scale=3)
        make = gr.Button("生成培训资料", variant="primary", scale=1)
    with gr.Row():
        word = gr.DownloadButton("下载 Word（.docx）", value=None)
        pdf = gr.DownloadButton("下载 PDF", value=None)
    shown = gr.Markdown(PROMPT, sanitize_html=True)
    gr.Markdown("### 新员工四周学习计划")
    with gr.Row():
        learner = gr.Dropdown([], value=None, label="学员", scale=2)
        start = gr.Textbox(label="开始日期", info="如 2026-12-01；留空为下周一", max_lines=1, scale=2)
        make_plan_button = gr.Button("生成学习计划", scale=1)
    plan_word = gr.DownloadButton("下载学习计划 Word（.docx）", value=None)
    plan_shown = gr.Markdown("", sanitize_html=True)
    gr.Markdown("### 季度考评")
    with gr.Row():
        quarter = gr.Textbox(label="季度", info="如 2026Q4", max_lines=1, scale=3)
        make_evaluation_button = gr.Button("导出季度考评", scale=1)
    evaluation_file = gr.DownloadButton("下载季度考评（.xlsx）", value=None)

    def on_pack(value, request: gr.Request):
        return make_pack(ctx, value, request, downloads)

    def on_plan(chosen, day, request: gr.Request):
        return make_plan(ctx, chosen, day, request, downloads)

    def on_evaluation(value, request: gr.Request):
        return make_evaluation(ctx, value, request, downloads)

    def loaded(request: gr.Request):
        """The learner picker, this month and this quarter for a trainer; nothing for a role that does
        not see this page."""
        if account(ctx, request).role not in ROLES:
            return gr.skip(), gr.skip(), gr.skip()
        return gr.Dropdown(choices=learner_choices(ctx, request)), date.today().isoformat()[:7], current_quarter()

    make.click(on_pack, month, [shown, word, pdf], api_name="training_pack")
    month.submit(on_pack, month, [shown, word, pdf], api_visibility="private")
    make_plan_button.click(on_plan, [learner, start], [plan_shown, plan_word], api_name="training_plan")
    make_evaluation_button.click(on_evaluation, quarter, evaluation_file, api_name="training_evaluation")
    opening.load(loaded, None, [learner, month, quarter], api_visibility="private")
