"""A draft beside the published entry it may duplicate (or revises), with the differences marked.

The side-by-side blocks are Markdown with every stored value escaped by :func:`plain`; a field whose
value differs between the two is flagged in both blocks. The wording of 问题 and 答复 is compared
word by word (jieba words) for a ``gr.HighlightedText``, which shows its text as text, never as markup.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from kb.text import segment
from kb.types import Entry

from .context import plain

FIELDS = {"question": "问题", "answer": "答复", "alt_questions": "另一问法", "item": "事项",
          "department": "部门", "counter": "窗口/组", "basis": "依据", "tags": "标签", "source": "来源",
          "submitter": "提交人", "date": "日期", "effective_from": "生效日期", "expire_on": "失效日期", "supersedes": "替代"}
DIFF_HEADERS = ["字段", "草稿", "已发布"]
REMOVED, ADDED = "已发布原文", "草稿改动"
COLORS = {REMOVED: "red", ADDED: "green"}
DIFFERS = "（不同）"
MARK = "◆"
WORDED = ("question", "answer")
PROVENANCE = frozenset({"counter", "source", "submitter", "date"})
"""Fields that say where an entry came from: listed in the table of differences, never flagged."""


def value(entry: Entry, name: str) -> str:
    """A field of ``entry`` as one line of text (tuples joined with 、)."""
    field = getattr(entry, name)
    return "、".join(field) if isinstance(field, tuple) else str(field)


def differing(draft: Entry, other: Entry | None) -> set[str]:
    """The content fields (not :data:`PROVENANCE`) whose values differ between ``draft`` and ``other``."""
    if other is None:
        return set()
    return {name for name in FIELDS.keys() - PROVENANCE if value(draft, name) != value(other, name)}


def block(entry: Entry, heading: str, marked: set[str] = frozenset()) -> str:
    """``entry`` as escaped Markdown under ``heading`` (already Markdown); ``marked`` fields are flagged."""
    lines = [f"#### {heading} {plain(entry.id)}"]
    for name, label in FIELDS.items():
        if value(entry, name) or name in marked:
            flag = f"{MARK} **{label}**{DIFFERS}" if name in marked else f"**{label}**"
            lines.append(f"{flag}：{plain(value(entry, name)) or '（空）'}")
    return "\n\n".join(lines)


def differences(draft: Entry, published: Entry) -> list[list[str]]:
    """Rows 字段 / 草稿 / 已发布 for the fields whose values differ."""
    return [[label, value(draft, name), value(published, name)]
            for name, label in FIELDS.items() if value(draft, name) != value(published, name)]


def highlighted(draft: Entry, other: Entry | None) -> list[tuple[str, str | None]]:
    """The 问题 and 答复 of ``other`` rewritten into ``draft``'s, for ``gr.HighlightedText``: unchanged
    text unlabelled, text only in ``other`` labelled :data:`REMOVED`, text only in the draft :data:`ADDED`.
    Empty without ``other`` or when both wordings are the same."""
    if other is None or all(getattr(draft, name) == getattr(other, name) for name in WORDED):
        return []
    spans: list[tuple[str, str | None]] = []
    for name in WORDED:
        old, new = segment(getattr(other, name)), segment(getattr(draft, name))
        spans.append((f"{'　' if spans else ''}【{FIELDS[name]}】", None))
        for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
            if op == "equal":
                spans.append(("".join(new[j1:j2]), None))
                continue
            if i2 > i1:
                spans.append(("".join(old[i1:i2]), REMOVED))
            if j2 > j1:
                spans.append(("".join(new[j1:j2]), ADDED))
    return spans
