"""Reading dates the way counters write them: one parser for sheet cells, command options and edits.

:func:`parse_date` accepts date/datetime objects, Excel serial day numbers, ``2026-11-03``,
``2026-11-3``, ``2026/11/3``, ``2026.11.3``, ``2026年11月3日`` and ``20261103`` (full-width digits
and surrounding spaces too) and returns an ISO date. :func:`require_date` is the strict form for
a named field or option: it raises :class:`~kb.errors.DateError` with a message that names the
field and the accepted forms. :func:`month_bounds` reads a month (``2026-11``) the same way.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date, datetime, timedelta

from .errors import DateError

ACCEPTED = "2026-11-03、2026/11/3、2026.11.3、2026年11月3日 或 20261103"
"""The accepted written forms, for messages."""
MONTHS = "2026-11、2026/11 或 2026年11月"
"""The accepted written forms of a month, for messages."""
EXCEL_EPOCH = date(1899, 12, 30)
EXCEL_RANGE = (18264, 73050)
"""Excel serial numbers read as dates: 1950-01-01 to 2099-12-31 (others are not dates in a sheet)."""

_SEPARATED = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")


def parse_date(value: object) -> str | None:
    """``value`` as an ISO date (``YYYY-MM-DD``); '' when it is empty; None when it is not a real date
    (unreadable, or impossible such as 2026-02-30)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if EXCEL_RANGE[0] <= value <= EXCEL_RANGE[1]:
            return (EXCEL_EPOCH + timedelta(days=int(value))).isoformat()
        return _from_text(f"{value:.0f}" if float(value).is_integer() else str(value))
    return _from_text(str(value))


def _from_text(text: str) -> str | None:
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return ""
    m = _SEPARATED.search(text) or _COMPACT.match(text)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        return None


def month_bounds(month: str) -> tuple[str, str, str] | None:
    """``2026-11`` (also ``2026/11``, ``2026.11``, ``2026年11月``, full-width digits) -> the month's key,
    first and last day: ``("2026-11", "2026-11-01", "2026-11-30")``; None when it is not a month."""
    found = _MONTH.match(unicodedata.normalize("NFKC", month or "").strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        return None
    year, number = int(found.group(1)), int(found.group(2))
    key = f"{year:04d}-{number:02d}"
    return key, f"{key}-01", f"{key}-{calendar.monthrange(year, number)[1]:02d}"


def require_date(value: object, label: str) -> str:
    """Like :func:`parse_date`, but an unreadable date raises :class:`~kb.errors.DateError` naming
    ``label`` (the field or option, e.g. ``生效日期`` or ``--since``)."""
    parsed = parse_date(value)
    if parsed is None:
        raise DateError(f"{label}“{value}”不是有效的日期（格式无法识别，或没有这一天）。"
                        f"请写成 {ACCEPTED}。")
    return parsed
