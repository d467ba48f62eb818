"""The new-hire study chat: key points and reply checking on real entries, the learner's record, the
order of the next session, permissions, and `kb study` driven interactively through CliRunner."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from fixtures import CHROMA_URL, PASSWORD, make_xlsx

from bot.study import StudyError, Tutor, covers, key_points, make_question, offline_judge
from cli import cli
from ingest import ingest_paths
from kb.asklog import log_question
from kb.errors import PermissionDenied
from kb.learning import STATES, Learning, current_entries
from kb.users import Users

HEADERS = ["编号", "问题", "答复", "事项", "部门", "依据", "日期"]
ROWS = [
    ["JZ-1", "居住证的签注什么时候办？", "居住证每年签注一次，应在有效期满前30日内办理，可到居住地派出所或综合窗口办理。"
     "逾期未签注的，居住证暂停使用。", "居住证", "市公安局", "《居住证暂行条例》第十三条", "2026-10-23"],
    ["JZ-2", "第一次办居住证需要什么条件？", "在本市居住满半年，持身份证和租赁合同到居住地派出所申领，受理后一般15个工作日内制证。",
     "居住证", "市公安局", "本市居住证实施办法", "2026-11-03"],
    ["JZ-3", "居住证丢了怎么补办？", "持身份证到居住地派出所申请补领，填写《居住证补领申请表》，10个工作日内制证。",
     "居住证", "市公安局", "本市居住证实施办法", "2026-11-04"],
    ["GJJ-1", "租房能提取公积金吗？", "本人及配偶在本市无自有住房且租房自住的可以申请，通过公积金APP线上申请，资金3个工作日内到账。",
     "公积金提取", "市住房公积金管理中心", "本市住房公积金提取管理办法", "2026-10-29"],
    ["GJJ-2", "退休了公积金能全部取出来吗？", "办理退休手续后，持身份证和本人银行卡到公积金窗口申请销户提取，一般3个工作日内到账。",
     "公积金提取", "市住房公积金管理中心", "本市住房公积金提取管理办法", "2026-09-10"],
    ["HZ-1", "第一次办护照要带什么？", "携带本人身份证到出入境接待大厅现场采集照片和指纹，7个工作日内制发。",
     "普通护照", "市公安局出入境管理支队", "《普通护照和出入境通行证签发管理办法》", "2026-09-04"],
]
ANSWERS = {row[0]: row[2] for row in ROWS}


@pytest.fixture
def studied(ctx, tmp_path):
    """The web context (accounts admin / zuzhang / zhangsan) on a knowledge base of three 事项."""
    report = ingest_paths(ctx.kb, [make_xlsx(tmp_path / "学习资料.xlsx", ROWS, HEADERS)],
                          actor=Users(ctx.kb.records).get("admin"))
    assert report.failed == []
    return ctx


def _users(ctx):
    users = Users(ctx.kb.records)
    return users.get("zhangsan"), users.get("zuzhang")


def test_key_points_come_from_the_answer_and_a_cloze_hides_one():
    from kb.types import Entry

    entry = Entry("JZ-1", ROWS[0][1], ROWS[0][2], "居住证")
    points = key_points(entry.answer)
    assert "30日内" in points and "居住地派出所" in points
    assert all(point in entry.answer for point in points)
    cloze = make_question(entry, 0)
    assert cloze.kind == "cloze" and len(cloze.points) == 1 and cloze.points[0] not in cloze.prompt
    assert make_question(entry, 1).kind == "summary" and "请简述要点" in make_question(entry, 1).prompt


def test_an_answer_without_key_terms_is_asked_as_a_summary_of_its_words():
    from kb.types import Entry

    for text, reply in [("不强制更换，原卡继续有效。", "不用强制更换，原卡还能继续用"), ("可以。", "可以")]:
        question = make_question(Entry("X", "老卡必须换吗？", text), 0)
        assert question.kind == "summary" and question.points and question.reference == text
        assert offline_judge(question, reply).correct and not offline_judge(question, "必须去换").correct


def test_replies_are_right_partial_or_wrong_by_key_points(studied):
    entry = studied.kb.entry("JZ-2")
    question = make_question(entry, 1)
    assert len(question.points) >= 3
    everything = "，".join(question.points)
    assert offline_judge(question, everything).grade == "right"
    one = offline_judge(question, f"好像是{question.points[0]}吧")
    assert one.grade == "partial" and not one.correct and question.points[0] in one.covered
    assert set(one.missed) == set(question.points[1:])
    assert offline_judge(question, "不知道").grade == "wrong"
    cloze = make_question(studied.kb.entry("JZ-1"), 0)
    assert cloze.points == ("30日内",)
    assert offline_judge(cloze, "到期前三十天").correct and not offline_judge(cloze, "到期前15天").correct
    assert covers("居住地派出所", "去居住地的派出所办") and not covers("居住地派出所", "去税务局办")


def test_a_lesson_explains_the_entry_and_the_record_counts_right_and_wrong(studied):
    staff, _ = _users(studied)
    tutor = Tutor(studied.kb)
    lesson = tutor.lesson(staff, topic="公积金提取")
    assert lesson.entry.item == "公积金提取" and lesson.entry.basis == "本市住房公积金提取管理办法"
    assert lesson.related and all(h.parent_id != lesson.entry.id for h in lesson.related)
    right = tutor.check(staff, lesson, "，".join(lesson.question.points))
    assert right.correct
    with pytest.raises(StudyError):
        tutor.check(staff, lesson, "  ")
    again = tutor.lesson(staff, topic="公积金提取")
    assert again.entry.id != lesson.entry.id, "the unseen entry of the topic comes before the one just studied"
    assert not tutor.check(staff, again, "不知道").correct
    topic = next(t for t in Learning(studied.kb.records).topics(staff) if t.item == "公积金提取")
    assert (topic.covered, topic.asked, topic.correct, topic.wrong) == (2, 2, 1, 1)
    assert topic.last_at


def test_the_next_session_starts_with_weak_then_unseen_topics(studied):
    staff, lead = _users(studied)
    tutor, learning = Tutor(studied.kb), Learning(studied.kb.records)
    first = [t.item for t in learning.topics(staff)]
    assert first[0] == "居住证", "unseen topics with more entries come first"
    with studied.kb.records.transaction(changes_index=False) as conn:
        for _ in range(3):
            log_question(conn, "zhangsan", "护照怎么办", "answered", 0.9, "HZ-1", "web")
    assert [t.item for t in learning.topics(staff)][0] == "普通护照", "a topic the counters meet more comes first"

    passed = tutor.lesson(staff, topic="普通护照")
    assert tutor.check(staff, passed, "，".join(passed.question.points)).correct
    failed = tutor.lesson(staff, topic="公积金提取")
    assert not tutor.check(staff, failed, "不知道").correct
    plan = learning.topics(staff)
    assert [t.item for t in plan] == ["公积金提取", "居住证", "普通护照"]
    assert [t.state for t in plan] == ["weak", "unseen", "studied"]
    assert tutor.lesson(staff).entry.item == "公积金提取", "without a topic the weak one is taught"
    assert learning.next_entry(staff, current_entries(studied.kb.records)["公积金提取"]) == failed.entry.id
    assert [t.state for t in learning.topics(lead)] == ["unseen"] * 3, "records are per learner"


def test_a_free_question_is_taught_from_the_entry_answering_it(studied):
    staff, _ = _users(studied)
    tutor = Tutor(studied.kb)
    assert tutor.lesson(staff, query="居住证丢了去哪补").entry.id == "JZ-3"
    with pytest.raises(StudyError, match="没有能可靠回答"):
        tutor.lesson(staff, query="驾驶证到期怎么换")
    with pytest.raises(StudyError, match="没有现行的已发布条目"):
        tutor.lesson(staff, topic="不存在的事项")


def test_only_trainers_read_other_learners_records(studied):
    staff, lead = _users(studied)
    tutor, learning = Tutor(studied.kb), Learning(studied.kb.records)
    tutor.check(staff, tutor.lesson(staff, topic="居住证"), "不知道")
    with pytest.raises(PermissionDenied):
        learning.topics(staff, "zuzhang")
    with pytest.raises(PermissionDenied):
        learning.learners(staff)
    row = next(r for r in learning.learners(lead) if r.username == "zhangsan")
    assert (row.topics, row.entries, row.correct, row.wrong) == (1, 1, 0, 1)
    assert next(t for t in learning.topics(lead, "zhangsan") if t.item == "居住证").wrong == 1


def _kb(ctx, *args, user: str, input: str = ""):
    options = ["--data-dir", str(ctx.settings.data_dir), "--collection", ctx.kb.vectors.name]
    if CHROMA_URL:
        options += ["--chroma-url", CHROMA_URL]
    group, *rest = args
    return CliRunner().invoke(cli, [group, *rest, *options], input=input,
                              env={"KB_USER": user, "KB_PASSWORD": PASSWORD})


def test_kb_study_is_interactive_and_trainers_see_the_progress(studied):
    result = _kb(studied, "study", "--topic", "居住证", user="zhangsan", input="不知道\ny\n到期前三十天办\nn\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.count("—— 第") == 2 and "依据：" in out and "相关条目" in out
    assert "回答不正确" in out and "出处：编号 JZ-" in out
    assert "本次学习 2 条" in out
    staff, _ = _users(studied)
    topic = next(t for t in Learning(studied.kb.records).topics(staff) if t.item == "居住证")
    assert (topic.covered, topic.asked, topic.wrong) == (1, 2, 2), "an entry answered wrong is taught again"
    assert "填空：" in out and "请简述要点" in out, "…with the other kind of question"

    table = _kb(studied, "study", "progress", user="zuzhang")
    assert table.exit_code == 0, table.output
    line = next(line for line in table.output.splitlines() if line.startswith("zhangsan"))
    assert f" {topic.wrong} " in line and "张三" in line
    detail = _kb(studied, "study", "progress", "--learner", "zhangsan", user="zuzhang")
    shown = next(line for line in detail.output.splitlines() if line.startswith("居住证"))
    assert STATES[topic.state] in shown and f"{topic.covered}/{topic.entries}" in shown
    unknown = _kb(studied, "study", "progress", "--learner", "zhangsna", user="zuzhang")
    assert unknown.exit_code == 1 and "没有学员“zhangsna”" in unknown.output and "居住证" not in unknown.output
    refused = _kb(studied, "study", "progress", "--learner", "zuzhang", user="zhangsan")
    assert refused.exit_code == 1 and "查看学员进度" in refused.output
    own = _kb(studied, "study", "progress", user="zhangsan")
    assert own.exit_code == 0 and "居住证" in own.output and "zuzhang" not in own.output

    once = _kb(studied, "study", "--question", "第一次办护照要带什么", "--rounds", "1", user="zhangsan",
               input="身份证\n")
    assert once.exit_code == 0, once.output
    assert "第一次办护照要带什么？" in once.output and "本次学习 1 条" in once.output
