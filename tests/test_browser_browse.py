"""The 知识库 page in a real browser (Debian's chromium via Playwright, 1366×768): a reviewer lists,
filters by 事项, pages, opens an entry's versions and rolls back with a reason, then opens a document
and reads its passages; staff see published knowledge without the history. Screenshots go to
``test-screenshots/`` (look at them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium (run scripts/system_deps.sh to install Debian's chromium)",
                allow_module_level=True)

from browsing import browser, expect_tabs, log_in, page  # noqa: E402,F401
from fixtures import PASSWORD, drop_collection, serving  # noqa: E402
from playwright.sync_api import expect  # noqa: E402
from test_catalog import DOC_TITLE, DRAFT_Q, ROWS, build_library  # noqa: E402

from kb.catalog import Catalog  # noqa: E402
from kb.types import Filters  # noqa: E402


@pytest.fixture(scope="module")
def library(tmp_path_factory, embedder):
    found = build_library(tmp_path_factory.mktemp("browse"), embedder)
    yield found
    drop_collection(found.ctx.kb)
    found.ctx.kb.close()


@pytest.fixture(scope="module")
def url(library):
    with serving(library.ctx) as served:
        yield served


def open_tab(page):
    page.get_by_role("tab", name="知识库", exact=True).click()
    panel = page.get_by_role("tabpanel").filter(has=page.get_by_role("button", name="下一页"))
    expect(panel).to_be_visible()
    return panel


def choose(page, panel, label, option):
    panel.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


def table_cell(panel, text, index=0):
    return panel.get_by_role("grid").nth(index).get_by_role("gridcell", name=text, exact=True).first


def test_a_reviewer_filters_pages_and_rolls_an_entry_back(page, url, library):
    total = Catalog(library.ctx.kb.records).list(drafts=True).total
    log_in(page, url, "zuzhang", PASSWORD)
    expect(page.get_by_text("当前用户：李组长")).to_be_visible()
    panel = open_tab(page)
    expect(panel.get_by_text(f"第 1/2 页，共 {total} 条")).to_be_visible()
    expect(table_cell(panel, DRAFT_Q)).to_be_visible()
    page.shot("2-first-page")
    panel.get_by_role("button", name="下一页").click()
    expect(panel.get_by_text(f"第 2/2 页，共 {total} 条")).to_be_visible()
    page.shot("3-second-page")
    choose(page, panel, "事项", "居住证签注")
    panel.get_by_role("button", name="查询").click()
    same_item = Catalog(library.ctx.kb.records).list(filters=Filters(item="居住证签注"), drafts=True).total
    expect(panel.get_by_text(f"第 1/1 页，共 {same_item} 条")).to_be_visible()
    page.shot("4-filtered")
    table_cell(panel, "QZ-1").click()
    expect(panel.get_by_text("版本历史")).to_be_visible()
    expect(panel.get_by_text("共保存 2 个版本")).to_be_visible()
    page.shot("5-entry-history")
    table_cell(panel, "1", index=1).click()
    expect(panel.get_by_label("回滚到的版本")).to_have_value("1")
    panel.get_by_label("回滚理由（必填）").fill("新口径未经批准，恢复原口径")
    panel.get_by_role("button", name="回滚到此版本").click()
    expect(page.get_by_text("已将 QZ-1 回滚到第 1 版的内容，发布为第 3 版。")).to_be_visible()
    expect(panel.get_by_text("共保存 3 个版本")).to_be_visible()
    expect(panel.get_by_role("gridcell", name="新口径未经批准，恢复原口径", exact=True)).to_be_visible()
    expect(panel.get_by_role("grid", name="操作记录").get_by_role("gridcell", name="回滚", exact=True)).to_be_visible()
    expect(panel.locator(".prose").get_by_text(ROWS[2][2])).to_be_visible()
    page.shot("6-rolled-back")
    assert library.ctx.kb.records.entry("QZ-1").answer == ROWS[2][2]
    choose(page, panel, "事项", "全部")
    choose(page, panel, "类型", "文档")
    panel.get_by_role("button", name="查询").click()
    expect(panel.get_by_text("第 1/1 页，共 1 条")).to_be_visible()
    table_cell(panel, DOC_TITLE).click()
    expect(panel.get_by_text("文档段落（按原文顺序）")).to_be_visible()
    expect(panel.get_by_text(re.compile("有关事项通知如下")).first).to_be_visible()
    expect(panel.get_by_text(library.docx.name).first).to_be_visible()
    expect(panel.get_by_text("版本历史")).to_be_hidden()
    page.shot("7-document")
    assert not page.dialogs


def test_staff_browse_published_knowledge_without_history(page, url, library):
    log_in(page, url, "zhangsan", PASSWORD)
    expect(page.get_by_text("当前用户：张三")).to_be_visible()
    expect_tabs(page, ["窗口问答", "每日登记", "办不成事", "学习", "自测", "知识库", "账号"])
    panel = open_tab(page)
    published = Catalog(library.ctx.kb.records).list().total
    expect(panel.get_by_text(f"第 1/1 页，共 {published} 条")).to_be_visible()
    assert DRAFT_Q not in panel.inner_text()
    table_cell(panel, "SB-XSS").click()
    expect(panel.get_by_text("<script>alert(1)</script>请到[点我](javascript:alert(1))办理。")).to_be_visible()
    expect(panel.get_by_text("版本历史")).to_be_hidden()
    assert page.locator("a[href^='javascript']").count() == 0
    page.shot("2-entry")
    assert not page.dialogs, f"a stored script ran: {page.dialogs}"
