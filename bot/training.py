"""The monthly training pack: what the counters met in one month, gathered for systematic training.

:func:`training_pack` reads the record store for one month (``2026-11``) and returns a
:class:`TrainingPack` with four parts:

* the month's new and changed 口径 (:data:`CHANGE_KINDS`), grouped by 事项 with their 依据: published
  entries dated in the month (``new``), published entries that supersede another and take effect (or,
  without an effective date, are dated) in the month (``replaced``), and published entries that got a
  new version in the month through review, merge, rollback or an admin's overwrite (``revised``); an
  entry is listed once, in the first of those that fits;
* the most-asked and the most-refused questions of the month from the question log
  (:mod:`kb.asklog`), grouped by their normalized text (:func:`bot.study.normalized`), so that
  ``居住证怎么办？`` and ``居住证怎么办`` count as one question;
* the self-test questions staff lost points on in attempts submitted that month
  (:mod:`kb.attempts`), grouped by bank question, most errors first;
* a short self-test (:data:`SELF_TEST` questions): up to half of it the most-missed questions, the
  rest made offline (:func:`bot.quiz.build`) from the month's new and changed entries.

Reading it needs the ``training`` permission (组长/培训师, 管理员); the self-test results are read
with the same account, which needs ``quiz`` (the same roles). Rendering is in
:mod:`bot.training_word`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from kb.asklog import questions as logged_questions
from kb.attempts import Attempts, quarter_of
from kb.dates import MONTHS, month_bounds
from kb.errors import KBError
from kb.quizbank import QuizQuestion
from kb.records import Records
from kb.types import Entry
from kb.users import User, authorize

from .quiz import build
from .study import normalized

CHANGE_KINDS: dict[str, str] = {"new": "新增口径", "replaced": "新口径取代旧口径", "revised": "口径修订"}
"""Kind of change -> its Chinese label, in the order an entry is classified."""
SELF_TEST = 10
"""Questions in the pack's self-test."""
TOP = 10
"""Questions listed under most-asked and under most-refused."""
OTHER_ITEM = "其他"
REVISING_ACTIONS = ("approve", "merge", "rollback", "overwrite")
"""Version actions that change a published entry (a draft's ``edit`` and an ``import`` do not count)."""
_BUILT_KINDS = ("single", "judge", "blank", "multiple")


class TrainingError(KBError):
    """A training pack, plan or evaluation cannot be made as asked (a bad month, no LibreOffice …)."""


@dataclass(frozen=True)
class Change:
    """One new or changed 口径: ``kind`` is a key of :data:`CHANGE_KINDS`; ``on`` the ISO date it counts
    from in the month; ``replaces`` the superseded entry's id and question (``replaced`` only)."""

    kind: str
    entry_id: str
    version: int
    question: str
    answer: str
    item: str
    basis: str
    department: str
    on: str
    replaces: str = ""
    replaces_question: str = ""

    @property
    def label(self) -> str:
        return CHANGE_KINDS[self.kind]


@dataclass(frozen=True)
class AskedGroup:
    """Questions of the month with the same normalized text: the most frequent ``wording``, how often
    it was ``asked`` and how often the answer was ``refused`` (``no_answer``); ``last_at`` local ISO time."""

    wording: str
    asked: int
    refused: int
    last_at: str


@dataclass(frozen=True)
class Missed:
    """A self-test question answered wrong in the month: ``errors`` answers lost points out of
    ``answers`` given (each submitted attempt counts once); ``question`` carries the key."""

    key: str
    question: QuizQuestion
    errors: int
    answers: int

    @property
    def item(self) -> str:
        return self.question.item or OTHER_ITEM


@dataclass(frozen=True)
class TrainingPack:
    """The pack of ``month`` (``YYYY-MM``, days ``since``..``until``): the changes grouped by 事项
    (name order, :data:`OTHER_ITEM` last), the most-asked and most-refused questions, the missed
    self-test questions, and the self-test (``from_missed`` of its questions come first, from ``missed``)."""

    month: str
    since: str
    until: str
    changes: tuple[tuple[str, tuple[Change, ...]], ...]
    asked: tuple[AskedGroup, ...]
    refused: tuple[AskedGroup, ...]
    missed: tuple[Missed, ...]
    self_test: tuple[QuizQuestion, ...]
    from_missed: int

    @property
    def change_count(self) -> int:
        return sum(len(group) for _, group in self.changes)

    @property
    def title(self) -> str:
        """The printed title, e.g. ``2026年11月 窗口业务月度培训资料``."""
        return f"{self.month[:4]}年{int(self.month[5:])}月 窗口业务月度培训资料"


def month_range(month: str) -> tuple[str, str, str]:
    """``2026-11`` (also ``2026/11``, ``2026年11月``) -> ``("2026-11", "2026-11-01", "2026-11-30")``;
    raises :class:`TrainingError` naming the accepted forms otherwise."""
    bounds = month_bounds(month)
    if bounds is None:
        raise TrainingError(f"月份“{month}”格式不对：请写成 {MONTHS}。")
    return bounds


def training_pack(records: Records, month: str, actor: User) -> TrainingPack:
    """The training pack of ``month`` (see the module doc); ``actor`` needs ``training``."""
    actor = authorize(records, actor, "training")
    month, since, until = month_range(month)
    changes = month_changes(records, since, until)
    asked = asked_groups(records, since, until)
    missed = missed_questions(records, actor, month)
    pool = [(records.entry(c.entry_id), c.version) for _, group in changes for c in group]
    test, from_missed = self_test(missed, pool, seed=month)
    return TrainingPack(month, since, until, changes, tuple(asked[:TOP]),
                        tuple(sorted((g for g in asked if g.refused), key=lambda g: (-g.refused, -g.asked,
                                                                                     g.wording))[:TOP]),
                        tuple(missed), tuple(test), from_missed)


def month_changes(records: Records, since: str, until: str) -> tuple[tuple[str, tuple[Change, ...]], ...]:
    """The published entries new or changed between ``since`` and ``until`` (inclusive ISO dates),
    each once as its first fitting kind of :data:`CHANGE_KINDS`, grouped by 事项."""
    found: dict[str, Change] = {}
    replaced = records.entries_where(
        "status='published' AND supersedes != '' AND "
        "(CASE WHEN effective_from != '' THEN effective_from ELSE date END) BETWEEN ? AND ?", (since, until))
    for entry, state in replaced:
        old = records.entry(entry.supersedes)
        found[entry.id] = _change("replaced", entry, state.version, entry.effective_from or entry.date,
                                  entry.supersedes, old.question if old else "")
    for entry, state in records.entries_where("status='published' AND date BETWEEN ? AND ?", (since, until)):
        found.setdefault(entry.id, _change("new", entry, state.version, entry.date))
    marks = ",".join("?" * len(REVISING_ACTIONS))
    revised = records.conn.execute(
        f"SELECT v.entry_id, MAX(substr(v.at, 1, 10)) FROM entry_versions v JOIN entries e ON e.id = v.entry_id "
        f"WHERE e.status='published' AND v.version > 1 AND v.action IN ({marks}) "
        "AND substr(v.at, 1, 10) BETWEEN ? AND ? GROUP BY v.entry_id", (*REVISING_ACTIONS, since, until))
    for entry_id, day in revised.fetchall():
        if entry_id not in found:
            found[entry_id] = _change("revised", records.entry(entry_id), records.state(entry_id).version, day)
    grouped: dict[str, list[Change]] = {}
    for change in found.values():
        grouped.setdefault(change.item or OTHER_ITEM, []).append(change)
    order = sorted(grouped, key=lambda item: (item == OTHER_ITEM, item))
    kinds = list(CHANGE_KINDS)
    return tuple((item, tuple(sorted(grouped[item], key=lambda c: (kinds.index(c.kind), c.on, c.entry_id))))
                 for item in order)


def _change(kind: str, entry: Entry, version: int, on: str, replaces: str = "", replaces_question: str = "") -> Change:
    return Change(kind, entry.id, version, entry.question, entry.answer, entry.item, entry.basis, entry.department,
                  on, replaces, replaces_question)


def asked_groups(records: Records, since: str, until: str) -> list[AskedGroup]:
    """The logged questions between ``since`` and ``until`` grouped by normalized text, most asked first
    (then most refused, then by wording)."""
    groups: dict[str, list] = {}
    for row in logged_questions(records.conn, since, until, limit=1_000_000):
        groups.setdefault(normalized(row.question) or row.question, []).append(row)
    found = []
    for rows in groups.values():
        wordings = Counter(r.question.strip() for r in rows)
        newest = {r.question.strip(): r.at for r in reversed(rows)}
        wording = max(wordings, key=lambda w: (wordings[w], newest[w]))
        found.append(AskedGroup(wording, len(rows), sum(r.status == "no_answer" for r in rows),
                                max(r.at for r in rows)))
    return sorted(found, key=lambda g: (-g.asked, -g.refused, g.wording))


def missed_questions(records: Records, actor: User, month: str) -> list[Missed]:
    """The self-test questions answered wrong (score below the points) in attempts submitted in
    ``month`` (``YYYY-MM``), by bank question, the most errors first (then the highest error share)."""
    counts: dict[str, list] = {}
    for result in Attempts(records).results(actor, quarter=quarter_of(f"{month}-01")):
        if result.attempt.submitted_at[:7] != month:
            continue
        for answered in result.answers:
            held = counts.setdefault(answered.question.key, [answered.question.question, 0, 0])
            held[1] += not answered.marking.correct
            held[2] += 1
    missed = [Missed(key, q, errors, answers) for key, (q, errors, answers) in counts.items() if errors]
    return sorted(missed, key=lambda m: (-m.errors, -m.errors / m.answers, m.key))


def self_test(missed: list[Missed], pool: list[tuple[Entry, int]], seed: str,
              size: int = SELF_TEST) -> tuple[list[QuizQuestion], int]:
    """``size`` questions: the most-missed first (at most half, more when the pool gives too few new
    ones), then offline questions on ``pool`` testing other facts. Returns them and how many are missed ones."""
    first = [m.question for m in missed[:size // 2]]
    wanted = size - len(first)
    counts = {kind: wanted // len(_BUILT_KINDS) + (i < wanted % len(_BUILT_KINDS))
              for i, kind in enumerate(_BUILT_KINDS)}
    made, _ = build(pool, counts, seed=seed, avoid={q.fact for q in first}) if pool and wanted else ([], 0)
    more = [m.question for m in missed[size // 2:]][:max(0, wanted - len(made))]
    chosen = [*first, *more]
    return [*chosen, *made[:size - len(chosen)]], len(chosen)
