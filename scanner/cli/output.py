"""Small helpers for printing tables, JSON and CSV from commands."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

import click
from tabulate import tabulate


def echo_rows(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str] | None = None) -> None:
    columns = list(columns or (rows[0].keys() if rows else []))
    if fmt == "json":
        click.echo(json.dumps([{c: r.get(c) for c in columns} for r in rows], ensure_ascii=False, indent=2))
    elif fmt == "jsonl":
        for r in rows:
            click.echo(json.dumps({c: r.get(c) for c in columns}, ensure_ascii=False))
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({c: r.get(c) for c in columns})
        click.echo(buf.getvalue(), nl=False)
    else:
        if not rows:
            click.echo("(none)")
            return
        click.echo(tabulate([[_cell(r.get(c)) for c in columns] for r in rows], headers=columns))


def _cell(value: Any, width: int = 60) -> str:
    if value is None:
        return ""
    text = str(value).replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def human_seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
