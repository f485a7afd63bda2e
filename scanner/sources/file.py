"""Local JSON Lines / JSON / CSV files, or a folder of them: survey answers, interview and
focus-group notes, back-filled archives. Each row is an item.

Columns: ``id``, ``url``, ``title``, ``published``, ``body`` (or ``summary``/``text``/``content``),
``lang``, optional ``author``. A bad row is skipped with a warning naming the file and line,
and a file that cannot be read is skipped with a warning naming it; the other rows and files
still count. Symbolic links are not followed: a file source reads only what is inside its folder.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from pathlib import Path
from typing import Any

from scanner.config import FileSource
from scanner.dates import parse_date
from scanner.errors import FetchError
from scanner.models import FieldCaps, RawItem, SourceFetch
from scanner.normalize import html_to_text, http_url
from scanner.sources import FetchContext

logger = logging.getLogger(__name__)

SUFFIXES = {".jsonl", ".ndjson", ".json", ".csv"}
BODY_FIELDS = ("body", "content", "text", "summary", "description", "notes", "answer")
MAX_WARNINGS = 20


def fetch(source: FileSource, ctx: FetchContext) -> SourceFetch:
    result = SourceFetch(source.id, started_at=ctx.now)
    root = ctx.config.resolve(source.path)
    files = list_files(root, result.warnings)
    if not files:
        result.warnings.append(f"{source.path}: the folder has no .jsonl, .json or .csv files yet")
    tz = ctx.config.settings.timezone
    caps = ctx.config.settings.caps
    failed: list[str] = []
    for path in files:
        try:
            if path.stat().st_size > ctx.config.settings.max_bytes * 10:
                raise FetchError(f"{path.name}: larger than 10 × settings.max_bytes")
            result.items.extend(read_file(path, tz, result.warnings, id_prefix=_rel(path, root), caps=caps))
        except (FetchError, OSError, ValueError, RecursionError, MemoryError) as e:
            failed.append(str(e) if isinstance(e, FetchError) else f"{path.name}: {e.__class__.__name__}: {e}")
    if failed and len(failed) == len(files):
        raise FetchError("; ".join(failed[:3]))
    result.warnings.extend(f"file skipped: {f}" for f in failed)
    if len(result.warnings) > MAX_WARNINGS:
        extra = len(result.warnings) - MAX_WARNINGS
        result.warnings = [*result.warnings[:MAX_WARNINGS], f"… and {extra} more warnings"]
    return result


def _rel(path: Path, root: Path) -> str:
    return path.name if root.is_file() else str(path.relative_to(root))


def list_files(root: Path, warnings: list[str] | None = None) -> list[Path]:
    """The data files of a source path, in name order; symbolic links inside a folder are skipped
    (with a warning), so a planted link cannot make the source read files outside it."""
    if not root.exists():
        raise FetchError(f"{root}: no such file or folder")
    if root.is_file():
        if root.suffix.lower() not in SUFFIXES:
            raise FetchError(f"{root}: not a .jsonl, .json or .csv file")
        return [root]
    found: list[Path] = []
    links: list[Path] = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        here = Path(folder)
        links.extend(here / d for d in dirs if (here / d).is_symlink())
        for name in names:
            path = here / name
            if path.suffix.lower() not in SUFFIXES:
                continue
            if path.is_symlink():
                links.append(path)
            elif path.is_file():
                found.append(path)
    if links and warnings is not None:
        shown = ", ".join(str(p.relative_to(root)) for p in sorted(links)[:5])
        warnings.append(f"{len(links)} symbolic links not followed ({shown}); copy the files into the folder instead")
    return sorted(found)


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


def read_file(path: Path, tz: str, warnings: list[str], id_prefix: str = "",
              caps: FieldCaps | None = None) -> list[RawItem]:
    caps = caps or FieldCaps()
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
            except (ValueError, RecursionError) as e:
                warnings.append(f"{path.name}:{n}: {_json_problem(e)}; row skipped")
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as e:
            line = f":{e.lineno}" if isinstance(e, json.JSONDecodeError) else ""
            raise FetchError(f"{path}{line}: {_json_problem(e)}") from None
        if isinstance(data, dict):
            data = data.get("items") or data.get("data") or [data]
        if not isinstance(data, list):
            raise FetchError(f"{path}: expected a list of objects")
        rows = [(i + 1, r) for i, r in enumerate(data)]
    else:
        rows = _csv_rows(path, text, caps, warnings)
    items = []
    for n, row in rows:
        if not isinstance(row, dict):
            warnings.append(f"{path.name}:{n}: not an object; row skipped")
            continue
        try:
            item = row_to_item(row, tz, f"{id_prefix}:{n}", caps)
        except (TypeError, ValueError, RecursionError, OverflowError) as e:
            warnings.append(f"{path.name}:{n}: {e.__class__.__name__}: {str(e)[:100]}; row skipped")
            continue
        if item is None:
            warnings.append(f"{path.name}:{n}: no title and no text; row skipped")
            continue
        items.append(item)
    return items


def _json_problem(e: ValueError | RecursionError) -> str:
    """What was wrong with a JSON text, for a warning or an error."""
    if isinstance(e, json.JSONDecodeError):
        return f"not valid JSON ({e.msg})"
    if isinstance(e, RecursionError):
        return "JSON nested too deeply to read"
    return f"not readable JSON ({str(e)[:100]})"  # e.g. a number of more than 4,300 digits


def _csv_rows(path: Path, text: str, caps: FieldCaps, warnings: list[str]) -> list[tuple[int, Any]]:
    """``(line, row)`` of a CSV file; a row the csv module rejects is skipped with its line number."""
    limit = caps.raw(caps.body)
    if csv.field_size_limit() < limit:  # only ever raised: a long interview note is one field
        csv.field_size_limit(limit)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows: list[tuple[int, Any]] = []
    try:
        if reader.fieldnames is None:  # reads the header line
            return rows
    except csv.Error as e:
        raise FetchError(f"{path.name}:1: the header line cannot be read ({e})") from None
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return rows
        except csv.Error as e:
            warnings.append(f"{path.name}:{line}: {e}; row skipped")
            continue
        rows.append((line, row))


def _get(row: dict[str, Any], *names: str) -> str:
    lowered = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    for name in names:
        value = lowered.get(name)
        if value not in (None, ""):
            return str(value)
    return ""


def row_to_item(row: dict[str, Any], tz: str, fallback_id: str, caps: FieldCaps | None = None) -> RawItem | None:
    caps = caps or FieldCaps()
    body = html_to_text(_get(row, *BODY_FIELDS), caps.body)
    summary = (html_to_text(_get(row, "summary", "description"), caps.summary)
               if _get(row, "body", "content", "text") else "")
    title = html_to_text(_get(row, "title", "headline", "question", "topic"), caps.title)
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
