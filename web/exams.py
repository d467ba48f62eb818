"""题库与考试: the trainer's page, one sub-tab per section — 题库 (build, preview, edit), 组卷与分配
(compose, assign, download) and 成绩 (charts, tables, xlsx, marks import).

A section is a module with ``TITLE`` and ``build(ctx, opening)`` (``opening``: when the section is
first shown, for what is filled once, such as today's quarter), which returns the refresher of its
pickers: a handler of the request and the components it fills. The first section's refresher runs
when the page opens, and each refresher whenever its sub-tab is selected, so a bank built in one
section is offered at once in the next. Every handler admits the logged-in account to ``quiz`` on
the server (组长/培训师, 管理员), so the hidden tab is not the protection: calling a section's
handlers as staff is refused.
"""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr

from . import exam_bank, exam_papers, exam_results
from .context import Context, account
from .opening import Opening

TITLE = "题库与考试"
ROLES = frozenset({"reviewer", "admin"})
SECTIONS = (exam_bank, exam_papers, exam_results)
"""The sections in tab order."""


def guarded(ctx: Context, refresh: Callable, outputs: list) -> Callable:
    """``refresh`` for the page's opening: nothing (every output skipped) for an account without ``quiz``."""

    def loaded(request: gr.Request):
        if not account(ctx, request).can("quiz"):
            return tuple(gr.skip() for _ in outputs)
        return refresh(request)

    return loaded


def build(ctx: Context, opening: Opening) -> None:
    """The page: a tab per section, each section's pickers refreshed on selecting its tab (the first
    section's also when the page opens)."""
    with gr.Tabs():
        for number, section in enumerate(SECTIONS):
            with gr.Tab(section.TITLE) as tab:
                refresh, outputs = section.build(ctx, opening.section(tab, first=number == 0))
                tab.select(refresh, None, outputs, api_visibility="private")
                if number == 0:
                    opening.load(guarded(ctx, refresh, outputs), None, outputs, api_visibility="private")
