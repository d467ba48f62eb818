"""The daily knowledge lifecycle: submit, review, publish, merge, roll back, delete and restore.

Every new or changed entry starts as a draft (待审核). A reviewer approves it (已发布), rejects it
with a reason (已退回), edits then approves it, or merges it into the published entry it
duplicates (已合并). A change to a published entry is submitted as a draft that ``revises`` it;
approving that draft makes its content the published entry's next version. Every content change is
kept as a version (`kb history`), every operation is written to the audit log in the same
transaction as the change, and the caller's permission is checked first (:func:`kb.users.require`).

Operations re-read the entry inside their write transaction, so concurrent reviewers in several
processes cannot both act on the same draft or overwrite each other's change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from datetime import date

from . import audit
from .base import KnowledgeBase, PreparedEntry
from .dates import require_date
from .dedup import near_duplicate
from .errors import ReviewError
from .records import entry_dict, entry_from_dict, now
from .text import normalize
from .types import STATUSES, Entry, EntryState
from .users import User, authorize

DATE_FIELDS = {"date": "日期", "effective_from": "生效日期", "expire_on": "失效日期"}
LIMITS = {"question": ("问题", 500), "answer": ("答复", 5000), "alt_questions": ("其他问法", 500), "item": ("事项", 200),
          "department": ("部门", 200), "tags": ("标签", 200), "source": ("来源", 500), "counter": ("窗口/组", 200),
          "basis": ("依据", 500), "supersedes": ("替代编号", 200)}
"""The label and the longest text (each wording, each tag) of the fields a submission or an edit fills in. Every
chunk of an entry is embedded with its 事项 while the knowledge base is locked, at about 1 ms a character: a document
pasted into a field would hold up every counter for minutes, so it is refused before anything is embedded."""
EDITABLE = ("question", "answer", "alt_questions", "item", "department", "tags", "source", "date", "counter", "basis",
            "effective_from", "expire_on", "supersedes")
CONTENT = ("question", "answer", "alt_questions", "item", "department", "tags", "basis", "effective_from",
           "expire_on", "supersedes")
"""The fields that make a revision a change; who, when and where it was written down do not."""


@dataclass(frozen=True)
class Submitted:
    """The outcome of a submission: ``status`` is ``draft`` (stored, awaiting review) or
    ``duplicate`` (an identical entry exists: ``entry_id`` is that entry and nothing was stored).
    ``duplicate_of`` names a published entry the draft may duplicate (for the reviewer);
    ``successor_warnings`` say that the entry it supersedes already has another new 口径."""

    entry_id: str
    status: str
    duplicate_of: str = ""
    similarity: float = 0.0
    successor_warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rival:
    """Another successor of the entry a draft supersedes: a pending draft (``status`` draft), or a
    published entry that takes effect after today."""

    entry_id: str
    superseded: str
    status: str
    effective_from: str

    def warning(self) -> str:
        when = "待审核" if self.status == "draft" else f"将于 {self.effective_from} 生效"
        return f"⚠ {self.superseded} 已有{when}的新口径 {self.entry_id}"


class Workflow:
    """Lifecycle operations on one knowledge base; each takes the acting :class:`~kb.users.User`."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.records = kb.records

    # -- submission ------------------------------------------------------------------------

    def submit(self, actor: User, entry: Entry, revises: str = "") -> Submitted:
        """Store a solved case (or a change to the published entry ``revises``) as a draft.

        ``entry.id`` is ignored: a new id (K00001 …) is allocated. The submitter defaults to the
        actor. A revision starts from every field of ``revises`` and overrides only the fields
        ``entry`` fills in. A draft that supersedes an entry which already has another successor
        (pending, or published but not yet in effect) is flagged (``EntryState.rivals``). Raises
        :class:`ReviewError` for an invalid submission.
        """
        actor = authorize(self.records, actor, "submit")
        if revises:
            entry = _overlay(self._published(revises)[0], entry)
        entry = self._validated(replace(entry, submitter=entry.submitter or actor.label,
                                        date=entry.date or now()[:10]))
        same = self._identical(entry, revises)
        if same:
            with self.records.transaction() as conn:
                audit.record(conn, actor.username, "duplicate", same, after=entry_dict(entry),
                             reason="与已有条目完全相同，未重复存储")
            return Submitted(same, "duplicate")
        duplicate = near_duplicate(self.kb, entry, exclude={entry.supersedes, revises})
        with self.records.transaction(changes_index=False) as conn:
            entry = replace(entry, id=self.records.next_case_id(conn))
        prepared = self.kb.prepare_entry(entry)
        rivals = self.rivals(entry, revises)
        state = EntryState(status="draft", version=1, origin="revision" if revises else "submit", revises=revises,
                           duplicate_of=duplicate.entry_id if duplicate else "", created_by=actor.username,
                           created_at=now(), rivals=",".join(r.entry_id for r in rivals))
        with self.records.transaction() as conn:
            same = self._identical(entry, revises)
            if same:
                audit.record(conn, actor.username, "duplicate", same, after=entry_dict(entry),
                             reason="与已有条目完全相同，未重复存储")
                return Submitted(same, "duplicate")
            self.kb.write_entry(conn, prepared, state)
            self.records.add_version(conn, entry, 1, actor.username, "create")
            audit.record(conn, actor.username, "create", entry.id, after={**entry_dict(entry), **_brief(state)})
        return Submitted(entry.id, "draft", state.duplicate_of, duplicate.similarity if duplicate else 0.0,
                         tuple(r.warning() for r in rivals))

    def _validated(self, entry: Entry) -> Entry:
        """The entry with question/answer cleaned and dates as ISO; raises for what cannot be stored."""
        question, answer = normalize(entry.question), normalize(entry.answer)
        _check_lengths(replace(entry, question=question, answer=answer))
        if not question:
            raise ReviewError("问题（群众咨询的情况）不能为空，请填写后再提交。")
        if not answer:
            raise ReviewError("解决方案/答复不能为空，请填写后再提交。")
        dates = {name: require_date(getattr(entry, name), label) for name, label in DATE_FIELDS.items()}
        if dates["effective_from"] and dates["expire_on"] and dates["expire_on"] < dates["effective_from"]:
            raise ReviewError(f"失效日期 {dates['expire_on']} 早于生效日期 {dates['effective_from']}。"
                              "失效日期是口径最后有效的一天，可以与生效日期相同，不能更早；请改正后再提交。")
        if entry.supersedes:
            self._published(entry.supersedes)
        return replace(entry, question=question, answer=answer, **dates)

    def rivals(self, entry: Entry, revises: str = "") -> list[Rival]:
        """Other successors of the entry that ``entry`` supersedes: drafts that supersede it too, and
        published entries that supersede it from a day after today. Neither ``entry`` itself nor the
        entry it ``revises`` (or other revisions of that entry) counts."""
        if not entry.supersedes:
            return []
        rows = self.records.entries_where(
            "supersedes = ? AND id != ? AND (CASE WHEN revises != '' THEN revises ELSE id END) != ? "
            "AND (status = 'draft' OR (status = 'published' AND effective_from > ?))",
            (entry.supersedes, entry.id, revises or entry.id, date.today().isoformat()))
        return [Rival(e.id, entry.supersedes, s.status, e.effective_from) for e, s in rows]

    def _identical(self, entry: Entry, revises: str = "") -> str:
        """What ``entry`` would store again, or '': for a revision, ``revises`` itself when none of
        its :data:`CONTENT` fields changes; otherwise a live entry with exactly this 事项, question
        and answer."""
        if revises:
            published = self._published(revises)[0]
            return revises if all(getattr(entry, f) == getattr(published, f) for f in CONTENT) else ""
        rows = self.records.entries_where(
            "item=? AND question=? AND answer=? AND status IN ('draft', 'published')",
            (entry.item, entry.question, entry.answer))
        return rows[0][0].id if rows else ""

    # -- review ----------------------------------------------------------------------------

    def approve(self, actor: User, entry_id: str, changes: dict | None = None, keep_both: bool = False,
                reason: str = "", confirm_successor: bool = False) -> str:
        """Publish a draft, optionally editing it first; returns the id of the published entry.

        A draft flagged as a possible duplicate needs ``keep_both`` (or use :meth:`merge`). A draft
        that revises a published entry becomes that entry's next version. A draft that supersedes an
        entry which has another successor (see :meth:`rivals`, checked again now) needs
        ``confirm_successor``; the confirmation is written into the audit event's reason.
        """
        actor = authorize(self.records, actor, "review")
        entry, state = self._draft(entry_id)
        edited = self._validated(_apply(entry, changes)) if changes else entry
        if state.duplicate_of and state.duplicate_of != edited.supersedes and not keep_both:
            raise ReviewError(f"{entry_id} 可能与已发布的 {state.duplicate_of} 重复：请合并到该条目，"
                              "或确认两条都要保留后再发布（命令行加 --keep-both；网页勾选“确认两条都保留”）。")
        target = state.revises or entry_id
        published = replace(edited, id=target)
        base = self._published(target)[0] if state.revises else None
        if base is not None and not published.alt_questions:
            published = replace(published, alt_questions=base.alt_questions)
        prepared = self.kb.prepare_entry(published)
        at = now()
        with self.records.transaction() as conn:
            entry, state = self._draft(entry_id)
            rivals = self.rivals(edited, state.revises)
            if rivals and not confirm_successor:
                raise ReviewError(f"{entry_id} 要替代 {edited.supersedes}，但{'；'.join(r.warning() for r in rivals)}。"
                                  "请先核对两个新口径；确认仍要发布请加 --confirm-successor（网页勾选“确认仍发布”）。")
            if rivals:
                reason = "；".join(filter(None, [reason, "已确认另有新口径：" + "；".join(r.warning() for r in rivals)]))
            if edited != entry and not state.revises:
                self.records.add_version(conn, edited, state.version + 1, actor.username, "edit")
                audit.record(conn, actor.username, "edit", entry_id, entry_dict(entry), entry_dict(edited), reason)
                state = replace(state, version=state.version + 1)
            if state.revises:
                self._publish_revision(conn, actor, prepared, entry_id, state, reason, base)
            else:
                new = replace(state, status="published", reviewed_by=actor.username, reviewed_at=at,
                              published_at=at, duplicate_of="", rivals="")
                self.kb.write_entry(conn, prepared, new)
                audit.record(conn, actor.username, "approve", entry_id, _brief(state), _brief(new), reason)
        return target

    def _publish_revision(self, conn, actor: User, prepared: PreparedEntry, draft_id: str, draft: EntryState,
                          reason: str, base: Entry) -> None:
        target = prepared.entry.id
        old, state = self._published(target)
        if old != base:
            raise ReviewError(f"{target} 刚被其他人修改过，本次审核未保存，请重新审核 {draft_id}。")
        at = now()
        new = replace(state, version=state.version + 1, reviewed_by=actor.username, reviewed_at=at, published_at=at)
        self.kb.write_entry(conn, prepared, new)
        self.records.add_version(conn, prepared.entry, new.version, actor.username, "approve")
        self.records.set_state(conn, draft_id, replace(draft, status="merged", reviewed_by=actor.username,
                                                        reviewed_at=at, note=f"已作为 {target} 的新版本发布"))
        audit.record(conn, actor.username, "approve", target, entry_dict(old), entry_dict(prepared.entry),
                     reason or f"采纳修订稿 {draft_id}")

    def reject(self, actor: User, entry_id: str, reason: str) -> None:
        """Send a draft back (已退回) with the reason the submitter will see."""
        actor = authorize(self.records, actor, "review")
        if not reason.strip():
            raise ReviewError("退回时必须写明理由（--reason），提交人要据此修改。")
        with self.records.transaction() as conn:
            _, state = self._draft(entry_id)
            new = replace(state, status="rejected", reviewed_by=actor.username, reviewed_at=now(), note=reason)
            self.records.set_state(conn, entry_id, new)
            audit.record(conn, actor.username, "reject", entry_id, _brief(state), _brief(new), reason)

    def merge(self, actor: User, draft_id: str, into: str = "", keep: str = "existing", reason: str = "") -> str:
        """Fold a draft into a published entry (by default the one it was flagged as duplicating).

        ``keep="existing"`` keeps the published wording and adds the draft's question as an
        alternative question; ``keep="new"`` publishes the draft's question and answer, keeps the old
        question as the alternative, and keeps every other field (依据, 标签, 来源 …) unless the draft
        gives a value for it. Either way the published entry gets a new version and the draft is
        marked 已合并. Returns the published entry's id.
        """
        actor = authorize(self.records, actor, "review")
        if keep not in ("existing", "new"):
            raise ReviewError("keep 只能是 existing（保留原条目的表述）或 new（采用新提交的表述）。")
        draft, state = self._draft(draft_id)
        target = into or state.duplicate_of
        if not target:
            raise ReviewError(f"{draft_id} 没有被标记为重复，请指定要并入的条目编号（--into）。")
        base, _ = self._published(target)
        merged = _merged(base, draft, keep)
        prepared = self.kb.prepare_entry(merged)
        with self.records.transaction() as conn:
            self._draft(draft_id)
            old, target_state = self._published(target)
            if old != base:
                raise ReviewError(f"{target} 刚被其他人修改过，本次合并未保存，请重新执行合并。")
            new = replace(target_state, version=target_state.version + 1, reviewed_by=actor.username,
                          reviewed_at=now(), published_at=now())
            self.kb.write_entry(conn, prepared, new)
            self.records.add_version(conn, merged, new.version, actor.username, "merge")
            self.records.set_state(conn, draft_id, replace(state, status="merged", reviewed_by=actor.username,
                                                            reviewed_at=now(), note=f"已并入 {target}"))
            audit.record(conn, actor.username, "merge", target, entry_dict(old), entry_dict(merged),
                         reason or f"合并重复提交 {draft_id}（保留{'原' if keep == 'existing' else '新'}表述）")
        return target

    # -- history ---------------------------------------------------------------------------

    def rollback(self, actor: User, entry_id: str, version: int, reason: str) -> int:
        """Publish an earlier version's content again, as a new version; returns the new version number."""
        actor = authorize(self.records, actor, "review")
        versions = {v["version"]: v for v in self.records.versions(entry_id)}
        if version not in versions:
            raise ReviewError(f"{entry_id} 没有第 {version} 版，可用的版本：{sorted(versions) or '无'}（见 kb history）。")
        content = entry_from_dict(versions[version]["content"])
        prepared = self.kb.prepare_entry(content)
        with self.records.transaction() as conn:
            old, state = self._published(entry_id)
            if old == content:
                raise ReviewError(f"{entry_id} 的现行内容与第 {version} 版相同（现行第 {state.version} 版），无需回滚；"
                                  "要回到的是哪一版，请用 kb history 查看。")
            new = replace(state, version=state.version + 1, reviewed_by=actor.username, reviewed_at=now(),
                          published_at=now())
            self.kb.write_entry(conn, prepared, new)
            self.records.add_version(conn, content, new.version, actor.username, "rollback")
            audit.record(conn, actor.username, "rollback", entry_id, entry_dict(old), entry_dict(content),
                         reason or f"回滚到第 {version} 版")
        return new.version

    def delete(self, actor: User, entry_id: str, reason: str) -> None:
        """Soft-delete an entry: it disappears from search but stays stored; :meth:`restore` undoes it."""
        actor = authorize(self.records, actor, "delete")
        with self.records.transaction() as conn:
            state = self._state(entry_id)
            if state.status == "deleted":
                raise ReviewError(f"{entry_id} 已经删除。")
            new = replace(state, status="deleted", note=reason)
            self.records.set_state(conn, entry_id, new)
            audit.record(conn, actor.username, "delete", entry_id, _brief(state), _brief(new), reason)

    def restore(self, actor: User, entry_id: str, reason: str = "") -> None:
        """Undo a soft delete: the entry gets back the status it had before."""
        actor = authorize(self.records, actor, "delete")
        deletions = audit.events(self.records.conn, action="delete", target=entry_id, limit=1)
        with self.records.transaction() as conn:
            state = self._state(entry_id)
            if state.status != "deleted":
                raise ReviewError(f"{entry_id} 没有被删除（当前状态：{STATUSES[state.status]}），无需恢复。")
            previous = deletions[0].before.get("status", "published") if deletions else "published"
            new = replace(state, status=previous, note="")
            self.records.set_state(conn, entry_id, new)
            audit.record(conn, actor.username, "restore", entry_id, _brief(state), _brief(new), reason)

    def history(self, entry_id: str) -> dict:
        """An entry's state, every stored version (oldest first) and its audit events (newest first)."""
        state = self._state(entry_id)
        return {"entry": entry_dict(self.records.entry(entry_id)), "state": asdict(state),
                "versions": self.records.versions(entry_id),
                "events": [asdict(e) for e in audit.events(self.records.conn, target=entry_id)]}

    def drafts(self) -> list[tuple[Entry, EntryState]]:
        """Entries awaiting review, oldest first."""
        return self.records.entries_where("status='draft'")

    # -- state checks ----------------------------------------------------------------------

    def _state(self, entry_id: str) -> EntryState:
        state = self.records.state(entry_id)
        if state is None:
            raise ReviewError(f"没有编号为 {entry_id} 的条目，请用 kb review list 或 kb search 查找编号。")
        return state

    def _draft(self, entry_id: str) -> tuple[Entry, EntryState]:
        state = self._state(entry_id)
        if state.status != "draft":
            raise ReviewError(f"{entry_id} 当前状态是“{STATUSES[state.status]}”，只有待审核的条目可以审核。")
        return self.records.entry(entry_id), state

    def _published(self, entry_id: str) -> tuple[Entry, EntryState]:
        state = self._state(entry_id)
        if state.status != "published":
            raise ReviewError(f"{entry_id} 当前状态是“{STATUSES[state.status]}”，只能引用已发布的条目。")
        return self.records.entry(entry_id), state


def _check_lengths(entry: Entry) -> None:
    """Raise :class:`ReviewError` naming the first field of ``entry`` longer than its limit in :data:`LIMITS`."""
    for name, (label, limit) in LIMITS.items():
        value = getattr(entry, name)
        longest = max(map(len, value), default=0) if isinstance(value, tuple) else len(value)
        if longest > limit:
            raise ReviewError(f"{label}太长（{longest} 字），请压缩到 {limit} 字以内；成篇的文件请由管理员导入知识库。")


def _brief(state: EntryState) -> dict:
    return {"status": state.status, "version": state.version, "duplicate_of": state.duplicate_of,
            "rivals": state.rivals}


def _apply(entry: Entry, changes: dict) -> Entry:
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ReviewError(f"不能修改字段 {'、'.join(sorted(unknown))}；可修改的字段：{'、'.join(EDITABLE)}。")
    values = {k: tuple(v) if k in ("tags", "alt_questions") and not isinstance(v, tuple) else v
              for k, v in changes.items()}
    return replace(entry, **values)


def _overlay(base: Entry, given: Entry) -> Entry:
    """``base`` with every field that ``given`` fills in (an empty field keeps ``base``'s value)."""
    return replace(base, **{f.name: getattr(given, f.name) for f in fields(Entry) if getattr(given, f.name)})


def _merged(old: Entry, draft: Entry, keep: str) -> Entry:
    """The published entry after merging ``draft`` into ``old``.

    ``keep="existing"`` keeps ``old`` as it is; ``keep="new"`` takes the draft's question and answer
    and, for every other field, the draft's value where it has one. Either way no wording is lost
    (the other questions become alternatives) and the tags of both are kept.
    """
    kept, other = (old, draft) if keep == "existing" else (replace(_overlay(old, draft), id=old.id), old)
    alternatives = [q for q in (*kept.alt_questions, *other.questions) if q != kept.question]
    tags = tuple(dict.fromkeys((*kept.tags, *other.tags)))
    supersedes = kept.supersedes if kept.supersedes != old.id else old.supersedes
    return replace(kept, alt_questions=tuple(dict.fromkeys(alternatives)), tags=tags, supersedes=supersedes)
