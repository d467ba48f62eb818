"""Account administration: every account with its state, and the admin's changes to an account.

An admin (permission ``users``) changes an account's role, 组 and display name, and disables or
re-enables it; a password reset is :meth:`kb.users.Users.set_password`. A disabled account is kept
(its name stays taken and its history readable) but cannot log in: :meth:`kb.users.Users.authenticate`
and :meth:`kb.users.Users.get` see active accounts only, so a session of a disabled account is refused
at its next request.

Guard rail: the last active admin can be neither disabled nor given another role, so the knowledge
base always keeps someone who can manage it. The check runs inside the write transaction, so two
admins disabling each other at the same moment cannot both succeed.

Every change is an audit event (labelled in :data:`kb.audit.ACTIONS`), written in the same transaction: ``user_edit``
with the changed fields before and after, ``user_disable`` and ``user_enable`` with the state.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from . import audit
from .errors import UserError
from .users import ROLES, User, Users, parse_role, require, user_from_row

STATES: dict[bool, str] = {True: "在用", False: "已停用"}
"""An account's ``active`` flag as shown to people."""

_FIELDS = {"role": "role", "display_name": "display_name", "group": "group_name"}
"""Editable :class:`User` fields -> their ``users`` columns."""


@dataclass(frozen=True)
class Account:
    """An account as the admin sees it: the user, whether it may log in, and when it was created
    (ISO time)."""

    user: User
    active: bool
    created_at: str

    @property
    def state(self) -> str:
        """``在用`` or ``已停用``."""
        return STATES[self.active]


def _account(row: sqlite3.Row) -> Account:
    return Account(user_from_row(row), bool(row["active"]), row["created_at"])


class Accounts:
    """The admin's view of the accounts of a :class:`~kb.users.Users` store and the changes to them.

    Each change needs permission ``users`` from the actor as stored now (a demoted or disabled admin
    is refused at once) and runs in a write transaction of the record store with its audit event.
    """

    def __init__(self, users: Users):
        self.users = users
        self.records = users.records

    def list(self) -> list[Account]:
        """Every account, disabled ones included, by role (窗口人员, 组长/培训师, 管理员) then username.

        A read: the caller admits the reader to ``users`` first (:func:`kb.users.admit`)."""
        rows = self.users.conn.execute("SELECT * FROM users ORDER BY username").fetchall()
        order = {role: i for i, role in enumerate(ROLES)}
        found = [_account(r) for r in rows]
        return sorted(found, key=lambda a: order.get(a.user.role, len(order)))

    def get(self, username: str) -> Account | None:
        """The account ``username`` whether active or not, or ``None``."""
        row = self.users.conn.execute("SELECT * FROM users WHERE username=?", (username,)).fetchone()
        return _account(row) if row else None

    def change(self, actor: User, username: str, role: str | None = None, display_name: str | None = None,
               group: str | None = None) -> User:
        """Change the given fields of ``username`` (``None`` keeps a field) and log ``user_edit``.

        Args:
            actor: the admin making the change (permission ``users``).
            role: a role key or Chinese alias (see :func:`kb.users.parse_role`).
            display_name: the person's name; surrounding spaces are dropped.
            group: the 窗口/组; surrounding spaces are dropped.

        Returns:
            The account as changed (unchanged, with nothing logged, when every field already has the
            value asked for).

        Raises:
            UserError: no such account, or it is the last active admin and ``role`` is not admin.
            PermissionDenied: ``actor`` is not an active admin.
        """
        asked = {"role": parse_role(role) if role is not None else None,
                 "display_name": display_name.strip() if display_name is not None else None,
                 "group": group.strip() if group is not None else None}
        with self.records.transaction(changes_index=False) as conn:
            current = self._admin(conn, actor)
            before = user_from_row(self._row(conn, username))
            old = {"role": before.role, "display_name": before.display_name, "group": before.group}
            new = {**old, **{k: v for k, v in asked.items() if v is not None}}
            changed = [k for k in old if old[k] != new[k]]
            if not changed:
                return before
            if old["role"] == "admin" and new["role"] != "admin":
                self._keep_an_admin(conn, username, f"改为{ROLES[new['role']]}")
            conn.execute(f"UPDATE users SET {', '.join(f'{_FIELDS[k]}=?' for k in changed)} WHERE username=?",
                         (*(new[k] for k in changed), username))
            audit.record(conn, current.username, "user_edit", f"user:{username}",
                         before={k: old[k] for k in changed}, after={k: new[k] for k in changed})
        return User(username, new["role"], new["display_name"], new["group"])

    def disable(self, actor: User, username: str, reason: str = "") -> None:
        """Disable ``username`` (it can no longer log in) and log ``user_disable`` with ``reason``.

        Raises:
            UserError: no such account, it is already disabled, or it is the last active admin.
            PermissionDenied: ``actor`` is not an active admin.
        """
        self._set_active(actor, username, False, reason.strip())

    def enable(self, actor: User, username: str, reason: str = "") -> None:
        """Re-enable the disabled account ``username`` and log ``user_enable``.

        Raises:
            UserError: no such account, or it is not disabled.
            PermissionDenied: ``actor`` is not an active admin.
        """
        self._set_active(actor, username, True, reason.strip())

    def _set_active(self, actor: User, username: str, active: bool, reason: str) -> None:
        with self.records.transaction(changes_index=False) as conn:
            current = self._admin(conn, actor)
            row = self._row(conn, username)
            if bool(row["active"]) == active:
                raise UserError(f"账号“{username}”已经是“{STATES[active]}”状态，无需重复操作。")
            if not active and row["role"] == "admin":
                self._keep_an_admin(conn, username, "停用")
            conn.execute("UPDATE users SET active=? WHERE username=?", (int(active), username))
            audit.record(conn, current.username, "user_enable" if active else "user_disable", f"user:{username}",
                         before={"active": not active}, after={"active": active}, reason=reason)

    def _admin(self, conn: sqlite3.Connection, actor: User) -> User:
        current = self.users.current(conn, actor)
        require(current, "users")
        return current

    @staticmethod
    def _row(conn: sqlite3.Connection, username: str) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM users WHERE username=?", (username,)).fetchone()
        if row is None:
            raise UserError(f"用户“{username}”不存在，请检查用户名（账号列表里有全部账号）。")
        return row

    @staticmethod
    def _keep_an_admin(conn: sqlite3.Connection, username: str, change: str) -> None:
        """Refuse ``change`` to ``username`` if no other active admin would remain."""
        others = conn.execute("SELECT COUNT(*) FROM users WHERE role='admin' AND active=1 AND username != ?",
                              (username,)).fetchone()[0]
        if others == 0:
            raise UserError(f"“{username}”是最后一个在用的管理员账号，不能{change}。"
                            "请先新增或启用另一个管理员账号，再对它操作。")
