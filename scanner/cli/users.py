"""``scanner users …``: the workspace's accounts (``scanner.accounts``)."""

from __future__ import annotations

import sys

import click

from scanner.accounts import ROLES, add_user, disable_user, issue_token, revoke_tokens, set_role
from scanner.cli import App, cli
from scanner.cli.digest import BY, _default_analyst
from scanner.cli.output import echo_rows
from scanner.clock import now_utc
from scanner.errors import UsageError
from scanner.store.users import list_users


@cli.group("users")
def users_group() -> None:
    """Workspace accounts: add, list, set-role, disable, token."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="admin (accounts, everything), curator (verdicts, rename, merge), contributor (rate, comment, "
                   "submit) or viewer (read).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input "
              "(otherwise it is prompted for, twice, without echo).")
@BY
@click.pass_obj
def users_add(app: App, name: str, role: str, password_stdin: bool, by: str | None) -> None:
    """Add an account; the password is stored only as its argon2 hash."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise UsageError("no password given")
    with app.open_store() as store:
        user = add_user(store, name, role, password, now_utc(), by or _default_analyst())
    click.echo(f"added {user.name} ({user.role})")


@users_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_obj
def users_list(app: App, fmt: str) -> None:
    """Every account with its role and whether it is disabled (never a password or token)."""
    with app.open_store() as store:
        rows = [{"name": u.name, "role": u.role, "disabled": u.disabled, "created_at": u.created_at[:16]}
                for u in list_users(store)]
    echo_rows(rows, fmt, ["name", "role", "disabled", "created_at"])


@users_group.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@BY
@click.pass_obj
def users_set_role(app: App, name: str, role: str, by: str | None) -> None:
    """Change an account's role."""
    with app.open_store() as store:
        user = set_role(store, name, role, now_utc(), by or _default_analyst())
    click.echo(f"{user.name} is now {user.role}")


@users_group.command("disable")
@click.argument("name")
@BY
@click.pass_obj
def users_disable(app: App, name: str, by: str | None) -> None:
    """Disable an account: its sessions end and its API tokens stop working at once."""
    with app.open_store() as store:
        user = disable_user(store, name, now_utc(), by or _default_analyst())
    click.echo(f"disabled {user.name}; its sessions and tokens no longer work")


@users_group.command("token")
@click.argument("name")
@click.option("--revoke", is_flag=True, help="Revoke every token of NAME instead of making one.")
@BY
@click.pass_obj
def users_token(app: App, name: str, revoke: bool, by: str | None) -> None:
    """Make an API token for NAME (Authorization: Bearer TOKEN on /api/…), shown once only."""
    with app.open_store() as store:
        if revoke:
            n = revoke_tokens(store, name, now_utc(), by or _default_analyst())
            click.echo(f"revoked {n} token(s) of {name}")
            return
        token = issue_token(store, name, now_utc(), by or _default_analyst())
    click.echo(token)
    click.echo("shown once: store it now (only its hash is kept); `scanner users disable` revokes it", err=True)
