"""click's own words in Simplified Chinese: usage lines, help headings and the errors click raises itself
(an unknown option, a missing argument, a value that is not a number, a path that does not exist).

click marks these texts for gettext but ships no Chinese catalogue, and gettext picks a catalogue from the
system locale, which a counter PC may not set. :func:`install` binds click's modules to a lookup in
:data:`MESSAGES` instead, before the commands are defined (their ``--help`` texts are filled in then). A text
click adds in a later version and this table lacks stays in English; nothing else changes.

click also measures the option column of ``--help`` in characters, while a Chinese character takes two columns of
a terminal, so ``--date 日期`` pushed its description out of line: :func:`install` makes it measure in columns.
"""

from __future__ import annotations

import unicodedata

import click
from click import core, decorators, exceptions, formatting, parser, types

MESSAGES = {
    "Error: {message}": "错误：{message}",
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "参数",
    "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看帮助。",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本号并退出。",
    "Aborted!": "已取消。",
    "Do you want to continue?": "确定继续吗？",
    "Confirm the action without prompting.": "不再询问，直接执行。",
    "Missing command.": "缺少子命令。",
    "Invalid value: {message}": "取值不对：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值不对：{message}",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "Did you mean {possibility}?": "您是不是要用 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（您是不是要用其中之一：{possibilities}？）",
    "Got unexpected extra argument ({args})": "多出了参数（{args}）：含空格的内容请加引号",
    "Got unexpected extra arguments ({args})": "多出了参数（{args}）：含空格的内容请加引号",
    "Option {name!r} does not take a value.": "选项 {name!r} 后面不用写值。",
    "Option {name!r} requires an argument.": "选项 {name!r} 后面要写一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 后面要写 {nargs} 个值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 要写 {nargs} 个值。",
    "{value!r} is not {choice}.": "{value!r} 不对，只能是 {choice}。",
    "{value!r} is not one of {choices}.": "{value!r} 不在可选值 {choices} 之中。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是{number_type}。",
    "{value} is not in the range {range}.": "{value} 超出范围 {range}。",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "unknown error": "未知错误",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，这里要的是文件夹。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹，这里要的是文件。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 没有读取权限。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 没有写入权限。",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "required": "必填",
}
"""click's English text -> the Chinese shown instead."""

TYPE_NAMES = {click.types.IntParamType: "整数", click.types.IntRange: "整数", click.types.FloatParamType: "数字",
              click.types.FloatRange: "数字"}
"""The names of click's number types, used in its messages ('x' 不是整数) and as the metavar in help."""


def translate(message: str) -> str:
    return MESSAGES.get(message, message)


def translate_plural(singular: str, plural: str, n: int) -> str:
    return translate(singular if n == 1 else plural)


def columns(text: str) -> int:
    """How many terminal columns ``text`` takes: two for each wide (CJK) character, colours not counted."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in click.unstyle(text))


def install() -> None:
    """Bind click's modules to :func:`translate`, and its help layout to :func:`columns` (idempotent)."""
    formatting.term_len = columns
    for module in (core, decorators, exceptions, formatting, parser, types):
        module._ = translate
        if hasattr(module, "ngettext"):
            module.ngettext = translate_plural
    for kind, name in TYPE_NAMES.items():
        kind.name = name
