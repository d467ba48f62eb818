"""click's own usage lines, help headings and parsing errors are in Chinese (``cli/chinese.py``)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from cli import cli
from cli.chinese import columns

ENGLISH = ("Usage:", "Error:", "Invalid value", "No such", "Missing", "is not a valid", "Try '", "Show this message")


@pytest.mark.parametrize("args, words", [
    (["list", "--page", "x"], ["'--page' 的值不对", "'x' 不是整数"]),
    (["ask", "护照", "--min-confidence", "abc"], ["'--min-confidence' 的值不对", "不是数字"]),
    (["ask", "--nope"], ["没有选项 '--nope'"]),
    (["askk"], ["没有命令 'askk'", "'ask'"]),
    (["ask", "--file", "/no/such/问题.txt"], ["文件 '/no/such/问题.txt' 不存在"]),
    (["search", "--mode", "fuzzy", "护照"], ["'fuzzy' 不在可选值", "'hybrid'"]),
    (["list", "--page"], ["选项 '--page' 后面要写一个值"]),
])
def test_parsing_errors_are_chinese(args, words):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "错误：" in result.output
    for word in words:
        assert word in result.output, result.output
    for english in ENGLISH:
        assert english not in result.output, result.output


def test_usage_hint_is_chinese():
    output = CliRunner().invoke(cli, ["ask", "--nope"]).output
    assert "用法：" in output and "[QUESTION]" in output and "查看帮助" in output


def test_help_headings_are_chinese():
    output = CliRunner().invoke(cli, ["--help"]).output
    assert output.startswith("用法：") and "\n选项:\n" in output and "\n命令:\n" in output
    assert "显示本帮助并退出" in output
    listing = CliRunner().invoke(cli, ["list", "--help"]).output
    assert "--page 整数" in listing and "默认：1" in listing
    for english in ENGLISH:
        assert english not in output + listing



def test_help_descriptions_line_up_after_chinese_metavars():
    shown = CliRunner().invoke(cli, ["ask", "--help"], terminal_width=200).output
    rows = [re.match(r"(  (-\S*(?: \S+)?)\s{2,})\S", line) for line in shown.split("选项:")[1].splitlines()]
    starts = {m[2]: columns(m[1]) for m in rows if m}
    assert {"--date-from 日期", "--json", "--min-confidence 数字", "--kind [entry|document]"} <= set(starts), shown
    assert len(set(starts.values())) == 1, starts


def test_a_chinese_character_takes_two_columns():
    assert (columns("--date 日期"), columns("\x1b[31m日期\x1b[0m"), columns("ａ")) == (11, 4, 2)
