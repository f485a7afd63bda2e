"""``scanner analyse``, ``scanner signals …`` and ``scanner export …`` (the signals engine)."""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Any

import click

from scanner.analysis.tags import tag_label
from scanner.cli import App, cli
from scanner.cli.output import echo_rows
from scanner.clock import as_of_datetime, now_utc
from scanner.errors import UsageError
from scanner.lock import hold_lock

STATES = ("weak", "strong", "latent", "established", "new", "fading")
STATE_ORDER = {s: k for k, s in enumerate(("new", "weak", "strong", "latent", "established", "fading"))}


@cli.command("analyse")
@click.option("--as-of", "as_of", default=None, metavar="DATE",
              help="Behave as if today were DATE: only items published by then; weeks counted from it.")
@click.pass_obj
def analyse_cmd(app: App, as_of: str | None) -> None:
    """Relevance, embeddings, clustering, tracking and scores for everything new."""
    from scanner.analysis.analyse import analyse

    config = app.config
    try:
        now = as_of_datetime(as_of, config.settings.timezone) if as_of else now_utc()
    except ValueError:
        raise click.BadParameter(f"{as_of!r} is not a date (YYYY-MM-DD)", param_hint="--as-of") from None
    with hold_lock(app.db_path, "scanner analyse"), app.open_store() as store:
        result = analyse(config, store, now, progress=sys.stderr.isatty())
    for line in result.lines:
        click.echo(line)


def _keywords_text(keywords: dict[str, Any], n: int = 5) -> str:
    return ", ".join(keywords.get("all", [])[:n])


def _tags_text(tags: dict[str, Any]) -> str:
    return ", ".join(tag_label(t) for group in tags.values() for t in group)


@cli.group("signals", invoke_without_command=True)
@click.option("--state", type=click.Choice(STATES), default=None, help="Only signals in this state.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--all", "show_all", is_flag=True, help="Also list faded and merged signals.")
@click.pass_context
def signals_group(ctx: click.Context, state: str | None, fmt: str, show_all: bool) -> None:
    """List signals (newest and weakest first); show, merge or rename one."""
    if ctx.invoked_subcommand is not None:
        return
    from scanner.store.signals import signals_export

    app: App = ctx.obj
    with app.open_store() as store:
        rows = signals_export(store, state=state, include_merged=show_all, with_members=fmt == "json")
        counts = dict(store.db.execute("SELECT signal_id, COUNT(*) FROM signal_items GROUP BY signal_id"))
    if not show_all:
        rows = [r for r in rows if r["status"] == "active"]
    rows.sort(key=lambda r: (STATE_ORDER.get(r["state"], 9), -counts.get(r["id"], 0), r["id"]))
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = []
    for r in rows:
        table.append({
            "id": r["id"], "state": r["state"], "items": counts.get(r["id"], 0),
            "last_seen": r["last_seen"], "title": r["title"], "keywords": _keywords_text(r["keywords"]),
        })
    echo_rows(table, "table", ["id", "state", "items", "last_seen", "title", "keywords"])


@signals_group.command("show")
@click.argument("signal_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def signals_show(app: App, signal_id: int, fmt: str) -> None:
    """One signal: label, keywords, weekly history, members and events."""
    from scanner.store.signals import signal_events, signals_export

    with app.open_store() as store:
        rows = signals_export(store, ids=[signal_id])
        if not rows:
            raise UsageError(f"no signal with id {signal_id} (list them with `scanner signals --all`)")
        sig = rows[0]
        sig["events"] = signal_events(store, signal_id)
    if fmt == "json":
        click.echo(json.dumps(sig, ensure_ascii=False, indent=2))
        return
    click.echo(f"signal {sig['id']}: {sig['title']}")
    if sig["custom_title"]:
        click.echo(f"  automatic title: {sig['auto_title']}")
    status = sig["status"] + (f" into {sig['merged_into']}" if sig["merged_into"] else "")
    click.echo(f"  state: {sig['state']} ({status}); first seen {sig['first_seen']}, last seen {sig['last_seen']}")
    kw = sig["keywords"]
    click.echo(f"  keywords (th): {', '.join(kw.get('th', []))}")
    click.echo(f"  keywords (en): {', '.join(kw.get('en', []))}")
    click.echo(f"  topics: {', '.join(sig['topics']) or '-'}")
    for group, tags in sig["tags"].items():
        click.echo(f"  {group}: {', '.join(tag_label(t) for t in tags) or '-'}")
    click.echo("")
    click.echo("weekly history:")
    echo_rows(sig["weeks"], "table", ["week", "items", "stories", "sources", "dov", "dod", "dov_growth", "dod_growth",
                                      "state"])
    click.echo("")
    click.echo(f"members ({len(sig['items'])}):")
    echo_rows([{"id": m["id"], "published": (m["published"] or "")[:10], "lang": m["lang"],
                "similarity": m["similarity"], "title": m["title"]} for m in sig["items"]], "table")
    click.echo("")
    click.echo("events:")
    echo_rows([{"week": e["week"], "event": e["event"], "detail": json.dumps(e["detail"], ensure_ascii=False)}
               for e in sig["events"]], "table")


@cli.group("export")
def export_group() -> None:
    """Export signals or items for other tools."""


def _write(text: str, output: str | None) -> None:
    if output:
        with open(output, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    else:
        click.echo(text, nl=False)


@export_group.command("signals")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--all", "show_all", is_flag=True, help="Also export merged signals.")
@click.option("-o", "--output", default=None, metavar="FILE", help="Write to FILE instead of standard output.")
@click.pass_obj
def export_signals(app: App, fmt: str, show_all: bool, output: str | None) -> None:
    """Every signal with keywords, tags, weekly scores and member items (JSON), or one row each (CSV)."""
    from scanner.store.signals import signals_export

    with app.open_store() as store:
        rows = signals_export(store, include_merged=show_all)
    if fmt == "json":
        _write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n", output)
        return
    columns = ["id", "title", "state", "status", "first_seen", "last_seen", "items", "keywords_th", "keywords_en",
               "topics", "tags", "merged_into", "item_ids"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    for r in rows:
        writer.writerow({
            "id": r["id"], "title": r["title"], "state": r["state"], "status": r["status"],
            "first_seen": r["first_seen"], "last_seen": r["last_seen"], "items": len(r["items"]),
            "keywords_th": " ".join(r["keywords"].get("th", [])), "keywords_en": " ".join(r["keywords"].get("en", [])),
            "topics": " ".join(r["topics"]), "tags": " ".join(t for group in r["tags"].values() for t in group),
            "merged_into": r["merged_into"] if r["merged_into"] is not None else "",
            "item_ids": " ".join(str(m["id"]) for m in r["items"]),
        })
    _write(buf.getvalue(), output)


@export_group.command("items")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--relevant", "relevant_only", is_flag=True, help="Only items judged relevant.")
@click.option("-o", "--output", default=None, metavar="FILE", help="Write to FILE instead of standard output.")
@click.pass_obj
def export_items(app: App, fmt: str, relevant_only: bool, output: str | None) -> None:
    """Items with their relevance, topics, story and signal."""
    from scanner.store.signals import items_export

    with app.open_store() as store:
        rows = items_export(store, relevant_only=relevant_only)
    columns = ["id", "url", "title", "published", "lang", "source_id", "relevance", "relevant", "topics",
               "signal_id", "story_id", "duplicate_of"]
    if fmt == "jsonl":
        _write("".join(json.dumps({c: r[c] for c in columns}, ensure_ascii=False) + "\n" for r in rows), output)
        return
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    for r in rows:
        writer.writerow({**{c: r[c] for c in columns}, "topics": " ".join(r["topics"]),
                         "relevant": "" if r["relevant"] is None else int(r["relevant"])})
    _write(buf.getvalue(), output)
