"""The daily digest: the day's solved cases and 口径 changes, for every counter.

The centre's rule is "每日总结当天处理的疑难杂症，及时将解决方案和业务口径传达给所有窗口".
:func:`build_digest` reads the audit log and the records for one day and returns a
:class:`Digest`; :func:`to_markdown` and :func:`digest_docx` render it for screens and for print.

Sections (keys of :data:`SECTIONS`), each grouped by 事项:

* ``new`` — cases first published that day through review (not revisions, not supersessions);
* ``replaced`` — entries approved that day that supersede an older entry;
* ``effective`` — published supersessions approved earlier that take effect that day;
* ``revised`` — published entries that got a new version that day (revision, merge, rollback, an
  admin's overwrite from an import file);
* ``expired`` — published entries whose ``expire_on`` (their last valid day) is that day;
* ``withdrawn`` — published entries deleted that day (they are no longer published, but the counters
  must stop using them), with the reason and who did it;
* ``restored`` — deleted entries put back into publication that day (restore, or an admin's
  overwrite from an import file), with the reason and who did it.

An entry that qualifies for several sections is listed once, in the first of :data:`PRIORITY`.
Apart from withdrawals, only entries that are published now are listed, with their current text;
bulk imports (admin reference material) are not the day's cases and are never listed as such.
After them come the 办不成事 cases overdue or about to fall due (:mod:`bot.digest_escalations`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from kb import KnowledgeBase
from kb.audit import events
from kb.errors import DateError
from kb.records import entry_dict
from kb.types import Entry
from kb.users import LOCAL_ADMIN, User, Users, authorize

from .digest_escalations import EscalationDigest, escalation_blocks, escalation_digest, escalation_summary
from .word import Block, Heading, Paragraph, Table, write_docx

SECTIONS: dict[str, str] = {
    "new": "新发布案例",
    "replaced": "新口径取代旧口径",
    "effective": "当日起施行的新口径",
    "revised": "已发布条目修订",
    "expired": "口径失效",
    "withdrawn": "口径撤回（删除）",
    "restored": "口径恢复",
}
CHANGE_SECTIONS = ("replaced", "effective", "revised", "expired", "withdrawn", "restored")
"""The sections that together make up 口径变更."""
PRIORITY = ("withdrawn", "replaced", "new", "restored", "expired", "revised", "effective")
"""Most specific first: an entry qualifying for several sections goes to the first one here."""
OTHER_ITEM = "其他"
FIELD_LABELS: dict[str, str] = {
    "question": "问题", "answer": "答复", "alt_questions": "其他问法", "item": "事项", "department": "部门",
    "basis": "依据", "counter": "窗口/组", "effective_from": "生效日期", "expire_on": "失效日期",
    "supersedes": "取代条目",
}
"""The fields whose change a revision reports (bookkeeping such as 来源 and 日期 is left out)."""
VERSION_ACTIONS = {"approve": "审核修订", "merge": "合并重复提交", "rollback": "回滚", "overwrite": "以导入文件覆盖"}
STATUS_ACTIONS = ("delete", "restore", "overwrite")
"""Audit actions that can take an entry out of publication or put it back."""
NO_CHANGES = "当日没有新发布的案例，也没有业务口径变更，各窗口继续按现行口径办理。"
_ALL = 1_000_000
PREVIEW_DAYS = 366
"""How far ahead a digest may look: a lead previews the entries that take effect or expire on a coming day."""


@dataclass(frozen=True)
class FieldChange:
    """One field of an entry changed during the day: its value before the first change and now."""

    field: str
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class DigestItem:
    """One listed entry, with its current published text.

    ``replaces_id``/``replaces_question`` name the entry it supersedes (empty when none);
    ``changes`` and ``actions`` (action labels such as 回滚) are set in the ``revised`` section;
    ``reason`` and ``actor`` (who, as a display label) in the ``withdrawn`` and ``restored`` sections.
    """

    entry_id: str
    question: str
    answer: str
    item: str
    basis: str = ""
    counter: str = ""
    submitter: str = ""
    effective_from: str = ""
    expire_on: str = ""
    replaces_id: str = ""
    replaces_question: str = ""
    changes: tuple[FieldChange, ...] = ()
    actions: tuple[str, ...] = ()
    reason: str = ""
    actor: str = ""


@dataclass(frozen=True)
class ItemGroup:
    """The items of one section under one 事项 (``其他`` for entries without one)."""

    item: str
    entries: tuple[DigestItem, ...]


@dataclass(frozen=True)
class DigestSection:
    """One section (``key`` from :data:`SECTIONS`), grouped by 事项 in name order, ``其他`` last."""

    key: str
    title: str
    groups: tuple[ItemGroup, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(e.entry_id for g in self.groups for e in g.entries)

    @property
    def count(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Digest:
    """The digest of ``day`` (ISO date): every section of :data:`SECTIONS`, in that order, and the
    办不成事 cases overdue or about to fall due (:mod:`bot.digest_escalations`)."""

    day: str
    sections: tuple[DigestSection, ...]
    escalations: EscalationDigest | None = None

    def section(self, key: str) -> DigestSection:
        """The section ``key`` (a key of :data:`SECTIONS`)."""
        return next(s for s in self.sections if s.key == key)

    def ids(self, key: str) -> tuple[str, ...]:
        """The entry ids listed in section ``key``, in display order."""
        return self.section(key).ids

    @property
    def total(self) -> int:
        """How many entries are listed in all."""
        return sum(s.count for s in self.sections)

    @property
    def changes(self) -> int:
        """How many entries are listed under 口径变更."""
        return sum(self.section(k).count for k in CHANGE_SECTIONS)

    @property
    def title(self) -> str:
        """The printed title, e.g. ``2026-11-28 窗口疑难问题与业务口径每日汇总``."""
        return f"{self.day} 窗口疑难问题与业务口径每日汇总"


def build_digest(kb: KnowledgeBase, day: str, actor: User) -> Digest:
    """Collect what the counters need to know about ``day``.

    Args:
        kb: the knowledge base.
        day: an ISO date (``YYYY-MM-DD``); events are matched on their local date.
        actor: who asks; needs the ``digest`` permission (组长/培训师 or 管理员).

    Returns:
        A :class:`Digest` listing each qualifying published entry once.
    """
    actor = authorize(kb.records, actor, "digest")
    if date.fromisoformat(day) > date.today() + timedelta(days=PREVIEW_DAYS):
        raise DateError(f"汇总日期 {day} 太远：每日汇总只能预览 {PREVIEW_DAYS} 天以内的日子（将要施行、失效的口径），"
                        "请选择今天、以前或一年以内的日期。")
    records = kb.records
    found: dict[str, dict[str, dict]] = {key: {} for key in SECTIONS}
    for ev in reversed(_day_events(kb, day)):
        state = records.state(ev.target)
        if state is None or state.status != "published":
            continue
        if ev.action == "overwrite" and ev.before.get("status") != "published":
            continue  # a deleted entry put back: listed under restored
        first = ev.action == "approve" and ev.before.get("status") == "draft"
        if first or (ev.action == "approve" and _newly_supersedes(ev.before, ev.after)):
            key = "replaced" if records.entry(ev.target).supersedes else "new"
            found[key].setdefault(ev.target, {})
        else:
            seen = found["revised"].setdefault(ev.target, {"before": ev.before, "actions": []})
            seen["actions"].append(VERSION_ACTIONS[ev.action])
    for entry, _ in records.entries_where("status='published' AND supersedes != '' AND effective_from = ?", (day,)):
        if _published_by(kb, entry.id, day):
            found["effective"].setdefault(entry.id, {})
    for entry, _ in records.entries_where("status='published' AND expire_on = ?", (day,)):
        if _published_by(kb, entry.id, day):
            found["expired"].setdefault(entry.id, {})
    for target, ev in _status_changes(kb, day).items():
        key = "withdrawn" if ev.action == "delete" else "restored"
        found[key][target] = {"reason": ev.reason, "actor": _who(kb, ev.actor)}
    listed: set[str] = set()
    chosen: dict[str, list[DigestItem]] = {key: [] for key in SECTIONS}
    for key in PRIORITY:
        for entry_id, extra in found[key].items():
            if entry_id not in listed:
                listed.add(entry_id)
                chosen[key].append(_item(kb, records.entry(entry_id), extra))
    return Digest(day, tuple(DigestSection(key, title, _grouped(chosen[key])) for key, title in SECTIONS.items()),
                  escalation_digest(records, day, actor, lambda username: _who(kb, username)))


def _day_events(kb: KnowledgeBase, day: str) -> list:
    """The day's publishing events (newest first): approvals, merges and rollbacks."""
    found = [ev for action in VERSION_ACTIONS
             for ev in events(kb.records.conn, action=action, since=day, until=day, limit=_ALL)]
    return sorted(found, key=lambda ev: ev.id, reverse=True)


def _status_changes(kb: KnowledgeBase, day: str) -> dict:
    """entry id -> the day's last event that withdrew a published entry (a delete) or put a deleted
    one back into publication (a restore, or an overwrite from an import file)."""
    last = {}
    for ev in reversed(events(kb.records.conn, actions=STATUS_ACTIONS, since=day, until=day, limit=_ALL)):
        before, after = ev.before.get("status"), ev.after.get("status")
        if (before, after) in (("published", "deleted"), ("deleted", "published")):
            last[ev.target] = ev
    return last


def _who(kb: KnowledgeBase, username: str) -> str:
    """An actor's display label (``李四（组长/培训师）``), or the user name of a removed account."""
    user = LOCAL_ADMIN if username == LOCAL_ADMIN.username else Users(kb.records).get(username)
    return user.label if user else username


def _newly_supersedes(before: dict, after: dict) -> bool:
    """A published revision that makes the entry supersede another one (a new 口径 replacement)."""
    return bool(after.get("supersedes")) and after.get("supersedes") != before.get("supersedes")


def _published_by(kb: KnowledgeBase, entry_id: str, day: str) -> bool:
    """Whether the entry was already published by the end of ``day`` (approved, or imported)."""
    state = kb.records.state(entry_id)
    if state.origin == "import":
        return state.created_at[:10] <= day
    return bool(events(kb.records.conn, action="approve", target=entry_id, until=day, limit=1))


def _item(kb: KnowledgeBase, entry: Entry, extra: dict) -> DigestItem:
    old = kb.records.entry(entry.supersedes) if entry.supersedes else None
    changes: tuple[FieldChange, ...] = ()
    if "before" in extra:
        now = entry_dict(entry)
        changes = tuple(FieldChange(f, label, _text(extra["before"].get(f)), _text(now.get(f)))
                        for f, label in FIELD_LABELS.items() if _text(extra["before"].get(f)) != _text(now.get(f)))
    return DigestItem(
        entry.id, entry.question, entry.answer, entry.item or OTHER_ITEM, entry.basis, entry.counter,
        entry.submitter, entry.effective_from, entry.expire_on, entry.supersedes,
        old.question if old else "", changes, tuple(dict.fromkeys(extra.get("actions", ()))),
        extra.get("reason", ""), extra.get("actor", ""),
    )


def _text(value: object) -> str:
    if isinstance(value, list | tuple):
        return "；".join(str(v) for v in value)
    return "" if value is None else str(value)


def _grouped(items: list[DigestItem]) -> tuple[ItemGroup, ...]:
    names = sorted({i.item for i in items}, key=lambda name: (name == OTHER_ITEM, name))
    return tuple(ItemGroup(name, tuple(sorted((i for i in items if i.item == name), key=lambda i: i.entry_id)))
                 for name in names)


# -- rendering -------------------------------------------------------------------------------

def summary(digest: Digest) -> str:
    """One line of counts, or the plain "nothing changed" sentence."""
    if not digest.total:
        return NO_CHANGES + escalation_summary(digest.escalations)
    parts = "，".join(f"{SECTIONS[k]} {digest.section(k).count} 条" for k in CHANGE_SECTIONS
                     if digest.section(k).count)
    detail = f"（{parts}）" if parts else ""
    return (f"当日共 {digest.total} 条：新发布案例 {digest.section('new').count} 条，口径变更 {digest.changes} 条{detail}。"
            + escalation_summary(digest.escalations))


def _effect(item: DigestItem, day: str) -> str:
    if item.effective_from:
        when = "将于" if item.effective_from > day else "自"
        return f"{when} {item.effective_from} 起施行"
    return "自发布之日起施行" if item.replaces_id else ""


STATUS_NOTES = {"withdrawn": ("撤回", "已删除，即日起不再作为答复依据，请勿再按此口径答复"),
                "restored": ("恢复", "重新发布，恢复为可以答复的口径")}
"""The line that says what happened to an item of the ``withdrawn`` and ``restored`` sections."""


def _fields(item: DigestItem, day: str, section: str = "") -> tuple[tuple[str, str], ...]:
    """The label/value rows shown for one item of ``section`` (empty values left out)."""
    rows = [("答复", item.answer), ("依据", item.basis), ("窗口/组", item.counter), ("提交人", item.submitter)]
    if item.replaces_id:
        rows.append(("取代", f"#{item.replaces_id} {item.replaces_question}"))
    if section in STATUS_NOTES:
        rows.append(STATUS_NOTES[section])
    else:
        rows.append(("施行", _effect(item, day)))
    if item.expire_on:
        rows.append(("失效", f"有效至 {item.expire_on}（含当日），次日起失效"))
    rows += [("操作人", item.actor), ("理由", item.reason), ("变更方式", "、".join(item.actions))]
    if item.actions:
        rows.append(("修改内容", "、".join(c.label for c in item.changes) or "内容无变化"))
        rows.extend((f"原{c.label}", c.before or "（空）") for c in item.changes if c.field != "alt_questions")
    return tuple((label, value) for label, value in rows if value)


def _item_blocks(section: DigestSection, day: str, level: int) -> list[Block]:
    blocks: list[Block] = []
    for group in section.groups:
        blocks.append(Heading(f"事项：{group.item}（{len(group.entries)} 条）", level))
        for item in group.entries:
            blocks.append(Paragraph(f"#{item.entry_id} {item.question}", bold=True))
            blocks.append(Table(_fields(item, day, section.key), widths=(3, 13)))
    return blocks


def outline(digest: Digest) -> list[Block]:
    """The digest as document blocks (headings, item lines and label/value tables), for any renderer."""
    blocks: list[Block] = [Paragraph(summary(digest))]
    if not digest.total:
        return blocks + escalation_blocks(digest.escalations)
    new = digest.section("new")
    blocks.append(Heading(f"一、{new.title}（{new.count} 条）", 1))
    blocks.extend(_item_blocks(new, digest.day, 2) or [Paragraph("当日没有新发布的案例。")])
    blocks.append(Heading(f"二、口径变更（{digest.changes} 条）", 1))
    if not digest.changes:
        blocks.append(Paragraph("当日没有业务口径变更。"))
    numbers = iter("一二三四五六")
    for key in CHANGE_SECTIONS:
        section = digest.section(key)
        if section.count:
            blocks.append(Heading(f"（{next(numbers)}）{section.title}（{section.count} 条）", 2))
            blocks.extend(_item_blocks(section, digest.day, 3))
    return blocks + escalation_blocks(digest.escalations, ("三、", "四、"))


_MARKUP = re.compile(r"([\\`*_\[\]<>&|~])")
_LINE_START = re.compile(r"^(\s*)([-+=#]|\d+[.)])")
_CLOSING_HASHES = re.compile(r"#(?=#*\s*$)")


def escape_markdown(text: str, inline: bool = False) -> str:
    """``text`` with every character that Markdown (or inline HTML) could interpret backslash-escaped,
    so that a submission is shown literally.

    Line-start markers (``#``, ``-``, ``1.`` …) and trailing ``#`` runs are escaped too; with
    ``inline`` the first line follows other text on its output line, so its start needs no escape.
    """
    lines = []
    for i, line in enumerate(text.split("\n")):
        line = _CLOSING_HASHES.sub(r"\#", _MARKUP.sub(r"\\\1", line.strip()))
        if i or not inline:
            line = _LINE_START.sub(lambda m: f"{m[1]}{m[2][:-1]}\\{m[2][-1]}", line)
        lines.append(line)
    return "\n".join(lines)


def to_markdown(digest: Digest) -> str:
    """A printable Markdown summary: title, counts, then the sections grouped by 事项.

    Every text that comes from the records is escaped with :func:`escape_markdown`.
    """
    out = [f"# {digest.title}", ""]
    for block in outline(digest):
        if isinstance(block, Heading):
            out += ["#" * (block.level + 1) + " " + escape_markdown(block.text, inline=True), ""]
        elif isinstance(block, Paragraph):
            text = escape_markdown(block.text, inline=block.bold).replace("\n", "  \n")
            out += [f"**{text}**" if block.bold else text, ""]
        else:
            for label, value in block.rows:
                out.append(f"- {label}：" + escape_markdown(value, inline=True).replace("\n", "  \n  "))
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def digest_docx(digest: Digest, path: Path | str) -> Path:
    """Write the digest as a printable .docx (same content as :func:`to_markdown`); returns the path."""
    made = datetime.now().strftime("%Y-%m-%d %H:%M")
    return write_docx(path, digest.title, outline(digest), subtitle=f"汇总日期：{digest.day}　生成时间：{made}")
