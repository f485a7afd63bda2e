"""``scanner schedule`` as a real process: signals, reload, the lock, and crashes.

Each test runs ``python -m scanner schedule`` on the tree under test against a local HTTP server
serving growing feeds of real Thai government press releases, and checks the database after.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from scanner.cli import cli
from scanner.normalize import canonical_url
from tests.schedule_support import Feeds, config_text, wait_for

ROOT = Path(__file__).resolve().parent.parent
# Under `python -S` (an isolated sys.path) the children run the same way, on the same path.
PYTHON = [sys.executable, "-S"] if sys.flags.no_site else [sys.executable]


def child_env() -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    env.pop("SCANNER_DB", None)
    return env
FAST = "analysis:\n  embedder: hashing\n"  # keep analysis light once the signals engine is merged


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    s = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    s.start()
    yield s
    s.clear()
    s.stop()


class Proc:
    """A ``scanner schedule`` subprocess whose log goes to a file the test can read."""

    def __init__(self, tmp_path: Path, config: Path, *args: str) -> None:
        self.log_path = tmp_path / "schedule.log"
        with self.log_path.open("ab") as log:
            self.p = subprocess.Popen(
                [*PYTHON, "-m", "scanner", "--config", str(config), "schedule", "--watch", "0.2",
                 "--heartbeat", "0.5", "--debounce", "0.2", *args],
                stdout=log, stderr=subprocess.STDOUT, env=child_env(), cwd=tmp_path,
            )

    @property
    def pid(self) -> int:
        return self.p.pid

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def signal(self, sig: signal.Signals) -> None:
        self.p.send_signal(sig)

    def wait(self, timeout: float = 60) -> int:
        return self.p.wait(timeout=timeout)

    def kill(self) -> None:
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    started: list[Proc] = []
    yield started
    for p in started:
        p.kill()


def run_scanner(tmp_path: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PYTHON, "-m", "scanner", "--config", str(config), *args], capture_output=True,
                          text=True, env=child_env(), cwd=tmp_path, timeout=60)


def db_rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def check_integrity(db: Path) -> None:
    assert db_rows(db, "PRAGMA integrity_check") == [("ok",)]
    conn = sqlite3.connect(db, timeout=30)
    try:
        conn.execute("INSERT INTO items_fts(items_fts) VALUES ('integrity-check')")  # raises if corrupt
        assert conn.execute("SELECT count(*) FROM items_fts").fetchone() == \
            conn.execute("SELECT count(*) FROM items").fetchone()
    finally:
        conn.close()


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def test_reload_on_sighup_and_on_save_second_instance_refused_sigterm_stops_cleanly(
    server: HTTPServer, thaigov: list[dict[str, Any]], tmp_path: Path, procs: list[Proc]
) -> None:
    feeds = Feeds(server, {"a": thaigov[:30], "b": thaigov[30:60]}, step=10)
    cfg = tmp_path / "sources.yaml"
    cfg.write_text(config_text(feeds, {"a": "1s"}, extra=FAST), encoding="utf-8")
    proc = Proc(tmp_path, cfg, "--log-file", str(tmp_path / "logs" / "scanner.log"))
    procs.append(proc)
    wait_for(lambda: feeds.hits["a"] >= 2, what="a fetched twice")

    # One instance per database: a second scheduler and a manual run are refused, naming the pid.
    for args in (["schedule"], ["run", "--once"]):
        second = run_scanner(tmp_path, cfg, *args)
        assert second.returncode == 4, second.stderr
        assert f"is in use by `scanner schedule` (pid {proc.pid}, since " in second.stderr
    status = CliRunner().invoke(cli, ["--config", str(cfg), "status", "--scheduler"])
    assert status.exit_code == 0
    assert status.output.startswith(f"scheduler: RUNNING (pid {proc.pid} alive)")

    # A broken file and SIGHUP: logged, and the running configuration stays in force.
    cfg.write_text("sources:\n\t- id: a\n", encoding="utf-8")
    proc.signal(signal.SIGHUP)
    wait_for(lambda: "reload (SIGHUP) of" in proc.log(), what="the SIGHUP reload")
    assert f"{cfg}:2: a tab character is used for indentation; YAML needs spaces" in proc.log()
    assert "failed; keeping the previous configuration" in proc.log()
    hits = feeds.hits["a"]
    wait_for(lambda: feeds.hits["a"] >= hits + 2, what="a still fetched after the broken reload")

    # A valid file saved (no signal): the change of mtime reloads it; b is added.
    write_atomically(cfg, config_text(feeds, {"a": "1s", "b": "1s"}, extra=FAST))
    wait_for(lambda: feeds.hits["b"] >= 3 and feeds.hits["a"] >= 3, what="b fetched after the reload")

    proc.signal(signal.SIGTERM)
    assert proc.wait() == 0
    log = proc.log()
    assert "scheduler stopped cleanly (SIGTERM)" in log
    assert "(file changed): 2 sources; added b; removed none" in log
    assert "Traceback" not in log
    # One summary line per job, in the file log too.
    file_log = (tmp_path / "logs" / "scanner.log").read_text(encoding="utf-8")
    assert file_log.count("INFO scanner.schedule: fetch:a: ") == log.count("INFO scanner.schedule: fetch:a: ") >= 4
    db = tmp_path / "signals.db"
    check_integrity(db)
    keys = [k for (k,) in db_rows(db, "SELECT item_key FROM items")]
    assert len(keys) == len(set(keys))
    assert set(keys) == feeds.all_served()
    assert db_rows(db, "SELECT last_job FROM heartbeat") == [("stop",)]
    assert not (tmp_path / "signals.db.lock").read_text()


@pytest.mark.parametrize(
    ("signals", "stop_timeout", "exit_code"),
    [
        ([signal.SIGTERM], 30.0, 0),  # the running fetch finishes, then a clean stop
        ([signal.SIGINT], 0.3, 1),  # Ctrl-C, and the fetch outlasts --stop-timeout
        ([signal.SIGTERM, signal.SIGTERM], 30.0, 1),  # a second signal: exit now
    ],
)
def test_sigterm_during_a_fetch_leaves_a_consistent_database(
    server: HTTPServer, thaigov: list[dict[str, Any]], tmp_path: Path, procs: list[Proc],
    signals: list[signal.Signals], stop_timeout: float, exit_code: int,
) -> None:
    feeds = Feeds(server, {"slow": thaigov[:25]}, step=25)
    feeds.slow("slow", 2.0)
    cfg = tmp_path / "sources.yaml"
    cfg.write_text(config_text(feeds, {"slow": "1h"}, extra=FAST), encoding="utf-8")
    proc = Proc(tmp_path, cfg, "--stop-timeout", str(stop_timeout))
    procs.append(proc)
    assert feeds.entered["slow"].wait(30)
    for sig in signals:
        proc.signal(sig)
        wait_for(lambda: "stopping (" in proc.log(), what="the stop to begin")
    assert proc.wait() == exit_code
    log = proc.log()
    assert f"stopping ({signals[0].name}): waiting up to {stop_timeout:g} s for catch-up to finish" in log
    db = tmp_path / "signals.db"
    check_integrity(db)
    items = {k for (k,) in db_rows(db, "SELECT item_key FROM items")}
    fetches = db_rows(db, "SELECT source_id, status, items_new FROM fetches")
    if exit_code == 0:  # the running fetch finished and was stored
        assert items == feeds.all_served() == {canonical_url(r["url"]) for r in thaigov[:25]}
        assert fetches == [("slow", "ok", len(items))]
        assert db_rows(db, "SELECT last_job FROM heartbeat") == [("stop",)]
        assert f"scheduler stopped cleanly ({signals[0].name})" in log
        return
    # Gave up waiting: nothing half-written, and status says the job died.
    if len(signals) == 2:
        assert "scanner schedule: second SIGTERM, exiting now" in log
    else:
        assert f"catch-up still running after {stop_timeout:g} s; exiting without waiting" in log
    assert items == set() and fetches == []
    status = CliRunner().invoke(cli, ["--config", str(cfg), "status", "--scheduler"])
    assert status.exit_code == 1
    assert status.output.startswith(f"scheduler: DEAD (process {proc.pid} is gone")


def test_kill_9_in_a_write_then_restart_loses_and_duplicates_nothing(
    server: HTTPServer, thaigov: list[dict[str, Any]], tmp_path: Path, procs: list[Proc]
) -> None:
    rows = {"a": thaigov[:80], "b": thaigov[80:160], "big": thaigov[160:660], "c": thaigov[660:700]}
    feeds = Feeds(server, rows, step=40, steps={"big": 125})  # big: four long write transactions, a second apart
    # A fetch still in flight when the process dies: held until after the kill, however long the
    # test takes to catch a write transaction (the client's timeout is longer than the hold).
    feeds.slow("c", 120.0)
    cfg = tmp_path / "sources.yaml"
    cfg.write_text(config_text(feeds, dict.fromkeys(rows, "1s"), extra=FAST, timeout=150), encoding="utf-8")
    db = tmp_path / "signals.db"
    proc = Proc(tmp_path, cfg)
    procs.append(proc)
    assert feeds.entered["c"].wait(30)
    wait_for(lambda: feeds.hits["big"] >= 1, what="the big feed served")

    def writing() -> bool:  # the scheduler holds SQLite's write lock: it is inside a transaction
        conn = sqlite3.connect(db, timeout=0)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            conn.close()

    def committed() -> int:
        return int(db_rows(db, "SELECT count(DISTINCT source_id) FROM fetches")[0][0])

    # Kill inside a write transaction, after at least one source of the round was committed.
    wait_for(lambda: committed() >= 1 and writing(), timeout=60, interval=0.002,
             what="a write transaction after a commit")
    proc.p.send_signal(signal.SIGKILL)
    proc.wait()
    feeds.release("c")
    check_integrity(db)
    # Each source's fetch is all or nothing: its items and its fetches row were committed together.
    counts = dict(db_rows(db, "SELECT source_id, count(*) FROM items GROUP BY source_id"))
    fetched = {s: n for s, n in db_rows(db, "SELECT source_id, sum(items_new) FROM fetches GROUP BY source_id")}
    assert counts == {s: n for s, n in fetched.items() if n}
    assert "c" not in counts

    restarted = Proc(tmp_path, cfg)  # the lock died with the process: nothing to clean up
    procs.append(restarted)
    expected = {canonical_url(r["url"]) for feed in rows.values() for r in feed}
    wait_for(lambda: db_rows(db, "SELECT count(*) FROM items")[0][0] == len(expected), timeout=60,
             what="every item stored after the restart")
    restarted.signal(signal.SIGTERM)
    assert restarted.wait() == 0
    check_integrity(db)
    keys = [k for (k,) in db_rows(db, "SELECT item_key FROM items")]
    assert len(keys) == len(set(keys)) == len(expected)
    assert set(keys) == expected == feeds.all_served()
    assert "Traceback" not in restarted.log()
