"""The whole daily cycle through the `kb` command, on real files:

accounts → an admin imports the current 口径 → a counter's day sheet is submitted → a staff member
is refused when approving → a reviewer approves three cases (one supersedes the imported 口径) and
rejects one → `kb ask` gives the new 口径 with the change noted → the digest lists exactly the day's
changes → the audit log shows every step with its actor.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from click.testing import CliRunner
from docx import Document as DocxDocument
from fixtures import CHROMA_URL, drop_server_collections, make_xlsx, unique_collection

from cli import cli

pytestmark = pytest.mark.store

TODAY = date.today().isoformat()
OLD_ANSWER = "到居住地派出所户籍窗口办理签注，需本人到场，当场办结。"
NEW_ANSWER = "居住证签注已可在一网通办线上办理，上传本人照片后三个工作日内完成，无需到派出所。"
PASSWORDS = {"admin": "admin-pass-1", "lead": "lead-pass-12", "zhang": "zhang-pass-1"}
SHEET_HEADERS = ["日期", "窗口", "登记人", "事项", "问题", "解决方案", "依据", "替代编号", "生效日期"]


class Cli:
    """`kb` on one data dir (and the test Chroma server if any), logged in as a given user."""

    def __init__(self, data_dir):
        self.options = ["--data-dir", str(data_dir), "--collection", unique_collection()]
        if CHROMA_URL:
            self.options += ["--chroma-url", CHROMA_URL]

    def __call__(self, *args, user: str | None = None, env: dict | None = None):
        env = dict(env or {})
        if user:
            env.update(KB_USER=user, KB_PASSWORD=PASSWORDS[user])
        return CliRunner().invoke(cli, [*map(str, args), *self.options], env=env)


@pytest.fixture
def kb_cli(tmp_path):
    runner = Cli(tmp_path / "data")
    yield runner
    drop_server_collections([runner.options[3]])


def ok(result):
    assert result.exit_code == 0, result.output
    return result.output


def test_daily_cycle_end_to_end(kb_cli, tmp_path):
    ok(kb_cli("user", "add", "admin", "--role", "管理员", env={"KB_NEW_PASSWORD": PASSWORDS["admin"]}))
    ok(kb_cli("user", "add", "lead", "--role", "组长", "--name", "李组长", user="admin",
              env={"KB_NEW_PASSWORD": PASSWORDS["lead"]}))
    ok(kb_cli("user", "add", "zhang", "--role", "窗口人员", "--name", "张三", "--group", "综合一组", user="admin",
              env={"KB_NEW_PASSWORD": PASSWORDS["zhang"]}))
    listed = ok(kb_cli("user", "list", user="admin"))
    assert "zhang" in listed and PASSWORDS["zhang"] not in listed

    faq = make_xlsx(tmp_path / "常见问题.xlsx", [["FAQ-QZ", "居住证到期了怎么续签？", OLD_ANSWER, "居住证", "2026-03-01"]],
                    ["编号", "问题", "答复", "事项", "日期"])
    assert "新增 1 个文件" in ok(kb_cli("ingest", faq, user="admin"))
    refused = kb_cli("ingest", faq, user="zhang")
    assert refused.exit_code == 1 and "无权执行“批量导入”" in refused.output

    sheet = make_xlsx(tmp_path / f"{TODAY}登记表.xlsx", [
        [TODAY, "综合一组", "张三", "户籍", "新生儿落户需要带哪些材料？", "带出生医学证明、父母双方户口簿和身份证、结婚证。",
         "市公安局户政处 2026 年办事指南", "", ""],
        [TODAY, "综合一组", "张三", "公积金", "离职后公积金账户怎么处理？", "可办理封存，再就业后转移接续；离开本市可办理提取。",
         "市公积金中心 王科长 电话答复", "", ""],
        [TODAY, "综合二组", "张三", "居住证", "居住证签注还要本人去派出所吗？", NEW_ANSWER,
         "市公安局 2026 年 11 号通知", "FAQ-QZ", TODAY],
        [TODAY, "综合二组", "张三", "社保", "灵活就业人员社保怎么断缴补缴？", "一律可以补缴三年。", "", "", ""],
        [TODAY, "综合二组", "张三", "医保", "异地就医备案有效期多久？", "", "", "", ""],
    ], SHEET_HEADERS)
    submitted = kb_cli("submit", sheet, user="zhang")
    assert submitted.exit_code == 1, submitted.output
    assert "第 6 行" in submitted.output and "答案为空" in submitted.output
    drafts = re.search(r"已提交 4 条待审核：(\S+?)；", submitted.output).group(1).split("、")
    newborn, fund, permit, wrong = drafts

    pending = ok(kb_cli("review", "list", user="lead"))
    assert all(d in pending for d in drafts) and "共 4 条待审核" in pending
    refused = kb_cli("review", "approve", newborn, user="zhang")
    assert refused.exit_code == 1 and "张三（窗口人员）无权执行“审核发布”" in refused.output

    for draft in (newborn, fund, permit):
        assert f"已发布 {draft}" in ok(kb_cli("review", "approve", draft, user="lead"))
    ok(kb_cli("review", "reject", wrong, "--reason", "补缴年限与政策不符，请向社保中心核实", user="lead"))
    assert "共 0 条待审核" in ok(kb_cli("review", "list", user="lead"))

    answered = json.loads(ok(kb_cli("ask", "居住证到期了怎么续签？", "--json", user="zhang")))
    assert answered["status"] == "answered" and answered["text"] == NEW_ANSWER
    assert answered["citations"][0]["parent_id"] == permit
    assert any("FAQ-QZ" in note and TODAY in note for note in answered["notes"])
    plain = ok(kb_cli("ask", "居住证到期了怎么续签？", user="zhang"))
    assert f"答：{NEW_ANSWER}" in plain and OLD_ANSWER not in plain
    searched = ok(kb_cli("search", "居住证续签 派出所 签注", "--k", "5", user="zhang"))
    hits = [json.loads(line) for line in searched.splitlines()]
    assert "FAQ-QZ" not in [h["parent_id"] for h in hits] and hits[0]["parent_id"] == permit

    refused = kb_cli("digest", "--date", TODAY, "--out", tmp_path / "out", user="zhang")
    assert refused.exit_code == 1 and "无权" in refused.output
    far = kb_cli("digest", "--date", "9999-12-31", "--out", tmp_path / "far", user="lead")
    assert far.exit_code == 1 and "汇总日期 9999-12-31 太远" in far.output and not (tmp_path / "far").exists()
    ok(kb_cli("digest", "--date", TODAY, "--out", tmp_path / "out", user="lead"))
    markdown = (tmp_path / "out" / f"每日汇总-{TODAY}.md").read_text(encoding="utf-8")
    assert set(re.findall(r"K\d{5}", markdown)) == {newborn, fund, permit}
    assert "FAQ-QZ" in markdown and "补缴三年" not in markdown
    word = DocxDocument(str(tmp_path / "out" / f"每日汇总-{TODAY}.docx"))
    text = "\n".join([p.text for p in word.paragraphs] + [c.text for t in word.tables for r in t.rows for c in r.cells])
    assert set(re.findall(r"K\d{5}", text)) == {newborn, fund, permit}

    events = [json.loads(line) for line in ok(kb_cli("audit", "--json", user="lead")).splitlines()]
    steps = {(e["action"], e["target"]): e["actor"] for e in events}
    assert steps[("user_add", "user:admin")] == "local"
    assert steps[("user_add", "user:zhang")] == "admin"
    assert next(e["actor"] for e in events if e["action"] == "import") == "admin"
    assert all(steps[("create", d)] == "zhang" for d in drafts)
    assert all(steps[("approve", d)] == "lead" for d in (newborn, fund, permit))
    assert steps[("reject", wrong)] == "lead"
    assert next(e["reason"] for e in events if e["action"] == "reject").startswith("补缴年限")
    refused = kb_cli("audit", user="zhang")
    assert refused.exit_code == 1 and "无权" in refused.output


def test_history_and_rollback_through_the_cli(kb_cli):
    submitted = ok(kb_cli("submit", "-q", "护照加急办理要多久？", "-a", "加急五个工作日。", "--item", "出入境"))
    entry_id = re.search(r"K\d{5}", submitted).group(0)
    ok(kb_cli("review", "approve", entry_id, "--set", "answer=加急三个工作日，需提供加急证明。", "--reason", "核实后修正"))
    ok(kb_cli("rollback", entry_id, "--to", "1", "--reason", "出入境支队更正"))
    shown = ok(kb_cli("history", entry_id))
    assert "第 1 版" in shown and "第 2 版" in shown and "第 3 版" in shown and "加急三个工作日" in shown
    data = json.loads(ok(kb_cli("history", entry_id, "--json")))
    assert data["entry"]["answer"] == "加急五个工作日。" and data["state"]["version"] == 3
    assert [e["action"] for e in data["events"]] == ["rollback", "approve", "edit", "create"]
    ok(kb_cli("delete", entry_id, "--reason", "重复"))
    assert entry_id not in ok(kb_cli("search", "护照加急"))
    ok(kb_cli("restore", entry_id))
    assert entry_id in ok(kb_cli("search", "护照加急"))


def test_cli_refuses_without_login_once_accounts_exist(kb_cli):
    ok(kb_cli("user", "add", "admin", "--role", "admin", env={"KB_NEW_PASSWORD": PASSWORDS["admin"]}))
    result = kb_cli("submit", "-q", "问题", "-a", "答复")
    assert result.exit_code == 1 and "--user" in result.output
    wrong = kb_cli("submit", "-q", "问题", "-a", "答复", env={"KB_USER": "admin", "KB_PASSWORD": "not-the-password"})
    assert wrong.exit_code == 1 and "用户名或密码错误" in wrong.output
    first_staff = kb_cli("user", "add", "x", "--role", "窗口人员", env={"KB_NEW_PASSWORD": "whatever-12"})
    assert first_staff.exit_code == 1


def test_export_keeps_review_state_and_backup_restores_history(kb_cli, tmp_path):
    draft = re.search(r"K\d{5}", ok(kb_cli("submit", "-q", "残疾人证换证要带什么？", "-a", "带旧证和一寸照片。"))).group(0)
    published = re.search(r"K\d{5}", ok(kb_cli("submit", "-q", "老年人优待证怎么办？", "-a", "带身份证到社区办理。",
                                               "--item", "老年人优待"))).group(0)
    ok(kb_cli("review", "approve", published, "--set", "answer=带身份证和照片到社区服务中心办理。"))
    exported = tmp_path / "backup.jsonl"
    ok(kb_cli("export", exported))
    copy = Cli(tmp_path / "copy")
    assert "新增 1 个文件" in ok(copy("import", exported))
    assert draft not in ok(copy("search", "残疾人证换证")) and draft in ok(copy("search", "残疾人证换证", "--drafts"))
    assert json.loads(ok(copy("history", published, "--json")))["state"]["status"] == "published"

    ok(kb_cli("backup", tmp_path / "records.bak"))
    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    (restored_dir / "records.sqlite3").write_bytes((tmp_path / "records.bak").read_bytes())
    restored = Cli(restored_dir)
    assert "重建" in ok(restored("reindex"))
    history = json.loads(ok(restored("history", published, "--json")))
    assert [v["version"] for v in history["versions"]] == [1, 2]
    assert [e["action"] for e in history["events"]] == ["approve", "edit", "create"]
    hit = json.loads(ok(restored("search", "老年人优待证", "--k", "1")).splitlines()[0])
    assert hit["parent_id"] == published and "社区服务中心" in hit["answer"]
    drop_server_collections([copy.options[3], restored.options[3]])


def test_cli_edits_lists_and_refuses_blank_reasons_and_paths(kb_cli):
    submitted = ok(kb_cli("submit", "-q", "护照加急办理要多久？", "-a", "加急五个工作日。", "--tags", "出入境, 护照，加急"))
    entry_id = re.search(r"K\d{5}", submitted).group(0)
    ok(kb_cli("review", "approve", entry_id, "--set", "tags=护照、 加急,,急件", "--set", "alt_questions=护照加急，要几天？",
              "--set", "alt_questions=加急护照多久能拿到"))
    entry = json.loads(ok(kb_cli("history", entry_id, "--json")))["entry"]
    assert entry["tags"] == ["护照", "加急", "急件"]
    assert entry["alt_questions"] == ["护照加急，要几天？", "加急护照多久能拿到"]
    before = ok(kb_cli("history", entry_id, "--json"))
    for args in (("rollback", entry_id, "--to", "1", "--reason", " "), ("delete", entry_id, "--reason", "")):
        refused = kb_cli(*args)
        assert refused.exit_code == 2 and "必须写明理由（--reason）" in refused.output
    assert ok(kb_cli("history", entry_id, "--json")) == before
    empty = kb_cli("ingest", "")
    assert empty.exit_code == 2 and "要导入的路径不能为空" in empty.output and "新增" not in empty.output


def test_export_to_a_missing_folder_and_a_zero_audit_limit_are_refused_in_chinese(kb_cli, tmp_path):
    ok(kb_cli("submit", "-q", "护照加急办理要多久？", "-a", "加急五个工作日。"))
    missing = tmp_path / "没有的文件夹" / "导出.jsonl"
    refused = kb_cli("export", missing)
    assert refused.exit_code == 1 and f"无法写入 {missing}" in refused.output and "Traceback" not in refused.output
    assert not missing.parent.exists()
    limited = kb_cli("audit", "--limit", "0")
    assert limited.exit_code == 2 and "'--limit' 的值不对" in limited.output and "超出范围" in limited.output
    assert "1 条记录" in ok(kb_cli("export", tmp_path / "导出.jsonl"))
