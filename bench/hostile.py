"""Hostile inputs before and after the hardening: time, peak memory and what was stored.

Each case serves its input from ``tests/hostile/server.py`` on 127.0.0.1 and runs the real CLI
(``scanner fetch --all``, or ``sources check`` for YAML) in its own process, so ``wait4`` gives
that process's own peak RSS. A case still running after ``--cap`` seconds is stopped and shown as
such. ``--before PATH`` runs the same cases against another checkout (for example a ``git
worktree`` of the commit before the hardening) with settings that checkout understands.

    python bench/hostile.py [--before /tmp/before] [--cap 30] [--only NAME]
"""

from __future__ import annotations

import argparse
import html
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.hostile import payloads  # noqa: E402
from tests.hostile.server import HostileServer, Route, drip, redirect, respond  # noqa: E402

FEED = "application/rss+xml"


@dataclass
class Case:
    name: str
    routes: Callable[[HostileServer, HostileServer], dict[str, Route]]
    sources: Callable[[HostileServer, Path], str]
    check: Callable[[sqlite3.Connection], str]
    files: Callable[[Path], None] = lambda folder: None
    command: tuple[str, ...] = ("fetch", "--all")
    yaml: Callable[[], str] | None = None  # the whole sources.yaml (config cases)
    twice: bool = False


def rss(srv: HostileServer, path: str, sid: str, extra: str = "") -> str:
    return f"  - {{id: {sid}, kind: rss, url: '{srv.url(path)}'{extra}}}\n"


def count(db: sqlite3.Connection, sql: str) -> int:
    return int(db.execute(sql).fetchone()[0])


def fetch_status(db: sqlite3.Connection, sid: str) -> str:
    row = db.execute("SELECT status FROM fetches WHERE source_id = ? ORDER BY id DESC LIMIT 1", [sid]).fetchone()
    return row[0] if row else "not recorded"


def put(folder: str, name: str, data: Callable[[], str | bytes]) -> Callable[[Path], None]:
    """Write one data file into ``folder`` of the case's directory."""

    def write(d: Path) -> None:
        (d / folder).mkdir()
        value = data()
        (d / folder / name).write_bytes(value if isinstance(value, bytes) else value.encode("utf-8"))

    return write


def control_feed(srv: HostileServer) -> bytes:
    return payloads.rss(payloads.plain_items(3, srv.url("/c"), prefix="ข่าวจริง"))


CASES = [
    Case("lone surrogates (CKAN record, file row) + a control feed",
         lambda s, a: {"/api/3/action/package_search": respond(payloads.ckan_answer(
             [payloads.surrogate_dataset(1), payloads.ckan_dataset(2)]), content_type="application/json"),
             "/control": respond(control_feed(s), content_type=FEED)},
         lambda s, d: f"  - {{id: portal, kind: ckan, url: '{s.url('')}'}}\n"
                      f"  - {{id: notes, kind: file, path: '{d / 'notes'}'}}\n" + rss(s, "/control", "control"),
         lambda db: (f"{count(db, 'SELECT count(*) FROM items')} items stored; control "
                     f"{fetch_status(db, 'control')}, portal {fetch_status(db, 'portal')}"),
         files=put("notes", "rows.jsonl", payloads.surrogate_rows)),
    Case("a copycat feed reusing the control feed's URLs (fetched twice)",
         lambda s, a: {"/control": respond(control_feed(s), content_type=FEED),
                       "/copy": respond(payloads.rss([dict(it, title=f"ข่าวปลอม {i}") for i, it in enumerate(
                           payloads.plain_items(3, s.url("/c"), prefix="ข่าวจริง"))]), content_type=FEED)},
         lambda s, d: rss(s, "/control", "control") + rss(s, "/copy", "copy"),
         lambda db: ("control's own titles kept: "
                     + str(count(db, "SELECT count(*) FROM items WHERE source_id='control' AND title LIKE 'ข่าวจริง%'")) +
                     f"/3; updated on 2nd run: {count(db, 'SELECT sum(items_updated) FROM fetches WHERE id > 2')}"),
         twice=True),
    Case("body dripping 1 byte / 2 s (timeout 5)",
         lambda s, a: {"/drip": drip(control_feed(s), every=2.0)},
         lambda s, d: rss(s, "/drip", "drip"), lambda db: f"fetch {fetch_status(db, 'drip')}"),
    Case("headers dripping 1 byte / s",
         lambda s, a: {"/slow": drip(b"<rss/>", every=1.0, headers_too=True)},
         lambda s, d: rss(s, "/slow", "slow"), lambda db: f"fetch {fetch_status(db, 'slow')}"),
    Case("Retry-After: 100000",
         lambda s, a: {"/busy": respond(b"", status="503 Service Unavailable", headers={"Retry-After": "100000"})},
         lambda s, d: rss(s, "/busy", "busy"), lambda db: f"fetch {fetch_status(db, 'busy')}"),
    Case("full text of 20 slow pages",
         lambda s, a: {"/feed": respond(payloads.rss(payloads.plain_items(20, s.url("/p"))), content_type=FEED),
                       **{f"/p/{i}": drip(b"<html><body><p>" + payloads.THAI.encode() * 20 + b"</p></body></html>",
                                          every=0.05, limit=120) for i in range(1, 21)}},
         lambda s, d: rss(s, "/feed", "slow", ", fulltext: true"),
         lambda db: f"{count(db, 'SELECT count(*) FROM items')} items stored"),
    Case("40,000 <p> in a description",
         lambda s, a: {"/p": respond(payloads.rss([{"title": "ย่อหน้า", "link": s.url("/x"),
                                                    "description": html.escape(payloads.many_paragraphs())}]),
                                     content_type=FEED)},
         lambda s, d: rss(s, "/p", "p"), lambda db: f"{count(db, 'SELECT count(*) FROM items')} items stored"),
    Case("100,000 nested escaped <div>",
         lambda s, a: {"/n": respond(payloads.rss([{"title": "ลึก", "link": s.url("/x"),
                                                    "description": payloads.nested_divs_escaped()}]),
                                     content_type=FEED)},
         lambda s, d: rss(s, "/n", "n"), lambda db: f"{count(db, 'SELECT count(*) FROM items')} items stored"),
    Case("100,000 <category> on one item",
         lambda s, a: {"/c": respond(payloads.many_categories(), content_type=FEED)},
         lambda s, d: rss(s, "/c", "c"), lambda db: f"{count(db, 'SELECT count(*) FROM items')} items stored"),
    Case("a 1 MB Thai title",
         lambda s, a: {"/t": respond(payloads.huge_thai_title(), content_type=FEED)},
         lambda s, d: rss(s, "/t", "t"),
         lambda db: f"title stored at {count(db, 'SELECT max(length(title)) FROM items'):,} chars"),
    Case("a 50 MB JSON Lines body",
         lambda s, a: {}, lambda s, d: f"  - {{id: notes, kind: file, path: '{d / 'big'}'}}\n",
         lambda db: f"{count(db, 'SELECT count(*) FROM items')} rows stored",
         files=put("big", "big.jsonl", payloads.jsonl_huge_body)),
    Case("redirect to an internal admin page",
         lambda s, a: {"/feed": respond(payloads.rss([{"title": "ข่าว", "link": a.url("/admin"),
                                                       "description": "สรุป"}]), content_type=FEED),
                       "/r": redirect(a.url("/admin"))},
         lambda s, d: rss(s, "/feed", "ft", ", fulltext: true") + rss(s, "/r", "redir"),
         lambda db: "admin page stored: " + str(count(db, "SELECT count(*) FROM items WHERE content LIKE '%ADMIN%'"))),
    Case("JSON nested 100,000 deep + a good row",
         lambda s, a: {}, lambda s, d: f"  - {{id: notes, kind: file, path: '{d / 'deep'}'}}\n",
         lambda db: f"{count(db, 'SELECT count(*) FROM items')} rows stored ({fetch_status(db, 'notes')})",
         files=put("deep", "a.jsonl", lambda: payloads.deep_json_row()
                   + '\n{"id": "ok", "title": "บันทึก", "body": "ข้อความ"}\n')),
    Case("CKAN record with tags: 5 + a good one",
         lambda s, a: {"/api/3/action/package_search": respond(payloads.ckan_answer(
             [payloads.ckan_dataset(1, tags=5), payloads.ckan_dataset(2)]), content_type="application/json")},
         lambda s, d: f"  - {{id: portal, kind: ckan, url: '{s.url('')}'}}\n",
         lambda db: f"{count(db, 'SELECT count(*) FROM items')} datasets stored ({fetch_status(db, 'portal')})"),
    Case("443-byte YAML alias bomb (sources check)", lambda s, a: {}, lambda s, d: "", lambda db: "",
         command=("sources", "check"), yaml=lambda: payloads.alias_bomb(9)),
]


def settings_for(tree: Path, srv: HostileServer) -> str:
    lines = ["settings:", "  per_host_delay: 0", "  timeout: 5"]
    if (tree / "scanner" / "netguard.py").exists():  # the hardened tree: allow the local server
        lines += [f"  allow_hosts: ['127.0.0.1:{srv.port}']", "  source_budget: 15"]
    return "\n".join(lines) + "\nsources:\n"


def run_case(case: Case, tree: Path, cap: float) -> tuple[str, str, str]:
    with HostileServer() as srv, HostileServer() as admin, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        admin.routes["/admin"] = respond("<html><body><article><p>ADMIN SECRET " + payloads.THAI * 5
                                         + "</p></article></body></html>")
        srv.routes.update(case.routes(srv, admin))
        case.files(folder)
        text = case.yaml() if case.yaml else settings_for(tree, srv) + case.sources(srv, folder)
        (folder / "sources.yaml").write_text(text, encoding="utf-8")
        elapsed, peak, stopped = 0.0, 0, False
        for _ in range(2 if case.twice else 1):
            t, p, s = _run(tree, folder, case.command, cap)
            elapsed, peak, stopped = elapsed + t, max(peak, p), stopped or s
        db_path = folder / "signals.db"
        stored = ""
        if db_path.exists() and case.command[0] == "fetch":
            with sqlite3.connect(db_path) as db:
                try:
                    stored = case.check(db)
                except sqlite3.Error as e:
                    stored = f"({e})"
        time_text = f"stopped at {cap:.0f} s" if stopped else f"{elapsed:.1f} s"
        return time_text, f"{peak / 1e6:,.0f} MB", stored or ("-" if not stopped else "nothing (stopped)")


def _run(tree: Path, folder: Path, command: tuple[str, ...], cap: float) -> tuple[float, int, bool]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "scanner", "--config", str(folder / "sources.yaml"), *command],
                            cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    stopped = threading.Event()

    def stop() -> None:
        stopped.set()
        os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(cap, stop)
    timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.monotonic() - started, usage.ru_maxrss * 1024, stopped.is_set()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--before", type=Path, help="another checkout to run the same cases against")
    parser.add_argument("--cap", type=float, default=30.0, help="seconds before a case is stopped")
    parser.add_argument("--only", help="run the cases whose name contains this")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.only or args.only in c.name]
    rows = []
    for case in cases:
        before = run_case(case, args.before, args.cap) if args.before else None
        after = run_case(case, ROOT, args.cap)
        rows.append((case.name, before, after))
        print(f"  {case.name}: before {before}  after {after}", file=sys.stderr, flush=True)
    head = "| input | " + ("before: time | peak | stored | " if args.before else "") + "after: time | peak | stored |"
    print(head)
    print("|" + " --- |" * (head.count("|") - 1))
    for name, before, after in rows:
        cells = [name, *(before or ()), *after]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
