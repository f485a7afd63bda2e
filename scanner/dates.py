"""Dates as Thai and English sites write them, to timezone-aware UTC datetimes.

Handles ISO 8601, RFC 822, Buddhist-Era years (subtract 543), Thai month names (full and
abbreviated) and Thai digits. Naive times are taken to be in ``Asia/Bangkok`` unless told otherwise.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")

THAI_MONTHS: dict[str, int] = {}
for _i, (_full, _abbr) in enumerate(
    [
        ("มกราคม", "ม.ค."), ("กุมภาพันธ์", "ก.พ."), ("มีนาคม", "มี.ค."), ("เมษายน", "เม.ย."),
        ("พฤษภาคม", "พ.ค."), ("มิถุนายน", "มิ.ย."), ("กรกฎาคม", "ก.ค."), ("สิงหาคม", "ส.ค."),
        ("กันยายน", "ก.ย."), ("ตุลาคม", "ต.ค."), ("พฤศจิกายน", "พ.ย."), ("ธันวาคม", "ธ.ค."),
    ],
    start=1,
):
    THAI_MONTHS[_full] = _i
    THAI_MONTHS[_abbr] = _i
    THAI_MONTHS[_abbr.replace(".", "")] = _i

_MONTH_ALT = "|".join(sorted((re.escape(k) for k in THAI_MONTHS), key=len, reverse=True))
THAI_DATE_RE = re.compile(
    rf"(?P<day>\d{{1,2}})\s*(?P<month>{_MONTH_ALT})\s*(?:พ\.?\s?ศ\.?|ค\.?\s?ศ\.?)?\s*(?P<year>\d{{2,4}})"
    r"(?:\D{0,12}?(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.](?P<second>\d{2}))?)?"
)
NUMERIC_DATE_RE = re.compile(
    r"^\s*(?P<day>\d{1,2})[/.-](?P<month>\d{1,2})[/.-](?P<year>\d{4})"
    r"(?:[ T,]+(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.](?P<second>\d{2}))?)?"
)


def _year(value: int) -> int:
    """Buddhist Era → Common Era; two-digit BE years (``67``) are 25xx."""
    if value < 100:
        value += 2500 if value >= 43 else 2600
    if value > 2400:
        value -= 543
    return value


def _build(year: int, month: int, day: int, hour: str | None, minute: str | None, second: str | None,
           tz: str) -> datetime | None:
    try:
        local = datetime(_year(year), month, day, int(hour or 0), int(minute or 0), int(second or 0),
                         tzinfo=ZoneInfo(tz))
    except ValueError:
        return None
    return local.astimezone(UTC)


def parse_date(text: str | None, tz: str = "Asia/Bangkok", date_format: str | None = None) -> datetime | None:
    """Parse a date string in any supported style; ``None`` when nothing sensible is found."""
    if not text:
        return None
    raw = text.translate(THAI_DIGITS).strip()
    if not raw:
        return None
    if date_format:
        try:
            dt = datetime.strptime(raw, date_format)
        except ValueError:
            pass
        else:
            if dt.year > 2400:
                dt = dt.replace(year=dt.year - 543)
            return (dt if dt.tzinfo else dt.replace(tzinfo=ZoneInfo(tz))).astimezone(UTC)
    m = THAI_DATE_RE.search(raw)
    if m:
        return _build(int(m["year"]), THAI_MONTHS[m["month"]], int(m["day"]), m["hour"], m["minute"], m["second"], tz)
    m = NUMERIC_DATE_RE.match(raw)
    if m:
        return _build(int(m["year"]), int(m["month"]), int(m["day"]), m["hour"], m["minute"], m["second"], tz)
    try:
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        dt = None
    if dt is None:
        try:
            dt = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            dt = None
    if dt is None:
        return None
    if dt.year > 2400:
        dt = dt.replace(year=dt.year - 543)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    return dt.astimezone(UTC)
