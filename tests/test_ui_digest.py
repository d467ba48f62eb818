"""The 每日汇总 page: a day's digest on the page and as .md and .docx downloads, for reviewers only
(through the handler and through the served app's API), unreadable dates refused in Chinese, and
stored markup shown as text."""

from __future__ import annotations

import dataclasses
import threading
from datetime import date
from pathlib import Path

import gradio as gr
import pytest
from docx import Document
from fixtures import as_user, serving, PASSWORD
from markdown_it import MarkdownIt

from kb.types import Entry
from kb.users import Users
from kb.workflow import Workflow
from bot.digest import digest_docx
from web import digest
from web.downloads import KEEP, Downloads

QUESTION, ANSWER = "居住证到期了怎么续签？", "携带身份证和居住证到居住地派出所办理签注，当场办结。"
HOSTILE = "<script>alert(1)</script>社保卡丢了怎么补办？"


def publish(ctx, question, answer, item="居住证") -> str:
    """Submit a case as staff and approve it as the group lead, today."""
    users = Users(ctx.kb.records)
    draft = Workflow(ctx.kb).submit(users.get("zhangsan"), Entry("", question, answer, item=item, counter="一组"))
    return Workflow(ctx.kb).approve(users.get("zuzhang"), draft.entry_id)


@pytest.fixture
def downloads():
    return Downloads("kb-digest-test-")


def docx_text(path: str) -> str:
    document = Document(path)
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_a_reviewer_gets_the_days_digest_on_the_page_and_as_files(ctx, downloads):
    entry_id = publish(ctx, QUESTION, ANSWER)
    today = date.today()
    markdown, md_path, docx_path = digest.make_digest(ctx, today.strftime("%Y年%m月%d日"), as_user("zuzhang"),
                                                      downloads)
    assert today.isoformat() in markdown and "新发布案例" in markdown
    assert QUESTION in markdown and entry_id in markdown
    assert Path(md_path).name == f"每日汇总-{today.isoformat()}.md"
    assert Path(md_path).read_text(encoding="utf-8") == markdown
    assert Path(docx_path).suffix == ".docx" and QUESTION in docx_text(docx_path)


def test_an_empty_date_means_today_and_each_request_gets_its_own_files(ctx, downloads):
    publish(ctx, QUESTION, ANSWER)
    first = digest.make_digest(ctx, "", as_user("admin"), downloads)
    second = digest.make_digest(ctx, "  ", as_user("admin"), downloads)
    assert date.today().isoformat() in first[0] and QUESTION in first[0]
    assert Path(first[1]).parent != Path(second[1]).parent


def test_old_files_of_a_user_are_removed_and_all_stay_in_the_apps_directory(ctx, downloads):
    made = [Path(digest.make_digest(ctx, "", as_user("zuzhang"), downloads)[2]) for _ in range(KEEP + 2)]
    other = Path(digest.make_digest(ctx, "", as_user("admin"), downloads)[2])
    root = made[0].parent.parent.parent
    assert all(root in path.parents for path in [*made, other])
    assert [path.exists() for path in made] == [False, False] + [True] * KEEP
    assert other.exists()


def test_the_lock_is_free_while_the_files_are_written(ctx, downloads, monkeypatch):
    free = []

    def written(found, path):
        probe = threading.Thread(target=lambda: free.append(ctx.lock.acquire(timeout=0) and not ctx.lock.release()))
        probe.start()
        probe.join()
        return digest_docx(found, path)

    monkeypatch.setattr(digest, "digest_docx", written)
    digest.make_digest(ctx, "", as_user("zuzhang"), downloads)
    assert free == [True]


def test_a_quiet_day_says_so(ctx, downloads):
    markdown, _, docx_path = digest.make_digest(ctx, "2026/1/5", as_user("zuzhang"), downloads)
    assert "2026-01-05" in markdown and "当日没有新发布的案例" in markdown
    assert "当日没有新发布的案例" in docx_text(docx_path)


def test_staff_are_refused_and_get_no_files(ctx, downloads, tmp_path, monkeypatch):
    publish(ctx, QUESTION, ANSWER)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temp))
    with pytest.raises(gr.Error, match="无权"):
        digest.make_digest(ctx, "", as_user("zhangsan"), downloads)
    with pytest.raises(gr.Error, match="请先登录"):
        digest.make_digest(ctx, "", gr.Request(username=None), downloads)
    assert list(temp.iterdir()) == []


@pytest.mark.parametrize("bad", ["明天", "2026-02-30", "11/30"])
def test_an_unreadable_date_is_refused_in_chinese(ctx, downloads, bad):
    with pytest.raises(gr.Error, match="日期.*无法识别.*2026年11月3日") as caught:
        digest.make_digest(ctx, bad, as_user("zuzhang"), downloads)
    assert bad in caught.value.message and caught.value.title == "日期有误"


def test_stored_markup_is_shown_as_text(ctx, downloads):
    publish(ctx, HOSTILE, "请到[点我](javascript:alert(1))办理。", item="社保卡")
    markdown, md_path, docx_path = digest.make_digest(ctx, "", as_user("zuzhang"), downloads)
    assert "<script>" not in markdown and "\\[点我\\](javascript" in markdown
    rendered = MarkdownIt("commonmark").render(markdown)
    assert "<script>" not in rendered and "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert 'href="javascript' not in rendered and "[点我](javascript:alert(1))" in rendered
    assert HOSTILE in docx_text(docx_path)


def test_the_served_api_refuses_staff_and_serves_a_reviewer_the_files(ctx):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    publish(ctx, QUESTION, ANSWER)
    served = dataclasses.replace(ctx, pages=(digest,))
    with serving(served) as url:
        staff = Client(url, auth=("zhangsan", PASSWORD), verbose=False)
        with pytest.raises(AppError, match="无权"):
            staff.predict("", api_name="/digest")
        reviewer = Client(url, auth=("zuzhang", PASSWORD), verbose=False)
        with pytest.raises(AppError, match="无法识别"):
            reviewer.predict("昨天", api_name="/digest")
        markdown, md_path, docx_path = reviewer.predict("", api_name="/digest")
        assert QUESTION in markdown and QUESTION in Path(md_path).read_text(encoding="utf-8")
        assert QUESTION in docx_text(docx_path)
