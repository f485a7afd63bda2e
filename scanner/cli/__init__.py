"""The ``scanner`` command line: parse → call one stage → print. No pipeline logic lives here.

Command groups live in sibling modules (``cli/collect.py``, ...) and register themselves on ``cli``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from scanner import __version__
from scanner.clock import as_of_datetime, now_utc
from scanner.config import Config, load_config
from scanner.errors import ConfigError, ScannerError
from scanner.store import Store

F = TypeVar("F", bound=Callable[..., Any])


AsOf = date | datetime | None


if TYPE_CHECKING:  # click's ParamType is generic from 8.5 on; at run time any click 8 works
    _ParamType = click.ParamType[date | datetime, object]
else:
    _ParamType = click.ParamType


class AsOfType(_ParamType):
    """``--as-of DATE``: ``YYYY-MM-DD`` (the end of that day) or ``YYYY-MM-DDTHH:MM`` (that moment), in
    ``settings.timezone``. The same type for every command, so a bad date is always a usage error."""

    name = "DATE"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> date | datetime:
        if isinstance(value, (date, datetime)):
            return value
        text = str(value).strip()
        try:
            return datetime.fromisoformat(text) if len(text) > 10 else date.fromisoformat(text)
        except ValueError:
            self.fail(f"{text!r} is not a date: write YYYY-MM-DD, or YYYY-MM-DDTHH:MM for a time of day", param, ctx)


def as_of_option(help: str) -> Callable[[F], F]:
    """The ``--as-of`` option of ``fetch``, ``run``, ``analyse`` and ``digest``."""
    return click.option("--as-of", "as_of", type=AsOfType(), default=None, help=help)


@dataclass
class App:
    """Per-invocation state shared by commands: where the config and database are."""

    config_path: Path
    db_override: str | None
    verbose: int = 0
    _config: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def db_path(self) -> Path:
        return Path(self.db_override) if self.db_override else self.config.db_path

    def now(self, as_of: AsOf) -> datetime:
        """The run's "now": ``--as-of`` read in ``settings.timezone``, or the current time."""
        return as_of_datetime(as_of, self.config.settings.timezone) if as_of is not None else now_utc()

    def open_store(self, readonly: bool = False) -> Store:
        return Store.open(self.db_path, readonly=readonly)


class ScannerGroup(click.Group):
    """Turns ``ScannerError`` into ``Error: …`` on stderr and the error's exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as e:
            for problem in e.problems:
                click.echo(f"Error: {problem}", err=True)
            ctx.exit(e.exit_code)
        except ScannerError as e:
            click.echo(f"Error: {e}", err=True)
            ctx.exit(e.exit_code)


def setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger("scanner")
    for h in list(root.handlers):
        if not isinstance(h, logging.NullHandler):
            root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level)


@click.group(cls=ScannerGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_path", envvar="SCANNER_CONFIG", default="sources.yaml", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="The sources file (env SCANNER_CONFIG).")
@click.option("--db", "db", envvar="SCANNER_DB", default=None,
              help="The database (env SCANNER_DB; default: settings.db in the sources file).")
@click.option("-v", "--verbose", count=True, help="-v: info, -vv: debug logging on stderr.")
@click.version_option(__version__, prog_name="scanner")
@click.pass_context
def cli(ctx: click.Context, config_path: Path, db: str | None, verbose: int) -> None:
    """Horizon scanning for Thai digital government: collect, make sense, report."""
    setup_logging(verbose)
    ctx.obj = App(config_path=config_path, db_override=db, verbose=verbose)


def main() -> None:
    cli(prog_name="scanner")


# Register command modules (import for their side effect of adding commands to ``cli``).
from scanner.cli import analysis as _analysis  # noqa: E402,F401
from scanner.cli import collect as _collect  # noqa: E402,F401
from scanner.cli import digest as _digest  # noqa: E402,F401
from scanner.cli import publish as _publish  # noqa: E402,F401
from scanner.cli import schedule as _schedule  # noqa: E402,F401
from scanner.cli import serve as _serve  # noqa: E402,F401
from scanner.cli import sources as _sources  # noqa: E402,F401
from scanner.cli import users as _users  # noqa: E402,F401
