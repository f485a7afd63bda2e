"""The scheduler's heartbeat row and how ``scanner status`` judges whether the job is alive."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from scanner.clock import iso, now_utc
from scanner.status import assess_heartbeat
from scanner.store import Store
from scanner.store.heartbeat import (
    Heartbeat,
    beat,
    read_heartbeat,
    record_job,
    start_heartbeat,
    stop_heartbeat,
)

T0 = datetime(2025, 1, 14, 3, 0, tzinfo=UTC)


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield p
    p.kill()
    p.wait()


def test_heartbeat_row_round_trip(store: Store) -> None:
    assert read_heartbeat(store) is None
    start_heartbeat(store, T0, pid=4242, host="lab-server")
    beat(store, T0 + timedelta(seconds=60), {"fetch:dga": "2025-01-14T09:00:00+00:00",
                                             "heartbeat": "2025-01-14T03:02:00+00:00"})
    record_job(store, T0 + timedelta(seconds=90), "fetch:dga", "ok, 3 new, 0 updated, 12 seen",
               {"fetch:dga": "2025-01-14T09:01:30+00:00"})
    assert read_heartbeat(store) == Heartbeat(
        "scheduler", 4242, "lab-server", "2025-01-14T03:00:00+00:00", "2025-01-14T03:01:30+00:00", "fetch:dga",
        "2025-01-14T03:01:30+00:00", "ok, 3 new, 0 updated, 12 seen", {"fetch:dga": "2025-01-14T09:01:30+00:00"})
    stop_heartbeat(store, T0 + timedelta(hours=1), "stopped (SIGTERM) after 9 jobs")
    hb = read_heartbeat(store)
    assert hb is not None and hb.stopped and hb.next_runs == {}
    # A restart replaces the row: no stale last job from the previous run.
    start_heartbeat(store, T0 + timedelta(hours=2), pid=4343, host="lab-server")
    hb = read_heartbeat(store)
    assert hb is not None
    assert (hb.pid, hb.started_at, hb.last_job, hb.last_job_summary) == (4343, "2025-01-14T05:00:00+00:00", None, None)


def _hb(pid: int | None, host: str, started: datetime, next_beat: datetime | None = None,
        last_job: str | None = None) -> Heartbeat:
    return Heartbeat("scheduler", pid, host, iso(started), iso(started), last_job, None, None,
                     {"heartbeat": iso(next_beat)} if next_beat else {})


def test_assess_running_stopped_dead_and_reused_pid(sleeper: subprocess.Popen[bytes]) -> None:
    here = socket.gethostname()
    now = now_utc()
    assert assess_heartbeat(_hb(os.getpid(), here, now), now) == ("running", f"pid {os.getpid()} alive")
    assert assess_heartbeat(_hb(os.getpid(), here, now, last_job="stop"), now)[0] == "stopped"
    # A long job: the process is there but the heartbeat is late.
    late = assess_heartbeat(_hb(os.getpid(), here, now, next_beat=now - timedelta(minutes=30)), now)
    assert late == ("running", f"pid {os.getpid()} alive, but the heartbeat is 30 min late (a long job?)")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert assess_heartbeat(_hb(gone.pid, here, now), now) == \
        ("dead", f"process {gone.pid} is gone (crashed or killed; it did not stop cleanly)")
    # The scheduler started an hour ago; its pid now belongs to a process that started just now.
    assert assess_heartbeat(_hb(sleeper.pid, here, now - timedelta(hours=1)), now)[0] == "dead"
    assert assess_heartbeat(_hb(sleeper.pid, here, now + timedelta(seconds=1)), now)[0] == "running"


def test_assess_from_another_host_uses_the_announced_next_beat() -> None:
    now = now_utc()
    on_time = _hb(1, "other-host", now, next_beat=now - timedelta(minutes=2))
    assert assess_heartbeat(on_time, now) == ("running", "heartbeat on time (pid 1 on other-host)")
    late = _hb(1, "other-host", now, next_beat=now - timedelta(hours=3))
    assert assess_heartbeat(late, now) == ("dead", "heartbeat 3 h late (pid 1 on other-host)")
