"""scanner.dates: Thai and English dates, BE years, Thai digits, relative words; round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.dates import find_date, format_thai_date, parse_date, to_ce_year

BKK = ZoneInfo("Asia/Bangkok")
NOW = datetime(2024, 3, 23, 5, 0, tzinfo=UTC)  # 12:00 in Bangkok


def bkk(*args: int) -> datetime:
    return datetime(*args, tzinfo=BKK).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("23 มี.ค. 2567", bkk(2024, 3, 23)),
        ("วันเสาร์ที่ 23 มีนาคม พ.ศ. 2567 10:30 น.", bkk(2024, 3, 23, 10, 30)),
        ("23/03/2567", bkk(2024, 3, 23)),
        ("23/03/2567 14:05", bkk(2024, 3, 23, 14, 5)),
        ("๒๓ มี.ค. ๒๕๖๗", bkk(2024, 3, 23)),
        ("๒๓/๐๓/๒๕๖๗", bkk(2024, 3, 23)),
        ("23 มี.ค. 67", bkk(2024, 3, 23)),
        ("23 มีค 2567", bkk(2024, 3, 23)),
        ("23 มี.ค 2567", bkk(2024, 3, 23)),
        ("1 ม.ค. 2543", bkk(2000, 1, 1)),
        ("23 มี.ค. 2567 เวลา 14.05 น.", bkk(2024, 3, 23, 14, 5)),
        ("23 มีนาคม ค.ศ. 2024", bkk(2024, 3, 23)),
        ("29 ก.พ. 2567", bkk(2024, 2, 29)),
        ("โพสต์เมื่อ 23 มี.ค. 2567 | อ่าน 120 ครั้ง", bkk(2024, 3, 23)),
        ("2567-03-23", bkk(2024, 3, 23)),
        ("2024-03-23", bkk(2024, 3, 23)),
        ("2024-03-23T10:30:00Z", datetime(2024, 3, 23, 10, 30, tzinfo=UTC)),
        ("2024-03-23T10:30:00+07:00", datetime(2024, 3, 23, 3, 30, tzinfo=UTC)),
        ("2024-03-23 10:30:00", bkk(2024, 3, 23, 10, 30)),
        ("Sat, 23 Mar 2024 10:30:00 +0000", datetime(2024, 3, 23, 10, 30, tzinfo=UTC)),
        ("Sat, 23 Mar 2024 10:30:00 GMT", datetime(2024, 3, 23, 10, 30, tzinfo=UTC)),
        ("23 March 2024", bkk(2024, 3, 23)),
        ("Saturday, 23rd of March 2024", bkk(2024, 3, 23)),
        ("March 23, 2024 10:30 PM", bkk(2024, 3, 23, 22, 30)),
        ("Mar. 23, 2024", bkk(2024, 3, 23)),
        ("03/23/2024", bkk(2024, 3, 23)),
        ("2 hours ago", NOW - timedelta(hours=2)),
        ("an hour ago", NOW - timedelta(hours=1)),
        ("5 days ago", NOW - timedelta(days=5)),
        ("2 ชั่วโมงที่แล้ว", NOW - timedelta(hours=2)),
        ("3 วันที่แล้ว", NOW - timedelta(days=3)),
        ("เมื่อ 15 นาทีที่แล้ว", NOW - timedelta(minutes=15)),
        ("เมื่อวาน", bkk(2024, 3, 22)),
        ("เมื่อวาน 10:30 น.", bkk(2024, 3, 22, 10, 30)),
        ("เมื่อวานซืน", bkk(2024, 3, 21)),
        ("yesterday", bkk(2024, 3, 22)),
        ("วันนี้ 09:15", bkk(2024, 3, 23, 9, 15)),
    ],
)
def test_parse_date_understands_each_style(text: str, expected: datetime) -> None:
    assert parse_date(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["", "   ", "อ่านต่อ", "หน้าถัดไป", "1234", "nowhere", "ข่าวที่ 12/2567",
                                  "ครั้งที่ 1/2567", "31 ก.พ. 2567", "version 1.2.3", "now playing"])
def test_parse_date_returns_none_for_non_dates(text: str) -> None:
    assert parse_date(text, now=NOW) is None


def test_dateparser_fallback_reads_other_wordings_unless_loose_is_off() -> None:
    assert parse_date("May 2024", now=NOW) == bkk(2024, 5, 1)
    assert parse_date("May 2024", now=NOW, loose=False) is None
    # Structured forms are still found in free text with loose=False.
    assert parse_date("ข่าวล่าสุด 23 มี.ค. 2567 อ่านต่อ", loose=False) == bkk(2024, 3, 23)


def test_naive_times_use_the_given_zone() -> None:
    assert parse_date("23/03/2567 10:30", tz="UTC") == datetime(2024, 3, 23, 10, 30, tzinfo=UTC)
    assert parse_date("2024-03-23T10:30:00", tz="Europe/Berlin") == datetime(2024, 3, 23, 9, 30, tzinfo=UTC)


def test_date_format_is_tried_first_and_reads_be_years_and_thai_months() -> None:
    assert parse_date("03-23-2567", date_format="%m-%d-%Y") == bkk(2024, 3, 23)
    assert parse_date("29 ก.พ. 2567", date_format="%d %b %Y") == bkk(2024, 2, 29)
    assert parse_date("23 มีนาคม 2567 - 10:30", date_format="%d %B %Y - %H:%M") == bkk(2024, 3, 23, 10, 30)
    # A format that does not fit falls back to automatic parsing.
    assert parse_date("23 มี.ค. 2567", date_format="%Y/%m/%d") == bkk(2024, 3, 23)


def test_two_digit_years() -> None:
    assert to_ce_year(67) == 2024  # BE 2567
    assert to_ce_year(43) == 2000  # BE 2543
    assert to_ce_year(24) == 2024  # CE
    assert to_ce_year(2567) == 2024
    assert to_ce_year(2024) == 2024


def test_results_are_aware_utc() -> None:
    dt = parse_date("23 มี.ค. 2567 10:30")
    assert dt is not None and dt.tzinfo == UTC and dt.isoformat() == "2024-03-23T03:30:00+00:00"


# ------------------------------------------------------------------ round trips (hypothesis)

local_datetimes = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 12, 31, 23, 59)).map(
    lambda d: d.replace(second=0, microsecond=0)
)


@settings(max_examples=200, deadline=None)
@given(dt=local_datetimes, style=st.sampled_from(["abbr", "numeric"]), digits=st.sampled_from(["arabic", "thai"]))
def test_round_trip_date_styles(dt: datetime, style: str, digits: str) -> None:
    text = format_thai_date(dt, style=style, digits=digits)
    assert parse_date(text) == datetime(dt.year, dt.month, dt.day, tzinfo=BKK).astimezone(UTC), text


@settings(max_examples=200, deadline=None)
@given(dt=local_datetimes, digits=st.sampled_from(["arabic", "thai"]))
def test_round_trip_full_thai_style_with_weekday_and_time(dt: datetime, digits: str) -> None:
    text = format_thai_date(dt, style="full", digits=digits)
    assert parse_date(text) == dt.replace(tzinfo=BKK).astimezone(UTC), text


@settings(max_examples=200, deadline=None)
@given(dt=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2056, 12, 31)),
       digits=st.sampled_from(["arabic", "thai"]))
def test_round_trip_two_digit_be_years(dt: datetime, digits: str) -> None:
    text = format_thai_date(dt, style="short", digits=digits)
    assert parse_date(text) == datetime(dt.year, dt.month, dt.day, tzinfo=BKK).astimezone(UTC), text


@settings(max_examples=100, deadline=None)
@given(dt=local_datetimes, tz=st.sampled_from(["Asia/Bangkok", "UTC", "America/New_York"]))
def test_round_trip_iso_and_rfc822(dt: datetime, tz: str) -> None:
    aware = dt.replace(tzinfo=ZoneInfo(tz))
    assert parse_date(aware.isoformat()) == aware.astimezone(UTC)
    assert parse_date(aware.strftime("%a, %d %b %Y %H:%M:%S %z")) == aware.astimezone(UTC)


@settings(max_examples=100, deadline=None)
@given(dt=local_datetimes, style=st.sampled_from(["abbr", "numeric", "short"]),
       digits=st.sampled_from(["arabic", "thai"]))
def test_find_date_in_surrounding_text_returns_the_date_and_its_words(dt: datetime, style: str, digits: str) -> None:
    if style == "short" and not 2000 <= dt.year <= 2056:
        dt = dt.replace(year=2000 + dt.year % 57)
    written = format_thai_date(dt, style=style, digits=digits)
    found = find_date(f"ข่าวประชาสัมพันธ์ ครั้งที่ 5 {written} อ่าน 1,234 ครั้ง")
    assert found == (datetime(dt.year, dt.month, dt.day, tzinfo=BKK).astimezone(UTC), written)


def test_find_date_takes_the_earliest_date_and_ignores_non_dates() -> None:
    assert find_date("ประกาศ 12/09/2567 แก้ไข 3 March 2024") == (bkk(2024, 9, 12), "12/09/2567")
    assert find_date("ข่าว 1 มีความคืบหน้า 2567") is None
    assert find_date("แผนปี 2566-2570 ครั้งที่ 1/2567") is None
