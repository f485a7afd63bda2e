"""``scanner serve``: the lab's browser workspace over the same database (``scanner.web``)."""

from __future__ import annotations

import click

from scanner.cli import App, cli


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; any other than loopback needs --allow-remote and an admin account.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback --host (put an HTTPS reverse proxy in "
              "front: docs/workspace.md).")
@click.pass_obj
def serve_cmd(app: App, host: str, port: int, allow_remote: bool) -> None:
    """Serve the workspace: this week, signals, items, sources, digests; verdicts, ratings and merges by role.

    It runs beside `scanner schedule`: it never takes the database lock, and every change is one short
    transaction (see scanner/lock.py). Accounts: `scanner users add NAME --role ROLE`.
    """
    from scanner.web.app import serve

    serve(app.config, app.db_path, host, port, allow_remote, on_start=click.echo)
