"""The `kb quiz` paper and self-test commands end to end on a real knowledge base: a trainer composes
and assigns a paper and exports it; two staff take it in the terminal (one all right, one with
mistakes); the second reads their wrong-answer book; the trainer imports paper marks and writes the
report with its charts and workbook."""

from __future__ import annotations

from pathlib import Path

import docx
import openpyxl
from click.testing import CliRunner
from fixtures import CHROMA_URL, PASSWORD, make_xlsx
from PIL import Image
from test_quiz import ALL_TYPES, _bank, _kb, _lead, quizzed  # noqa: F401  (the fixture)

from cli import cli
from kb.papers import Papers
from kb.quizbank import QuizBank
from kb.users import Users


def _staff(ctx):
    users = Users(ctx.kb.records)
    for name, display, group in (("s1", "赵一", "一组"), ("s2", "钱二", "二组")):
        users.add(users.get("admin"), name, PASSWORD, "staff", display, group)


def _answers(paper, wrong: set[int] = frozenset()) -> str:
    """The terminal input answering ``paper``: the key, or nothing for the numbers in ``wrong``; then 交卷."""
    lines = ["" if q.number in wrong else q.question.answer[0] if q.question.kind == "short"
             else "".join(q.question.answer) for q in paper.questions]
    return "\n".join(lines) + "\ny\n"


def test_compose_assign_export_take_wrong_book_marks_and_report(quizzed, tmp_path, monkeypatch):
    _staff(quizzed)
    _bank(quizzed, "Q4", "2026Q4", counts=ALL_TYPES, earlier=True)
    made = _kb(quizzed, "paper", "Q4", "--title", "四季度自测", "--name", "P1", "--single", "2", "--judge", "2",
               "--blank", "1", "--short", "1", "--ab", "--minutes", "30", "--points", "short=6", user="zuzhang")
    assert made.exit_code == 0, made.output
    assert "6 道题" in made.output and "满分 14 分" in made.output
    refused = _kb(quizzed, "paper", "Q4", "--title", "x", "--judge", "1", user="s1")
    assert refused.exit_code == 1 and "管理题库" in refused.output
    assigned = _kb(quizzed, "assign", "P1", "--group", "一组", "--group", "二组", "--deadline", "2099-12-31",
                   user="zuzhang")
    assert assigned.exit_code == 0 and "2 个小组" in assigned.output
    listed = _kb(quizzed, "papers", user="zuzhang")
    assert "P1《四季度自测》" in listed.output and "一组（截止 2099-12-31）" in listed.output

    monkeypatch.chdir(tmp_path)
    for fmt in ("docx", "key", "xlsx"):
        exported = _kb(quizzed, "export", "P1", "--format", fmt, user="zuzhang")
        assert exported.exit_code == 0, exported.output
    lead = _lead(quizzed)
    paper = Papers(quizzed.kb.records).paper(lead, "P1")
    text = "\n".join(p.text for p in docx.Document(tmp_path / "P1-A.docx").paragraphs)
    assert all(q.question.stem in text for q in paper.questions)
    key = "\n".join(p.text for p in docx.Document(tmp_path / "P1-A-答案.docx").paragraphs)
    assert all("".join(q.question.answer) in key for q in paper.questions if q.question.kind != "short")
    rows = list(openpyxl.load_workbook(tmp_path / "P1-A.xlsx").active.iter_rows(values_only=True))
    assert len(rows) == 1 + len(paper.questions)

    versions = {}
    for name, wrong in (("s1", set()), ("s2", {1, 2})):
        mine = _kb(quizzed, "mine", user=name)
        assert "P1《四季度自测》截止 2099-12-31：未交卷" in mine.output
        variant = "A" if sum(map(ord, name)) % 2 == 0 else "B"
        versions[name] = Papers(quizzed.kb.records).paper(lead, "P1", variant)
        result = _take(quizzed, name, _answers(versions[name], wrong))
        assert result.exit_code == 0, result.output
        lost = sum(q.points for q in versions[name].questions if q.number in wrong)
        assert f"得分：{14 - lost:g} / 14" in result.output
    book = _kb(quizzed, "wrong", user="s2")
    wrong_stems = [q.question.stem for q in versions["s2"].questions if q.number in (1, 2)]
    assert all(stem in book.output for stem in wrong_stems) and "复习条目" in book.output
    assert "错题本是空的" in _kb(quizzed, "wrong", user="s1").output
    again = _take(quizzed, "s1", _answers(versions["s1"]))
    assert again.exit_code == 1 and "只能作答一次" in again.output

    sheet = make_xlsx(tmp_path / "纸质成绩.xlsx", [["赵一", 1, 2], ["无此人", 1, 2]], ["姓名", "题号", "得分"])
    marks = _kb(quizzed, "import-marks", "P1", str(sheet), user="zuzhang")
    assert marks.exit_code == 0 and "已导入 1 人" in marks.output and "无此人" in marks.output
    strangers = make_xlsx(tmp_path / "外人成绩.xlsx", [["无此人", 1, 2]], ["姓名", "题号", "得分"])
    none = _kb(quizzed, "import-marks", "P1", str(strangers), user="zuzhang")
    assert none.exit_code == 1 and "已导入 0 人" in none.output and "跳过" in none.output and "无此人" in none.output
    assert f"{strangers} 中没有一行成绩导入" in none.output

    report = _kb(quizzed, "report", "--out", str(tmp_path / "报告"), user="zuzhang")
    assert report.exit_code == 0, report.output
    written = sorted(Path(tmp_path / "报告").iterdir())
    assert {p.suffix for p in written} == {".png", ".xlsx"} and len(written) == 4
    assert all(Image.open(p).size[0] > 300 for p in written if p.suffix == ".png")
    assert "一组" in report.output and "二组" in report.output
    assert _kb(quizzed, "report", user="s1").exit_code == 1
    misread = _kb(quizzed, "report", "--quarter", "四季度", user="zuzhang")
    assert misread.exit_code == 1 and "季度“四季度”格式不对" in misread.output and "Traceback" not in misread.output


def _take(ctx, user: str, text: str):
    """``kb quiz take P1`` as ``user`` typing ``text``."""
    options = ["--data-dir", str(ctx.settings.data_dir), "--collection", ctx.kb.vectors.name]
    if CHROMA_URL:
        options += ["--chroma-url", CHROMA_URL]
    return CliRunner().invoke(cli, ["quiz", "take", "P1", "--offline", *options], input=text,
                              env={"KB_USER": user, "KB_PASSWORD": PASSWORD})


def test_bad_quiz_input_is_refused_in_chinese_and_stores_nothing(quizzed, tmp_path):  # noqa: F811
    _staff(quizzed)
    _bank(quizzed, "Q4", "2026Q4", counts=ALL_TYPES, earlier=True)
    empty = _kb(quizzed, "bank", "--quarter", "2026Q4", "--name", "空", *(f"--{k}=0" for k in ALL_TYPES),
                user="zuzhang")
    assert empty.exit_code == 2 and "至少给一种题型" in empty.output, empty.output
    for points in ("judge=nan", "judge=inf"):
        bad = _kb(quizzed, "paper", "Q4", "--title", "x", "--judge", "1", "--points", points, user="zuzhang")
        assert bad.exit_code == 1 and "分值必须是大于 0 的数" in bad.output and "Traceback" not in bad.output
    endless = _kb(quizzed, "paper", "Q4", "--title", "x", "--judge", "1", "--minutes", str(10 ** 10), user="zuzhang")
    assert endless.exit_code == 1 and "考试时长 10000000000 分钟太长：最多 1440 分钟" in endless.output
    lead = _lead(quizzed)
    assert [b.id for b in QuizBank(quizzed.kb.records).banks(lead)] == ["Q4"]
    assert Papers(quizzed.kb.records).papers(lead) == []
    assert "错题本是空的" in _kb(quizzed, "wrong", user="s1").output

    ok = _kb(quizzed, "paper", "Q4", "--title", "x", "--judge", "1", "--name", "P1", user="zuzhang")
    assert ok.exit_code == 0, ok.output
    blocker = tmp_path / "不是文件夹"
    blocker.write_text("", encoding="utf-8")
    for args in (("export", "P1", "--format", "docx", "--out", str(blocker / "P1.docx")),
                 ("export", "P1", "--format", "json", "--out", str(blocker / "P1.json"))):
        refused = _kb(quizzed, *args, user="zuzhang")
        assert refused.exit_code == 1 and f"无法写入 {blocker}" in refused.output, refused.output
        assert "上级文件夹其实是一个文件" in refused.output and "Traceback" not in refused.output
