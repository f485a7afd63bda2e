"""The scheduler's heartbeat row (table ``heartbeat``, one row per name, e.g. ``scheduler``).

The scheduled job writes when it started, every job it ran with a one-line summary, and the next
run time of each job; ``scanner.status`` reads it to say whether the job looks alive.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime

from scanner.clock import iso
from scanner.store import Store

SCHEDULER = "scheduler"
STOPPED_JOB = "stop"


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
