"""Distractors for generated questions: key terms of related entries that are wrong for this one.

An entry's *related* entries are the other entries ranked by the overlap of their content words
(jieba, question and answer together): those of the same 事项 first, then the others. A key point
(found by :func:`bot.study.key_points`) has a *class*: a time limit, an amount of money, a share, another
number, a form (《…》), a name in quotes, a place or department, or a material. A distractor for a point is a key point
of the same class from a related entry that is wrong for this entry by construction: its normalized
form occurs nowhere in this entry's answer, and it neither contains the key nor is contained in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.text import content_words, segment
from kb.types import Entry

from .study import key_points, normalized

_TIME = re.compile(r"\d.*(?:日|天|月|年|小时|周岁|岁)")
_YEAR = re.compile(r"\d{4}年")
_PLACE = re.compile(r"(?:派出所|窗口|大厅|中心|局|平台|APP|系统|社区|网点|小程序|公众号|所|处|科|委|办)$")
MAX_RELATED = 40


def date_fragment(point: str, answer: str) -> bool:
    """Whether ``point`` is only part of a date (``2024年``, ``3月`` of ``3月1日``), not a fact of its own."""
    if _YEAR.fullmatch(point):
        return True
    for match in re.finditer(re.escape(point), answer):
        before, after = answer[match.start() - 1:match.start()], answer[match.end():match.end() + 1]
        if (before and (before.isdigit() or before in "年月")) or (after and after.isdigit()):
            return True
    return False


def point_class(point: str, answer: str) -> str:
    """The class of key point ``point`` of ``answer``: time, money, share, number, form, name, place or material."""
    if "%" in point:
        return "share"
    if re.search(r"\d", point):
        return "money" if "元" in point else "time" if _TIME.search(point) else "number"
    if f"《{point}》" in answer:
        return "form"
    if f"“{point}”" in answer:
        return "name"
    return "place" if _PLACE.search(point) else "material"


def _boundaries(text: str) -> set[int]:
    found, at = {0}, 0
    for word in segment(text):
        at += len(word)
        found.add(at)
    return found


def _whole(point: str, entry: Entry, boundaries: set[int]) -> bool:
    """Whether ``point`` can be asked about: not a date fragment, not a piece cut through a word
    (``续雨天`` of 持续雨天) or through quotes or brackets (``楚行一卡通”app``), not starting with 的, and
    not given away by the entry's question.
    A material must also be a thing (three characters or more, no 的): ``证明`` and ``更多的便利`` are not."""
    balanced = all(point.count(a) == point.count(b) for a, b in ("“”", "《》", "（）", "()"))
    start = entry.answer.find(point)
    return (balanced and start in boundaries and start + len(point) in boundaries and not point.startswith("的")
            and point not in entry.question and not date_fragment(point, entry.answer))


@dataclass(frozen=True)
class Material:
    """An entry ready for question making: the entry, its version, its key points with their classes
    and its content words."""

    entry: Entry
    version: int
    points: tuple[tuple[str, str], ...]
    words: frozenset[str]

    @classmethod
    def of(cls, entry: Entry, version: int) -> Material:
        boundaries = _boundaries(entry.answer)
        classed = ((p, point_class(p, entry.answer)) for p in key_points(entry.answer)
                   if _whole(p, entry, boundaries))
        points = tuple((p, kind) for p, kind in classed if kind != "material" or (len(p) >= 3 and "的" not in p))
        return cls(entry, version, points, frozenset(content_words(f"{entry.question} {entry.answer}")))


class Neighbours:
    """Related entries and distractor terms over a pool of :class:`Material`."""

    def __init__(self, pool: list[Material]):
        self.pool = pool
        self._related: dict[str, list[Material]] = {}

    def related(self, material: Material) -> list[Material]:
        """The other entries of the pool, same 事项 first, each part by word overlap (most first)."""
        found = self._related.get(material.entry.id)
        if found is None:
            def overlap(other: Material) -> float:
                union = len(material.words | other.words) or 1
                return len(material.words & other.words) / union

            others = [m for m in self.pool if m.entry.id != material.entry.id
                      and normalized(m.entry.answer) != normalized(material.entry.answer)]
            others.sort(key=lambda m: (m.entry.item != material.entry.item, -overlap(m), m.entry.id))
            found = self._related[material.entry.id] = others[:MAX_RELATED]
        return found

    def distractors(self, material: Material, point: str, kind: str, count: int,
                    avoid: tuple[str, ...] = ()) -> list[tuple[str, Material]]:
        """Up to ``count`` wrong terms of class ``kind`` for ``point`` of ``material``, each with the
        entry it came from; none occurs in ``material``'s answer, contains ``point`` or ``avoid`` or
        is contained in them, and no two are the same once normalized."""
        answer = normalized(material.entry.answer)
        keys = [normalized(k) for k in (point, *avoid)]
        chosen: list[tuple[str, Material]] = []
        seen: set[str] = set()
        for other in self.related(material):
            for term, term_kind in other.points:
                norm = normalized(term)
                if (term_kind != kind or not norm or norm in seen or norm in answer
                        or any(norm in k or k in norm for k in keys)):
                    continue
                seen.add(norm)
                chosen.append((term, other))
                if len(chosen) == count:
                    return chosen
        return chosen
