"""The unattended job (``scanner schedule``): APScheduler 3.x wiring only.

Jobs (all run one at a time on a single worker thread, so SQLite only ever has one writer):

- ``fetch:<source id>``: one interval job per enabled source at its own ``every``. Each source's
  timetable starts at a random phase of up to 10 % of its interval (at most 5 minutes), so sources
  do not hit hosts at the same moment, and the interval itself does not drift. A source that keeps
  failing is backed off as in ``scanner fetch`` (the wait doubles per failure, at most a day).
- ``analyse``: after fetches that brought new or changed items, debounced: a burst of fetches
  gives one analysis, at most ``max_wait`` after the first request.
- ``digest``: the five-field cron ``digest.schedule`` in ``settings.timezone`` (standard cron
  weekdays, 0 and 7 are Sunday). Pending analysis runs first so the digest sees every item;
  retention (``settings.keep_bodies``) runs after it.
- ``deliver``: only while a channel of ``digest.deliver`` still owes the last complete week's
  digest (it failed): tries those channels again, 5 minutes after the failure, then 15, 45 … (at
  most 6 h apart), until they deliver or the week is no longer the last complete one.
- ``heartbeat``: writes the ``heartbeat`` row (``scanner status`` reads it).
- ``catch-up``: once at start: fetch the overdue sources, analyse, and write the last complete
  week's digest if the cron has fired since that week closed.

The pipeline stages are called through the seams in ``scanner.pipeline`` (injectable for tests).
"""

from __future__ import annotations

import logging
import os
import random
import select
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from scanner.clock import iso, last_complete_week, now_utc, week_end
from scanner.config import Config, SourceConfig, load_config
from scanner.cron import parse_cron
from scanner.due import is_due, next_due
from scanner.errors import ConfigError, ScannerError
from scanner.models import FetchRun
from scanner.pipeline import analyse_step, digest_step, fetch_due, retention_step
from scanner.store import Store
from scanner.store.heartbeat import beat, record_job, start_heartbeat, stop_heartbeat

logger = logging.getLogger(__name__)

FetchFn = Callable[[Config, Store, datetime, list[str] | None], FetchRun]
StepFn = Callable[[Config, Store, datetime], list[str]]

JITTER_FRACTION = 0.1
JITTER_MAX = 300.0
DIGEST_GRACE = 12 * 3600  # a digest that fires up to 12 h late (machine asleep) is still written
DELIVERY_RETRY_FIRST = 300.0  # a failed delivery is tried again after 5 minutes, then 3× longer each time
DELIVERY_RETRY_MAX = 6 * 3600.0


@dataclass
class ScheduleOptions:
    """Knobs of the scheduled job (``scanner schedule --help``)."""

    stop_timeout: float = 60.0  # on SIGTERM, wait this long for the running job
    heartbeat: float = 60.0  # seconds between heartbeat writes
    watch: float = 5.0  # seconds between checks of sources.yaml's mtime; 0: reload on SIGHUP only
    debounce: float = 30.0  # analysis starts this long after the last fetch that brought news
    max_wait: float = 600.0  # ... but at most this long after the first one
    catch_up: bool = True  # on start: fetch overdue sources, analyse, write a missed digest
    jitter: bool = True  # random phase per source (off in tests that need exact timetables)


# --------------------------------------------------------------------------- pure helpers


def digest_catch_up_due(trigger: BaseTrigger, now: datetime, tz: str) -> bool:
    """Has the digest cron fired since the last complete week closed? Then its digest is due now."""
    closed = week_end(last_complete_week(now, tz), tz).astimezone(ZoneInfo(tz))
    first = trigger.get_next_fire_time(None, closed)
    return first is not None and first <= now


def analysis_run_date(now: datetime, first_request: datetime, debounce: float, max_wait: float) -> datetime:
    """When a debounced analysis runs: ``debounce`` after the latest request, capped by ``max_wait``."""
    return max(now, min(now + timedelta(seconds=debounce), first_request + timedelta(seconds=max_wait)))


def jitter_for(every: float) -> float:
    return min(every * JITTER_FRACTION, JITTER_MAX)


def plan_first_run(store: Store, source: SourceConfig, config: Config, now: datetime,
                   catch_up: bool, phase: float = 0.0) -> tuple[bool, datetime]:
    """``(overdue, first_run)`` for a source's interval job, from its state in the database.

    An overdue source (never fetched, or its interval passed while we were down) is fetched by the
    catch-up round, so its timetable starts one interval later; without catch-up it starts now.
    """
    every = source.every_seconds(config.settings)
    state = store.source_state(source.id)
    overdue = is_due(state, every, now)
    if overdue:
        start = now + timedelta(seconds=every) if catch_up else now
    else:
        start = max(next_due(state, every) or now, now)
    return overdue, start + timedelta(seconds=phase)


def summarise_fetch(run: FetchRun) -> str:
    if not run.results:
        return "nothing due"
    if len(run.results) == 1:
        r = run.results[0]
        if r.status == "failed":
            return f"FAILED: {r.error}"
        return f"{r.status}, {r.items_new} new, {r.items_updated} updated, {r.items_seen} seen"
    failed = ", ".join(r.source_id for r in run.results if r.status == "failed")
    return (f"{len(run.results)} sources, {run.ok} ok, {run.failed} failed{' (' + failed + ')' if failed else ''}; "
            f"{run.items_new} new, {run.items_updated} updated")


# --------------------------------------------------------------------------- the scheduler


class Scheduler:
    """The scheduled job over one open ``Store``. ``serve()`` runs it until SIGTERM/SIGINT."""

    def __init__(self, config: Config, store: Store, options: ScheduleOptions | None = None, *,
                 config_path: Path | None = None, fetch: FetchFn = fetch_due, analyse: StepFn | None = None,
                 digest: StepFn = digest_step, clock: Callable[[], datetime] = now_utc) -> None:
        self.config = config
        self.store = store
        self.options = options or ScheduleOptions()
        self.config_path = config_path or config.path
        self._fetch = fetch
        self._analyse = analyse or (lambda c, s, n: analyse_step(c, s, n, progress=False))
        self._digest = digest
        self._clock = clock
        self._db_lock = threading.Lock()  # held by the one job that uses the database
        self._state_lock = threading.Lock()
        self._stopping = threading.Event()
        self._stop_reason = "stop requested"
        self._reload_requested = False
        self._current: str | None = None
        self._analysis_first_request: datetime | None = None
        self._delivery_delay = DELIVERY_RETRY_FIRST
        self._config_stamp = self._stamp()
        self._digest_trigger = parse_cron(config.digest.schedule, config.settings.timezone)
        self.jobs_run = 0
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._sched = BackgroundScheduler(
            timezone=ZoneInfo(config.settings.timezone),
            # "default": every job that touches the database, one at a time. "control": the heartbeat,
            # which must not queue up behind a long job (it skips a beat instead).
            executors={"default": ThreadPoolExecutor(max_workers=1), "control": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Write the heartbeat, add every job and start the scheduler thread (returns at once)."""
        now = self._clock()
        config = self.config
        with self._db_lock:
            self.store.sync_sources(config)
            start_heartbeat(self.store, now)
            overdue = self._add_source_jobs(config, now, catch_up=self.options.catch_up)
        self._add_digest_job(config)
        self._sched.add_job(self._heartbeat_job, IntervalTrigger(seconds=self.options.heartbeat, start_date=now),
                            id="heartbeat", name="heartbeat", next_run_time=now, misfire_grace_time=None,
                            executor="control")
        if self.options.catch_up:
            self._sched.add_job(self._catch_up_job, DateTrigger(now), args=[overdue], id="catch-up",
                                name="catch-up", misfire_grace_time=None)
        self._sched.start()
        nxt = self._sched.get_job("digest")
        logger.info("scheduler started (pid %d): %d sources, %d overdue; digest cron %r in %s, next %s",
                    os.getpid(), len(self._source_jobs()), len(overdue), config.digest.schedule,
                    config.settings.timezone, self._fmt(nxt.next_run_time if nxt else None))

    def serve(self, install_signals: bool = True) -> bool:
        """Start, then wait for signals and config changes until stopped. Returns ``shutdown()``."""
        if install_signals:
            self._install_signals()
        self.start()
        poll = self.options.watch if self.options.watch > 0 else 3600.0
        while not self._stopping.is_set():
            ready, _, _ = select.select([self._wake_r], [], [], poll)
            if ready:
                os.read(self._wake_r, 1024)
            if self._stopping.is_set():
                break
            if self._reload_requested:
                self._reload_requested = False
                self.reload(reason="SIGHUP")
            elif self.options.watch > 0 and self._stamp() != self._config_stamp:
                self.reload(reason="file changed")
        return self.shutdown()

    def request_stop(self, reason: str = "stop requested") -> None:
        """Stop taking new jobs; ``serve()`` then waits for the running one. Thread- and signal-safe."""
        self._stop_reason = reason
        self._stopping.set()
        self._wake()

    def request_reload(self) -> None:
        self._reload_requested = True
        self._wake()

    def shutdown(self) -> bool:
        """Stop the scheduler, let the running job finish within ``stop_timeout`` and write the stop.

        Returns ``False`` when the job did not finish in time: the caller must then exit without
        closing the database (the worker thread still uses it); SQLite discards the unfinished
        transaction, so the database stays consistent.
        """
        self._stopping.set()
        running = self._current
        if self._sched.running:
            self._sched.shutdown(wait=False)
        if running:
            logger.info("stopping (%s): waiting up to %g s for %s to finish", self._stop_reason,
                        self.options.stop_timeout, running)
        if not self._db_lock.acquire(timeout=self.options.stop_timeout):
            logger.error("stopping: %s still running after %g s; exiting without waiting for it "
                         "(SQLite discards its unfinished transaction)", self._current, self.options.stop_timeout)
            return False
        try:
            stop_heartbeat(self.store, self._clock(), f"stopped ({self._stop_reason}) after {self.jobs_run} jobs")
        finally:
            self._db_lock.release()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        logger.info("scheduler stopped cleanly (%s) after %d jobs", self._stop_reason, self.jobs_run)
        return True

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except OSError:  # pipe full or closed: the loop is awake or gone anyway
            pass

    def _install_signals(self) -> None:
        def on_stop(signum: int, frame: FrameType | None) -> None:
            name = signal.Signals(signum).name
            if self._stopping.is_set():
                os.write(2, f"scanner schedule: second {name}, exiting now\n".encode())
                os._exit(1)
            self.request_stop(name)

        def on_hup(signum: int, frame: FrameType | None) -> None:
            self.request_reload()

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_hup)

    # ------------------------------------------------------------------ jobs
    def _add_source_jobs(self, config: Config, now: datetime, catch_up: bool,
                         only: set[str] | None = None) -> list[str]:
        overdue = []
        for s in config.sources:
            if not s.enabled or (only is not None and s.id not in only):
                continue
            every = s.every_seconds(config.settings)
            phase = random.uniform(0, jitter_for(every)) if self.options.jitter else 0.0
            late, first = plan_first_run(self.store, s, config, now, catch_up, phase)
            if late and catch_up:
                overdue.append(s.id)
            self._sched.add_job(self._fetch_job, IntervalTrigger(seconds=every, start_date=first), args=[s.id],
                                id=f"fetch:{s.id}", name=f"fetch:{s.id}", replace_existing=True,
                                misfire_grace_time=int(max(60.0, every)))
        return overdue

    def _add_digest_job(self, config: Config, trigger: BaseTrigger | None = None) -> None:
        self._digest_trigger = trigger or parse_cron(config.digest.schedule, config.settings.timezone)
        self._sched.add_job(self._digest_job, self._digest_trigger, id="digest", name="digest",
                            replace_existing=True, misfire_grace_time=DIGEST_GRACE)

    def _source_jobs(self) -> list[str]:
        return [j.id for j in self._sched.get_jobs() if j.id.startswith("fetch:")]

    def _run(self, name: str, body: Callable[[Config, datetime], str]) -> None:
        """Run one job body under the database lock and log its one summary line."""
        if self._stopping.is_set():
            return
        with self._db_lock:
            if self._stopping.is_set():
                return
            self._current = name
            config, now = self.config, self._clock()
            started = time.monotonic()
            level, error = logging.INFO, None
            try:
                summary = body(config, now)
            except Exception as e:  # a job must never kill the scheduler
                summary, level = f"FAILED: {e.__class__.__name__}: {e}", logging.ERROR
                error = None if isinstance(e, ScannerError) else e  # a bug: keep its traceback
            finally:
                self._current = None
            if summary.startswith("FAILED"):
                level = max(level, logging.WARNING)
            self.jobs_run += 1
            job = self._sched.get_job(name)
            nxt = f"; next {self._fmt(job.next_run_time)}" if job and job.next_run_time else ""
            logger.log(level, "%s: %s (%.1f s%s)", name, summary, time.monotonic() - started, nxt, exc_info=error)
            try:
                record_job(self.store, self._clock(), name, summary, self.next_runs())
            except Exception as e:
                logger.warning("heartbeat: could not record %s: %s", name, e)

    def _fetch_job(self, source_id: str) -> None:
        def body(config: Config, now: datetime) -> str:
            source = next((s for s in config.sources if s.id == source_id and s.enabled), None)
            if source is None:
                return "skipped: no longer in the configuration"
            every = source.every_seconds(config.settings)
            state = self.store.source_state(source_id)
            if not is_due(state, every, now, early=every / 2):
                if state.consecutive_failures:
                    return f"skipped: backing off after {state.consecutive_failures} failures in a row"
                return "skipped: fetched less than half an interval ago"
            run = self._fetch(config, self.store, now, [source_id])
            if run.items_new or run.items_updated:
                self.request_analysis(now)
            return summarise_fetch(run)

        self._run(f"fetch:{source_id}", body)

    def _catch_up_job(self, overdue: list[str]) -> None:
        def body(config: Config, now: datetime) -> str:
            parts = []
            known = {s.id for s in config.sources if s.enabled}
            ids = [i for i in overdue if i in known]
            if ids:
                parts.append("fetch " + summarise_fetch(self._fetch(config, self.store, now, ids)))
            else:
                parts.append("no source overdue")
            parts.append("analysis: " + self._run_analysis(config, now))
            if digest_catch_up_due(self._digest_trigger, now, config.settings.timezone):
                lines = self._digest(config, self.store, now)
                parts.append("digest: " + ("; ".join(lines) or "nothing to write"))
                parts.extend(self._plan_delivery_retry(config, now))
            return "; ".join(parts)

        self._run("catch-up", body)

    def request_analysis(self, now: datetime | None = None) -> None:
        """Ask for an analysis soon; a burst of requests gives one run (see ``analysis_run_date``)."""
        if self._stopping.is_set():
            return
        now = now or self._clock()
        with self._state_lock:
            if self._analysis_first_request is None:
                self._analysis_first_request = now
            when = analysis_run_date(now, self._analysis_first_request, self.options.debounce,
                                     self.options.max_wait)
            self._sched.add_job(self._analyse_job, DateTrigger(when), id="analyse", name="analyse",
                                replace_existing=True, misfire_grace_time=None)

    def _run_analysis(self, config: Config, now: datetime) -> str:
        with self._state_lock:
            self._analysis_first_request = None
            try:
                self._sched.remove_job("analyse")
            except JobLookupError:
                pass
        try:
            lines = self._analyse(config, self.store, now)
        except Exception:
            if not self._stopping.is_set():  # try again later rather than leave new items unanalysed
                with self._state_lock:
                    self._analysis_first_request = now
                    self._sched.add_job(self._analyse_job, DateTrigger(now + timedelta(seconds=self.options.max_wait)),
                                        id="analyse", name="analyse", replace_existing=True, misfire_grace_time=None)
            raise
        return "; ".join(lines) or "no changes reported"

    def _analyse_job(self) -> None:
        self._run("analyse", self._run_analysis)

    def _digest_job(self) -> None:
        def body(config: Config, now: datetime) -> str:
            parts = []
            if self._analysis_first_request is not None:  # let the digest see the latest items
                parts.append("analysis first: " + self._run_analysis(config, now))
            lines = self._digest(config, self.store, now)
            week = last_complete_week(now, config.settings.timezone)
            parts.append("; ".join(lines) or f"nothing written (week {week} already has a digest)")
            parts.extend(self._plan_delivery_retry(config, now))
            parts.extend(retention_step(config, self.store, now))
            return "; ".join(parts)

        self._run("digest", body)

    def _plan_delivery_retry(self, config: Config, now: datetime) -> list[str]:
        """After a digest run: while a channel still owes the week's digest, try it again later, each
        wait three times the one before (at most ``DELIVERY_RETRY_MAX``)."""
        from scanner.digest import pending_deliveries

        pending = pending_deliveries(config, self.store, now)
        if not pending:
            self._delivery_delay = DELIVERY_RETRY_FIRST
            return []
        delay = self._delivery_delay
        self._delivery_delay = min(delay * 3, DELIVERY_RETRY_MAX)
        self._sched.add_job(self._deliver_job, DateTrigger(now + timedelta(seconds=delay)), id="deliver",
                            name="deliver", replace_existing=True, misfire_grace_time=None)
        return [f"delivery to {', '.join(pending)} tried again in {delay / 60:g} min"]

    def _deliver_job(self) -> None:
        def body(config: Config, now: datetime) -> str:
            lines = self._digest(config, self.store, now)  # sends the written week to the channels that owe it
            return "; ".join([*lines, *self._plan_delivery_retry(config, now)]) or "nothing left to deliver"

        self._run("deliver", body)

    def _heartbeat_job(self) -> None:
        """Write the heartbeat unless a job holds the database: that job records itself when done."""
        if self._stopping.is_set() or not self._db_lock.acquire(blocking=False):
            return
        try:
            beat(self.store, self._clock(), self.next_runs())
        except Exception as e:
            logger.warning("heartbeat: could not write: %s", e)
        finally:
            self._db_lock.release()

    def next_runs(self) -> dict[str, str]:
        """The next run time of every job (UTC ISO), for the heartbeat row."""
        return {j.id: iso(j.next_run_time) for j in self._sched.get_jobs() if j.next_run_time}

    # ------------------------------------------------------------------ reload
    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.config_path) if self.config_path else None
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size) if st else None

    def reload(self, reason: str = "reload") -> bool:
        """Re-read ``sources.yaml``; on any problem log it and keep the configuration in force."""
        self._config_stamp = self._stamp()
        if self.config_path is None:
            return False
        try:
            new = load_config(self.config_path)
            trigger = parse_cron(new.digest.schedule, new.settings.timezone)
        except ConfigError as e:
            logger.error("reload (%s) of %s failed; keeping the previous configuration:\n  %s", reason,
                         self.config_path, "\n  ".join(e.problems))
            return False
        except OSError as e:
            logger.error("reload (%s) of %s failed; keeping the previous configuration:\n  %s: %s",
                         reason, self.config_path, self.config_path, e)
            return False
        except Exception as e:  # whatever a hostile or broken file does, the running job keeps going
            logger.error("reload (%s) of %s failed; keeping the previous configuration:\n  unexpected %s: %s",
                         reason, self.config_path, e.__class__.__name__, str(e)[:300])
            return False
        self._sched.add_job(self._apply_job, DateTrigger(self._clock()), args=[new, trigger, reason], id="reload",
                            name="reload", replace_existing=True, misfire_grace_time=None)
        return True

    def _apply_job(self, new: Config, trigger: BaseTrigger, reason: str) -> None:
        """Apply a validated configuration on the worker thread (it reads and writes the database)."""

        def body(old: Config, now: datetime) -> str:
            old_src = {s.id: s for s in old.sources if s.enabled}
            new_src = {s.id: s for s in new.sources if s.enabled}
            removed = sorted(set(old_src) - set(new_src))
            added = sorted(set(new_src) - set(old_src))
            changed = sorted(i for i in set(old_src) & set(new_src)
                             if old_src[i].every_seconds(old.settings) != new_src[i].every_seconds(new.settings))
            for i in removed:
                try:
                    self._sched.remove_job(f"fetch:{i}")
                except JobLookupError:
                    pass
            self.store.sync_sources(new)
            self._add_source_jobs(new, now, catch_up=False, only=set(added) | set(changed))
            if (new.digest.schedule, new.settings.timezone) != (old.digest.schedule, old.settings.timezone):
                self._add_digest_job(new, trigger)
            self.config = new
            if new.db_path != old.db_path:
                logger.warning("reload: settings.db is now %s; this job keeps writing to the open database until "
                               "it is restarted", new.db_path)
            return (f"{self.config_path} ({reason}): {len(new_src)} sources; added {', '.join(added) or 'none'}; "
                    f"removed {', '.join(removed) or 'none'}; new interval {', '.join(changed) or 'none'}; "
                    f"digest cron {new.digest.schedule!r}")

        self._run("reload", body)

    def _fmt(self, when: datetime | None) -> str:
        if when is None:
            return "never"
        return when.astimezone(ZoneInfo(self.config.settings.timezone)).strftime("%Y-%m-%d %H:%M:%S %Z")

