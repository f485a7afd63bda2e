"""``scanner sources check|list|test|schema``."""

from __future__ import annotations

from collections import Counter
from zoneinfo import ZoneInfo

import click

from scanner.cli import App, cli
from scanner.cli.output import echo_rows
from scanner.collect import test_source
from scanner.config import schema_json
from scanner.export import source_list


@cli.group("sources")
def sources_group() -> None:
    """Check, list and try the sources in sources.yaml."""


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
