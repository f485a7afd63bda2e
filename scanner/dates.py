"""Dates as Thai and English sites write them, to timezone-aware UTC datetimes.

One function, :func:`parse_date`, used by every source kind. It understands:

- Thai month names, full and abbreviated, with or without dots (``23 มี.ค. 2567``,
  ``วันเสาร์ที่ 23 มีนาคม พ.ศ. 2567 10:30 น.``), Buddhist-Era years (minus 543), two-digit BE
  years (``23 มี.ค. 67``) and Thai digits (``๒๓ มี.ค. ๒๕๖๗``);
- numeric dates, day first as in Thailand (``23/03/2567``, ``23-03-2024 10:30``), and year first
  (``2567-03-23``);
- English month names (``23 March 2024``, ``Mar 23, 2024 10:30 AM``, ``Saturday, 23 March 2024``);
- ISO 8601 and RFC 822 (feeds, meta tags, APIs);
- relative words in English and Thai (``2 hours ago``, ``yesterday``, ``3 วันที่แล้ว``,
  ``เมื่อวาน``), counted back from ``now``;
- anything else ``dateparser`` understands, kept only when the year is plausible.

Times without a zone are taken to be in ``tz`` (default ``Asia/Bangkok``). The result is in UTC.
Two-digit years: 43–99 are Buddhist Era 2543–2599 (CE 2000–2056); 00–42 are CE 2000–2042.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)

THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")

THAI_MONTH_NAMES = [
    ("มกราคม", "ม.ค."), ("กุมภาพันธ์", "ก.พ."), ("มีนาคม", "มี.ค."), ("เมษายน", "เม.ย."),
    ("พฤษภาคม", "พ.ค."), ("มิถุนายน", "มิ.ย."), ("กรกฎาคม", "ก.ค."), ("สิงหาคม", "ส.ค."),
    ("กันยายน", "ก.ย."), ("ตุลาคม", "ต.ค."), ("พฤศจิกายน", "พ.ย."), ("ธันวาคม", "ธ.ค."),
]
THAI_WEEKDAYS = ["วันจันทร์", "วันอังคาร", "วันพุธ", "วันพฤหัสบดี", "วันศุกร์", "วันเสาร์", "วันอาทิตย์"]

THAI_MONTHS: dict[str, int] = {}
for _i, (_full, _abbr) in enumerate(THAI_MONTH_NAMES, start=1):
    THAI_MONTHS[_full] = _i
    THAI_MONTHS[_abbr] = _i
    THAI_MONTHS[_abbr.replace(".", "")] = _i
    THAI_MONTHS[_abbr.rstrip(".")] = _i  # "มี.ค" (no final dot)
THAI_MONTHS["กุมภาพันธ"] = 2  # a common misspelling without the final mark

EN_MONTHS: dict[str, int] = {}
for _i, _name in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"],
    start=1,
):
    EN_MONTHS[_name] = _i
    EN_MONTHS[_name[:3]] = _i
EN_MONTHS["sept"] = 9

_THAI_MONTH_ALT = "|".join(sorted((re.escape(k) for k in THAI_MONTHS), key=len, reverse=True))
_EN_MONTH_ALT = "|".join(sorted(EN_MONTHS, key=len, reverse=True))
_TIME = (
    r"(?:\D{0,14}?(?<!\d)(?P<hour>[01]?\d|2[0-3])[:.](?P<minute>[0-5]\d)(?:[:.](?P<second>[0-5]\d))?"
    r"(?:\s*(?P<ampm>[AaPp]\.?[Mm]\.?))?(?!\d))?"
)

THAI_DATE_RE = re.compile(
    rf"(?<!\d)(?P<day>[0-3]?\d)\s*(?P<month>{_THAI_MONTH_ALT})\s*(?:(?P<era>พ\.?\s?ศ\.?|ค\.?\s?ศ\.?)\s*)?"
    rf"(?P<year>\d{{4}}|\d{{2}})(?!\d)" + _TIME
)
NUMERIC_DMY_RE = re.compile(
    r"(?<![\d/.-])(?P<day>\d{1,2})[/.-](?P<month>\d{1,2})[/.-](?P<year>\d{4}|\d{2})(?![\d/-])" + _TIME
)
NUMERIC_YMD_RE = re.compile(
    r"(?<![\d/.-])(?P<year>\d{4})[/.-](?P<month>[01]?\d)[/.-](?P<day>[0-3]?\d)(?![\d/-])" + _TIME
)
EN_DMY_RE = re.compile(
    rf"(?<!\d)(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_EN_MONTH_ALT})\.?,?\s+(?P<year>\d{{4}})(?!\d)"
    + _TIME,
    re.IGNORECASE,
)
EN_MDY_RE = re.compile(
    rf"\b(?P<month>{_EN_MONTH_ALT})\.?\s+(?P<day>[0-3]?\d)(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})(?!\d)" + _TIME,
    re.IGNORECASE,
)
ISO_LIKE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$")

_UNIT_SECONDS = {
    "second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600, "hr": 3600, "day": 86400,
    "week": 604800, "month": 30 * 86400, "year": 365 * 86400,
    "วินาที": 1, "นาที": 60, "ชั่วโมง": 3600, "ชม.": 3600, "วัน": 86400, "สัปดาห์": 604800,
    "อาทิตย์": 604800, "เดือน": 30 * 86400, "ปี": 365 * 86400,
}
RELATIVE_EN_RE = re.compile(
    r"^(?:about\s+|posted\s+)?(?P<n>\d+|an?|one)\s+(?P<unit>second|sec|minute|min|hour|hr|day|week|month|year)s?"
    r"\s+ago\b",
    re.IGNORECASE,
)
RELATIVE_TH_RE = re.compile(
    r"^(?:เมื่อ\s*|ประมาณ\s*)?(?P<n>\d+)\s*(?P<unit>วินาที|นาที|ชั่วโมง|ชม\.|วัน|สัปดาห์|อาทิตย์|เดือน|ปี)\s*"
    r"(?:ที่แล้ว|ที่ผ่านมา|ก่อน)"
)
RELATIVE_DAYS = {
    "today": 0, "just now": 0, "now": 0, "yesterday": 1,
    "วันนี้": 0, "เมื่อสักครู่": 0, "เมื่อกี้": 0, "เมื่อวานซืน": 2, "เมื่อวาน": 1,
}

RELATIVE_REST_RE = re.compile(
    r"^[\s,]*(?:at|เวลา)?\s*(?:(?P<hour>[01]?\d|2[0-3])[:.](?P<minute>[0-5]\d))?\s*(?:น\.?|[ap]\.?m\.?)?$"
)

MIN_YEAR, MAX_YEAR = 1970, 2100


def to_ce_year(value: int) -> int:
    """A year as written → Common Era. BE years (> 2400) lose 543; two-digit years: see module doc."""
    if value < 100:
        return value + 2500 - 543 if value >= 43 else value + 2000
    if value > 2400:
        return value - 543
    return value


def _hour24(hour: str | None, ampm: str | None) -> int:
    h = int(hour or 0)
    if ampm:
        pm = ampm.lower().startswith("p")
        if h == 12:
            h = 0
        if pm:
            h += 12
    return h


def _build(year: int, month: int, day: int, m: re.Match[str], tz: str) -> datetime | None:
    try:
        hour = _hour24(m["hour"], m["ampm"])
        local = datetime(to_ce_year(year), month, day, hour, int(m["minute"] or 0), int(m["second"] or 0),
                         tzinfo=ZoneInfo(tz))
    except (ValueError, IndexError):
        return None
    return local.astimezone(UTC)


def _aware(dt: datetime, tz: str) -> datetime:
    if dt.year > 2400:
        try:
            dt = dt.replace(year=dt.year - 543)
        except ValueError:  # 29 February of a BE year that is not a CE leap year
            dt = dt.replace(year=dt.year - 543, day=28)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    try:
        return dt.astimezone(UTC)
    except OverflowError:  # year 1 east of UTC, year 9999 west of it: no such moment in UTC
        return datetime.min.replace(tzinfo=UTC) if dt.year < 2 else datetime.max.replace(tzinfo=UTC)


def _plausible(dt: datetime | None) -> datetime | None:
    return dt if dt is not None and MIN_YEAR <= dt.year <= MAX_YEAR else None


def parse_date(
    text: str | None,
    tz: str = "Asia/Bangkok",
    date_format: str | None = None,
    now: datetime | None = None,
    *,
    loose: bool = True,
) -> datetime | None:
    """Parse a date in any supported style (see the module doc); ``None`` when nothing sensible is found.

    ``date_format`` (``strptime`` codes; a ``%Y`` above 2400 is read as Buddhist Era) is tried first.
    ``now`` anchors relative dates such as ``2 hours ago`` (default: the current time).
    ``loose=False`` skips the ``dateparser`` fallback (for scanning free text, where it would read a
    bare month name in a headline as a date).
    The text may carry other words around the date (``โพสต์เมื่อ 23 มี.ค. 2567 | อ่าน 120 ครั้ง``).
    """
    if not text:
        return None
    raw = " ".join(text.translate(THAI_DIGITS).split())
    if not raw:
        return None
    if date_format:
        dt = _parse_with_format(raw, date_format, tz)
        if dt is not None:
            return dt
    if ISO_LIKE_RE.match(raw):
        try:
            return _plausible(_aware(datetime.fromisoformat(raw.replace("Z", "+00:00")), tz))
        except ValueError:
            pass
    m = THAI_DATE_RE.search(raw)
    if m:
        return _plausible(_build(int(m["year"]), THAI_MONTHS[m["month"]], int(m["day"]), m, tz))
    dt = _parse_rfc822(raw, tz)
    if dt is not None:
        return dt
    m = EN_DMY_RE.search(raw) or EN_MDY_RE.search(raw)
    if m:
        return _plausible(_build(int(m["year"]), EN_MONTHS[m["month"].lower()], int(m["day"]), m, tz))
    m = NUMERIC_YMD_RE.search(raw)
    if m:
        return _plausible(_build(int(m["year"]), int(m["month"]), int(m["day"]), m, tz))
    m = NUMERIC_DMY_RE.search(raw)
    if m:
        day, month = int(m["day"]), int(m["month"])
        if month > 12 >= day:  # 03/23/2024: month first, as US sites write it
            day, month = month, day
        return _plausible(_build(int(m["year"]), month, day, m, tz))
    dt = _parse_relative(raw, tz, now)
    if dt is not None or not loose:
        return dt
    return _parse_dateparser(raw, tz, now)


def find_date(text: str | None, tz: str = "Asia/Bangkok") -> tuple[datetime, str] | None:
    """The first written date in free text (Thai, English month names, numeric; no relative words)
    and the words it was read from: ``("…ข่าว 23 มี.ค. 2567 อ่านต่อ")`` → ``(datetime, "23 มี.ค. 2567")``."""
    if not text:
        return None
    raw = " ".join(text.translate(THAI_DIGITS).split())
    original = " ".join(text.split())  # same length and positions as ``raw`` (digit swap is 1:1)
    found: list[tuple[int, datetime, str]] = []
    for regex, months in ((THAI_DATE_RE, THAI_MONTHS), (EN_DMY_RE, EN_MONTHS), (EN_MDY_RE, EN_MONTHS),
                          (NUMERIC_YMD_RE, None), (NUMERIC_DMY_RE, None)):
        for m in regex.finditer(raw):
            month = months[m["month"].lower() if months is EN_MONTHS else m["month"]] if months else int(m["month"])
            day = int(m["day"])
            if months is None and month > 12 >= day:
                day, month = month, day
            dt = _plausible(_build(int(m["year"]), month, day, m, tz))
            if dt is not None:
                found.append((m.start(), dt, original[m.start():m.end()].strip()))
                break
    if not found:
        return None
    _, dt, words = min(found, key=lambda f: f[0])
    return dt, words


def _parse_with_format(raw: str, date_format: str, tz: str) -> datetime | None:
    text = raw
    fmt = date_format
    if "%b" in fmt or "%B" in fmt:
        # Thai month names are not in any C locale: swap them for English ones before strptime.
        m = re.search(_THAI_MONTH_ALT, text)
        if m:
            english = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                       "October", "November", "December"][THAI_MONTHS[m.group(0)] - 1]
            text = text[: m.start()] + (english if "%B" in fmt else english[:3]) + text[m.end():]
    if "%Y" in fmt:
        # BE years first become CE, so 29 February of a BE leap year (2567 = 2024) parses.
        text = re.sub(r"(?<!\d)(2[4-9]\d\d)(?!\d)", lambda y: str(int(y.group(1)) - 543), text)
    try:
        dt = datetime.strptime(text, fmt)
    except ValueError:
        return None
    return _plausible(_aware(dt, tz))


def _parse_rfc822(raw: str, tz: str) -> datetime | None:
    if not re.match(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}", raw):
        return None
    try:
        dt = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return _plausible(_aware(dt, tz))


def _parse_relative(raw: str, tz: str, now: datetime | None) -> datetime | None:
    base = (now or datetime.now(UTC)).astimezone(ZoneInfo(tz))
    lowered = raw.lower().strip(" .")
    for word, days in sorted(RELATIVE_DAYS.items(), key=lambda kv: -len(kv[0])):
        if not lowered.startswith(word):
            continue
        rest = RELATIVE_REST_RE.match(lowered[len(word):])
        if rest:
            day = base - timedelta(days=days)
            if rest["hour"]:
                day = day.replace(hour=int(rest["hour"]), minute=int(rest["minute"]), second=0, microsecond=0)
            elif days:
                day = day.replace(hour=0, minute=0, second=0, microsecond=0)
            return day.astimezone(UTC)
    m = RELATIVE_EN_RE.match(lowered) or RELATIVE_TH_RE.match(lowered)
    if m:
        n = m["n"]
        count = 1 if n in ("a", "an", "one") else int(n)
        unit = m["unit"].lower()
        return (base - timedelta(seconds=count * _UNIT_SECONDS[unit])).astimezone(UTC)
    return None


def _parse_dateparser(raw: str, tz: str, now: datetime | None) -> datetime | None:
    """Last resort for other wordings; only short texts with a letter and a digit or a relative word."""
    if len(raw) > 60 or not re.search(r"[A-Za-z\u0E00-\u0E7F]", raw):
        return None
    try:
        import dateparser
    except ImportError:  # optional
        return None
    settings: dict[str, Any] = {
        "TIMEZONE": tz,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DATES_FROM": "past",
        "DATE_ORDER": "DMY",
        "PREFER_DAY_OF_MONTH": "first",
        "RELATIVE_BASE": (now or datetime.now(UTC)).astimezone(ZoneInfo(tz)).replace(tzinfo=None),
    }
    try:
        dt = dateparser.parse(raw, languages=["en", "th"], settings=settings)
    except (ValueError, TypeError, OverflowError) as e:
        logger.debug("dateparser failed on %r: %s", raw, e)
        return None
    if dt is None:
        return None
    return _plausible(_aware(dt, tz))


def format_thai_date(dt: datetime, style: str = "abbr", digits: str = "arabic") -> str:
    """Write a (local) datetime the way Thai sites do; the inverse of :func:`parse_date` (used in tests
    and handy in templates). Styles: ``abbr`` (23 มี.ค. 2567), ``full`` (วันเสาร์ที่ 23 มีนาคม
    พ.ศ. 2567 10:30 น.), ``numeric`` (23/03/2567), ``short`` (23 มี.ค. 67)."""
    be = dt.year + 543
    full, abbr = THAI_MONTH_NAMES[dt.month - 1]
    if style == "abbr":
        out = f"{dt.day} {abbr} {be}"
    elif style == "full":
        out = f"{THAI_WEEKDAYS[dt.weekday()]}ที่ {dt.day} {full} พ.ศ. {be} {dt.hour:02d}:{dt.minute:02d} น."
    elif style == "numeric":
        out = f"{dt.day:02d}/{dt.month:02d}/{be}"
    elif style == "short":
        out = f"{dt.day} {abbr} {be % 100:02d}"
    else:
        raise ValueError(f"unknown style {style!r}: use abbr, full, numeric or short")
    if digits == "thai":
        out = out.translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))
    return out
