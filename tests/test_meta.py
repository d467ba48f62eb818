"""Titles and dates are read from a document's structure, not from its first line or first figure."""

from __future__ import annotations

import pytest

from ingest.blocks import text_blocks
from ingest.meta import date_of, title_of


@pytest.mark.parametrize("text, title", [
    ("宜春市人力资源和社会保障局文件\n宜人社发〔2026〕12号\n关于做好2027年度城乡居民养老保险\n缴费工作的通知\n各县市区人社局：",
     "关于做好2027年度城乡居民养老保险缴费工作的通知"),
    ("附件1：\n目  录\n第一章 总则……………………1\n第二章 申请条件…………3\n宜春市公共租赁住房管理办法\n第一章 总则",
     "宜春市公共租赁住房管理办法"),
    ("索引号：014205812/2026-00321\n发布机构：宜春市医疗保障局\n发布日期：2026-09-02\n2027年城乡居民医保参保缴费须知\n一、缴费标准",
     "2027年城乡居民医保参保缴费须知"),
    ("居住证办理\n申请条件：在本市居住半年以上。", "居住证办理"),
    ("各地出台惠企政策 为缓解疫情对企业的影响，多地出台了稳岗返还等政策。", "各地出台惠企政策"),
    ("修订历史记录\n注：A-添加，M-修改，D-删除\n统一身份认证接口规范\n一、概述", "统一身份认证接口规范"),
    ("宜春市住房和城乡建设局\n关于进一步规范公租房资格审核、\n租金收缴事项\n合并办理的通知\n各县区：",
     "关于进一步规范公租房资格审核、租金收缴事项合并办理的通知"),
    ("宜春市住房和城乡建设局\n关于进一步加强施工图审查工作\n的通知\n各县区：", "关于进一步加强施工图审查工作的通知"),
    ("宜春市医疗保障局宜春市财政局关于印发《门诊慢特病认定办法》等\n3 项医保经办规程的通知\n各县区：",
     "关于印发《门诊慢特病认定办法》等3 项医保经办规程的通知"),
    ("宜春市政务服务网\n移动端统一支付接入\n宜春市数据管理局\n目录\n简介\n对接流程\n一、准备工作",
     "宜春市政务服务网移动端统一支付接入"),
    ("修订历史记录\n<?xml version=\"1.0\"?>\n医保电子凭证接口说明\n一、概述", "医保电子凭证接口说明"),
])
def test_title_skips_red_heads_numbers_attachments_contents_and_metadata(text, title):
    assert title_of(text_blocks(text), "", "文件名") == title


def test_title_metadata_wins_when_it_reads_like_a_title_and_falls_back_to_the_file_name():
    blocks = text_blocks("发布日期：2026-09-02\n附件2")
    assert title_of(blocks, "社保卡补换办事指南", "文件名") == "社保卡补换办事指南"
    assert title_of(blocks, "附件2", "文件名") == "文件名"
    red_head = text_blocks("唐山市住房和城乡建设局\n关于进一步加强施工图技术审查的通知\n各县区：")
    assert title_of(red_head, "唐山市住房和城乡建设局", "文件名") == "关于进一步加强施工图技术审查的通知"
    deep = text_blocks("用户对接技术文档\n" + "\n".join(f"第{n}段说明文字。" for n in range(20)) + "\n应用接入方案")
    assert title_of(deep, "应用接入方案", "文件名") == "用户对接技术文档"


def test_text_read_by_ocr_takes_only_a_line_that_ends_like_a_title():
    screenshot = text_blocks("DING8工作通讯录\n用户认证对接申请\n1.登录政务服务网填写申请")
    assert title_of(screenshot, "", "文件名", guess=False) == "文件名"
    assert title_of(screenshot, "", "文件名") == "DING8工作通讯录"
    scan = text_blocks("唐山市人民政府办公室\n关于印发施工预许可审批实施细则的通知\n各县区：")
    assert title_of(scan, "", "文件名", guess=False) == "关于印发施工预许可审批实施细则的通知"
    decision = text_blocks("中国证券投资基金业协会\n纪律处分决定书\n当事人：某基金公司")
    assert title_of(decision, "", "文件名", guess=False) == "纪律处分决定书"


@pytest.mark.parametrize("text, day", [
    ("关于调整公积金缴存基数的通知\n成文日期：2026年6月20日\n各单位：……\n宜春市住房公积金中心\n2026年6月25日", "2026-06-20"),
    ("关于调整公积金缴存基数的通知\n一、2025年度缴存基数为上年月平均工资。\n宜春市住房公积金中心\n2026年6月25日", "2026-06-25"),
    ("关于开展春季招聘会的通知\n各有关单位：\n定于2026年3月8日举办。\n宜春市就业创业服务中心\n二〇二六年二月二十六日", "2026-02-26"),
    ("一份没有日期的说明\n窗口受理时间为工作日。", ""),
])
def test_date_labelled_then_signature_never_a_figure_in_the_body(text, day):
    assert date_of(text_blocks(text)) == day


def test_date_right_below_the_title_but_not_deeper_in_the_body():
    assert date_of(text_blocks("窗口服务公告\n2026-05-06\n正文。")) == "2026-05-06"
    assert date_of(text_blocks("窗口服务公告\n各位群众：\n自2026年5月6日起延时服务。\n特此公告。")) == ""
