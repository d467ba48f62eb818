"""ingest_paths: files and folders in, an :class:`IngestReport` out.

Each file is one unit: it is skipped when its content hash is unchanged, or when it is new and an
exact copy of a file the knowledge base holds (its result names that file: one text stored twice is
found twice and its answers lose their lead); otherwise it is checked against the limits
(:mod:`ingest.limits`), parsed, turned into entries/documents/chunks and streamed into a
:class:`kb.importing.FileImport`, which commits it batch by batch (an interrupted file resumes on
the next run). A file that cannot be read is reported with its reason and the others go on;
progress goes to a callback as :class:`~ingest.progress.Progress` events.

A zip archive named or found in a folder is expanded first (:mod:`ingest.archives`): each member
is then one file of the run, reported as ``资料.zip/表格/登记表.xlsx`` and known to the knowledge
base as ``<archive's absolute path>/<member path>``, so a re-run skips unchanged members as it
skips unchanged files. All archives of a run are staged before the first file is read (the
progress needs every file's size) and their staging folders are removed when the run ends.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from kb import Chunk, Document, Entry, IngestError, KBError, KnowledgeBase
from kb.chunks import entry_chunks
from kb.dates import ACCEPTED
from kb.errors import os_reason
from kb.importing import FileImport
from kb.ownership import Conflict
from kb.text import content_hash, normalize
from kb.types import STATUSES as ENTRY_STATUSES, EntryState
from kb.users import LOCAL_ADMIN, User, authorize

from .archives import Member, expanded, is_archive, vanished
from .columns import cell_text, parse_date, parse_lines, parse_tags
from .discover import Found, discover
from .limits import Limits, check_file
from .loaded import Loaded, RawDocument, Row, UnsupportedFormat
from .loaders import load, loader_for
from .meta import date_of, title_of
from .progress import Progress
from .split import document_chunks

STATUSES = ("added", "updated", "unchanged", "failed", "unsupported")
OCR_MARK = "（扫描件，OCR 识别文字）"
STATE_KEYS = set(EntryState.__dataclass_fields__)
LARGE_FILE = 1 << 20
"""Files of this many bytes or more are ingested after the others."""


@dataclass
class FileResult:
    """The outcome for one file. ``reason`` says why a file failed or was not supported, or which
    ingested file an unchanged one is an exact copy of; ``warnings`` lists skipped rows and other
    problems that did not stop it; ``conflicts`` the reviewed entries the file disagrees with and
    that were left alone; ``overwritten`` the entries taken from the file because the admin asked
    for it; ``ocr`` whether text was recognised from images; ``embedded`` the chunks this run
    embedded."""

    path: str
    status: str
    items: int = 0
    ocr: bool = False
    reason: str = ""
    warnings: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    overwritten: list[str] = field(default_factory=list)
    embedded: int = 0


@dataclass
class IngestReport:
    """Every file's result; ``unused_overwrites`` are requested overwrites no file had a conflict for."""

    results: list[FileResult] = field(default_factory=list)
    unused_overwrites: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]


def to_entry(row: Row, source: str) -> tuple[Entry | None, str]:
    """A sheet row as an Entry, or None with the reason it was skipped.

    An unreadable case date is left empty with a warning; an unreadable effective-from or
    expire-on date, or an expire-on date (the last valid day) before the effective-from date, skips
    the row, because guessing when a 口径 applies is not safe.
    """
    f = row.fields
    question, answer = normalize(cell_text(f.get("question"))), normalize(cell_text(f.get("answer")))
    if not question:
        return None, f"{row.where}：问题为空，已跳过"
    if not answer:
        return None, f"{row.where}：答案为空，已跳过"
    dates = {}
    for name, label in (("effective_from", "生效日期"), ("expire_on", "失效日期")):
        dates[name] = parse_date(f.get(name))
        if dates[name] is None:
            return None, f"{row.where}：{label}“{f.get(name)}”无法识别，请写成 {ACCEPTED}，已跳过"
    if dates["effective_from"] and dates["expire_on"] and dates["expire_on"] < dates["effective_from"]:
        return None, (f"{row.where}：失效日期 {dates['expire_on']} 早于生效日期 {dates['effective_from']}"
                      "（失效日期是最后有效的一天，可与生效日期相同），已跳过")
    day = parse_date(f.get("date"))
    item = cell_text(f.get("item"))
    entry = Entry(
        id=cell_text(f.get("id")) or "e" + content_hash(item, question)[:12],
        question=question, answer=answer, item=item, department=cell_text(f.get("department")),
        tags=parse_tags(f.get("tags")), source=cell_text(f.get("source")) or source, date=day or "",
        submitter=cell_text(f.get("submitter")), counter=cell_text(f.get("counter")),
        basis=normalize(cell_text(f.get("basis"))), supersedes=cell_text(f.get("supersedes")), **dates,
        alt_questions=tuple(normalize(q) for q in parse_lines(f.get("alt_questions"))),
    )
    return entry, "" if day is not None else f"{row.where}：日期“{f.get('date')}”无法识别，已留空"


def to_document(raw: RawDocument, path: Path, default_id: str) -> Document:
    """The stored document; text recognised by OCR says so in its source, which every citation shows."""
    source = raw.source or path.name
    return Document(
        id=raw.id or default_id, text=raw.text,
        title=title_of(raw.blocks, normalize(raw.title), path.stem, guess=not raw.scanned),
        source=source + OCR_MARK if raw.ocr else source, date=date_of(raw.blocks, parse_date(raw.date) or ""),
        item=raw.item, department=raw.department,
    )


def default_ids(path: Path, count: int, held_elsewhere: Callable[[str], bool], key: str = "") -> list[str]:
    """Ids for a file's documents that have none: the file name without extension (numbered when the
    file holds several), made unique with a hash of the file's ``key`` (default: its absolute path)
    when another file already uses it."""
    ids = [path.stem] if count == 1 else [f"{path.stem}-{n}" for n in range(1, count + 1)]
    suffix = content_hash(key or str(path.resolve()))[:6]
    return [f"{i}-{suffix}" if held_elsewhere(i) else i for i in ids]


@dataclass
class Built:
    """What one file holds: entries, documents, their chunks, problems that did not stop it, and
    the review states restored from a `kb export` file (entry id -> state)."""

    entries: list[Entry]
    documents: list[Document]
    chunks: list[Chunk]
    warnings: list[str]
    states: dict[str, EntryState]
    ocr: bool = False


def to_state(row: Row) -> tuple[EntryState | None, str]:
    """The review state a `kb export` line carries, or None (with a warning if it is unreadable: an
    unknown status, a version that is not a positive whole number, a field that is not text)."""
    if row.state is None:
        return None, ""
    values = {k: v for k, v in row.state.items() if k in STATE_KEYS}
    version = values.get("version", 1)
    readable = (values.get("status", "published") in ENTRY_STATUSES
                and isinstance(version, int) and not isinstance(version, bool) and version >= 1
                and all(isinstance(v, str) for k, v in values.items() if k != "version"))
    if not readable:
        return None, (f"{row.where}：state 字段无法识别（status 应为 {'/'.join(ENTRY_STATUSES)} 之一，"
                      "version 应为正整数），按已发布导入")
    return EntryState(**values), ""


def build(path: Path, loaded: Loaded, chunk_size: int, overlap: int,
          held_elsewhere: Callable[[str], bool] = lambda _: False, key: str = "") -> Built:
    """Entries, documents, chunks and warnings for one loaded file; later duplicates replace earlier ones.

    ``held_elsewhere(id)`` tells whether another file already holds a document with that id;
    ``key`` is the file's identity in the knowledge base (default: its absolute path).
    """
    warnings: list[str] = list(loaded.warnings)
    entries: dict[str, Entry] = {}
    states: dict[str, EntryState] = {}
    for row in loaded.rows:
        entry, warning = to_entry(row, path.name)
        state, state_warning = to_state(row)
        warnings += [w for w in (warning, state_warning) if w]
        if entry is not None:
            if entry.id in entries:
                warnings.append(f"{row.where}：与前面的行问题重复，保留本行")
            entries[entry.id] = entry
            if state is not None:
                states[entry.id] = state
    raws = [raw for raw in loaded.documents if raw.text]
    fallback = iter(default_ids(path, sum(1 for raw in raws if not raw.id), held_elsewhere, key))
    documents: dict[str, Document] = {}
    blocks = {}
    for raw in raws:
        doc = to_document(raw, path, "" if raw.id else next(fallback))
        if doc.id in documents:
            warnings.append(f"文档编号 {doc.id} 重复，保留后一篇")
        documents[doc.id], blocks[doc.id] = doc, raw.blocks
    if not entries and not documents:
        raise IngestError(str(path), "没有一行有效数据：" + "；".join(warnings[:5]))
    chunks = [c for e in entries.values() for c in entry_chunks(e)]
    chunks += [c for d in documents.values() for c in document_chunks(d, blocks[d.id], chunk_size, overlap)]
    return Built(list(entries.values()), list(documents.values()), chunks, warnings, states,
                 ocr=any(raw.ocr for raw in raws))


def read(path: Path, limits: Limits = Limits()) -> Loaded:
    """:func:`~ingest.loaders.load` after :func:`~ingest.limits.check_file`, with any parser failure
    reported as an :class:`IngestError` for this file."""
    check_file(path, limits)
    try:
        return load(path, limits)
    except IngestError:
        raise
    except Exception as exc:  # a corrupt file makes its parser raise anything (BadZipFile, OSError …)
        raise IngestError(
            str(path), f"无法读取文件（{type(exc).__name__}: {exc}）。文件可能已损坏，请用原软件打开检查并另存后重试。"
        ) from exc


def _parse(kb: KnowledgeBase, path: Path, key: str, chunk_size: int, overlap: int, limits: Limits) -> Built:
    def held_elsewhere(doc_id: str) -> bool:
        return any(f != key for f in kb.files_holding(doc_id))

    return build(path, read(path, limits), chunk_size, overlap, held_elsewhere, key)


READING = 2
"""The version of how files are read and split; raised when that changes (2: headings open their
chunks, labels caption tables), so the next ingest of an unchanged file reads it again and an upgraded
centre gets the better passages by importing its folders once more."""


def file_hash(path: Path, chunk_size: int, overlap: int) -> str:
    """The file's content hash (read in blocks, so a large file is never held whole), the chunking and
    the :data:`READING` version."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return content_hash(digest.hexdigest(), f"{chunk_size}/{overlap}/{READING}")


def ingest_file(kb: KnowledgeBase, path: Path, chunk_size: int = 300, overlap: int = 0, actor: User = LOCAL_ADMIN,
                overwrite: frozenset[str] = frozenset(), limits: Limits = Limits(),
                progress: Progress | None = None, key: str = "", shown: str = "") -> FileResult:
    """Ingest one file, committing it batch by batch (:class:`kb.importing.FileImport`); never raises
    for a bad file (the result says why it failed). An interrupted file resumes on the next run. A
    file new to the knowledge base that is an exact copy of one it holds is not stored again; when
    that one is gone from disk, the file was moved or renamed and takes over its records.

    ``overwrite`` names reviewed entries whose version in the file should replace the stored one;
    an unchanged file is read again when it holds (or held) one of them. ``progress`` is advanced
    as chunks are embedded. ``key`` is the file's identity in the knowledge base (default: its
    absolute path) and ``shown`` the path its result reports (default: ``path``); a member staged
    from an archive has both from :class:`~ingest.archives.Member`.
    """
    key = key or str(path.resolve())
    shown = shown or str(path)
    try:
        loader_for(path)
        digest = file_hash(path, chunk_size, overlap)
    except UnsupportedFormat as exc:
        kb.log_file(key, "unsupported", exc.reason)
        return FileResult(shown, "unsupported", reason=exc.reason)
    except OSError as exc:
        reason = "文件不存在，请检查路径。" if not path.exists() else f"无法读取文件：{os_reason(exc)}。请检查文件权限。"
        kb.log_file(key, "failed", reason)
        return FileResult(shown, "failed", reason=reason)
    held = kb.records.parents_of_file(key)
    if kb.is_unchanged(key, digest) and not overwrite & held:
        return FileResult(shown, "unchanged")
    original = None if held else kb.copy_of(key, digest)
    if original is not None and not overwrite & kb.records.parents_of_file(original):
        if vanished(original):
            kb.move_file(original, key)
            return FileResult(shown, "unchanged", reason=f"与已导入的 {original} 内容完全相同，原文件已不在，"
                                                         "视为移动或改名：记录改由此文件持有，以后按此文件更新。")
        kb.log_file(key, "unchanged", f"与 {original} 内容相同")
        return FileResult(shown, "unchanged", reason=f"与已导入的 {original} 内容完全相同，没有再导入一份"
                                                     "（同一份资料存两份，检索结果会重复、回答的置信度会偏低）。")
    try:
        built = _parse(kb, path, key, chunk_size, overlap, limits)
        if progress is not None:
            progress.planned(len(built.chunks))
        job = FileImport(kb, key, digest, actor.username, overwrite,
                         progress.add_chunks if progress is not None else None)
        for entry in built.entries:
            job.add_entry(entry, built.states.get(entry.id))
        chunks: dict[str, list[Chunk]] = {}
        for chunk in built.chunks:
            chunks.setdefault(chunk.parent_id, []).append(chunk)
        for document in built.documents:
            job.add_document(document, chunks.get(document.id, []))
        change = job.finish()
    except IngestError as exc:
        kb.log_file(key, "failed", exc.reason)
        return FileResult(shown, "failed", reason=exc.reason)
    return FileResult(shown, change.status, change.items, built.ocr, warnings=built.warnings,
                      conflicts=change.conflicts, overwritten=change.overwritten, embedded=change.embedded)


def check_chunking(chunk_size: int, overlap: int) -> None:
    """Raise :class:`~kb.KBError` naming the setting when documents cannot be split with these values."""
    if chunk_size < 1:
        raise KBError(f"分块长度 {chunk_size} 无效：应为正整数（默认 300 字）。请改正 --chunk-size 或环境变量 KB_CHUNK_SIZE。")
    if overlap < 0:
        raise KBError(f"分块重叠句数 {overlap} 无效：不能小于 0（默认 0）。请改正 --overlap 或环境变量 KB_CHUNK_OVERLAP。")


def ingest_paths(kb: KnowledgeBase, paths: list[Path | str], chunk_size: int = 300, overlap: int = 0,
                 on_progress: Callable[[Progress], None] | None = None, actor: User = LOCAL_ADMIN,
                 overwrite: frozenset[str] = frozenset(), limits: Limits = Limits(),
                 follow_links: bool = False) -> IngestReport:
    """Ingest files and folders (recursively). The keyword index is refreshed once at the end.

    Files of :data:`LARGE_FILE` bytes or more are taken after the others, so a large file does not
    hold back the small ones (each file is searchable as soon as it is committed).

    Args:
        kb: the knowledge base to write into.
        paths: files and/or folders.
        chunk_size: target document chunk length in characters.
        overlap: sentences shared by neighbouring chunks.
        on_progress: called with the run's :class:`~ingest.progress.Progress` at every event.
        actor: who imports; this is an admin's bulk import (entries are published directly), so
            the ``import`` permission is required.
        overwrite: ids of reviewed (governed) entries whose version in the files should replace the
            stored one; without it such entries are left alone and reported as conflicts
            (see :mod:`kb.ownership`).
        limits: file size, decompressed size, rows and pages a file may have.
        follow_links: follow symbolic links that lead out of a given folder.
    """
    check_chunking(chunk_size, overlap)
    authorize(kb.records, actor, "import")
    report = IngestReport()
    with ExitStack() as staging:
        files = _files(discover([Path(p) for p in paths], follow_links, (kb.data_dir,)), limits, staging)
        sizes = [_size(f.path) if not f.status else 0 for f in files]
        order = [f for f, size in zip(files, sizes) if size < LARGE_FILE] + \
                [f for f, size in zip(files, sizes) if size >= LARGE_FILE]
        size_of = {id(f): size for f, size in zip(files, sizes)}
        progress = Progress(listener=on_progress)
        progress.begin(len(order), sum(sizes))
        for item in order:
            progress.begin_file(item.shown, size_of[id(item)])
            if item.status:
                kb.log_file(item.key, item.status, item.reason)
                result = FileResult(item.shown, item.status, reason=item.reason)
            else:
                result = ingest_file(kb, item.path, chunk_size, overlap, actor, frozenset(overwrite), limits, progress,
                                     item.key, item.shown)
            report.results.append(result)
            progress.end_file(result)
    done = {entry_id for r in report.results for entry_id in r.overwritten}
    report.unused_overwrites = sorted(set(overwrite) - done)
    kb.refresh_keywords()
    progress.end()
    return report


def _files(found: list[Found], limits: Limits, staging: ExitStack) -> list[Member]:
    """Every file of the run: found files as they are, archives expanded (their staging folders
    removed when ``staging`` closes)."""
    files: list[Member] = []
    for f in found:
        if f.status:
            files.append(Member(None, os.path.abspath(f.path), str(f.path), f.status, f.reason))
        elif is_archive(f.path):
            files += staging.enter_context(expanded(f.path, limits))
        else:
            files.append(Member(f.path, str(f.path.resolve()), str(f.path)))
    return files


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
