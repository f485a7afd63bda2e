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


@pytest.mark.parametrize("args", [["run", "--once"], ["fetch", "--all"]])
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
    assert "1 new" in result.output



def test_analyse_respects_the_lock(tmp_path: Path, write_config: Callable[[str], Path]) -> None:
    write_config("analysis:\n  embedder: hashing\nsources: []\n")
    with hold_lock(tmp_path / "signals.db", "scanner schedule"):
        result = CliRunner().invoke(cli, ["analyse"])
    assert result.exit_code == 4 and "scanner schedule" in result.output
    assert CliRunner().invoke(cli, ["analyse"]).exit_code == 0
