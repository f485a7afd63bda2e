"""``scanner publish ftss``: send the signals analysts kept to UNDP's Future Trends and Signals System."""

from __future__ import annotations

import os

import click

from scanner.cli import App, cli
from scanner.errors import PublishError, UsageError
from scanner.export import to_json
from scanner.lock import hold_lock
from scanner.normalize import http_url


@cli.group("publish")
def publish_group() -> None:
    """Publish curated signals to other systems (UNDP's FTSS)."""


@publish_group.command("ftss")
@click.option("--url", "base_url", required=True, metavar="BASE",
              help="The FTSS API address: signals are sent to BASE/signals.")
@click.option("--token-env", default="FTSS_TOKEN", show_default=True, metavar="NAME",
              help="The environment variable holding the FTSS access token (sent as the access_token "
                   "header; never printed, logged or stored).")
@click.option("--verdict", type=click.Choice(["keep", "watch", "all"]), default="keep", show_default=True,
              help="Which signals: those with this analysts' verdict (all: every signal).")
@click.option("--dry-run", is_flag=True, help="Print the requests that would be sent, and send nothing.")
@click.pass_obj
def publish_ftss_cmd(app: App, base_url: str, token_env: str, verdict: str, dry_run: bool) -> None:
    """Send the signals analysts kept to FTSS, as drafts.

    A signal is created once (POST BASE/signals) and FTSS's id is stored; publishing it again
    updates it (PUT BASE/signals/ID), keeping the status FTSS gave it. Failures are retried with
    back-off (429, 5xx, lost connections; a create only after 429, 503 or a connection that never
    opened, so no signal is made twice); a rejected signal is named with the fields FTSS
    rejected, and the others are still sent. The address must be public, or listed in
    settings.allow_hosts.
    """
    from scanner.clock import now_utc
    from scanner.digest.prose import plural
    from scanner.ftss import build_payloads, publish_signals
    from scanner.http import HttpClient

    if http_url(base_url) is None:
        raise UsageError(f"--url {base_url!r} is not an http(s) address: give the FTSS API's, e.g. "
                         "https://ftss.example.org/api")
    base = base_url.rstrip("/")
    token = os.environ.get(token_env, "").strip()
    if not token and not dry_run:
        raise UsageError(f"no FTSS access token: set the environment variable {token_env} (or name another "
                         "one with --token-env), or try --dry-run")
    client = HttpClient.from_settings(app.config.settings)
    try:
        if dry_run:
            with app.open_store(readonly=True) as store:
                signals = build_payloads(store, app.config, verdict)
                results = publish_signals(store, client, base, "", signals, now_utc(), dry_run=True)
            click.echo(to_json([{"signal_id": r.signal_id, **r.request} for r in results]))
            click.echo(f"dry run: {plural(len(results), 'signal')} would be sent to {base}; nothing was sent", err=True)
            return
        with hold_lock(app.db_path, "scanner publish ftss"), app.open_store() as store:
            signals = build_payloads(store, app.config, verdict)
            results = publish_signals(store, client, base, token, signals, now_utc())
    finally:
        client.close()
    for r in results:
        if r.error:
            click.echo(f"failed: {r.error}", err=True)
        else:
            click.echo(f"signal {r.signal_id} “{r.name}”: {r.action} FTSS signal {r.remote_id}")
    failed = sum(1 for r in results if r.error)
    created = sum(1 for r in results if r.action == "created")
    click.echo(f"{base}: {created} created, {len(results) - created - failed} updated, {failed} failed")
    if failed:
        raise PublishError(f"{failed} of {len(results)} signals were not published: see above")
