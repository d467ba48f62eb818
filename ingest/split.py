"""Chunking. Entries are never split; documents are cut along their structure.

A document chunk packs whole sentences of the paragraphs under one heading up to a target length
(a sentence longer than the limit is cut at commas, then by length, as a last resort). A heading
always starts a new chunk, opens its text (a heading often states the fact itself: “（二）同步编制
（15 个工作日）”) and, with its parent heading and the document title, becomes the context of every
chunk of its section. A table stays where it stood: its rows (each rendered with its column headers) are packed
into chunks of their own, so a long table is split by rows and every piece still names its columns;
the sentence that introduces it (ending in ：) goes with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.chunks import make_chunks
from kb.text import split_sentences
from kb.types import Chunk, Document

from .blocks import Block, Heading, Table

_CLAUSE = re.compile(r"(?<=[，,：:；;])")
_CJK_CHAR = re.compile(r"[\u3400-\u9fff]")
_CONTEXT_LEVELS = 2
SHORT = 40
_LEAD_IN = ("：", ":")
_LEAD_IN_MAX = 80
LABEL_MAX = 20
"""The longest line taken for a label (a name on a line of its own) when it is not a sentence."""
_CLOSED = tuple("。！？；：，、!?;:,）)”’》】")


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
        self.pieces: list[_Piece] = []
        self.sentences: list[str] = []
        self.context, self.lead = "", ""

    def flush(self, keep_overlap: bool = False) -> None:
        if self.sentences:
            self.pieces.append(_Piece(_join(self.sentences), self.context, self.lead))
            self.lead = ""
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

    def take_lead_in(self) -> str:
        """The sentence that introduces a table (“……请改用对应的域名对接：”) or the label on the line
        above it (“短信发送平台”), taken out of the running text: it goes with the table, into its
        first chunk and into the context of all of them."""
        if not self.sentences:
            return ""
        last = self.sentences[-1].strip()
        if last.endswith(_LEAD_IN) and len(last) <= _LEAD_IN_MAX:
            return self.sentences.pop().strip()
        if _is_label(last):
            self.sentences.pop()
            return _as_caption(last)
        return ""

    def start(self, context: str, lead: str = "") -> None:
        """Begin a section under ``context``; ``lead`` is the heading that opens it."""
        self.flush()
        self.context, self.lead = context, lead


def document_chunks(doc: Document, blocks: list[Block], size: int = 300, overlap: int = 0) -> list[Chunk]:
    """Split a document, given as blocks, into chunks of about ``size`` characters, overlapping by
    ``overlap`` sentences within a section (table rows never overlap)."""
    packer = _Packer(size, overlap)
    packer.context = doc.title
    headings: list[Heading] = []

    def context(*extra: str) -> str:
        chain = [h.text for h in headings][-_CONTEXT_LEVELS:]
        return " ".join(p for p in (doc.title, *chain, *extra) if p)

    for block in blocks:
        if isinstance(block, Heading):
            if block.text == doc.title and not packer.pieces and not packer.sentences:
                continue
            headings = [h for h in headings if h.level < block.level] + [block]
            packer.start(context(), block.text)
        elif isinstance(block, Table):
            lead_in = packer.take_lead_in()
            packer.start(context(block.caption, lead_in))
            for row in ([lead_in] if lead_in else []) + block.lines():
                packer.add_row(row)
            packer.start(context())
        elif block.text != doc.title:
            for sentence in split_sentences(block.text):
                packer.add(sentence)
    packer.flush()
    pieces = [(_lead_in(p) + p.text, p.context) for p in _merge_short(packer.pieces, size)]
    if not pieces and doc.title:
        pieces.append((doc.title, ""))
    return make_chunks(doc.id, "document", pieces)


def _join(sentences: list[str]) -> str:
    """Sentences as one text; a line without closing punctuation (a 文号, a date) keeps a space after it,
    except inside text set vertically, a character a line (一/寸/照/片)."""
    vertical = [bool(_CJK_CHAR.fullmatch(s)) for s in sentences]
    return "".join(s if s.endswith(_CLOSED) or (vertical[i] and vertical[i + 1]) else s + " "
                   for i, s in enumerate(sentences[:-1])) + sentences[-1]


@dataclass
class _Piece:
    text: str
    context: str
    lead: str


def _merge_short(pieces: list[_Piece], size: int) -> list[_Piece]:
    """Join a section too short to stand alone (a one-line 办理时限, a closing line, a date) with the
    next section, whose heading then goes into the text (“……。（二）办理时限：5个工作日。”); a short
    last piece joins the one before. A table is not joined to the text before it, but a label left on
    its own (:func:`_is_label`, an empty “备注：” field between two tables) is never a chunk: it joins
    the piece after it, or the one before it at the end of the document. Merging stops at ``size``."""
    out: list[_Piece] = []
    for piece in pieces:
        previous = out[-1] if out else None
        joined = _lead_in(piece) + piece.text
        follows = bool(piece.lead) or (previous is not None and piece.context == previous.context)
        if previous and len(previous.text) < SHORT and len(previous.text) + len(joined) <= size \
                and (follows or _is_label(previous.text)):
            if not follows:
                previous.text, previous.context = _as_caption(previous.text), piece.context
            previous.text += joined
        else:
            out.append(piece)
    if len(out) >= 2 and len(out[-1].text) < SHORT \
            and (out[-1].lead or out[-1].context == out[-2].context or _is_label(out[-1].text)) \
            and len(out[-2].text) + len(out[-1].text) + len(out[-1].lead) < size:
        last = out.pop()
        out[-1].text += _lead_in(last) + last.text
    return out


def _is_label(text: str) -> bool:
    """A name on a line of its own (“短信发送平台”, an empty form field “备注：”): short, not a sentence."""
    return len(text.strip()) <= LABEL_MAX and not any(mark in text for mark in "。！？；!?;")


def _as_caption(label: str) -> str:
    """A label as the caption of what follows it: “短信发送平台” → “短信发送平台：”."""
    label = label.rstrip()
    return label if label.endswith(_LEAD_IN) else label + "："


def _lead_in(piece: _Piece) -> str:
    if not piece.lead:
        return ""
    return piece.lead if piece.lead.endswith(("：", ":", "。")) else piece.lead + "："
