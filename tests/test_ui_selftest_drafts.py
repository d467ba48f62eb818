"""The 自测 page keeps a taker's answers as a draft: every change of an answer is saved at once with
a 已自动保存 status line, and a reload (the page built again, its load handler, 开始作答 resuming the
same attempt) draws the sheet pre-filled from the draft; only the taker saves, and submitting
discards the draft. Driven as gradio drives it, on a real bank and paper."""

from __future__ import annotations

import asyncio
import re

import gradio as gr
import pytest
from fixtures import as_user
from gradio.state_holder import SessionState
from test_ui_selftest import _keyed, _right_value, _wrong_value, exam  # noqa: F401  (the fixture)

from kb.attempts import Attempts
from kb.users import Users
from web import selftest
from web.app import build_app
from web.selftest_book import response

SAVED = re.compile(r"^已自动保存 \d\d:\d\d:\d\d$")


class Page:
    """One browser session of the 自测 page of a freshly built app, logged in as ``name``."""

    def __init__(self, ctx, name: str):
        ctx.pages = (selftest,)
        self.app = build_app(ctx)
        self.state = SessionState(self.app)
        self.request = as_user(name)

    def handler(self, name: str, target: gr.components.Component | None = None):
        """The event handler ``name`` (of the drawn sheet when ``target``, an input, is given or the
        name is a sheet's: the 错题本 has handlers of the same names)."""
        return next(f for f in self.state.blocks_config.fns.values() if f.name == name
                    and (f.rendered_in is None) == (name in ("loaded", "on_start"))
                    and (target is None or any(t[0] == target._id for t in f.targets)))

    def call(self, fn, *inputs):
        """Run event handler ``fn`` through gradio with ``inputs`` (None for a state); its output data."""
        out = asyncio.run(self.app.process_api(fn, list(inputs), state=self.state, request=self.request))
        return out["data"]

    def open(self, paper_id: str) -> dict[int, gr.components.Component]:
        """Load the page, start (or resume) ``paper_id`` and draw the sheet; its inputs by question number."""
        self.call(self.handler("loaded"))
        self.call(self.handler("on_start"), paper_id)
        self.call(next(f for f in self.state.blocks_config.fns.values() if f.renderable is not None), None, None)
        inputs = {}
        for block in self.state.blocks_config.blocks.values():
            found = re.match(r"第 (\d+) 题作答", str(getattr(block, "label", "") or ""))
            if found:
                inputs[int(found[1])] = block
        return inputs

    def notes(self) -> list[str]:
        return [str(b.value) for b in self.state.blocks_config.blocks.values() if isinstance(b, gr.Markdown)]


def _wrong(question):
    """A wrong input value of ``question`` (any type)."""
    if question.kind == "multiple":
        return list(question.answer[:1])
    return _wrong_value(question) if question.kind in ("single", "judge") else "不知道"


def test_answers_are_saved_as_they_change_and_a_reload_pre_fills_them(exam):
    page = Page(exam, "zhangsan")
    inputs = page.open("P1")
    attempt_id, sheet, _ = selftest.begin(exam, "P1", as_user("zhangsan"))
    paper = _keyed(exam, sheet)
    assert sorted(inputs) == sorted(q.number for q in sheet.questions) and not any(c.value for c in inputs.values())
    given = {q.number: _wrong(q.question) for q in paper.questions[:6]}
    for number, value in given.items():
        status = page.call(page.handler("on_input", inputs[number]), None, value)[0]
        assert SAVED.match(status)
    first = paper.questions[0]
    given[first.number] = _right_value(first.question)
    page.call(page.handler("on_input", inputs[first.number]), None, given[first.number])

    reloaded = Page(exam, "zhangsan")
    shown = reloaded.open("P1")
    assert {n: c.value for n, c in shown.items() if c.value} == given
    assert "已恢复上次自动保存的 6 题答案。" in reloaded.notes()
    assert selftest.restored(exam, attempt_id, sheet, as_user("zhangsan")) == \
        [given.get(q.number) for q in sheet.questions]

    values = [_right_value(q.question) for q in paper.questions]
    outcome = reloaded.call(reloaded.handler("on_send"), None, *values)[0]
    assert f"得分 {paper.total:g} / {paper.total:g}" in str(outcome)
    assert Attempts(exam.kb.records).draft(Users(exam.kb.records).get("zhangsan"), attempt_id) == {}


def test_only_the_taker_saves_and_a_submitted_attempt_takes_no_more_answers(exam):
    zhangsan = as_user("zhangsan")
    attempt_id, sheet, _ = selftest.begin(exam, "P1", zhangsan)
    field = selftest.fields(sheet)[0]
    question = _keyed(exam, sheet).questions[0].question
    assert selftest.keep(exam, None, field, _right_value(question), zhangsan) == ""
    for who, refused in (("lisi", "管理题库"), ("zuzhang", "只能作答和提交自己的答卷"), (None, "请先登录")):
        with pytest.raises(gr.Error, match=refused):
            selftest.keep(exam, attempt_id, field, _right_value(question), as_user(who))
    assert selftest.restored(exam, attempt_id, sheet, zhangsan) == [None] * len(sheet.questions)
    assert SAVED.match(selftest.keep(exam, attempt_id, field, _right_value(question), zhangsan))
    restored = selftest.restored(exam, attempt_id, sheet, zhangsan)
    assert {n: r for n, r in selftest.responses(sheet, restored).items() if r} == \
        {field.number: response(field.kind, _right_value(question))}
    selftest.hand_in(exam, attempt_id, {}, zhangsan)
    assert selftest.restored(exam, attempt_id, sheet, zhangsan) == [None] * len(sheet.questions)
    with pytest.raises(gr.Error, match="不能重复提交或修改答案"):
        selftest.keep(exam, attempt_id, field, _right_value(question), zhangsan)
