"""The web UI: pages by role, the counter Q&A handler (escaped, logged, permission-checked), the
account page, the login of the served app driven with gradio_client, and `kb serve` refusing to
start without accounts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gradio as gr
import pytest
from click.testing import CliRunner
from fixtures import PASSWORD, as_user, serving, drop_collection, make_xlsx, open_kb, unique_collection, web_context

from bot import Answer, Citation
from cli import cli
from ingest import ingest_paths
from kb.asklog import questions
from kb.users import User, Users
from web import account, ask, department, review
from web.app import PAGES, build_app, check_login, visible
from web.context import plain

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = "<script>alert(1)</script>请到[点我](javascript:alert(1))办理。"
ROWS = [
    ["FAQ-QZ", "居住证签注怎么办理？", "到居住地派出所户籍窗口办理签注，需本人到场，当场办结。", "居住证签注", "公安局"],
    ["FAQ-HZ", "第一次办护照需要带什么材料？", "携带本人身份证到出入境接待大厅现场采集照片和指纹。", "普通护照", "出入境"],
    ["FAQ-XSS", "社保卡丢了怎么补办？", HOSTILE, "社保卡", "人社局"],
]
HEADERS = ["编号", "问题", "答复", "事项", "部门"]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("ui")
    kb = open_kb(root / "data", embedder, unique_collection())
    ingest_paths(kb, [make_xlsx(root / "常见问题.xlsx", ROWS, HEADERS)])
    yield web_context(kb, root / "data", "<b>张三</b>")
    drop_collection(kb)
    kb.close()


def test_the_app_builds_without_launching_and_every_role_sees_its_pages(ctx):
    assert isinstance(build_app(ctx), gr.Blocks)
    users = Users(ctx.kb.records)
    titles = [page.TITLE for page in PAGES]
    accounts = {name: users.get(name) for name in ("admin", "zuzhang", "zhangsan")}
    accounts["bumen"] = User("bumen", "department", "市公安局")
    seen = {name: [t for t, shown in zip(titles, visible(PAGES, user)) if shown] for name, user in accounts.items()}
    assert seen == {"admin": titles, "zuzhang": [t for t in titles if t not in ("管理", "出题阅卷")],
                    "zhangsan": ["窗口问答", "每日登记", "办不成事", "学习", "自测", "知识库", "账号"],
                    "bumen": [t for t in titles if t in ("窗口问答", "出题阅卷", "账号")]}
    assert visible([ask, department, account], accounts["bumen"]) == [True, True, True]
    assert visible([department], users.get("zuzhang")) == visible([department], users.get("zhangsan")) == [False]
    reviewer_only = type("Page", (), {"ROLES": frozenset({"reviewer", "admin"})})
    assert visible([ask, reviewer_only], users.get("zhangsan")) == [True, False]


def descendants(block):
    for child in getattr(block, "children", []):
        yield child
        yield from descendants(child)


def test_logging_in_fills_only_the_first_page(ctx):
    """What runs as the app loads writes only into the first page (窗口问答): the browser re-applies every
    event's status across the whole tree, so filling all pages then cost ~10 s of CPU per login. Every
    other page is filled when its tab is first selected (审核's queue through the tab's select), and no
    component has a callable default value (gradio computes those with a load event of its own)."""
    app = build_app(ctx)
    tabs = {b.label: b for b in descendants(app) if isinstance(b, gr.Tab) and b.label in [p.TITLE for p in PAGES]}
    assert list(tabs) == [page.TITLE for page in PAGES]
    assert not [c.label for c in app.blocks.values() if getattr(c, "load_event_to_attach", None)]
    at_load = [f for f in app.fns.values() if (app._id, "load") in f.targets]
    later = {b._id for title, tab in tabs.items() if title != ask.TITLE for b in descendants(tab)}
    first = {b._id for b in descendants(tabs[ask.TITLE])}
    assert [f.name for f in at_load if first & {o._id for o in f.outputs}] == ["refresh"]
    assert not [f.name for f in at_load if later & {o._id for o in f.outputs}]
    queue = {b._id for b in descendants(tabs[review.TITLE])}
    fills = [f for f in app.fns.values() if f.name == "loaded" and queue >= {o._id for o in f.outputs}]
    gates = {o._id for f in app.fns.values() if (tabs[review.TITLE]._id, "select") in f.targets for o in f.outputs}
    assert len(fills) == 1 and {t[0] for t in fills[0].targets} <= gates


def test_an_answer_cites_its_source_and_is_logged(ctx):
    chat, box, related, _, _ = ask.ask(ctx, "居住证签注去哪办", "全部", "全部", [], as_user("zhangsan"))
    assert box == ""
    assert chat[0] == {"role": "user", "content": "居住证签注去哪办"}
    shown = chat[1]["content"]
    assert shown.index("派出所户籍窗口") < shown.index("出处") < shown.index("置信度")
    assert "FAQ\\-QZ" in shown and "居住证签注" in shown and "公安局" in shown and "第 1 版" in shown
    assert all(len(row) == 6 for row in related)
    last = questions(ctx.kb.records.conn, limit=1)[0]
    assert (last.user, last.question, last.status, last.top_parent, last.channel) == \
        ("zhangsan", "居住证签注去哪办", "answered", "FAQ-QZ", "web")


def test_a_follow_up_is_read_against_the_chat(ctx):
    staff = as_user("zhangsan")
    chat, _, _, logged, turns = ask.ask(ctx, "第一次办护照需要带什么材料？", "全部", "全部", [], staff)
    assert turns[0].top_parent == "FAQ-HZ"
    chat, _, _, logged, turns = ask.ask(ctx, "那要本人去吗？", "全部", "全部", chat, staff, logged, turns)
    follow = chat[-1]["content"]
    assert follow.startswith("*按‘") and "护照" in follow.split("\n")[0] and "FAQ\\-HZ" in follow
    assert len(logged) == len(turns) == 2 and turns[1].top_parent == "FAQ-HZ"
    alone, *_ = ask.ask(ctx, "那要本人去吗？", "全部", "全部", [], staff)
    assert "按‘" not in alone[-1]["content"]


def test_filters_narrow_the_search(ctx):
    chat, *_ = ask.ask(ctx, "居住证签注去哪办", "普通护照", "全部", [], as_user("zhangsan"))
    assert "FAQ\\-QZ" not in chat[1]["content"]
    items, departments = ask.facets(ctx)
    assert items == ["全部", "居住证签注", "普通护照", "社保卡"] and "人社局" in departments


def test_stored_markup_is_shown_as_text(ctx):
    chat, *_ = ask.ask(ctx, "社保卡丢了怎么补办", "全部", "全部", [], as_user("zhangsan"))
    shown = chat[1]["content"]
    assert "<script>" not in shown and "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in shown
    assert "](javascript" not in shown and "\\[点我\\]\\(javascript:alert\\(1\\)\\)" in shown
    question, *_ = ask.ask(ctx, "<img src=x onerror=alert(1)>", "全部", "全部", [], as_user("zhangsan"))
    assert "<img" not in question[0]["content"]


def test_notes_and_the_escalation_hint_are_shown():
    citation = Citation("entry", "K00002", "居住证签注", "登记表.xlsx", "2026-11-01", "居住证签注", "公安局", 2)
    shown = ask.render(Answer("问", "answered", "答复", 0.8, (citation,), notes=("原口径 K00001 已由 K00002 替代",)))
    assert shown.startswith("> ⚠️ **注意**：原口径 K00001 已由 K00002 替代") and "第 2 版，已发布" in shown
    refused = ask.render(Answer("问", "no_answer", "知识库中暂无可靠答案，建议向审批部门确认", 0.1))
    assert refused.startswith("**暂无可靠答案**：") and "审批部门" in refused


def test_handlers_need_a_logged_in_account(ctx):
    for request in (as_user(None), as_user("nobody")):
        with pytest.raises(gr.Error):
            ask.ask(ctx, "居住证签注去哪办", "全部", "全部", [], request)
    logged = len(questions(ctx.kb.records.conn))
    with pytest.warns(UserWarning, match="请先输入问题"):
        assert ask.ask(ctx, "  ", "全部", "全部", [], as_user("zhangsan")) == ([], "", [], [], [])
    assert len(questions(ctx.kb.records.conn)) == logged
    assert plain("**粗体** # 标题") == "\\*\\*粗体\\*\\* \\# 标题"


def test_the_account_page_changes_only_ones_own_password(ctx):
    with pytest.raises(gr.Error, match="当前密码不正确"):
        account.change_password(ctx, "wrong-password", "new-pass-123", "new-pass-123", as_user("zuzhang"))
    with pytest.raises(gr.Error, match="不一致"):
        account.change_password(ctx, PASSWORD, "new-pass-123", "new-pass-456", as_user("zuzhang"))
    with pytest.raises(gr.Error, match="至少"):
        account.change_password(ctx, PASSWORD, "short", "short", as_user("zuzhang"))
    assert "zuzhang" in account.change_password(ctx, PASSWORD, "new-pass-123", "new-pass-123", as_user("zuzhang"))
    assert check_login(ctx, "zuzhang", "new-pass-123") and not check_login(ctx, "zuzhang", PASSWORD)
    assert not check_login(ctx, "nobody", PASSWORD)


@pytest.fixture(scope="module")
def served(ctx):
    with serving(ctx) as url:
        yield url


def text_of(message: dict) -> str:
    """A chat message's text, whether gradio gives it as a string or as a list of parts."""
    content = message["content"]
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


def test_the_served_app_needs_a_login(served, ctx):
    import httpx
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    with pytest.raises(AuthenticationError):
        Client(served, verbose=False)
    assert httpx.post(f"{served}gradio_api/call/ask", json={"data": ["居住证签注去哪办", "全部", "全部", []]}).status_code == 401
    with pytest.raises(ValueError, match="Could not login"):
        Client(served, auth=("nobody", PASSWORD), verbose=False)
    with pytest.raises(ValueError, match="Could not login"):
        Client(served, auth=("zhangsan", "wrong-password"), verbose=False)
    client = Client(served, auth=("zhangsan", PASSWORD), verbose=False)
    chat, box, _, _ = client.predict("第一次办护照带啥材料", "全部", "全部", [], api_name="/ask")
    assert "FAQ\\-HZ" in text_of(chat[-1]) and "出处" in text_of(chat[-1]) and box == ""
    last = questions(ctx.kb.records.conn, limit=1)[0]
    assert (last.user, last.question, last.channel) == ("zhangsan", "第一次办护照带啥材料", "web")


def test_serve_refuses_to_start_without_accounts(tmp_path):
    options = ["--data-dir", str(tmp_path / "empty")]
    for host in ("0.0.0.0", "127.0.0.1"):
        result = CliRunner().invoke(cli, ["serve", "--host", host, *options])
        assert result.exit_code == 1 and "kb user add admin --role 管理员" in result.output
    assert "不能在 0.0.0.0 上启动" in CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", *options]).output
    assert not (tmp_path / "empty").exists()
    public_demo = CliRunner().invoke(cli, ["serve", "--demo", "--host", "0.0.0.0"])
    assert public_demo.exit_code == 1 and "只能在本机地址" in public_demo.output


def test_importing_the_command_does_not_load_gradio():
    code = "import sys, cli; print([m for m in ('gradio', 'web') if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_demo_has_an_account_per_role_and_the_department_owns_its_sample_matters(tmp_path, monkeypatch):
    from cli.serve import DEMO_ACCOUNTS, demo_kb
    from kb.config import load_settings
    from kb.scopes import Scopes

    monkeypatch.chdir(tmp_path)
    _, kb = demo_kb(load_settings(data_dir=str(tmp_path / "ignored")))
    try:
        users = Users(kb.records)
        assert {users.get(name).role for name, *_ in DEMO_ACCOUNTS} == {"staff", "reviewer", "admin", "department"}
        assert all(users.authenticate(name, password) for name, _, _, password in DEMO_ACCOUNTS)
        owned = Scopes(kb.records).stored("bumen")
        assert "护照换发" in owned and "港澳签注自助办理" in owned and "企业开办" not in owned
    finally:
        kb.close()
