"""`make demo` on its first week: it ends by saying how to open the workspace, with an admin account
whose random password works."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scanner.accounts import authenticate
from scanner.clock import now_utc
from scanner.demo import DEMO_ADMIN, run_demo
from scanner.store import Store


def test_demo_prints_a_working_workspace_account(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert run_demo(out, weeks=1) in (0, 1)
    printed = capsys.readouterr().out
    found = re.search(rf"serve, then open http://127\.0\.0\.1:8000/ and log in as {DEMO_ADMIN} with the password "
                      r"(\S+) \(made at random", printed)
    assert found, printed[-500:]
    password = found.group(1)
    with Store.open(out / "signals.db") as store:
        assert authenticate(store, DEMO_ADMIN, password, now_utc()).ok
        assert not authenticate(store, DEMO_ADMIN, password + "x", now_utc()).ok
        row = store.db.execute("SELECT role FROM users WHERE name = ?", (DEMO_ADMIN,)).fetchone()
        assert row == ("admin",)
        assert password not in repr(store.db.execute("SELECT * FROM users").fetchall())  # only its hash
