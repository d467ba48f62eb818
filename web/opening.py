"""When a page fills its components: the first page when the app loads, every other page the first
time its tab is shown in the browser session.

Each event gradio's front end runs re-applies the loading status of every component that any event
has touched so far, finding each in the whole component tree. Filling all fourteen pages at load
(twenty-odd events over six hundred components) cost about ten seconds of browser CPU after every
login; filling a page when it is first opened costs only what the user looks at, and a role never
pays for the pages it does not see.
"""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr


class Opening:
    """The moment a page (or a section of one) is first shown: ``load`` registers what fills it then."""

    def __init__(self, triggers: list, once: bool):
        self.triggers = triggers
        self.once = once

    @classmethod
    def with_app(cls, app: gr.Blocks) -> Opening:
        """The opening of the page shown first: when ``app`` loads in the browser."""
        return cls([app.load], once=False)

    @classmethod
    def with_tab(cls, tab: gr.Tab) -> Opening:
        """The opening of the page in ``tab``: the first time the tab is selected."""
        return cls([tab.select], once=True)

    def section(self, tab: gr.Tab, first: bool) -> Opening:
        """The opening of a section in sub-tab ``tab``: the first time it is selected or, for the
        ``first`` section (shown as the page opens), the page's opening."""
        return Opening([tab.select, *(self.triggers if first else ())], once=True)

    def load(self, fn: Callable, inputs, outputs, **kwargs) -> None:
        """Run ``fn(inputs)`` into ``outputs`` at this opening (``kwargs`` as for a gradio event). Call it
        inside the tab's layout: it adds a hidden state there, and a state between the tabs of a
        ``gr.Tabs`` shifts the front end's tab labels."""
        if not self.once:
            gr.on(self.triggers, fn, inputs, outputs, **kwargs)
            return
        shown = gr.State(False)
        gr.on(self.triggers, lambda: True, None, shown, show_progress="hidden", api_visibility="private")
        shown.change(fn, inputs, outputs, **kwargs)
