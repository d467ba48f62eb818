"""The daily digest on a real knowledge base: a reviewed day of cases, 口径 changes and an import."""

from __future__ import annotations

from datetime import date, timedelta

import docx
import pytest
from fixtures import FAST_HASHER, make_xlsx

from bot.digest import (
    NO_CHANGES,
    build_digest,
    digest_docx,
    escape_markdown,
    to_markdown,
)
from ingest.pipeline import ingest_paths
from kb.errors import PermissionDenied
from kb.types import Entry
from kb.users import LOCAL_ADMIN, Users
from kb.workflow import Workflow

TODAY = date.today().isoformat()
TOMORROW = (date.today() + timedelta(days=1)).isoformat()
YESTERDAY = (date.today() - timedelta(days=1)).isoformat()
SCRIPT = "<script>alert(1)</script>"

# Cheap argon2 parameters: password hashing is not what is under test here.


@pytest.fixture
def day(kb, tmp_path):
    """A reviewed day; returns (kb, people, ids). Seven submissions plus one two-entry import."""
    users = Users(kb.records, FAST_HASHER)
    admin = users.add(LOCAL_ADMIN, "admin", "admin-secret-42", "管理员", "王主任")
    reviewer = users.add(admin, "lisi", "reviewer-pass-1", "组长", "李四", "综合窗口一组")
    staff = users.add(admin, "zhangsan", "staff-pass-123", "窗口人员", "张三", "综合窗口二组")
    sheet = make_xlsx(tmp_path / "参考口径.xlsx", [
        ["Z1", "社保卡丢了怎么补办？", "到社保窗口挂失后补办，需本人身份证。", "社保卡"],
        ["Z2", "新生儿怎么办理医保参保？", "出生后三个月内凭出生医学证明办理参保。", "城乡居民医保"],
    ], ["编号", "问题", "答复", "事项"])
    assert ingest_paths(kb, [sheet], actor=admin).count("added") == 1
    flow = Workflow(kb)

    def submit(question, answer, revises="", **fields):
        return flow.submit(staff, Entry("", question, answer, **fields), revises=revises).entry_id

    old = submit("居住证过期三个月还能直接签注吗？", "可以直接签注，无需重新申领。", item="居住证签注",
                 basis="市公安局〔2025〕12号通知", counter="综合窗口二组")
    flow.approve(reviewer, old, keep_both=True)
    new = submit("居住证过期三个月后签注需要什么材料？", "过期超过一个月的须重新申领居住证，签注不再受理。",
                 item="居住证签注", basis="市公安局〔2026〕3号通知", supersedes=old, effective_from=TOMORROW)
    flow.approve(reviewer, new, keep_both=True)
    markup = submit(f"登记表里写了{SCRIPT}怎么处理？", "**加粗**和 [链接](http://example.com) 照原样保存。\n# 不是标题",
                    expire_on=TOMORROW)
    flow.approve(reviewer, markup, keep_both=True)
    rejected = submit("不动产登记能不能由亲戚代办？", "可以。")
    flow.reject(reviewer, rejected, "答复缺少委托书要求，请补充后重新提交。")
    pending = submit("营业执照遗失后怎么补领？", "登报声明作废后到市场监管窗口申请补领。", item="营业执照")
    revision = submit("社保卡丢了怎么补办？", "可在线上挂失补办，新卡五个工作日内寄到家。", revises="Z1",
                      item="社保卡", basis="人社局窗口指引")
    flow.approve(reviewer, revision)
    flow.rollback(reviewer, "Z1", 1, "线上补办尚未开通，恢复原口径。")
    duplicate = submit("刚出生的孩子怎么参加医保？", "出生后三个月内办理参保，可在线上办理。", item="城乡居民医保")
    flow.merge(reviewer, duplicate, into="Z2", keep="new")
    deleted = submit("公积金贷款怎么提前还款？", "到贷款银行预约提前还款。", item="公积金")
    flow.approve(reviewer, deleted, keep_both=True)
    flow.delete(admin, deleted, "内容有误")
    people = {"admin": admin, "reviewer": reviewer, "staff": staff}
    ids = {"old": old, "new": new, "markup": markup, "rejected": rejected, "pending": pending,
           "revision": revision, "duplicate": duplicate, "deleted": deleted}
    return kb, people, ids


def test_sections_list_exactly_the_days_entries(day):
    kb, people, ids = day
    digest = build_digest(kb, TODAY, people["reviewer"])
    assert digest.day == TODAY
    assert set(digest.ids("new")) == {ids["old"], ids["markup"]}
    assert digest.ids("replaced") == (ids["new"],)
    assert set(digest.ids("revised")) == {"Z1", "Z2"}
    assert digest.ids("effective") == () and digest.ids("expired") == ()
    assert digest.ids("withdrawn") == (ids["deleted"],) and digest.ids("restored") == ()
    listed = [i for s in digest.sections for i in s.ids]
    assert len(listed) == len(set(listed)) == digest.total == 6
    for absent in ("rejected", "pending", "revision", "duplicate"):
        assert ids[absent] not in listed


def test_items_carry_current_text_and_replacement(day):
    kb, people, ids = day
    digest = build_digest(kb, TODAY, people["admin"])
    groups = {g.item: g for g in digest.section("new").groups}
    assert list(groups) == ["居住证签注", "其他"]
    old = groups["居住证签注"].entries[0]
    assert (old.basis, old.counter, old.submitter) == ("市公安局〔2025〕12号通知", "综合窗口二组", "张三（窗口人员）")
    replaced = digest.section("replaced").groups[0].entries[0]
    assert (replaced.replaces_id, replaced.replaces_question) == (ids["old"], "居住证过期三个月还能直接签注吗？")
    assert replaced.effective_from == TOMORROW
    revised = {e.entry_id: e for g in digest.section("revised").groups for e in g.entries}
    assert revised["Z1"].actions == ("审核修订", "回滚") and revised["Z1"].changes == ()
    assert revised["Z1"].answer == "到社保窗口挂失后补办，需本人身份证。"
    assert revised["Z2"].actions == ("合并重复提交",)
    changes = {c.field: c for c in revised["Z2"].changes}
    assert changes["answer"].before == "出生后三个月内凭出生医学证明办理参保。"
    assert changes["answer"].after == revised["Z2"].answer == "出生后三个月内办理参保，可在线上办理。"


def test_effective_and_expiring_entries_on_their_day(day):
    kb, people, ids = day
    digest = build_digest(kb, TOMORROW, people["reviewer"])
    assert digest.ids("effective") == (ids["new"],)
    assert digest.ids("expired") == (ids["markup"],)
    assert digest.total == 2
    text = to_markdown(digest)
    assert f"自 {TOMORROW} 起施行" in text and f"有效至 {TOMORROW}（含当日），次日起失效" in text


def test_staff_may_not_build_a_digest(day):
    kb, people, _ = day
    with pytest.raises(PermissionDenied, match="生成汇总"):
        build_digest(kb, TODAY, people["staff"])


def test_markdown_lists_entries_and_escapes_markup(day):
    kb, people, ids = day
    text = to_markdown(build_digest(kb, TODAY, people["reviewer"]))
    assert text.startswith(f"# {TODAY} 窗口疑难问题与业务口径每日汇总\n")
    assert "当日共 6 条：新发布案例 2 条，口径变更 4 条" in text
    for entry_id in (ids["old"], ids["new"], ids["markup"], "Z1", "Z2", ids["deleted"]):
        assert f"**#{entry_id} " in text
    assert "居住证过期三个月后签注需要什么材料？" in text
    assert f"取代：#{ids['old']} 居住证过期三个月还能直接签注吗？" in text
    assert f"将于 {TOMORROW} 起施行" in text
    assert "原答复：出生后三个月内凭出生医学证明办理参保。" in text
    assert SCRIPT not in text and "**加粗**" not in text and "\n# 不是标题" not in text
    assert "\\<script\\>alert(1)\\</script\\>" in text and "\\*\\*加粗\\*\\*" in text
    assert "\n  \\# 不是标题\n" in text


def test_markdown_renders_submissions_literally(day):
    markdown_it = pytest.importorskip("markdown_it")
    kb, people, _ = day
    html = markdown_it.MarkdownIt().render(to_markdown(build_digest(kb, TODAY, people["reviewer"])))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "**加粗**" in html and "<a href" not in html and "[链接](http://example.com)" in html
    assert "<h1>不是标题</h1>" not in html and "# 不是标题" in html


def test_escape_markdown():
    assert escape_markdown("a_b *c* `d` [e](f) <g> & h|i ~j~") == \
        "a\\_b \\*c\\* \\`d\\` \\[e\\](f) \\<g\\> \\& h\\|i \\~j\\~"
    assert escape_markdown("# 标题\n- 列表\n1. 编号\n2026-11-28 #1") == "\\# 标题\n\\- 列表\n1\\. 编号\n2026-11-28 #1"
    assert escape_markdown("#K1 问 #\n# 答", inline=True) == "#K1 问 \\#\n\\# 答"


def test_docx_holds_the_same_entries(day, tmp_path):
    kb, people, ids = day
    digest = build_digest(kb, TODAY, people["reviewer"])
    path = digest_docx(digest, tmp_path / "out" / "汇总.docx")
    document = docx.Document(str(path))
    paragraphs = [p.text for p in document.paragraphs]
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert paragraphs[0] == digest.title
    assert any("新发布案例" in p for p in paragraphs) and any("口径变更" in p for p in paragraphs)
    for entry_id in (ids["old"], ids["new"], ids["markup"], "Z1", "Z2", ids["deleted"]):
        assert any(p.startswith(f"#{entry_id} ") for p in paragraphs)
    for absent in ("rejected", "pending"):
        assert not any(ids[absent] in p for p in paragraphs)
    assert f"登记表里写了{SCRIPT}怎么处理？" in " ".join(paragraphs)
    assert "**加粗**和 [链接](http://example.com) 照原样保存。\n# 不是标题" in cells
    assert "可以直接签注，无需重新申领。" in cells and "市公安局〔2025〕12号通知" in cells


def test_a_quiet_day_says_so(day, tmp_path):
    kb, people, _ = day
    digest = build_digest(kb, YESTERDAY, people["reviewer"])
    assert digest.total == 0 and all(s.groups == () for s in digest.sections)
    text = to_markdown(digest)
    assert NO_CHANGES in text and "一、" not in text
    document = docx.Document(str(digest_docx(digest, tmp_path / "空.docx")))
    assert NO_CHANGES in [p.text for p in document.paragraphs]


def test_imports_are_not_the_days_cases(kb, tmp_path):
    sheet = make_xlsx(tmp_path / "导入.xlsx", [["户口迁入需要什么材料？", "户口簿和迁移证。", "户籍"]],
                      ["问题", "答复", "事项"])
    ingest_paths(kb, [sheet])
    digest = build_digest(kb, TODAY, LOCAL_ADMIN)
    assert digest.total == 0 and NO_CHANGES in to_markdown(digest)


def test_withdrawals_and_restorations_say_who_and_why(day, tmp_path):
    kb, people, ids = day
    flow = Workflow(kb)
    flow.delete(people["admin"], "Z1", "社保卡补办改由银行网点办理")
    digest = build_digest(kb, TODAY, people["reviewer"])
    assert set(digest.ids("withdrawn")) == {ids["deleted"], "Z1"} and "Z1" not in digest.ids("revised")
    items = {e.entry_id: e for g in digest.section("withdrawn").groups for e in g.entries}
    assert (items["Z1"].reason, items["Z1"].actor) == ("社保卡补办改由银行网点办理", "王主任（管理员）")
    assert (items[ids["deleted"]].reason, items[ids["deleted"]].answer) == ("内容有误", "到贷款银行预约提前还款。")
    text = to_markdown(digest)
    assert "口径撤回（删除）（2 条）" in text and "理由：社保卡补办改由银行网点办理" in text
    assert "操作人：王主任（管理员）" in text and "不再作为答复依据" in text

    flow.restore(people["admin"], "Z1", "银行网点尚未开通，恢复原口径")
    digest = build_digest(kb, TODAY, people["reviewer"])
    assert digest.ids("withdrawn") == (ids["deleted"],) and digest.ids("restored") == ("Z1",)
    assert "口径恢复（1 条）" in to_markdown(digest)
    document = docx.Document(str(digest_docx(digest, tmp_path / "恢复.docx")))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert "银行网点尚未开通，恢复原口径" in cells and "内容有误" in cells
    assert build_digest(kb, TOMORROW, people["reviewer"]).ids("withdrawn") == ()
