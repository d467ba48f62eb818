"""A document's title and date, read from its structure as a person would.

The title is the first line near the top that reads like a title (关于……的通知, ……办法, ……公告),
never a red-head line (……文件, ……办公室, ……局), a revision-history heading, a document number (宜府发〔2024〕3号), a 附件 line, a table-of-contents
line, a metadata line (发布日期：, 来源：, 索引号：), a line of markup (<?xml …?>) or a bare date; a title
set on two or three lines is joined, and a document with a cover page (before its 目录) takes its
title from the cover. Text read by OCR takes its title only from a line that ends like one. The date
is a labelled 发文/成文/发布日期 first, then the signature date (a line that is only a date, in figures
or in Chinese numerals) at the end, then one right below the title.
"""

from __future__ import annotations

import re

from .blocks import Block, Heading, Paragraph, is_heading, plain_text

_SCAN = 15
_TITLE_WORDS = re.compile(
    r"(通知|通告|公告|公示|办法|规定|细则|规则|指南|须知|方案|意见|决定|批复|函|说明|简章|名单|名录|清单|目录"
    r"|一览表|报告|纪要|条例|标准|流程|解读|问答|答记者问|指引|导则|计划|要点|手册|制度|表|规范|协议|合同|决议|文档"
    r"|决定书|告知书|通知书|承诺书|申请书|责任书|意见书|倡议书)$"
)
_NOT_TITLE = re.compile(
    r"^(附件|附表|附录|目\s*录|索\s*引\s*号|发布机构|发文机关|发布日期|发布时间|成文日期|发文日期|主题分类|文\s*号|来源|"
    r"信息来源|浏览次数|访问量|字号|分享|打印|关闭|当前位置|首页|签发人|密级|紧急程度|抄送|主送|"
    r"修订历史|修订记录|版本记录|版本历史|文档历史|变更记录|注\s*[:：]|说明\s*[:：]|备注\s*[:：])"
    r"|文件$|(办公室|办公厅|委员会|人民政府|局|厅|协会)$|〔\d{4}〕\s*\d+\s*号$|\[\d{4}\]\s*\d+\s*号$|[.．…·]{4,}\s*\d*$|^第?\s*\d+\s*页"
)
_CONTENTS = re.compile(r"^(目\s*录|目\s*次)$")
_HEAD_END = re.compile(r"[\s。！？；]")
_YMD = r"(\d{4})\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})\s*日?"
_CN_DIGIT = "〇零一二三四五六七八九"
_CN_VALUE = {**{ch: n for n, ch in enumerate("零一二三四五六七八九")}, "〇": 0, "○": 0, "Ｏ": 0}
_CN_YMD = rf"([{_CN_DIGIT}○Ｏ]{{4}})年([一二三四五六七八九十]{{1,3}})月([一二三四五六七八九十]{{1,3}})日"
_LABELLED = re.compile(rf"(发文日期|成文日期|发布日期|印发日期|发布时间|公布日期|日期)\s*[:：]?\s*(?:{_YMD})")
_DATE_LINE = re.compile(rf"^[（(]?\s*(?:{_YMD}|{_CN_YMD})\s*[）)]?$")
_ANY_DATE = re.compile(_YMD)


def _lines(blocks: list[Block]) -> list[str]:
    return plain_text(blocks).split("\n")


def _titleish(line: str) -> bool:
    return 4 <= len(line) <= 80 and not _NOT_TITLE.search(line) and not _DATE_LINE.match(line) \
        and not line.endswith(("。", "；", "：", ":")) and "。" not in line and not line.startswith("<") \
        and not re.fullmatch(r"[\d\W_]+", line)


def title_of(blocks: list[Block], given: str, fallback: str, guess: bool = True) -> str:
    """The document's title: ``given`` (from metadata, a Title style or the largest font) when it reads
    like one and stands near the top, else the first line near the top that ends like a title, joined
    with the lines it continues (a title set on two or three lines), else the first title-like line
    (on a cover page, with the one after it), else the head of the first line (a headline run into its
    text, up to the first space or full stop), else ``fallback``. A document with a cover page (lines
    before its 目录) takes its title from the cover: the headings after the table of contents are
    sections. Without ``guess`` (text read by OCR, whose first lines may be a photo's surroundings or
    an app's labels) only a line that ends like a title is taken, else ``fallback``."""
    top = [b for b in blocks[:_SCAN] if isinstance(b, (Heading, Paragraph))]
    texts = [b.text for b in top]
    given = given.strip()
    if given and _titleish(given) and (given in _lines(blocks[:_SCAN]) or given not in _lines(blocks)):
        return _cut(given)
    contents = next((i for i, text in enumerate(texts) if _CONTENTS.match(text)), 0)
    cover = texts[:contents] if any(_titleish(text) for text in texts[:contents]) else []
    for lines, most in ((cover, 2), (texts, 1)):
        if lines and (title := _ending_title(lines) or (guess and _opening_lines(lines, most))):
            return _cut(title)
    if not guess:
        return fallback
    head = _HEAD_END.split(texts[0], 1)[0] if texts else ""
    return _cut(head) if len(head) >= 4 and _titleish(head) else fallback


def _ending_title(lines: list[str]) -> str:
    """The first line that ends like a title (……办法, 的通知), with the lines before it that it goes on
    from: title-like lines that do not end a title themselves, or the part of a line from 关于 on."""
    for i, text in enumerate(lines):
        if not _TITLE_WORDS.search(text) or not (_titleish(text) or (text.startswith("的") and i > 0)):
            continue
        parts = [text]
        for before in reversed(lines[max(0, i - 2) : i]):
            if parts[0].startswith("关于"):  # a title opens with 关于: what stands before it is the issuer
                break
            if "关于" in before:
                parts.insert(0, before[before.rindex("关于") :])
                break
            if not _titleish(before) or _TITLE_WORDS.search(before) or is_heading(before) \
                    or before.endswith(("，", ",")):
                break
            parts.insert(0, before)
        joined = "".join(parts)
        if len(joined) <= 80 and _titleish(joined):
            return joined
        if _titleish(text):
            return text
    return ""


def _opening_lines(lines: list[str], most: int) -> str:
    """The first title-like line of ``lines`` (not a numbered heading), joined with the title-like lines
    right after it, ``most`` lines in all."""
    fit = [_titleish(text) and len(text) <= 40 and not is_heading(text) for text in lines]
    if True not in fit:
        return ""
    start = fit.index(True)
    end = start
    while end < min(len(lines), start + most) and fit[end]:
        end += 1
    return "".join(lines[start:end])


def _cut(title: str) -> str:
    return title if len(title) <= 60 else title[:59] + "…"


def _cn_number(text: str) -> int:
    """二〇二六 -> 2026 (digit by digit), 二十六 -> 26, 十二 -> 12."""
    if "十" not in text:
        return int("".join(str(_CN_VALUE[ch]) for ch in text))
    tens, _, ones = text.partition("十")
    return (_CN_VALUE[tens] if tens else 1) * 10 + (_CN_VALUE[ones] if ones else 0)


def _iso(year: int, month: int, day: int) -> str:
    return f"{year:04d}-{month:02d}-{day:02d}" if 1 <= month <= 12 and 1 <= day <= 31 and year > 1900 else ""


def _date_in(match: re.Match) -> str:
    figures = [g for g in match.groups() if g is not None]
    if figures[-3].isdigit():
        return _iso(*(int(g) for g in figures[-3:]))
    return _iso(*(_cn_number(g) for g in figures[-3:]))


def labelled_date(text: str) -> str:
    """The first date in ``text`` written after a 发布日期/成文日期/发布时间 label, ISO or ''."""
    for m in _LABELLED.finditer(text):
        if day := _date_in(m):
            return day
    return ""


def date_of(blocks: list[Block], given: str = "") -> str:
    """The document's date as ISO text, or '' when it states none."""
    if given:
        return given
    lines = _lines(blocks)
    for line in lines:
        if day := labelled_date(line):
            return day
    for line in [*reversed(lines[-8:]), *lines[:6]]:
        if m := _DATE_LINE.match(line.strip()):
            if day := _date_in(m):
                return day
    for line in lines[:2]:
        if m := _ANY_DATE.search(line):
            if day := _date_in(m):
                return day
    return ""
