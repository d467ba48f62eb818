"""The daily digest's 办不成事 part on a real knowledge base: cases open and past their deadline at the
end of the day (oldest first, with the days overdue), cases falling due that day or the next working
day, closed ones left out, details only for accounts that work the registry, and the part in the
Markdown, the Word file, the web page and `kb digest`."""

from __future__ import annotations

import dataclasses

import docx
import pytest
from click.testing import CliRunner
from fixtures import CHROMA_URL, PASSWORD, Clock, as_user

from bot.digest import build_digest, digest_docx, to_markdown
from bot.digest_escalations import escalation_digest
from cli import cli
from kb.escalations import Escalations
from kb.users import Users
from web import digest as digest_page
from web.downloads import Downloads

FRIDAY, THURSDAY = "2026-11-06", "2026-11-05"


@pytest.fixture
def registry(ctx):
    """Cases registered around Friday 2026-11-06 (deadlines three working days on); returns
    (ctx, numbers by name)."""
    clock = Clock("")
    cases = Escalations(ctx.kb.records, clock)
    staff, lead = Users(ctx.kb.records).get("zhangsan"), Users(ctx.kb.records).get("zuzhang")

    def register(name, at, **fields):
        clock.at = at
        return cases.escalate(staff, f"{name}：外省退休人员异地就医备案后能否在本市药店刷卡", **fields).number

    numbers = {
        "oldest": register("最早", "2026-10-28T09:00:00", situation="电话13812345678，社保在外省", item="异地就医"),
        "worked": register("协调中", "2026-10-30T09:00:00", item="居住证"),
        "closed": register("已办结", "2026-10-29T09:00:00"),
        "later": register("后来办结", "2026-10-29T10:00:00"),
        "today": register("今天到期", "2026-11-03T09:00:00"),
        "monday": register("周一到期", "2026-11-04T09:00:00"),
        "far": register("还早", "2026-11-05T09:00:00"),
        "after": register("之后登记", "2026-11-09T09:00:00"),
    }
    clock.at = "2026-11-02T15:00:00"
    cases.update(lead, numbers["worked"], "协调中", "已联系公安局", "市公安局")
    clock.at = "2026-11-04T10:00:00"
    cases.unsolvable(lead, numbers["closed"], "不属于本中心受理范围，已告知向信访部门反映。")
    clock.at = "2026-11-10T10:00:00"
    cases.unsolvable(lead, numbers["later"], "政策不允许，已告知可回参保地报销。")
    return ctx, numbers


def test_overdue_open_cases_are_listed_oldest_first_with_days_overdue(registry):
    ctx, numbers = registry
    part = build_digest(ctx.kb, FRIDAY, Users(ctx.kb.records).get("zuzhang")).escalations
    assert part.detailed
    assert [c.number for c in part.overdue] == [numbers["oldest"], numbers["later"], numbers["worked"]]
    oldest, later, worked = part.overdue
    assert (oldest.registered, oldest.item, oldest.due, oldest.days_overdue) == ("2026-10-28", "异地就医", "2026-11-02", 4)
    assert oldest.question.startswith("最早：") and oldest.owner == "办不成事窗口" and oldest.closed == ""
    assert "[手机号已隐去]" in oldest.situation and "13812345678" not in oldest.situation
    assert (worked.due, worked.days_overdue, worked.owner, worked.department) == (
        "2026-11-04", 2, "李组长（组长/培训师）", "市公安局")
    assert later.closed == "2026-11-10 办结（无法解决）"
    assert numbers["closed"] not in [c.number for c in part.overdue + part.due_soon]


def test_cases_due_today_or_the_next_working_day_are_due_soon(registry):
    ctx, numbers = registry
    lead = Users(ctx.kb.records).get("zuzhang")
    friday = build_digest(ctx.kb, FRIDAY, lead).escalations
    assert friday.next_working_day == "2026-11-09"
    assert [(c.number, c.due) for c in friday.due_soon] == [(numbers["today"], FRIDAY),
                                                           (numbers["monday"], "2026-11-09")]
    thursday = build_digest(ctx.kb, THURSDAY, lead).escalations
    assert [(c.number, c.due) for c in thursday.due_soon] == [(numbers["today"], FRIDAY)]
    assert [c.number for c in thursday.overdue] == [numbers["oldest"], numbers["later"], numbers["worked"]]
    assert [c.days_overdue for c in thursday.overdue] == [3, 2, 1]


def test_markdown_and_word_show_the_sections_and_the_counts(registry, tmp_path):
    ctx, numbers = registry
    digest = build_digest(ctx.kb, FRIDAY, Users(ctx.kb.records).get("zuzhang"))
    text = to_markdown(digest)
    assert "办不成事：超期未办结 3 件，即将到期 2 件。" in text
    assert "## 超期未办结的办不成事（3 件）" in text
    assert "## 即将到期的办不成事（2 件，2026-11-06 或下一个工作日 2026-11-09 到期）" in text
    overdue = text[text.index("超期未办结的办不成事（"):text.index("即将到期的办不成事（")]
    assert overdue.index(f"登记编号 {numbers['oldest']}**") < overdue.index(f"登记编号 {numbers['worked']}**")
    assert "- 超期天数：4 天" in overdue and "- 应办结日期：2026-11-02" in overdue and "已办结：" not in text
    assert "- 承办：李组长（组长/培训师）" in overdue and "- 现状：当日未办结，2026-11-10 办结（无法解决）" in overdue
    document = docx.Document(str(digest_docx(digest, tmp_path / "汇总.docx")))
    paragraphs = [p.text for p in document.paragraphs]
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert "超期未办结的办不成事（3 件）" in paragraphs and f"登记编号 {numbers['monday']}" in paragraphs
    assert "4 天" in cells and "2026-11-09" in cells


def test_accounts_without_the_registry_permission_see_counts_only(registry):
    ctx, _ = registry
    users = Users(ctx.kb.records)
    part = escalation_digest(ctx.kb.records, FRIDAY, users.get("zhangsan"))
    assert (part.detailed, part.overdue_count, part.due_soon_count, part.overdue, part.due_soon) == (
        False, 3, 2, (), ())
    digest = dataclasses.replace(build_digest(ctx.kb, FRIDAY, users.get("zuzhang")), escalations=part)
    text = to_markdown(digest)
    assert "超期未办结的办不成事（3 件）" in text and "即将到期的办不成事（2 件" in text
    assert "案件详情仅限有“处理办不成事”权限的账号" in text
    assert "登记编号" not in text and "异地就医备案" not in text


def test_a_day_without_due_cases_leaves_the_part_out(registry):
    ctx, _ = registry
    digest = build_digest(ctx.kb, "2026-10-27", Users(ctx.kb.records).get("zuzhang"))
    assert digest.escalations.empty and "办不成事" not in to_markdown(digest)


def test_the_web_page_and_kb_digest_show_the_section(registry, tmp_path):
    ctx, numbers = registry
    markdown, _, _ = digest_page.make_digest(ctx, FRIDAY, as_user("zuzhang"), Downloads("kb-digest-esc-test-"))
    assert "超期未办结的办不成事（3 件）" in markdown and f"登记编号 {numbers['oldest']}" in markdown
    options = ["--data-dir", str(ctx.settings.data_dir), "--collection", ctx.kb.vectors.name]
    if CHROMA_URL:
        options += ["--chroma-url", CHROMA_URL]
    result = CliRunner().invoke(cli, ["digest", "--date", FRIDAY, "--out", str(tmp_path / "out"), *options],
                                env={"KB_USER": "zuzhang", "KB_PASSWORD": PASSWORD})
    assert result.exit_code == 0, result.output
    assert "超期未办结的办不成事（3 件）" in result.output and "办不成事：超期未办结 3 件，即将到期 2 件。" in result.output
    assert "- 超期天数：4 天" in result.output
    saved = (tmp_path / "out" / f"每日汇总-{FRIDAY}.md").read_text(encoding="utf-8")
    assert "即将到期的办不成事（2 件" in saved
