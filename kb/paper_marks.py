"""Marks of papers taken on paper and marked by hand, stored as attempts (``mode='paper'``) beside the
online ones (:mod:`kb.attempts`), so results, reports and wrong-answer books count both.

The marks come as rows of (sheet row, person, question number, points), read from a sheet by
:func:`ingest.marks_sheet.read_marks_sheet`. A person is an account's username or display name.
Bad rows are reported by row number and skipped; the others are stored, one attempt per person;
importing a person's marks for a paper again replaces them.
"""

from __future__ import annotations

from collections.abc import Iterable

from .attempts import Attempts, Marking, close_attempt
from .papers import people
from .records import Records, now
from .users import User, authorize


def import_marks(records: Records, actor: User, paper_id: str, rows: Iterable[tuple[int, str, int, float]],
                 variant: str = "A", day: str = "") -> tuple[int, list[str]]:
    """Store marks of a paper taken on paper: ``rows`` of (row number in the sheet, person, question
    number, points). A person is an account's username or display name. Rows naming an unknown person
    or question, or points outside 0..the question's points, are reported and skipped; the others
    are stored, one attempt per person (replacing an earlier import), dated ``day`` (today by default).
    Returns how many people's marks were stored and the problems, each naming its row."""
    actor = authorize(records, actor, "quiz")
    paper = Attempts(records).papers.keyed(paper_id, variant)
    by_number = {q.number: q for q in paper.questions}
    named: dict[str, User] = {}
    for u in people(records):
        named.setdefault(u.display_name, u)
        named[u.username] = u
    marks: dict[str, dict[int, float]] = {}
    problems = []
    for line, person, number, points in rows:
        user, question = named.get(str(person).strip()), by_number.get(number)
        if user is None:
            problems.append(f"第 {line} 行：没有名为“{person}”的账号，请填写用户名或姓名。")
        elif question is None:
            problems.append(f"第 {line} 行：试卷 {paper_id} 没有第 {number} 题。")
        elif not 0 <= points <= question.points:
            problems.append(f"第 {line} 行：第 {number} 题得分 {points:g} 超出范围（0 至 {question.points:g}）。")
        else:
            marks.setdefault(user.username, {})[number] = points
    at = (day or now()[:10]) + "T12:00:00"
    for username, scored in marks.items():
        user = named[username]
        marked = [(q, "（纸质答卷）", Marking(scored.get(q.number, 0.0), q.points,
                                             note="" if q.number in scored else "未录入得分"))
                  for q in paper.questions]
        with records.transaction(changes_index=False) as conn:
            conn.execute("DELETE FROM quiz_responses WHERE attempt_id IN (SELECT id FROM quiz_attempts"
                         " WHERE paper_id=? AND username=? AND mode='paper')", (paper_id, username))
            conn.execute("DELETE FROM quiz_attempts WHERE paper_id=? AND username=? AND mode='paper'",
                         (paper_id, username))
            attempt_id = conn.execute(
                "INSERT INTO quiz_attempts(paper_id, variant, username, group_name, quarter, mode, started_at,"
                " submitted_at, score, total) VALUES(?,?,?,?,?,?,?,?,?,?)",
                (paper_id, variant, username, user.group, "", "paper", at, "", 0.0, paper.total)).lastrowid
            close_attempt(conn, attempt_id, marked, at)
    return len(marks), problems
