"""Departments at the quarterly meeting (审批部门) on a real knowledge base: the scope an admin sets, and
within it only, proposing and editing questions, composing and approving a paper, grading the 简答
answers (the attempt's total follows, the automatic mark is kept) and reading results that show
names and scores only; the same through `kb user scope` and `kb dept`."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from fixtures import CHROMA_URL, PASSWORD
from test_quiz import ALL_TYPES, GJJ, HZ, JZ, _bank, quizzed  # noqa: F401  (the fixture)

from cli import cli
from kb.attempts import Attempts, Marking
from kb.audit import events
from kb.department import Department, approvals
from kb.errors import PermissionDenied
from kb.papers import PaperError, Papers
from kb.quizbank import QuizBank, QuizError
from kb.scopes import ScopeError, Scopes
from kb.users import Users, parse_role

POLICE, FUND = "gaj", "gjj"
STAFF = {"s1": ("赵一", "一组"), "s2": ("钱二", "二组")}
SHORT_KEY = "持身份证和租赁合同到派出所申领"


@pytest.fixture
def meeting(quizzed):
    """The quiz knowledge base with bank ``Q4``, two departments (公安: 居住证 and 普通护照; 公积金: 公积金提取)
    and two staff."""
    users = Users(quizzed.kb.records)
    admin = users.get("admin")
    users.add(admin, POLICE, PASSWORD, "审批部门", "市公安局")
    users.add(admin, FUND, PASSWORD, "部门", "市住房公积金管理中心")
    for name, (display, group) in STAFF.items():
        users.add(admin, name, PASSWORD, "staff", display, group)
    Scopes(quizzed.kb.records).set(admin, POLICE, [JZ, HZ, JZ])
    Scopes(quizzed.kb.records).set(admin, FUND, [GJJ])
    _bank(quizzed, "Q4", "2026Q4", counts=ALL_TYPES, earlier=True)
    return quizzed


def _user(ctx, name):
    return Users(ctx.kb.records).get(name)


def _propose_short(ctx, who=POLICE, item=JZ, stem="第一次申领居住证要带什么材料？"):
    return Department(ctx.kb.records).propose(_user(ctx, who), "Q4", "short", item, stem, [], [SHORT_KEY],
                                              "见居住证申领规定。", ["身份证", "租赁合同"])


def _exact(question, response, points):
    return Marking(points if response == "".join(question.answer) else 0.0, points)


def test_the_department_role_holds_only_asking_and_setting_papers(meeting):
    police = _user(meeting, POLICE)
    assert parse_role("审批部门") == parse_role("部门") == police.role == "department"
    assert police.can("read") and police.can("setpaper")
    assert not any(police.can(p) for p in ("quiz", "drafts", "review", "exam", "users", "submit", "training"))
    with pytest.raises(PermissionDenied, match="管理题库"):
        QuizBank(meeting.kb.records).banks(police)
    with pytest.raises(PermissionDenied, match="出题阅卷"):
        Department(meeting.kb.records).questions(_user(meeting, "zuzhang"), "Q4")


def test_only_an_admin_sets_a_scope_and_only_for_a_department(meeting):
    scopes, admin = Scopes(meeting.kb.records), _user(meeting, "admin")
    assert scopes.stored(POLICE) == sorted([JZ, HZ])
    with pytest.raises(PermissionDenied):
        scopes.set(_user(meeting, "zuzhang"), POLICE, [GJJ])
    with pytest.raises(ScopeError, match="不是审批部门账号"):
        scopes.set(admin, "s1", [JZ])
    with pytest.raises(ScopeError, match="至少给出一个事项"):
        scopes.set(admin, POLICE, [" "])
    users = Users(meeting.kb.records)
    users.add(admin, "new", PASSWORD, "department", "新部门")
    with pytest.raises(PermissionDenied, match="kb user scope new"):
        Department(meeting.kb.records).questions(users.get("new"), "Q4")
    logged = events(meeting.kb.records.conn, action="scope", target=f"user:{FUND}")[0]
    assert (logged.actor, logged.before, logged.after) == ("admin", {"items": []}, {"items": [GJJ]})


def test_a_department_sees_proposes_and_edits_only_questions_of_its_matters(meeting):
    department, police, fund = Department(meeting.kb.records), _user(meeting, POLICE), _user(meeting, FUND)
    bank = QuizBank(meeting.kb.records).questions(_user(meeting, "zuzhang"), "Q4")
    seen = department.questions(police, "Q4")
    assert {(q.number, q.question.stem) for q in seen} == {(n, q.stem) for n, q in enumerate(bank, 1)
                                                           if q.item in (JZ, HZ)}
    assert all(q.question.item != GJJ for q in seen) and any(q.item == GJJ for q in bank)

    added = _propose_short(meeting)
    assert added.number == len(bank) + 1 and added.question.item == JZ and added.question.points == ("身份证", "租赁合同")
    assert QuizBank(meeting.kb.records).questions(_user(meeting, "zuzhang"), "Q4")[-1].stem == added.question.stem
    with pytest.raises(QuizError, match="同一知识点"):
        _propose_short(meeting, stem="第一次申领居住证，要带什么材料")
    with pytest.raises(QuizError, match="不归你负责"):
        _propose_short(meeting, item=GJJ, stem="租房提取公积金怎么申请？")
    with pytest.raises(QuizError, match="评分要点"):
        department.propose(police, "Q4", "short", JZ, "居住证有效期多久？", [], ["5年"], "", [])
    single = department.propose(fund, "Q4", "single", "", "租房提取公积金多久到账？", ["3个工作日", "30日", "半年"],
                                ["A"], "资金3个工作日内到账。")
    assert single.question.item == GJJ and single.question.options == ("3个工作日", "30日", "半年")

    with pytest.raises(QuizError, match="不是你负责事项的题目"):
        department.edit(fund, "Q4", added.number, "改过的题干", [], [SHORT_KEY], "")
    with pytest.raises(QuizError, match="不是你负责事项的题目"):
        department.edit(police, "Q4", single.number, "改过的题干", ["甲", "乙"], ["A"], "")
    edited = department.edit(police, "Q4", added.number, "首次申领居住证需要哪些材料？", [], [SHORT_KEY], "按规定。",
                             ["身份证", "租赁合同", "照片"])
    assert edited.question.stem == "首次申领居住证需要哪些材料？" and edited.question.points[-1] == "照片"
    assert edited.question.item == JZ and edited.question.kind == "short"


def test_a_department_composes_from_its_matters_and_approves_only_its_part(meeting):
    department, police, fund = Department(meeting.kb.records), _user(meeting, POLICE), _user(meeting, FUND)
    _propose_short(meeting)
    paper = department.compose(police, "Q4", "例会测试（公安）", {"single": 1, "short": 1}, paper_id="P1")
    assert paper.created_by == POLICE and {q.question.item for q in paper.questions} <= {JZ, HZ}
    with pytest.raises(PaperError, match="所选事项未过期的单选题只有"):
        department.compose(police, "Q4", "太多", {"single": 20})
    with pytest.raises(PaperError, match="不归你负责"):
        department.compose(police, "Q4", "越权", {"single": 1}, items=[GJJ])
    mixed = Papers(meeting.kb.records).compose(_user(meeting, "zuzhang"), "Q4", "全体自测", ALL_TYPES, paper_id="ALL")
    assert {q.question.item for q in mixed.questions} == {JZ, HZ, GJJ}

    approved = department.approve(police, "P1")
    assert (approved.name, approved.questions) == ("市公安局", 2)
    with pytest.raises(PaperError, match="没有你负责事项的题目"):
        department.approve(fund, "P1")
    listed = dict((p.id, (p, a)) for p, a in department.papers(fund))
    assert set(listed) == {"ALL"}
    only_fund, _ = listed["ALL"]
    assert only_fund.questions and all(q.question.item == GJJ for q in only_fund.questions)
    department.approve(fund, "ALL")
    assert [(a.paper_id, a.username) for a in approvals(meeting.kb.records)] == [("P1", POLICE), ("ALL", FUND)]


def _take(ctx, name, paper_id, wrong_short: bool):
    attempts = Attempts(ctx.kb.records)
    attempt, _ = attempts.start(_user(ctx, name), paper_id)
    paper = Papers(ctx.kb.records).keyed(paper_id, attempt.variant)
    answers = {q.number: ("居住证不用带材料" if wrong_short and q.question.kind == "short" else "".join(q.question.answer))
               for q in paper.questions}
    return attempts.submit(_user(ctx, name), attempt.id, answers, _exact)


def test_grading_a_short_answer_overrides_its_mark_and_the_total_and_results_show_names_and_scores(meeting):
    records = meeting.kb.records
    department, police, fund = Department(records), _user(meeting, POLICE), _user(meeting, FUND)
    _propose_short(meeting)
    paper = department.compose(police, "Q4", "例会测试", {"single": 1, "judge": 1, "short": 1}, paper_id="P1")
    Papers(records).assign(_user(meeting, "zuzhang"), "P1", "all", [])
    first = _take(meeting, "s1", "P1", wrong_short=True)
    _take(meeting, "s2", "P1", wrong_short=False)
    short = next(a for a in first.answers if a.question.question.kind == "short")
    assert short.marking.score == 0 and first.attempt.score == paper.total - short.question.points

    waiting = department.to_grade(police, "P1", pending_only=True)
    key = next(q for q in paper.questions if q.question.kind == "short").question.answer[0]
    assert len(waiting) == 2 and {w.response for w in waiting} == {"居住证不用带材料", key}
    assert not any("s1" in str(w) or "赵一" in str(w) or "一组" in str(w) for w in waiting)
    assert department.to_grade(fund, "P1") == []
    with pytest.raises(PaperError, match="不是你负责事项的简答题"):
        department.grade(fund, first.attempt.id, short.question.number, 5)
    with pytest.raises(PaperError, match="超出范围"):
        department.grade(police, first.attempt.id, short.question.number, short.question.points + 1)

    done = department.grade(police, first.attempt.id, short.question.number, 4, "只答对了去派出所")
    assert (done.auto_score, done.score, done.graded_by) == (0.0, 4.0, POLICE)
    regraded = Attempts(records).result(_user(meeting, "s1"), first.attempt.id)
    assert regraded.attempt.score == first.attempt.score + 4
    assert next(a for a in regraded.answers if a.question.number == short.question.number).marking.note == \
        "阅卷评分：只答对了去派出所"
    again = department.grade(police, first.attempt.id, short.question.number, 6)
    assert again.auto_score == 0.0 and Attempts(records).result(_user(meeting, "s1"), first.attempt.id).attempt.score \
        == first.attempt.score + 6
    assert len(department.to_grade(police, "P1", pending_only=True)) == 1
    assert events(records.conn, action="regrade")[0].after == {"score": 6.0}

    by_question, by_person = department.results(police, "P1")
    assert [r.number for r in by_question] == [q.number for q in paper.questions]
    asked = next(r for r in by_question if r.question.kind == "short")
    assert (asked.answers, asked.full, asked.average) == (2, 1, (6 + short.question.points) / 2)
    assert {(p.name, p.score) for p in by_person} == {("赵一", paper.total - short.question.points + 6),
                                                      ("钱二", paper.total)}
    assert all(set(vars(p)) == {"paper_id", "name", "score", "points"} for p in by_person)
    assert department.results(fund, "P1") == ([], [])


def _kb(ctx, *args, user: str):
    options = ["--data-dir", str(ctx.settings.data_dir), "--collection", ctx.kb.vectors.name]
    if CHROMA_URL:
        options += ["--chroma-url", CHROMA_URL]
    return CliRunner().invoke(cli, [*args, *options], env={"KB_USER": user, "KB_PASSWORD": PASSWORD})


def test_kb_dept_commands_stay_within_the_departments_matters(meeting):
    records = meeting.kb.records
    scoped = _kb(meeting, "user", "scope", FUND, "--item", GJJ, "--item", "住房公积金贷款", user="admin")
    assert scoped.exit_code == 0 and set(Scopes(records).stored(FUND)) == {GJJ, "住房公积金贷款"}
    assert "、".join(sorted([GJJ, "住房公积金贷款"])) in scoped.output
    refused = _kb(meeting, "user", "scope", FUND, "--item", JZ, user="zuzhang")
    assert refused.exit_code == 1 and "管理账号" in refused.output
    shown_scope = _kb(meeting, "user", "scope", POLICE, user="admin").output.strip()
    assert shown_scope == f"{POLICE} 负责的事项：{'、'.join(sorted([HZ, JZ]))}"

    bank = QuizBank(records).questions(_user(meeting, "zuzhang"), "Q4")
    shown = _kb(meeting, "dept", "questions", "Q4", user=POLICE)
    assert shown.exit_code == 0
    assert all((q.stem in shown.output) == (q.item in (JZ, HZ)) for q in bank)
    assert _kb(meeting, "dept", "questions", "Q4", user="zhangsan").exit_code == 1

    proposed = _kb(meeting, "dept", "propose", "Q4", "--kind", "multiple", "--item", HZ, "--stem", "护照补发需要哪些材料？",
                   "--option", "报失证明", "--option", "户口簿", "--option", "结婚证", "--answer", "ab",
                   "--explanation", "先报失，再持报失证明和户口簿申请。", user=POLICE)
    assert proposed.exit_code == 0, proposed.output
    added = QuizBank(records).questions(_user(meeting, "zuzhang"), "Q4")[-1]
    assert (added.item, added.answer, added.kind) == (HZ, ("A", "B"), "multiple")
    outside = _kb(meeting, "dept", "propose", "Q4", "--kind", "judge", "--item", JZ, "--stem", "居住证五年有效。",
                  "--answer", "正确", user=FUND)
    assert outside.exit_code == 1 and "不归你负责" in outside.output
    edited = _kb(meeting, "dept", "edit", "Q4", str(len(bank) + 1), "--stem", "补发护照要带什么？", "--option", "报失证明",
                 "--option", "户口簿", "--option", "结婚证", "--answer", "AB", user=POLICE)
    assert edited.exit_code == 0 and "补发护照要带什么？" in edited.output

    composed = _kb(meeting, "dept", "compose", "Q4", "--title", "例会测试", "--name", "P1", "--multiple", "1",
                   "--single", "1", user=POLICE)
    assert composed.exit_code == 0, composed.output
    assert all(q.question.item in (JZ, HZ) for q in Papers(records).keyed("P1").questions)
    assert "未审定" in _kb(meeting, "dept", "papers", user=POLICE).output
    approved = _kb(meeting, "dept", "approve", "P1", user=POLICE)
    assert approved.exit_code == 0 and "2 道题" in approved.output
    assert "市公安局已审定 2 题" in _kb(meeting, "quiz", "papers", user="zuzhang").output
    assert _kb(meeting, "dept", "approve", "P1", user=FUND).exit_code == 1


def test_kb_dept_grades_and_reports_short_answers_of_its_matters(meeting):
    records = meeting.kb.records
    _propose_short(meeting)
    Department(records).compose(_user(meeting, POLICE), "Q4", "例会测试", {"single": 1, "short": 1}, paper_id="P1")
    Papers(records).assign(_user(meeting, "zuzhang"), "P1", "group", ["一组", "二组"])
    taken = _take(meeting, "s1", "P1", wrong_short=True)
    short = next(a for a in taken.answers if a.question.question.kind == "short")
    listed = _kb(meeting, "dept", "to-grade", "--paper", "P1", user=POLICE)
    assert listed.exit_code == 0 and f"答卷 {taken.attempt.id} 第 {short.question.number} 题" in listed.output
    assert "居住证不用带材料" in listed.output and "赵一" not in listed.output and "s1" not in listed.output
    graded = _kb(meeting, "dept", "grade", str(taken.attempt.id), str(short.question.number), "3", "--note", "材料不全",
                 user=POLICE)
    assert graded.exit_code == 0 and "0 分（自动）→ 3 分" in graded.output
    assert Attempts(records).result(_user(meeting, "s1"), taken.attempt.id).attempt.score == taken.attempt.score + 3
    foreign = _kb(meeting, "dept", "grade", str(taken.attempt.id), str(short.question.number), "3", user=FUND)
    assert foreign.exit_code == 1 and "不是你负责事项的简答题" in foreign.output
    report = _kb(meeting, "dept", "results", "--paper", "P1", user=POLICE)
    assert report.exit_code == 0 and f"赵一 {taken.attempt.score + 3:g}/" in report.output
    assert "一组" not in report.output and "s1" not in report.output
