"""``scanner sources check|list|test|schema|discover|import|export``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from scanner.cli import App, cli
from scanner.cli.output import echo_rows
from scanner.collect import test_source
from scanner.config import Config, schema_json
from scanner.config.edit import render_source
from scanner.config.opml import export_opml, import_opml
from scanner.export import source_list
from scanner.sources.discover import discover_feeds


@cli.group("sources")
def sources_group() -> None:
    """Check, list and try the sources in sources.yaml; find feeds; import and export OPML."""


@sources_group.command("check")
@click.pass_obj
def sources_check(app: App) -> None:
    """Validate sources.yaml; list every problem with its line (exit code 2 on problems)."""
    config = app.config
    kinds = Counter(s.kind for s in config.sources)
    detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    enabled = sum(1 for s in config.sources if s.enabled)
    click.echo(f"{app.config_path}: OK, {len(config.sources)} sources ({detail}), {enabled} enabled, "
               f"{len(config.topics)} topics")


@sources_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_obj
def sources_list(app: App, fmt: str) -> None:
    """List the configured sources."""
    echo_rows(source_list(app.config), fmt)


@sources_group.command("test")
@click.argument("source_id")
@click.option("--limit", default=10, show_default=True, help="How many items to show.")
@click.pass_obj
def sources_test(app: App, source_id: str, limit: int) -> None:
    """Fetch one source now and print what it would store. Stores nothing."""
    config = app.config
    result = test_source(config, source_id)  # an unknown id is a ConfigError (exit code 2)
    tz = ZoneInfo(config.settings.timezone)
    for key, value in result.report.items():
        click.echo(f"{key}: {value}")
    if result.status == "failed":
        click.echo(f"{source_id}: FAILED: {result.error}")
        raise SystemExit(1)
    click.echo(f"{source_id}: {result.status}, HTTP {result.http_status or '-'}, {len(result.items)} items")
    for w in result.warnings:
        click.echo(f"  warning: {w}")
    for item in result.items[:limit]:
        date = (item.published.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") if item.published
                else "(no date: fetch time will be used)")
        click.echo(f"- {item.title}")
        click.echo(f"    date: {date}")
        click.echo(f"    url:  {item.url or '(none)'}")
        text = (item.content or item.summary).replace("\n", " ")
        if text:
            click.echo(f"    text: {text[:160]}{'…' if len(text) > 160 else ''} ({len(text)} chars)")
    if len(result.items) > limit:
        click.echo(f"… and {len(result.items) - limit} more")


@sources_group.command("schema")
def sources_schema() -> None:
    """Print the JSON Schema of sources.yaml (for editor validation)."""
    click.echo(schema_json())


@sources_group.command("discover")
@click.argument("url")
@click.pass_obj
def sources_discover(app: App, url: str) -> None:
    """Find the feeds a web page announces (else at /feed, /rss.xml, /atom.xml …) and print each as a
    ready sources.yaml entry with its title and item count. Fetches politely; changes nothing."""
    config = app.config if app.config_path.exists() else Config()  # settings (user agent, allow_hosts) and ids
    found = discover_feeds(url, config)  # a dead page, or no feed at all, is a FetchError (exit code 1)
    if found.page_is_feed:
        click.echo(f"# {found.url} is itself a feed ({found.feeds[0].format}):")
    elif found.tried:
        click.echo(f"# {found.url} announces no feed; {found.feeds[0].found_by} has one:")
    else:
        click.echo(f"# {found.url} announces {len(found.feeds)} feed{'s' if len(found.feeds) != 1 else ''}:")
    for feed in found.feeds:
        click.echo("")
        if feed.source is None:
            click.echo(f"# {feed.url}: FAILED: {feed.error}")
        elif feed.known_as:
            click.echo(f"# {feed.source.comment}\n# {feed.url}: already in {app.config_path.name} as {feed.known_as}")
        else:
            click.echo(render_source(feed.source))
    if found.announced_more:
        click.echo(f"\n# … and {found.announced_more} more announced feeds, not fetched")
    if not any(f.source for f in found.feeds):
        click.echo(f"Error: none of the feeds {found.url} announces could be read", err=True)
        raise SystemExit(1)


@sources_group.command("import")
@click.argument("opml_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Add this tag to every imported source (repeatable).")
@click.option("--dry-run", is_flag=True, help="Print the change to sources.yaml; write nothing.")
@click.pass_obj
def sources_import(app: App, opml_file: Path, tags: tuple[str, ...], dry_run: bool) -> None:
    """Append the feeds of a feed reader's OPML export to sources.yaml as rss sources (folders and
    categories become tags). Feeds already there (same canonical URL) are skipped; comments and order
    are kept; nothing is written unless the result passes `sources check`."""
    report = import_opml(app.config_path, opml_file, tags, dry_run=dry_run)
    for s in report.added:
        click.echo(f"{'would add' if dry_run else 'added'} {s.id}: {s.name} <{s.url}>"
                   + (f" [{', '.join(s.tags)}]" if s.tags else ""))
    for skip in report.skipped:
        click.echo(f"skipped {skip.title or skip.url} <{skip.url}>: {skip.reason}")
    if dry_run and report.diff:
        click.echo(report.diff, nl=False)
    if not report.layout_kept:
        click.echo("note: ruamel.yaml could not write this file's layout back exactly: indentation or spacing "
                   "outside the new entries changed (comments and order are kept); see `git diff`")
    verb = "would get" if dry_run else "got"
    click.echo(f"{app.config_path}: {verb} {len(report.added)} new sources, {len(report.skipped)} skipped"
               + ("; it passes `scanner sources check`" if report.added else "; not changed"))


@sources_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["opml"]), default="opml", show_default=True,
              help="Output format (OPML 2.0, what feed readers import).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (UTF-8) instead of standard output.")
@click.pass_obj
def sources_export(app: App, fmt: str, output: Path | None) -> None:
    """Write the rss sources as an OPML 2.0 file for a feed reader (tags as categories)."""
    text = export_opml(app.config_path)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{output}: {text.count('<outline ')} feeds")
