"""``scanner digest``, ``scanner review``, ``scanner signals merge|rename``, ``scanner trends move|rename`` and
``scanner items mark|move`` (the analyst's loop)."""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import asdict

import click

from scanner.cli import App, AsOf, as_of_option, cli
from scanner.cli.analysis import signals_group, trends_group
from scanner.cli.collect import items_group
from scanner.cli.output import echo_rows
from scanner.clock import now_utc
from scanner.errors import UsageError
from scanner.export import REVIEW_COLUMNS
from scanner.lock import hold_lock
from scanner.store.labels import mark_item, move_item
from scanner.store.reviews import VERDICTS, add_review, list_reviews, merge_signals, rename_signal, summarise_reviews
from scanner.store.signals import load_assignments
from scanner.store.trends import move_signal, rename_trend


@cli.command("digest")
@click.option("--week", default=None, metavar="YYYY-Www",
              help="The ISO week to write (default: the last complete week in settings.timezone).")
@click.option("--from", "first", default=None, metavar="YYYY-Www", help="Back-fill: first week (with --to).")
@click.option("--to", "last", default=None, metavar="YYYY-Www", help="Back-fill: last week (with --from).")
@as_of_option("Behave as if now were DATE.")
@click.option("--deliver", is_flag=True, help="Also send it through every channel of digest.deliver (e-mail, Teams, "
              "Slack, JSON webhooks), even those that delivered it before.")
@click.option("--email", "send_email", is_flag=True, help="Also e-mail it (needs an e-mail channel in digest.deliver).")
@click.option("--rebuild", is_flag=True, help="Build the week(s) again from the database as it is now, replacing "
              "the recorded digest.")
@click.pass_obj
def digest_cmd(app: App, week: str | None, first: str | None, last: str | None, as_of: AsOf,
               deliver: bool, send_email: bool, rebuild: bool) -> None:
    """Write the weekly digest (HTML, Markdown, JSON) into the reports folder, with index.html and feed.xml.

    A digest is a record: the first time a week is written its data is kept in the database, and
    writing that week again gives the same files, whatever was analysed, merged, renamed or reviewed
    since. --rebuild builds the week (or every week of --from/--to) again from the database as it
    is now, and replaces its record.

    Exit code 1 when the files were written but a channel failed to deliver them (the scheduled
    runs try it again).
    """
    from scanner.digest import write_requested

    config = app.config
    now = app.now(as_of)
    with hold_lock(app.db_path, "scanner digest"), app.open_store() as store:
        results = write_requested(config, store, now, week, first, last, send_email, rebuild, deliver)
    for r in results:
        for line in r.lines:
            click.echo(line)
    if len(results) > 1:
        click.echo(f"wrote {len(results)} digests into {config.reports_path}")
    sys.exit(max(r.exit_code for r in results))


def _default_analyst() -> str:
    name = os.environ.get("USER") or os.environ.get("USERNAME")
    if not name:
        try:
            name = getpass.getuser()
        except (OSError, KeyError):
            name = None
    return name or "analyst"


BY = click.option("--by", "by", default=None, metavar="NAME", help="Who it is (default: $USER, else 'analyst').")


@cli.command("review")
@click.argument("signal_id", type=int, required=False)
@click.option("--verdict", type=click.Choice(VERDICTS), default=None, help="keep, watch (always in the digest) "
              "or dismiss (left out unless it surges).")
@click.option("--note", default=None, metavar="TEXT", help="A note shown under the signal in later digests.")
@BY
@click.option("--list", "list_all", is_flag=True, help="List every review, oldest first.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_obj
def review_cmd(app: App, signal_id: int | None, verdict: str | None, note: str | None, by: str | None,
               list_all: bool, fmt: str) -> None:
    """Record an analyst's verdict on a signal, or list verdicts.

    \b
    scanner review 12 --verdict watch --note "ask DGA about the pilot"
    scanner review 12            # that signal's verdicts and their summary
    scanner review --list        # every verdict
    """
    if list_all:
        if verdict or note:
            raise UsageError("--list shows reviews; drop --verdict/--note, or drop --list to record one")
        with app.open_store(readonly=True) as store:
            rows = list_reviews(store, signal_id)
        echo_rows([asdict(r) for r in rows], fmt, REVIEW_COLUMNS)
        return
    if signal_id is None:
        raise UsageError("give a SIGNAL_ID (see `scanner signals`), or --list")
    if verdict is None:
        if note:
            raise UsageError("a note goes with a verdict: add --verdict keep|watch|dismiss")
        with app.open_store(readonly=True) as store:
            rows = list_reviews(store, signal_id)
        echo_rows([asdict(r) for r in rows], fmt, REVIEW_COLUMNS)
        if fmt == "table" and rows:
            click.echo(f"summary: {summarise_reviews(rows).text}")
        return
    with app.open_store() as store:
        row = add_review(store, signal_id, verdict, by or _default_analyst(), now_utc(), note)
        summary = summarise_reviews(list_reviews(store, row.signal_id))
    where = f"signal {row.signal_id}"
    if row.signal_id != signal_id:
        where += f" (signal {signal_id} was merged into it)"
    click.echo(f"recorded {verdict} by {row.by} on {where}; all verdicts: {summary.text}")


@signals_group.command("merge")
@click.argument("keep_id", type=int)
@click.argument("other_id", type=int)
@BY
@click.pass_obj
def merge_cmd(app: App, keep_id: int, other_id: int, by: str | None) -> None:
    """Merge signal OTHER_ID into KEEP_ID: its items move over and it is marked merged."""
    config = app.config
    with app.open_store() as store:
        result = merge_signals(store, keep_id, other_id, now_utc(), config.settings.timezone,
                               by=by or _default_analyst())
    click.echo(f"merged signal {other_id} into {keep_id}: {result.items_moved} items moved, "
               f"{result.weeks_recounted} weeks recounted")


@trends_group.command("move")
@click.argument("signal_id", type=int)
@click.argument("trend_id", type=int)
@BY
@click.pass_obj
def move_cmd(app: App, signal_id: int, trend_id: int, by: str | None) -> None:
    """Move signal SIGNAL_ID to trend TREND_ID; later analyses keep it there."""
    with app.open_store() as store:
        before = move_signal(store, signal_id, trend_id, now_utc(), app.config.settings.timezone,
                             by=by or _default_analyst())
    click.echo(f"moved signal {signal_id} to trend {trend_id}" + (f" (from trend {before})" if before else "") +
               "; it stays there in later analyses")


@trends_group.command("rename")
@click.argument("trend_id", type=int)
@click.argument("name")
@BY
@click.pass_obj
def rename_trend_cmd(app: App, trend_id: int, name: str, by: str | None) -> None:
    """Give a trend an analyst's name (kept over the automatic one)."""
    with app.open_store() as store:
        old = rename_trend(store, trend_id, name, now_utc(), app.config.settings.timezone, by=by or _default_analyst())
    click.echo(f"renamed trend {trend_id}: “{old}” → “{' '.join(name.split())}”")


@items_group.command("mark")
@click.argument("item_id", type=int)
@click.argument("value", type=click.Choice(["relevant", "not_relevant"]))
@BY
@click.pass_obj
def mark_item_cmd(app: App, item_id: int, value: str, by: str | None) -> None:
    """Mark an item relevant or not: the next `analyse` follows the mark and learns from it.

    \b
    scanner items mark 812 not_relevant --by somchai
    """
    with app.open_store() as store:
        mark_item(store, item_id, value == "relevant", now_utc(), by=by or _default_analyst())
    click.echo(f"marked item {item_id} {value.replace('_', ' ')}; the next `scanner analyse` follows it")


@items_group.command("move")
@click.argument("item_id", type=int)
@click.argument("to", metavar="SIGNAL_ID|out")
@BY
@click.pass_obj
def move_item_cmd(app: App, item_id: int, to: str, by: str | None) -> None:
    """Move an item into a signal (it also counts as relevant), or `out` of all signals; kept in later runs."""
    if to != "out" and not to.isdigit():
        raise UsageError(f"move an item to a signal id (see `scanner signals`) or to `out`, not {to!r}")
    target = None if to == "out" else int(to)
    with app.open_store() as store:
        old = move_item(store, item_id, target, now_utc(), app.config.settings.timezone, by=by or _default_analyst())
        now = load_assignments(store, [item_id]).get(item_id)
    was = "no signal" if old is None else f"signal {old}"
    click.echo(f"moved item {item_id} from {was} to {'no signal' if now is None else f'signal {now}'}; "
               "later analyses keep it there")


@signals_group.command("rename")
@click.argument("signal_id", type=int)
@click.argument("title")
@BY
@click.pass_obj
def rename_cmd(app: App, signal_id: int, title: str, by: str | None) -> None:
    """Give a signal an analyst's title (kept over the automatic one)."""
    config = app.config
    with app.open_store() as store:
        old = rename_signal(store, signal_id, title, now_utc(), config.settings.timezone, by=by or _default_analyst())
    click.echo(f"renamed signal {signal_id}: “{old}” → “{' '.join(title.split())}”")
