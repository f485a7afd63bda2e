"""Local JSON Lines / JSON / CSV files, or a folder of them: survey answers, interview and
focus-group notes, back-filled archives. Each row is an item.

Columns: ``id``, ``url``, ``title``, ``published``, ``body`` (or ``summary``/``text``/``content``),
``lang``, optional ``author``. A bad row is skipped with a warning naming the file and line;
the other rows still count.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path
from typing import Any

from scanner.config import FileSource
from scanner.dates import parse_date
from scanner.errors import FetchError
from scanner.models import RawItem, SourceFetch
from scanner.normalize import html_to_text, http_url
from scanner.sources import FetchContext

logger = logging.getLogger(__name__)

SUFFIXES = {".jsonl", ".ndjson", ".json", ".csv"}
BODY_FIELDS = ("body", "content", "text", "summary", "description", "notes", "answer")
MAX_WARNINGS = 20


def fetch(source: FileSource, ctx: FetchContext) -> SourceFetch:
    result = SourceFetch(source.id, started_at=ctx.now)
    root = ctx.config.resolve(source.path)
    files = list_files(root)
    if not files:
        result.warnings.append(f"{source.path}: the folder has no .jsonl, .json or .csv files yet")
    tz = ctx.config.settings.timezone
    for path in files:
        if path.stat().st_size > ctx.config.settings.max_bytes * 10:
            result.warnings.append(f"{path.name}: skipped, larger than 10 × settings.max_bytes")
            continue
        result.items.extend(read_file(path, tz, result.warnings, id_prefix=_rel(path, root)))
    if len(result.warnings) > MAX_WARNINGS:
        extra = len(result.warnings) - MAX_WARNINGS
        result.warnings = [*result.warnings[:MAX_WARNINGS], f"… and {extra} more warnings"]
    return result


def _rel(path: Path, root: Path) -> str:
    return path.name if root.is_file() else str(path.relative_to(root))


def list_files(root: Path) -> list[Path]:
    if not root.exists():
        raise FetchError(f"{root}: no such file or folder")
    if root.is_file():
        if root.suffix.lower() not in SUFFIXES:
            raise FetchError(f"{root}: not a .jsonl, .json or .csv file")
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)


def _decode(path: Path, warnings: list[str]) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    for enc in ("utf-16",) if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ():
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            pass
    try:
        text = data.decode("cp874")  # Thai Windows (Excel CSV exports); a superset of TIS-620
    except UnicodeDecodeError:
        raise FetchError(f"{path}: not UTF-8 or Thai Windows-874 text; save it as UTF-8") from None
    warnings.append(f"{path.name}: not UTF-8, read as Thai Windows-874 (TIS-620)")
    return text


def read_file(path: Path, tz: str, warnings: list[str], id_prefix: str = "") -> list[RawItem]:
    text = _decode(path, warnings)
    suffix = path.suffix.lower()
    rows: list[tuple[int, Any]] = []
    if suffix in (".jsonl", ".ndjson"):
        # JSON Lines are split on "\n" only: str.splitlines() would also split inside a row's text
        # at U+2028, U+0085 and other characters JSON leaves unescaped.
        for n, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                rows.append((n, json.loads(line)))
            except json.JSONDecodeError as e:
                warnings.append(f"{path.name}:{n}: not valid JSON ({e.msg}); row skipped")
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise FetchError(f"{path}:{e.lineno}: not valid JSON ({e.msg})") from None
        if isinstance(data, dict):
            data = data.get("items") or data.get("data") or [data]
        if not isinstance(data, list):
            raise FetchError(f"{path}: expected a list of objects")
        rows = [(i + 1, r) for i, r in enumerate(data)]
    else:
        reader = csv.DictReader(io.StringIO(text))
        rows = [(i + 2, r) for i, r in enumerate(reader)]
    items = []
    for n, row in rows:
        if not isinstance(row, dict):
            warnings.append(f"{path.name}:{n}: not an object; row skipped")
            continue
        item = row_to_item(row, tz, f"{id_prefix}:{n}")
        if item is None:
            warnings.append(f"{path.name}:{n}: no title and no text; row skipped")
            continue
        items.append(item)
    return items


def _get(row: dict[str, Any], *names: str) -> str:
    lowered = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    for name in names:
        value = lowered.get(name)
        if value not in (None, ""):
            return str(value)
    return ""


def row_to_item(row: dict[str, Any], tz: str, fallback_id: str) -> RawItem | None:
    body = html_to_text(_get(row, *BODY_FIELDS))
    summary = html_to_text(_get(row, "summary", "description")) if _get(row, "body", "content", "text") else ""
    title = html_to_text(_get(row, "title", "headline", "question", "topic"))
    if not title and not body:
        return None
    if not title:
        title = body.split("\n", 1)[0][:140]
    url = http_url(_get(row, "url", "link"))
    lang = _get(row, "lang", "language").lower()[:2] or None
    published = parse_date(_get(row, "published", "date", "pubdate", "created", "timestamp"), tz=tz)
    extra = {k: v for k, v in row.items() if k and str(k).lower() in ("respondent", "province", "region", "group",
                                                                     "category", "label", "tags", "method")}
    return RawItem(
        url=url,
        title=title,
        guid=_get(row, "id", "guid") or fallback_id,
        summary=summary if summary != body else "",
        content=body,
        author=_get(row, "author", "by", "interviewer") or None,
        lang=lang if lang in ("th", "en") else None,
        published=published,
        extra=extra,
    )
