"""Running beside the scheduler: five people post verdicts through a live server (uvicorn on
127.0.0.1) while `scanner analyse` works the same database, holding the lock. Every verdict is
stored, the analyses succeed, and the database is intact."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from scanner.accounts import add_user
from scanner.cli import cli
from scanner.config import load_config
from scanner.store import Store
from scanner.web.app import create_app
from tests.test_digest_email import free_port
from tests.test_lock import analysed_sample
from tests.web_support import CSRF_RE

pytestmark = pytest.mark.slow
WRITERS = 5



def post_verdicts(base: str, name: str, signal_id: int, stop: threading.Event, out: dict[str, Any]) -> None:
    sent: list[str] = []
    with httpx.Client(base_url=base, timeout=60) as c:
        token = CSRF_RE.search(c.get("/login").text).group(1)  # type: ignore[union-attr]
        r = c.post("/login", data={"username": name, "password": f"{name}-password", "csrf_token": token})
        token = CSRF_RE.search(c.get(f"/signals/{signal_id}").text).group(1)  # type: ignore[union-attr]
        n = 0
        while not stop.is_set() or n < 3:
            note = f"{name} #{n}"
            r = c.post(f"/signals/{signal_id}/review", data={"verdict": "watch", "note": note, "csrf_token": token},
                       follow_redirects=False)
            if r.status_code != 303:
                out.setdefault("errors", []).append((name, r.status_code, r.text[:200]))
                return
            sent.append(note)
            n += 1
    out[name] = sent


def test_five_clients_post_verdicts_while_analyse_runs(tmp_path: Path, thaigov: list[dict[str, Any]]) -> None:
    cfg, runner = analysed_sample(tmp_path, thaigov)
    db = tmp_path / "signals.db"
    names = [f"curator{i}" for i in range(WRITERS)]
    with Store.open(db) as store:
        signal_id = int(store.query("SELECT min(id) AS id FROM signals")[0]["id"])
        for name in names:
            add_user(store, name, "curator", f"{name}-password", datetime.now(UTC), "test")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(load_config(cfg), db), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    stop, out = threading.Event(), {}  # type: ignore[var-annotated]
    writers = [threading.Thread(target=post_verdicts, args=(f"http://127.0.0.1:{port}", n, signal_id, stop, out))
               for n in names]
    try:
        for w in writers:
            w.start()
        started = datetime.now(UTC).isoformat()
        for day in ("2025-01-31", "2025-02-28", "2025-03-31"):
            result = runner.invoke(cli, ["--config", str(cfg), "analyse", "--as-of", day])
            assert result.exit_code == 0, result.output
        finished = datetime.now(UTC).isoformat()
    finally:
        stop.set()
        for w in writers:
            w.join(timeout=120)
        server.should_exit = True
        thread.join(timeout=30)
    assert "errors" not in out, out["errors"]
    sent = sorted(note for n in names for note in out[n])
    with Store.open(db) as store:
        stored = store.query("SELECT by, note, created_at FROM reviews ORDER BY id")
        audit = store.query("SELECT count(*) AS n FROM audit WHERE action = 'review'")[0]["n"]
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        runs = store.query("SELECT count(*) AS n FROM runs WHERE kind = 'analyse' AND finished_at IS NOT NULL")
    assert sorted(r["note"] for r in stored) == sent  # every verdict present, once
    assert audit == len(sent)
    assert {r["by"] for r in stored} == set(names)
    during = sum(started <= r["created_at"] <= finished for r in stored)
    assert during >= WRITERS  # written while analyse ran
    assert runs[0]["n"] == 4
    print(f"\n{len(sent)} verdicts from {WRITERS} clients, {during} while analyse ran; integrity_check ok")
