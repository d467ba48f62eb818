"""Dates: one parser for sheet cells, command options and review edits; 失效日期 is the last valid day."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from fixtures import make_xlsx
from test_lifecycle_cli import kb_cli, ok  # noqa: F401  (kb_cli is a fixture)
from test_workflow import NEW_A, NEW_Q, OLD_A, OLD_Q, case, day, publish

from bot import answer
from ingest import ingest_paths
from ingest.columns import parse_date as sheet_parse_date
from kb.dates import month_bounds, parse_date, require_date
from kb.errors import DateError, ReviewError
from kb.lifecycle import expired


@pytest.mark.parametrize("value, expected", [
    (datetime(2026, 11, 3, 9, 30), "2026-11-03"), (date(2026, 11, 3), "2026-11-03"),
    (46329, "2026-11-03"), (46329.75, "2026-11-03"), (20261103, "2026-11-03"), (20261103.0, "2026-11-03"),
    ("2026-11-03", "2026-11-03"), ("2026-11-3", "2026-11-03"), ("2026/11/3", "2026-11-03"),
    ("2026.11.3", "2026-11-03"), ("2026年11月3日", "2026-11-03"), ("2026 年 11 月 3 日", "2026-11-03"),
    ("20261103", "2026-11-03"), ("２０２６年１１月３日", "2026-11-03"), ("２０２６／１１／０３", "2026-11-03"),
    ("  2026/11/3\u3000", "2026-11-03"), ("2026-11-03 10:30:00", "2026-11-03"),
    (None, ""), ("", ""), ("   ", ""),
    ("2026-02-30", None), ("2026-13-45", None), ("明天", None), ("下个月", None), ("2026", None),
    (2026, None), (float("nan"), None), (True, None), ("20261341", None),
])
def test_parse_date(value, expected):
    assert parse_date(value) == expected


def test_month_bounds_reads_the_written_forms_of_a_month():
    for written in ("2024-02", "2024/2", "2024.02", "2024年2月", "２０２４年２月"):
        assert month_bounds(written) == ("2024-02", "2024-02-01", "2024-02-29")
    assert month_bounds("2026-13") is None and month_bounds("2026-11-03") is None and month_bounds("") is None


def test_require_date_names_the_field_and_the_forms():
    assert require_date("2026/11/3", "生效日期") == "2026-11-03" and require_date("", "生效日期") == ""
    with pytest.raises(DateError, match="生效日期“2026-02-30”.*2026/11/3"):
        require_date("2026-02-30", "生效日期")
    assert sheet_parse_date is parse_date


def test_workflow_normalises_dates_and_allows_one_day_validity(kb, wf, people):
    draft = wf.submit(people.staff, case(OLD_Q, OLD_A, date="2026/11/3", effective_from="2026年12月1日",
                                         expire_on="2026.12.1")).entry_id
    entry = kb.entry(draft)
    assert (entry.date, entry.effective_from, entry.expire_on) == ("2026-11-03", "2026-12-01", "2026-12-01")
    with pytest.raises(DateError, match="生效日期“明天”"):
        wf.approve(people.reviewer, draft, changes={"effective_from": "明天"})
    with pytest.raises(ReviewError, match="早于生效日期"):
        wf.approve(people.reviewer, draft, changes={"effective_from": "2026/12/2"})
    wf.approve(people.reviewer, draft, changes={"expire_on": "20261231"})
    assert kb.entry(draft).expire_on == "2026-12-31"


def test_expire_on_is_the_last_valid_day(kb, wf, people):
    assert not expired("2026-11-03", "2026-11-03") and expired("2026-11-03", "2026-11-04")
    last_day = publish(wf, people, OLD_Q, OLD_A, expire_on=day(0))
    hit = kb.search(OLD_Q)[0]
    assert (hit.parent_id, hit.expired_on, hit.is_current) == (last_day, "", True)
    assert answer(kb, OLD_Q).text == OLD_A
    tomorrow = kb.search(OLD_Q, as_of=day(1))[0]
    assert (tomorrow.expired_on, tomorrow.is_current) == (day(0), False)


def test_sheet_dates_and_a_reversed_validity(kb, tmp_path):
    path = make_xlsx(tmp_path / "口径.xlsx", [
        [OLD_Q, OLD_A, 46329, "2026/12/1", "２０２６年１２月３１日"],
        [NEW_Q, NEW_A, "2026.11.3", "2026-12-10", "2026-12-09"],
    ], ["问题", "答复", "日期", "生效日期", "失效日期"])
    result = ingest_paths(kb, [path]).results[0]
    (entry,) = kb.records.iter_entries()
    assert (entry.date, entry.effective_from, entry.expire_on) == ("2026-11-03", "2026-12-01", "2026-12-31")
    (warning,) = result.warnings
    assert "第 3 行" in warning and "早于生效日期" in warning


OPTIONS = [
    ("submit", "-q", "问题", "-a", "答复", "--date"), ("submit", "-q", "问题", "-a", "答复", "--effective-from"),
    ("submit", "-q", "问题", "-a", "答复", "--expire-on"), ("digest", "--date"), ("audit", "--since"),
    ("audit", "--until"), ("search", "护照", "--date-from"), ("search", "护照", "--date-to"),
    ("ask", "护照", "--date-from"), ("ask", "护照", "--date-to"),
]


@pytest.mark.parametrize("command", OPTIONS, ids=lambda c: f"{c[0]} {c[-1]}")
@pytest.mark.parametrize("bad", ["2026-13-45", "明天"])
def test_a_bad_date_option_is_a_clear_usage_error(kb_cli, command, bad):  # noqa: F811
    result = kb_cli(*command, bad)
    assert result.exit_code == 2, result.output
    assert f"选项 {command[-1]} 的值“{bad}”不是有效的日期" in result.output and "2026/11/3" in result.output
    assert "Traceback" not in result.output and "Invalid value" not in result.output


def test_date_options_accept_the_sheet_forms(kb_cli, tmp_path):  # noqa: F811
    submitted = ok(kb_cli("submit", "-q", "护照加急要多久？", "-a", "加急五个工作日。", "--date", "2026/11/3",
                          "--effective-from", "2026年12月1日", "--expire-on", "20261231"))
    entry_id = re.search(r"K\d{5}", submitted).group(0)
    shown = ok(kb_cli("review", "show", entry_id))
    assert "日期：2026-11-03" in shown and "生效：2026-12-01" in shown and "失效：2026-12-31" in shown
    refused = kb_cli("review", "approve", entry_id, "--set", "effective_from=明天")
    assert refused.exit_code == 1 and "生效日期“明天”不是有效的日期" in refused.output
    assert "Traceback" not in refused.output
    ok(kb_cli("review", "approve", entry_id, "--set", "effective_from=2026/11/20"))
    assert "生效：2026-11-20" in ok(kb_cli("review", "show", entry_id))
    ok(kb_cli("digest", "--date", "2026/11/3", "--out", tmp_path / "out"))
    assert (tmp_path / "out" / "每日汇总-2026-11-03.md").exists()
    assert entry_id in ok(kb_cli("audit", "--since", "2000/1/1", "--until", "2099.12.31"))
    assert entry_id in ok(kb_cli("search", "护照加急", "--date-from", "2026/11/3", "--date-to", "2026年11月3日"))
    assert entry_id not in ok(kb_cli("search", "护照加急", "--date-from", "2026/11/4"))
    ok(kb_cli("ask", "护照加急要多久？", "--date-from", "2026/11/1"))


def test_an_empty_digest_date_means_today_and_an_unwritable_out_is_named(kb_cli, tmp_path):  # noqa: F811
    ok(kb_cli("digest", "--date", "", "--out", tmp_path / "today"))
    assert (tmp_path / "today" / f"每日汇总-{date.today().isoformat()}.md").exists()
    blocker = tmp_path / "不是文件夹"
    blocker.write_text("", encoding="utf-8")
    refused = kb_cli("digest", "--out", blocker / "汇总")
    assert refused.exit_code == 1 and f"无法写入 {blocker}" in refused.output, refused.output
    assert "上级文件夹其实是一个文件" in refused.output and "Traceback" not in refused.output
