"""Scopes: the 事项 each approving department (role ``department``, 审批部门) is responsible for.

An admin sets a department account's 事项 (table ``department_items``); the department's view of
the quarterly papers (:mod:`kb.department`) shows and changes only questions of those 事项. An
admin's scope is every 事项 (:data:`EVERY_ITEM`). Setting a scope replaces the previous one and is
written to the audit log with the old and the new list.
"""

from __future__ import annotations

from . import audit
from .errors import KBError, PermissionDenied
from .records import Records
from .users import User, Users, authorize

SCHEMA = """
CREATE TABLE IF NOT EXISTS department_items (
    username TEXT NOT NULL, item TEXT NOT NULL, PRIMARY KEY (username, item));
"""

EVERY_ITEM = None
"""The scope of an admin: no restriction (``items`` returns it for the ``admin`` role)."""


class ScopeError(KBError):
    """A scope cannot be set as asked (not a department account, no 事项 given)."""


class Scopes:
    """The departments' 事项 in the record store's SQLite database (table created on first use)."""

    def __init__(self, records: Records):
        self.records = records
        self.conn = records.conn
        self.conn.executescript(SCHEMA)

    def stored(self, username: str) -> list[str]:
        """The 事项 stored for ``username``, sorted (empty when none were set)."""
        return [r[0] for r in self.conn.execute(
            "SELECT item FROM department_items WHERE username=? ORDER BY item", (username,))]

    def items(self, user: User) -> frozenset[str] | None:
        """The 事项 ``user`` may set and grade: :data:`EVERY_ITEM` (``None``) for an admin, its stored
        事项 for a department; refuses a department with none yet, naming the command that sets them."""
        if user.role == "admin":
            return EVERY_ITEM
        found = frozenset(self.stored(user.username))
        if not found:
            raise PermissionDenied(f"管理员还没有为账号“{user.username}”设置负责的事项：请管理员在“管理 → 账号管理”"
                                   f"或用 kb user scope {user.username} --item 事项名 设置后再出题阅卷。", "setpaper")
        return found

    def set(self, actor: User, username: str, items: list[str]) -> list[str]:
        """Replace department account ``username``'s 事项 with ``items`` (blank and repeated names
        dropped); needs ``users``. Logs ``scope`` with the old and new lists. Returns the new list."""
        actor = authorize(self.records, actor, "users")
        wanted = sorted({i.strip() for i in items if i.strip()})
        target = Users(self.records).get(username)
        if target is None:
            raise ScopeError(f"账号“{username}”不存在或已停用：请检查用户名（kb user list 可查看）。")
        if target.role != "department":
            raise ScopeError(f"账号“{username}”不是审批部门账号，不能设置负责事项：先用 kb user set {username} "
                             "--role 审批部门 改为审批部门。")
        if not wanted:
            raise ScopeError("请至少给出一个事项（--item 事项名，可重复）。")
        before = self.stored(username)
        with self.records.transaction(changes_index=False) as conn:
            conn.execute("DELETE FROM department_items WHERE username=?", (username,))
            conn.executemany("INSERT INTO department_items VALUES(?,?)", [(username, i) for i in wanted])
            audit.record(conn, actor.username, "scope", f"user:{username}", before={"items": before},
                         after={"items": wanted})
        return wanted
