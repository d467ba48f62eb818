"""Chunk construction shared by every writer: content-derived chunk ids and the chunks of an entry.

An entry is never split: it is indexed whole (question + answer) and each of its questions (the
main one and every alternative wording) is indexed on its own, so a short counter question finds
the entry by its question alone.
"""

from __future__ import annotations

from .text import content_hash
from .types import Chunk, Entry, Kind


def chunk_id(parent_id: str, index_text: str, occurrence: int) -> str:
    """A chunk id derived from its parent and content, so re-ingesting the same text is a no-op."""
    return content_hash(parent_id, index_text, str(occurrence))[:24]


def make_chunks(parent_id: str, kind: Kind, pieces: list[tuple[str, str]]) -> list[Chunk]:
    """Chunks from ``(text, context)`` pieces, numbered by position."""
    chunks, seen = [], {}
    for position, (text, context) in enumerate(pieces):
        index_text = f"{context}\n{text}" if context else text
        occurrence = seen.get(index_text, 0)
        seen[index_text] = occurrence + 1
        chunks.append(Chunk(chunk_id(parent_id, index_text, occurrence), parent_id, kind, position, text, context))
    return chunks


def entry_chunks(entry: Entry) -> list[Chunk]:
    """The question + answer as one chunk, then each question wording on its own."""
    pieces = [f"{entry.question}\n{entry.answer}", *entry.questions]
    return make_chunks(entry.id, "entry", [(p, entry.item) for p in pieces])
