"""Excel workbooks (``scanner export … --format xlsx``), for analysts and partner agencies who work in
Excel: one sheet of rows with the header row frozen and filterable, columns sized to their content
(Thai counted by what shows: tone marks and vowels above or below a letter take no width), links
clickable (only http(s) ones), dates and times as real Excel dates in the lab's time zone, numbers
as numbers, lists as words.

Scraped text is data, never a formula: a title such as ``=HYPERLINK("http://evil","click")`` or
``=1+1`` is stored as a text cell (and, in CSV for Excel, prefixed with an apostrophe; see
``scanner.export.to_csv``). Control characters that the file format forbids are dropped and text is
cut at Excel's 32,767 characters per cell.

Rows are streamed (openpyxl's write-only mode), so exporting every item of a ten-year database
keeps memory flat; column widths come from the header and the first ``SAMPLE_ROWS`` rows.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from scanner.clock import parse_iso, week_start
from scanner.errors import UsageError
from scanner.normalize import http_url

Kind = Literal["text", "int", "float", "bool", "datetime", "week", "url", "list"]

SAMPLE_ROWS = 1000  # rows read ahead to size the columns
MIN_WIDTH, MAX_WIDTH = 6, 60
MAX_CELL_CHARS = 32_767  # Excel's limit for one cell
MAX_LINK_CHARS = 2_079  # the longest address Excel keeps as a hyperlink
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
FLOAT_FORMAT = "0.000"
ILLEGAL_XML = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])  # what XML 1.0 cannot hold


@dataclass(frozen=True)
class Column:
    """One column of a sheet: the row key it shows and what kind of value it holds."""

    key: str
    kind: Kind = "text"


def write_workbook(path: str | Path, sheet: str, columns: Sequence[Column], rows: Iterable[Mapping[str, Any]],
                   tz: str) -> int:
    """Write ``rows`` as one sheet of an .xlsx file at ``path`` (replacing it); return the number of rows.

    Dates and times are shown in ``tz`` (Excel has no time zones); an ISO week is shown as the date
    of its Monday.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    if not str(path).lower().endswith(".xlsx"):
        raise UsageError(f"{path}: an Excel workbook's name ends in .xlsx (Excel refuses to open it otherwise)")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])
    zone = ZoneInfo(tz)
    it = iter(rows)
    head = list(itertools.islice(it, SAMPLE_ROWS))
    cells = [[_value(c, r.get(c.key), zone, tz) for c in columns] for r in head]
    for i, c in enumerate(columns, start=1):
        sample = [_shown(row[i - 1]) for row in cells]
        width = max([_width(c.key) + 2, *(_width(s) + 1 for s in sample)])
        ws.column_dimensions[get_column_letter(i)].width = max(MIN_WIDTH, min(MAX_WIDTH, width))
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for c in columns:
        cell = WriteOnlyCell(ws, value=c.key)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    count = 0
    for row in itertools.chain(cells, ([_value(c, r.get(c.key), zone, tz) for c in columns] for r in it)):
        ws.append([_cell(ws, c, v) for c, v in zip(columns, row, strict=True)])
        count += 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
    tmp = Path(f"{path}.part")
    wb.save(tmp)
    tmp.replace(path)
    return count


def _value(column: Column, value: Any, zone: ZoneInfo, tz: str) -> Any:
    """A row's value as the cell will hold it (before styling)."""
    if value is None or value == "":
        return None
    kind = column.kind
    if kind == "datetime":
        try:
            return parse_iso(str(value)).astimezone(zone).replace(tzinfo=None)
        except ValueError:
            return text(value)
    if kind == "week":
        try:
            return week_start(str(value), tz).astimezone(zone).date()
        except (ValueError, IndexError):
            return text(value)
    if kind == "list":
        return text(" ".join(str(v) for v in value)) if isinstance(value, (list, tuple)) else text(value)
    if kind == "bool":
        return bool(value)
    if kind in ("int", "float") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return text(value)


def _cell(ws: Any, column: Column, value: Any) -> Any:
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text, even when it starts with "=": scraped text never runs as a formula
        link = http_url(value) if column.kind == "url" else None
        if link and len(link) <= MAX_LINK_CHARS:
            cell.hyperlink = quote(link, safe=":/?#[]@!$&'()*+,;=%-._~")
            cell.style = "Hyperlink"
    elif isinstance(value, datetime):
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.number_format = DATE_FORMAT
    elif isinstance(value, float):
        cell.number_format = FLOAT_FORMAT
    return cell


def text(value: object) -> str:
    """Text a worksheet can hold: no control characters XML forbids, at most Excel's cell size."""
    return str(value).translate(ILLEGAL_XML)[:MAX_CELL_CHARS]


def _shown(value: Any) -> str:
    if isinstance(value, datetime):
        return "2025-03-17 10:00"
    if isinstance(value, date):
        return "2025-03-17"
    if isinstance(value, float):
        return f"{value:.3f}"
    return "" if value is None else str(value)


def _width(value: str) -> int:
    """Characters as they show: combining marks (Thai tone marks, vowels above and below) take no room."""
    return sum(1 for ch in value if not unicodedata.combining(ch) and unicodedata.category(ch) != "Mn")
