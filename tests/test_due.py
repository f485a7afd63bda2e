"""When a source is due: one rule (``scanner.due``) behind `scanner fetch`, `scanner status` and the scheduler."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from scanner.clock import iso
from scanner.collect import select_sources
from scanner.config import Config
from scanner.due import is_due, next_due, wait_after
from scanner.models import SourceFetch, SourceState
from scanner.schedule import plan_first_run
from scanner.status import source_status
from scanner.store import Store

NOW = datetime(2025, 1, 14, 3, 0, tzinfo=UTC)
HOUR = 3600.0


@pytest.mark.parametrize(("failures", "wait"), [(0, 1), (1, 1), (2, 2), (3, 4), (6, 24), (7, 24), (50, 24)])
def test_wait_doubles_per_failure_up_to_a_day(failures: int, wait: float) -> None:
    assert wait_after(HOUR, failures) == wait * HOUR


def test_an_interval_longer_than_a_day_is_never_shortened() -> None:
    assert wait_after(7 * 86400.0, 5) == 7 * 86400.0


def test_due_at_the_instant_and_not_a_second_before() -> None:
    state = SourceState("s", last_attempt=iso(NOW), consecutive_failures=2)
    due = NOW + timedelta(hours=2)
    assert next_due(state, HOUR) == due
    assert is_due(state, HOUR, due) and not is_due(state, HOUR, due - timedelta(seconds=1))
    assert is_due(state, HOUR, due - timedelta(minutes=30), early=HOUR / 2)
    assert next_due(SourceState("s"), HOUR) is None and is_due(SourceState("s"), HOUR, NOW)


def test_fetch_status_and_scheduler_agree_on_a_failing_source(store: Store,
                                                               make_config: Callable[[str], Config]) -> None:
    config = make_config("""
        sources:
          - {id: dead, kind: rss, url: "http://127.0.0.1:9/d.xml", every: 1h}
          - {id: fine, kind: rss, url: "http://127.0.0.1:9/f.xml", every: 1h}
    """)
    store.sync_sources(config)
    for minutes in (300, 240, 180):  # three failures in a row: the wait is 4 hours after the last
        store.save_fetch(SourceFetch("dead", started_at=NOW - timedelta(minutes=minutes), status="failed",
                                     error="refused"))
    store.save_fetch(SourceFetch("fine", started_at=NOW - timedelta(minutes=90)))
    due_at = NOW + timedelta(hours=1)  # 180 minutes ago + 4 hours
    rows = {r.source: r for r in source_status(config, store)}
    assert rows["dead"].next_due == iso(due_at) and rows["dead"].failures == 3
    assert rows["fine"].next_due == iso(NOW - timedelta(minutes=30))
    assert [s.id for s in select_sources(config, store, NOW)] == ["fine"]
    assert [s.id for s in select_sources(config, store, due_at)] == ["dead", "fine"]
    dead = config.sources[0]
    assert plan_first_run(store, dead, config, NOW, catch_up=True) == (False, due_at)
