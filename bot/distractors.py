"""Distractors for generated questions: key terms of related entries that are wrong for this one.

An entry's *related* entries are the other entries ranked by the overlap of their content words
(jieba, question and answer together): those of the same 事项 first, then the others. A key point
(found by :func:`bot.study.key_points`) has a *class*: an age, a deadline, another period of time, an amount
of money, a share, another number, a form (《…》), a name in quotes, a place or department, or a material. A distractor for a point is a key point
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
_AGE = re.compile(r"\d\s*周?岁")
_WITHIN = re.compile(r"(?:内|以内|前)$")
_DAYS = re.compile(r"(?:日|天|小时)")
_QUANTITY = re.compile(r"(\d+(?:\.\d+)?)\s*(?:个)?(工作日|自然日|日|天|小时|周岁|岁|个月|月|年|元|万元|%)")
_IN_UNITS = {"日": ("天", 1), "自然日": ("天", 1), "天": ("天", 1), "周岁": ("岁", 1), "岁": ("岁", 1),
             "月": ("月", 1), "个月": ("月", 1), "年": ("月", 12), "万元": ("元", 10000)}


def quantity(term: str) -> str:
    """A number with its unit in one measure (``2年`` and ``24个月`` -> ``24月``, ``50岁`` and ``50周岁``
    -> ``50岁``, ``30日内`` and ``30天`` -> ``30天``), so options that say the same amount are caught;
    the term normalized when it states no amount."""
    match = _QUANTITY.search(term)
    if not match:
        return normalized(term)
    unit, factor = _IN_UNITS.get(match.group(2), (match.group(2), 1))
    return f"{float(match.group(1)) * factor:g}{unit}"
_PLACE = re.compile(r"(?:派出所|窗口|大厅|中心|局|平台|APP|系统|社区|网点|小程序|公众号|所|处|科|委|办)$")
MAX_RELATED = 40


def date_fragment(point: str, answer: str) -> bool:
    """Whether ``point`` is only part of a date (``2024年``, ``3月`` of ``3月1日``, ``10月`` of ``9-10月``),
    not a fact of its own."""
    if _YEAR.fullmatch(point):
        return True
    for match in re.finditer(re.escape(point), answer):
        before, after = answer[max(0, match.start() - 2):match.start()], answer[match.end():match.end() + 1]
        if (before and (before[-1].isdigit() or before[-1] in "年月" or re.fullmatch(r"\d[-–—~至到]", before))) \
                or (after and after.isdigit()):
            return True
    return False


def point_class(point: str, answer: str) -> str:
    """The class of key point ``point`` of ``answer``: an age (``60周岁``), a deadline (``30日内``) or
    another time (``6个月``) counted in days or in months and years, money, a share, another number, a
    form, a name, a place or a material; a distractor is always of its key's class, so
    ``受理后15个工作日内制证`` never gets ``60周岁`` and ``每周轮休2天`` never ``6个月``."""
    if f"《{point}》" in answer:
        return "form"
    if f"“{point}”" in answer:
        return "name"
    if "%" in point:
        return "share"
    if re.search(r"\d", point):
        if "元" in point:
            return "money"
        if _AGE.search(point):
            return "age"
        if _TIME.search(point):
            scale = "-days" if _DAYS.search(point) else "-months"
            return ("deadline" if _WITHIN.search(point) else "time") + scale
        return "number"
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
    A material must also be a thing (three characters or more, no 的): ``证明`` and ``更多的便利`` are not;
    a form must be named (four characters or more): 《办法》 is not."""
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
        points = tuple((p, kind) for p, kind in classed
                       if (kind != "material" or (len(p) >= 3 and "的" not in p)) and (kind != "form" or len(p) >= 4))
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
        is contained in them, states an amount the answer states in other units (``24个月`` for
        ``2年``), and no two are the same once normalized."""
        answer = normalized(material.entry.answer)
        keys = [normalized(k) for k in (point, *avoid)]
        said = {quantity(p) for p, _ in material.points}
        chosen: list[tuple[str, Material]] = []
        seen: set[str] = set()
        for other in self.related(material):
            for term, term_kind in other.points:
                norm, amount = normalized(term), quantity(term)
                if (term_kind != kind or not norm or norm in seen or norm in answer or amount in said
                        or amount in seen or any(norm in k or k in norm for k in keys)):
                    continue
                seen |= {norm, amount}
                chosen.append((term, other))
                if len(chosen) == count:
                    return chosen
        return chosen
