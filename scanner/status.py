"""What ``scanner status`` reports: every source's health and when it is next due, and whether the
scheduled job looks alive. Reads the database only; it never writes (not even a source sync)."""

from __future__ import annotations

import os
import socket
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from scanner.clock import iso, last_complete_week, parse_iso
from scanner.config import SUBMISSIONS_SOURCE, Config
from scanner.due import next_due
from scanner.export import interval_text
from scanner.models import SourceState
from scanner.store import Store
from scanner.store.deliveries import DeliveryRow, fetch_deliveries, latest_deliveries
from scanner.store.heartbeat import Heartbeat, read_heartbeat

# A beat later than its announced time by more than this means the job is stuck or gone.
LATE_GRACE = timedelta(minutes=5)


@dataclass
class SourceStatus:
    """One row of ``scanner status`` (the names are the table's columns and the JSON's keys)."""

    source: str
    kind: str
    every: float | None  # seconds
    last_success: str | None
    failures: int
    items: int
    next_due: str  # UTC ISO, "now" (never tried) or "-" (disabled or removed from the configuration)
    last_error: str


def source_status(config: Config, store: Store) -> list[SourceStatus]:
    """Every configured source (in file order), then the built-in ``submissions`` source and those
    removed from the file, when they have a row."""
    stored = {r.id: r for r in store.source_rows()}
    out = []
    for s in config.sources:
        r = stored.pop(s.id, None)
        every = s.every_seconds(config.settings)
        state = r.state if r else SourceState(s.id)
        due = next_due(state, every)
        out.append(SourceStatus(
            source=s.id, kind=s.kind, every=every, last_success=state.last_success,
            failures=state.consecutive_failures, items=r.items if r else 0,
            next_due=("now" if due is None else iso(due)) if s.enabled else "-",
            last_error=(state.last_error or "") if state.consecutive_failures else "",
        ))
    for r in stored.values():
        where = "built-in" if r.id == SUBMISSIONS_SOURCE else "removed"
        out.append(SourceStatus(source=f"{r.id} ({where})", kind=r.kind, every=r.every_seconds,
                                last_success=r.state.last_success, failures=r.state.consecutive_failures,
                                items=r.items, next_due="-", last_error=""))
    return out


def status_table(rows: list[SourceStatus]) -> list[dict[str, object]]:
    """``rows`` for the ``scanner status`` table: intervals as written in sources.yaml, times to the minute."""
    return [{**asdict(r), "every": interval_text(r.every), "last_success": (r.last_success or "never")[:16],
             "next_due": r.next_due[:16]} for r in rows]


def delivery_status(store: Store, weeks: int = 4) -> list[DeliveryRow]:
    """The delivery log of the last ``weeks`` weeks that have one, newest first."""
    return latest_deliveries(store, weeks)


def failed_deliveries(config: Config, store: Store, now: datetime) -> list[DeliveryRow]:
    """The failed deliveries that the next run tries again (``digest.pending_deliveries``: the last
    complete week's, on a channel still configured): what ``scanner status --deliveries`` exits 1 for."""
    from scanner.digest import pending_deliveries

    owed = set(pending_deliveries(config, store, now))
    rows = fetch_deliveries(store, last_complete_week(now, config.settings.timezone)) if owed else {}
    return [r for name, r in sorted(rows.items()) if r.status != "ok" and name in owed]


def delivery_lines(config: Config, rows: list[DeliveryRow], tz: str) -> list[str]:
    """The digest's deliveries as ``scanner status`` prints them (errors never hold a secret URL)."""
    if not rows:
        return [] if not config.digest.channels else ["deliveries: none yet (each new weekly digest is sent "
                                                      "through digest.deliver)"]
    zone = ZoneInfo(tz)
    configured = {name for name, _ in config.digest.channels}

    def local(text: str) -> str:
        return parse_iso(text).astimezone(zone).strftime("%Y-%m-%d %H:%M")

    width = max(len(r.channel) for r in rows)
    lines = [f"deliveries ({tz}):"]
    for r in rows:
        name = r.channel.ljust(width)
        gone = "" if r.channel in configured else " (no longer configured)"
        tries = f"{r.attempts} attempt{'s' if r.attempts != 1 else ''}"
        if r.status == "ok":
            lines.append(f"  {r.week}  {name}  ok      delivered {local(r.delivered_at or r.last_attempt)} "
                         f"({tries}){gone}")
        else:
            retry = "" if gone else "; tried again on the next run"
            lines.append(f"  {r.week}  {name}  FAILED  {tries}, last {local(r.last_attempt)}: {r.error}{retry}{gone}")
    return lines


@dataclass
class SchedulerStatus:
    """The scheduled job as ``scanner status`` sees it: ``running``, ``stopped``, ``dead`` or ``never started``."""

    state: str
    reason: str
    heartbeat: Heartbeat | None = None
    next_runs: list[tuple[str, str]] = field(default_factory=list)  # (job, local time), soonest first

    @property
    def alive(self) -> bool:
        return self.state == "running"


def scheduler_status(store: Store, now: datetime, tz: str) -> SchedulerStatus:
    """Whether the scheduler writing this database's heartbeat looks alive, and its next runs."""
    hb = read_heartbeat(store)
    if hb is None:
        return SchedulerStatus("never started", "no heartbeat in this database")
    state, reason = assess_heartbeat(hb, now)
    runs = describe_jobs(hb.next_runs, tz) if state == "running" else []
    return SchedulerStatus(state, reason, hb, runs)


def scheduler_lines(status: SchedulerStatus, tz: str) -> list[str]:
    """The scheduler's status as ``scanner status`` prints it, times in ``tz``."""
    hb = status.heartbeat
    if hb is None:
        return ["scheduler: never started on this database (`scanner schedule` writes a heartbeat; "
                "`scanner run --once` from cron does not: check last_success above)"]
    zone = ZoneInfo(tz)

    def local(text: str | None) -> str:
        return parse_iso(text).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if text else "-"

    reason = f"stopped cleanly at {local(hb.last_job_at)}" if status.state == "stopped" else status.reason
    lines = [f"scheduler: {status.state.upper()} ({reason}); pid {hb.pid} on {hb.host}, started "
             f"{local(hb.started_at)}, last heartbeat {local(hb.beat_at)} ({tz})"]
    if hb.last_job:
        lines.append(f"  last job: {hb.last_job} at {local(hb.last_job_at)}: {hb.last_job_summary or ''}")
    if status.next_runs:
        lines.append("  next runs:")
        lines.extend(f"    {when}  {job}" for job, when in status.next_runs)
    return lines


def scheduler_json(status: SchedulerStatus) -> dict[str, object]:
    """The scheduler's status as ``scanner status --scheduler --format json`` prints it."""
    out: dict[str, object] = {"state": status.state, "reason": status.reason}
    if status.heartbeat is not None:
        out.update(asdict(status.heartbeat))
    return out


def describe_jobs(next_runs: dict[str, str], tz: str) -> list[tuple[str, str]]:
    """``[(job, local time)]`` sorted by time."""
    out = []
    for job, when in sorted(next_runs.items(), key=lambda kv: kv[1]):
        local = parse_iso(when).astimezone(ZoneInfo(tz))
        out.append((job, local.strftime("%Y-%m-%d %H:%M:%S")))
    return out


def assess_heartbeat(hb: Heartbeat, now: datetime, host: str | None = None) -> tuple[str, str]:
    """``(state, reason)`` with state ``running``, ``stopped`` or ``dead``.

    On this host the process id decides; on another host (or when the pid cannot be checked) the
    heartbeat must not be later than its own announced next beat plus a grace period.
    """
    if hb.stopped:
        return "stopped", f"stopped cleanly at {hb.last_job_at}"
    host = host or socket.gethostname()
    if hb.pid and hb.host == host:
        if not _pid_alive(hb.pid) or _pid_reused(hb.pid, hb.started_at):
            return "dead", f"process {hb.pid} is gone (crashed or killed; it did not stop cleanly)"
        late = _late_by(hb, now)
        if late is not None:
            return "running", f"pid {hb.pid} alive, but the heartbeat is {_human(late)} late (a long job?)"
        return "running", f"pid {hb.pid} alive"
    late = _late_by(hb, now)
    if late is None:
        return "running", f"heartbeat on time (pid {hb.pid} on {hb.host})"
    return "dead", f"heartbeat {_human(late)} late (pid {hb.pid} on {hb.host})"


def _late_by(hb: Heartbeat, now: datetime) -> timedelta | None:
    nxt = hb.next_runs.get("heartbeat")
    if not nxt:
        if not hb.beat_at:
            return timedelta(0)
        return None
    late = now - parse_iso(nxt)
    return late if late > LATE_GRACE else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user (the service account)
        return True
    return _not_zombie(pid)


def _pid_reused(pid: int, started_at: str | None) -> bool:
    """The pid now belongs to a process that started after the scheduler did (Linux ``/proc``)."""
    began = process_start_time(pid)
    if began is None or not started_at:
        return False
    return began > parse_iso(started_at).timestamp() + 5


def process_start_time(pid: int) -> float | None:
    """When a process started (Unix time), from ``/proc``; ``None`` where that is not available."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[-1].split()
        with open("/proc/stat", encoding="ascii") as f:
            boot = next(float(line.split()[1]) for line in f if line.startswith("btime "))
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, StopIteration, IndexError, ValueError):
        return None


def _not_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def _human(delta: timedelta) -> str:
    s = int(delta.total_seconds())
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    return f"{s // 3600} h"
