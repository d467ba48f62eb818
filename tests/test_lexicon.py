"""The domain lexicon: parsing and matching, keyword search through it, and the centre extending it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli import cli
from fixtures import CHROMA_URL, drop_server_collections, make_csv, make_xlsx, unique_collection
from ingest import ingest_paths
from kb import KBError
from kb.audit import events
from kb.lexicon import Lexicon, LexiconError, builtin_lines, normal_line, parse_line
from kb.text import keyword_tokens
from kb.users import PermissionDenied

pytestmark = pytest.mark.store

LINES = [
    ("synonym", "不动产权证书 房产证 房本"),
    ("synonym", "房本 小红本"),
    ("contrast", "离职 辞职 | 退休"),
    ("contrast", "取消 撤销"),
    ("answer_type", "多少钱 交多少钱 => #元 免费"),
]
ROWS = [
    ["FAQ-BF", "不动产权证书遗失了，怎么申请补发？", "权利人持身份证到不动产登记中心申请补发，登报公告15个工作日后补发新证。", "不动产权证书补发"],
    ["FAQ-SB", "社会保障卡丢了去哪里补？", "带身份证到合作银行网点补办，十五个工作日内制卡。", "社保卡补办"],
    ["FAQ-QZ", "居住证每年都要签注吗？", "居住证每年签注一次，可以在居住地派出所或网上办理。", "居住证签注"],
]
HEADERS = ["编号", "问题", "答复", "事项"]


def test_lines_become_concepts_contrasts_and_answer_types():
    lexicon = Lexicon.from_lines(LINES)
    assert lexicon.groups == (("不动产权证书", "房产证", "房本", "小红本"),)  # lines sharing a term merge
    assert lexicon.concepts("小红本丢了，房本也找不到") == ["不动产权证书"]
    assert lexicon.concept_tokens("房产证即不动产权证书") == ["#不动产权证书", "#不动产权证书"]
    assert lexicon.annotated("房本丢了") == "房本（不动产权证书）丢了"
    assert lexicon.names("不动产权证书", "他的房产证") and not lexicon.names("不动产权证书", "他的社保卡")
    assert lexicon.marks("辞职了要撤销备案吗") == (frozenset({0}), frozenset({0}))
    assert lexicon.marks("退休了") == (frozenset({1}), frozenset())
    assert lexicon.asked("是辞职不是退休") == (frozenset({0}), frozenset())  # a negated class is not asked about
    assert lexicon.asked("不是撤销，是退休") == (frozenset({1}), frozenset())
    assert lexicon.asked("他是不是退休了") == (frozenset({1}), frozenset())  # 是不是 asks, it does not deny
    assert lexicon.asked_types("补办护照要交多少钱？") == (0,)
    assert lexicon.gives(0, "工本费120元") and lexicon.gives(0, "补办免费") and not lexicon.gives(0, "到窗口办理")


HOW_LONG, HOW_OFTEN, WHICH_DOMAIN, WHAT_TIME = ("多久能办好？", "发热门诊医务人员核酸检测频次是多少？",
                                              "短信平台现在用哪个域名？", "办不成事反映窗口几点开？")


@pytest.mark.parametrize("question, text, says_it", [
    (HOW_LONG, "自2026年9月1日起施行", False),  # a calendar date is not a duration
    (HOW_LONG, "请于十月九日前到窗口领取", False),
    (HOW_LONG, "2026年起全面推行", False),
    (HOW_LONG, "材料齐全的，3个工作日内办结", True),
    (HOW_LONG, "每年3月31日前完成认证", True),  # 每年 is how often, whatever the date
    (HOW_LONG, "受理后15日内作出决定", True),
    (HOW_OFTEN, "作业期间每天1检", True),
    (HOW_OFTEN, "每周开展两次核酸检测", True),
    (HOW_OFTEN, "自2026年9月1日起施行", False),
    (HOW_OFTEN, "由所在单位组织检测", False),
    (WHICH_DOMAIN, "新域名为 sms.zjzwfw.gov.cn。", True),
    (WHICH_DOMAIN, "登录 https://www.gjzwfw.gov.cn 办理", True),
    (WHICH_DOMAIN, "对外域名保持不变，原使用域名的系统不受影响。", False),
    (WHAT_TIME, "工作日上午9:00至12:00、下午14:00至17:30开放", True),
    ("大厅的办公时间是怎样的？", "周一至周五8点30分开门", True),
    (WHAT_TIME, "反映窗口设在一楼大厅，由值班长负责登记", False),
    ("这件事归哪个部门管？", "由市住建局负责审核", True),
    ("这件事归哪个部门管？", "请到区医保办咨询", True),
    ("这件事归哪个部门管？", "申报主体：办理人姓名：办理时限：", False),  # 办理 is no 办
    ("这件事归哪个部门管？", "委托他人处理的，应当提交委托书", False),
    ("表头写的是哪个服务中心？", "唐山市民服务中心申报材料清单", True),
    ("表头写的是哪个服务中心？", "由市住建局负责审核", False),
    ("实名认证分哪两个级别？", "个人用户均分为初级实名和高级实名两种认证级别", True),
    ("实名认证分哪两个级别？", "初级实名用户可以在线办理部分事项", False),  # 部分 is no 分
    ("公积金贷款最多能贷多少钱？", "贷款额度按缴存余额倍数和还款能力分别计算，取其中最低值", True),  # an amount, not a fee
    ("公积金贷款最多能贷多少钱？", "可通过公积金APP申请，到受托银行签订合同", False),
])
def test_an_answer_type_wants_its_kind_of_value(question, text, says_it):
    lexicon = Lexicon.from_lines(builtin_lines())
    (asked,) = lexicon.asked_types(question)
    assert lexicon.gives(asked, text) is says_it


def test_a_set_about_papers_counts_only_when_the_question_names_a_paper():
    lexicon = Lexicon.from_lines([*LINES, ("synonym", "居民户口簿 户口本"),
                                  ("contrast", "证照： 首次 第一次 | 遗失 丢了 找不到 掉了")])
    assert lexicon.paper_sets == frozenset({2})
    assert normal_line("contrast", "证照：首次  第一次|丢了") == "证照: 首次 第一次 | 丢了"
    for question in ("护照找不到了怎么办", "户口本丢了", "毕业证掉了能补吗", "房本找不到了"):
        assert lexicon.asked(question)[2] == frozenset({1}), question
    for question in ("原来的公司倒闭了，老板也找不到", "社保断掉了还能补吗", "工作丢了，公积金能取吗"):
        assert lexicon.asked(question)[2] == frozenset(), question
        assert lexicon.marks(question)[2] == frozenset({1})  # the words are there: a follow-up may still use them
    assert lexicon.asked("辞职了，老板找不到")[0] == frozenset({0})  # other sets are read as before


def test_which_points_is_not_what_time():
    assert Lexicon.from_lines(builtin_lines()).asked_types("办理时需要注意哪几点？") == ()


def test_a_term_inside_a_longer_term_of_another_class_does_not_count():
    lexicon = Lexicon.from_lines(builtin_lines())
    (sets,) = [i for i, classes in enumerate(lexicon.contrasts) if "没有单位" in classes[0]]
    assert lexicon.marks("我是跑外卖的，没有单位，能自己交公积金吗？")[sets] == frozenset({0})
    assert lexicon.asked("没有单位，公司也不给交，单位那边怎么办")[sets] == frozenset({0, 1})  # 单位 said on its own too
    assert lexicon.asked("不是没有单位，是单位不给交")[sets] == frozenset({1})


def test_a_vague_count_is_no_question():
    lexicon = Lexicon.from_lines(builtin_lines())
    for said in ("我爷爷瘫在床上好几年了，社保卡能代领吗？", "这几天补的材料算不算数？", "十几天前交的申请，还没消息"):
        assert lexicon.asked_types(said) == (), said
    (how_long,) = lexicon.asked_types("这几天交的材料，几天能审完？")
    assert lexicon.asking(how_long, "这几天交的材料，几天能审完？") == "几天"
    assert lexicon.asking(how_long, "好几年没交社保了，还能补吗？") == ""
    assert lexicon.asking(how_long, "乙方要提前几天通知？") == "几天"


@pytest.mark.parametrize("kind, line, words", [
    ("synonym", "房本", "只有一个词"),
    ("contrast", "离职 | ", "空的一类"),
    ("contrast", "离职 | 离职", "重复"),
    ("answer_type", "多少钱 #元", "=>"),
    ("antonym", "多 少", "词表类型"),
])
def test_bad_lines_say_what_to_fix(kind, line, words):
    with pytest.raises(LexiconError, match=words):
        parse_line(kind, line)


def test_the_shipped_lexicon_parses_and_knows_the_everyday_words():
    lexicon = Lexicon.from_lines(builtin_lines())
    for everyday, official in [("房产证", "不动产权证书"), ("户口本", "居民户口簿"), ("准生证", "生育登记"),
                               ("退休金", "基本养老金"), ("断缴", "中断缴费"), ("老人卡", "老年人优待证")]:
        assert lexicon.concepts(f"{everyday}怎么办") == [official]
    assert lexicon.marks("辞职了") != lexicon.marks("退休了")
    assert lexicon.concepts("电子社保卡怎么申领") == ["电子社会保障卡"]  # not the card itself
    assert lexicon.concepts("体检要拍片子吗") == ["x射线检查"]
    assert lexicon.concepts("天然气户名怎么改") == ["燃气"]  # a subject of its own, not part of 过户
    assert lexicon.concepts("劳动仲裁还没结") == ["劳动人事争议仲裁"]
    assert lexicon.concepts("领取资格认证在哪做") == ["待遇资格认证"]  # the yearly check of a pensioner
    assert lexicon.concepts("差一个材料，能不能先受理着，后面再补交？") == []  # 补交 a paper, not 补缴 a premium
    assert lexicon.concepts("一般人能办公租房吗") == ["公共租赁住房"]  # anyone, not a 一般纳税人
    assert lexicon.asked("社保断掉了还能补缴吗") == lexicon.asked("社保断了还能补缴吗")  # 掉了 is no lost card here
    assert lexicon.asked("社保卡掉了去哪补") != lexicon.asked("社保卡去哪办")
    assert lexicon.concepts("公司开了就没做过生意，能注销吗") == lexicon.concepts("公司一直没有经营") == ["未开业"]
    assert lexicon.asked("备案不要了，怎么撤掉") == lexicon.asked("备案怎么取消")
    assert lexicon.asked("退休了还能接着交公积金吗") != lexicon.asked("退休了公积金能取出来吗")


@pytest.mark.parametrize("question, searched", [
    ("是辞职不是退休，公积金能取吗", "是辞职,公积金能取吗"),
    ("不是换房本，是丢了", "房本,是丢了"),  # the subject stays, the case it denies goes
    ("第一次来，不是问取消，要带什么", "第一次来,,要带什么"),
    ("离职了并非退休怎么办", "离职了"),
    ("房本丢了，不是问取消房本", "房本丢了,"),  # the subject is named outside the denied clause
])
def test_what_a_question_denies_is_left_out_of_its_search(question, searched):
    assert Lexicon.from_lines(LINES).affirmative(question) == searched


def test_a_question_that_denies_nothing_is_searched_as_asked():
    for question in ("是不是要带房本？", "房本丢了ＡＰＰ能补吗"):
        assert Lexicon.from_lines(LINES).affirmative(question) == question


def test_spoken_fillers_are_searched_but_are_not_what_a_question_is_about(kb):
    question = "娃刚生下来，医保咋给他办上，这边能办吗"
    units = {surface for _, surface in kb.tokens.units(question)}
    assert not units & {"下来", "咋", "给", "这边"}
    assert {"医保", "娃"} <= units
    assert "这边" in keyword_tokens(question)  # FAQ questions share it: keyword search keeps it


def test_what_a_question_is_about_holds_no_word_jieba_made_up(kb):
    question = "个人交社保不挂单位，能按最低档交吗？"
    units = {surface for _, surface in kb.tokens.units(question)}
    assert not units & {"不挂", "档交"}, "a made-up word matches nothing, yet as the rarest unit it would weigh most"
    assert {"挂", "档", "最低"} <= units, "its characters count on their own: 档 matches an answer that says 档次"


def test_keyword_search_finds_the_official_wording_from_an_everyday_word(kb, tmp_path):
    assert ingest_paths(kb, [make_xlsx(tmp_path / "常见问题.xlsx", ROWS, HEADERS)]).failed == []
    assert kb.search("房本丢了咋办", k=1, mode="keyword")[0].parent_id == "FAQ-BF"
    assert kb.search("房本丢了咋办", k=1)[0].parent_id == "FAQ-BF"


def test_the_centre_extends_the_lexicon_and_every_process_follows(kb_factory, people, tmp_path):
    kb = kb_factory()
    assert ingest_paths(kb, [make_xlsx(tmp_path / "常见问题.xlsx", ROWS, HEADERS)], actor=people.admin).failed == []
    other = kb_factory(kb.data_dir)  # another process on the same data directory
    before = other.search("房契找不着了", k=3, mode="keyword")
    assert "FAQ-BF" not in [h.parent_id for h in before]

    with pytest.raises(PermissionDenied):
        kb.tokens.add(people.staff, [("synonym", "不动产权证书 房契")])
    assert kb.tokens.add(people.reviewer, [("synonym", "不动产权证书 房契")]) == ["不动产权证书 房契"]
    assert kb.tokens.add(people.reviewer, [("synonym", "不动产权证书 房契")]) == []  # already there

    assert other.search("房契找不着了", k=1, mode="keyword")[0].parent_id == "FAQ-BF"
    (event,) = events(kb.records.conn, action="lexicon")
    assert event.actor == people.reviewer.username and "房契" in event.after["added"][0]


def test_a_bad_line_stores_nothing(kb, people):
    with pytest.raises(KBError):
        kb.tokens.add(people.reviewer, [("synonym", "居住证 暂住证明"), ("synonym", "孤零零")])
    assert kb.tokens.add(people.reviewer, []) == [] and kb.tokens.lexicon == Lexicon.from_lines(builtin_lines())


def test_a_synonym_line_that_joins_two_groups_is_refused_and_nothing_is_stored(kb, people):
    with pytest.raises(KBError, match="不动产权证书.*居民户口簿") as refused:
        kb.tokens.add(people.reviewer, [("synonym", "公积金 公基金"), ("synonym", "房本 户口本")])
    assert "房本 户口本" in str(refused.value)
    with pytest.raises(KBError, match="连成一组"):  # two groups made by the same batch
        kb.tokens.add(people.reviewer, [("synonym", "甲证 乙证"), ("synonym", "丙证 丁证"), ("synonym", "乙证 丁证")])
    assert kb.tokens.lexicon == Lexicon.from_lines(builtin_lines())
    assert kb.tokens.add(people.reviewer, [("synonym", "房本 小红本"), ("synonym", "小红本 老房本")]) == \
        ["房本 小红本", "小红本 老房本"]
    assert kb.tokens.lexicon.concept_of["老房本"] == "不动产权证书"


@pytest.fixture
def data(tmp_path):
    """Options that put `kb` on a fresh data dir (and the test Chroma server, if any)."""
    collection = unique_collection()
    yield ["--data-dir", str(tmp_path / "data"), "--collection", collection, *(["--chroma-url", CHROMA_URL] if CHROMA_URL else [])]
    drop_server_collections([collection])


def test_lexicon_commands(tmp_path, data):
    run = CliRunner().invoke
    added = run(cli, ["lexicon", "add", "不动产权证书", "小红本", *data])
    assert added.exit_code == 0 and "已补充  不动产权证书 小红本" in added.output
    contrast = run(cli, ["lexicon", "add", "--contrast", "证照：首次 第一次", "补领 丢了", *data])
    assert contrast.exit_code == 0 and "证照: 首次 第一次 | 补领 丢了" in contrast.output
    asks = run(cli, ["lexicon", "add", "--answer-type", "多久 几天", "#天 当场", *data])
    assert asks.exit_code == 0 and "多久 几天 => #天 当场" in asks.output
    reading = run(cli, ["lexicon", "check", "小红本掉了，补一本要几天", *data])
    assert reading.exit_code == 0 and "认出的说法：小红本 → 不动产权证书" in reading.output
    assert "问的是“遗失”（问题里说“掉了”）" in reading.output and "问答类型：问“几天”" in reading.output
    sheet = make_xlsx(tmp_path / "词表.xlsx", [["不动产权证书", "红本、产权本"], ["", ""]], ["规范用语", "其他说法"])
    imported = run(cli, ["lexicon", "import", str(sheet), *data])
    assert imported.exit_code == 0 and "补充 1 行" in imported.output
    lines = make_csv(tmp_path / "区分词.csv", [["区分词", "个人 | 单位"], ["同义词", "公积金 公基金"]], ["类型", "词语"])
    assert run(cli, ["lexicon", "import", str(lines), *data]).exit_code == 0
    mine = run(cli, ["lexicon", "list", "--mine", *data]).output.splitlines()
    assert mine == ["同义词  不动产权证书 小红本", "区分词  证照: 首次 第一次 | 补领 丢了", "问答类型  多久 几天 => #天 当场",
                    "同义词  不动产权证书 红本 产权本",
                    "区分词  个人 | 单位", "同义词  公积金 公基金"]
    everything = run(cli, ["lexicon", "list", *data]).output
    assert "不动产权证书" in everything and "红本" in everything and "住房公积金 公积金 公基金" in everything
    assert "区分词  证照: 首次 第一次 初次" in everything and "区分词  证照: 首次 第一次 | 补领 丢了" in everything

    bad = make_csv(tmp_path / "坏表.csv", [["反义词", "多 | 少"]], ["类型", "词语"])
    refused = run(cli, ["lexicon", "import", str(bad), *data])
    assert refused.exit_code == 1 and "第 2 行" in refused.output and "同义词、区分词 或 问答类型" in refused.output
    single = run(cli, ["lexicon", "add", "孤零零", *data])
    assert single.exit_code == 1 and "只有一个词" in single.output and "Traceback" not in single.output
    joined = run(cli, ["lexicon", "add", "房本", "户口本", *data])
    assert joined.exit_code == 1 and "连成一组" in joined.output and "Traceback" not in joined.output


def test_a_lexicon_sheet_is_found_after_a_notes_sheet_and_a_bad_row_is_named(tmp_path):
    from ingest.lexicon_sheet import read_lexicon_sheet

    book = make_xlsx(tmp_path / "词表.xlsx", [["先填第二个工作表"]], ["填表说明"],
                     extra_sheets={"词表": [["规范用语", "其他说法"], ["不动产权证书", "房本、红本"]]})
    assert read_lexicon_sheet(book) == [("synonym", "不动产权证书 房本 红本")]
    notes = make_xlsx(tmp_path / "说明.xlsx", [["无"]], ["填表说明"], extra_sheets={"附表": [["标准", "别名"]]})
    with pytest.raises(KBError, match="已查看工作表 “登记表”、“附表”") as missing:
        read_lexicon_sheet(notes)
    assert "说明.xlsx" in str(missing.value)
    bad = make_xlsx(tmp_path / "坏行.xlsx", [["居住证 暂住证", ""], ["孤零零", ""]], ["词语", "类型"])
    with pytest.raises(KBError) as refused:
        read_lexicon_sheet(bad)
    assert "坏行.xlsx" in str(refused.value) and "第 3 行" in str(refused.value) and "只有一个词" in str(refused.value)
    answer = make_csv(tmp_path / "问答.csv", [["多少钱 =>", "问答类型"]], ["词语", "类型"])
    with pytest.raises(KBError, match="第 2 行：问答类型“多少钱 =>”的问法或答复说法是空的"):
        read_lexicon_sheet(answer)
