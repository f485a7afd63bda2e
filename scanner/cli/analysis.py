"""``scanner analyse``, ``scanner signals …`` and ``scanner export …`` (the signals engine)."""

from __future__ import annotations

import json
import sys

import click

from scanner.analysis.score import STATES
from scanner.cli import App, AsOf, as_of_option, cli
from scanner.cli.output import echo_rows, write_text
from scanner.errors import UsageError
from scanner.export import (
    SIGNAL_TABLE_COLUMNS,
    TREND_TABLE_COLUMNS,
    event_rows,
    export_items,
    export_items_xlsx,
    export_signals,
    export_signals_ftss,
    export_signals_xlsx,
    export_trends,
    list_signals,
    list_trends,
    member_rows,
    show_signal,
    show_trend,
    signal_table,
    signal_text,
    to_json,
    to_json_object,
    trend_table,
    trend_text,
    week_rows,
)
from scanner.lock import hold_lock
from scanner.store.exports import WEEK_COLUMNS


@cli.command("analyse")
@as_of_option("Behave as if now were DATE: only items published by then; weeks counted from it.")
@click.option("--from", "first", default=None, metavar="YYYY-Www",
              help="Replay week by week from this week (with --to).")
@click.option("--to", "last", default=None, metavar="YYYY-Www", help="Replay up to this week (with --from).")
@click.pass_obj
def analyse_cmd(app: App, as_of: AsOf, first: str | None, last: str | None) -> None:
    """Relevance, embeddings, clustering, tracking and scores over the analysis window.

    The window is the last analysis.window_weeks ISO weeks up to now (or --as-of); items published
    before it keep their relevance decision and signal. With --from and --to, every week of the
    range is analysed in turn as of its end, as a scanner running through those weeks would have:
    the way to analyse an imported archive.
    """
    from scanner.analysis.analyse import analyse
    from scanner.analysis.replay import replay

    if (first is None) != (last is None):
        raise click.UsageError("--from and --to go together: give both weeks, e.g. --from 2025-W01 --to 2025-W20")
    now = app.now(as_of)
    with hold_lock(app.db_path, "scanner analyse"), app.open_store() as store:
        if first and last:
            results = replay(app.config, store, first, last, now, progress=sys.stderr.isatty(),
                             on_week=lambda r: click.echo(r.lines[0] if r.lines else r.week))
            click.echo(f"replayed {len(results)} weeks with items, {first} … {last}")
            return
        result = analyse(app.config, store, now, progress=sys.stderr.isatty())
    for line in result.lines:
        click.echo(line)


@cli.group("signals", invoke_without_command=True)
@click.option("--state", type=click.Choice(STATES), default=None, help="Only signals in this state.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--all", "show_all", is_flag=True, help="Also list faded and merged signals.")
@click.pass_context
def signals_group(ctx: click.Context, state: str | None, fmt: str, show_all: bool) -> None:
    """List signals (newest and weakest first); show, merge or rename one."""
    if ctx.invoked_subcommand is not None:
        return
    app: App = ctx.obj
    with app.open_store(readonly=True) as store:
        records = list_signals(store, state=state, show_all=show_all, with_members=fmt == "json")
        table = signal_table(store, records)
    if fmt == "json":
        click.echo(to_json(records))
    else:
        echo_rows(table, "table", SIGNAL_TABLE_COLUMNS)


@signals_group.command("show")
@click.argument("signal_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def signals_show(app: App, signal_id: int, fmt: str) -> None:
    """One signal: label, keywords, weekly history, members and events."""
    with app.open_store(readonly=True) as store:
        found = show_signal(store, signal_id)
    if found is None:
        raise UsageError(f"no signal with id {signal_id} (list them with `scanner signals --all`)")
    record, events = found
    if fmt == "json":
        click.echo(to_json_object({**record, "events": events}))
        return
    click.echo("\n".join(signal_text(record)))
    click.echo("\nweekly history:")
    echo_rows(week_rows(record), "table", WEEK_COLUMNS)
    click.echo(f"\nmembers ({len(record['items'])}):")
    echo_rows(member_rows(record), "table")
    click.echo("\nevents:")
    echo_rows(event_rows(events), "table")


@cli.group("trends", invoke_without_command=True)
@click.option("--state", type=click.Choice(STATES), default=None, help="Only trends in this state.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--all", "show_all", is_flag=True, help="Also list faded trends.")
@click.pass_context
def trends_group(ctx: click.Context, state: str | None, fmt: str, show_all: bool) -> None:
    """List trends (groups of signals on one matter); show one, move a signal to one, rename one."""
    if ctx.invoked_subcommand is not None:
        return
    app: App = ctx.obj
    with app.open_store(readonly=True) as store:
        records = list_trends(store, state=state, show_all=show_all)
    if fmt == "json":
        click.echo(to_json(records))
    else:
        echo_rows(trend_table(records), "table", TREND_TABLE_COLUMNS)


@trends_group.command("show")
@click.argument("trend_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def trends_show(app: App, trend_id: int, fmt: str) -> None:
    """One trend: name, keywords, state, its signals and events."""
    from scanner.store.exports import signal_item_counts

    with app.open_store(readonly=True) as store:
        found = show_trend(store, trend_id)
        counts = signal_item_counts(store)
    if found is None:
        raise UsageError(f"no trend with id {trend_id} (list them with `scanner trends --all`)")
    record, signals, events = found
    if fmt == "json":
        click.echo(to_json_object({**record, "events": events}))
        return
    click.echo("\n".join(trend_text(record, signals, counts)))
    click.echo("\nevents:")
    echo_rows([{"week": e["week"], "event": e["event"], "by": e["by"],
                "detail": json.dumps(e["detail"], ensure_ascii=False)} for e in events], "table")


@cli.group("export")
def export_group() -> None:
    """Export signals or items for other tools."""


OUTPUT = click.option("-o", "--output", default=None, metavar="FILE", help="Write to FILE instead of standard output.")
EXCEL = click.option("--excel", is_flag=True, help="CSV for Excel: a UTF-8 byte-order mark so Thai opens correctly, "
                     "and text that looks like a formula kept as text.")


def _spreadsheet_args(fmt: str, output: str | None, excel: bool) -> None:
    if excel and fmt != "csv":
        raise UsageError("--excel goes with --format csv (an xlsx workbook is always read correctly by Excel)")
    if fmt == "xlsx" and not output:
        raise UsageError("an xlsx workbook is a file: give --output FILE.xlsx")


@export_group.command("signals")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx", "ftss"]), default="json",
              show_default=True)
@click.option("--all", "show_all", is_flag=True, help="Also export merged signals.")
@click.option("--verdict", type=click.Choice(["keep", "watch", "all"]), default=None,
              help="With --format ftss: the signals with this analysts' verdict (default keep; all: every signal).")
@OUTPUT
@EXCEL
@click.pass_obj
def export_signals_cmd(app: App, fmt: str, show_all: bool, verdict: str | None, output: str | None,
                       excel: bool) -> None:
    """Every signal with keywords, tags, weekly scores and member items (JSON), or one row each (CSV, or
    an Excel workbook with --format xlsx --output FILE.xlsx).

    --format ftss: the signals analysts kept, as the JSON bodies UNDP's Future Trends and Signals
    System takes (what `scanner publish ftss` sends).
    """
    _spreadsheet_args(fmt, output, excel)
    if verdict is not None and fmt != "ftss":
        raise UsageError("--verdict goes with --format ftss")
    if fmt == "ftss":
        with app.open_store(readonly=True) as store:
            write_text(export_signals_ftss(store, app.config, verdict or "keep"), output)
        return
    with app.open_store(readonly=True) as store:
        if fmt == "xlsx" and output:
            n = export_signals_xlsx(store, output, app.config.settings.timezone, include_merged=show_all)
            click.echo(f"wrote {n} signals to {output}")
            return
        write_text(export_signals(store, fmt, include_merged=show_all, excel=excel), output)


@export_group.command("trends")
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True)
@OUTPUT
@click.pass_obj
def export_trends_cmd(app: App, fmt: str, output: str | None) -> None:
    """Every trend with its id, name, state, signal ids and item count (JSON)."""
    with app.open_store(readonly=True) as store:
        write_text(export_trends(store), output)


@export_group.command("items")
@OUTPUT
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "xlsx"]), default="jsonl", show_default=True)
@click.option("--relevant", "relevant_only", is_flag=True, help="Only items judged relevant.")
@EXCEL
@click.pass_obj
def export_items_cmd(app: App, fmt: str, relevant_only: bool, output: str | None, excel: bool) -> None:
    """Items with their relevance, topics, story, signal and novelty.

    --format xlsx --output FILE.xlsx writes an Excel workbook: header frozen, links clickable, dates
    as dates in settings.timezone.
    """
    _spreadsheet_args(fmt, output, excel)
    with app.open_store(readonly=True) as store:
        if fmt == "xlsx" and output:
            n = export_items_xlsx(store, output, app.config.settings.timezone, relevant_only=relevant_only)
            click.echo(f"wrote {n} items to {output}")
            return
        write_text(export_items(store, fmt, relevant_only=relevant_only, excel=excel), output)
