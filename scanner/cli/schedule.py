"""``scanner schedule``: the long-running job (see ``scanner.schedule`` and docs/scheduling.md)."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

import click

from scanner.cli import App, cli
from scanner.lock import hold_lock
from scanner.schedule import ScheduleOptions, Scheduler

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_DATE = "%Y-%m-%d %H:%M:%S%z"


def setup_schedule_logging(verbose: int, log_file: Path | None, max_bytes: int, backups: int) -> None:
    """Job summaries (INFO from ``scanner.schedule``) always; more with -v; a rotating file if asked."""
    formatter = logging.Formatter(LOG_FORMAT, LOG_DATE)
    root = logging.getLogger("scanner")
    for h in root.handlers:
        h.setFormatter(formatter)
    handlers = list(root.handlers)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        fh = logging.handlers.RotatingFileHandler(log_file, maxBytes=max_bytes, backupCount=backups,
                                                  encoding="utf-8")
        fh.setFormatter(formatter)
        root.addHandler(fh)
        handlers.append(fh)
    logging.getLogger("scanner.schedule").setLevel(logging.INFO if verbose < 2 else logging.DEBUG)
    aps = logging.getLogger("apscheduler")
    aps.setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
    aps.propagate = False
    for h in handlers:
        aps.addHandler(h)
    if verbose < 2:
        logging.getLogger("apscheduler.scheduler").addFilter(drop_busy_skips)


def drop_busy_skips(record: logging.LogRecord) -> bool:
    """A job still waiting for the worker is not queued twice: expected, so not a warning (-vv shows it)."""
    return "maximum number of running instances reached" not in record.getMessage()


@cli.command("schedule")
@click.option("--stop-timeout", default=60.0, show_default=True, metavar="SECONDS",
              help="On SIGTERM/SIGINT, wait this long for the running job before exiting anyway.")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also log to this file, rotated by size.")
@click.option("--log-max-bytes", default=10_000_000, show_default=True, help="Rotate the log file at this size.")
@click.option("--log-backups", default=5, show_default=True, help="Rotated log files to keep.")
@click.option("--heartbeat", "heartbeat", default=60.0, show_default=True, metavar="SECONDS",
              help="How often the heartbeat row (scanner status) is written.")
@click.option("--watch", default=5.0, show_default=True, metavar="SECONDS",
              help="How often to check sources.yaml for changes (0: reload on SIGHUP only).")
@click.option("--debounce", default=30.0, show_default=True, metavar="SECONDS",
              help="Analyse this long after the last fetch that brought new items (one run per burst).")
@click.option("--no-catch-up", is_flag=True, help="Do not fetch overdue sources or write a missed digest on start.")
@click.pass_obj
def schedule_cmd(app: App, stop_timeout: float, log_file: Path | None, log_max_bytes: int, log_backups: int,
                 heartbeat: float, watch: float, debounce: float, no_catch_up: bool) -> None:
    """Run unattended: fetch each source at its `every`, analyse after fetching, write the weekly digest.

    Runs in the foreground until SIGTERM or Ctrl-C (the running job finishes first, within
    --stop-timeout). SIGHUP, or saving sources.yaml, reloads the sources; an invalid file is
    logged and the previous configuration stays in force. One process per database: a second
    `scanner schedule` or `scanner run` exits with code 4.

    Exit codes: 0 stopped cleanly, 1 stopped while a job was still running, 2 configuration
    error, 4 the database is in use by another scanner process.
    """
    config = app.config
    if heartbeat <= 0 or stop_timeout < 0 or watch < 0 or debounce < 0:
        raise click.BadParameter("--heartbeat must be > 0; --stop-timeout, --watch and --debounce >= 0")
    setup_schedule_logging(app.verbose, log_file, log_max_bytes, log_backups)
    options = ScheduleOptions(stop_timeout=stop_timeout, heartbeat=heartbeat, watch=watch, debounce=debounce,
                              max_wait=max(600.0, debounce), catch_up=not no_catch_up)
    with hold_lock(app.db_path, "scanner schedule"):
        store = app.open_store()
        scheduler = Scheduler(config, store, options, config_path=app.config_path)
        clean = scheduler.serve(install_signals=True)
        if not clean:  # a job still runs on the worker thread: leave without closing its connection
            logging.shutdown()
            sys.stderr.flush()
            os._exit(1)
        store.close()
