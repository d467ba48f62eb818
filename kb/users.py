"""Users, roles and permissions: who may do what, enforced by the operations themselves.

Four roles (:data:`ROLES`): 窗口人员 submit and read, 组长/培训师 also review, publish and audit, 管理员
also import, delete and manage accounts; 审批部门 only asks, and sets and grades its 事项' questions.
:data:`PERMISSIONS` maps each permission to the roles holding it, and every write operation calls
:func:`require` before touching data, so a UI that forgets a check cannot bypass it.

Accounts live in a ``users`` table in the record store's SQLite database. Passwords are hashed
with argon2id (``argon2-cffi``); neither the password nor its hash is ever written to the audit log.
The admin's changes to existing accounts (role, group, name, disabling) are in :mod:`kb.accounts`.

Set-up mode: while a knowledge base has no accounts at all, every caller acts as
:data:`LOCAL_ADMIN` (the demo and single-user installs never need to log in). Creating the first
account, which must be an admin, ends set-up mode for good: from then on callers must log in,
and :data:`LOCAL_ADMIN` is refused by every account operation.

Reading is governed too (:func:`admit`): once accounts exist, every read needs a known account
whose role holds the read's permission. The centre may open counter reading (asking and searching
published knowledge, :data:`OPEN_PERMISSIONS`) to callers without an account; drafts, export,
statistics, the audit trail and the account list always need an account.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from . import audit
from .errors import AuthenticationFailed, PermissionDenied, UserError
from .records import Records, now

ROLES: dict[str, str] = {"staff": "窗口人员", "reviewer": "组长/培训师", "admin": "管理员", "department": "审批部门"}

ROLE_ALIASES: dict[str, str] = {
    "staff": "staff", "窗口人员": "staff", "窗口": "staff",
    "reviewer": "reviewer", "组长/培训师": "reviewer", "组长": "reviewer", "培训师": "reviewer",
    "admin": "admin", "管理员": "admin", "department": "department", "审批部门": "department", "部门": "department",
}

_COUNTER = frozenset({"staff", "reviewer", "admin"})
_READERS = _COUNTER | {"department"}
_REVIEWERS = frozenset({"reviewer", "admin"})
_ADMINS = frozenset({"admin"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "submit": _COUNTER,
    "read": _READERS,
    "stats": _COUNTER,
    "drafts": _REVIEWERS,
    "export": _REVIEWERS,
    "review": _REVIEWERS,
    "digest": _REVIEWERS,
    "audit": _REVIEWERS,
    "lexicon": _REVIEWERS,
    "import": _ADMINS,
    "delete": _ADMINS,
    "users": _ADMINS,
    "usage": _ADMINS,
    "study": _COUNTER,
    "progress": _REVIEWERS,
    "gaps": _REVIEWERS,
    "quiz": _REVIEWERS,
    "exam": _COUNTER,
    "escalate": _COUNTER,
    "escalations": _REVIEWERS,
    "training": _REVIEWERS,
    "setpaper": frozenset({"department", "admin"}),
}
"""Permission -> the roles that hold it.

Reading: ``read`` is asking, searching and listing the lexicon, over published knowledge only (the
one permission :data:`OPEN_PERMISSIONS` can open to callers without an account); ``stats`` is the
index statistics and the evaluation run; ``drafts`` is seeing entries awaiting review (the review
queue, ``--drafts`` in search and ask), which are unchecked answers and so reviewer material;
``export`` is the JSONL dump of every entry with its review state, drafts included, so it needs the
same roles as ``drafts`` (it holds nothing a reviewer cannot already see; accounts and the audit
log are only in the admin's backup); ``audit`` covers the audit log and an entry's history;
listing accounts is part of ``users``.

Writing: ``review`` covers approve, reject, edit, merge and rollback; ``lexicon`` is adding to the
domain lexicon; ``import`` is the admin bulk import that publishes directly, reindexing and the
backup; ``delete`` covers soft delete and restore; ``users`` is account management (adding,
changing role, group and name, resetting passwords, disabling and enabling).

``usage`` is the admin page's statistics: the knowledge base's growth and the question log counted
per day and outcome (how much the counters ask and how often the answer is refused).

``gaps`` is the knowledge-gap queue (questions refused, answered with low confidence or rated 没用,
with the staff's ratings) and turning a gap into a draft entry.

``study`` is the new-hire study chat (one's own lessons, questions and record); ``progress`` is
seeing other learners' study records (the trainer's view); ``quiz`` is building and reading the
question banks, composing, assigning and exporting papers and reading everyone's results (they
hold the answer keys); ``exam`` is taking the papers assigned to oneself, one's own results and
wrong-answer book.

``escalate`` is sending a question the counter could not answer to the 办不成事 window;
``escalations`` is working that window's registry (status, department, solution, the monthly
report); ``training`` is the monthly training pack, new hires' four-week plans and the quarterly
evaluation. ``setpaper`` is a department's part in the quarterly meeting within the 事项 an admin
gave it (:mod:`kb.scopes`, :mod:`kb.department`): its questions, papers, 简答 grading and results
(names and scores only). Without ``quiz`` it never sees other departments' questions or personal data."""

PERMISSION_LABELS: dict[str, str] = {
    "submit": "提交案例",
    "read": "查询知识库",
    "stats": "查看统计与评测",
    "drafts": "查看待审核内容",
    "export": "导出知识库",
    "review": "审核发布",
    "digest": "生成汇总",
    "audit": "查看审计日志和版本历史",
    "lexicon": "补充词表",
    "import": "批量导入",
    "delete": "删除与恢复",
    "users": "管理账号",
    "usage": "查看使用统计",
    "study": "学习知识库",
    "progress": "查看学员进度",
    "gaps": "处理知识缺口",
    "quiz": "管理题库",
    "exam": "参加自测",
    "escalate": "转办不成事窗口",
    "escalations": "处理办不成事",
    "training": "培训与考评",
    "setpaper": "出题阅卷",
}

MAX_USERNAME = 32
MIN_PASSWORD = 8

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY, display_name TEXT NOT NULL, role TEXT NOT NULL,
    group_name TEXT NOT NULL, password_hash TEXT NOT NULL, created_at TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1);
"""

_LOGIN_HINT = "请用 --user 指定用户名（或设置环境变量 KB_USER），并提供密码（设置环境变量 KB_PASSWORD，或按提示输入）。"
_BAD_LOGIN = "用户名或密码错误，请检查后重试；忘记密码请联系管理员重置。"


def parse_role(text: str) -> str:
    """The role key (``staff``/``reviewer``/``admin``/``department``) for a key or Chinese alias such as ``组长``."""
    role = ROLE_ALIASES.get(text.strip().lower())
    if role is None:
        choices = "、".join(f"{name}（{key}）" for key, name in ROLES.items())
        raise UserError(f"无法识别的角色“{text}”。可选角色：{choices}。")
    return role


@dataclass(frozen=True)
class User:
    """An account, or :data:`LOCAL_ADMIN`. ``role`` is a key of :data:`ROLES`; ``group`` is the 窗口/组."""

    username: str
    role: str
    display_name: str = ""
    group: str = ""

    def can(self, permission: str) -> bool:
        """Whether this user's role holds ``permission`` (a key of :data:`PERMISSIONS`)."""
        return self.role in PERMISSIONS[permission]

    @property
    def label(self) -> str:
        """Name and role for messages, e.g. ``张三（窗口人员）``; :data:`ANONYMOUS` has no role to show."""
        name = self.display_name or self.username
        return f"{name}（{ROLES[self.role]}）" if self.role in ROLES else name


LOCAL_ADMIN = User("local", "admin", "本机管理员")
"""The actor while a knowledge base has no accounts yet (set-up mode, the demo).

Returned by :meth:`Users.actor` only while the ``users`` table is empty; the name ``local`` is
reserved so that no account can be mistaken for it."""

ANONYMOUS = User("anonymous", "anonymous", "未登录的访客")
"""The reader without an account, admitted by :func:`admit` to :data:`OPEN_PERMISSIONS` when the
centre opens counter reading. Its role holds no permission and its name is reserved, so it can
never pass :func:`authorize` for a write."""

OPEN_PERMISSIONS = frozenset({"read"})
"""The permissions that the ``anonymous_read`` setting opens to callers without an account."""

RESERVED_NAMES = frozenset({LOCAL_ADMIN.username, ANONYMOUS.username})


def _either(roles: frozenset[str]) -> str:
    names = [name for key, name in ROLES.items() if key in roles]
    return names[0] if len(names) == 1 else "、".join(names[:-1]) + "或" + names[-1]


def require(user: User, permission: str) -> None:
    """Raise :class:`PermissionDenied` unless ``user`` holds ``permission``."""
    if not user.can(permission):
        raise PermissionDenied(
            f"{user.label}无权执行“{PERMISSION_LABELS[permission]}”，需要{_either(PERMISSIONS[permission])}账号。",
            permission,
        )


def user_from_row(row: sqlite3.Row) -> User:
    """The :class:`User` of a row of the ``users`` table."""
    return User(row["username"], row["role"], row["display_name"], row["group_name"])


def _check_username(username: str) -> None:
    if not username:
        raise UserError("用户名不能为空，请输入用户名（例如工号或姓名拼音）。")
    if any(ch.isspace() for ch in username):
        raise UserError(f"用户名“{username}”含有空格，请去掉空格后重试。")
    if len(username) > MAX_USERNAME:
        raise UserError(f"用户名最长 {MAX_USERNAME} 个字符，请换一个短一些的用户名。")
    if username in RESERVED_NAMES:
        raise UserError(f"用户名“{username}”保留给本机管理员和未登录的访客，请换一个用户名。")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"密码至少需要 {MIN_PASSWORD} 个字符，请换一个更长的密码。")


class Users:
    """Account storage and login, in the same SQLite database as the :class:`~kb.records.Records`.

    Account changes run in the record store's write transactions together with their audit
    events, so the log and the accounts never disagree.
    """

    def __init__(self, records: Records, hasher: PasswordHasher | None = None):
        """``hasher`` defaults to argon2-cffi's recommended argon2id parameters (about 0.3 s a hash)."""
        self.records = records
        self.conn = records.conn
        self.conn.executescript(SCHEMA)
        self.hasher = hasher or PasswordHasher()

    @cached_property
    def _dummy_hash(self) -> str:
        """A hash to verify against for unknown users, so a login takes as long either way."""
        return self.hasher.hash("unknown-user-placeholder")

    def count(self) -> int:
        """Number of accounts, inactive ones included (0 means set-up mode)."""
        return self.conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]

    def get(self, username: str) -> User | None:
        """The active account ``username``, or ``None``."""
        row = self.conn.execute("SELECT * FROM users WHERE username=? AND active=1", (username,)).fetchone()
        return user_from_row(row) if row else None

    def current(self, conn: sqlite3.Connection, actor: User) -> User:
        """``actor`` as stored now (its current role), once accounts exist; refuses LOCAL_ADMIN then.

        ``conn`` is :attr:`conn` or the connection of a write transaction on it (read inside the lock)."""
        if actor == LOCAL_ADMIN:
            raise PermissionDenied(f"知识库已经建立账号，不能再以本机管理员身份操作。{_LOGIN_HINT}")
        row = conn.execute("SELECT * FROM users WHERE username=? AND active=1", (actor.username,)).fetchone()
        if row is None:
            raise PermissionDenied(f"账号“{actor.username}”不存在或已停用，请用有效账号重新登录。")
        return user_from_row(row)

    def add(self, actor: User, username: str, password: str, role: str, display_name: str = "",
            group: str = "") -> User:
        """Create an account and log ``user_add``.

        Args:
            actor: who creates it; needs permission ``users``, except for the very first account,
                which anyone may create but which must be an admin.
            role: a role key or Chinese alias (see :func:`parse_role`).
            password: at least :data:`MIN_PASSWORD` characters; only its argon2 hash is stored.

        Returns:
            The new account.
        """
        _check_username(username)
        _check_password(password)
        user = User(username, parse_role(role), display_name.strip(), group.strip())
        password_hash = self.hasher.hash(password)
        with self.records.transaction(changes_index=False) as conn:
            # Counted inside the write lock: two processes cannot both create the "first" admin.
            if conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0:
                if user.role != "admin":
                    raise UserError("第一个账号必须是管理员（admin），请先创建管理员账号，再用它添加其他人员。")
            else:
                require(self.current(conn, actor), "users")
            if conn.execute("SELECT 1 FROM users WHERE username=?", (username,)).fetchone():
                raise UserError(f"用户名“{username}”已存在，请换一个用户名。")
            conn.execute(
                "INSERT INTO users(username, display_name, role, group_name, password_hash, created_at, active) "
                "VALUES(?,?,?,?,?,?,1)",
                (user.username, user.display_name, user.role, user.group, password_hash, now()),
            )
            after = {"username": user.username, "role": user.role, "display_name": user.display_name,
                     "group": user.group}
            audit.record(conn, actor.username, "user_add", f"user:{username}", after=after)
        return user

    def set_password(self, actor: User, username: str, new_password: str) -> None:
        """Change ``username``'s password; allowed to that user and to admins. Logs ``user_passwd``."""
        _check_password(new_password)
        password_hash = self.hasher.hash(new_password)
        with self.records.transaction(changes_index=False) as conn:
            current = self.current(conn, actor)
            if current.username != username and not current.can("users"):
                raise PermissionDenied(
                    f"{current.label}只能修改自己的密码；修改他人密码需要{_either(PERMISSIONS['users'])}账号。", "users"
                )
            updated = conn.execute("UPDATE users SET password_hash=? WHERE username=?", (password_hash, username))
            if updated.rowcount == 0:
                raise UserError(f"用户“{username}”不存在，请检查用户名。")
            reason = "本人修改" if current.username == username else "管理员重置"
            audit.record(conn, current.username, "user_passwd", f"user:{username}", reason=reason)

    def authenticate(self, username: str, password: str) -> User:
        """The active account whose password matches; :class:`AuthenticationFailed` otherwise.

        Unknown users, inactive users and wrong passwords get the same message and take the same
        time. An outdated hash (weaker parameters than the current defaults) is upgraded.
        """
        row = self.conn.execute("SELECT * FROM users WHERE username=?", (username,)).fetchone()
        stored = row["password_hash"] if row else self._dummy_hash
        try:
            self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            raise AuthenticationFailed(_BAD_LOGIN) from None
        if row is None or not row["active"]:
            raise AuthenticationFailed(_BAD_LOGIN)
        if self.hasher.check_needs_rehash(stored):
            # A login is not a content change: a plain compare-and-swap update, no generation bump.
            self.conn.execute("UPDATE users SET password_hash=? WHERE username=? AND password_hash=?",
                              (self.hasher.hash(password), username, stored))
        return user_from_row(row)

    def actor(self, username: str | None, password: str | None) -> User:
        """Who is acting, as the CLI and UI resolve it.

        With no accounts (set-up mode) this is :data:`LOCAL_ADMIN` whatever is passed. Otherwise
        both ``username`` and ``password`` are required and checked with :meth:`authenticate`.
        """
        if self.count() == 0:
            return LOCAL_ADMIN
        if not username:
            raise AuthenticationFailed(f"此知识库已启用账号登录。{_LOGIN_HINT}")
        if password is None:
            raise AuthenticationFailed(f"请提供用户“{username}”的密码：设置环境变量 KB_PASSWORD，或按提示输入。")
        return self.authenticate(username, password)


def authorize(records: Records, user: User, permission: str) -> User:
    """:func:`require` against the account as stored now, for operations on ``records``.

    :data:`LOCAL_ADMIN` may act only while the knowledge base has no accounts, and an account's
    current role decides (a role changed since login counts). Returns the checked user.
    """
    users = Users(records)
    actor = user if users.count() == 0 else users.current(records.conn, user)
    require(actor, permission)
    return actor


def admit(records: Records, user: User | None, permission: str, anonymous_read: bool = False) -> User:
    """Who reads, for a read that needs ``permission``; the one place reading is decided.

    Args:
        records: the knowledge base's record store (its accounts decide the mode).
        user: the logged-in account (already authenticated), or ``None`` when the caller gave no
            account at all. An unknown user or a wrong password must fail authentication before
            this is called: they are refused everywhere, whatever ``anonymous_read`` says.
        permission: a key of :data:`PERMISSIONS`, e.g. ``read`` for asking and searching published
            knowledge, ``drafts`` when drafts are included, ``export``, ``audit``, ``users``.
        anonymous_read: the centre's ``anonymous_read`` setting: callers without an account may
            then use :data:`OPEN_PERMISSIONS` (and nothing else).

    Returns:
        :data:`LOCAL_ADMIN` while there are no accounts (set-up mode: everything is allowed);
        :data:`ANONYMOUS` for an open permission read without an account; otherwise the account
        as stored now, checked with :func:`authorize`.

    Raises:
        AuthenticationFailed: no account given where one is needed.
        PermissionDenied: the account's role does not hold ``permission``.
    """
    if Users(records).count() == 0:
        return LOCAL_ADMIN
    if user is not None:
        return authorize(records, user, permission)
    if anonymous_read and permission in OPEN_PERMISSIONS:
        return ANONYMOUS
    needed = f"“{PERMISSION_LABELS[permission]}”需要{_either(PERMISSIONS[permission])}账号"
    if anonymous_read:
        raise AuthenticationFailed(f"未登录时只能问答和检索已发布的知识；{needed}。{_LOGIN_HINT}")
    raise AuthenticationFailed(f"此知识库已启用账号登录，{needed}。{_LOGIN_HINT}")
