"""The audit log: every change to the knowledge base, with who, when, what (before/after) and why.

Events are written inside the transaction that makes the change, so the log and the data never
disagree. Nothing is ever deleted from the log.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from .logfilter import where

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, before TEXT NOT NULL, after TEXT NOT NULL, reason TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_target ON audit(target);
"""

ACTIONS: dict[str, str] = {
    "create": "新建",
    "edit": "修改",
    "approve": "审核发布",
    "reject": "退回",
    "merge": "合并",
    "rollback": "回滚",
    "delete": "删除",
    "restore": "恢复",
    "import": "批量导入",
    "overwrite": "以导入文件覆盖",
    "duplicate": "重复提交（未存储）",
    "user_add": "新增用户",
    "user_passwd": "修改密码",
    "user_edit": "修改账号",
    "user_disable": "停用账号",
    "user_enable": "启用账号",
    "restore_backup": "从备份恢复",
    "lexicon": "补充词表",
    "scope": "设置负责事项",
    "regrade": "人工评分",
}


@dataclass(frozen=True)
class AuditEvent:
    """One logged change. ``before``/``after`` are the changed record's fields (empty dict = none)."""

    id: int
    at: str
    actor: str
    action: str
    target: str
    before: dict
    after: dict
    reason: str

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action)

    def changes(self) -> dict[str, tuple[object, object]]:
        """field -> (before, after) for the fields that differ."""
        keys = dict.fromkeys([*self.before, *self.after])
        return {k: (self.before.get(k), self.after.get(k)) for k in keys if self.before.get(k) != self.after.get(k)}


def record(conn: sqlite3.Connection, actor: str, action: str, target: str, before: dict | None = None,
           after: dict | None = None, reason: str = "", at: str = "") -> None:
    """Append an event; call inside the transaction that makes the change. ``at`` defaults to now."""
    conn.execute(
        "INSERT INTO audit(at, actor, action, target, before, after, reason) VALUES(?,?,?,?,?,?,?)",
        (at or datetime.now().isoformat(timespec="seconds"), actor, action, target,
         json.dumps(before or {}, ensure_ascii=False), json.dumps(after or {}, ensure_ascii=False), reason),
    )


def events(conn: sqlite3.Connection, actor: str = "", action: str = "", target: str = "", since: str = "",
           until: str = "", limit: int = 200, actions: tuple[str, ...] = ()) -> list[AuditEvent]:
    """Events matching every given filter, newest first. ``since``/``until`` are inclusive ISO dates;
    ``actions`` keeps events whose action is any of these."""
    clause, args = where({"actor": actor, "action": action, "target": target}, since, until)
    if actions:
        clause += (" AND " if clause else " WHERE ") + f"action IN ({','.join('?' * len(actions))})"
        args.extend(actions)
    rows = conn.execute(f"SELECT * FROM audit{clause} ORDER BY id DESC LIMIT ?", (*args, limit))
    return [AuditEvent(r["id"], r["at"], r["actor"], r["action"], r["target"], json.loads(r["before"]),
                       json.loads(r["after"]), r["reason"]) for r in rows]
