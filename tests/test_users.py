"""Accounts, roles and permissions on a real SQLite record store (no embedder, no Chroma)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fixtures import FAST_HASHER

from kb.accounts import Accounts
from kb.audit import events
from kb.errors import AuthenticationFailed, KBError, PermissionDenied, UserError
from kb.records import Records
from kb.users import LOCAL_ADMIN, PERMISSIONS, ROLES, User, Users, parse_role, require

PASSWORD = "correct horse 9"
ADMIN_PASSWORD = "admin-secret-42"

# Cheap argon2 parameters keep the suite fast; test_default_hasher_is_argon2id covers the real ones.

EXPECTED = {
    "staff": {"submit", "read", "stats", "study", "exam", "escalate"},
    "reviewer": {"submit", "read", "stats", "study", "drafts", "export", "review", "digest", "audit", "lexicon",
                 "gaps", "progress", "quiz", "exam", "escalate", "escalations", "training"},
    "admin": {"submit", "read", "stats", "study", "drafts", "export", "review", "digest", "audit", "lexicon",
              "gaps", "progress", "quiz", "exam", "escalate", "escalations", "training", "import",
              "delete", "users", "usage", "setpaper"},
    "department": {"read", "setpaper"},
}


@pytest.fixture
def records(tmp_path):
    records = Records(tmp_path / "records.sqlite3")
    yield records
    records.close()


@pytest.fixture
def users(records):
    return Users(records, FAST_HASHER)


@pytest.fixture
def admin(users):
    return users.add(LOCAL_ADMIN, "admin", ADMIN_PASSWORD, "管理员", "王主任")


@pytest.fixture
def staff(users, admin):
    return users.add(admin, "zhangsan", PASSWORD, "窗口人员", "张三", "综合窗口一组")


def test_first_user_must_be_admin(users):
    with pytest.raises(UserError, match="第一个账号必须是管理员"):
        users.add(LOCAL_ADMIN, "zhangsan", PASSWORD, "staff")
    assert users.count() == 0
    first = users.add(LOCAL_ADMIN, "admin", ADMIN_PASSWORD, "admin")
    assert first == User("admin", "admin") and users.count() == 1


def test_local_admin_only_while_empty(users):
    assert users.actor(None, None) == LOCAL_ADMIN
    assert users.actor("whoever", "anything") == LOCAL_ADMIN
    users.add(LOCAL_ADMIN, "admin", ADMIN_PASSWORD, "admin")
    with pytest.raises(AuthenticationFailed, match="--user") as info:
        users.actor(None, None)
    assert "KB_USER" in str(info.value) and "KB_PASSWORD" in str(info.value)
    with pytest.raises(AuthenticationFailed, match="KB_PASSWORD"):
        users.actor("admin", None)
    assert users.actor("admin", ADMIN_PASSWORD) == User("admin", "admin")
    with pytest.raises(PermissionDenied, match="本机管理员"):
        users.add(LOCAL_ADMIN, "lisi", PASSWORD, "staff")


def test_default_hasher_is_argon2id(records):
    users = Users(records)
    users.add(LOCAL_ADMIN, "admin", ADMIN_PASSWORD, "admin")
    stored = users.conn.execute("SELECT password_hash FROM users WHERE username='admin'").fetchone()[0]
    assert stored.startswith("$argon2id$") and not users.hasher.check_needs_rehash(stored)
    assert users.authenticate("admin", ADMIN_PASSWORD).username == "admin"


def test_password_is_stored_hashed(users, admin, tmp_path):
    stored = users.conn.execute("SELECT password_hash FROM users WHERE username='admin'").fetchone()[0]
    assert stored.startswith("$argon2")
    users.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for path in tmp_path.glob("records.sqlite3*"):
        assert ADMIN_PASSWORD.encode() not in path.read_bytes(), path.name


def test_authenticate(users, admin, staff):
    assert users.authenticate("zhangsan", PASSWORD) == staff
    with pytest.raises(AuthenticationFailed) as wrong:
        users.authenticate("zhangsan", "wrong password")
    with pytest.raises(AuthenticationFailed) as unknown:
        users.authenticate("nobody", PASSWORD)
    assert str(wrong.value) == str(unknown.value)
    assert "用户名或密码错误" in str(wrong.value)


def test_inactive_user_cannot_log_in(users, staff):
    users.conn.execute("UPDATE users SET active=0 WHERE username='zhangsan'")
    with pytest.raises(AuthenticationFailed, match="用户名或密码错误"):
        users.authenticate("zhangsan", PASSWORD)
    assert users.get("zhangsan") is None


def test_outdated_hash_is_upgraded_on_login(users, admin):
    users.add(admin, "lisi", PASSWORD, "staff")
    users.hasher = PasswordHasher()
    assert users.authenticate("lisi", PASSWORD).username == "lisi"
    stored = users.conn.execute("SELECT password_hash FROM users WHERE username='lisi'").fetchone()[0]
    assert not users.hasher.check_needs_rehash(stored)
    assert users.authenticate("lisi", PASSWORD).username == "lisi"


def test_staff_cannot_add_users(users, staff):
    with pytest.raises(PermissionDenied) as info:
        users.add(staff, "lisi", PASSWORD, "staff")
    assert info.value.permission == "users"
    assert str(info.value) == "张三（窗口人员）无权执行“管理账号”，需要管理员账号。"
    assert users.get("lisi") is None


def test_admin_adds_users_and_list_is_sorted(users, admin, staff):
    reviewer = users.add(admin, "liu", PASSWORD, "组长", "刘组长")
    users.add(admin, "aaa", PASSWORD, "admin")
    assert users.get("liu") == reviewer == User("liu", "reviewer", "刘组长")
    assert staff.group == "综合窗口一组"
    assert [a.user.username for a in Accounts(users).list()] == ["zhangsan", "liu", "aaa", "admin"]


def test_duplicate_username_refused(users, admin, staff):
    with pytest.raises(UserError, match="已存在"):
        users.add(admin, "zhangsan", PASSWORD, "staff")


@pytest.mark.parametrize("username, message", [
    ("", "不能为空"), ("zhang san", "空格"), ("x" * 33, "最长 32"), ("local", "保留"), ("anonymous", "保留"),
])
def test_bad_username_refused(users, admin, username, message):
    with pytest.raises(UserError, match=message):
        users.add(admin, username, PASSWORD, "staff")


def test_short_password_refused(users, admin, staff):
    with pytest.raises(UserError, match="至少需要 8 个字符"):
        users.add(admin, "lisi", "short", "staff")
    with pytest.raises(UserError, match="至少需要 8 个字符"):
        users.set_password(staff, "zhangsan", "1234567")


@pytest.mark.parametrize("text, role", [
    ("窗口人员", "staff"), ("窗口", "staff"), ("staff", "staff"), (" Staff ", "staff"),
    ("组长/培训师", "reviewer"), ("组长", "reviewer"), ("培训师", "reviewer"), ("reviewer", "reviewer"),
    ("管理员", "admin"), ("admin", "admin"),
    ("审批部门", "department"), ("部门", "department"), ("department", "department"),
])
def test_role_aliases(text, role):
    assert parse_role(text) == role


def test_unknown_role_lists_choices(users, admin):
    with pytest.raises(UserError) as info:
        users.add(admin, "lisi", PASSWORD, "科长")
    assert "科长" in str(info.value)
    assert all(name in str(info.value) for name in ROLES.values())


def test_permission_table_covers_every_permission():
    assert set(PERMISSIONS) == EXPECTED["admin"]


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("permission", sorted(EXPECTED["admin"]))
def test_require_matches_roles(role, permission):
    user = User("someone", role, "某人")
    if permission in EXPECTED[role]:
        require(user, permission)
        assert user.can(permission)
    else:
        with pytest.raises(PermissionDenied) as info:
            require(user, permission)
        assert info.value.permission == permission
        assert str(info.value).startswith(f"某人（{ROLES[role]}）无权执行")


def test_require_message():
    with pytest.raises(PermissionDenied) as info:
        require(User("zhangsan", "staff", "张三"), "review")
    assert str(info.value) == "张三（窗口人员）无权执行“审核发布”，需要组长/培训师或管理员账号。"
    assert User("zhangsan", "staff").label == "zhangsan（窗口人员）"


def test_set_password(users, admin, staff):
    lisi = users.add(admin, "lisi", PASSWORD, "staff", "李四")
    users.set_password(staff, "zhangsan", "new password 1")
    assert users.authenticate("zhangsan", "new password 1") == staff
    users.set_password(admin, "zhangsan", "reset by admin")
    assert users.authenticate("zhangsan", "reset by admin") == staff
    with pytest.raises(PermissionDenied, match="只能修改自己的密码"):
        users.set_password(lisi, "zhangsan", "lisi was here")
    assert users.authenticate("zhangsan", "reset by admin") == staff
    with pytest.raises(UserError, match="不存在"):
        users.set_password(admin, "nobody", "whatever 123")
    with pytest.raises(PermissionDenied, match="本机管理员"):
        users.set_password(LOCAL_ADMIN, "zhangsan", "local was here")


def test_audit_events_without_secrets(users, admin, staff):
    users.set_password(staff, "zhangsan", "new password 1")
    users.set_password(admin, "zhangsan", "reset by admin")
    log = events(users.conn)
    assert [(e.actor, e.action, e.target) for e in log] == [
        ("admin", "user_passwd", "user:zhangsan"),
        ("zhangsan", "user_passwd", "user:zhangsan"),
        ("admin", "user_add", "user:zhangsan"),
        ("local", "user_add", "user:admin"),
    ]
    assert log[2].after == {"username": "zhangsan", "role": "staff", "display_name": "张三", "group": "综合窗口一组"}
    assert log[0].reason == "管理员重置" and log[1].reason == "本人修改"
    dump = "\n".join(" ".join(map(str, row)) for row in users.conn.execute("SELECT * FROM audit"))
    for secret in (PASSWORD, ADMIN_PASSWORD, "new password 1", "reset by admin", "$argon2"):
        assert secret not in dump


def _add_first_admin(path: str, index: int, same_name: bool, barrier, results) -> None:
    """Child process: resolve the actor (set-up mode), wait for the others, then race to add an admin."""
    records = Records(Path(path))
    users = Users(records, FAST_HASHER)
    actor = users.actor(None, None)
    barrier.wait()
    username = "admin" if same_name else f"admin{index}"
    try:
        users.add(actor, username, ADMIN_PASSWORD, "管理员")
        results.put((index, "ok", ""))
    except KBError as exc:
        results.put((index, type(exc).__name__, str(exc)))
    finally:
        records.close()


@pytest.mark.parametrize("same_name", [True, False], ids=["same-name", "different-names"])
def test_only_one_first_admin_under_concurrency(tmp_path, same_name):
    path = tmp_path / "records.sqlite3"
    Users(Records(path), FAST_HASHER).records.close()
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_add_first_admin, args=(str(path), i, same_name, barrier, results))
             for i in range(4)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    kinds = sorted(kind for _, kind, _ in outcomes)
    assert kinds.count("ok") == 1, outcomes
    failures = [(kind, message) for _, kind, message in outcomes if kind != "ok"]
    assert all(kind in {"UserError", "PermissionDenied"} for kind, _ in failures), outcomes
    assert all(any(s in message for s in ("第一个账号", "已存在", "本机管理员")) for _, message in failures), outcomes
    records = Records(path)
    assert records.conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 1
    records.close()


# -- account administration (kb.accounts) and its commands --------------------------------

@pytest.fixture
def accounts(users):
    return Accounts(users)


def test_admin_changes_role_group_and_name(users, accounts, admin, staff):
    changed = accounts.change(admin, "zhangsan", role="组长", group=" 综合二组 ")
    assert changed == User("zhangsan", "reviewer", "张三", "综合二组") == users.get("zhangsan")
    assert users.authenticate("zhangsan", PASSWORD).can("review")
    assert accounts.change(admin, "zhangsan", display_name="张三丰").display_name == "张三丰"
    assert accounts.change(admin, "zhangsan", role="reviewer", group="综合二组") == users.get("zhangsan")
    edits = events(users.conn, action="user_edit")
    assert [(e.actor, e.target, e.before, e.after) for e in edits] == [
        ("admin", "user:zhangsan", {"display_name": "张三"}, {"display_name": "张三丰"}),
        ("admin", "user:zhangsan", {"role": "staff", "group": "综合窗口一组"}, {"role": "reviewer", "group": "综合二组"}),
    ]
    with pytest.raises(UserError, match="不存在"):
        accounts.change(admin, "nobody", role="staff")
    with pytest.raises(UserError, match="无法识别的角色"):
        accounts.change(admin, "zhangsan", role="科长")


def test_only_an_active_admin_changes_accounts(users, accounts, admin, staff):
    reviewer = users.add(admin, "liu", PASSWORD, "组长", "刘组长")
    for actor in (staff, reviewer):
        with pytest.raises(PermissionDenied, match="管理账号"):
            accounts.change(actor, "zhangsan", role="admin")
        with pytest.raises(PermissionDenied, match="管理账号"):
            accounts.disable(actor, "admin")
    with pytest.raises(PermissionDenied, match="本机管理员"):
        accounts.enable(LOCAL_ADMIN, "zhangsan")
    second = users.add(admin, "wang", PASSWORD, "admin", "王科长")
    accounts.change(admin, "wang", role="staff")
    with pytest.raises(PermissionDenied, match="窗口人员"):
        accounts.disable(second, "zhangsan")
    assert users.get("zhangsan") == staff and users.get("admin") == admin
    assert not events(users.conn, action="user_disable")


def test_a_disabled_account_cannot_log_in_until_enabled(users, accounts, admin, staff):
    accounts.disable(admin, "zhangsan", "调岗")
    with pytest.raises(AuthenticationFailed, match="用户名或密码错误"):
        users.authenticate("zhangsan", PASSWORD)
    with pytest.raises(AuthenticationFailed, match="用户名或密码错误"):
        users.actor("zhangsan", PASSWORD)
    assert users.get("zhangsan") is None
    listed = {a.user.username: a.state for a in accounts.list()}
    assert listed == {"zhangsan": "已停用", "admin": "在用"}
    with pytest.raises(PermissionDenied, match="不存在或已停用"):
        users.set_password(staff, "zhangsan", "still me 123")
    with pytest.raises(UserError, match="已经是“已停用”"):
        accounts.disable(admin, "zhangsan")
    with pytest.raises(UserError, match="用户名“zhangsan”已存在"):
        users.add(admin, "zhangsan", PASSWORD, "staff")
    accounts.enable(admin, "zhangsan", "返岗")
    assert users.authenticate("zhangsan", PASSWORD) == staff
    with pytest.raises(UserError, match="已经是“在用”"):
        accounts.enable(admin, "zhangsan")
    log = [(e.actor, e.action, e.target, e.before, e.after, e.reason)
           for e in events(users.conn, actions=("user_disable", "user_enable"))]
    assert log == [("admin", "user_enable", "user:zhangsan", {"active": False}, {"active": True}, "返岗"),
                   ("admin", "user_disable", "user:zhangsan", {"active": True}, {"active": False}, "调岗")]


def test_the_last_active_admin_is_kept(users, accounts, admin, staff):
    for attempt in (lambda: accounts.disable(admin, "admin"), lambda: accounts.change(admin, "admin", role="staff")):
        with pytest.raises(UserError) as info:
            attempt()
        assert "最后一个在用的管理员" in str(info.value) and "新增或启用另一个管理员" in str(info.value)
    assert users.get("admin") == admin
    second = users.add(admin, "wang", PASSWORD, "admin", "王科长")
    accounts.disable(second, "admin")
    with pytest.raises(UserError, match="最后一个在用的管理员"):
        accounts.change(second, "wang", role="reviewer")
    accounts.enable(second, "admin")
    assert accounts.change(admin, "wang", role="reviewer").role == "reviewer"
    with pytest.raises(PermissionDenied, match="管理账号"):
        accounts.enable(second, "wang")
    assert [e.action for e in events(users.conn, target="user:admin")][:2] == ["user_enable", "user_disable"]


def test_a_demoted_or_disabled_admin_loses_the_right_at_once(users, accounts, admin):
    second = users.add(admin, "wang", PASSWORD, "admin", "王科长")
    accounts.disable(admin, "wang")
    with pytest.raises(PermissionDenied, match="不存在或已停用"):
        users.add(second, "lisi", PASSWORD, "staff")
    with pytest.raises(PermissionDenied, match="不存在或已停用"):
        accounts.enable(second, "wang")
    assert users.get("lisi") is None


def test_user_commands_set_disable_enable_and_list(tmp_path):
    from click.testing import CliRunner

    from cli import cli

    data = ["--data-dir", str(tmp_path / "data")]
    login = {"KB_USER": "admin", "KB_PASSWORD": ADMIN_PASSWORD}

    def run(*args, env=login):
        return CliRunner().invoke(cli, [*args, *data], env=env)

    assert run("user", "add", "admin", "--role", "管理员", env={"KB_NEW_PASSWORD": ADMIN_PASSWORD}).exit_code == 0
    added = run("user", "add", "zhang", "--role", "窗口人员", "--name", "张三",
                env={**login, "KB_NEW_PASSWORD": PASSWORD})
    assert added.exit_code == 0, added.output
    changed = run("user", "set", "zhang", "--role", "组长", "--group", "综合二组")
    assert changed.exit_code == 0 and "张三（组长/培训师）" in changed.output and "综合二组" in changed.output
    assert "没有变化" in run("user", "set", "zhang", "--role", "reviewer").output
    assert run("user", "set", "zhang").exit_code == 2
    stopped = run("user", "disable", "zhang", "--reason", "调岗")
    assert stopped.exit_code == 0 and "已停用账号 zhang" in stopped.output
    listed = run("user", "list").output
    zhang = next(line for line in listed.splitlines() if line.startswith("zhang"))
    assert "组长/培训师" in zhang and "综合二组" in zhang and "已停用" in zhang and "其中 1 个已停用" in listed
    assert run("user", "list", env={"KB_USER": "zhang", "KB_PASSWORD": PASSWORD}).exit_code == 1
    last = run("user", "disable", "admin")
    assert last.exit_code == 1 and "最后一个在用的管理员" in last.output and "Traceback" not in last.output
    assert run("user", "enable", "zhang").exit_code == 0
    assert "在用" in next(line for line in run("user", "list").output.splitlines() if line.startswith("zhang"))
    refused = run("user", "disable", "admin", env={"KB_USER": "zhang", "KB_PASSWORD": PASSWORD})
    assert refused.exit_code == 1 and "无权执行“管理账号”" in refused.output
