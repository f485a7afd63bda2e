"""``scanner fetch``, ``scanner items``, ``scanner status`` and ``scanner run``."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import datetime

import click
from tqdm import tqdm

from scanner.cli import App, AsOf, as_of_option, cli
from scanner.cli.output import echo_rows
from scanner.clock import day_start, iso, now_utc
from scanner.export import item_rows
from scanner.lock import hold_lock
from scanner.models import FetchRun
from scanner.pipeline import fetch_due, run_once
from scanner.status import (
    delivery_lines,
    delivery_status,
    failed_deliveries,
    scheduler_json,
    scheduler_lines,
    scheduler_status,
    source_status,
    status_table,
)


def summary_line(run: FetchRun) -> str:
    return (f"fetched {len(run.results)} sources: {run.ok} ok, {run.failed} failed; "
            f"{run.items_new} new items, {run.items_updated} updated")


@cli.command("fetch")
@click.option("--source", "source_ids", multiple=True, metavar="ID", help="Fetch this source (repeatable).")
@click.option("--all", "all_sources", is_flag=True, help="Fetch every enabled source, due or not.")
@as_of_option("Behave as if now were DATE.")
@click.pass_obj
def fetch_cmd(app: App, source_ids: tuple[str, ...], all_sources: bool, as_of: AsOf) -> None:
    """Fetch the sources that are due (or the named ones, or --all) and store new items.

    Exit code: 0 all ok, 1 some failed, 2 usage or config error, 3 all failed.
    """
    config = app.config
    for source_id in source_ids:  # an unknown id is a ConfigError (exit code 2) before anything is written
        config.source(source_id)
    now = app.now(as_of)
    with hold_lock(app.db_path, "scanner fetch"), app.open_store() as store, \
            tqdm(unit="source", disable=not sys.stderr.isatty(), leave=False) as bar:
        run = fetch_due(config, store, now, source_ids, all_sources, on_result=lambda r: bar.update(1))
    for r in run.results:
        if r.status == "failed":
            click.echo(f"  {r.source_id}: FAILED: {r.error}", err=True)
        for w in r.warnings:
            click.echo(f"  {r.source_id}: warning: {w}", err=True)
    if not run.results:
        click.echo("no sources are due (use --all to fetch every source now)")
    else:
        click.echo(summary_line(run))
    sys.exit(run.exit_code)


@cli.group("items", invoke_without_command=True)
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, metavar="DATE",
              help="Published on or after DATE (YYYY-MM-DD, in settings.timezone).")
@click.option("--source", "source_ids", multiple=True, metavar="ID", help="Only from this source (repeatable).")
@click.option("--search", default=None, metavar="TEXT", help="Full-text search (Thai and English words).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--limit", default=50, show_default=True, help="At most this many items (0: all).")
@click.option("--relevance", type=click.Choice(["relevant", "not_relevant", "unscored"]), default=None,
              help="Only items with this stored relevance decision (an analyst's mark included).")
@click.option("--explain", "explain_id", type=int, default=None, metavar="ID",
              help="Show why item ID is or is not relevant (score, topics, keyword hits) instead of listing.")
@click.pass_context
def items_group(ctx: click.Context, since: datetime | None, source_ids: tuple[str, ...], search: str | None,
                fmt: str, limit: int, relevance: str | None, explain_id: int | None) -> None:
    """List stored items, newest first; mark one relevant or not, or move it to a signal."""
    if ctx.invoked_subcommand is not None:
        return
    app: App = ctx.obj
    if explain_id is not None:
        explain_cmd(app, explain_id, fmt)
        return
    tz = app.config.settings.timezone
    with app.open_store(readonly=True) as store:
        items = store.items(since=iso(day_start(since.date(), tz)) if since else None, source_ids=source_ids,
                            search=search, limit=limit or None, relevance=relevance or "")
    echo_rows(item_rows(items, tz, table=fmt == "table"), fmt)


def explain_cmd(app: App, item_id: int, fmt: str) -> None:
    from scanner.analysis.embed import get_embedder
    from scanner.analysis.relevance import explain_item, format_explanation

    if fmt not in ("table", "json"):
        raise click.UsageError("--explain prints a table or json: use --format table or --format json")
    with app.open_store(readonly=True) as store:
        result = explain_item(store, app.config, get_embedder(app.config.analysis, app.config.base_dir), item_id)
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        click.echo(format_explanation(result))


@cli.command("status")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--scheduler", "scheduler_only", is_flag=True,
              help="Only the scheduled job's heartbeat; exit code 0 when it looks alive, 1 when not.")
@click.option("--deliveries", "deliveries_only", is_flag=True,
              help="Only the digest's deliveries of the last four weeks; exit code 1 while one that the next "
                   "run tries again (the last complete week's) has failed, else 0.")
@click.pass_obj
def status_cmd(app: App, fmt: str, scheduler_only: bool, deliveries_only: bool) -> None:
    """Health of every source: last success, last error, failures in a row, items, next due.

    Then the digest's deliveries of the last weeks (delivered, or failed and tried again on the
    next run), and the heartbeat of `scanner schedule`: started, last job, next runs, alive. Reads
    the database only. `--format json` gives the sources; `--deliveries` or `--scheduler` (with
    either format) gives that part alone, with an exit code for monitoring.
    """
    config = app.config
    tz = config.settings.timezone
    if scheduler_only and deliveries_only:
        raise click.UsageError("--scheduler and --deliveries each print one part: give one of them")
    if deliveries_only:
        with app.open_store(readonly=True) as store:
            rows = delivery_status(store)
            failed = failed_deliveries(config, store, now_utc())
        click.echo(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2) if fmt == "json"
                   else "\n".join(delivery_lines(config, rows, tz) or ["deliveries: none"]))
        sys.exit(1 if failed else 0)
    with app.open_store(readonly=True) as store:
        sources = [] if scheduler_only else source_status(config, store)
        deliveries = [] if scheduler_only else delivery_status(store)
        scheduler = scheduler_status(store, now_utc(), tz)
    if scheduler_only:
        click.echo(json.dumps(scheduler_json(scheduler), ensure_ascii=False, indent=2) if fmt == "json"
                   else "\n".join(scheduler_lines(scheduler, tz)))
        sys.exit(0 if scheduler.alive else 1)
    echo_rows(status_table(sources) if fmt == "table" else [asdict(r) for r in sources], fmt)
    if fmt == "table":
        for block in (delivery_lines(config, deliveries, tz), scheduler_lines(scheduler, tz)):
            if block:
                click.echo("")
                click.echo("\n".join(block))


@cli.command("run")
@click.option("--once", is_flag=True, help="Run everything that is due once, then exit (cron-friendly).")
@as_of_option("Behave as if now were DATE (back-fills).")
@click.pass_obj
def run_cmd(app: App, once: bool, as_of: AsOf) -> None:
    """Fetch what is due, then analyse and write the digest when due."""
    if not once:
        raise click.UsageError("use `scanner run --once` (for a long-running job use `scanner schedule`)")
    config = app.config
    now = app.now(as_of)
    with hold_lock(app.db_path, "scanner run --once"), app.open_store() as store:
        summary = run_once(config, store, now, progress=sys.stderr.isatty())
    for line in summary.lines:
        click.echo(line)
    sys.exit(summary.exit_code)

