"""`kb ask` beyond one question: a file of questions in one process, and answers as of a future day."""

from __future__ import annotations

import json
from datetime import date, timedelta

from fixtures import make_xlsx
from test_lifecycle_cli import kb_cli, ok  # noqa: F401  (kb_cli is a fixture)

ROWS = [
    ["FAQ-QZ", "居住证签注怎么办理？", "到居住地派出所户籍窗口办理签注，需本人到场，当场办结。", "居住证签注"],
    ["FAQ-HZ", "第一次办护照需要带什么材料？", "携带本人身份证到出入境接待大厅现场采集照片和指纹，7个工作日内制发护照。", "普通护照首次申请"],
]
HEADERS = ["编号", "问题", "答复", "事项"]
LATER = (date.today() + timedelta(days=10)).isoformat()


def test_a_file_of_questions_gets_one_json_object_per_line(kb_cli, tmp_path):  # noqa: F811
    ok(kb_cli("ingest", make_xlsx(tmp_path / "常见问题.xlsx", ROWS, HEADERS)))
    questions = tmp_path / "问题.txt"
    questions.write_bytes("第一次办护照带啥材料\n\n居住证签注去哪办\n驾驶证到期怎么换\n".encode("gb18030"))
    lines = ok(kb_cli("ask", "--file", questions, "--json")).splitlines()
    answers = [json.loads(line) for line in lines]
    assert [a["question"] for a in answers] == ["第一次办护照带啥材料", "居住证签注去哪办", "驾驶证到期怎么换"]
    assert [a["status"] for a in answers] == ["answered", "answered", "no_answer"]
    assert [c["parent_id"] for a in answers for c in a["citations"]] == ["FAQ-HZ", "FAQ-QZ"]

    plain = ok(kb_cli("ask", "--file", questions))
    assert plain.count("问：") == 3 and "暂无可靠答案" in plain

    empty = tmp_path / "空.txt"
    empty.write_text("\n \n", encoding="utf-8")
    refused = kb_cli("ask", "--file", empty)
    assert refused.exit_code == 1 and "没有问题" in refused.output
    neither = kb_cli("ask")
    assert neither.exit_code == 2 and "二者选一" in neither.output


def test_as_of_previews_a_change_before_it_takes_effect(kb_cli, tmp_path):  # noqa: F811
    ok(kb_cli("ingest", make_xlsx(tmp_path / "常见问题.xlsx", ROWS, HEADERS)))
    submitted = ok(kb_cli("submit", "-q", "居住证签注还要去派出所吗？", "-a", "居住证签注改为在一网通办线上办理，无需到派出所。",
                          "--item", "居住证签注", "--supersedes", "FAQ-QZ", "--effective-from", LATER.replace("-", "/")))
    new_id = submitted.split("已提交 ")[1].split("，")[0]
    ok(kb_cli("review", "approve", new_id))

    today = json.loads(ok(kb_cli("ask", "居住证签注怎么办理？", "--json")))
    assert today["citations"][0]["parent_id"] == "FAQ-QZ"
    assert any(new_id in note and LATER in note for note in today["notes"])
    later = json.loads(ok(kb_cli("ask", "居住证签注怎么办理？", "--json", "--as-of", LATER)))
    assert later["citations"][0]["parent_id"] == new_id and "一网通办" in later["text"]
    assert any("FAQ-QZ" in note and "替代" in note for note in later["notes"])
    searched = json.loads(ok(kb_cli("search", "居住证签注怎么办理？", "--k", "1", "--as-of", LATER)))
    assert searched["parent_id"] == new_id and searched["replaced"][0]["old_id"] == "FAQ-QZ"

    bad = kb_cli("ask", "居住证签注怎么办理？", "--as-of", "明天")
    assert bad.exit_code == 2 and "--as-of" in bad.output and "Traceback" not in bad.output


def test_bad_questions_and_options_are_refused_in_chinese(kb_cli, tmp_path):  # noqa: F811
    ok(kb_cli("ingest", make_xlsx(tmp_path / "常见问题.xlsx", ROWS, HEADERS)))
    broken = tmp_path / "坏编码.txt"
    broken.write_bytes(b"\xff\xfe\x00\x00abc")
    for args, code, words in (
        (("ask", "   "), 2, ["二者选一"]),
        (("ask", "居住证签注怎么办理？", "--min-confidence", "2"), 2, ["--min-confidence", "0 到 1"]),
        (("ask", "居住证签注怎么办理？", "--min-confidence", "-1"), 2, ["--min-confidence", "0 到 1"]),
        (("search", " "), 2, ["要检索的内容"]),
        (("search", "居住证签注", "--k", "0"), 2, ["--k", "1 或更大"]),
        (("ask", "--file", broken), 1, [str(broken), "UTF-8"]),
    ):
        refused = kb_cli(*args)
        assert refused.exit_code == code and "Traceback" not in refused.output, (args, refused.output)
        assert all(word in refused.output for word in words), (args, refused.output)
    asked = json.loads(ok(kb_cli("ask", "居住证签注怎么办理？", "--json")))
    assert asked["log_id"] == 1, "the refused questions were not logged"
