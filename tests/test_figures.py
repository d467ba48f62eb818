"""A year, a code or a document number in the question must be in what answers it."""

from __future__ import annotations

from dataclasses import replace

from bot import answer
from fixtures import make_md, make_text
from ingest import ingest_paths
from kb.deciding import figures, gives_asked
from kb.fusion import Ranked
from kb.hits import answering_passages


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



def test_the_passage_with_the_code_is_shown_however_far_down_the_document(kb, tmp_path):
    sections = []
    for n, topic in enumerate(("票据认证", "令牌刷新", "代理登录", "用户信息", "单点退出", "接口安全")):
        sections += [f"## {n + 1}. {topic}接口", f"{topic}接口返回 JSON 格式的结果，返回值 0 表示成功，其他返回值见附录；调用失败时，"
                     f"接入系统应当记录{topic}接口的返回值和错误说明，并提示用户稍后重试。"]
    sections += ["## 7. 错误码", "6301：令牌已经超时失效；6302：被代理接入资源不存在；6303：被代理系统不存在该用户；"
                                  "6304：该令牌不存在；6305：接入资源没有代理权；6399：其他错误。"]
    ingest_paths(kb, [make_md(tmp_path / "接口规范.md", "统一身份认证接口规范", sections)])
    first, *rest = kb.search("票据认证接口返回什么格式？", k=1)
    chunks = [kb.records.chunk_of(first.parent_id, position) for position in range(7)]
    assert None not in chunks and "6301" in chunks[6].text and "6301" not in first.text
    ranked = [Ranked(first.parent_id, first.score, chunks[0].id, first.similarity, tuple(c.id for c in chunks[1:4]))]
    asks_code = gives_asked(kb.tokens.lexicon, "返回6301是什么意思？")
    shown = answering_passages(kb.records, [replace(first, chunk_id=chunks[0].id, text=chunks[0].text)], ranked,
                               asks_code, figures("返回6301是什么意思？"))
    assert shown[0].chunk_id == chunks[6].id and "令牌已经超时失效" in shown[0].text
    assert answering_passages(kb.records, [first], ranked, asks_code) == [first]


def test_a_year_in_the_title_does_not_move_the_passage_to_a_row_that_repeats_it(kb, tmp_path):
    sections = []
    for n, (office, post, count, extra) in enumerate((
            ("郑州市人社局", "文秘", 2, "2026年应届毕业生可以报考。"), ("郑州市医保局", "财务", 1, ""),
            ("郑州市民政局", "社工", 3, ""), ("郑州市纪委监委", "审查调查", 4, ""))):
        sections += [f"## {n + 1}. {office}", f"{office}{post}岗位招录 {count} 人，咨询电话 0371-6117{n:04d}，"
                     f"报名时请按岗位要求提交学历证明和身份证件，资格复审时提交原件。" + extra]
    ingest_paths(kb, [make_md(tmp_path / "职位表.md", "郑州市2026年考试录用公务员职位表", sections)])
    question = "2026年郑州市纪委监委招录公务员的咨询电话是多少？"
    first, *rest = kb.search("纪委监委审查调查岗位", k=1)
    chunks = [kb.records.chunk_of(first.parent_id, position) for position in range(4)]
    assert None not in chunks and "2026" in chunks[0].text and "纪委监委" in chunks[3].text
    shown = replace(first, chunk_id=chunks[3].id, text=chunks[3].text)
    ranked = [Ranked(first.parent_id, first.score, chunks[3].id, first.similarity, (chunks[2].id, chunks[1].id))]
    assert answering_passages(kb.records, [shown], ranked, gives_asked(kb.tokens.lexicon, question),
                              figures(question)) == [shown]
