"""The 办不成事 registry on a real knowledge base: masking, deadlines in working days, the status
transitions and who may make them, overdue cases, escalating a logged question, solving a case into a
draft that (once approved) answers the next asker, the links the gap queue and the evaluation read,
the monthly report (figures computed here from the timeline), and the `kb escalate` / `kb escalations`
commands."""

from __future__ import annotations

import re
import statistics

import pytest
from click.testing import CliRunner
from fixtures import CHROMA_URL, PASSWORD, Clock, make_xlsx

from bot import answer
from cli import cli
from ingest import ingest_paths
from kb.asklog import log_answer
from kb.errors import PermissionDenied
from kb.escalation_report import ReportError, month_range
from kb.escalations import (
    EscalationError, Escalations, add_working_days, for_questions, handled_counts, mask, normalized,
)
from kb.users import Users
from kb.workflow import Workflow

ROWS = [["FAQ-QZ", "居住证签注怎么办理？", "到居住地派出所户籍窗口办理签注，需本人到场，当场办结。", "居住证签注", "公安局"],
        ["FAQ-HZ", "第一次办护照需要带什么材料？", "携带本人身份证到出入境接待大厅现场采集照片和指纹。", "普通护照", "出入境"]]
HEADERS = ["编号", "问题", "答复", "事项", "部门"]
HARD = "外省退休人员异地就医备案后能在本市定点药店刷医保卡买药吗？"
SOLUTION = "异地就医备案后，可在本市开通异地结算的定点药店直接刷医保卡购药，个人账户按参保地规定支付。"


@pytest.fixture
def filled(ctx, tmp_path):
    """The web context (accounts admin / zuzhang / zhangsan) on two published entries."""
    ingest_paths(ctx.kb, [make_xlsx(tmp_path / "常见问题.xlsx", ROWS, HEADERS)], actor=_user(ctx, "admin"))
    return ctx


def _user(ctx, name):
    return Users(ctx.kb.records).get(name)


def test_identifiers_are_masked_and_other_numbers_kept():
    text = ("身份证110101199003071234，另一位11010119900307123x，全角１１０１０１１９９００３０７１２３Ｘ；"
            "电话138-1234-5678、+86 139 1234 5678、15912345678。12345热线，2026-11-03 缴费 1200 元，"
            "卡号6222021234567890123，座机12812345678")
    masked = mask(text)
    assert masked.count("[身份证号已隐去]") == 3 and masked.count("[手机号已隐去]") == 3
    for kept in ("12345热线", "2026-11-03", "1200 元", "6222021234567890123", "12812345678"):
        assert kept in masked
    assert not re.search(r"1[3-9]\d{9}|\d{17}[\dXx]", masked.replace("6222021234567890123", ""))


def test_deadline_counts_working_days():
    assert add_working_days("2026-11-04T09:00:00", 3) == "2026-11-09"  # Wednesday -> next Monday
    assert add_working_days("2026-11-06", 3) == "2026-11-11"  # Friday -> Wednesday
    assert add_working_days("2026-11-07", 1) == "2026-11-09"  # Saturday -> Monday


def test_a_case_is_registered_masked_with_its_deadline_and_worked_to_a_close(filled):
    clock = Clock("2026-11-06T10:00:00")
    registry = Escalations(filled.kb.records, clock)
    staff, lead = _user(filled, "zhangsan"), _user(filled, "zuzhang")
    case = registry.escalate(staff, f"{HARD} 身份证110101199003071234", "联系电话 13812345678，社保在外省",
                             item="异地就医", department="")
    assert (case.status, case.label, case.due, case.owner_label) == ("accepted", "受理", "2026-11-11", "办不成事窗口")
    stored = " ".join(map(str, filled.kb.records.conn.execute("SELECT * FROM escalations").fetchone()))
    assert "13812345678" not in stored and "110101199003071234" not in stored and "[手机号已隐去]" in stored
    with pytest.raises(EscalationError, match="问题不能为空"):
        registry.escalate(staff, "  ")

    for denied in (lambda: registry.cases(staff), lambda: registry.update(staff, case.number, "协调中"),
                   lambda: registry.unsolvable(staff, case.number, "无"), lambda: registry.report(staff, "2026-11"),
                   lambda: registry.solve(staff, case.number, SOLUTION, Workflow(filled.kb))):
        with pytest.raises(PermissionDenied, match="处理办不成事"):
            denied()
    assert [c.number for c in registry.mine(staff)] == [case.number]
    assert registry.case(staff, case.number).question.startswith(HARD)

    clock.at = "2026-11-09T15:30:00"
    with pytest.raises(EscalationError, match="没有要改的内容"):
        registry.update(lead, case.number)
    with pytest.raises(EscalationError, match="办结请用"):
        registry.update(lead, case.number, "已解决")
    worked = registry.update(lead, case.number, "协调中", "已电话联系医保局", "市医保局", "2026/11/20")
    assert (worked.label, worked.department, worked.due, worked.owner) == ("协调中", "市医保局", "2026-11-20", "zuzhang")
    assert [(e.action, e.actor) for e in worked.events] == [("create", "zhangsan"), ("update", "zuzhang")]
    assert worked.events[1].detail == "受理 → 协调中；部门：— → 市医保局；期限：2026-11-11 → 2026-11-20"
    assert worked.events[1].note == "已电话联系医保局" and worked.events[1].at == "2026-11-09T15:30:00"

    with pytest.raises(EscalationError, match="原因.*不能为空"):
        registry.unsolvable(lead, case.number, " ")
    closed = registry.unsolvable(lead, case.number, "医保政策规定个人账户不能跨省使用，可回参保地报销。")
    assert (closed.label, closed.closed_by, closed.closed_at) == ("无法解决", "zuzhang", "2026-11-09T15:30:00")
    for again in (lambda: registry.update(lead, case.number, note="再联系"),
                  lambda: registry.solve(lead, case.number, SOLUTION, Workflow(filled.kb))):
        with pytest.raises(EscalationError, match="已无法解决"):
            again()


def test_overdue_cases_are_the_open_ones_past_their_deadline(filled):
    clock = Clock("2026-11-02T09:00:00")
    registry = Escalations(filled.kb.records, clock)
    staff, lead = _user(filled, "zhangsan"), _user(filled, "zuzhang")
    late = registry.escalate(staff, "问题一")
    closed = registry.escalate(staff, "问题二")
    registry.unsolvable(lead, closed.number, "不属于本中心受理范围，已告知向信访部门反映。")
    clock.at = "2026-11-04T09:00:00"
    recent = registry.escalate(staff, "问题三")
    clock.at = "2026-11-05T12:00:00"
    assert late.due == "2026-11-05" and [c.number for c in registry.cases(lead, overdue=True)] == []
    clock.at = "2026-11-06T08:00:00"
    assert [c.number for c in registry.cases(lead, overdue=True)] == [late.number]
    assert [c.number for c in registry.cases(lead, status="受理")] == [recent.number, late.number]
    assert [c.number for c in registry.cases(lead, status="unsolvable")] == [closed.number]
    with pytest.raises(EscalationError, match="无法识别的状态"):
        registry.cases(lead, status="办完了")


def test_a_solved_case_becomes_an_entry_that_answers_the_next_asker(filled):
    staff, lead = _user(filled, "zhangsan"), _user(filled, "zuzhang")
    refused = answer(filled.kb, HARD)
    assert refused.status == "no_answer"
    with filled.kb.records.transaction(changes_index=False) as conn:
        log_id = log_answer(conn, "zhangsan", refused, "web")
    registry = Escalations(filled.kb.records)
    case = registry.escalate(staff, situation="群众已在外省办好备案", item="异地就医", department="市医保局",
                             ask_id=log_id)
    assert (case.question, case.ask_id) == (HARD, log_id)
    with pytest.raises(EscalationError, match="已转办，登记编号"):
        registry.escalate(staff, ask_id=log_id)
    with pytest.raises(EscalationError, match="没有编号为 999 的问答记录"):
        registry.escalate(staff, ask_id=999)
    other = Users(filled.kb.records).add(_user(filled, "admin"), "lisi", PASSWORD, "staff", "李四")
    with pytest.raises(EscalationError, match="只能转办自己问过的问题"):
        registry.escalate(other, ask_id=log_id)
    with pytest.raises(PermissionDenied, match="只能查看自己"):
        registry.case(other, case.number)

    solved, submitted = registry.solve(lead, case.number, SOLUTION, Workflow(filled.kb), basis="市医保局电话口径")
    assert submitted.status == "draft" and (solved.status, solved.entry_id, solved.knowledge) == (
        "solved", submitted.entry_id, "")
    draft = filled.kb.records.entry(submitted.entry_id)
    assert (draft.question, draft.answer, draft.item, draft.department, draft.basis) == (
        HARD, SOLUTION, "异地就医", "市医保局", "市医保局电话口径")
    assert filled.kb.records.state(submitted.entry_id).status == "draft"
    assert answer(filled.kb, HARD).status == "no_answer"

    Workflow(filled.kb).approve(lead, submitted.entry_id)
    assert registry.case(staff, case.number).knowledge == submitted.entry_id
    reply = answer(filled.kb, "外省退休人员异地就医备案后，能在本市的定点药店刷医保卡买药吗")
    assert reply.status == "answered" and reply.citations[0].parent_id == submitted.entry_id

    assert [c.number for c in for_questions(filled.kb.records, ["外省退休人员 异地就医备案后能在本市定点药店刷医保卡买药吗",
                                                                "无关的问题"])] == [case.number]
    assert for_questions(filled.kb.records, ["异地就医备案"]) == []
    assert normalized("Ａ，b c？") == "abc"
    today = solved.closed_at[:10]
    assert handled_counts(filled.kb.records, today, today) == {"zuzhang": 1}
    assert handled_counts(filled.kb.records, "2000-01-01", "2000-12-31") == {}


def test_the_monthly_report_counts_cases_times_and_knowledge(filled):
    clock = Clock("2026-10-30T09:00:00")
    registry = Escalations(filled.kb.records, clock)
    staff, lead, admin = _user(filled, "zhangsan"), _user(filled, "zuzhang"), _user(filled, "admin")
    flow = Workflow(filled.kb)
    registry.escalate(staff, "十月的问题", item="社保")  # registered in October: not in November's report
    timeline = [  # (registered, item, department, closed, how)
        ("2026-11-02T09:00:00", "异地就医", "市医保局", "2026-11-04T09:00:00", "published"),
        ("2026-11-03T09:00:00", "异地就医", "市医保局", "2026-11-03T21:00:00", "draft"),
        ("2026-11-05T09:00:00", "居住证", "市公安局", "2026-11-10T09:00:00", "published"),
        ("2026-11-06T09:00:00", "居住证", "", "2026-11-07T09:00:00", "unsolvable"),
        ("2026-11-09T09:00:00", "", "市人社局", "", "open"),
    ]
    for number, (registered, item, department, closed, how) in enumerate(timeline):
        clock.at = registered
        case = registry.escalate(staff, f"十一月第 {number} 个问题：{item}怎么办理", item=item, department=department)
        if how == "unsolvable":
            clock.at = closed
            registry.unsolvable(admin, case.number, "政策不允许。")
        elif how != "open":
            clock.at = closed
            _, submitted = registry.solve(lead, case.number, f"第 {number} 个问题的办法：到{department}窗口办理。", flow)
            if how == "published":
                flow.approve(lead, submitted.entry_id)
    clock.at = "2026-12-01T09:00:00"
    report = registry.report(lead, "2026-11")

    days = [(int(t[3][8:10]) - int(t[0][8:10])) + (int(t[3][11:13]) - int(t[0][11:13])) / 24
            for t in timeline if t[4] in ("published", "draft")]
    assert report.month == "2026-11" and report.total == len(timeline) == 5
    assert report.by_status == {"accepted": 1, "coordinating": 0, "solved": 3, "unsolvable": 1}
    assert report.by_item == [("居住证", 2), ("异地就医", 2), ("（未填）", 1)]
    assert report.by_department == [("市医保局", 2), ("市人社局", 1), ("市公安局", 1), ("（未填）", 1)]
    assert report.solved == 3 and report.days_median == pytest.approx(statistics.median(days)) == 2.0
    assert report.days_mean == pytest.approx(statistics.fmean(days)) == pytest.approx(2.5)
    assert report.knowledge == 2 and report.knowledge_share == pytest.approx(2 / 3)
    assert report.overdue == 1
    lines = report.lines()
    assert "登记 5 件" in lines[0] and "超期未办结 1 件" in lines[0] and "中位数 2.0 天，平均 2.5 天" in lines[1]
    assert "2 件，占已解决的 67%" in lines[2] and lines[3] == "按事项：居住证 2，异地就医 2，（未填） 1"
    assert handled_counts(filled.kb.records, "2026-11-01", "2026-11-30") == {"zuzhang": 3, "admin": 1}
    assert handled_counts(filled.kb.records, "2026-11-05", "2026-11-30") == {"zuzhang": 1, "admin": 1}
    empty = registry.report(lead, "2026年9月")
    assert empty.total == 0 and empty.days_median is None and empty.knowledge_share is None
    assert month_range("2024-02") == ("2024-02-01", "2024-02-29")
    with pytest.raises(ReportError, match="2026/11 或 2026年11月"):
        registry.report(lead, "2026-13")


def _kb(ctx, *args, user: str):
    options = ["--data-dir", str(ctx.settings.data_dir), "--collection", ctx.kb.vectors.name]
    if CHROMA_URL:
        options += ["--chroma-url", CHROMA_URL]
    command, rest = (args[:2], args[2:]) if args[0] == "escalations" else (args[:1], args[1:])
    return CliRunner().invoke(cli, [*command, *rest, *options], env={"KB_USER": user, "KB_PASSWORD": PASSWORD})


def test_the_escalation_commands(filled):
    asked = _kb(filled, "ask", HARD, user="zhangsan")
    assert asked.exit_code == 0 and "暂无可靠答案" in asked.output, asked.output
    log_id = re.search(r"记录编号：(\d+)", asked.output).group(1)
    assert _kb(filled, "escalate", user="zhangsan").exit_code == 2
    sent = _kb(filled, "escalate", "--ask", log_id, "--situation", "电话13812345678", "--item", "异地就医",
               user="zhangsan")
    assert sent.exit_code == 0 and "登记编号 1，受理" in sent.output, sent.output
    mine = _kb(filled, "escalations", "list", user="zhangsan")
    assert "共 1 件" in mine.output and HARD in mine.output and "经办 办不成事窗口" in mine.output
    shown = _kb(filled, "escalations", "show", "1", user="zhangsan")
    assert "[手机号已隐去]" in shown.output and "13812345678" not in shown.output and f"问答记录 {log_id}" in shown.output

    refused = _kb(filled, "escalations", "update", "1", "--status", "协调中", user="zhangsan")
    assert refused.exit_code == 1 and "处理办不成事" in refused.output
    worked = _kb(filled, "escalations", "update", "1", "--status", "协调中", "--department", "市医保局", "--note",
                 "已电话联系", user="zuzhang")
    assert worked.exit_code == 0 and "协调中，部门 市医保局" in worked.output, worked.output
    assert _kb(filled, "escalations", "list", "--overdue", user="zuzhang").output.strip().endswith("共 0 件。")
    both = _kb(filled, "escalations", "solve", "1", user="zuzhang")
    assert both.exit_code == 2 and "二者选一" in both.output
    no_reason = _kb(filled, "escalations", "solve", "1", "--unsolvable", user="zuzhang")
    assert no_reason.exit_code == 1 and "不能为空" in no_reason.output
    solved = _kb(filled, "escalations", "solve", "1", "--solution", SOLUTION, "--basis", "医保局口径", user="zuzhang")
    assert solved.exit_code == 0, solved.output
    entry_id = re.search(r"草稿 (\S+)（待审核）", solved.output).group(1)
    Workflow(filled.kb).approve(_user(filled, "zuzhang"), entry_id)
    shown = _kb(filled, "escalations", "show", "1", user="zuzhang")
    assert f"已发布为 {entry_id}" in shown.output and "受理 → 协调中" in shown.output and "已电话联系" in shown.output
    again = _kb(filled, "ask", HARD, user="zhangsan")
    assert entry_id in again.output and "暂无可靠答案" not in again.output

    month = Escalations(filled.kb.records).case(_user(filled, "zuzhang"), 1).created_at[:7]
    report = _kb(filled, "escalations", "report", "--month", month, user="zuzhang")
    assert report.exit_code == 0 and f"{month} 办不成事登记 1 件" in report.output, report.output
    assert "1 件，占已解决的 100%" in report.output and "按部门：市医保局 1" in report.output
    assert _kb(filled, "escalations", "report", "--month", month, user="zhangsan").exit_code == 1

