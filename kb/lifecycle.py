"""口径 currency: which entry applies on a given day, and which newer entry replaces an old one.

A published entry B that ``supersedes`` A replaces A from B's ``effective_from`` date (at once when
B has none). Before that date A is still current and B is *upcoming*. An entry's ``expire_on`` date
is its last valid day: it applies through that day and no longer from the next day. Chains are followed (A → B → C); a cycle is cut where it closes.
"""

from __future__ import annotations

from .types import Replacement


class Timeline:
    """The supersession graph of the published entries, seen on one day (``as_of``, an ISO date).

    Args:
        supersessions: ``(new id, old id, new entry's effective_from)`` for every published entry
            that supersedes another.
        questions: entry id -> question, for the replacement notes.
        as_of: the day to judge on.
    """

    def __init__(self, supersessions: list[tuple[str, str, str]], questions: dict[str, str], as_of: str):
        self.as_of = as_of
        self.questions = questions
        self.successor: dict[str, tuple[str, str]] = {}
        self.upcoming: dict[str, tuple[str, str]] = {}
        for new, old, effective in sorted(supersessions, key=lambda s: (s[2], s[0])):
            target = self.successor if not effective or effective <= as_of else self.upcoming
            if target is self.upcoming and old in self.upcoming:
                continue
            target[old] = (new, effective)

    def replacements(self, entry_id: str) -> list[Replacement]:
        """The chain of replacements from ``entry_id`` to the entry current today (empty if it is current)."""
        chain, seen = [], {entry_id}
        while entry_id in self.successor:
            new, effective = self.successor[entry_id]
            if new in seen:
                break
            chain.append(Replacement(entry_id, self.questions.get(entry_id, ""), new, effective))
            seen.add(new)
            entry_id = new
        return chain

    def current(self, entry_id: str) -> str:
        """The id of the entry that applies today in place of ``entry_id``."""
        chain = self.replacements(entry_id)
        return chain[-1].new_id if chain else entry_id

    def next_change(self, entry_id: str) -> Replacement | None:
        """A published successor of ``entry_id`` that takes effect after today, if any."""
        if entry_id not in self.upcoming:
            return None
        new, effective = self.upcoming[entry_id]
        return Replacement(entry_id, self.questions.get(entry_id, ""), new, effective)


def expired(expire_on: str, as_of: str) -> bool:
    """True when an entry with this ``expire_on`` date no longer applies on ``as_of``.

    ``expire_on`` (失效日期) is the last day the entry applies: it still applies on that day and no
    longer from the next day.
    """
    return bool(expire_on) and expire_on < as_of
