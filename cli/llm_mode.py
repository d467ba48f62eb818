"""The LLM mode of ``kb ask``: choosing it, rewriting follow-ups with the model, streaming to a terminal.

LLM mode is on when the ``llm_base_url`` setting is set (``--offline`` turns it off for one call) or
when ``--llm`` asks for it (then a missing setting is an error). On a terminal the model's tokens are
shown as they arrive and then replaced by the checked answer with its notes and sources.
"""

from __future__ import annotations

import math
import shutil
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from types import SimpleNamespace

    from bot import Answer
    from bot.llm import LLM
    from kb import KnowledgeBase
    from kb.sessions import Turn


def open_llm(choice: bool | None, options: SimpleNamespace) -> LLM | None:
    """The model to answer with: ``choice`` is True (``--llm``), False (``--offline``) or None (the
    settings decide: on when ``llm_base_url`` is set); None means offline."""
    if choice is False or (choice is None and not options.llm_base_url):
        return None
    from bot.llm import openai_compatible

    return openai_compatible(options.llm_base_url, options.llm_model, options.llm_api_key, options.llm_timeout,
                             options.llm_max_tokens, read_from=options.llm_min_confidence)


def llm_follow_up(llm: LLM, kb: KnowledgeBase, history: Sequence[Turn], question: str, live: bool,
                  **options) -> Answer:
    """Answer ``question`` as the next turn of ``history`` with the model (:meth:`bot.llm.LLM.follow_up`);
    ``live`` echoes the tokens as they arrive and erases them when the checked answer is ready.
    ``options`` as for :func:`bot.answer`."""
    reply = llm.follow_up(kb, history, question, **options)
    shown = ""
    for token in reply:
        if live:
            if not shown:
                shown = "答（生成中）："
                click.echo(shown, nl=False)
            click.echo(token, nl=False)
            shown += token
    if shown:
        click.echo(erase(shown), nl=False, color=True)
    return reply.answer


def erase(text: str) -> str:
    """The terminal control sequence that erases ``text`` just written from the start of a line
    (wide Chinese characters take two columns)."""
    columns = max(1, shutil.get_terminal_size().columns)
    rows = sum(max(1, math.ceil(_width(line) / columns)) for line in text.split("\n"))
    return "\r" + "\x1b[1A" * (rows - 1) + "\x1b[J"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
