"""Who owns an entry, and so what a bulk import may do to it.

An imported entry is owned by its source file until the review workflow touches it (any edit,
approval of a revision, merge, rollback, delete or restore). From then on it is *governed* and the
record store owns it. Precisely, an entry is governed when its origin is not ``import``, or its
version history has an action other than ``import``, or the audit log holds a workflow event on it
(:data:`WORKFLOW_ACTIONS`).

A later import, of any file (a sheet, or a `kb export` file through `kb import`), never overwrites,
revives or deletes a governed entry. Where the file disagrees with it — the file's row differs from
the stored entry (in content, or in status: the entry was deleted or merged), or the file no longer
holds a live governed entry — the import leaves the entry alone and reports a :class:`Conflict`:
which fields differ (stored value vs file value) and who last changed the entry through the
workflow, and when. A row identical to the stored governed entry is simply unchanged.

An admin resolves a conflict explicitly by naming the entry in ``overwrite``: the file's version is
stored as a new version (audited ``overwrite``; a deleted entry is thereby revived, and the reason
says so), and a governed entry the file no longer holds is soft-deleted (audited ``delete``). The
other way is to submit the file's content as a revision for review (`kb submit --revises`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import audit
from .records import Records, entry_dict, now
from .types import STATUSES, Entry, EntryState

WORKFLOW_ACTIONS = ("create", "edit", "approve", "reject", "merge", "rollback", "delete", "restore", "overwrite")
"""Audit actions on an entry that make it governed (``import`` and ``duplicate`` do not)."""
LIVE = ("draft", "published")
FIELD_LABELS: dict[str, str] = {
    "question": "问题", "answer": "答复", "alt_questions": "其他问法", "item": "事项", "department": "部门",
    "tags": "标签", "basis": "依据", "counter": "窗口/组", "effective_from": "生效日期", "expire_on": "失效日期",
    "supersedes": "替代编号", "source": "来源", "date": "日期", "submitter": "提交人", "status": "状态",
}
"""Every compared field with its Chinese label, in the order conflicts list them."""
SHOWN = 30
"""Characters of a value shown in a one-line conflict message (the audit event keeps it whole)."""


@dataclass(frozen=True)
class WorkflowChange:
    """The latest change of an entry through the review workflow: who (user name), when (ISO), which action."""

    actor: str
    at: str
    action: str

    @property
    def label(self) -> str:
        return audit.ACTIONS.get(self.action, self.action)


@dataclass(frozen=True)
class FieldDiff:
    """One field where the stored entry and the file differ (values as display text)."""

    field: str
    label: str
    stored: str
    incoming: str


@dataclass(frozen=True)
class Conflict:
    """A governed entry an import left alone: its row differs (``differences``), or the file no
    longer holds it (``missing``)."""

    entry_id: str
    last_change: WorkflowChange
    differences: tuple[FieldDiff, ...] = ()
    missing: bool = False

    def describe(self) -> str:
        """One line in Chinese: what differs, who changed the entry last, and how to resolve it."""
        change = self.last_change
        who = f"最后由 {change.actor} 于 {change.at.replace('T', ' ')} {change.label}"
        if self.missing:
            return (f"{self.entry_id} 已经过审核流程（{who}），文件中已没有此条，未删除；确需删除请加 "
                    f"--overwrite {self.entry_id} 重新导入，或用 kb delete {self.entry_id}。")
        diffs = "；".join(f"{d.label}：库中为“{_short(d.stored)}”，文件中为“{_short(d.incoming)}”"
                         for d in self.differences)
        return (f"{self.entry_id} 已经过审核流程（{who}），与文件不同，未覆盖。{diffs}。以文件为准请加 "
                f"--overwrite {self.entry_id} 重新导入，或用 kb submit --revises {self.entry_id} 提交修订审核。")

    def as_dict(self) -> dict:
        """For the file's ``import`` audit event (values in full)."""
        return {"entry_id": self.entry_id, "missing": self.missing, "last_changed_by": self.last_change.actor,
                "last_changed_at": self.last_change.at, "last_action": self.last_change.action,
                "differences": [{"field": d.field, "label": d.label, "stored": d.stored, "file": d.incoming}
                                for d in self.differences]}


@dataclass
class ImportPlan:
    """What importing one file does to each entry it holds or held.

    ``write``: file-owned entries, imported as always; ``overwrite``: governed entries the admin
    named, whose file version is taken; ``unchanged``: governed entries identical to the file;
    ``conflicts``: governed entries left alone; ``remove``: file-owned entries the file no longer
    holds (soft-deleted); ``withdraw``: live governed entries the file no longer holds that the admin
    named (soft-deleted); ``release``: governed entries the file no longer holds that are not live
    (deleted, merged, rejected), left as they are and no longer tied to the file.
    """

    write: list[Entry] = field(default_factory=list)
    overwrite: list[Entry] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    withdraw: list[str] = field(default_factory=list)
    release: list[str] = field(default_factory=list)

    @property
    def untouched(self) -> set[str]:
        """Entries whose stored content (and chunks) the import leaves exactly as they are."""
        return {*self.unchanged, *(c.entry_id for c in self.conflicts)}

    @property
    def kept(self) -> set[str]:
        """Governed entries the file no longer holds but that stay tied to it until resolved."""
        return {c.entry_id for c in self.conflicts if c.missing}

    @property
    def overwritten(self) -> list[str]:
        return [*(e.id for e in self.overwrite), *self.withdraw]

    def decisions(self) -> dict[str, str]:
        """entry id -> decision, to check that nothing changed between planning and writing."""
        out = {e.id: "write" for e in self.write} | {e.id: "overwrite" for e in self.overwrite}
        out |= {c.entry_id: "conflict" for c in self.conflicts}
        for kind in ("unchanged", "remove", "withdraw", "release"):
            out |= dict.fromkeys(getattr(self, kind), kind)
        return out


def last_change(records: Records, entry_id: str, state: EntryState) -> WorkflowChange | None:
    """The entry's latest change through the review workflow, or None while its file owns it."""
    found = audit.events(records.conn, target=entry_id, actions=WORKFLOW_ACTIONS, limit=1)
    versions = [v for v in records.versions(entry_id) if v["action"] != "import"]
    if found:
        actor, at, action = found[0].actor, found[0].at, found[0].action
    elif versions:
        actor, at, action = versions[-1]["actor"], versions[-1]["at"], versions[-1]["action"]
    elif state.origin != "import":
        actor, at = state.reviewed_by or state.created_by, state.reviewed_at or state.created_at
        action = "approve" if state.reviewed_by else "create"
    else:
        return None
    return WorkflowChange(actor, at, action)


def differences(stored: Entry, stored_status: str, incoming: Entry, incoming_status: str) -> tuple[FieldDiff, ...]:
    """The fields (and status) where the stored entry and the file's version differ."""
    old = {**entry_dict(stored), "status": stored_status}
    new = {**entry_dict(incoming), "status": incoming_status}
    return tuple(FieldDiff(name, label, _text(name, old[name]), _text(name, new[name]))
                 for name, label in FIELD_LABELS.items() if old[name] != new[name])


def plan_import(records: Records, entries: list[Entry], states: dict[str, EntryState], missing: list[str],
                overwrite: frozenset[str] | set[str]) -> ImportPlan:
    """Decide, from the stored state, what importing ``entries`` does to each of them and to the
    ``missing`` entries (stored entries only this file held, which it no longer holds).

    ``states`` are the review states a `kb export` file carries (its rows are compared with that
    status, the others as 已发布); ``overwrite`` names the governed entries to take from the file.
    """
    plan = ImportPlan()
    for entry in entries:
        state = records.state(entry.id)
        change = last_change(records, entry.id, state) if state else None
        if change is None:
            plan.write.append(entry)
            continue
        status = states[entry.id].status if entry.id in states else "published"
        diffs = differences(records.entry(entry.id), state.status, entry, status)
        if not diffs:
            plan.unchanged.append(entry.id)
        elif entry.id in overwrite:
            plan.overwrite.append(entry)
        else:
            plan.conflicts.append(Conflict(entry.id, change, diffs))
    for entry_id in missing:
        state = records.state(entry_id)
        change = last_change(records, entry_id, state)
        if change is None:
            plan.remove.append(entry_id)
        elif state.status not in LIVE:
            plan.release.append(entry_id)
        elif entry_id in overwrite:
            plan.withdraw.append(entry_id)
        else:
            plan.conflicts.append(Conflict(entry_id, change, missing=True))
    return plan


def apply_plan(conn: sqlite3.Connection, records: Records, plan: ImportPlan, states: dict[str, EntryState],
               actor: str, path: str, tokens_of: Callable[[Entry], str]) -> dict[str, list]:
    """Write what ``plan`` decided, inside the import's transaction; returns the ids per change
    (``added``, ``updated``, ``removed``, ``overwritten``) and the conflicts, for the audit event."""
    changed: dict[str, list] = {"added": [], "updated": [], "removed": [*plan.remove, *plan.withdraw],
                                "overwritten": plan.overwritten, "conflicts": [c.as_dict() for c in plan.conflicts]}
    for entry_id in plan.remove:
        records.set_state(conn, entry_id, replace(records.state(entry_id), status="deleted", note="已从导入文件中移除"))
    for entry in plan.write:
        change = import_entry(conn, records, entry, tokens_of, actor, states.get(entry.id))
        if change:
            changed[change].append(entry.id)
    name = Path(path).name
    for entry in plan.overwrite:
        status = states[entry.id].status if entry.id in states else "published"
        _overwrite(conn, records, entry, tokens_of(entry), status, actor, name)
    for entry_id in plan.withdraw:
        state = records.state(entry_id)
        reason = f"以导入文件覆盖：{name} 中已没有此条，删除"
        records.set_state(conn, entry_id, replace(state, status="deleted", note=reason))
        audit.record(conn, actor, "delete", entry_id, {"status": state.status, "version": state.version},
                     {"status": "deleted", "version": state.version}, reason)
    return changed


def import_entry(conn: sqlite3.Connection, records: Records, entry: Entry, tokens_of: Callable[[Entry], str],
                 actor: str, restored: EntryState | None) -> str:
    """Publish a file-owned imported entry (or give it its ``restored`` state from a `kb export`
    file); returns ``added``, ``updated`` or '' (already stored as is)."""
    old, state = records.entry(entry.id), records.state(entry.id)
    if restored is not None:
        if old == entry and state == restored:
            return ""
        records.put_entry(conn, entry, tokens_of(entry), restored)
        records.add_version(conn, entry, restored.version, actor, "import")
        return "updated" if state else "added"
    if old == entry and state.status == "published":
        return ""
    at = now()
    version = state.version + 1 if state and old != entry else (state.version if state else 1)
    new_state = EntryState(status="published", version=version, origin="import", created_by=actor,
                           created_at=state.created_at if state else at, reviewed_by=actor, reviewed_at=at,
                           published_at=at)
    records.put_entry(conn, entry, tokens_of(entry), new_state)
    if old != entry:
        records.add_version(conn, entry, version, actor, "import")
    return "updated" if state else "added"


def _overwrite(conn: sqlite3.Connection, records: Records, entry: Entry, tokens: str, status: str, actor: str,
               file_name: str) -> None:
    """Take the file's version of a governed entry, as a new version, audited as the admin's choice."""
    old, state = records.entry(entry.id), records.state(entry.id)
    at = now()
    new = replace(state, status=status, version=state.version + 1, reviewed_by=actor, reviewed_at=at,
                  published_at=at if status == "published" else state.published_at, note="")
    records.put_entry(conn, entry, tokens, new)
    records.add_version(conn, entry, new.version, actor, "overwrite")
    reason = f"以导入文件覆盖：采用 {file_name} 中的版本"
    if state.status == "deleted" and status != "deleted":
        reason += "，恢复已删除的条目"
    elif state.status != status:
        reason += f"，状态由“{STATUSES[state.status]}”改为“{STATUSES[status]}”"
    audit.record(conn, actor, "overwrite", entry.id, {**entry_dict(old), "status": state.status},
                 {**entry_dict(entry), "status": status}, reason)


def _text(name: str, value: object) -> str:
    if name == "status":
        return STATUSES.get(str(value), str(value))
    if isinstance(value, list | tuple):
        return "；".join(str(v) for v in value)
    return "" if value is None else str(value)


def _short(text: str) -> str:
    if not text:
        return "（空）"
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"
