"""The 培训 page's handlers: the month's pack as Markdown with Word and PDF downloads, a learner's plan,
the quarterly evaluation as xlsx, for trainers only; staff refused; stored markup shown as text."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import gradio as gr
import pytest
from docx import Document
from fixtures import as_user
from openpyxl import load_workbook

from kb.asklog import log_question
from kb.types import Entry
from kb.users import Users
from kb.workflow import Workflow
from web import training
from web.opening import Opening
from web.downloads import Downloads

MONTH = date.today().isoformat()[:7]
HOSTILE = "<script>alert(1)</script>社保卡丢了怎么补办？"


@pytest.fixture
def downloads():
    return Downloads("kb-training-test-")


@pytest.fixture
def filled(ctx):
    """The context with one case published this month and a refused question with markup in it."""
    users = Users(ctx.kb.records)
    flow = Workflow(ctx.kb)
    draft = flow.submit(users.get("zhangsan"), Entry("", "居住证到期了怎么续签？", "携带身份证和居住证到居住地派出所办理签注。",
                                                     item="居住证签注", basis="居住证管理办法"))
    flow.approve(users.get("zuzhang"), draft.entry_id)
    log_question(ctx.kb.records.conn, "zhangsan", HOSTILE, "no_answer", 0.1, at=f"{MONTH}-01T09:00:00")
    return ctx


def test_a_trainer_gets_the_pack_with_word_and_pdf(filled, downloads):
    markdown, word, pdf = training.make_pack(filled, MONTH, as_user("zuzhang"), downloads)
    assert "居住证到期了怎么续签？" in markdown and "居住证管理办法" in markdown
    assert "<script>" not in markdown and "\\<script\\>" in markdown
    assert Path(word).name == f"月度培训资料-{MONTH}.docx"
    assert "居住证到期了怎么续签？" in "\n".join(p.text for p in Document(word).paragraphs)
    if shutil.which("soffice") or shutil.which("libreoffice"):
        assert Path(pdf).read_bytes().startswith(b"%PDF")
    else:
        assert pdf is None


def test_a_trainer_picks_a_learner_and_gets_the_plan(filled, downloads):
    choices = training.learner_choices(filled, as_user("admin"))
    assert ("张三（zhangsan）", "zhangsan") in choices
    markdown, word = training.make_plan(filled, "zhangsan", "2026-12-07", as_user("zuzhang"), downloads)
    assert "张三" in markdown and "第一周（2026-12-07 至 2026-12-13" in markdown and "居住证签注" in markdown
    assert Path(word).suffix == ".docx" and "居住证签注" in "\n".join(
        c.text for t in Document(word).tables for r in t.rows for c in r.cells)


def test_the_evaluation_is_an_xlsx_with_two_sheets(filled, downloads):
    path = training.make_evaluation(filled, "", as_user("admin"), downloads)
    book = load_workbook(path)
    assert book.sheetnames == ["个人", "小组"]
    people = {r[0]: r for r in book["个人"].iter_rows(min_row=2, values_only=True)}
    assert set(people) == {"admin", "zuzhang", "zhangsan"} and people["zhangsan"][6:8] == (1, 1)


def test_staff_are_refused_and_bad_input_is_explained(filled, downloads):
    for call in (lambda: training.make_pack(filled, MONTH, as_user("zhangsan"), downloads),
                 lambda: training.learner_choices(filled, as_user("zhangsan")),
                 lambda: training.make_plan(filled, "zuzhang", "", as_user("zhangsan"), downloads),
                 lambda: training.make_evaluation(filled, "", as_user("zhangsan"), downloads),
                 lambda: training.make_pack(filled, MONTH, as_user(None), downloads)):
        with pytest.raises(gr.Error):
            call()
    with pytest.raises(gr.Error, match="2026-11"):
        training.make_pack(filled, "下个月", as_user("zuzhang"), downloads)
    with pytest.raises(gr.Error, match="2026Q4"):
        training.make_evaluation(filled, "四季度", as_user("zuzhang"), downloads)
    markdown, _ = training.make_plan(filled, "", "2026-12-07", as_user("zuzhang"), downloads)
    assert "李组长" in markdown


def test_the_page_builds_for_trainers_only(filled):
    assert training.ROLES == frozenset({"reviewer", "admin"}) and training.TITLE == "培训"
    with gr.Blocks() as app:
        training.build(filled, app)
    names = {d.get("api_name") for d in app.config["dependencies"]}
    assert {"training_pack", "training_plan", "training_evaluation"} <= names


def test_the_page_opens_on_this_month_and_quarter_for_trainers_only(filled):
    with gr.Blocks() as app:
        training.build(filled, Opening.with_app(app))
    (loaded,) = [f.fn for f in app.fns.values() if f.name == "loaded"]
    learners, month, quarter = loaded(as_user("zuzhang"))
    assert (month, quarter) == (MONTH, f"{MONTH[:4]}Q{(int(MONTH[5:]) + 2) // 3}")
    assert "zhangsan" in [value for _, value in learners.choices]
    assert all(isinstance(v, type(gr.skip())) for v in loaded(as_user("zhangsan")))
