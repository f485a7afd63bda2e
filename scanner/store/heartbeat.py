"""The scheduler's heartbeat row (table ``heartbeat``, one row per name, e.g. ``scheduler``).

The scheduled job writes when it started, every job it ran with a one-line summary, and the next
run time of each job; ``scanner status`` reads it to say whether the job looks alive.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from scanner.clock import iso, parse_iso
from scanner.store import Store

SCHEDULER = "scheduler"
STOPPED_JOB = "stop"
# A beat later than its announced time by more than this means the job is stuck or gone.
LATE_GRACE = timedelta(minutes=5)


@dataclass
class Heartbeat:
    name: str
    pid: int | None
    host: str | None
    started_at: str | None
    beat_at: str | None
    last_job: str | None
    last_job_at: str | None
    last_job_summary: str | None
    next_runs: dict[str, str] = field(default_factory=dict)

    @property
    def stopped(self) -> bool:
        return self.last_job == STOPPED_JOB


def start_heartbeat(store: Store, now: datetime, name: str = SCHEDULER, pid: int | None = None,
                    host: str | None = None) -> None:
    """A (re)started scheduler: a fresh row with this process's pid, host and start time."""
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO heartbeat (name, pid, host, started_at, beat_at, last_job, last_job_at, last_job_summary, "
            "next_runs) VALUES (?, ?, ?, ?, ?, NULL, NULL, NULL, '{}') "
            "ON CONFLICT(name) DO UPDATE SET pid = excluded.pid, host = excluded.host, "
            "started_at = excluded.started_at, beat_at = excluded.beat_at, last_job = NULL, last_job_at = NULL, "
            "last_job_summary = NULL, next_runs = '{}'",
            (name, pid if pid is not None else os.getpid(), host or socket.gethostname(), iso(now), iso(now)),
        )


def beat(store: Store, now: datetime, next_runs: dict[str, str], name: str = SCHEDULER) -> None:
    """Still alive: the time and the next run of every job."""
    with store.transaction() as conn:
        conn.execute("UPDATE heartbeat SET beat_at = ?, next_runs = ? WHERE name = ?",
                     (iso(now), json.dumps(next_runs, sort_keys=True), name))


def record_job(store: Store, now: datetime, job: str, summary: str, next_runs: dict[str, str],
               name: str = SCHEDULER) -> None:
    """A job finished: its name, when, its summary line, and the updated next run times."""
    with store.transaction() as conn:
        conn.execute(
            "UPDATE heartbeat SET beat_at = ?, last_job = ?, last_job_at = ?, last_job_summary = ?, next_runs = ? "
            "WHERE name = ?",
            (iso(now), job, iso(now), summary, json.dumps(next_runs, sort_keys=True), name),
        )


def stop_heartbeat(store: Store, now: datetime, summary: str, name: str = SCHEDULER) -> None:
    """A clean stop: no next runs, and ``last_job = 'stop'`` so status does not report a crash."""
    record_job(store, now, STOPPED_JOB, summary, {}, name=name)


def read_heartbeat(store: Store, name: str = SCHEDULER) -> Heartbeat | None:
    rows = store.query("SELECT * FROM heartbeat WHERE name = ?", [name])
    if not rows:
        return None
    r = rows[0]
    try:
        next_runs = json.loads(r["next_runs"] or "{}")
    except ValueError:
        next_runs = {}
    return Heartbeat(r["name"], r["pid"], r["host"], r["started_at"], r["beat_at"], r["last_job"],
                     r["last_job_at"], r["last_job_summary"], next_runs if isinstance(next_runs, dict) else {})


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


def heartbeat_dict(hb: Heartbeat) -> dict[str, Any]:
    return {"name": hb.name, "pid": hb.pid, "host": hb.host, "started_at": hb.started_at, "beat_at": hb.beat_at,
            "last_job": hb.last_job, "last_job_at": hb.last_job_at, "last_job_summary": hb.last_job_summary,
            "next_runs": hb.next_runs}
