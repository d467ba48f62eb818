"""Word exports of a paper: the printable paper (no answers at all) and its answer key with explanations.

Both group the questions into sections by type in the order of :data:`kb.quizbank.KINDS`
(一、单选题 … 五、简答题) and keep each question's number on the paper, so the key matches the paper
line by line. The layout itself is done by :func:`bot.word.write_docx`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kb.papers import LETTERS, PaperQuestion
from kb.quizbank import KINDS, QuizQuestion

from .word import Block, Heading, Paragraph, write_docx

NUMERALS = "一二三四五六七八九十"
HEADER_LINE = "姓名：＿＿＿＿＿＿　　小组：＿＿＿＿＿＿　　得分：＿＿＿＿＿＿"
ANSWER_LINES = 6
"""Empty lines left under a 简答 question for the handwritten answer."""
INDENT = "　　"


def points_text(points: float) -> str:
    """Points as printed on a paper: ``2.0`` -> ``"2"``, ``2.5`` -> ``"2.5"``."""
    return f"{points:.2f}".rstrip("0").rstrip(".")


def type_name(kind: str) -> str:
    """The Chinese name of a question type as printed in a section heading: ``single`` -> ``单选题``."""
    return f"{KINDS[kind]}题"


def answer_text(question: QuizQuestion) -> str:
    """The key as one string: option letters (``ABD``) for 单选/多选, ``正确``/``错误`` for 判断,
    the term for 填空, the reference answer for 简答."""
    if question.kind in ("single", "multiple"):
        return "".join(sorted(question.answer))
    return "；".join(question.answer)


def option_lines(question: QuizQuestion) -> list[str]:
    """The lettered options of a 单选/多选 (``A. …``); a 判断/填空/简答 has none on paper."""
    if question.kind not in ("single", "multiple"):
        return []
    return [f"{LETTERS[i]}. {option}" for i, option in enumerate(question.options)]


def sections(questions: Sequence[PaperQuestion]) -> list[tuple[str, list[PaperQuestion]]]:
    """The questions grouped by type in :data:`KINDS` order, each group sorted by number, with its
    heading (``一、单选题（每题 2 分，共 6 分）``; ``（共 N 分）`` when the points differ)."""
    found = []
    for kind in KINDS:
        group = sorted((q for q in questions if q.question.kind == kind), key=lambda q: q.number)
        if not group:
            continue
        total = points_text(sum(q.points for q in group))
        worth = {q.points for q in group}
        each = f"每题 {points_text(group[0].points)} 分，" if len(worth) == 1 else ""
        found.append((f"{NUMERALS[len(found)]}、{type_name(kind)}（{each}共 {total} 分）", group))
    return found


def _same_points(group: list[PaperQuestion]) -> bool:
    return len({q.points for q in group}) == 1


def _stem_line(q: PaperQuestion, show_points: bool) -> str:
    stem = q.question.stem
    if q.question.kind == "judge" and "（　）" not in stem:
        stem += "（　）"
    return f"{q.number}. {stem}" + (f"（{points_text(q.points)} 分）" if show_points else "")


def _summary(questions: Sequence[PaperQuestion]) -> str:
    total = points_text(sum(q.points for q in questions))
    return f"本卷共 {len(questions)} 题，满分 {total} 分。"


def write_paper(path: Path, title: str, questions: Sequence[PaperQuestion]) -> Path:
    """Write the printable paper: title, the 姓名/小组/得分 line, the total, then the sections with
    numbered questions, options on their own lines and empty lines under each 简答; never a key,
    an explanation or a source."""
    blocks: list[Block] = [Paragraph(_summary(questions))]
    for heading, group in sections(questions):
        blocks.append(Heading(heading))
        if group[0].question.kind == "judge":
            blocks.append(Paragraph("（正确的在括号内打“√”，错误的打“×”。）"))
        for q in group:
            blocks.append(Paragraph(_stem_line(q, not _same_points(group))))
            blocks += [Paragraph(INDENT + line) for line in option_lines(q.question)]
            if q.question.kind == "short":
                blocks.append(Paragraph("答："))
                blocks += [Paragraph("") for _ in range(ANSWER_LINES)]
    return write_docx(path, title, blocks, subtitle=HEADER_LINE)


def write_key(path: Path, title: str, questions: Sequence[PaperQuestion]) -> Path:
    """Write the answer key: the paper's sections and numbers, and for each question its 答案
    (with the chosen options' text), 评分要点 for a 简答, and its 解析 line by line."""
    blocks: list[Block] = [Paragraph(_summary(questions))]
    for heading, group in sections(questions):
        blocks.append(Heading(heading))
        for q in group:
            question = q.question
            blocks.append(Paragraph(_stem_line(q, not _same_points(group)), bold=True))
            blocks.append(Paragraph(INDENT + _answer_line(question)))
            if question.kind == "short" and question.points:
                listed = "\n".join(f"{INDENT}{i}. {p}" for i, p in enumerate(question.points, 1))
                blocks.append(Paragraph(f"{INDENT}评分要点（共 {points_text(q.points)} 分）：\n{listed}"))
            if question.explanation.strip():
                lines = "\n".join(INDENT + line for line in question.explanation.strip().split("\n"))
                blocks.append(Paragraph(f"{INDENT}解析：\n{lines}"))
    return write_docx(path, f"{title}（答案与解析）", blocks)


def _answer_line(question: QuizQuestion) -> str:
    if question.kind in ("single", "multiple"):
        chosen = [question.options[LETTERS.index(k)] for k in sorted(question.answer)
                  if k in LETTERS[:len(question.options)]]
        return f"答案：{answer_text(question)}（{'；'.join(chosen)}）"
    if question.kind == "short":
        return f"参考答案：{answer_text(question)}"
    return f"答案：{answer_text(question)}"
