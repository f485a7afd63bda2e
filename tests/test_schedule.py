"""The scheduled job in-process: a real APScheduler, a real local HTTP server, real SQLite.

Cron and catch-up decisions are checked with controlled time (time-machine). The process-level
behaviour (signals, lock, kill -9) is in ``test_schedule_process.py``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from scanner.cli import cli
from scanner.clock import last_complete_week
from scanner.config import Config, load_config
from scanner.models import FetchRun, SourceFetch
from scanner.pipeline import fetch_due
from scanner.schedule import (
    ScheduleOptions,
    Scheduler,
    analysis_run_date,
    digest_catch_up_due,
    parse_cron,
    plan_first_run,
)
from scanner.store import Store
from scanner.store.heartbeat import read_heartbeat
from tests.schedule_support import Feeds, config_text, wait_for

BKK = ZoneInfo("Asia/Bangkok")


def bkk(*args: int) -> datetime:
    return datetime(*args, tzinfo=BKK)  # type: ignore[misc]


def last_job(store: Store) -> str | None:
    hb = read_heartbeat(store)
    return hb.last_job if hb else None


# --------------------------------------------------------------------------- cron, pure


@pytest.mark.parametrize(
    ("expr", "now", "expected"),
    [
        ("0 7 * * 1", bkk(2025, 1, 8, 12, 0), bkk(2025, 1, 13, 7, 0)),  # the default: Monday 07:00
        ("0 7 * * 0", bkk(2025, 1, 8, 12, 0), bkk(2025, 1, 12, 7, 0)),  # crontab 0 is Sunday ...
        ("0 7 * * 7", bkk(2025, 1, 8, 12, 0), bkk(2025, 1, 12, 7, 0)),  # ... and so is 7
        ("0 7 * * sun", bkk(2025, 1, 8, 12, 0), bkk(2025, 1, 12, 7, 0)),
        ("30 8 * * 1-5", bkk(2025, 1, 10, 9, 0), bkk(2025, 1, 13, 8, 30)),  # Friday after 08:30 → Monday
        ("0 0 * * */2", bkk(2025, 1, 12, 0, 30), bkk(2025, 1, 14, 0, 0)),  # Sun, Tue, Thu, Sat: Sun → Tue
        ("*/15 * * * *", bkk(2025, 1, 8, 12, 1), bkk(2025, 1, 8, 12, 15)),
        ("0 9 1 * 1", bkk(2025, 1, 28, 10, 0), bkk(2025, 2, 1, 9, 0)),  # day 1 OR Monday: Sat 1 Feb
        ("0 9 1 * 1", bkk(2025, 1, 2, 10, 0), bkk(2025, 1, 6, 9, 0)),  # ... or the first Monday
    ],
)
def test_parse_cron_uses_crontab_weekdays_in_the_lab_time_zone(expr: str, now: datetime, expected: datetime) -> None:
    trigger = parse_cron(expr, "Asia/Bangkok")
    assert trigger.get_next_fire_time(None, now) == expected


def test_parse_cron_time_zone_shifts_the_fire_time() -> None:
    now = datetime(2025, 1, 8, 0, 0, tzinfo=UTC)
    assert parse_cron("0 7 * * 1", "Asia/Bangkok").get_next_fire_time(None, now) == \
        datetime(2025, 1, 13, 0, 0, tzinfo=UTC)
    assert parse_cron("0 7 * * 1", "UTC").get_next_fire_time(None, now) == datetime(2025, 1, 13, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("61 * * * *", "'61 * * * *' is not a valid cron schedule"),
        ("0 7 * * 8", "weekday '8' must be 0-7"),
        ("0 7 * *", "is not a five-field cron string"),
        ("0 7 * * 5-1", "runs backwards"),
    ],
)
def test_parse_cron_rejects_bad_strings_with_a_hint(expr: str, fragment: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_cron(expr, "Asia/Bangkok")
    assert fragment in str(err.value)
    assert "for example '0 7 * * 1'" in str(err.value)


@pytest.mark.parametrize("command", [["schedule"], ["sources", "check"]])
@pytest.mark.parametrize("cron", ["0 25 * * 1", "0 7 * * 8", "*/0 * * * *", "0 7 * *"])
def test_a_cron_the_scheduler_rejects_is_rejected_at_load_with_its_line(write_config: Callable[[str], Path],
                                                                       command: list[str], cron: str) -> None:
    with pytest.raises(ValueError):
        parse_cron(cron, "Asia/Bangkok")
    cfg = write_config(f'sources: []\ndigest:\n  max_items: 3\n  schedule: "{cron}"\n')
    result = CliRunner().invoke(cli, ["--config", str(cfg), *command])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {cfg}:4: digest.schedule: '{cron}' is not a ")


# --------------------------------------------------------------------------- catch-up, controlled time


@pytest.mark.parametrize(
    ("cron", "now", "due"),
    [
        ("0 7 * * 1", bkk(2025, 1, 14, 10, 0), True),  # Tuesday: Monday's 07:00 has passed
        ("0 7 * * 1", bkk(2025, 1, 13, 3, 0), False),  # Monday 03:00: the cron will do it at 07:00
        ("0 7 * * 1", bkk(2025, 1, 13, 7, 0), True),  # exactly at the fire time
        ("0 7 * * 3", bkk(2025, 1, 14, 10, 0), False),  # Wednesday cron, Tuesday start
        ("0 7 * * 3", bkk(2025, 1, 19, 23, 0), True),  # Sunday night, Wednesday's run was missed
    ],
)
def test_digest_catch_up_only_when_the_cron_has_fired_since_the_week_closed(cron: str, now: datetime,
                                                                             due: bool) -> None:
    assert digest_catch_up_due(parse_cron(cron, "Asia/Bangkok"), now, "Asia/Bangkok") is due


def test_analysis_run_date_debounces_and_caps_the_wait() -> None:
    t0 = datetime(2025, 1, 6, 0, 0, tzinfo=UTC)
    assert analysis_run_date(t0, t0, 30, 600) == t0 + timedelta(seconds=30)
    assert analysis_run_date(t0 + timedelta(seconds=20), t0, 30, 600) == t0 + timedelta(seconds=50)
    assert analysis_run_date(t0 + timedelta(seconds=590), t0, 30, 600) == t0 + timedelta(seconds=600)
    assert analysis_run_date(t0 + timedelta(seconds=700), t0, 30, 600) == t0 + timedelta(seconds=700)


def test_plan_first_run_from_the_database_state(store: Store, make_config: Callable[[str], Config]) -> None:
    config = make_config("""
        sources:
          - {id: fresh, kind: rss, url: "http://127.0.0.1:9/f.xml", every: 1h}
          - {id: stale, kind: rss, url: "http://127.0.0.1:9/s.xml", every: 1h}
          - {id: never, kind: rss, url: "http://127.0.0.1:9/n.xml", every: 1h}
    """)
    store.sync_sources(config)
    now = datetime(2025, 1, 14, 3, 0, tzinfo=UTC)
    store.save_fetch(SourceFetch("fresh", started_at=now - timedelta(minutes=20)))
    store.save_fetch(SourceFetch("stale", started_at=now - timedelta(hours=5)))
    fresh, stale, never = config.sources
    assert plan_first_run(store, fresh, config, now, catch_up=True) == (False, now + timedelta(minutes=40))
    assert plan_first_run(store, stale, config, now, catch_up=True) == (True, now + timedelta(hours=1))
    assert plan_first_run(store, stale, config, now, catch_up=False) == (True, now)
    assert plan_first_run(store, never, config, now, catch_up=True, phase=12.5) == \
        (True, now + timedelta(hours=1, seconds=12.5))


# --------------------------------------------------------------------------- a real scheduler


class Calls:
    """Records the pipeline steps the scheduler calls and checks that they never overlap."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.fetches: list[tuple[list[str] | None, datetime]] = []
        self.analyses: list[int] = []
        self.digests: list[datetime] = []
        self.order: list[str] = []
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    def _enter(self) -> None:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)

    def _leave(self) -> None:
        with self._lock:
            self.active -= 1

    def fetch(self, config: Config, store: Store, now: datetime, ids: list[str] | None) -> FetchRun:
        self._enter()
        try:
            run = fetch_due(config, store, now, ids)
            self.fetches.append((ids, now))
            self.order.append("fetch")
            return run
        finally:
            self._leave()

    def analyse(self, config: Config, store: Store, now: datetime) -> list[str]:
        self._enter()
        try:
            self.analyses.append(store.count_items())
            self.order.append("analyse")
            return [f"analysed {store.count_items()} items"]
        finally:
            self._leave()

    def digest(self, config: Config, store: Store, now: datetime) -> list[str]:
        self._enter()
        try:
            self.digests.append(now)
            self.order.append("digest")
            return [f"digest {last_complete_week(now, config.settings.timezone)} written"]
        finally:
            self._leave()

    def fetched(self, source_id: str) -> int:
        return sum(1 for ids, _ in self.fetches if ids and source_id in ids)


@pytest.fixture
def peek(store: Store) -> Iterator[Store]:
    """A second connection for the test to read while the scheduler's worker writes."""
    s = Store.open(store.path)
    yield s
    s.close()


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    s = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    s.start()
    yield s
    s.clear()
    s.stop()


def make_scheduler(config: Config, store: Store, calls: Calls, **options: Any) -> Scheduler:
    opts = ScheduleOptions(**{"stop_timeout": 10, "heartbeat": 0.5, "watch": 0, "debounce": 0.2, **options})
    return Scheduler(config, store, opts, fetch=calls.fetch, analyse=calls.analyse, digest=calls.digest)


def test_sources_fetched_at_their_intervals_analysis_after_fetches_heartbeat(
    server: HTTPServer, store: Store, peek: Store, thaigov: list[dict[str, Any]], write_config: Callable[[str], Path]
) -> None:
    feeds = Feeds(server, {"a": thaigov[:40], "b": thaigov[40:70]}, step=10)
    config = load_config(write_config(config_text(feeds, {"a": "1s", "b": "1s"})))
    calls = Calls(store)
    sched = make_scheduler(config, store, calls)
    sched.start()
    try:
        wait_for(lambda: calls.fetched("a") >= 5 and calls.fetched("b") >= 4, what="repeated fetches")
        wait_for(lambda: calls.analyses and calls.analyses[-1] == peek.count_items() == 70,
                 what="an analysis that saw every item")
        hb = read_heartbeat(peek)
        assert hb is not None and hb.started_at is not None
        assert {"fetch:a", "fetch:b", "digest", "heartbeat"} <= set(hb.next_runs)
        assert hb.next_runs["digest"] > hb.started_at
    finally:
        assert sched.shutdown() is True
    # The catch-up round fetched both new sources together; then each source on its own job.
    assert calls.fetches[0][0] == ["a", "b"]
    assert all(ids in (["a"], ["b"]) for ids, _ in calls.fetches[1:])
    assert calls.max_active == 1  # one database writer at a time
    # Every item the server served is stored exactly once.
    keys = [r["item_key"] for r in store.query("SELECT item_key FROM items")]
    assert len(keys) == len(set(keys)) == 70
    assert set(keys) == feeds.all_served()
    assert [j for j in sched._sched.get_jobs()] == []
    hb = read_heartbeat(store)
    assert hb is not None and hb.last_job == "stop" and hb.next_runs == {}
    assert hb.last_job_summary == f"stopped (stop requested) after {sched.jobs_run} jobs"


def test_a_burst_of_analysis_requests_gives_one_analysis(store: Store, make_config: Callable[[str], Config]) -> None:
    config = make_config("sources: []\n")
    calls = Calls(store)
    sched = make_scheduler(config, store, calls, debounce=0.3, catch_up=False)
    sched.start()
    try:
        for _ in range(5):
            sched.request_analysis()
        wait_for(lambda: len(calls.analyses) == 1, what="the debounced analysis")
        assert sched._sched.get_job("analyse") is None  # nothing else pending
    finally:
        sched.shutdown()
    assert calls.analyses == [0]


def test_a_failed_analysis_is_logged_with_its_traceback_and_retried(
    store: Store, make_config: Callable[[str], Config], caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config("sources: []\n")
    attempts: list[datetime] = []

    def flaky(config: Config, store: Store, now: datetime) -> list[str]:
        attempts.append(now)
        if len(attempts) == 1:
            raise RuntimeError("the model is not installed yet")
        return ["analysed"]

    opts = ScheduleOptions(stop_timeout=10, heartbeat=3600, watch=0, debounce=0.1, max_wait=0.5, catch_up=False)
    sched = Scheduler(config, store, opts, analyse=flaky)
    with caplog.at_level(logging.INFO, logger="scanner.schedule"):
        sched.start()
        try:
            sched.request_analysis()
            wait_for(lambda: len(attempts) == 2, what="the retry")
            wait_for(lambda: "analyse: analysed" in caplog.text, what="the retry's summary")
        finally:
            sched.shutdown()
    failed = [r for r in caplog.records if "analyse: FAILED" in r.getMessage()]
    assert len(failed) == 1 and failed[0].levelno == logging.ERROR and failed[0].exc_info is not None
    assert failed[0].getMessage().startswith("analyse: FAILED: RuntimeError: the model is not installed yet (")


def test_cron_fires_the_digest_in_the_lab_time_zone(store: Store, peek: Store,
                                                    make_config: Callable[[str], Config]) -> None:
    config = make_config('settings:\n  timezone: Asia/Bangkok\nsources: []\ndigest:\n  schedule: "0 7 * * 1"\n')
    calls = Calls(store)
    # Monday 06:59:58 in Bangkok; time runs on, so the real scheduler reaches 07:00 two seconds later.
    with time_machine.travel(bkk(2025, 1, 13, 6, 59, 58), tick=True):
        sched = make_scheduler(config, store, calls, heartbeat=3600, debounce=3600)
        sched.start()
        try:
            wait_for(lambda: last_job(peek) == "catch-up", what="the catch-up")
            sched.request_analysis()  # pending (debounced for an hour) when the cron fires
            wait_for(lambda: len(calls.digests) == 1, what="the cron to fire")
            wait_for(lambda: last_job(peek) == "digest", what="the heartbeat")
            job = sched._sched.get_job("digest")
            assert job.next_run_time == bkk(2025, 1, 20, 7, 0)
            assert sched._sched.get_job("analyse") is None  # the digest ran it first
            hb = read_heartbeat(peek)
            assert hb is not None
            assert hb.last_job_summary == "analysis first: analysed 0 items; digest 2025-W02 written"
        finally:
            sched.shutdown()
    assert calls.digests[0] >= bkk(2025, 1, 13, 7, 0)
    assert last_complete_week(calls.digests[0]) == "2025-W02"
    # Catch-up analysed at start (no digest: 07:00 had not come yet); the digest ran the pending analysis first.
    assert calls.order == ["analyse", "analyse", "digest"]
    assert store.query("SELECT last_job_summary FROM heartbeat")[0]["last_job_summary"].startswith("stopped")


def test_cron_writes_the_digest_with_the_real_digest_step(store: Store, peek: Store,
                                                          make_config: Callable[[str], Config]) -> None:
    config = make_config('sources: []\ndigest:\n  schedule: "0 7 * * 1"\n')
    opts = ScheduleOptions(stop_timeout=30, heartbeat=3600, watch=0, catch_up=False)
    with time_machine.travel(bkk(2025, 1, 13, 6, 59, 59) + timedelta(milliseconds=400), tick=True):
        sched = Scheduler(config, store, opts)
        sched.start()
        try:
            wait_for(lambda: last_job(peek) == "digest", timeout=60, what="the digest")
        finally:
            sched.shutdown()
    assert [r["week"] for r in store.query("SELECT week FROM digests")] == ["2025-W02"]


@pytest.mark.parametrize(
    ("now", "digest_expected"),
    [(bkk(2025, 1, 14, 10, 0), True), (bkk(2025, 1, 13, 3, 0), False)],
)
def test_catch_up_on_start_fetches_overdue_sources_and_a_missed_digest(
    server: HTTPServer, store: Store, peek: Store, thaigov: list[dict[str, Any]],
    write_config: Callable[[str], Path], now: datetime, digest_expected: bool,
) -> None:
    feeds = Feeds(server, {"fresh": thaigov[:10], "stale": thaigov[10:20]}, step=10)
    config = load_config(write_config(config_text(feeds, {"fresh": "1h", "stale": "1h"})))
    store.sync_sources(config)
    store.save_fetch(SourceFetch("fresh", started_at=now - timedelta(minutes=15)))
    store.save_fetch(SourceFetch("stale", started_at=now - timedelta(days=3)))
    calls = Calls(store)
    with time_machine.travel(now, tick=False):  # frozen: only what is due at start runs
        sched = make_scheduler(config, store, calls, jitter=False, heartbeat=3600)
        sched.start()
        try:
            wait_for(lambda: last_job(peek) == "catch-up", what="the catch-up job")
            assert sched._sched.get_job("fetch:fresh").next_run_time == now + timedelta(minutes=45)
            assert sched._sched.get_job("fetch:stale").next_run_time == now + timedelta(hours=1)
        finally:
            sched.shutdown()
    assert calls.fetches == [(["stale"], now)]
    assert calls.order == ["fetch", "analyse", "digest"] if digest_expected else ["fetch", "analyse"]
    assert feeds.hits == {"fresh": 0, "stale": 1}
    assert calls.analyses == [10]
    assert calls.digests == ([now] if digest_expected else [])
    summary = store.query("SELECT last_job_summary FROM heartbeat")[0]["last_job_summary"]
    assert summary.startswith("stopped")


def test_reload_keeps_the_old_configuration_when_the_new_file_is_broken(
    server: HTTPServer, store: Store, thaigov: list[dict[str, Any]], write_config: Callable[[str], Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    feeds = Feeds(server, {"a": thaigov[:20], "b": thaigov[20:40]}, step=20)
    path = write_config(config_text(feeds, {"a": "1s"}))
    config = load_config(path)
    calls = Calls(store)
    sched = make_scheduler(config, store, calls)
    sched.config_path = path
    sched.start()
    try:
        wait_for(lambda: calls.fetched("a") >= 2, what="fetches of a")
        path.write_text("settings:\n  timezone: Mars/Olympus\nsources:\n  - id: a\n    kind: rss\n", encoding="utf-8")
        with caplog.at_level(logging.ERROR, logger="scanner.schedule"):
            assert sched.reload() is False
        assert f"reload (reload) of {path} failed; keeping the previous configuration" in caplog.text
        assert f"{path}:2: settings.timezone: 'Mars/Olympus' is not a known time zone" in caplog.text
        assert f"{path}:4: sources[0].url: required field is missing" in caplog.text
        assert sched.config is config
        before = calls.fetched("a")
        wait_for(lambda: calls.fetched("a") >= before + 2, what="a still fetched with the old configuration")
        # A valid file: b added, a removed, a new digest cron.
        path.write_text(config_text(feeds, {"b": "1s"}, cron="0 8 * * 5"), encoding="utf-8")
        assert sched.reload() is True
        wait_for(lambda: calls.fetched("b") >= 1, what="the added source")
        assert sorted(j.id for j in sched._sched.get_jobs() if j.id.startswith("fetch:")) == ["fetch:b"]
        assert sched._sched.get_job("digest").next_run_time.weekday() == 4  # Friday
        assert sched.config.digest.schedule == "0 8 * * 5"
    finally:
        sched.shutdown()
    assert {r["id"]: r["in_config"] for r in store.query("SELECT id, in_config FROM sources")} == {"a": 0, "b": 1}


def test_status_shows_the_heartbeat(store: Store, peek: Store, make_config: Callable[[str], Config],
                                    tmp_path: Path) -> None:
    config = make_config("sources: []\n")
    calls = Calls(store)
    sched = make_scheduler(config, store, calls, heartbeat=3600)
    sched.start()
    try:
        wait_for(lambda: last_job(peek) == "catch-up", what="the catch-up job")
        result = CliRunner().invoke(cli, ["--config", str(tmp_path / "sources.yaml"), "status", "--scheduler"])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("scheduler: RUNNING (pid ")
        assert "  last job: catch-up at " in result.output
        assert "no source overdue; analysis: analysed 0 items" in result.output
        assert result.output.count("  digest") == 1 and result.output.count("  heartbeat") == 1
    finally:
        sched.shutdown()
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "sources.yaml"), "status"])
    assert result.exit_code == 0
    assert "scheduler: STOPPED (stopped cleanly at " in result.output
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "sources.yaml"), "status", "--scheduler"])
    assert result.exit_code == 1


@pytest.mark.parametrize(("failures", "minutes_later", "fetched", "summary"), [
    (0, 20, False, "skipped: fetched less than half an interval ago"),
    (0, 40, True, None),  # a tick that came early because the last attempt waited behind a long job
    (3, 60, False, "skipped: backing off after 3 failures in a row"),
    (3, 240, True, None),
])
def test_a_fetch_job_follows_the_one_due_rule(store: Store, make_config: Callable[[str], Config], failures: int,
                                              minutes_later: int, fetched: bool, summary: str | None) -> None:
    from scanner.store.heartbeat import start_heartbeat

    config = make_config('sources:\n  - {id: s, kind: rss, url: "http://127.0.0.1:9/s.xml", every: 1h}\n')
    store.sync_sources(config)
    last = datetime(2025, 1, 14, 3, 0, tzinfo=UTC)
    for _ in range(failures):
        store.save_fetch(SourceFetch("s", started_at=last, status="failed", error="refused"))
    if not failures:
        store.save_fetch(SourceFetch("s", started_at=last))
    calls = Calls(store)
    now = last + timedelta(minutes=minutes_later)
    sched = Scheduler(config, store, ScheduleOptions(jitter=False), fetch=calls.fetch, clock=lambda: now)
    start_heartbeat(store, now)
    sched._fetch_job("s")
    assert bool(calls.fetches) is fetched
    hb = read_heartbeat(store)
    assert hb is not None and hb.last_job == "fetch:s"
    if summary:
        assert hb.last_job_summary == summary
