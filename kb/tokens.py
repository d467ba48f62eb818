"""Keyword tokens of one knowledge base: jieba words and bigrams (:mod:`kb.text`) plus the concept tokens
of its lexicon (:mod:`kb.lexicon`).

Stored chunk and entry/document tokens must be made with the lexicon that queries are tokenised
with. The record store's ``meta`` row ``lexicon`` holds the fingerprint of the lexicon the stored
tokens were made with; :meth:`Tokens.sync` re-tokenises everything (no embedding: jieba only) when
the lexicon changed, whether through an upgrade of the shipped lexicon or another process's
``kb lexicon add``.
"""

from __future__ import annotations

import sqlite3
from itertools import chain

from . import audit
from . import lexicon as lex
from .asking import asked_parts
from .records import Records, now
from .text import content_words, fillers, keyword_tokens
from .types import Document, Entry
from .users import User, authorize

_META_KEY = "lexicon"
PIECE = 20_000
"""Characters tokenised at a time: a long document is cut at line breaks, so tokenising it never
holds more than one piece's word list (jieba's list for a whole 50 MB text takes gigabytes)."""
LONG_DOCUMENT = 200_000
"""A document longer than this (about 130 pages) is indexed whole by its distinct tokens: its chunks
carry its words, and BM25's length normalisation leaves a whole text that long almost no weight."""


class Tokens:
    """Tokenises with the lexicon of ``records`` (the shipped one plus the centre's additions)."""

    def __init__(self, records: Records):
        self.records = records
        self.lexicon = lex.load(records.conn)

    def of(self, text: str) -> list[str]:
        """Keyword tokens of ``text``: jieba words, character bigrams and one ``#concept`` per lexicon term."""
        return keyword_tokens(text) + self.lexicon.concept_tokens(text)

    def joined(self, text: str) -> str:
        """:meth:`of`, space-joined as stored; a long text is tokenised piece by piece."""
        if len(text) <= PIECE:
            return " ".join(self.of(text))
        return " ".join(" ".join(self.of(piece)) for piece in _pieces(text))

    def of_parent(self, record: Entry | Document) -> str:
        """Stored tokens of a whole entry (事项, every question wording, answer) or document (title, text).

        A document longer than :data:`LONG_DOCUMENT` gets the distinct tokens of its title and of its
        chunks as stored, so its chunks must be stored first: tokenising its text a second time would
        double the jieba work of ingesting it (a 5 MB text: 27 s of 67)."""
        if isinstance(record, Entry):
            return self.joined("\n".join((record.item, *record.questions, record.answer)))
        text = f"{record.title}\n{record.text}"
        if len(text) <= LONG_DOCUMENT:
            return self.joined(text)
        rows = self.records.conn.execute("SELECT tokens FROM chunks WHERE parent_id=? ORDER BY position", (record.id,))
        stored = (t for (tokens,) in rows for t in tokens.split(" "))
        return " ".join(dict.fromkeys(t for t in chain(self.of(record.title), stored) if t))

    def annotated(self, text: str) -> str:
        """``text`` with the official term after each colloquial one (房本丢了 -> 房本（不动产权证书）丢了),
        for the embedder, which may not know the everyday word."""
        return self.lexicon.annotated(text)

    def units(self, text: str) -> list[tuple[str, str]]:
        """The meaningful units of a question as ``(token, surface)``: each lexicon concept it names
        (token ``#concept``), then the content words of the rest of the text.

        The words are the dictionary's only: jieba's guesses at unknown words glue a particle to a
        content character (没补, 档交, 这事能), and such a made-up word occurs nowhere in the knowledge
        base, so it would weigh the most of all units (:meth:`KnowledgeBase.term_weights`) while never
        matching. Kept apart, 补 and 档 match the entry that says 再补 and 档次."""
        matches = self.lexicon.matches(text)
        rest = lex.fold(text)
        for surface, _ in matches:
            rest = rest.replace(surface, " ")
        concepts = [(lex.CONCEPT_PREFIX + c, s) for s, c in matches]
        words = [(w, w) for w in content_words(rest, guess=False) if w not in fillers()]
        return list({token: (token, surface) for token, surface in concepts + words}.values())

    def asked_units(self, question: str) -> list[tuple[str, str]]:
        """The units of ``question`` (:meth:`units`) that an answer must speak to: none from what it
        says it is not about (:meth:`~kb.lexicon.Lexicon.affirmative`: 房本不是旧了要换), and of the
        words only those of the clauses that ask (:func:`kb.asking.asked_parts`: the narrowest with a
        word), not of the story told before them. The concepts named anywhere stay: the subject
        often comes first (社保卡丢了，怎么补？)."""
        text = self.lexicon.affirmative(question)
        units = self.units(text)
        for part in asked_parts(text):
            asked = {token for token, _ in self.units(part)}
            if not all(token.startswith(lex.CONCEPT_PREFIX) for token in asked):
                return [(token, surface) for token, surface in units
                        if token.startswith(lex.CONCEPT_PREFIX) or token in asked]
        return units

    def present(self, token: str, folded: str) -> bool:
        """Whether ``folded`` (text folded by :func:`kb.lexicon.fold`) contains the unit ``token``
        (a concept by any of its terms)."""
        if token.startswith(lex.CONCEPT_PREFIX):
            return self.lexicon.names(token[len(lex.CONCEPT_PREFIX):], folded)
        return token in folded

    def sync(self) -> bool:
        """Reload the lexicon, and re-tokenise the stored records when they were made with another one
        (which bumps the generation); True when anything changed."""
        current = lex.load(self.records.conn)
        changed, self.lexicon = current != self.lexicon, current
        if current.fingerprint == _stored(self.records.conn):
            return changed
        with self.records.transaction() as conn:
            self.lexicon = lex.load(conn)
            if self.lexicon.fingerprint != _stored(conn):
                self.retokenize(conn)
        return True

    def add(self, actor: User, lines: list[tuple[str, str]]) -> list[str]:
        """Add the centre's own lexicon lines (``(kind, line)``, kind ``synonym``, ``contrast`` or
        ``answer_type``) and re-tokenise the knowledge base with them, in one audited transaction;
        returns the lines added (a line already in the lexicon is skipped). Every line is checked
        before anything is stored, including that no synonym line joins two groups
        (:meth:`~kb.lexicon.Lexicon.check_additions`)."""
        actor = authorize(self.records, actor, "lexicon")
        wanted = list(dict.fromkeys((kind, lex.normal_line(kind, line)) for kind, line in lines))
        if all(pair in set(lex.stored_lines(self.records.conn)) for pair in wanted):
            return []
        with self.records.transaction() as conn:
            lex.load(conn).check_additions(wanted)
            have = set(lex.stored_lines(conn))
            added = [pair for pair in wanted if pair not in have]
            conn.executemany("INSERT INTO lexicon(kind, line, actor, at) VALUES(?,?,?,?)",
                             [(kind, line, actor.username, now()) for kind, line in added])
            audit.record(conn, actor.username, "lexicon", "lexicon",
                         after={"added": [f"{lex.KINDS[k]}：{line}" for k, line in added]})
            self.lexicon = lex.load(conn)
            self.retokenize(conn)
        return [line for _, line in added]

    def retokenize(self, conn: sqlite3.Connection) -> None:
        """Re-tokenise every chunk and entry/document with the current lexicon; call inside a transaction."""
        chunks = {c.id: self.joined(c.index_text) for c, _ in self.records.iter_chunks()}
        self.records.set_tokens(conn, chunks, {})
        parents = {p.id: self.of_parent(p) for p in (*self.records.iter_entries(), *self.records.iter_documents())}
        self.records.set_tokens(conn, {}, parents)
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", (_META_KEY, self.lexicon.fingerprint))


def _stored(conn: sqlite3.Connection) -> str:
    row = conn.execute("SELECT value FROM meta WHERE key=?", (_META_KEY,)).fetchone()
    return row[0] if row else ""


def _pieces(text: str):
    """``text`` in pieces of at most about :data:`PIECE` characters, cut after a line break where there is one."""
    start = 0
    while start < len(text):
        end = start + PIECE
        if end < len(text):
            cut = text.rfind("\n", start, end)
            end = cut + 1 if cut > start else end
        yield text[start:end]
        start = end
