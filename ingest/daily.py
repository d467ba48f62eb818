"""A day's case sheet (xlsx/csv, or JSON/YAML records) submitted for review.

Unlike ``kb ingest`` (an admin's bulk import, published at once), every row of a daily sheet
becomes a draft (待审核) through :meth:`kb.workflow.Workflow.submit`. A bad row is reported by its
row number and reason; the good rows still go in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from kb import Entry, IngestError, KBError
from kb.users import User, authorize
from kb.workflow import Submitted, Workflow

from .columns import map_fields, missing_message
from .blocks import Table
from .loaded import Row, decode
from .pipeline import read, to_entry

MAPPING_SUFFIXES = (".json", ".yaml", ".yml")


class _TextLoader(yaml.SafeLoader):
    """YAML without timestamps: a date stays the text written, so a day that does not exist
    (2026-02-30) is reported for its field and case like in a sheet, not as a broken file."""


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class SheetReport:
    """What a submitted sheet produced: drafts, exact duplicates (not stored) and rejected rows."""

    path: str
    drafts: list[Submitted] = field(default_factory=list)
    duplicates: list[Submitted] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> list[Submitted]:
        """Drafts that may duplicate a published entry (the reviewer decides)."""
        return [s for s in self.drafts if s.duplicate_of]


def read_cases(path: Path) -> tuple[list[tuple[Row, Entry | None, str]], str]:
    """``(row, entry or None, message)`` for every record of a case file, and the file's source name.

    xlsx/csv/jsonl go through the ingest loaders (Chinese column aliases); a ``.json``/``.yaml``
    file holds one case as a mapping or a list of them, with the same aliases as keys.
    """
    if path.suffix.lower() in MAPPING_SUFFIXES:
        rows = _mapping_rows(path)
    else:
        loaded = read(path)
        rows = loaded.rows
        if not rows and loaded.documents:
            header = next((b.header for d in loaded.documents for b in d.blocks if isinstance(b, Table)), [])
            raise IngestError(str(path), missing_message(header))
    return [(row, *to_entry(row, path.name)) for row in rows], path.name


def _mapping_rows(path: Path) -> list[Row]:
    try:
        text = decode(path.read_bytes(), path)
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.load(text, Loader=_TextLoader)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise IngestError(str(path), f"无法解析文件（{exc}）。请检查格式是否为合法的 JSON/YAML。") from exc
    records = data if isinstance(data, list) else [data]
    if not records:
        raise IngestError(str(path), "文件中没有案例。请按 问题/答案/事项 … 写一条或一组案例后再提交。")
    rows = []
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise IngestError(str(path), f"第 {number} 条不是“字段: 值”的形式，请按 问题/答案/事项 … 填写。")
        rows.append(Row(number, map_fields(record)))
    return rows


def submit_cases(workflow: Workflow, actor: User, path: Path) -> SheetReport:
    """Submit every case in ``path`` as a draft; never raises for a bad row (it is reported).

    Raises :class:`~kb.IngestError` only when the file as a whole cannot be read (missing
    question/answer columns, corrupt file), before anything is stored.
    """
    authorize(workflow.records, actor, "submit")
    report = SheetReport(str(path))
    records, source = read_cases(path)
    for row, entry, message in records:
        if entry is None:
            report.errors.append(message)
            continue
        if message:
            report.warnings.append(message)
        try:
            result = workflow.submit(actor, replace(entry, id="", source=entry.source or source))
        except KBError as exc:
            report.errors.append(f"{row.where}：{exc}")
            continue
        (report.duplicates if result.status == "duplicate" else report.drafts).append(result)
    return report
