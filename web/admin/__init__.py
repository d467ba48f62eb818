"""管理: the administrator's page, one sub-tab per section.

A section is a module of this package with ``TITLE`` and ``build(ctx, opening)``, listed in
:data:`SECTIONS`; it fills itself the first time its sub-tab is shown. Its handlers admit the
logged-in account to the permission they need (through :func:`web.context.acting` or the library
operation itself), so the hidden tab is not the protection: calling a section's API as another role
is refused on the server.
"""

from __future__ import annotations

import gradio as gr

from ..context import Context
from ..opening import Opening
from . import accounts, audit, imports, maintenance, statistics

TITLE = "管理"
ROLES = frozenset({"admin"})
SECTIONS = (accounts, imports, maintenance, audit, statistics)
"""The sections in tab order."""


def build(ctx: Context, opening: Opening) -> None:
    """The page: a tab per section."""
    with gr.Tabs():
        for number, section in enumerate(SECTIONS):
            with gr.Tab(section.TITLE) as tab:
                section.build(ctx, opening.section(tab, first=number == 0))
