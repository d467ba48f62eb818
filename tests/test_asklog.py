"""The question log: rows written and filtered, and every `kb ask` (one question or a file) logged."""

from __future__ import annotations

import sqlite3

import pytest
from fixtures import make_xlsx
from test_ask_cli import HEADERS, ROWS
from test_lifecycle_cli import PASSWORDS, kb_cli, ok  # noqa: F401  (kb_cli is a fixture)

from kb.asklog import log_question, question, questions
from kb.feedback import rate, ratings
from kb.records import RECORDS_FILE, Records


@pytest.fixture
def records(tmp_path):
    store = Records(tmp_path / RECORDS_FILE)
    yield store
    store.close()


def test_rows_come_back_newest_first_and_filtered(records):
    conn = records.conn
    log_question(conn, "zhang", "居住证怎么签注？", "answered", 0.82, "FAQ-QZ", "web", at="2026-11-02T09:00:00")
    log_question(conn, "li", "驾驶证到期怎么换？", "no_answer", 0.1, "", "cli", at="2026-11-03T10:30:00")
    log_question(conn, "zhang", "护照丢了怎么办？", "ambiguous", 0.6, "FAQ-HZ", "web", at="2026-11-04T15:00:00")

    every = questions(conn)
    assert [q.question for q in every] == ["护照丢了怎么办？", "驾驶证到期怎么换？", "居住证怎么签注？"]
    first = every[-1]
    assert (first.user, first.status, first.confidence, first.top_parent, first.channel) == \
        ("zhang", "answered", 0.82, "FAQ-QZ", "web")
    assert [q.at[:10] for q in questions(conn, since="2026-11-03")] == ["2026-11-04", "2026-11-03"]
    assert [q.at[:10] for q in questions(conn, until="2026-11-03")] == ["2026-11-03", "2026-11-02"]
    assert [q.question for q in questions(conn, user="zhang", since="2026-11-03")] == ["护照丢了怎么办？"]
    assert len(questions(conn, limit=1)) == 1
    with pytest.raises(ValueError):
        log_question(conn, "zhang", "？", "answered", 0.5, channel="phone")


def test_an_older_database_gets_the_tables(tmp_path):
    path = tmp_path / RECORDS_FILE
    sqlite3.connect(path).execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)").connection.commit()
    store = Records(path)
    log_id = log_question(store.conn, "zhang", "问题", "answered", 0.9)
    assert questions(store.conn)[0].channel == "cli" and question(store.conn, log_id).question == "问题"
    rate(store.conn, "zhang", log_id, False, correct="正确答复")
    assert ratings(store.conn, [log_id])[log_id].correct == "正确答复"
    assert question(store.conn, log_id + 1) is None
    store.close()


def test_every_cli_question_is_logged_with_its_user(kb_cli, tmp_path):  # noqa: F811
    ok(kb_cli("ingest", make_xlsx(tmp_path / "常见问题.xlsx", ROWS, HEADERS)))
    ok(kb_cli("ask", "第一次办护照带啥材料"))
    file = tmp_path / "问题.txt"
    file.write_text("居住证签注去哪办\n驾驶证到期怎么换\n", encoding="utf-8")
    ok(kb_cli("ask", "--file", file, "--json"))
    ok(kb_cli("user", "add", "admin", "--role", "管理员", env={"KB_NEW_PASSWORD": PASSWORDS["admin"]}))
    ok(kb_cli("ask", "居住证签注去哪办", user="admin"))

    store = Records(tmp_path / "data" / RECORDS_FILE)
    logged = questions(store.conn)
    store.close()
    assert [(q.user, q.question, q.status, q.top_parent, q.channel) for q in reversed(logged)] == [
        ("local", "第一次办护照带啥材料", "answered", "FAQ-HZ", "cli"),
        ("local", "居住证签注去哪办", "answered", "FAQ-QZ", "cli"),
        ("local", "驾驶证到期怎么换", "no_answer", logged[1].top_parent, "cli"),
        ("admin", "居住证签注去哪办", "answered", "FAQ-QZ", "cli"),
    ]
    assert all(0 <= q.confidence <= 1 for q in logged)
