"""Exporting a paper (or a whole bank drawn as one) to files a trainer hands out or imports elsewhere.

:data:`FORMATS` lists the formats; :func:`export` writes one of them:

- ``docx``: the printable Word paper, without any answer; ``key``: its answer key with explanations
  (both in :mod:`bot.paper_word`);
- ``xlsx``: the question bank in the one-sheet column layout Chinese exam platforms import
  (题型, 题干, 选项A…F, 正确答案, 解析, 分值, 难度);
- ``moodle``: Moodle XML (multichoice, truefalse, shortanswer for 填空, essay for 简答 with the key
  points as grader information); ``gift``: the same as Moodle GIFT text;
- ``json``: every field of every question, UTF-8.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font

from kb.errors import KBError
from kb.papers import LETTERS, PaperQuestion
from kb.quizbank import QuizQuestion

from .output import writing
from .paper_word import answer_text, type_name, write_key, write_paper

FORMATS: dict[str, tuple[str, str]] = {
    "docx": ("Word 试卷", ".docx"), "key": ("Word 答案与解析", ".docx"), "xlsx": ("Excel 题库", ".xlsx"),
    "moodle": ("Moodle XML", ".xml"), "gift": ("GIFT", ".txt"), "json": ("JSON", ".json")}
"""Export format -> (its Chinese label, the file suffix to use)."""

SHEET_HEADER = ("题型", "题干", *(f"选项{c}" for c in LETTERS), "正确答案", "解析", "分值", "难度")
SHEET_WIDTHS = (8, 50, *(18,) * len(LETTERS), 12, 50, 6, 6)
"""Column widths of the Excel bank, in characters."""
MOODLE_FRACTIONS = (1.0, 0.9, 0.8333333, 0.8, 0.75, 0.7, 0.6666667, 0.6, 0.5, 0.4, 0.3333333, 0.3, 0.25,
                    0.2, 0.1666667, 0.1428571, 0.125, 0.1111111, 0.1, 0.05)
"""The grade fractions Moodle offers for an answer (and their negatives), as in its question bank."""
_GIFT_RESERVED = str.maketrans({"\\": "\\\\", "~": "\\~", "=": "\\=", "#": "\\#", "{": "\\{", "}": "\\}",
                                ":": "\\:", "\n": "\\n", "\r": ""})


class ExportError(KBError):
    """A paper cannot be exported as asked (an unknown format, no questions, too many options)."""


def export(fmt: str, title: str, questions: Sequence[PaperQuestion], path: Path) -> Path:
    """Write ``questions`` (numbered as on the paper) titled ``title`` to ``path`` in format ``fmt``
    (a key of :data:`FORMATS`), creating its folder; returns ``path``. The ``docx`` paper holds no
    answer; every other format holds the key."""
    if fmt not in FORMATS:
        listed = "、".join(f"{name}（{label}）" for name, (label, _) in FORMATS.items())
        raise ExportError(f"不支持的导出格式“{fmt}”：可选 {listed}。")
    questions = list(questions)
    if not questions:
        raise ExportError("没有可导出的题目：请先组卷或选择有题目的题库。")
    for q in questions:
        if len(q.question.options) > len(LETTERS):
            raise ExportError(f"第 {q.number} 题有 {len(q.question.options)} 个选项，最多只能导出 "
                              f"{len(LETTERS)} 个（A–{LETTERS[-1]}）：请删减该题的选项。")
    path = Path(path)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        _WRITERS[fmt](path, title.strip() or "试卷", questions)
    return path


def write_sheet(path: Path, title: str, questions: Sequence[PaperQuestion]) -> Path:
    """Write the Excel bank: the header row :data:`SHEET_HEADER`, then one row per question in the
    given order. Text is always stored as text, never as a formula."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "题库"
    book.properties.title = title
    sheet.append(SHEET_HEADER)
    for q in questions:
        question = q.question
        options = list(question.options) if question.kind in ("single", "multiple") else []
        options += [""] * (len(LETTERS) - len(options))
        sheet.append([_cell_text(v) for v in (type_name(question.kind), question.stem, *options,
                                                answer_text(question), question.explanation)]
                     + [q.points, question.difficulty])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell, width in zip(sheet[1], SHEET_WIDTHS):
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = width
    sheet.freeze_panes = "A2"
    book.save(path)
    return path


def _cell_text(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def write_moodle(path: Path, title: str, questions: Sequence[PaperQuestion]) -> Path:
    """Write Moodle XML: a category named after ``title``, then one ``<question>`` per question, its
    text as escaped HTML, its explanation as general feedback and its points as default grade."""
    quiz = ET.Element("quiz")
    category = ET.SubElement(quiz, "question", type="category")
    _text(ET.SubElement(category, "category"), f"$course$/top/{category_name(title)}")
    for q in questions:
        quiz.append(_moodle_question(q))
    ET.indent(quiz)
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="unicode") + "\n",
                    encoding="utf-8")
    return path


_MOODLE_TYPES = {"single": "multichoice", "multiple": "multichoice", "judge": "truefalse",
                 "blank": "shortanswer", "short": "essay"}


def _moodle_question(q: PaperQuestion) -> ET.Element:
    question = q.question
    element = ET.Element("question", type=_MOODLE_TYPES[question.kind])
    _text(ET.SubElement(element, "name"), question_name(q))
    _text(ET.SubElement(element, "questiontext", format="html"), _html(question.stem))
    _text(ET.SubElement(element, "generalfeedback", format="html"), _html(question.explanation))
    ET.SubElement(element, "defaultgrade").text = f"{q.points:.7f}"
    ET.SubElement(element, "penalty").text = "0"
    ET.SubElement(element, "hidden").text = "0"
    if question.kind in ("single", "multiple"):
        ET.SubElement(element, "single").text = "true" if question.kind == "single" else "false"
        ET.SubElement(element, "shuffleanswers").text = "false"
        ET.SubElement(element, "answernumbering").text = "ABCD"
        for option, fraction in zip(question.options, _choice_fractions(question)):
            _answer(element, fraction, _html(option), "html")
    elif question.kind == "judge":
        right = question.answer == ("正确",)
        _answer(element, "100" if right else "0", "true", "moodle_auto_format")
        _answer(element, "0" if right else "100", "false", "moodle_auto_format")
    elif question.kind == "blank":
        ET.SubElement(element, "usecase").text = "0"
        for term in question.answer:
            _answer(element, "100", _literal(term), "moodle_auto_format")
    else:
        for tag, value in (("responseformat", "editor"), ("responserequired", "1"), ("responsefieldlines", "10"),
                           ("attachments", "0"), ("attachmentsrequired", "0")):
            ET.SubElement(element, tag).text = value
        _text(ET.SubElement(element, "graderinfo", format="html"), _grader_info(question))
        _text(ET.SubElement(element, "responsetemplate", format="html"), "")
    return element


def question_name(q: PaperQuestion) -> str:
    """A question's name in Moodle and GIFT: its number, type and the start of its stem."""
    stem = " ".join(q.question.stem.split())
    return f"{q.number:03d} {type_name(q.question.kind)}：{stem[:24]}{'…' if len(stem) > 24 else ''}"


def _choice_fractions(question: QuizQuestion) -> list[str]:
    """Each option's grade in percent: a 单选's key 100 and the others 0; a 多选's keys share 100 and
    its wrong options share -100, so choosing every option scores nothing."""
    keys = {LETTERS.index(k) for k in question.answer}
    if question.kind == "single":
        return ["100" if i in keys else "0" for i in range(len(question.options))]
    wrong = len(question.options) - len(keys)
    return [_fraction(1 / len(keys)) if i in keys else _fraction(-1 / wrong) for i in range(len(question.options))]


def _fraction(share: float) -> str:
    """``share`` (-1..1) as the nearest Moodle grade, in percent: ``1/3`` -> ``"33.33333"``."""
    nearest = min(MOODLE_FRACTIONS, key=lambda f: abs(f - abs(share)))
    return f"{-nearest * 100 if share < 0 else nearest * 100:.5f}".rstrip("0").rstrip(".")


def _answer(parent: ET.Element, fraction: str, text: str, fmt: str) -> None:
    answer = ET.SubElement(parent, "answer", fraction=fraction, format=fmt)
    _text(answer, text)
    _text(ET.SubElement(answer, "feedback", format="html"), "")


def _grader_info(question: QuizQuestion) -> str:
    points = "".join(f"<li>{html.escape(p)}</li>" for p in question.points)
    reference = _html(f"参考答案：{answer_text(question)}")
    return (f"<p>评分要点：</p><ol>{points}</ol>" if points else "") + reference


def _text(parent: ET.Element, value: str) -> None:
    ET.SubElement(parent, "text").text = value


def _html(text: str) -> str:
    """Plain text as an HTML paragraph: escaped, line breaks kept."""
    return "<p>" + html.escape(text.strip()).replace("\n", "<br>") + "</p>"


def category_name(title: str) -> str:
    """The Moodle question category the questions are imported into: ``title`` without the characters
    a category path or GIFT would read as syntax (``/`` nests categories)."""
    return " ".join(re.sub(r"[/\\~=#{}:]", " ", title).split()) or "试卷"


def _literal(term: str) -> str:
    """A short-answer key matched literally by Moodle, whose ``*`` is otherwise a wildcard."""
    return term.replace("*", "\\*")


def write_gift(path: Path, title: str, questions: Sequence[PaperQuestion]) -> Path:
    """Write Moodle GIFT text: a ``$CATEGORY`` line, then each question as ``::name::stem{answers}``
    with ``~ = # { } :``, backslashes and line breaks escaped, the explanation after ``####``."""
    parts = [f"// {_gift(title)}\n$CATEGORY: $course$/top/{category_name(title)}\n"]
    for q in questions:
        question = q.question
        feedback = question.explanation
        if question.kind == "short" and not all(p in feedback for p in question.points):
            feedback += "\n评分要点：" + "；".join(question.points)
        if question.kind in ("single", "multiple"):
            marks = (["=" if f == "100" else "~" for f in _choice_fractions(question)] if question.kind == "single"
                     else [f"~%{f}%" for f in _choice_fractions(question)])
            body = "\n" + "".join(f"\t{m}{_gift(o)}\n" for m, o in zip(marks, question.options))
        elif question.kind == "judge":
            body = "TRUE" if question.answer == ("正确",) else "FALSE"
        elif question.kind == "blank":
            body = "".join(f"={_gift(_literal(term))}" for term in question.answer)
        else:
            body = ""
        parts.append(f"// {q.number}\n::{_gift(question_name(q))}::{_gift(question.stem)}"
                     f"{{{body}{f'####{_gift(feedback)}' if feedback.strip() else ''}}}\n")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _gift(text: str) -> str:
    """Text escaped for GIFT; a leading ``[`` is kept as text, not read as a format marker."""
    escaped = text.strip().translate(_GIFT_RESERVED)
    return f"[moodle]{escaped}" if escaped.startswith("[") else escaped


def write_json(path: Path, title: str, questions: Sequence[PaperQuestion]) -> Path:
    """Write a JSON list with every field of every question (``points`` is the score, ``key_points``
    the grading points of a 简答), UTF-8 and not ASCII-escaped."""
    path.write_text(json.dumps([question_record(q) for q in questions], ensure_ascii=False, indent=2) + "\n",
                    encoding="utf-8")
    return path


def question_record(q: PaperQuestion) -> dict:
    """Every field of a paper question as a JSON-ready dict."""
    question = q.question
    return {"number": q.number, "key": q.key, "kind": question.kind, "label": question.label,
            "stem": question.stem, "options": list(question.options), "answer": list(question.answer),
            "points": q.points, "key_points": list(question.points), "explanation": question.explanation,
            "difficulty": question.difficulty, "item": question.item, "fact": question.fact,
            "stale": question.stale,
            "sources": [{"entry_id": s.entry_id, "version": s.version} for s in question.sources]}


_WRITERS: dict[str, Callable[[Path, str, Sequence[PaperQuestion]], Path]] = {
    "docx": write_paper, "key": write_key, "xlsx": write_sheet, "moodle": write_moodle, "gift": write_gift,
    "json": write_json}
