"""Hostile input on the 题库与考试, 出题阅卷, 办不成事, 培训 and 管理 pages: a number typed out of range
(negative, nan, infinite, a time limit of centuries), a case number longer than SQLite's integers, an
endless statistics period, a plan starting in the year 9999, an upload gone from the server and a
marks sheet that cannot be read are each refused with a Chinese ``gr.Error`` naming the field and
the fix (never a Python, SQLite or English message, never the server's path), nothing stored is
changed, and ordinary input next to it still goes through."""

from __future__ import annotations

import re
from datetime import date, timedelta

import gradio as gr
import pytest
from fixtures import SMALL_HEADERS, SMALL_ROWS, as_user, make_csv, make_xlsx
from test_department import POLICE, _user, meeting  # noqa: F401  (the fixture)
from test_escalations import HARD, HEADERS, ROWS
from test_quiz import quizzed  # noqa: F401  (the fixture)
from test_ui_exams import ONE_EACH, _bank, _paper
from test_ui_jobs import wait

from ingest import ingest_paths
from kb.papers import Papers
from kb.quizbank import QuizBank
from kb.users import Users
from web import department, escalations, exam_bank, exam_papers, exam_results, exams, selftest, training
from web.admin import imports, statistics
from web.app import build_app
from web.downloads import Downloads

NAN, INF = float("nan"), float("inf")
TRAINER, ADMIN, STAFF = as_user("zuzhang"), as_user("admin"), as_user("zhangsan")
ENGLISH = re.compile(r"[A-Za-z]{4,}")


def refused(call, *args, match: str) -> str:
    """The Chinese message ``call(*args)`` is refused with."""
    with pytest.raises(gr.Error, match=match) as error:
        call(*args)
    assert not ENGLISH.search(error.value.message), error.value.message
    return error.value.message


def papers(ctx) -> list[str]:
    return [p.id for p in Papers(ctx.kb.records).papers(_user(ctx, "zuzhang"))]


def test_a_negative_number_typed_in_a_box_reaches_the_chinese_check_not_gradios_english_one(meeting):  # noqa: F811
    meeting.pages = (exams, department)
    boxes = [b for b in build_app(meeting).blocks.values() if isinstance(b, gr.Number)]
    assert len(boxes) >= 20
    for box in boxes:
        assert box.preprocess(-1) == -1, box.label
    bank_id = _bank(meeting)
    refused(exam_bank.make_bank, meeting, TRAINER, "2026Q4", "", "", "", "", True, [-1, 1, 1, 1, 1], "", "负数",
            match="单选题数量“-1”应为 0 或正整数")
    refused(exam_bank.question_form, meeting, bank_id, -1, TRAINER, match="题号“-1”不对：题库 四季度 共 10 题")
    refused(exam_papers.compose_paper, meeting, bank_id, "测验", ONE_EACH, [-1, 3, 1, 2, 10], False, 0, "", TRAINER,
            match="每题分值必须是大于 0 的数")
    refused(department.compose_paper, meeting, "Q4", "例会测试", [-1, 0, 0, 0, 1], "", as_user(POLICE),
            match="单选题数“-1”应为 0 或正整数")


def test_nan_and_infinite_numbers_are_refused_in_chinese_and_nothing_is_stored(meeting):  # noqa: F811
    bank_id = _bank(meeting)
    banks, composed = QuizBank(meeting.kb.records).banks(_user(meeting, "zuzhang")), papers(meeting)
    refused(exam_bank.make_bank, meeting, TRAINER, "2026Q4", "", "", "", "", True, [NAN, INF, 1, 1, 1], "", "坏数",
            match="单选题数量“nan”应为 0 或正整数")
    for number in (NAN, INF):
        refused(exam_bank.question_form, meeting, bank_id, number, TRAINER, match=f"题号“{number}”不对")
        refused(exam_bank.save_question, meeting, bank_id, number, "题干", "", "答案", "", "", TRAINER,
                match=f"题号“{number}”不对")
        refused(exam_papers.compose_paper, meeting, bank_id, "测验", [number, 1, 1, 1, 1], [2, 3, 1, 2, 10], False, 0,
                "", TRAINER, match="单选题数“(nan|inf)”应为 0 或正整数")
        refused(exam_papers.compose_paper, meeting, bank_id, "测验", ONE_EACH, [2, 3, 1, 2, 10], False, number, "",
                TRAINER, match="考试时长（分钟）“(nan|inf)”应为 0 或正整数")
        refused(department.compose_paper, meeting, "Q4", "例会测试", [number, 0, 0, 0, 1], "", as_user(POLICE),
                match="单选题数“(nan|inf)”应为 0 或正整数")
        refused(department.question_form, meeting, "Q4", number, as_user(POLICE), match="不是本部门负责事项的题目")
        refused(department.save_question, meeting, "Q4", number, "题干", "", "答案", "", "", as_user(POLICE),
                match="请先在上表中选一道本部门负责事项的题目")
        refused(department.grade_answer, meeting, number, 1, 1, "", as_user(POLICE), match="请在表中选一条作答")
    assert "None" not in refused(exam_bank.question_form, meeting, bank_id, None, TRAINER, match="题号不对")
    assert "None" not in refused(department.question_form, meeting, "Q4", None, as_user(POLICE), match="题号不是")
    assert QuizBank(meeting.kb.records).banks(_user(meeting, "zuzhang")) == banks and papers(meeting) == composed
    assert "第 1 题" in exam_bank.question_form(meeting, bank_id, 1.0, TRAINER)[0]
    assert "已组好" in department.compose_paper(meeting, "Q4", "例会测试", [1.0, 0, 0, 0, 1], "", as_user(POLICE))[0]


def test_a_time_limit_over_a_day_is_refused_and_a_paper_of_a_day_is_composed_and_started(quizzed):  # noqa: F811
    bank_id = _bank(quizzed)
    for minutes in (10 ** 20, 10 ** 10, 1441):
        refused(exam_papers.compose_paper, quizzed, bank_id, "测验", ONE_EACH, [2, 3, 1, 2, 10], False, minutes, "",
                TRAINER, match=f"考试时长 {minutes} 分钟太长：最多 1440 分钟")
    assert papers(quizzed) == []
    text, paper_id = exam_papers.compose_paper(quizzed, bank_id, "测验", ONE_EACH, [2, 3, 1, 2, 10], False, 1440, "",
                                               TRAINER)
    assert "限时 1440 分钟" in text
    exam_papers.assign_paper(quizzed, paper_id, "all", None, None, "", TRAINER)
    attempt_id, _, heading = selftest.begin(quizzed, paper_id, STAFF)
    assert "限时 1440 分钟" in heading and 0 < selftest.seconds_left(quizzed, attempt_id, STAFF) <= 1440 * 60


def test_a_case_number_too_long_for_sqlite_is_refused_and_the_case_still_opens(ctx, tmp_path):
    ingest_paths(ctx.kb, [make_xlsx(tmp_path / "常见问题.xlsx", ROWS, HEADERS)], actor=Users(ctx.kb.records).get("admin"))
    assert "登记编号 1" in escalations.escalate(ctx, HARD, "", "", "", STAFF)
    typed = "9" * 30
    refused(escalations.detail, ctx, typed, TRAINER, match=f"没有编号为 {typed} 的办不成事登记")
    refused(escalations.update, ctx, typed, "协调中", "", "", "联系了医保局", TRAINER, match="没有编号为")
    refused(escalations.solve, ctx, f"-{typed}", "答复", HARD, "", "", "", TRAINER, match="没有编号为")
    refused(escalations.unsolvable, ctx, typed, "原因", TRAINER, match="没有编号为")
    assert escalations.listing(ctx, "受理", False, TRAINER)[2] == ["1"]
    assert escalations.detail(ctx, " 1 ", TRAINER)[1] == HARD


def test_an_endless_statistics_period_is_refused_and_thirty_days_are_shown(ctx):
    for days in (INF, 10 ** 9, 10 ** 30):
        refused(statistics.tables, ctx, days, ADMIN, match="时间范围")
    headline, *_ = statistics.tables(ctx, 30, ADMIN)
    assert "最近 30 天提问 0 次" in headline


def test_an_upload_gone_from_the_server_is_one_failed_row_and_the_other_files_are_imported(ctx, tmp_path):
    folder = tmp_path / "upload"
    folder.mkdir()
    sheet = make_xlsx(folder / "登记表.xlsx", SMALL_ROWS, SMALL_HEADERS)
    job = wait(imports.start_import(ctx, [str(folder / "已过期.xlsx"), str(folder), str(sheet)], ADMIN))
    assert job.error == ""
    rows = {row[0]: row for row in job.rows}
    assert rows["已过期.xlsx"][1:4] == ["失败", 0, 0] and "请重新上传" in rows["已过期.xlsx"][4]
    assert rows["upload"][1] == "失败" and rows["登记表.xlsx"][1:3] == ["新增", 3]
    assert "失败 2 个" in job.status and "新增 1 个" in job.status
    assert ctx.kb.records.counts()["entries"] == 3


def test_a_marks_sheet_that_cannot_be_read_is_named_without_the_servers_path(quizzed, tmp_path):  # noqa: F811
    paper_id = _paper(quizzed, _bank(quizzed))
    binary = tmp_path / "成绩.xlsx"
    binary.write_bytes(b"\x00\xff not a workbook" * 50)
    empty = tmp_path / "空表.csv"
    empty.write_bytes(b"")
    for sheet, reason in ((tmp_path / "已过期.xlsx", "已找不到"), (binary, "无法读取"), (empty, "没有找到成绩表的列")):
        with pytest.raises(gr.Error) as error:
            exam_results.import_marks(quizzed, paper_id, "A", "", str(sheet), TRAINER)
        assert error.value.message.startswith(f"成绩表“{sheet.name}”") and reason in error.value.message
        assert str(tmp_path) not in error.value.message
    gbk = make_csv(tmp_path / "纸质成绩.csv", [["张三", 1, 1]], ["姓名", "题号", "得分"], encoding="gbk")
    assert "已导入 1 人的成绩" in exam_results.import_marks(quizzed, paper_id, "A", "", str(gbk), TRAINER)


def test_a_plan_starting_in_the_year_9999_is_refused_and_one_next_month_is_made(ctx):
    downloads = Downloads("kb-test-hostile-b-")
    refused(training.make_plan, ctx, "zhangsan", "9999-12-31", TRAINER, downloads,
            match="开始日期 9999-12-31 太远：请选一年（366 天）以内的日期")
    refused(training.make_plan, ctx, "", "9999年12月31日", STAFF, downloads, match="开始日期 9999-12-31 太远")
    refused(training.make_plan, ctx, "zhangsan", "明天", TRAINER, downloads, match="开始日期“明天”不是有效的日期")
    next_month = (date.today() + timedelta(days=30)).isoformat()
    markdown, word = training.make_plan(ctx, "zhangsan", next_month, TRAINER, downloads)
    assert f"{next_month} 起" in markdown and word.endswith(".docx")
