"""管理: the administrator's page, one sub-tab per section.

A section is a module of this package with ``TITLE`` and ``build(ctx, app)``, listed in
:data:`SECTIONS`. Its handlers admit the logged-in account to the permission they need (through
:func:`web.context.acting` or the library operation itself), so the hidden tab is not the
protection: calling a section's API as another role is refused on the server.
"""

from __future__ import annotations

import gradio as gr

from ..context import Context
from . import accounts, audit, imports, maintenance, statistics

TITLE = "管理"
ROLES = frozenset({"admin"})
SECTIONS = (accounts, imports, maintenance, audit, statistics)
"""The sections in tab order."""


def build(ctx: Context, app: gr.Blocks) -> None:
    """The page: a tab per section."""
    with gr.Tabs():
        for section in SECTIONS:
            with gr.Tab(section.TITLE):
                section.build(ctx, app)
