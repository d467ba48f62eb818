"""词表: the group leads keep the domain lexicon (:mod:`kb.lexicon`) from the browser, as ``kb lexicon``
does on the command line.

The page reads a question the way the knowledge base does (:func:`bot.reading.reading`: the
everyday words it recognises, the deciding words, the answer type asked for), lists the lexicon
(the centre's own lines first, newest first, with who added them and when; then the shipped ones),
adds one line, and imports a lexicon sheet (:func:`ingest.lexicon_sheet.read_lexicon_sheet`).

A line or sheet is checked when the button is pressed, so a bad one is refused at once with the
message naming what to fix, and nothing is stored. Adding then re-tokenises the whole knowledge base
(about 2 ms a chunk: minutes for a large one), so it runs as a background job (:mod:`web.jobs`) on
its own knowledge base and counters keep asking meanwhile; the app's knowledge base takes up the new
lexicon at its next search, as another process would. Listing and reading need ``read``, adding and
importing ``lexicon`` (group leads/trainers and admins), checked on the server at every call.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from bot.reading import reading
from ingest.lexicon_sheet import read_lexicon_sheet
from kb.lexicon import KINDS, additions, builtin_lines, fold, normal_line
from kb.users import User

from .context import Context, acting, plain, read_upload, shown_errors
from .jobs import Job, jobs_of, knowledge_base, shown
from .opening import Opening

TITLE = "词表"
ROLES = frozenset({"reviewer", "admin"})
JOB = "lexicon"
HEADERS = ["类型", "词表行", "补充人", "补充时间"]
SHIPPED = "内置"
HINT = ("词表把群众的说法对到规范用语（房本 → 不动产权证书），并列出区分相近条目的词（离职 | 退休）和问答类型"
        "（问“多少钱”，答复要有金额）。补充后整个知识库按新词表重新分词，在后台进行，期间问答照常。")
LINE_INFO = {
    "synonym": "第一个写规范用语，其余写群众的说法，用空格分隔，例如：不动产权证书 房本 小红本",
    "contrast": "每类用 | 分隔，第一类是默认情形，例如：离职 辞职 | 退休；只讲证照的一行以“证照:”开头",
    "answer_type": "问法 => 答复中应有的说法，# 表示数字+单位，例如：多少钱 交多少钱 => #元 免费",
}
NO_LINE = "请先填写要补充的词表行。"
NO_FILE = "请先选择词表文件（.xlsx 或 .csv）。"
NO_QUESTION = "请输入一个问题，看知识库怎样理解它。"


def lexicon_rows(ctx: Context, wanted: str | None, mine: bool, request: gr.Request | None) -> list[list[str]]:
    """The lexicon as table rows (see :data:`HEADERS`): the centre's lines newest first, then the
    shipped ones unless ``mine``; only lines or kinds containing ``wanted`` when it is given."""
    acting(ctx, request, "read")
    with ctx.lock:
        added = additions(ctx.kb.records.conn)
    rows = [[KINDS[kind], line, actor, at[:16].replace("T", " ")] for kind, line, actor, at in reversed(added)]
    if not mine:
        rows += [[KINDS[kind], line, SHIPPED, ""] for kind, line in builtin_lines()]
    needle = fold((wanted or "").strip())
    return [row for row in rows if needle in fold(row[1]) or needle == fold(row[0])]


def check(ctx: Context, question: str | None, request: gr.Request | None) -> str:
    """Markdown: how the lexicon reads ``question`` (with any lines another process added since)."""
    acting(ctx, request, "read")
    if not (question or "").strip():
        return NO_QUESTION
    with ctx.lock, shown_errors():
        ctx.kb.tokens.sync()
        lines = reading(ctx.kb.tokens, question.strip())
    return "\n".join(f"- {plain(line)}" for line in lines)


def start_add(ctx: Context, kind: str, line: str | None, request: gr.Request | None) -> Job | None:
    """Check one lexicon line of ``kind`` and add it as a job; None (with a warning) when empty,
    ``gr.Error`` naming the fix for a bad line."""
    user = acting(ctx, request, "lexicon")
    line = (line or "").strip()
    if not line:
        gr.Warning(NO_LINE, title="未补充")
        return None
    with ctx.lock, shown_errors():
        normal_line(kind, line)
        ctx.kb.tokens.sync()
        ctx.kb.tokens.lexicon.check_additions([(kind, line)])
    return _start(ctx, user, [(kind, line)], f"{KINDS[kind]}“{line}”")


def start_import(ctx: Context, file: str | None, request: gr.Request | None) -> Job | None:
    """Read and check the lexicon sheet ``file`` and add its lines as a job; None (with a warning)
    without a file, ``gr.Error`` naming the row and the fix for a bad sheet."""
    user = acting(ctx, request, "lexicon")
    if not file:
        gr.Warning(NO_FILE, title="未导入")
        return None
    path = Path(file)
    with shown_errors():
        with read_upload("词表文件", path, "未导入"):
            lines = read_lexicon_sheet(path)
        for kind, line in lines:
            normal_line(kind, line)
        with ctx.lock:
            ctx.kb.tokens.sync()
            ctx.kb.tokens.lexicon.check_additions(lines)
    return _start(ctx, user, lines, f"词表文件“{path.name}”的 {len(lines)} 行")


def _start(ctx: Context, user: User, lines: list[tuple[str, str]], what: str) -> Job:
    def work(job: Job) -> None:
        job.advance(0.0, f"正在补充{what}，并按新词表重新分词…")
        with knowledge_base(ctx) as kb:
            added = kb.tokens.add(user, lines)
        kept = len(lines) - len(added)
        job.advance(1.0, f"已补充 {len(added)} 行" + (f"，{kept} 行词表中已有" if kept else "")
                    + "；知识库已按新词表重新分词。" + ("补充的行：" + "；".join(added) if added else ""))

    return jobs_of(ctx).start(JOB, user, work)


def progress(ctx: Context, wanted: str | None, mine: bool, request: gr.Request | None) -> tuple:
    """The last lexicon job (progress bar, summary, poll timer) and the table."""
    table = lexicon_rows(ctx, wanted, mine, request)
    bar, status, timer = shown(jobs_of(ctx).latest((JOB,)))
    return bar, status, timer, table


def build(ctx: Context, opening: Opening) -> None:
    """The page: reading a question, adding a line, importing a sheet, the job's progress, the table."""
    gr.Markdown(HINT)
    with gr.Row():
        question = gr.Textbox(label="试一试：输入一个问题，看知识库怎样理解", max_lines=1, scale=4,
                              placeholder="例如：房本丢了怎么补办，要多少钱？")
        read = gr.Button("查看", scale=1)
    explained = gr.Markdown()
    with gr.Accordion("补充一行", open=True):
        with gr.Row():
            kind = gr.Radio([(name, key) for key, name in KINDS.items()], value="synonym", label="类型", scale=1)
            line = gr.Textbox(label="词表行", info=LINE_INFO["synonym"], max_lines=1, scale=3)
        add = gr.Button("补充", variant="primary")
    with gr.Accordion("从表格导入", open=False):
        gr.Markdown("“规范用语”“其他说法”两列，或“词语”一列（可加“类型”列：同义词/区分词/问答类型）。")
        upload = gr.File(label="词表文件（.xlsx 或 .csv）", file_types=[".xlsx", ".csv"], type="filepath")
        load = gr.Button("导入")
    bar = gr.HTML()
    status = gr.Markdown()
    with gr.Row():
        wanted = gr.Textbox(label="查找", placeholder="输入词语或类型", max_lines=1, scale=3)
        mine = gr.Checkbox(label="只看本中心补充的", scale=1)
    table = gr.Dataframe(headers=HEADERS, datatype=["str"] * 4, interactive=False, wrap=True, label="词表")
    timer = gr.Timer(1.0, active=False)
    outputs = [bar, status, timer, table]

    def on_add(chosen, text, filter_text, only_mine, request: gr.Request):
        start_add(ctx, chosen, text, request)
        return progress(ctx, filter_text, only_mine, request)

    def on_import(file, filter_text, only_mine, request: gr.Request):
        start_import(ctx, file, request)
        return progress(ctx, filter_text, only_mine, request)

    def on_progress(filter_text, only_mine, request: gr.Request):
        return progress(ctx, filter_text, only_mine, request)

    def on_read(text, request: gr.Request):
        return check(ctx, text, request)

    def on_table(filter_text, only_mine, request: gr.Request):
        return lexicon_rows(ctx, filter_text, only_mine, request)

    read.click(on_read, question, explained, api_name="lexicon_check")
    question.submit(on_read, question, explained, api_visibility="private")
    kind.change(lambda chosen: gr.Textbox(info=LINE_INFO[chosen]), kind, line, api_visibility="private",
                show_progress="hidden")
    add.click(on_add, [kind, line, wanted, mine], outputs, api_name="lexicon_add")
    load.click(on_import, [upload, wanted, mine], outputs, api_name="lexicon_import")
    gr.on([wanted.submit, mine.change], on_table, [wanted, mine], table, api_name="lexicon_list")
    timer.tick(on_progress, [wanted, mine], outputs, api_visibility="private", show_progress="hidden")
    opening.load(on_progress, [wanted, mine], outputs, api_visibility="private")
