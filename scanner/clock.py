"""Time: the run's notion of "now" (``--as-of``), UTC ISO strings and ISO weeks."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scanner.errors import UsageError

WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")
MAX_WEEK_RANGE = 520  # ten years: the longest back-fill or replay one command does

UTC = UTC


def now_utc() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    """UTC ISO 8601 with seconds: ``2025-03-23T03:30:00+00:00``."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_iso(text: str) -> datetime:
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def as_of_datetime(day: date | datetime | str | None, tz: str = "Asia/Bangkok") -> datetime:
    """``--as-of``: a date is the end of that day in ``tz`` (23:59:59), a date and time is that moment
    (in ``tz`` unless it carries its own offset); ``None`` is now. Strings are ISO 8601."""
    if day is None:
        return now_utc()
    if isinstance(day, str):
        day = date.fromisoformat(day) if len(day.strip()) == 10 else datetime.fromisoformat(day.strip())
    if isinstance(day, datetime):
        return (day if day.tzinfo else day.replace(tzinfo=ZoneInfo(tz))).astimezone(UTC)
    return datetime.combine(day, time(23, 59, 59), ZoneInfo(tz)).astimezone(UTC)


def day_start(day: date, tz: str = "Asia/Bangkok") -> datetime:
    """00:00 of ``day`` in ``tz``, as UTC."""
    return datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(UTC)


def iso_week(dt: datetime | date, tz: str = "Asia/Bangkok") -> str:
    """``YYYY-Www`` of a moment, in the lab's time zone."""
    if isinstance(dt, datetime):
        d = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(ZoneInfo(tz)).date()
    else:
        d = dt
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(week: str, tz: str = "Asia/Bangkok") -> datetime:
    """Monday 00:00 of an ISO week in ``tz``, as UTC."""
    year, w = week.split("-W")
    d = date.fromisocalendar(int(year), int(w), 1)
    return datetime.combine(d, time(0), ZoneInfo(tz)).astimezone(UTC)


def week_end(week: str, tz: str = "Asia/Bangkok") -> datetime:
    """The first moment after the ISO week (next Monday 00:00 in ``tz``), as UTC."""
    return week_start(shift_week(week, 1), tz)


def shift_week(week: str, n: int) -> str:
    year, w = week.split("-W")
    d = date.fromisocalendar(int(year), int(w), 1) + timedelta(weeks=n)
    y, ww, _ = d.isocalendar()
    return f"{y}-W{ww:02d}"


def weeks_apart(first: str, last: str) -> int:
    """How many weeks ``last`` comes after ``first`` (negative when before): W10 → W12 is 2."""
    return (_monday(last) - _monday(first)).days // 7


def _monday(week: str) -> date:
    year, w = week.split("-W")
    return date.fromisocalendar(int(year), int(w), 1)


def weeks_ending(week: str, n: int) -> list[str]:
    """The ``n`` ISO weeks that end with ``week``, oldest first: the analysis window's weeks."""
    return weeks_between(shift_week(week, -(n - 1)), week)


def weeks_between(first: str, last: str) -> list[str]:
    """Every ISO week from ``first`` to ``last`` inclusive."""
    out: list[str] = []
    w = first
    while w <= last and len(out) < 10_000:
        out.append(w)
        w = shift_week(w, 1)
    return out


def months_before(now: datetime, months: int, tz: str = "Asia/Bangkok") -> datetime:
    """Midnight (in ``tz``) of the same day of the month, ``months`` calendar months before ``now``, as
    UTC (days after the 28th count as the 28th, so every month has the day)."""
    local = now.astimezone(ZoneInfo(tz)).date()
    total = local.year * 12 + (local.month - 1) - months
    year, month = divmod(total, 12)
    return datetime.combine(date(year, month + 1, min(local.day, 28)), time(0), ZoneInfo(tz)).astimezone(UTC)


def last_complete_week(now: datetime, tz: str = "Asia/Bangkok") -> str:
    """The ISO week before the one ``now`` falls in."""
    return shift_week(iso_week(now, tz), -1)


def check_week(week: str) -> str:
    """``2025-W07`` as given, or ``UsageError`` with the expected form."""
    m = WEEK_RE.match(week or "")
    if not m:
        raise UsageError(f"{week!r} is not an ISO week: write it as YYYY-Www, for example 2025-W07")
    try:
        date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise UsageError(f"{week!r} does not exist: {m.group(1)} has no week {int(m.group(2))}") from None
    return week


def week_range(first: str, last: str) -> list[str]:
    """``--from first --to last``: every week of the range, checked (``UsageError`` for a bad week, a
    reversed range or one longer than ``MAX_WEEK_RANGE``)."""
    check_week(first)
    check_week(last)
    if first > last:
        raise UsageError(f"--from {first} is after --to {last}: swap them")
    weeks = weeks_between(first, last)
    if len(weeks) > MAX_WEEK_RANGE:
        raise UsageError(f"{len(weeks)} weeks is too many for one run: at most {MAX_WEEK_RANGE} (ten years)")
    return weeks
