"""From ranked entries/documents to :class:`~kb.types.Hit` objects that only show current knowledge.

A ranked entry that a newer one has superseded is replaced by the entry current on the timeline's
day, with the chain of replacements attached (``Hit.replaced``); when both the old and the new
entry were ranked, they make one hit. An expired entry keeps its place but is marked
(``Hit.expired_on``), and a pending successor is announced (``Hit.upcoming``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import replace

from .fusion import Ranked
from .lifecycle import Timeline, expired
from .records import Records
from .types import Chunk, Hit, Replacement


def current_hits(records: Records, ranked: list[Ranked], k: int, timeline: Timeline) -> list[Hit]:
    """Up to ``k`` hits for ``ranked`` (best first), superseded entries folded into their current version."""
    picked: dict[str, tuple[Ranked, list[Replacement]]] = {}
    for r in ranked:
        chain = timeline.replacements(r.parent_id)
        current = chain[-1].new_id if chain else r.parent_id
        if current in picked:
            picked[current][1].extend(chain)
        elif len(picked) < k:
            picked[current] = (r, chain)
        else:
            break
    chunks = records.chunks(r.chunk_id for r, chain in picked.values() if not chain)
    hits = []
    for current, (r, chain) in picked.items():
        chunk = records.chunk_of(current, 0) if chain else chunks.get(r.chunk_id)
        if chunk is not None:
            hits.append(_hit(records, r, chunk, tuple(chain), timeline))
    return hits


def answering_passages(records: Records, hits: list[Hit], ranked: list[Ranked],
                       answers: Callable[[str], bool], figures: tuple[str, ...] = (),
                       close: Callable[[str], int] | None = None) -> list[Hit]:
    """The hits with each document's shown passage swapped for its next best one that ``answers``
    (says what the question asks for: an amount, a duration …) when the best one does not.

    A question's ``figures`` (an error code 6301, a year, a document number) single out the passage
    that has them wherever it stands in the document, so when no next best passage answers and the
    shown one lacks a figure that the title does not state either, the first passage of the document
    that has those figures and answers is shown instead.

    When the shown passage answers and ``close`` (:func:`kb.closeness.closeness`) is given, the next
    best passage that answers with the question's words closer to the value is shown instead (在规定的
    9 个工作日完成…验收 rather than 验收单位在 4 个工作日内完成资料审核); when no word of the question
    stands near a value in the shown passage, every passage of the document competes."""
    runners_up = {r.parent_id: r.runners_up for r in ranked}
    out = []
    for hit in hits:
        if hit.kind == "document" and not answers(hit.text):
            chunks = records.chunks(runners_up.get(hit.parent_id, ()))
            better = next((chunk for chunk in chunks.values() if answers(chunk.text)), None)
            lacking = _lacking(figures, hit)
            if better is None and lacking:
                better = next((c for c in records.chunks_mentioning(hit.parent_id, lacking)
                               if answers(f"{hit.title}\n{c.text}")), None)
            if better is not None:
                hit = replace(hit, chunk_id=better.id, text=better.text, position=better.position)
        elif hit.kind == "document" and close is not None:
            hit = _closest(records, hit, runners_up.get(hit.parent_id, ()), answers, close)
        out.append(hit)
    return out


TIE = 2.0
"""How far (in fused score) a document may stand behind the first hit and still be shown before it
when only it says what the question asks for."""


def answering_first(hits: list[Hit], answers: Callable[[str], bool],
                    close: Callable[[str], int] | None = None) -> list[Hit]:
    """``hits`` with a first document that does not say what the question asks for (in its passage
    or title) put behind the documents within :data:`TIE` of its score that do: of those, the one
    whose passage ties the most of the question's words to the value (``close``) comes first, then
    the higher scored. 实名认证分哪两个级别 is answered by 分为初级实名和高级实名两种认证级别, not by a
    near-tied page about 高级实名 alone. Entries are held to the answer type by
    :func:`kb.deciding.judge`."""
    if not hits or hits[0].kind != "document" or answers(_shown(hits[0])):
        return hits
    near = [h for h in hits[1:] if h.kind == "document" and hits[0].score - h.score <= TIE and answers(_shown(h))]
    if not near:
        return hits
    first = max(near, key=lambda h: close(h.text) if close is not None else 0)
    return [first, *(h for h in hits if h is not first)]


def _shown(hit: Hit) -> str:
    return f"{hit.title}\n{hit.text}"


def naming_passages(records: Records, hits: list[Hit], ranked: list[Ranked], named: Callable[[str], int],
                    subjects: int, answers: Callable[[str], bool] | None = None) -> list[Hit]:
    """The hits with each document's shown passage swapped for the one that names more of the
    question's ``subjects`` (``named`` counts the lexicon concepts of the question a text names) when
    the shown one leaves a subject out that another passage names: 拍什么片子 asked of a health check
    form is the row of 胸部X射线, not the form's first line. The title counts for every passage; the
    runners-up compete first, then the document's passages in order; with ``answers``, a passage
    that answers is not swapped for one that does not."""
    runners_up = {r.parent_id: r.runners_up for r in ranked}
    out = []
    for hit in hits:
        if hit.kind == "document":
            hit = _most_named(records, hit, runners_up.get(hit.parent_id, ()), named, subjects, answers)
        out.append(hit)
    return out


def _most_named(records: Records, hit: Hit, runners_up: tuple[str, ...], named: Callable[[str], int],
                subjects: int, answers: Callable[[str], bool] | None) -> Hit:
    best = named(f"{hit.title}\n{hit.text}")
    if best == subjects:
        return hit
    must_answer = answers is not None and answers(hit.text)
    shown = hit.chunk_id
    chunks = {**records.chunks(runners_up), **{c.id: c for c in records.chunks_mentioning(hit.parent_id, ())}}
    for chunk in chunks.values():
        if chunk.id != shown and (not must_answer or answers(chunk.text)) and \
                (score := named(f"{hit.title}\n{chunk.text}")) > best:
            best, hit = score, replace(hit, chunk_id=chunk.id, text=chunk.text, position=chunk.position)
    return hit


def _closest(records: Records, hit: Hit, runners_up: tuple[str, ...], answers: Callable[[str], bool],
             close: Callable[[str], int]) -> Hit:
    """``hit`` showing the passage that answers most closely: of its runners-up, or of all the
    document's passages when its own ties no word of the question to a value (ties keep the first)."""
    best = close(hit.text)
    chunks = records.chunks(runners_up).values() if best > 0 else records.chunks_mentioning(hit.parent_id, ())
    for chunk in chunks:
        if chunk.id != hit.chunk_id and answers(chunk.text) and (score := close(chunk.text)) > best:
            best, hit = score, replace(hit, chunk_id=chunk.id, text=chunk.text, position=chunk.position)
    return hit


def _lacking(figures: tuple[str, ...], hit: Hit) -> tuple[str, ...]:
    """The figures that neither the hit's passage nor its title states (the year of 河南2026公务员职位表
    covers every row)."""
    shown = unicodedata.normalize("NFKC", f"{hit.title}\n{hit.text}")
    return tuple(f for f in figures if f not in shown)


def _hit(records: Records, r: Ranked, chunk: Chunk, replaced: tuple[Replacement, ...], timeline: Timeline) -> Hit:
    if chunk.kind == "entry":
        e, state = records.entry(chunk.parent_id), records.state(chunk.parent_id)
        return Hit(e.id, "entry", chunk.id, r.score, r.similarity, chunk.text, e.question, e.source, e.date,
                   e.item, e.department, chunk.position, e.answer,
                   {"tags": list(e.tags), "submitter": e.submitter, "counter": e.counter},
                   status=state.status, version=state.version, basis=e.basis, effective_from=e.effective_from,
                   expired_on=e.expire_on if expired(e.expire_on, timeline.as_of) else "", replaced=replaced,
                   upcoming=timeline.next_change(e.id))
    d = records.document(chunk.parent_id)
    return Hit(d.id, "document", chunk.id, r.score, r.similarity, chunk.text, d.title, d.source, d.date,
               d.item, d.department, chunk.position)
