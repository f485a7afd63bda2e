"""Printing rows as a table, JSON, JSON Lines or CSV (the formats come from ``scanner.export``)."""

from __future__ import annotations

from collections.abc import Sequence

import click
from tabulate import tabulate

from scanner.export import Row, to_csv, to_json, to_jsonl


def echo_rows(rows: Sequence[Row], fmt: str, columns: Sequence[str] | None = None) -> None:
    columns = list(columns or (rows[0].keys() if rows else []))
    if fmt == "json":
        click.echo(to_json(rows, columns))
    elif fmt == "jsonl":
        click.echo(to_jsonl(rows, columns), nl=False)
    elif fmt == "csv":
        click.echo(to_csv(rows, columns), nl=False)
    elif not rows:
        click.echo("(none)")
    else:
        click.echo(tabulate([[_cell(r.get(c)) for c in columns] for r in rows], headers=columns))


def write_text(text: str, output: str | None) -> None:
    """``text`` to the file ``output``, or to standard output."""
    if output:
        with open(output, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    else:
        click.echo(text, nl=False)


def _cell(value: object, width: int = 60) -> str:
    if value is None:
        return ""
    text = str(value).replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"
