"""Paper export: every format is written to disk and read back with the library a user's program would use."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from html import unescape
from pathlib import Path

import docx
import openpyxl
import pytest

from bot.paper_export import FORMATS, ExportError, export
from bot.study import BLANK
from kb.errors import KBError
from kb.papers import PaperQuestion
from kb.quizbank import QuizQuestion, Source

TITLE = "2026年第四季度综合窗口业务考核"
SHEET_COLUMNS = ["题型", "题干", "选项A", "选项B", "选项C", "选项D", "选项E", "选项F", "正确答案", "解析", "分值", "难度"]
TYPE_NAMES = {"single": "单选题", "multiple": "多选题", "judge": "判断题", "blank": "填空题", "short": "简答题"}
LETTERS = "ABCDEF"
# Moodle's question_bank::fraction_options_full(), as fractions of 1.
MOODLE_GRADES = {0.0, 1.0, 0.9, 0.8333333, 0.8, 0.75, 0.7, 0.6666667, 0.6, 0.5, 0.4, 0.3333333, 0.3, 0.25, 0.2,
                 0.1666667, 0.1428571, 0.125, 0.1111111, 0.1, 0.05}
MOODLE_GRADES |= {-g for g in MOODLE_GRADES}


def _q(kind, stem, answer, explanation, entry, **more) -> QuizQuestion:
    return QuizQuestion(kind, stem, answer, explanation, (Source(entry, 3),), f"fact-{entry}", **more)


QUESTIONS = (
    PaperQuestion(1, _q("single", f"关于“营业执照领取”：核准后应在{BLANK}内领取执照，空缺处应为（　）。", ("B",),
                        "答案：B（十个工作日）。原文：核准后十个工作日内领取。\n出自条目 YY-0101（第 3 版）", "YY-0101",
                        options=("五个工作日", "十个工作日", "十五日", "三十日"), item="营业执照办理", difficulty="易"),
                  2.0, "2026Q4#1"),
    PaperQuestion(2, _q("single", "=IF(A1<B2 & C3>0) 这种以等号开头的题干要按文字保存，正确的是（　）。", ("D",),
                        "答案：D。\n出自条目 YY-0102（第 3 版）", "YY-0102",
                        options=("=SUM(A1)", "<b>加粗</b>", "A & B", "按文字保存"), item="表格规范"),
                  2.0, "2026Q4#2"),
    PaperQuestion(3, _q("multiple", "关于“委托代办: 个体户变更”，下列哪些是现行答复中的要点？（多选）", ("A", "C", "D"),
                        "答案：ACD。原文：需身份证{原件}、申请表=1份、委托书#盖章。\n出自条目 YY-0103（第 3 版）",
                        "YY-0103", options=("身份证{原件}", "户口簿~复印件", "申请表=1份", "委托书#盖章", "营业执照: 副本"),
                        item="个体户变更", difficulty="难"),
                  3.0, "2026Q4#3"),
    PaperQuestion(4, _q("judge", "关于“社保卡补办”：补办社保卡须回户籍地办理。", ("错误",),
                        "答案：错误。应为“任一服务网点”。\n出自条目 YY-0104（第 3 版）", "YY-0104",
                        options=("正确", "错误"), item="社保卡"), 1.0, "2026Q4#4"),
    PaperQuestion(5, _q("judge", "关于“老年优待证”：年满六十周岁可申领老年优待证。", ("正确",),
                        "答案：正确。原文：年满六十周岁可申领。\n\n出自条目 YY-0105（第 3 版）", "YY-0105",
                        options=("正确", "错误"), item="老年优待证"), 1.0, "2026Q4#5"),
    PaperQuestion(6, _q("blank", f"关于“居住证”：居住证有效期为{BLANK}，期满前须签注。", ("三十六个月",),
                        "答案：三十六个月。原文：居住证有效期为三十六个月。\n出自条目 YY-0106（第 3 版）", "YY-0106",
                        item="居住证"), 2.0, "2026Q4#6"),
    PaperQuestion(7, _q("short", "如何申请不动产转移登记？（请简述要点）",
                        ("提交登记申请书、权属来源证明和完税凭证，受理后五个工作日内办结。",),
                        "评分要点：登记申请书；权属来源证明；完税凭证。\n出自条目 YY-0107（第 3 版）", "YY-0107",
                        points=("登记申请书", "权属来源证明", "完税凭证"), item="不动产登记", difficulty="难"),
                  10.0, "2026Q4#7"),
)


def _paragraphs(path: Path) -> list[str]:
    return [p.text for p in docx.Document(str(path)).paragraphs]


def _secrets(q: PaperQuestion) -> list[str]:
    """Text that only the key may show: the explanation lines, and the key itself where it is not a letter."""
    found = [line for line in q.question.explanation.split("\n") if line]
    if q.question.kind in ("blank", "short"):
        found += list(q.question.answer)
    return found + list(q.question.points)


def test_formats_and_unknown_format(tmp_path):
    assert FORMATS == {"docx": ("Word 试卷", ".docx"), "key": ("Word 答案与解析", ".docx"),
                       "xlsx": ("Excel 题库", ".xlsx"), "moodle": ("Moodle XML", ".xml"), "gift": ("GIFT", ".txt"),
                       "json": ("JSON", ".json")}
    with pytest.raises(ExportError) as raised:
        export("pdf", TITLE, QUESTIONS, tmp_path / "x.pdf")
    assert isinstance(raised.value, KBError)
    assert "pdf" in str(raised.value) and all(name in str(raised.value) for name in FORMATS)
    with pytest.raises(ExportError, match="没有可导出的题目"):
        export("json", TITLE, [], tmp_path / "x.json")
    crowded = PaperQuestion(1, _q("single", "选哪个？", ("A",), "解析", "YY-0199", options=tuple("一二三四五六七")), 2.0, "b#1")
    with pytest.raises(ExportError, match="第 1 题有 7 个选项"):
        export("xlsx", TITLE, [crowded], tmp_path / "x.xlsx")
    assert not list(tmp_path.iterdir())


def test_word_paper_has_layout_and_no_answers(tmp_path):
    path = export("docx", TITLE, QUESTIONS, tmp_path / "out" / "paper.docx")
    assert path == tmp_path / "out" / "paper.docx"
    lines = _paragraphs(path)
    text = "\n".join(lines)
    assert lines[0] == TITLE
    assert all(word in lines[1] for word in ("姓名：", "小组：", "得分："))
    assert "满分 21 分" in text and "共 7 题" in text
    headings = [line for line in lines if re.match(r"^[一二三四五]、", line)]
    assert headings == ["一、单选题（每题 2 分，共 4 分）", "二、多选题（每题 3 分，共 3 分）", "三、判断题（每题 1 分，共 2 分）",
                        "四、填空题（每题 2 分，共 2 分）", "五、简答题（每题 10 分，共 10 分）"]
    stems = [next(i for i, line in enumerate(lines) if line.startswith(f"{q.number}. {q.question.stem}"))
             for q in QUESTIONS]
    assert stems == sorted(stems)
    for q, at in zip(QUESTIONS, stems):
        if q.question.kind in ("single", "multiple"):
            options = [line.strip() for line in lines[at + 1:at + 1 + len(q.question.options)]]
            assert options == [f"{LETTERS[i]}. {o}" for i, o in enumerate(q.question.options)]
    short = stems[-1]
    assert lines[short + 1] == "答：" and lines[short + 2:short + 5] == ["", "", ""]
    assert "答案" not in text and "解析" not in text and "评分要点" not in text and "YY-01" not in text
    for q in QUESTIONS:
        for secret in _secrets(q):
            assert secret not in text, f"the paper shows {secret!r} of question {q.number}"


def test_word_paper_with_unequal_points_shows_each(tmp_path):
    questions = [QUESTIONS[0], PaperQuestion(2, QUESTIONS[1].question, 3.5, QUESTIONS[1].key)]
    lines = _paragraphs(export("docx", "小测", questions, tmp_path / "p.docx"))
    assert "一、单选题（共 5.5 分）" in lines
    assert any(line.startswith("2. =IF(") and line.endswith("（3.5 分）") for line in lines)


def test_word_key_has_answers_explanations_and_key_points(tmp_path):
    lines = _paragraphs(export("key", TITLE, QUESTIONS, tmp_path / "key.docx"))
    text = "\n".join(lines)
    assert lines[0] == f"{TITLE}（答案与解析）"
    for q in QUESTIONS:
        question = q.question
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{q.number}. {question.stem}"))
        block = "\n".join(lines[at + 1:at + 4])
        if question.kind in ("single", "multiple"):
            assert f"答案：{''.join(question.answer)}" in block
            assert all(question.options[LETTERS.index(k)] in block for k in question.answer)
        elif question.kind == "short":
            assert f"参考答案：{question.answer[0]}" in block
            assert "评分要点" in block and all(p in block for p in question.points)
        else:
            assert f"答案：{question.answer[0]}" in block
        assert "解析" in block
        assert all(line in block for line in question.explanation.split("\n"))
    for q in QUESTIONS:
        assert all(secret in text for secret in _secrets(q))


def test_excel_bank_in_platform_layout(tmp_path):
    sheet = openpyxl.load_workbook(export("xlsx", TITLE, QUESTIONS, tmp_path / "bank.xlsx")).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == SHEET_COLUMNS
    assert len(rows) == len(QUESTIONS) + 1
    for q, row in zip(QUESTIONS, rows[1:]):
        cells = dict(zip(SHEET_COLUMNS, row))
        question = q.question
        assert cells["题型"] == TYPE_NAMES[question.kind]
        assert cells["题干"] == question.stem
        options = [cells[f"选项{c}"] for c in LETTERS]
        if question.kind in ("single", "multiple"):
            assert options[:len(question.options)] == list(question.options)
            assert not any(options[len(question.options):])
            assert cells["正确答案"] == "".join(question.answer)
        else:
            assert not any(options)
            assert cells["正确答案"] == question.answer[0]
        assert cells["解析"] == question.explanation
        assert cells["分值"] == q.points and cells["难度"] == question.difficulty
    assert rows[3][8] == "ACD" and rows[4][8] == "错误" and rows[5][8] == "正确"
    formula_like = sheet.cell(3, 2)
    assert formula_like.value.startswith("=IF(") and formula_like.data_type == "s"
    assert sheet.cell(3, 3).value == "=SUM(A1)" and sheet.cell(3, 3).data_type == "s"


def validate_moodle(root: ET.Element) -> list[ET.Element]:
    """Check a Moodle XML tree the way qformat_xml reads it; returns the real (non-category) questions."""
    assert root.tag == "quiz"
    found = []
    for question in root.findall("question"):
        kind = question.get("type")
        assert kind in {"category", "multichoice", "truefalse", "shortanswer", "essay"}, kind
        if kind == "category":
            assert question.findtext("category/text").strip()
            continue
        found.append(question)
        assert question.findtext("name/text").strip()
        assert question.find("questiontext").get("format") == "html"
        assert question.findtext("questiontext/text").strip()
        assert question.find("generalfeedback/text") is not None
        assert float(question.findtext("defaultgrade")) > 0
        answers = question.findall("answer")
        fractions = [float(a.get("fraction")) / 100 for a in answers]
        for a, fraction in zip(answers, fractions):
            assert a.find("text") is not None
            assert any(math.isclose(fraction, g, abs_tol=1e-6) for g in MOODLE_GRADES), a.get("fraction")
        if kind == "multichoice":
            assert len(answers) >= 2 and question.findtext("single") in ("true", "false")
            if question.findtext("single") == "true":
                assert fractions.count(1.0) == 1 and min(fractions) >= 0
            else:
                assert round(sum(f for f in fractions if f > 0), 2) == 1.0
        elif kind == "truefalse":
            assert sorted(a.findtext("text") for a in answers) == ["false", "true"]
            assert sorted(fractions) == [0.0, 1.0]
        elif kind == "shortanswer":
            assert answers and max(fractions) == 1.0
        else:
            assert not answers and question.find("graderinfo/text") is not None
            assert question.findtext("responseformat") in ("editor", "plain", "monospaced", "noinline")
    return found


def _html_text(value: str) -> str:
    """What Moodle shows of an HTML text: line breaks kept, tags dropped, entities decoded."""
    return unescape(re.sub(r"<[^>]*>", "", value.replace("<br>", "\n")))


def test_moodle_xml_passes_importer_checks_and_matches(tmp_path):
    root = ET.parse(export("moodle", TITLE, QUESTIONS, tmp_path / "quiz.xml")).getroot()
    questions = validate_moodle(root)
    assert root.find("question[@type='category']/category/text").text == f"$course$/top/{TITLE}"
    types = {"single": "multichoice", "multiple": "multichoice", "judge": "truefalse", "blank": "shortanswer",
             "short": "essay"}
    assert [e.get("type") for e in questions] == [types[q.question.kind] for q in QUESTIONS]
    for q, element in zip(QUESTIONS, questions):
        question = q.question
        assert _html_text(element.findtext("questiontext/text")) == question.stem
        assert _html_text(element.findtext("generalfeedback/text")) == question.explanation
        assert float(element.findtext("defaultgrade")) == q.points
        answers = element.findall("answer")
        fractions = [float(a.get("fraction")) for a in answers]
        if question.kind in ("single", "multiple"):
            assert [_html_text(a.findtext("text")) for a in answers] == list(question.options)
            right = [LETTERS[i] for i, f in enumerate(fractions) if f > 0]
            assert right == list(question.answer)
        elif question.kind == "judge":
            chosen = next(a.findtext("text") for a, f in zip(answers, fractions) if f == 100)
            assert chosen == ("true" if question.answer == ("正确",) else "false")
        elif question.kind == "blank":
            assert BLANK in _html_text(element.findtext("questiontext/text"))
            assert [(a.findtext("text"), f) for a, f in zip(answers, fractions)] == [(question.answer[0], 100.0)]
        else:
            grader = unescape(element.findtext("graderinfo/text"))
            assert all(p in grader for p in question.points) and question.answer[0] in grader
    multi = questions[2]
    assert [a.get("fraction") for a in multi.findall("answer")] == ["33.33333", "-50", "33.33333", "33.33333", "-50"]
    tagged = questions[1].findall("answer")[1].findtext("text")
    assert tagged == "<p>&lt;b&gt;加粗&lt;/b&gt;</p>", "option text must reach Moodle as text, not as HTML markup"
    assert "&amp;lt;b&amp;gt;" in (tmp_path / "quiz.xml").read_text(encoding="utf-8")


def _gift_unescape(text: str) -> str:
    marks = {"\\:": ":", "\\#": "#", "\\=": "=", "\\{": "{", "\\}": "}", "\\~": "~", "\\n": "\n"}
    return re.sub(r"\\\\|\\[:#={}~n]", lambda m: "\\" if m.group() == "\\\\" else marks[m.group()], text).strip()


def read_gift(text: str) -> list[dict]:
    """Parse GIFT as Moodle's qformat_gift does: blocks split by blank lines, // comments dropped, escapes
    held back while the name, the {answers} and the #### general feedback are cut out."""
    questions = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.split("\n") if not line.strip().startswith("//")]
        body = "\n".join(lines).strip()
        if not body or body.startswith("$CATEGORY:"):
            continue
        held = re.sub(r"\\\\|\\[:#={}~n]", lambda m: f"\0{ord(m.group()[1]):03d}", body)
        restore = lambda s: _gift_unescape(re.sub(r"\0(\d{3})", lambda m: "\\" + chr(int(m.group(1))), s))
        assert held.startswith("::")
        name, rest = held[2:].split("::", 1)
        start, end = rest.index("{"), rest.index("}")
        answers, _, feedback = rest[start + 1:end].strip().rpartition("####") if "####" in rest else (
            rest[start + 1:end].strip(), "", "")
        answers = answers.strip()
        if not answers:
            kind, parsed = "essay", []
        elif "~" in answers:
            kind = "multichoice"
            parsed = [(restore(a.strip()[1:]) if a.strip().startswith("=") else restore(a.strip()), a.strip())
                      for a in answers.replace("=", "~=").split("~") if a.strip()]
        elif answers in ("TRUE", "FALSE", "T", "F"):
            kind, parsed = "truefalse", [answers]
        else:
            kind, parsed = "shortanswer", [restore(a) for a in answers.split("=") if a.strip()]
        questions.append({"name": restore(name), "stem": restore(rest[:start]), "kind": kind,
                          "answers": parsed, "feedback": restore(feedback)})
    return questions


def test_gift_escapes_special_characters_and_reads_back(tmp_path):
    raw = export("gift", TITLE, QUESTIONS, tmp_path / "quiz.txt").read_text(encoding="utf-8")
    for escaped in (r"身份证\{原件\}", r"户口簿\~复印件", r"申请表\=1份", r"委托书\#盖章", r"营业执照\: 副本",
                    r"委托代办\: 个体户变更", r"\=IF(A1<B2 & C3>0)"):
        assert escaped in raw
    assert "$CATEGORY: $course$/top/" + TITLE in raw
    parsed = read_gift(raw)
    kinds = {"single": "multichoice", "multiple": "multichoice", "judge": "truefalse", "blank": "shortanswer",
             "short": "essay"}
    assert [p["kind"] for p in parsed] == [kinds[q.question.kind] for q in QUESTIONS]
    for q, p in zip(QUESTIONS, parsed):
        question = q.question
        assert p["stem"] == question.stem
        assert p["feedback"].startswith(question.explanation)
        assert p["name"].startswith(f"{q.number:03d}")
        if question.kind == "single":
            assert [text for text, _ in p["answers"]] == list(question.options)
            right = [LETTERS[i] for i, (_, raw_answer) in enumerate(p["answers"]) if raw_answer.startswith("=")]
            assert right == list(question.answer)
        elif question.kind == "multiple":
            weights = [re.match(r"%(-?[\d.]+)%", text).group(1) for text, _ in p["answers"]]
            options = [re.sub(r"^%-?[\d.]+%", "", text) for text, _ in p["answers"]]
            assert options == list(question.options)
            assert [LETTERS[i] for i, w in enumerate(weights) if float(w) > 0] == list(question.answer)
            assert round(sum(float(w) for w in weights if float(w) > 0)) == 100
        elif question.kind == "judge":
            assert p["answers"] == ["TRUE" if question.answer == ("正确",) else "FALSE"]
        elif question.kind == "blank":
            assert p["answers"] == list(question.answer)
        else:
            assert all(point in p["feedback"] for point in question.points)


def test_json_has_every_field_unescaped(tmp_path):
    path = export("json", TITLE, QUESTIONS, tmp_path / "quiz.json")
    raw = path.read_text(encoding="utf-8")
    assert "居住证" in raw and "\\u" not in raw
    records = json.loads(raw)
    assert isinstance(records, list) and len(records) == len(QUESTIONS)
    for q, record in zip(QUESTIONS, records):
        question = q.question
        assert record["number"] == q.number and record["key"] == q.key
        assert record["kind"] == question.kind and record["label"] == question.label
        assert record["stem"] == question.stem and record["options"] == list(question.options)
        assert record["answer"] == list(question.answer) and record["points"] == q.points
        assert record["key_points"] == list(question.points) and record["explanation"] == question.explanation
        assert record["difficulty"] == question.difficulty and record["item"] == question.item
        assert record["sources"] == [{"entry_id": s.entry_id, "version": s.version} for s in question.sources]


def test_essay_key_points_reach_gift_and_moodle_when_the_explanation_lacks_them(tmp_path):
    essay = PaperQuestion(1, _q("short", "窗口受理后如何告知申请人补正材料？", ("一次性书面告知需补正的全部材料。",),
                                "出自条目 YY-0108（第 3 版）", "YY-0108", points=("一次性告知", "书面形式")),
                          8.0, "2026Q4#8")
    parsed = read_gift(export("gift", "补正告知", [essay], tmp_path / "e.txt").read_text(encoding="utf-8"))
    assert parsed[0]["kind"] == "essay"
    assert "一次性告知" in parsed[0]["feedback"] and "书面形式" in parsed[0]["feedback"]
    question = validate_moodle(ET.parse(export("moodle", "补正告知", [essay], tmp_path / "e.xml")).getroot())[0]
    grader = unescape(question.findtext("graderinfo/text"))
    assert "一次性告知" in grader and "书面形式" in grader and "一次性书面告知需补正的全部材料。" in grader
    assert float(question.findtext("defaultgrade")) == 8.0
