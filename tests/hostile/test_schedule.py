"""Found 3, in ``scanner schedule``: one slow source held the single worker, healthy sources waited,
jobs were missed and the heartbeat went stale. Limit: over 12 s with a 2 s budget, the healthy
source is fetched on time and the heartbeat never goes quiet for longer than the budget allows."""

from __future__ import annotations

import time
from datetime import datetime
from itertools import pairwise
from pathlib import Path

from scanner.config import load_config
from scanner.schedule import ScheduleOptions, Scheduler
from scanner.store import Store
from scanner.store.heartbeat import read_heartbeat
from tests.hostile import payloads
from tests.hostile.conftest import config_text
from tests.hostile.server import HostileServer, drip, respond


def test_a_dripping_source_does_not_starve_the_others(tmp_path: Path, srv: HostileServer) -> None:
    srv.routes["/drip"] = drip(payloads.rss(payloads.plain_items(2, srv.url("/d"))), every=1.0, limit=60)
    srv.routes["/ok"] = respond(payloads.rss(payloads.plain_items(2, srv.url("/o"))),
                                content_type="application/rss+xml")
    path = tmp_path / "sources.yaml"
    path.write_text(config_text(srv, f"""
        - {{id: drip, kind: rss, url: "{srv.url('/drip')}", every: 1s}}
        - {{id: ok, kind: rss, url: "{srv.url('/ok')}", every: 1s}}
    """, settings="source_budget: 2"), encoding="utf-8")
    config = load_config(path)
    store = Store.open(tmp_path / "signals.db")
    options = ScheduleOptions(stop_timeout=10, heartbeat=0.5, watch=0, debounce=60, catch_up=False, jitter=False)
    sched = Scheduler(config, store, options, analyse=lambda c, s, n: [], digest=lambda c, s, n: [])
    beats: list[str] = []
    sched.start()
    try:
        with Store.open(tmp_path / "signals.db", readonly=True) as peek:
            until = time.monotonic() + 12
            while time.monotonic() < until:
                hb = read_heartbeat(peek)
                if hb is not None and hb.beat_at and (not beats or beats[-1] != hb.beat_at):
                    beats.append(hb.beat_at)
                time.sleep(0.2)
    finally:
        assert sched.shutdown() is True
    runs = {r["source_id"]: r["n"] for r in store.query(
        "SELECT source_id, count(*) AS n FROM fetches GROUP BY source_id")}
    statuses = {r["status"] for r in store.query("SELECT status FROM fetches WHERE source_id = 'drip'")}
    store.close()
    assert statuses == {"failed"} and runs["drip"] >= 2  # cut at its budget, again and again
    assert runs["ok"] >= 4  # the healthy source kept its turns between them
    gaps = [(datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() for a, b in pairwise(beats)]
    assert beats and max(gaps, default=0) <= 2 + 2  # never quiet for longer than a budget (plus a beat)
