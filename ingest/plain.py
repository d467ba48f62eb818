"""Plain formats: Markdown, text, and JSON/JSONL records (entries or documents)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from kb.errors import IngestError
from kb.text import join_broken_lines

from .columns import map_fields
from .limits import Limits, too_many
from .loaded import Loaded, RawDocument, Row, decode


_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_MARKUP = re.compile(r"(\*\*|__|`|^\s*[-*+]\s+|^\s*>\s?)", re.MULTILINE)


def load_markdown(path: Path, limits: Limits) -> Loaded:
    lines, title = [], ""
    for line in decode(path.read_bytes(), path).splitlines():
        m = _MD_HEADING.match(line)
        if m:
            title = title or (m[2] if len(m[1]) == 1 else "")
            line = m[2]
        lines.append(_MD_MARKUP.sub("", line))
    return Loaded(documents=[RawDocument("\n".join(lines), title=title)])


def load_text(path: Path, limits: Limits) -> Loaded:
    return Loaded(documents=[RawDocument(join_broken_lines(decode(path.read_bytes(), path)))])


def _json_record(obj: object, number: int, path: Path, out: Loaded) -> None:
    if not isinstance(obj, dict):
        raise IngestError(str(path), f"第 {number} 条记录不是 JSON 对象，应为 {{\"question\", \"answer\"}} 或 {{\"id\", \"text\"}}。")
    fields = map_fields(obj)
    if fields.get("question") not in (None, "") or fields.get("answer") not in (None, ""):
        state = obj.get("state")
        out.rows.append(Row(number, fields, state=state if isinstance(state, dict) else None))
    elif isinstance(obj.get("text"), str):
        doc_id = obj.get("docid") or obj.get("id") or ""
        out.documents.append(RawDocument(
            obj["text"], title=str(obj.get("title") or ""), id=str(doc_id), date=str(obj.get("date") or ""),
            item=str(obj.get("item") or ""), department=str(obj.get("department") or ""),
            source=str(obj.get("source") or ""),
        ))
    else:
        raise IngestError(str(path), f"第 {number} 条记录既没有 question/answer 也没有 text 字段，无法识别为条目或文档。")


def load_json(path: Path, limits: Limits) -> Loaded:
    text = decode(path.read_bytes(), path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError(str(path), f"JSON 格式错误（第 {exc.lineno} 行第 {exc.colno} 列）：{exc.msg}。") from exc
    records = data if isinstance(data, list) else [data]
    if len(records) > limits.max_rows:
        raise too_many(path, "JSON 记录共", len(records), limits.max_rows, "max_rows", "条")
    out = Loaded()
    for number, obj in enumerate(records, start=1):
        _json_record(obj, number, path, out)
    return out


def load_jsonl(path: Path, limits: Limits) -> Loaded:
    lines = decode(path.read_bytes(), path).splitlines()
    if (count := sum(1 for line in lines if line.strip())) > limits.max_rows:
        raise too_many(path, "JSONL 记录共", count, limits.max_rows, "max_rows", "条")
    out = Loaded()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise IngestError(str(path), f"第 {number} 行不是合法的 JSON：{exc.msg}（第 {exc.colno} 列）。") from exc
        _json_record(obj, number, path, out)
    return out
