"""Question banks on a real knowledge base of twelve entries over three 事项: each question type is
well-formed and answerable from its entry, distractors are wrong, banks never test a fact twice,
editing a source entry marks its questions stale, quarters filter and follow each other, and the
`kb quiz` commands round-trip."""

from __future__ import annotations

import random

import pytest
from click.testing import CliRunner
from fixtures import CHROMA_URL, PASSWORD, make_xlsx

from bot.distractors import Material, Neighbours
from bot.quiz import LETTERS, build, duplicate_facts, judge, problems
from bot.study import BLANK, key_points, normalized
from cli import cli
from ingest import ingest_paths
from kb.errors import PermissionDenied
from kb.quizbank import QuizBank, QuizError, period_entries, quarter_range
from kb.text import split_sentences
from kb.types import Entry
from kb.users import Users
from kb.workflow import Workflow

HEADERS = ["编号", "问题", "答复", "事项", "部门", "日期"]
JZ, GJJ, HZ = "居住证", "公积金提取", "普通护照"
ROWS = [
    ["JZ-1", "居住证的签注什么时候办？", "居住证每年签注一次，应在有效期满前30日内办理，可到居住地派出所或综合窗口办理。"
     "逾期未签注的，居住证暂停使用。", JZ, "市公安局", "2026-10-23"],
    ["JZ-2", "第一次办居住证需要什么条件？", "在本市居住满半年，持身份证和租赁合同到居住地派出所申领，受理后一般15个工作日内制证。",
     JZ, "市公安局", "2026-11-03"],
    ["JZ-3", "居住证丢了怎么补办？", "持身份证到居住地派出所申请补领，填写《居住证补领申请表》，10个工作日内制证。",
     JZ, "市公安局", "2026-11-04"],
    ["JZ-4", "居住证有效期多久？", "居住证有效期为5年，期满前60日内可申请换领，换领时携带户口簿到社区服务中心办理。",
     JZ, "市公安局", "2026-08-12"],
    ["GJJ-1", "租房能提取公积金吗？", "本人及配偶在本市无自有住房且租房自住的可以申请，通过公积金APP线上申请，资金3个工作日内到账。",
     GJJ, "市住房公积金管理中心", "2026-10-29"],
    ["GJJ-2", "退休了公积金能全部取出来吗？", "办理退休手续后，持身份证和本人银行卡到公积金窗口申请销户提取，一般5个工作日内到账。",
     GJJ, "市住房公积金管理中心", "2026-09-10"],
    ["GJJ-3", "重大疾病能提取公积金吗？", "职工本人及直系亲属患重大疾病的，持诊断证明和医疗费用票据到公积金窗口申请，一般7个工作日内到账。",
     GJJ, "市住房公积金管理中心", "2026-11-12"],
    ["GJJ-4", "离职后公积金账户怎么处理？", "单位应在30日内为职工办理账户封存，封存满6个月后可持离职证明到公积金服务大厅申请提取。",
     GJJ, "市住房公积金管理中心", "2026-12-01"],
    ["HZ-1", "第一次办护照要带什么？", "携带本人身份证到出入境接待大厅现场采集照片和指纹，7个工作日内制发。",
     HZ, "市公安局出入境管理支队", "2026-09-04"],
    ["HZ-2", "护照快过期了怎么换？", "护照有效期不足6个月的可申请换发，携带原护照和身份证到出入境接待大厅办理，10个工作日内制发。",
     HZ, "市公安局出入境管理支队", "2026-10-15"],
    ["HZ-3", "护照丢了怎么补办？", "先到派出所报失，再持报失证明和户口簿到出入境接待大厅申请补发，15个工作日内制发。",
     HZ, "市公安局出入境管理支队", "2026-11-20"],
    ["HZ-4", "未成年人办护照要注意什么？", "未满16周岁的申请人由监护人陪同，携带出生医学证明到出入境接待大厅办理，5个工作日内制发。",
     HZ, "市公安局出入境管理支队", "2026-12-10"],
]
IN_Q3 = {row[0] for row in ROWS if row[5] < "2026-10-01"}
ALL_TYPES = {"single": 2, "multiple": 2, "judge": 2, "blank": 2, "short": 2}


@pytest.fixture
def quizzed(ctx, tmp_path):
    """The web context (accounts admin / zuzhang / zhangsan) on the twelve entries."""
    report = ingest_paths(ctx.kb, [make_xlsx(tmp_path / "题库素材.xlsx", ROWS, HEADERS)],
                          actor=Users(ctx.kb.records).get("admin"))
    assert report.failed == []
    return ctx


def _lead(ctx):
    return Users(ctx.kb.records).get("zuzhang")


def _bank(ctx, bank_id: str, quarter: str, counts=None, earlier=False, seed=""):
    since, until = quarter_range(quarter)
    banks = QuizBank(ctx.kb.records)
    pool = period_entries(ctx.kb.records, since, until, earlier=earlier)
    questions, _ = build(pool, counts or ALL_TYPES, seed or bank_id, banks.previous_facts(since))
    banks.save(_lead(ctx), bank_id, since, until, {}, questions)
    return banks.questions(_lead(ctx), bank_id)


def _materials(ctx):
    pool = period_entries(ctx.kb.records, "2026-01-01", "2026-12-31")
    materials = [Material.of(entry, version) for entry, version in pool]
    return materials, Neighbours(materials)


def test_each_type_is_well_formed_and_answerable_from_its_entry(quizzed):
    questions = _bank(quizzed, "全年", "2026Q4", earlier=True)
    assert {q.kind for q in questions} == set(ALL_TYPES)
    for q in questions:
        entry = quizzed.kb.entry(q.sources[0].entry_id)
        answer = normalized(entry.answer)
        assert [(s.entry_id, s.version) for s in q.sources] == [(entry.id, 1)]
        assert entry.id in q.explanation and "第 1 版" in q.explanation and q.item == entry.item
        assert problems(q, entry) == [] and not q.stale
        if q.kind in ("single", "multiple"):
            right = [q.options[LETTERS.index(k)] for k in q.answer]
            assert len(right) == 1 if q.kind == "single" else len(right) >= 2
            assert all(normalized(r) in answer for r in right)
            for wrong in set(q.options) - set(right):
                assert normalized(wrong) not in answer
                assert not any(normalized(r) in normalized(wrong) for r in right)
        if q.kind == "single":
            filled = q.stem.split("”：", 1)[1].replace(BLANK, right[0]).removesuffix(" 空缺处应为（　）。")
            assert filled in split_sentences(entry.answer)
        if q.kind == "blank":
            assert BLANK in q.stem and q.answer[0] in key_points(entry.answer)
            assert q.stem.split("”：", 1)[1].replace(BLANK, q.answer[0]) in split_sentences(entry.answer)
        if q.kind == "short":
            assert q.answer == (entry.answer,) and len(q.points) >= 2
            assert all(normalized(p) in answer for p in q.points)


def test_a_false_statement_swaps_one_key_fact_for_a_related_entrys(quizzed):
    materials, near = _materials(quizzed)
    answers = {m.entry.id: m.entry.answer for m in materials}
    false = [q for m in materials for seed in range(8)
             if (q := judge(m, near, random.Random(seed), set())) and q.answer == ("错误",)]
    assert len({q.sources[0].entry_id for q in false}) >= 6
    for q in false:
        entry_id = q.sources[0].entry_id
        statement = q.stem.split("”：", 1)[1]
        sentence, kept, swapped = max((_difference(s, statement) for s in split_sentences(answers[entry_id])),
                                      key=lambda d: len(d[0]) - len(d[1]))
        assert any(kept in p for p in key_points(answers[entry_id]))
        assert normalized(swapped) not in normalized(answers[entry_id])
        assert any(swapped in answers[other] for other in answers if other != entry_id)


def _difference(sentence: str, statement: str) -> tuple[str, str, str]:
    """``(sentence, its differing middle, the statement's differing middle)`` after the common ends."""
    start = next((i for i, (a, b) in enumerate(zip(sentence, statement)) if a != b), min(len(sentence), len(statement)))
    end = 0
    while end < min(len(sentence), len(statement)) - start and sentence[-1 - end] == statement[-1 - end]:
        end += 1
    return sentence, sentence[start:len(sentence) - end], statement[start:len(statement) - end]


def test_no_distractor_is_also_right(quizzed):
    materials, near = _materials(quizzed)
    checked = 0
    for m in materials:
        for point, kind in m.points:
            for term, other in near.distractors(m, point, kind, 3):
                checked += 1
                assert normalized(term) not in normalized(m.entry.answer)
                assert normalized(point) not in normalized(term) and normalized(term) not in normalized(point)
                assert other.entry.id != m.entry.id and term in other.entry.answer
    assert checked > 20


def test_a_bank_never_tests_one_fact_twice(quizzed):
    twin = Entry("JZ-9", "居住证签注的期限是什么？", ROWS[0][2], JZ, date="2026-10-24")
    pool = period_entries(quizzed.kb.records, "2026-10-01", "2026-12-31") + [(twin, 1)]
    questions, made = build(pool, {"single": 5, "judge": 5, "blank": 5}, "重复")
    assert made >= len(questions) > 5
    assert duplicate_facts(questions) == 0 and len({q.fact for q in questions}) == len(questions)
    assert not {"JZ-1", "JZ-9"} <= {q.sources[0].entry_id for q in questions}
    with pytest.raises(QuizError, match="同一知识点"):
        QuizBank(quizzed.kb.records).save(_lead(quizzed), "重复", "2026-10-01", "2026-12-31", {},
                                          [questions[0], questions[0]])


def test_editing_a_source_entry_marks_its_questions_stale(quizzed):
    questions = _bank(quizzed, "2026Q4", "2026Q4")
    target = questions[0].sources[0].entry_id
    workflow, users = Workflow(quizzed.kb), Users(quizzed.kb.records)
    old = quizzed.kb.entry(target)
    draft = workflow.submit(users.get("zhangsan"), Entry("", old.question, old.answer + "节假日顺延。"), revises=target)
    workflow.approve(users.get("zuzhang"), draft.entry_id)
    banks = QuizBank(quizzed.kb.records)
    after = banks.questions(_lead(quizzed), "2026Q4")
    for q in after:
        assert bool(q.stale) == (q.sources[0].entry_id == target)
    assert "第 2 版" in next(q.stale for q in after if q.stale)
    assert banks.bank(_lead(quizzed), "2026Q4").stale == 1
    shown = _kb(quizzed, "show", "2026Q4", "--stale", user="zuzhang")
    assert shown.exit_code == 0 and shown.output.count("【过期：") == 1 and f"{target} 已修改" in shown.output


def test_a_quarter_takes_its_own_entries_and_the_next_avoids_its_questions(quizzed):
    assert quarter_range("2026Q4") == ("2026-10-01", "2026-12-31") and quarter_range("2026q1")[1] == "2026-03-31"
    with pytest.raises(QuizError, match="2026Q4"):
        quarter_range("2026-4")
    q3 = _bank(quizzed, "2026Q3", "2026Q3", counts={"single": 5, "judge": 5, "blank": 5})
    assert q3 and {q.sources[0].entry_id for q in q3} <= IN_Q3
    q4_alone = period_entries(quizzed.kb.records, *quarter_range("2026Q4"))
    assert {e.id for e, _ in q4_alone} == {row[0] for row in ROWS} - IN_Q3
    q4 = _bank(quizzed, "2026Q4", "2026Q4", counts={"single": 6, "judge": 6, "blank": 6}, earlier=True)
    assert not {q.fact for q in q3} & {q.fact for q in q4}
    assert {q.sources[0].entry_id for q in q4} & IN_Q3
    banks = QuizBank(quizzed.kb.records)
    assert [b.id for b in banks.banks(_lead(quizzed))] == ["2026Q4", "2026Q3"]
    with pytest.raises(PermissionDenied):
        banks.banks(Users(quizzed.kb.records).get("zhangsan"))


def _kb(ctx, *args, user: str):
    options = ["--data-dir", str(ctx.settings.data_dir), "--collection", ctx.kb.vectors.name]
    if CHROMA_URL:
        options += ["--chroma-url", CHROMA_URL]
    return CliRunner().invoke(cli, ["quiz", *args, *options], env={"KB_USER": user, "KB_PASSWORD": PASSWORD})


def test_kb_quiz_builds_lists_and_shows_a_bank(quizzed):
    built = _kb(quizzed, "bank", "--quarter", "2026Q4", "--earlier", "--single", "3", "--multiple", "1",
                "--judge", "2", "--blank", "2", "--short", "1", "--difficulty", "3:5:2", user="zuzhang")
    assert built.exit_code == 0, built.output
    assert "题库 2026Q4" in built.output and "单选 3/3" in built.output and "简答 1/1" in built.output
    again = _kb(quizzed, "bank", "--quarter", "2026Q4", user="zuzhang")
    assert again.exit_code == 1 and "--replace" in again.output
    refused = _kb(quizzed, "bank", "--quarter", "2026Q4", "--replace", user="zhangsan")
    assert refused.exit_code == 1 and "管理题库" in refused.output
    listed = _kb(quizzed, "list", user="zuzhang")
    assert listed.exit_code == 0 and "2026Q4" in listed.output and "2026-10-01~2026-12-31" in listed.output
    shown = _kb(quizzed, "show", "2026Q4", user="zuzhang")
    stored = QuizBank(quizzed.kb.records).questions(_lead(quizzed), "2026Q4")
    assert shown.exit_code == 0 and len(stored) == 9
    assert all(q.stem in shown.output for q in stored) and "解析：" in shown.output and "【过期" not in shown.output
    ranged = _kb(quizzed, "bank", "--since", "2026-01-01", "--until", "2026/12/31", "--item", GJJ, user="zuzhang")
    assert ranged.exit_code == 0, ranged.output
    sources = {q.sources[0].entry_id for q in QuizBank(quizzed.kb.records).questions(_lead(quizzed),
                                                                                    "2026-01-01~2026-12-31")}
    assert sources and all(s.startswith("GJJ-") for s in sources)
    missing = _kb(quizzed, "show", "2025Q1", user="zuzhang")
    assert missing.exit_code == 1 and "kb quiz list" in missing.output


def test_a_superseded_or_deleted_source_makes_its_question_stale(quizzed):
    questions = _bank(quizzed, "2026Q4", "2026Q4")
    replaced, deleted = questions[0].sources[0].entry_id, questions[1].sources[0].entry_id
    workflow, users = Workflow(quizzed.kb), Users(quizzed.kb.records)
    old = quizzed.kb.entry(replaced)
    draft = workflow.submit(users.get("zhangsan"), Entry("", old.question, "新口径：" + old.answer, old.item))
    workflow.approve(users.get("zuzhang"), draft.entry_id, keep_both=True,
                     changes={"supersedes": replaced, "effective_from": "2026-12-15"})
    workflow.delete(users.get("admin"), deleted, "内容有误")
    stale = {q.sources[0].entry_id: q.stale for q in QuizBank(quizzed.kb.records).questions(_lead(quizzed), "2026Q4")
             if q.stale}
    assert set(stale) == {replaced, deleted}
    assert "已被" in stale[replaced] and "不再发布" in stale[deleted]
