"""每日汇总: pick a day, read its digest of solved cases and 口径 changes, download it as .md and .docx.

The digest is :func:`bot.digest.build_digest` for the logged-in account, the same as ``kb digest``
on the command line: the ``digest`` permission is checked here first and again by ``build_digest``,
so staff are refused through the page and the API alike. The page shows the Markdown of
:func:`bot.digest.to_markdown`, which backslash-escapes every stored text (``<``, ``>``, ``&``,
link and emphasis syntax), in a ``gr.Markdown`` that also sanitises HTML; stored markup is shown as
the characters that were typed.

The files go to the app's :class:`~web.downloads.Downloads` directory, where each user keeps only
their latest few; ``ctx.lock`` is held only while the digest is read from the records, not while
it is rendered and written.
"""

from __future__ import annotations

from datetime import date

import gradio as gr

from bot.digest import build_digest, digest_docx, to_markdown
from kb.dates import ACCEPTED, parse_date

from .context import Context, acting, shown_errors
from .opening import Opening
from .downloads import Downloads

TITLE = "每日汇总"
ROLES = frozenset({"reviewer", "admin"})
PROMPT = "选择日期后点击“生成”，查看当天的疑难案例与口径变更汇总，并下载 Word 和 Markdown 文件。"


def _today() -> str:
    return date.today().isoformat()


def chosen_day(value: str | None) -> str:
    """``value`` as an ISO date (empty: today); ``gr.Error`` naming the accepted forms if unreadable."""
    day = parse_date(value)
    if day is None:
        raise gr.Error(f"日期“{value}”无法识别（格式不对，或没有这一天）。请写成 {ACCEPTED}，或留空表示今天。",
                       title="日期有误")
    return day or _today()


def make_digest(ctx: Context, value: str | None, request: gr.Request | None,
                downloads: Downloads) -> tuple[str, str, str]:
    """The digest of the day ``value`` for the logged-in account: its Markdown, and the paths of the
    .md and .docx files written to a new folder of ``downloads`` for this request."""
    user = acting(ctx, request, "digest")
    day = chosen_day(value)
    with ctx.lock, shown_errors():
        digest = build_digest(ctx.kb, day, user)
    markdown = to_markdown(digest)
    try:
        stem = downloads.folder(user.username) / f"每日汇总-{day}"
        markdown_file, word_file = stem.with_suffix(".md"), stem.with_suffix(".docx")
        markdown_file.write_text(markdown, encoding="utf-8")
        digest_docx(digest, word_file)
    except OSError as exc:
        raise gr.Error(f"无法写入汇总文件：{exc.strerror}。请检查服务器临时目录的空间和权限。",
                       title="汇总未生成") from exc
    return markdown, str(markdown_file), str(word_file)


def build(ctx: Context, opening: Opening) -> None:
    """The page: the date and the 生成 button, the digest, and its two downloads."""
    with gr.Row():
        day = gr.Textbox(label="汇总日期", info=f"可写成 {ACCEPTED}；留空表示今天",
                         max_lines=1, scale=3)
        make = gr.Button("生成", variant="primary", scale=1)
    with gr.Row():
        word = gr.DownloadButton("下载 Word（.docx）", value=None)
        markdown_file = gr.DownloadButton("下载 Markdown（.md）", value=None)
    shown = gr.Markdown(PROMPT, sanitize_html=True)
    downloads = Downloads("kb-digest-")

    def on_make(value, request: gr.Request):
        return make_digest(ctx, value, request, downloads)

    make.click(on_make, day, [shown, markdown_file, word], api_name="digest")
    day.submit(on_make, day, [shown, markdown_file, word], api_visibility="private")
    opening.load(_today, None, day, show_progress="hidden", api_visibility="private")
