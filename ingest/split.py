"""Chunking. Entries are never split; documents are cut along sentence and heading boundaries.

A document chunk packs whole sentences up to a target length (a sentence longer than the limit is
cut at commas, then by length, as a last resort). A heading (一、 （一） 第一章 1. …) always starts a
new chunk and becomes part of the chunk's context, together with the document title.
"""

from __future__ import annotations

import re

from kb.chunks import make_chunks
from kb.text import split_sentences
from kb.types import Chunk, Document

_HEADING = re.compile(r"^(第[一二三四五六七八九十百零]+[章节条部分]|[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\d+(\.\d+)*[、.．]\s*\S)")
_CLAUSE = re.compile(r"(?<=[，,：:])")


def is_heading(line: str) -> bool:
    return len(line) <= 40 and not line.endswith(("。", "；", ";")) and bool(_HEADING.match(line))


def _cut_long(sentence: str, size: int) -> list[str]:
    if len(sentence) <= size:
        return [sentence]
    pieces, current = [], ""
    for clause in _CLAUSE.split(sentence):
        while len(clause) > size:
            pieces.append(current + clause[: size - len(current)])
            clause, current = clause[size - len(current) :], ""
        if len(current) + len(clause) > size:
            pieces.append(current)
            current = ""
        current += clause
    if current:
        pieces.append(current)
    return [p for p in pieces if p]


def document_chunks(doc: Document, size: int = 300, overlap: int = 0) -> list[Chunk]:
    """Split a document into chunks of about ``size`` characters, overlapping by ``overlap`` sentences.

    Every chunk's context is the document title plus the heading it falls under.
    """
    pieces: list[tuple[str, str]] = []
    heading = ""
    sentences: list[str] = []

    def flush() -> None:
        if sentences:
            pieces.append(("".join(sentences), " ".join(p for p in (doc.title, heading) if p)))

    lines = [s for s in split_sentences(doc.text) if s != doc.title]
    for sentence in lines:
        if is_heading(sentence):
            flush()
            sentences, heading = [], sentence
            continue
        for part in _cut_long(sentence, size):
            if sentences and sum(map(len, sentences)) + len(part) > size:
                flush()
                sentences = sentences[-overlap:] if overlap else []
                if sum(map(len, sentences)) + len(part) > size:
                    sentences = []
            sentences.append(part)
    flush()
    _merge_short_tail(pieces, size)
    if not pieces and doc.title:
        pieces.append((doc.title, ""))
    return make_chunks(doc.id, "document", pieces)


def _merge_short_tail(pieces: list[tuple[str, str]], size: int) -> None:
    """Fold a last chunk shorter than a quarter of ``size`` (a closing line, a date) into the one before."""
    if len(pieces) >= 2 and len(pieces[-1][0]) < size // 4 and pieces[-1][1] == pieces[-2][1]:
        text, context = pieces.pop()
        pieces[-1] = (pieces[-1][0] + text, context)
