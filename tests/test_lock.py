"""The database lock: one writer process per database, never stuck after a crash."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scanner.cli import cli
from scanner.errors import LockedError
from scanner.lock import DbLock, hold_lock, lock_path_for, read_holder
from scanner.store import Store

ROOT = Path(__file__).resolve().parent.parent

HOLDER = """
import sys, time
from scanner.lock import DbLock
lock = DbLock(sys.argv[1], "test holder").acquire()
print("locked", flush=True)
time.sleep(120)
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[Callable[[Path], subprocess.Popen[str]]]:
    """Start a real process that takes the lock of a database and keeps it."""
    procs: list[subprocess.Popen[str]] = []

    def start(db: Path) -> subprocess.Popen[str]:
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        python = [sys.executable, "-S"] if sys.flags.no_site else [sys.executable]
        p = subprocess.Popen([*python, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": path})
        procs.append(p)
        assert p.stdout is not None
        assert p.stdout.readline().strip() == "locked"
        return p

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()
        if p.stdout:
            p.stdout.close()


def test_lock_file_sits_next_to_the_database_and_names_its_holder(tmp_path: Path) -> None:
    db = tmp_path / "data" / "signals.db"
    with DbLock(db, "scanner schedule") as lock:
        assert lock.path == tmp_path / "data" / "signals.db.lock"
        holder = read_holder(lock.path)
        assert holder is not None
        assert holder["pid"] == os.getpid()
        assert holder["host"] == socket.gethostname()
        assert holder["command"] == "scanner schedule"
    assert lock_path_for(db).read_text() == ""  # released: emptied, and free again
    with DbLock(db):
        pass


def test_second_lock_in_the_same_process_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "signals.db"
    with DbLock(db, "scanner schedule"), pytest.raises(LockedError) as err:
        DbLock(db, "scanner run --once").acquire()
    assert f"(pid {os.getpid()}, since " in str(err.value)
    assert "`scanner schedule`" in str(err.value)
    assert err.value.exit_code == 4


def test_lock_held_by_another_process_then_released_by_kill_9(tmp_path: Path, holder: Callable[..., Any]) -> None:
    db = tmp_path / "signals.db"
    proc = holder(db)
    with pytest.raises(LockedError) as err:
        DbLock(db).acquire()
    assert f"in use by `test holder` (pid {proc.pid}, since " in str(err.value)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # The OS dropped the flock with the process: nothing to clean up, the next one gets it.
    assert read_holder(lock_path_for(db))["pid"] == proc.pid  # type: ignore[index]  # stale text, no lock
    with DbLock(db, "next") as lock:
        assert read_holder(lock.path)["command"] == "next"  # type: ignore[index]


def test_hold_lock_without_a_file_database_is_a_no_op() -> None:
    with hold_lock(None, "scanner run") as lock:
        assert lock is None


def _config(tmp_path: Path) -> Path:
    feed = tmp_path / "notes.jsonl"
    feed.write_text(json.dumps({"id": "1", "title": "สัมภาษณ์เจ้าหน้าที่", "body": "ข้อความ",
                                "published": "2025-01-06"}, ensure_ascii=False) + "\n", encoding="utf-8")
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - id: notes\n    kind: file\n    path: notes.jsonl\n"
                    "analysis:\n  embedder: hashing\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("args", [["run", "--once"], ["fetch", "--all"], ["analyse"], ["digest"]])
def test_run_and_fetch_exit_4_while_another_process_holds_the_lock(
    tmp_path: Path, holder: Callable[..., Any], args: list[str]
) -> None:
    cfg = _config(tmp_path)
    proc = holder(tmp_path / "signals.db")
    result = CliRunner().invoke(cli, ["--config", str(cfg), *args])
    assert result.exit_code == 4
    assert f"Error: {tmp_path / 'signals.db'} is in use by `test holder` (pid {proc.pid}, since " in result.output
    assert "only one scanner process may write to a database at a time" in result.output
    proc.kill()
    proc.wait()
    result = CliRunner().invoke(cli, ["--config", str(cfg), *args])
    assert result.exit_code == 0, result.output
    if args[0] in ("run", "fetch"):
        assert "1 new" in result.output


WRITER = """
import sys, time
from pathlib import Path
from click.testing import CliRunner
from scanner.cli import cli
config, signal_id, stop = sys.argv[1], sys.argv[2], Path(sys.argv[3])
done = 0
while not stop.exists():
    result = CliRunner().invoke(cli, ["--config", config, "review", signal_id, "--verdict", "watch",
                                      "--by", f"analyst-{done}", "--note", f"note {done}"])
    if result.exit_code != 0:
        print("FAILED", result.output, flush=True)
        sys.exit(1)
    done += 1
    if done == 1:
        print("writing", flush=True)
print(done, flush=True)
"""


def analysed_sample(tmp_path: Path, thaigov: list[dict[str, Any]]) -> tuple[Path, CliRunner]:
    """The 700 real releases as a file source in ``tmp_path``, fetched and analysed up to 2024-12-31
    with the hashing embedder through the CLI; the sources file and the runner."""
    notes = tmp_path / "thaigov.jsonl"
    notes.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in thaigov), encoding="utf-8")
    cfg = tmp_path / "sources.yaml"
    cfg.write_text("sources:\n  - {id: thaigov, kind: file, path: thaigov.jsonl}\n"
                   "analysis:\n  embedder: hashing\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(cfg), "fetch"]).exit_code == 0
    assert runner.invoke(cli, ["--config", str(cfg), "analyse", "--as-of", "2024-12-31"]).exit_code == 0
    return cfg, runner


def test_verdicts_written_while_analyse_runs_are_all_kept(tmp_path: Path, thaigov: list[dict[str, Any]]) -> None:
    """`scanner review` in another process, again and again, while `scanner analyse` holds the lock."""
    from datetime import UTC, datetime

    cfg, runner = analysed_sample(tmp_path, thaigov)
    with Store.open(tmp_path / "signals.db") as store:
        signal_id = store.query("SELECT min(id) AS id FROM signals")[0]["id"]
    stop = tmp_path / "stop"
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(cfg), str(signal_id), str(stop)],
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": path})
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
        started = datetime.now(UTC).replace(microsecond=0).isoformat()
        for day in ("2025-01-31", "2025-02-28", "2025-03-31"):
            result = runner.invoke(cli, ["--config", str(cfg), "analyse", "--as-of", day])
            assert result.exit_code == 0, result.output
        finished = datetime.now(UTC).isoformat()
    finally:
        stop.touch()
        out, _ = writer.communicate(timeout=60)
    assert writer.returncode == 0, out
    written = int(out.strip().splitlines()[-1])
    with Store.open(tmp_path / "signals.db") as store:
        rows = store.query("SELECT by, created_at FROM reviews ORDER BY id")
        runs = store.query("SELECT count(*) AS n FROM runs WHERE kind = 'analyse' AND finished_at IS NOT NULL")
    assert len(rows) == written and len({r["by"] for r in rows}) == written  # every verdict kept, once
    assert sum(started <= r["created_at"] <= finished for r in rows) >= 3  # written while analyse ran
    assert runs[0]["n"] == 4
