"""Rows for people and for other tools: the one place where records become flat rows, and the
one CSV writer (the Excel workbook writer is ``scanner.spreadsheet``). ``scanner signals``,
``items``, ``export …``, ``review --list`` and ``sources list`` print what these functions return."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass
from typing import Any
from zoneinfo import ZoneInfo

from scanner.analysis.score import state_rank
from scanner.analysis.tags import tag_label
from scanner.clock import parse_iso
from scanner.config import Config
from scanner.models import Item
from scanner.normalize import http_url
from scanner.spreadsheet import Column, write_workbook
from scanner.store import Store
from scanner.store.exports import (
    EventRecord,
    ItemRecord,
    SignalRecord,
    event_records,
    item_records,
    iter_item_records,
    signal_item_counts,
    signal_records,
)
from scanner.store.trends import TrendEventRecord, TrendRecord, trend_event_records, trend_merges, trend_records

Row = Mapping[str, Any]

SIGNAL_TABLE_COLUMNS = ["id", "state", "items", "last_seen", "title", "keywords"]
SIGNAL_CSV_COLUMNS = ["id", "title", "summary", "state", "status", "first_seen", "last_seen", "items", "keywords_th",
                      "keywords_en", "topics", "tags", "merged_into", "item_ids", "trend_id", "trend_name",
                      "raters", "novelty_rating", "horizon", "impact"]
TREND_TABLE_COLUMNS = ["id", "state", "signals", "items", "last_seen", "name"]
ITEM_EXPORT_COLUMNS = ["id", "url", "title", "published", "lang", "source_id", "relevance", "relevant", "topics",
                       "signal_id", "story_id", "duplicate_of", "novelty"]
REVIEW_COLUMNS = ["signal_id", "title", "verdict", "by", "created_at", "note"]
# The same columns in a workbook, with what each holds (links, real dates, numbers).
ITEM_SHEET = [Column("id", "int"), Column("url", "url"), Column("title"), Column("published", "datetime"),
              Column("lang"), Column("source_id"), Column("relevance", "float"), Column("relevant", "bool"),
              Column("topics", "list"), Column("signal_id", "int"), Column("story_id", "int"),
              Column("duplicate_of", "int"), Column("novelty", "float")]
SIGNAL_SHEET = [Column("id", "int"), Column("title"), Column("summary"), Column("state"), Column("status"),
                Column("first_seen", "week"), Column("last_seen", "week"), Column("items", "int"),
                Column("keywords_th", "list"), Column("keywords_en", "list"), Column("topics", "list"),
                Column("tags", "list"), Column("merged_into", "int"), Column("item_ids", "list"),
                Column("trend_id", "int"), Column("trend_name"), Column("example"), Column("example_url", "url")]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what Excel would read a CSV cell as a formula for


def to_csv(rows: Sequence[Row], columns: Sequence[str], excel: bool = False) -> str:
    """``rows`` as CSV with a header; lists become space-separated words, ``None`` an empty cell.

    ``excel``: for opening in Excel. A UTF-8 byte-order mark first (without it Excel reads Thai as
    mojibake), and a text cell that Excel would run as a formula (``=HYPERLINK(…)``, ``+…``, ``@…``)
    gets a leading apostrophe, so it shows as the text it is.
    """
    buf = io.StringIO()
    if excel:
        buf.write("\ufeff")
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow({c: _excel_text(_cell(r.get(c))) if excel else _cell(r.get(c)) for c in columns})
    return buf.getvalue()


def _excel_text(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def to_json(rows: Sequence[Row], columns: Sequence[str] | None = None) -> str:
    """``rows`` (only ``columns`` when given) as an indented JSON list, Thai kept readable; dataclasses
    inside them (weekly scores) become objects."""
    return json.dumps([{c: r.get(c) for c in columns} if columns else dict(r) for r in rows], ensure_ascii=False,
                      indent=2, default=_plain)


def to_json_object(value: object) -> str:
    """One record as indented JSON (dataclasses inside become objects)."""
    return json.dumps(value, ensure_ascii=False, indent=2, default=_plain)


def _plain(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_jsonl(rows: Sequence[Row], columns: Sequence[str] | None = None) -> str:
    """``rows`` as JSON Lines, one object per line."""
    return "".join(json.dumps({c: r.get(c) for c in columns} if columns else dict(r), ensure_ascii=False) + "\n"
                   for r in rows)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return value


# --------------------------------------------------------------------------- signals


def list_signals(store: Store, state: str | None = None, show_all: bool = False,
                 with_members: bool = False) -> list[SignalRecord]:
    """Signals as ``scanner signals`` lists them: active ones (``show_all``: also faded and merged),
    the newest and weakest states first, then the biggest, then by id."""
    records = signal_records(store, state=state, include_merged=show_all, with_members=with_members)
    if not show_all:
        records = [r for r in records if r["status"] == "active"]
    counts = signal_item_counts(store)
    return sorted(records, key=lambda r: (state_rank(r["state"]), -counts.get(r["id"], 0), r["id"]))


def signal_table(store: Store, records: Sequence[SignalRecord]) -> list[dict[str, Any]]:
    """One short row per signal for the ``scanner signals`` table."""
    counts = signal_item_counts(store)
    return [{"id": r["id"], "state": r["state"], "items": counts.get(r["id"], 0), "last_seen": r["last_seen"],
             "title": r["title"], "keywords": ", ".join(r["keywords"].get("all", [])[:5])} for r in records]


def signal_csv_rows(records: Sequence[SignalRecord]) -> list[dict[str, Any]]:
    """One flat row per signal (``export signals --format csv``): keywords, topics, tags and members as words."""
    return [{
        "id": r["id"], "title": r["title"], "summary": r["summary"], "state": r["state"], "status": r["status"],
        "first_seen": r["first_seen"], "last_seen": r["last_seen"], "items": len(r["items"]),
        "keywords_th": r["keywords"].get("th", []), "keywords_en": r["keywords"].get("en", []), "topics": r["topics"],
        "tags": [t for group in r["tags"].values() for t in group], "merged_into": r["merged_into"],
        "item_ids": [m["id"] for m in r["items"]],
        "trend_id": r["trend"]["id"] if r["trend"] else None, "trend_name": r["trend"]["name"] if r["trend"] else None,
        "raters": r["ratings"]["raters"], "novelty_rating": r["ratings"]["novelty"], "horizon": r["ratings"]["horizon"],
        "impact": r["ratings"]["impact"],
    } for r in records]


def show_signal(store: Store, signal_id: int) -> tuple[SignalRecord, list[EventRecord]] | None:
    """One signal (even a merged one) with its members, and its events; ``None`` when there is none."""
    records = signal_records(store, ids=[signal_id])
    return (records[0], event_records(store, signal_id)) if records else None


def signal_text(record: SignalRecord) -> list[str]:
    """The heading lines of ``scanner signals show``: name, example headline, state, keywords, topics, tags."""
    lines = [f"signal {record['id']}: {record['title']}"]
    if record["custom_title"]:
        lines.append(f"  automatic name: {record['auto_title']}")
    if record["example"]:
        lines.append(f"  example: {record['example']}")
    if record["summary"]:
        lines.append(f"  summary: {record['summary']}")
    status = record["status"] + (f" into {record['merged_into']}" if record["merged_into"] else "")
    lines.append(f"  state: {record['state']} ({status}); first seen {record['first_seen']}, "
                 f"last seen {record['last_seen']}")
    kw = record["keywords"]
    lines.append(f"  keywords (th): {', '.join(kw.get('th', []))}")
    lines.append(f"  keywords (en): {', '.join(kw.get('en', []))}")
    lines.append(f"  topics: {', '.join(record['topics']) or '-'}")
    trend = record["trend"]
    lines.append(f"  trend: {trend['id']} {trend['name']}" if trend else "  trend: -")
    r = record["ratings"]
    if r["raters"] and r["novelty"] is not None and r["impact"] is not None:
        lines.append(f"  ratings ({r['raters']} rater{'s' if r['raters'] != 1 else ''}, medians): novelty "
                     f"{r['novelty']:g} of 5, horizon {r['horizon']}, impact {r['impact']:g} of 3")
    else:
        lines.append("  ratings: -")
    lines.extend(f"  {group}: {', '.join(tag_label(t) for t in tags) or '-'}" for group, tags in record["tags"].items())
    return lines


def week_rows(record: SignalRecord) -> list[dict[str, Any]]:
    return [asdict(w) for w in record["weeks"]]


def member_rows(record: SignalRecord) -> list[dict[str, Any]]:
    return [{"id": m["id"], "published": (m["published"] or "")[:10], "lang": m["lang"],
             "similarity": m["similarity"], "title": m["title"]} for m in record["items"]]


def event_rows(events: Sequence[EventRecord]) -> list[dict[str, Any]]:
    return [{"week": e["week"], "event": e["event"], "detail": json.dumps(e["detail"], ensure_ascii=False)}
            for e in events]


# --------------------------------------------------------------------------- items and sources


def export_signals(store: Store, fmt: str, include_merged: bool = False, excel: bool = False) -> str:
    """``export signals``: every signal with its weeks and members as JSON, or one flat row each as CSV
    (``excel``: CSV for Excel, see ``to_csv``)."""
    records = signal_records(store, include_merged=include_merged)
    if fmt == "json":
        return to_json(records) + "\n"
    return to_csv(signal_csv_rows(records), SIGNAL_CSV_COLUMNS, excel=excel)


def export_signals_xlsx(store: Store, path: str, tz: str, include_merged: bool = False) -> int:
    """``export signals --format xlsx``: the CSV's rows plus each signal's example headline and the link
    to its most representative item, as a workbook; returns the number of signals."""
    records = signal_records(store, include_merged=include_merged)
    rows = [{**row, "example": r["example"], "example_url": _example_url(r)}
            for row, r in zip(signal_csv_rows(records), records, strict=True)]
    return write_workbook(path, "signals", SIGNAL_SHEET, rows, tz)


def export_signals_ftss(store: Store, config: Config, verdict: str = "keep") -> str:
    """``export signals --format ftss``: the signals with analysts' verdict ``verdict`` as FTSS signal
    bodies (``scanner.ftss``), a JSON list."""
    from scanner.ftss import build_payloads

    return to_json([s.payload for s in build_payloads(store, config, verdict)]) + "\n"


def _example_url(record: SignalRecord) -> str | None:
    """The link of the signal's most representative member (highest similarity) that has an http(s) one."""
    members = sorted(record["items"], key=lambda m: -(m["similarity"] or 0.0))
    return next((u for u in (http_url(m["url"]) for m in members) if u), None)


def list_trends(store: Store, state: str | None = None, show_all: bool = False) -> list[TrendRecord]:
    """Trends as ``scanner trends`` lists them: active ones (``show_all``: also faded), the newest and
    weakest states first, then the biggest, then by id."""
    records = trend_records(store, state=state, include_faded=show_all)
    return sorted(records, key=lambda r: (state_rank(r["state"]), -r["items"], r["id"]))


def trend_table(records: Sequence[TrendRecord]) -> list[dict[str, Any]]:
    return [{"id": r["id"], "state": r["state"], "signals": len(r["signals"]), "items": r["items"],
             "last_seen": r["last_seen"], "name": r["name"]} for r in records]


def show_trend(store: Store, trend_id: int) -> tuple[TrendRecord, list[SignalRecord], list[TrendEventRecord]] | None:
    """One trend with its signals (without members) and its events; ``None`` when there is none
    (a merged trend is shown as the one it was merged into)."""
    trend_id = trend_merges(store).get(trend_id, trend_id)
    found = trend_records(store, ids=[trend_id])
    if not found:
        return None
    signals = signal_records(store, ids=found[0]["signals"], with_members=False) if found[0]["signals"] else []
    return found[0], signals, trend_event_records(store, trend_id)


def trend_text(record: TrendRecord, signals: Sequence[SignalRecord], counts: dict[int, int]) -> list[str]:
    """``scanner trends show``: name, example, state, keywords, then one line per signal."""
    lines = [f"trend {record['id']}: {record['name']}"]
    if record["custom_name"]:
        lines.append(f"  automatic name: {record['auto_name']}")
    if record["example"]:
        lines.append(f"  example: {record['example']}")
    if record["summary"]:
        lines.append(f"  summary: {record['summary']}")
    lines.append(f"  state: {record['state']} ({record['status']}); first seen {record['first_seen']}, "
                 f"last seen {record['last_seen']}; {record['items']} items in {len(record['signals'])} signals")
    kw = record["keywords"]
    lines.append(f"  keywords (th): {', '.join(kw.get('th', []))}")
    lines.append(f"  keywords (en): {', '.join(kw.get('en', []))}")
    lines.append("  signals:")
    lines.extend(f"    {s['id']:>5}  {s['state']:<11} {counts.get(s['id'], 0):>4} items  {s['title']}" for s in signals)
    return lines


def export_trends(store: Store) -> str:
    """``export trends``: each trend's id, name, state, signal ids and item count (and more), as JSON."""
    return to_json(trend_records(store)) + "\n"


def export_items(store: Store, fmt: str, relevant_only: bool = False, excel: bool = False) -> str:
    """``export items``: items with relevance, topics, story, signal and novelty, as JSON Lines or CSV
    (``excel``: CSV for Excel, see ``to_csv``)."""
    rows: Sequence[ItemRecord] = item_records(store, relevant_only)
    return to_jsonl(rows, ITEM_EXPORT_COLUMNS) if fmt == "jsonl" else to_csv(rows, ITEM_EXPORT_COLUMNS, excel=excel)


def export_items_xlsx(store: Store, path: str, tz: str, relevant_only: bool = False) -> int:
    """``export items --format xlsx``: the same columns as a workbook, streamed row by row; returns the
    number of items."""
    return write_workbook(path, "items", ITEM_SHEET, iter_item_records(store, relevant_only), tz)


def item_rows(items: Sequence[Item], tz: str, table: bool) -> list[dict[str, Any]]:
    """``scanner items``: a short row per item for the table (local time), every field otherwise."""
    if table:
        zone = ZoneInfo(tz)
        return [{"id": i.id, "published": parse_iso(i.published).astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                 "source": i.source_id, "lang": i.lang, "title": i.title} for i in items]
    return [{"id": i.id, "source_id": i.source_id, "url": i.url, "title": i.title, "published": i.published,
             "date_missing": i.date_missing, "lang": i.lang, "author": i.author, "summary": i.summary,
             "content": i.content, "first_seen": i.first_seen} for i in items]


def source_list(config: Config) -> list[dict[str, Any]]:
    """``scanner sources list``: the configured sources, one row each."""
    rows = []
    for s in config.sources:
        where = getattr(s, "url", None) or getattr(s, "path", "")
        rows.append({"id": s.id, "kind": s.kind, "language": s.language,
                     "every": interval_text(s.every_seconds(config.settings)), "enabled": s.enabled,
                     "tags": ",".join(s.tags), "where": " ".join(where) if isinstance(where, list) else where})
    return rows


def interval_text(seconds: float | None) -> str:
    """``21600`` → ``6h``: the largest unit that divides the interval (as written in sources.yaml)."""
    if seconds is None:
        return ""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
