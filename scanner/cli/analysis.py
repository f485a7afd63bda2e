"""``scanner analyse``, ``scanner signals …`` and ``scanner export …`` (the signals engine)."""

from __future__ import annotations

import click

from scanner.cli import cli


@cli.group("signals", invoke_without_command=True)
@click.pass_context
def signals_group(ctx: click.Context) -> None:
    """List signals; show, merge or rename one."""


@cli.group("export")
def export_group() -> None:
    """Export signals or items for other tools."""
