"""出题阅卷: an approving department's page for the quarterly meeting, always within its own 事项.

Four sub-tabs: 本部门题目 (the bank questions of its 事项, a new question, a correction), 组卷与审定
(compose a paper from its 事项, approve its part of a paper), 阅卷 (the 简答 answers of its 事项 by
answer-sheet number, never by name, with a score box) and 成绩 (per question, and per person the name
and score only). Everything goes through :class:`kb.department.Department`, which checks
``setpaper`` and the 事项 on every call; the handlers admit the logged-in account to ``setpaper``
first, so a staff account or a trainer is refused through the page and the API alike.
"""

from __future__ import annotations

import re

import gradio as gr

from kb.department import Department
from kb.quizbank import DIFFICULTIES, KINDS

from .context import Context, account, acting, plain, shown_errors
from .opening import Opening
from .exam_bank import answer_text, count, quoted, stem_text, whole

TITLE = "出题阅卷"
ROLES = frozenset({"department", "admin"})
QUESTION_HEADERS = ["题号", "事项", "题型", "难度", "题干", "答案", "过期原因"]
PAPER_HEADERS = ["试卷编号", "标题", "题库", "本部门题数", "本部门分值", "组卷人", "本部门审定"]
GRADING_HEADERS = ["答卷编号", "题号", "试卷", "题目", "评分要点", "作答", "满分", "当前得分", "状态"]
RESULT_HEADERS = ["试卷", "题号", "事项", "题型", "题目", "作答人数", "平均分", "满分", "得满分人数"]
PERSON_HEADERS = ["试卷", "姓名", "得分", "满分"]
COUNTS = {"single": 2, "multiple": 1, "judge": 2, "blank": 1, "short": 1}
"""Questions of each type a new paper draws unless the department changes them."""


def _store(ctx: Context) -> Department:
    return Department(ctx.kb.records)


def scope_text(ctx: Context, request: gr.Request | None) -> tuple[str, list[str]]:
    """The logged-in department's 事项 as a Markdown line, and as a list for the pickers."""
    user = acting(ctx, request, "setpaper")
    with ctx.lock, shown_errors():
        items = _store(ctx).items(user)
    return f"**负责事项**：{plain('、'.join(items)) or '—'}（只显示、只修改这些事项的题目和作答）", items


def bank_choices(ctx: Context, request: gr.Request | None) -> list[tuple[str, str]]:
    """The banks as ``(label, id)``, each label counting the questions of the department's 事项."""
    user = acting(ctx, request, "setpaper")
    with ctx.lock, shown_errors():
        banks = _store(ctx).banks(user)
    return [(f"{bank_id}（{since} 至 {until}，本部门事项 {n} 题）", bank_id) for bank_id, since, until, n in banks]


def question_rows(ctx: Context, bank_id: str | None, request: gr.Request | None) -> list[list[str]]:
    """The bank questions of the department's 事项 as rows of :data:`QUESTION_HEADERS`."""
    user = acting(ctx, request, "setpaper")
    if not bank_id:
        return []
    with ctx.lock, shown_errors():
        found = _store(ctx).questions(user, bank_id)
    return [[str(f.number), f.question.item, f.question.label, f.question.difficulty, stem_text(f.question),
             f.question.key_line if f.question.kind == "short" else answer_text(f.question), f.question.stale]
            for f in found]


def key_of(kind: str, text: str) -> list[str]:
    """The key as typed: option letters (``AC``, ``A,C``), or one term per line, or a 简答's whole answer."""
    if kind in ("single", "multiple"):
        return list(re.sub(r"[\s,，、;；]", "", text or "").upper())
    if kind == "short":
        return [(text or "").strip()]
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _bank(bank_id: str | None) -> str:
    if not bank_id:
        raise gr.Error("请先选择题库。", title="未选择题库")
    return bank_id


def propose_question(ctx: Context, bank_id: str | None, kind: str | None, item: str | None, difficulty: str | None,
                     stem: str, options: str, answer: str, explanation: str, points: str,
                     request: gr.Request | None) -> str:
    """Add a new question of one of the department's 事项 to a bank; ``options`` and ``points`` one per
    line. Returns a confirmation (Markdown) naming its number."""
    user = acting(ctx, request, "setpaper")
    if kind not in KINDS:
        raise gr.Error("请选择题型。", title="未选择题型")
    with ctx.lock, shown_errors():
        added = _store(ctx).propose(user, _bank(bank_id), kind, item or "", stem or "", (options or "").splitlines(),
                                    key_of(kind, answer), explanation or "", (points or "").splitlines(),
                                    difficulty or "中")
    return f"已加入题库 {plain(added.bank_id)}，题号 {added.number}（{added.question.item}·{added.question.label}）。"


def question_form(ctx: Context, bank_id: str | None, number,
                  request: gr.Request | None) -> tuple[str, str, str, str, str, str]:
    """Question ``number`` of the department's 事项 for correcting: heading, stem, options (one per
    line), key, explanation and 评分要点 (one per line)."""
    user = acting(ctx, request, "setpaper")
    with ctx.lock, shown_errors():
        found = {f.number: f.question for f in _store(ctx).questions(user, _bank(bank_id))}
    q = found.get(whole(number))
    if q is None:
        raise gr.Error(f"题号{quoted(number)}不是本部门负责事项的题目：请在上表中选一道题。", title="题号有误")
    head = f"**第 {int(number)} 题**　{q.item}·{q.label}·{q.difficulty}" + (f"　**过期**：{plain(q.stale)}" if q.stale else "")
    return head, q.stem, "\n".join(q.options), answer_text(q), q.explanation, "\n".join(q.points)


def save_question(ctx: Context, bank_id: str | None, number, stem: str, options: str, answer: str,
                  explanation: str, points: str, request: gr.Request | None) -> str:
    """Store the department's correction of question ``number`` (its type and 事项 stay)."""
    user = acting(ctx, request, "setpaper")
    picked = whole(number)
    if picked is None:
        raise gr.Error("请先在上表中选一道本部门负责事项的题目（或填写它的题号）。", title="题号有误")
    with ctx.lock, shown_errors():
        store = _store(ctx)
        kinds = {f.number: f.question.kind for f in store.questions(user, _bank(bank_id))}
        store.edit(user, bank_id, picked, stem or "", (options or "").splitlines(),
                   key_of(kinds.get(picked, "short"), answer), explanation or "", (points or "").splitlines())
    return f"已保存题库 {plain(bank_id)} 第 {picked} 题。"


def compose_paper(ctx: Context, bank_id: str | None, title: str, counts, paper_id: str,
                  request: gr.Request | None) -> tuple[str, str]:
    """Compose a paper from the department's 事项 of a bank (``counts`` per type in :data:`KINDS` order).
    Returns a confirmation (Markdown) and the paper's id."""
    user = acting(ctx, request, "setpaper")
    wanted = {kind: count(n, f"{label}题数", "题数有误") for (kind, label), n in zip(KINDS.items(), counts)}
    with ctx.lock, shown_errors():
        paper = _store(ctx).compose(user, _bank(bank_id), title or "", wanted, paper_id=paper_id or "")
    return (f"**试卷 {plain(paper.id)} 已组好**：《{plain(paper.title)}》，{len(paper.questions)} 题，满分 {paper.total:g} 分。"
            "审定后请培训师分配给窗口人员。"), paper.id


def paper_rows(ctx: Context, request: gr.Request | None) -> tuple[list[list[str]], list[tuple[str, str]]]:
    """The papers holding questions of the department's 事项 as rows of :data:`PAPER_HEADERS`, and as
    picker choices."""
    user = acting(ctx, request, "setpaper")
    with ctx.lock, shown_errors():
        found = _store(ctx).papers(user)
    rows = [[p.id, p.title, p.bank_id, str(len(p.questions)), f"{p.total:g}", p.created_by,
             f"已审定 {a.approved_at[:16].replace('T', ' ')}" if a else "未审定"] for p, a in found]
    return rows, [(f"{p.id}　{p.title}", p.id) for p, _ in found]


def approve_paper(ctx: Context, paper_id: str | None, request: gr.Request | None) -> str:
    """Approve the department's questions of a paper; returns a confirmation (Markdown)."""
    user = acting(ctx, request, "setpaper")
    if not paper_id:
        raise gr.Error("请先选择试卷。", title="未选择试卷")
    with ctx.lock, shown_errors():
        done = _store(ctx).approve(user, paper_id)
    return f"已审定试卷 {plain(paper_id)} 中本部门负责事项的 {done.questions} 道题。"


def grading_rows(ctx: Context, paper_id: str | None, pending_only: bool,
                 request: gr.Request | None) -> list[list[str]]:
    """The 简答 answers of the department's 事项 (of one paper or all) as rows of :data:`GRADING_HEADERS`."""
    user = acting(ctx, request, "setpaper")
    with ctx.lock, shown_errors():
        found = _store(ctx).to_grade(user, paper_id or "", pending_only)
    return [[str(g.attempt_id), str(g.number), g.paper_id, g.question.stem, "；".join(g.question.points),
             g.response or "（未作答）", f"{g.points:g}", f"{g.score:g}",
             f"已阅（自动评分 {g.regrade.auto_score:g}）" if g.regrade else "待阅（自动评分）"] for g in found]


def grade_answer(ctx: Context, attempt_id, number, score, note: str, request: gr.Request | None) -> str:
    """Give answer ``number`` of answer sheet ``attempt_id`` ``score`` points; returns a confirmation."""
    user = acting(ctx, request, "setpaper")
    sheet, question = whole(attempt_id), whole(number)
    if not sheet or not question or score is None:
        raise gr.Error("请在表中选一条作答（或填写答卷编号和题号），并填写得分。", title="未评分")
    with ctx.lock, shown_errors():
        done = _store(ctx).grade(user, sheet, question, float(score), note or "")
    return f"答卷 {sheet} 第 {question} 题：{done.auto_score:g} 分（自动）→ {done.score:g} 分，总分已更新。"


def result_rows(ctx: Context, paper_id: str | None,
                request: gr.Request | None) -> tuple[list[list[str]], list[list[str]]]:
    """The results of the department's 事项: rows of :data:`RESULT_HEADERS` and :data:`PERSON_HEADERS`."""
    user = acting(ctx, request, "setpaper")
    with ctx.lock, shown_errors():
        by_question, by_person = _store(ctx).results(user, paper_id or "")
    return ([[r.paper_id, str(r.number), r.question.item, r.question.label, r.question.stem, str(r.answers),
              f"{r.average:.1f}", f"{r.points:g}", str(r.full)] for r in by_question],
            [[p.paper_id, p.name, f"{p.score:g}", f"{p.points:g}"] for p in by_person])


def _table(headers: list[str], label: str, widths: list[str] | None = None) -> gr.Dataframe:
    return gr.Dataframe(headers=headers, datatype="str", interactive=False, wrap=True, label=label,
                        column_widths=widths)


def build(ctx: Context, opening: Opening) -> None:
    """The page: the scope line and the four sub-tabs, filled when the page opens."""
    scope = gr.Markdown()
    with gr.Tabs():
        with gr.Tab("本部门题目"):
            bank = gr.Dropdown([], value=None, label="题库")
            questions = _table(QUESTION_HEADERS, "本部门负责事项的题目（点击一行可修改）",
                               ["6%", "9%", "6%", "6%", "47%", "18%", "8%"])
            with gr.Row():
                kind = gr.Dropdown([(label, key) for key, label in KINDS.items()], value="single", label="题型")
                item = gr.Dropdown([], value=None, label="事项")
                difficulty = gr.Radio(list(DIFFICULTIES), value="中", label="难度")
                number = gr.Number(None, label="题号（修改时）", precision=0)
            picked = gr.Markdown()
            stem = gr.Textbox(label="题干", lines=2)
            options = gr.Textbox(label="选项（每行一个，仅单选、多选题）", lines=3)
            with gr.Row():
                answer = gr.Textbox(label="答案", info="选择题写字母如 AC；判断题写 正确 或 错误；填空每行一个；简答写参考答案",
                                    lines=2)
                points = gr.Textbox(label="评分要点（每行一个，仅简答题）", lines=2)
            explanation = gr.Textbox(label="解析", lines=2)
            with gr.Row():
                add = gr.Button("作为新题加入", variant="primary")
                load = gr.Button("载入所填题号")
                save = gr.Button("保存修改")
            saved = gr.Markdown()
        with gr.Tab("组卷与审定"):
            with gr.Row():
                title = gr.Textbox(label="试卷标题", placeholder="如：第四季度窗口例会测试", max_lines=1)
                paper_id = gr.Textbox(label="试卷编号（可选）", max_lines=1)
            with gr.Row():
                counts = [gr.Number(COUNTS[k], label=f"{label}题数", precision=0)
                          for k, label in KINDS.items()]
            compose = gr.Button("用本部门事项的题目组卷", variant="primary")
            composed = gr.Markdown()
            papers = _table(PAPER_HEADERS, "含本部门事项题目的试卷")
            with gr.Row():
                paper = gr.Dropdown([], value=None, label="试卷")
                approve = gr.Button("审定本部门的题目", variant="primary")
            approved = gr.Markdown()
        with gr.Tab("阅卷"):
            with gr.Row():
                pending = gr.Checkbox(True, label="只看待阅的作答")
                show_grading = gr.Button("刷新")
            grading = _table(GRADING_HEADERS, "简答题作答（只显示答卷编号；点击一行开始评分）",
                             ["8%", "6%", "8%", "22%", "14%", "24%", "5%", "6%", "7%"])
            with gr.Row():
                attempt = gr.Number(None, label="答卷编号", precision=0)
                answer_number = gr.Number(None, label="答卷题号", precision=0)
                score = gr.Number(None, label="得分")
                note = gr.Textbox(label="评语（可选）", max_lines=2)
            grade = gr.Button("保存评分", variant="primary")
            graded = gr.Markdown()
        with gr.Tab("成绩"):
            show_results = gr.Button("查看成绩")
            by_question = _table(RESULT_HEADERS, "本部门事项各题得分",
                                 ["7%", "5%", "9%", "6%", "45%", "7%", "7%", "6%", "8%"])
            by_person = _table(PERSON_HEADERS, "个人得分（仅本部门事项的题目）")
    form = [picked, stem, options, answer, explanation, points]

    def loaded(request: gr.Request):
        if not account(ctx, request).can("setpaper"):
            return tuple(gr.skip() for _ in range(6))
        line, items = scope_text(ctx, request)
        rows, choices = paper_rows(ctx, request)
        return (line, gr.Dropdown(choices=bank_choices(ctx, request)), gr.Dropdown(choices=items),
                rows, gr.Dropdown(choices=choices), grading_rows(ctx, "", True, request))

    def on_bank(b, request: gr.Request):
        return question_rows(ctx, b, request)

    def on_add(b, k, i, d, s, o, a, e, p, request: gr.Request):
        return propose_question(ctx, b, k, i, d, s, o, a, e, p, request), question_rows(ctx, b, request)

    def on_load(b, n, request: gr.Request):
        return question_form(ctx, b, n, request)

    def on_select(b, evt: gr.SelectData, request: gr.Request):
        n = int(evt.row_value[0]) if evt.row_value else None
        return n, *question_form(ctx, b, n, request)

    def on_save(b, n, s, o, a, e, p, request: gr.Request):
        return save_question(ctx, b, n, s, o, a, e, p, request), question_rows(ctx, b, request)

    def on_compose(b, t, n1, n2, n3, n4, n5, pid, request: gr.Request):
        text, new = compose_paper(ctx, b, t, [n1, n2, n3, n4, n5], pid, request)
        rows, choices = paper_rows(ctx, request)
        return text, rows, gr.Dropdown(choices=choices, value=new)

    def on_approve(p, request: gr.Request):
        return approve_paper(ctx, p, request), paper_rows(ctx, request)[0]

    def on_grading(only, request: gr.Request):
        return grading_rows(ctx, "", only, request)

    def on_pick_answer(evt: gr.SelectData):
        return (int(evt.row_value[0]), int(evt.row_value[1])) if evt.row_value else (gr.skip(), gr.skip())

    def on_grade(a, n, points_given, words, only, request: gr.Request):
        return grade_answer(ctx, a, n, points_given, words, request), grading_rows(ctx, "", only, request)

    def on_results(request: gr.Request):
        return result_rows(ctx, "", request)

    opening.load(loaded, None, [scope, bank, item, papers, paper, grading], api_visibility="private")
    bank.change(on_bank, bank, questions, api_visibility="private")
    add.click(on_add, [bank, kind, item, difficulty, stem, options, answer, explanation, points], [saved, questions],
              api_visibility="private")
    load.click(on_load, [bank, number], form, api_visibility="private")
    questions.select(on_select, bank, [number, *form], api_visibility="private")
    save.click(on_save, [bank, number, stem, options, answer, explanation, points], [saved, questions],
               api_visibility="private")
    compose.click(on_compose, [bank, title, *counts, paper_id], [composed, papers, paper], api_visibility="private")
    approve.click(on_approve, paper, [approved, papers], api_visibility="private")
    show_grading.click(on_grading, pending, grading, api_visibility="private")
    pending.change(on_grading, pending, grading, api_visibility="private")
    grading.select(on_pick_answer, None, [attempt, answer_number], api_visibility="private")
    grade.click(on_grade, [attempt, answer_number, score, note, pending], [graded, grading], api_visibility="private")
    show_results.click(on_results, None, [by_question, by_person], api_visibility="private")
