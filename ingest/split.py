"""Chunking. Entries are never split; documents are cut along their structure.

A document chunk packs whole sentences of the paragraphs under one heading up to a target length
(a sentence longer than the limit is cut at commas, then by length, as a last resort). A heading
always starts a new chunk and, with its parent heading and the document title, becomes the chunk's
context. A table stays where it stood: its rows (each rendered with its column headers) are packed
into chunks of their own, so a long table is split by rows and every piece still names its columns.
"""

from __future__ import annotations

import re

from kb.chunks import make_chunks
from kb.text import split_sentences
from kb.types import Chunk, Document

from .blocks import Block, Heading, Table

_CLAUSE = re.compile(r"(?<=[，,：:；;])")
_CONTEXT_LEVELS = 2


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


class _Packer:
    """Collects sentences into chunks of about ``size`` characters under one context."""

    def __init__(self, size: int, overlap: int) -> None:
        self.size, self.overlap = size, overlap
        self.pieces: list[tuple[str, str]] = []
        self.sentences: list[str] = []
        self.context = ""

    def flush(self, keep_overlap: bool = False) -> None:
        if self.sentences:
            self.pieces.append(("".join(self.sentences), self.context))
        self.sentences = self.sentences[-self.overlap :] if keep_overlap and self.overlap else []

    def add(self, sentence: str) -> None:
        for part in _cut_long(sentence, self.size):
            if self.sentences and sum(map(len, self.sentences)) + len(part) > self.size:
                self.flush(keep_overlap=True)
                if sum(map(len, self.sentences)) + len(part) > self.size:
                    self.sentences = []
            self.sentences.append(part)

    def add_row(self, row: str) -> None:
        """A table row joins the current chunk whole or starts the next one (never overlapping)."""
        for part in _cut_long(row, self.size):
            if self.sentences and sum(map(len, self.sentences)) + len(part) > self.size:
                self.flush()
            self.sentences.append(part)

    def start(self, context: str) -> None:
        self.flush()
        self.context = context


def document_chunks(doc: Document, blocks: list[Block], size: int = 300, overlap: int = 0) -> list[Chunk]:
    """Split a document, given as blocks, into chunks of about ``size`` characters, overlapping by
    ``overlap`` sentences within a section (table rows never overlap)."""
    packer = _Packer(size, overlap)
    headings: list[Heading] = []

    def context(*extra: str) -> str:
        chain = [h.text for h in headings][-_CONTEXT_LEVELS:]
        return " ".join(p for p in (doc.title, *chain, *extra) if p)

    for block in blocks:
        if isinstance(block, Heading):
            if block.text == doc.title and not packer.pieces and not packer.sentences:
                continue
            headings = [h for h in headings if h.level < block.level] + [block]
            packer.start(context())
        elif isinstance(block, Table):
            packer.start(context(block.caption))
            for row in block.lines():
                packer.add_row(row)
            packer.start(context())
        elif block.text != doc.title:
            for sentence in split_sentences(block.text):
                packer.add(sentence)
    packer.flush()
    pieces = packer.pieces
    _merge_short_tail(pieces, size)
    if not pieces and doc.title:
        pieces.append((doc.title, ""))
    return make_chunks(doc.id, "document", pieces)


def _merge_short_tail(pieces: list[tuple[str, str]], size: int) -> None:
    """Fold a last chunk shorter than a quarter of ``size`` (a closing line, a date) into the one before."""
    if len(pieces) >= 2 and len(pieces[-1][0]) < size // 4 and pieces[-1][1] == pieces[-2][1]:
        text, context = pieces.pop()
        pieces[-1] = (pieces[-1][0] + text, context)
