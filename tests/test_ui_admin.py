"""The 管理 page's sections through their real handlers: 账号管理 (add, edit, reset, disable/enable,
the last admin kept), 审计日志 (filters, newest first, 更多), 统计 (numbers from a real question log,
kb.statistics itself), every handler refused to the roles without the permission, also over HTTP."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import gradio as gr
import pytest
from fixtures import PASSWORD, as_user, drop_collection, make_xlsx, open_kb, serving, unique_collection, web_context

from ingest import ingest_paths
from kb.asklog import log_question, questions
from kb.records import Records
from kb.scopes import Scopes
from kb.statistics import OUTCOMES, entries_per_item, published_per_month, questions_per_day, summary
from kb.users import Users
from web import ask
from web.admin import SECTIONS
from web.admin import accounts as section
from web.admin import audit, statistics
from web.app import check_login

HEADERS = ["编号", "问题", "答复", "事项", "部门", "日期"]
ROWS = [
    ["FAQ-QZ", "居住证签注怎么办理？", "到居住地派出所户籍窗口办理签注，需本人到场，当场办结。", "居住证", "公安局", "2026-09-01"],
    ["FAQ-QZ2", "居住证丢了怎么补办？", "到居住地派出所申请补领，三个工作日后领取。", "居住证", "公安局", "2026-09-02"],
    ["FAQ-HZ", "第一次办护照需要带什么材料？", "携带本人身份证到出入境接待大厅现场采集照片和指纹。", "护照", "出入境", "2026-10-01"],
    ["FAQ-SB", "社保卡丢了怎么补办？", "到合作银行网点挂失并补办社会保障卡。", "", "人社局", "2026-10-02"],
]
NEW_PASSWORD = "initial-pass-1"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("admin")
    kb = open_kb(root / "data", embedder, unique_collection())
    ingest_paths(kb, [make_xlsx(root / "常见问题.xlsx", ROWS, HEADERS)])
    yield web_context(kb, root / "data")
    drop_collection(kb)
    kb.close()


def rows_by_name(ctx):
    return {row[0]: row for row in section.listing(ctx, as_user("admin"))}


def test_the_sections_are_registered_in_order():
    titles = [s.TITLE for s in SECTIONS]
    assert titles.index("账号管理") < titles.index("审计日志") < titles.index("统计")


def test_admin_adds_edits_resets_disables_and_enables_an_account(ctx):
    admin = as_user("admin")
    listed = rows_by_name(ctx)
    assert listed["zhangsan"][1:5] == ["张三", "窗口人员", "", "在用"] and listed["admin"][2] == "管理员"
    assert section.add_account(ctx, " wangwu ", "王五", "reviewer", "综合二组", NEW_PASSWORD, admin).startswith(
        "已新增账号 wangwu：王五（组长/培训师）")
    assert rows_by_name(ctx)["wangwu"][1:5] == ["王五", "组长/培训师", "综合二组", "在用"]
    assert check_login(ctx, "wangwu", NEW_PASSWORD)
    assert section.details(ctx, "wangwu", admin) == ("王五", "reviewer", "综合二组", "当前状态：在用", "")

    assert "王老五（窗口人员）" in section.edit_account(ctx, "wangwu", "王老五", "staff", "综合一组", admin)
    assert rows_by_name(ctx)["wangwu"][1:4] == ["王老五", "窗口人员", "综合一组"]
    assert "没有变化" in section.edit_account(ctx, "wangwu", "王老五", "staff", "综合一组", admin)
    with pytest.raises(gr.Error, match="只有审批部门账号"):
        section.edit_account(ctx, "wangwu", "王老五", "staff", "综合一组", admin, "居住证")
    with pytest.raises(gr.Error, match="请在“负责事项”中填写"):
        section.edit_account(ctx, "wangwu", "市公安局", "department", "", admin)
    made = section.edit_account(ctx, "wangwu", "市公安局", "department", "", admin, "居住证、普通护照 居住证")
    assert made.endswith("负责事项：居住证、普通护照。")
    assert section.details(ctx, "wangwu", admin)[1:] == ("department", "", "当前状态：在用", "居住证、普通护照")
    assert Scopes(ctx.kb.records).stored("wangwu") == ["居住证", "普通护照"]
    section.edit_account(ctx, "wangwu", "王老五", "staff", "综合一组", admin)

    section.reset_password(ctx, "wangwu", "reset-by-admin-2", admin)
    assert check_login(ctx, "wangwu", "reset-by-admin-2") and not check_login(ctx, "wangwu", NEW_PASSWORD)

    assert "不能再登录" in section.set_active(ctx, "wangwu", False, "调岗", admin)
    assert rows_by_name(ctx)["wangwu"][4] == "已停用"
    assert not check_login(ctx, "wangwu", "reset-by-admin-2")
    with pytest.raises(gr.Error, match="不存在或已停用"):
        ask.ask(ctx, "居住证签注去哪办", "全部", "全部", [], as_user("wangwu"))
    section.set_active(ctx, "wangwu", True, "", admin)
    assert check_login(ctx, "wangwu", "reset-by-admin-2") and rows_by_name(ctx)["wangwu"][4] == "在用"


def test_mistakes_are_shown_as_errors(ctx):
    admin = as_user("admin")
    with pytest.raises(gr.Error, match="最后一个在用的管理员"):
        section.set_active(ctx, "admin", False, "", admin)
    with pytest.raises(gr.Error, match="最后一个在用的管理员"):
        section.edit_account(ctx, "admin", "王主任", "staff", "", admin)
    with pytest.raises(gr.Error, match="已存在"):
        section.add_account(ctx, "zhangsan", "张三", "staff", "", NEW_PASSWORD, admin)
    with pytest.raises(gr.Error, match="至少需要 8 个字符"):
        section.add_account(ctx, "zhaoliu", "赵六", "staff", "", "short", admin)
    with pytest.raises(gr.Error, match="请先在“选择账号”中选一个账号"):
        section.reset_password(ctx, None, NEW_PASSWORD, admin)
    assert "zhaoliu" not in rows_by_name(ctx) and check_login(ctx, "admin", PASSWORD)


ADMIN_ONLY = [
    lambda ctx, r: section.listing(ctx, r),
    lambda ctx, r: section.details(ctx, "zhangsan", r),
    lambda ctx, r: section.add_account(ctx, "intruder", "入侵者", "admin", "", NEW_PASSWORD, r),
    lambda ctx, r: section.edit_account(ctx, "admin", "王主任", "staff", "", r),
    lambda ctx, r: section.reset_password(ctx, "admin", "taken-over-1", r),
    lambda ctx, r: section.set_active(ctx, "admin", False, "", r),
    lambda ctx, r: statistics.tables(ctx, 30, r),
]


@pytest.mark.parametrize("name", ["zhangsan", "zuzhang"])
@pytest.mark.parametrize("handler", ADMIN_ONLY, ids=["listing", "details", "add", "edit", "reset", "disable", "stats"])
def test_the_admin_handlers_refuse_staff_and_reviewers(ctx, handler, name):
    with pytest.raises(gr.Error, match="需要管理员账号"):
        handler(ctx, as_user(name))
    with pytest.raises(gr.Error, match="请先登录"):
        handler(ctx, as_user(None))
    assert check_login(ctx, "admin", PASSWORD) and "intruder" not in rows_by_name(ctx)


def test_the_audit_log_is_for_reviewers_and_admins(ctx):
    with pytest.raises(gr.Error, match="查看审计日志"):
        audit.search(ctx, "", "", "", "", "", 10, as_user("zhangsan"))
    rows, _ = audit.search(ctx, "", "", "", "", "", 10, as_user("zuzhang"))
    assert rows


def test_the_audit_log_filters_newest_first_with_more(ctx):
    admin = as_user("admin")
    for name in ("audit1", "audit2", "audit3"):
        section.add_account(ctx, name, f"审计{name[-1]}", "staff", "", NEW_PASSWORD, admin)
    section.edit_account(ctx, "audit2", "审计二", "reviewer", "二组", admin)
    section.set_active(ctx, "audit3", False, "离职", admin)

    rows, shown = audit.search(ctx, "admin", "user_add", "", "", "", 2, admin)
    assert [r[3] for r in rows] == ["user:audit3", "user:audit2"] and "更多" in shown
    assert all(r[1] == "admin" and r[2] == "新增用户" for r in rows)
    rows, shown = audit.search(ctx, "admin", "user_add", "", "", "", 100, admin)
    assert rows[-1][3] == "user:zuzhang" and "已全部显示" in shown
    assert [r[0] for r in rows] == sorted((r[0] for r in rows), reverse=True)

    edited, _ = audit.search(ctx, "", "user_edit", "user:audit2", "", "", 10, admin)
    assert len(edited) == 1 and edited[0][2] == "修改账号"
    assert edited[0][4] == "角色：窗口人员；姓名：审计2" and edited[0][5] == "角色：组长/培训师；姓名：审计二；组：二组"
    stopped, _ = audit.search(ctx, "", "user_disable", "user:audit3", "", "", 10, admin)
    assert [(r[3], r[4], r[5], r[6]) for r in stopped] == [("user:audit3", "在用：是", "在用：否", "离职")]

    today, tomorrow = date.today(), date.today() + timedelta(days=1)
    assert audit.search(ctx, "", "", "user:audit3", today.strftime("%Y年%m月%d日"), today.isoformat(), 10,
                        admin)[0][0] == stopped[0]
    assert audit.search(ctx, "", "", "", tomorrow.isoformat(), "", 10, admin) == ([], "没有符合条件的记录。")
    assert audit.search(ctx, "nobody", "", "", "", "", 10, admin)[0] == []
    with pytest.raises(gr.Error, match="起始日期“昨天”无法识别"):
        audit.search(ctx, "", "", "", "昨天", "", 10, admin)
    labels = dict((key, label) for label, key in audit.choices(ctx))
    assert labels["user_disable"] == "停用账号" and labels["approve"] == "审核发布" and labels[""] == "全部"


def test_statistics_count_the_real_question_log(ctx):
    asked_now = ["居住证签注去哪办", "第一次办护照带啥材料", "居住证丢了怎么补办", "驾驶证到期怎么换", "公积金贷款利率是多少"]
    for question in asked_now:
        ask.ask(ctx, question, "全部", "全部", [], as_user("zhangsan"))
    conn = ctx.kb.records.conn
    today = date.today().isoformat()
    logged = questions(conn, since=today, until=today)
    outcomes = Counter(q.status for q in logged)
    assert len(logged) >= len(asked_now) and outcomes["answered"] >= 2 and outcomes["no_answer"] >= 1

    shown, by_item, by_month, asked, shares = statistics.tables(ctx, 7, as_user("admin"))
    assert f"**最近 7 天提问 {len(logged)} 次**" in shown and "**已发布条目 4 条**" in shown
    answered = outcomes["answered"]
    assert f"已回答 {answered} 次（{answered / len(logged):.0%}）" in shown
    assert by_item.values.tolist() == [["居住证", 2], [statistics.NO_ITEM, 1], ["护照", 1]]
    assert by_month.values.tolist() == [[today[:7], 4]]
    week = [(date.today() - timedelta(days=6 - i)).isoformat() for i in range(7)]
    assert asked["日期"].dt.strftime("%Y-%m-%d").tolist() == week
    assert asked["提问数"].tolist() == [0] * 6 + [len(logged)]
    on_today = shares["日期"] == today
    todays = shares[on_today].set_index("结果")["占比（%）"]
    assert todays.to_dict() == {OUTCOMES[k]: round(100 * outcomes[k] / len(logged), 1) for k in OUTCOMES}
    assert shares[~on_today]["占比（%）"].eq(0).all()
    assert "**全部提问" in statistics.tables(ctx, 0, as_user("admin"))[0]
    with pytest.raises(gr.Error, match="应为天数"):
        statistics.tables(ctx, "一周", as_user("admin"))


def test_statistics_of_a_log_spread_over_days(tmp_path):
    records = Records(tmp_path / "records.sqlite3")
    conn = records.conn
    assert questions_per_day(conn) == [] and summary(conn).share("answered") == 0
    for at, status in (("2026-11-01T09:00:00", "answered"), ("2026-11-01T10:00:00", "no_answer"),
                       ("2026-11-03T11:00:00", "ambiguous"), ("2026-11-03T12:00:00", "answered"),
                       ("2026-10-20T08:00:00", "answered")):
        log_question(conn, "zhang", "问题", status, 0.5, at=at)
    days = questions_per_day(conn, since="2026-11-01")
    assert [(d.day, d.total, d.outcomes["answered"]) for d in days] == [
        ("2026-11-01", 2, 1), ("2026-11-02", 0, 0), ("2026-11-03", 2, 1)]
    assert [d.day for d in questions_per_day(conn, until="2026-10-20")] == ["2026-10-20"]
    assert len(questions_per_day(conn)) == 15
    numbers = summary(conn, "2026-11-01", "2026-11-30")
    assert (numbers.questions, numbers.outcomes) == (4, {"answered": 2, "ambiguous": 1, "no_answer": 1})
    assert numbers.share("no_answer") == 0.25
    assert entries_per_item(conn) == [] and published_per_month(conn) == []
    records.close()


@pytest.fixture(scope="module")
def served(ctx):
    with serving(ctx) as url:
        yield url


def test_staff_calling_an_admin_action_over_http_is_refused(served, ctx):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    staff = Client(served, auth=("zhangsan", PASSWORD), verbose=False)
    with pytest.raises(AppError, match="需要管理员账号"):
        staff.predict("intruder", "入侵者", "admin", "", NEW_PASSWORD, api_name="/add_account")
    with pytest.raises(AppError, match="需要管理员账号"):
        staff.predict(30, api_name="/statistics")
    assert "intruder" not in rows_by_name(ctx)
    admin = Client(served, auth=("admin", PASSWORD), verbose=False)
    admin.predict("viahttp", "接口", "staff", "", NEW_PASSWORD, api_name="/add_account")
    assert rows_by_name(ctx)["viahttp"][1:3] == ["接口", "窗口人员"]
    assert Users(ctx.kb.records).get("viahttp").role == "staff"
