"""Chinese column aliases for FAQ sheets and daily case logs, and value clean-up for sheet cells
(dates are read by :func:`kb.dates.parse_date`, re-exported here with the other cell readers)."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from kb.dates import parse_date

__all__ = ["ALIASES", "REQUIRED", "canonical", "cell_text", "map_fields", "map_header", "missing_message",
           "parse_date", "parse_lines", "parse_tags"]

ALIASES: dict[str, tuple[str, ...]] = {
    "question": ("问题", "咨询内容", "问", "咨询问题", "疑难问题", "问题描述", "情况描述", "群众诉求", "question"),
    "answer": ("答案", "答复", "答复意见", "解决方案", "处理结果", "处理意见", "解答", "回答", "答", "answer"),
    "item": ("事项", "业务事项", "事项名称", "办理事项", "item"),
    "department": ("部门", "审批部门", "主管部门", "责任部门", "department"),
    "date": ("日期", "时间", "登记日期", "办理日期", "发布日期", "date"),
    "submitter": ("提交人", "登记人", "记录人", "经办人", "submitter"),
    "tags": ("标签", "关键词", "tags"),
    "counter": ("窗口", "窗口/组", "组别", "班组", "所属组", "窗口号", "counter"),
    "basis": ("依据", "政策依据", "口径依据", "答复依据", "basis"),
    "effective_from": ("生效日期", "执行日期", "施行日期", "effective_from"),
    "expire_on": ("失效日期", "废止日期", "截止日期", "expire_on"),
    "supersedes": ("替代编号", "替代条目", "取代编号", "supersedes"),
    "alt_questions": ("其他问法", "备选问题", "alt_questions"),
    "source": ("来源", "source"),
    "id": ("编号", "id", "entry_id"),
}
REQUIRED = ("question", "answer")

_LOOKUP = {alias.lower(): field for field, names in ALIASES.items() for alias in names}
_TAG_SPLIT = re.compile(r"[;；,，、|\s]+")


def canonical(header: object) -> str | None:
    """The field a header cell names (``question``, ``answer`` …), or None if it is not recognised."""
    if header is None:
        return None
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(header))).lower()
    return _LOOKUP.get(key)


def map_fields(record: dict) -> dict[str, object]:
    """A record's values keyed by the field each key names (unrecognised keys dropped, first wins)."""
    fields: dict[str, object] = {}
    for key, value in record.items():
        name = canonical(key)
        if name and name not in fields:
            fields[name] = value
    return fields


def map_header(cells: list[object]) -> dict[str, int]:
    """field -> column index for the recognised header cells (the first occurrence wins)."""
    out: dict[str, int] = {}
    for i, cell in enumerate(cells):
        field = canonical(cell)
        if field and field not in out:
            out[field] = i
    return out


def missing_message(found: list[object]) -> str:
    """The error for a sheet without question/answer columns: names the columns found and expected."""
    names = "、".join(str(c).strip() for c in found if c is not None and str(c).strip()) or "（空）"
    return (
        f"没有找到问题列和答案列。表头为：{names}。"
        f"问题列应命名为 {'/'.join(ALIASES['question'][:6])} 之一，"
        f"答案列应命名为 {'/'.join(ALIASES['answer'][:7])} 之一；请修改表头后重新导入。"
    )


def parse_tags(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(t for t in _TAG_SPLIT.split(str(value)) if t)


def parse_lines(value: object) -> tuple[str, ...]:
    """A list, or a cell with one value per line, as a tuple of non-empty strings."""
    if value is None:
        return ()
    items = value if isinstance(value, (list, tuple)) else str(value).splitlines()
    return tuple(str(v).strip() for v in items if str(v).strip())


def cell_text(value: object) -> str:
    """A cell as clean text (numbers without a trailing .0, dates as ISO)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()
