"""The WHERE clause shared by the append-only logs (audit, questions): exact columns and a day range."""

from __future__ import annotations


def where(equal: dict[str, str], since: str = "", until: str = "") -> tuple[str, list]:
    """``(" WHERE …", args)`` keeping rows whose columns equal the non-empty values of ``equal`` and whose
    ``at`` (ISO time) falls on ``since`` … ``until`` (inclusive ISO dates; empty for no bound); ``("", [])``
    when nothing is asked."""
    clauses, args = [], []
    for column, value in equal.items():
        if value:
            clauses.append(f"{column} = ?")
            args.append(value)
    if since:
        clauses.append("substr(at, 1, 10) >= ?")
        args.append(since)
    if until:
        clauses.append("substr(at, 1, 10) <= ?")
        args.append(until)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args
