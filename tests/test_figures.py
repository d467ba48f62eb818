"""A year, a code or a document number in the question must be in what answers it."""

from __future__ import annotations

from bot import answer
from fixtures import make_md, make_text
from ingest import ingest_paths


def _position_tables(tmp_path):
    header = "招录机关,职位名称,招录人数,咨询电话\n"
    return [
        make_text(tmp_path / "2024职位表.csv", "临江市2024年度考试录用公务员职位表,,,\n" + header
                  + "临江市人社局,文秘,2,0795-3210001\n临江市医保局,财务,1,0795-3210002\n"),
        make_text(tmp_path / "2026职位表.csv", "临江市2026年度考试录用公务员职位表,,,\n" + header
                  + "临江市人社局,文秘,5,0795-3210001\n临江市医保局,财务,3,0795-3210002\n"),
    ]


def test_the_year_asked_picks_the_table_of_that_year(kb, tmp_path):
    ingest_paths(kb, _position_tables(tmp_path))
    for year, count in (("2024", "2"), ("2026", "5")):
        reply = answer(kb, f"{year}年人社局文秘岗位招几个人？", min_confidence=0)
        assert reply.answered, reply
        assert reply.citations[0].source == f"{year}职位表.csv"
        assert f"招录人数：{count}" in reply.text + reply.passage


def test_a_year_no_file_has_is_refused_with_the_reason(kb, tmp_path):
    ingest_paths(kb, _position_tables(tmp_path))
    reply = answer(kb, "2025年人社局文秘岗位招几个人？", min_confidence=0)
    assert reply.status == "no_answer"
    assert any("2025" in note for note in reply.notes)


def test_the_passage_with_the_code_is_shown(kb, tmp_path):
    overview = ("统一身份认证接口采用票据方式，接入系统调用认证接口获取票据，接口返回结果为 JSON 或 XML 格式。"
                "接口调用失败时，接入系统应当记录接口返回的结果和错误说明，并提示用户重新登录。"
                "认证接口的调用地址、接口参数和返回格式以本规范为准，接口升级时另行通知。")
    codes = "返回结果：0 表示成功；6301 表示令牌已经超时失效；6302 表示被代理的接入资源不存在；6399 表示其他错误。"
    ingest_paths(kb, [make_md(tmp_path / "接口规范.md", "统一身份认证接口规范", [overview, "## 返回码", codes])])
    reply = answer(kb, "认证接口返回6301是什么意思？", min_confidence=0)
    assert reply.answered
    assert "令牌已经超时失效" in reply.text + reply.passage
