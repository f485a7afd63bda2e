"""Does `scanner schedule` keep time? A soak run against local feeds, printing what happened.

Starts a local HTTP server with three growing RSS feeds of real Thai government press releases
(demo/data/thaigov_sample.jsonl), runs `python -m scanner schedule` on them with 5-second
intervals and a per-minute digest cron, breaks sources.yaml and sends SIGHUP half-way, restores it,
then sends SIGTERM. Prints, per source, how regularly it was fetched, and the digest, reload and
stop outcomes.

    python bench/schedule_soak.py [--seconds 120] [--every 5]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "demo" / "data" / "thaigov_sample.jsonl"
FEEDS = ("gov-a", "gov-b", "gov-c")


def load_rows() -> list[dict[str, str]]:
    with SAMPLE.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def render(name: str, rows: list[dict[str, str]]) -> bytes:
    items = "".join(
        f"<item><title>{escape(r['title'])}</title><link>{escape(r['url'])}</link><guid>{escape(r['url'])}</guid>"
        f"<pubDate>{format_datetime(datetime.fromisoformat(r['published']).replace(tzinfo=UTC))}</pubDate>"
        f"<description>{escape(r['body'][:300])}</description></item>"
        for r in rows
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{name}</title>'
            f"<link>http://127.0.0.1/</link><description>{name}</description>{items}</channel></rss>").encode()


class FeedServer:
    def __init__(self, rows: list[dict[str, str]], step: int = 5) -> None:
        per = len(rows) // len(FEEDS)
        self.rows = {n: rows[i * per:(i + 1) * per] for i, n in enumerate(FEEDS)}
        self.step = step
        self.hits: dict[str, list[float]] = {n: [] for n in FEEDS}
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.strip("/").removesuffix(".xml")
                if name not in outer.rows:
                    self.send_error(404)
                    return
                with outer.lock:
                    outer.hits[name].append(time.monotonic())
                    body = render(name, outer.rows[name][: outer.step * len(outer.hits[name])])
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])


def config_text(port: int, every: int) -> str:
    lines = ["settings:", "  per_host_delay: 0", "  timezone: Asia/Bangkok", "sources:"]
    for n in FEEDS:
        lines += [f"  - id: {n}", "    kind: rss", f"    url: http://127.0.0.1:{port}/{n}.xml", "    language: th",
                  f"    every: {every}s"]
    lines += ["analysis:", "  embedder: hashing", "digest:", '  schedule: "* * * * *"']
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--every", type=int, default=5)
    ap.add_argument("--no-catch-up", action="store_true", help="so that the cron, not the start, writes the digest")
    args = ap.parse_args()
    server = FeedServer(load_rows())
    work = Path(tempfile.mkdtemp(prefix="scanner-soak-"))
    cfg = work / "sources.yaml"
    cfg.write_text(config_text(server.port, args.every), encoding="utf-8")
    log_path = work / "schedule.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    python = [sys.executable, "-S"] if sys.flags.no_site else [sys.executable]  # -S: keep an isolated sys.path
    started = time.monotonic()
    with log_path.open("wb") as log:
        extra = ["--no-catch-up"] if args.no_catch_up else []
        proc = subprocess.Popen([*python, "-m", "scanner", "--config", str(cfg), "schedule", "--watch", "1",
                                 "--heartbeat", "5", "--debounce", "2", *extra], stdout=log,
                                stderr=subprocess.STDOUT, env=env, cwd=work)
    half = args.seconds / 2
    time.sleep(half)
    cfg.write_text("sources:\n  - id: gov-a\n    kind: rss\n    every: 5 parsecs\n", encoding="utf-8")
    proc.send_signal(signal.SIGHUP)
    time.sleep(min(15.0, half / 2))
    tmp = cfg.with_suffix(".tmp")
    tmp.write_text(config_text(server.port, args.every), encoding="utf-8")
    os.replace(tmp, cfg)
    time.sleep(max(0.0, args.seconds - (time.monotonic() - started)))
    term = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=120)
    stop_s = time.monotonic() - term
    text = log_path.read_text(encoding="utf-8")

    print(f"scanner schedule for {args.seconds:.0f} s, sources every {args.every} s, digest cron '* * * * *'")
    print(f"work dir: {work}\n")
    print(f"{'source':8} {'fetches':>7} {'mean gap s':>10} {'min gap s':>9} {'max gap s':>9} {'max |gap-every|':>15}")
    for n in FEEDS:
        hits = server.hits[n]
        gaps = [b - a for a, b in pairwise(hits)]
        if gaps:
            dev = max(abs(g - args.every) for g in gaps)
            print(f"{n:8} {len(hits):7d} {statistics.mean(gaps):10.2f} {min(gaps):9.2f} {max(gaps):9.2f} {dev:15.2f}")
        else:
            print(f"{n:8} {len(hits):7d}")
    digests = [line for line in text.splitlines() if " scanner.schedule: digest: " in line]
    print(f"\ndigest job fired {len(digests)} times:")
    for line in digests:
        print("  " + line[:160])
    reload_err = [line for line in text.splitlines() if "keeping the previous configuration" in line]
    reloaded = [line for line in text.splitlines() if "scanner.schedule: reload: " in line]
    print(f"\nbroken file + SIGHUP: {len(reload_err)} error line(s): {reload_err[0][:160] if reload_err else '-'}")
    print(f"valid file saved again: {reloaded[-1][:160] if reloaded else 'no reload logged'}")
    db = work / "signals.db"
    conn = sqlite3.connect(db)
    integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    items = conn.execute("SELECT count(*) FROM items").fetchone()[0]
    keys = conn.execute("SELECT count(DISTINCT item_key) FROM items").fetchone()[0]
    hb = conn.execute("SELECT last_job, last_job_summary FROM heartbeat").fetchone()
    conn.close()
    print(f"\nSIGTERM: exit code {code}, stopped {stop_s:.2f} s after the signal; heartbeat: {hb}")
    print(f"database: integrity_check {integrity}; {items} items, {keys} distinct keys")
    print(f"tracebacks in the log: {text.count('Traceback')}")
    reports = sorted(p.name for p in (work / "reports").glob("*")) if (work / "reports").exists() else []
    print(f"reports/: {', '.join(reports) or 'nothing'}")
    server.httpd.shutdown()


if __name__ == "__main__":
    main()
