"""``make demo`` / ``python -m scanner.demo``: the whole pipeline, offline, on bundled real data.

The 700 Thai government press releases in ``demo/data/thaigov_sample.jsonl`` (public domain) are
served as five RSS/Atom feeds by a local HTTP server on 127.0.0.1 that this module starts and stops
itself, plus one ``file`` source (a back-filled archive). The demo then replays the seven months
week by week (``run --once --as-of`` each Monday morning): each feed shows only what was published by then,
as a live feed would, so conditional GET, new items, analysis and the weekly digests all happen as
they would in production. Output: ``demo/out/`` (``signals.db``, ``reports/``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from scanner.store import Store

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "demo" / "data" / "thaigov_sample.jsonl"
BANGKOK = ZoneInfo("Asia/Bangkok")

# feed id -> (name, upstream categories, format)
FEEDS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "thaigov-social": ("ทำเนียบรัฐบาล: ข่าวด้านสังคม", ("ด้านสังคม",), "rss"),
    "thaigov-economy": ("ทำเนียบรัฐบาล: ข่าวด้านเศรษฐกิจ", ("ด้านเศรษฐกิจ",), "rss"),
    "thaigov-pm": ("ทำเนียบรัฐบาล: ข่าวนายกรัฐมนตรีและรองนายกฯ",
                   ("ข่าวนายกรัฐมนตรี", "ข่าวรอง นรม  รมตนร", "ข่าวทำเนียบรัฐบาล"), "rss"),
    "thaigov-security-law": ("ทำเนียบรัฐบาล: ความมั่นคง กฎหมาย โฆษก",
                             ("ด้านความมั่นคง", "ด้านกฎหมายฯ", "ข่าวคณะโฆษก", "ด้านวัฒนธรรมท่องเที่ยวฯ",
                              "ด้านการศึกษาฯ", "อื่นๆ"), "rss"),
    "thaigov-english": ("Royal Thai Government: Government News", ("Government News", "Statements"), "atom"),
}
ARCHIVE_ID = "thaigov-radio-archive"  # every other category, as a back-filled JSON Lines archive
FEED_WINDOW = 40  # a feed shows its newest 40 items, like a live feed


def load_items(path: Path = DATA) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def published_at(item: dict[str, Any]) -> datetime:
    """The sample has dates only: publish each at 09:00 Bangkok time."""
    return datetime.combine(date.fromisoformat(item["published"]), time(9), BANGKOK)


def build_rss(title: str, link: str, items: Sequence[dict[str, Any]]) -> bytes:
    """An RSS 2.0 document for ``items`` (dicts with id, url, title, body, published)."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>{escape(link)}</link><language>th</language>",
        f"<description>{escape(title)}</description>",
    ]
    for it in items:
        parts.append(
            "<item>"
            f"<title>{escape(it['title'])}</title>"
            f"<link>{escape(it['url'])}</link>"
            f'<guid isPermaLink="false">{escape(it["id"])}</guid>'
            f"<pubDate>{format_datetime(published_at(it).astimezone(UTC), usegmt=True)}</pubDate>"
            f"<description>{escape(it['body'])}</description>"
            "</item>"
        )
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")


def build_atom(title: str, link: str, items: Sequence[dict[str, Any]]) -> bytes:
    """An Atom 1.0 document for ``items``."""
    updated = max((published_at(i) for i in items), default=datetime(2024, 1, 1, tzinfo=UTC))
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
        f"<title>{escape(title)}</title><id>{escape(link)}</id>",
        f'<link href="{escape(link)}"/><updated>{updated.isoformat()}</updated>',
    ]
    for it in items:
        parts.append(
            "<entry>"
            f"<title>{escape(it['title'])}</title><id>{escape(it['url'])}</id>"
            f'<link href="{escape(it["url"])}"/>'
            f"<published>{published_at(it).isoformat()}</published>"
            f"<updated>{published_at(it).isoformat()}</updated>"
            f'<content type="text">{escape(it["body"])}</content>'
            "</entry>"
        )
    parts.append("</feed>")
    return "\n".join(parts).encode("utf-8")


class FeedServer:
    """A local HTTP server of feeds whose content depends on a settable clock.

    ``/<feed>.xml`` serves the newest ``window`` items published up to ``now``, with an ETag and
    Last-Modified, and answers 304 to a matching conditional request. ``/robots.txt`` allows all.
    Used by the demo and the tests; binds 127.0.0.1 only.
    """

    def __init__(self, feeds: dict[str, tuple[str, str, list[dict[str, Any]]]], window: int = FEED_WINDOW) -> None:
        self.feeds = feeds  # feed id -> (title, format, items sorted by date)
        self.window = window
        self.now: datetime | None = None
        self.requests: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, name="feed-server", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, feed_id: str) -> str:
        return f"{self.base_url}/{feed_id}.xml"

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def document(self, feed_id: str) -> tuple[bytes, str, datetime]:
        title, fmt, items = self.feeds[feed_id]
        visible = [i for i in items if self.now is None or published_at(i) <= self.now]
        visible = sorted(visible, key=published_at, reverse=True)[: self.window]
        body = build_atom(title, self.url(feed_id), visible) if fmt == "atom" else build_rss(
            title, self.url(feed_id), visible)
        modified = max((published_at(i) for i in visible), default=datetime(2024, 1, 1, tzinfo=UTC))
        return body, ("application/atom+xml" if fmt == "atom" else "application/rss+xml"), modified

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/robots.txt":
                    self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
                    return
                feed_id = path.strip("/").removesuffix(".xml")
                if feed_id not in server.feeds:
                    self._send(404, b"not found", "text/plain")
                    return
                body, ctype, modified = server.document(feed_id)
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    with server._lock:
                        server.requests.append((feed_id, 304))
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                with server._lock:
                    server.requests.append((feed_id, 200))
                self._send(200, body, ctype + "; charset=utf-8",
                           {"ETag": etag, "Last-Modified": format_datetime(modified.astimezone(UTC),
                                                                           usegmt=True)})

            def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


def split_items(items: Sequence[dict[str, Any]]) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """The sample's items per demo feed, and the rest for the file archive."""
    by_feed: dict[str, list[dict[str, Any]]] = {fid: [] for fid in FEEDS}
    archive = []
    for it in items:
        for fid, (_, cats, _) in FEEDS.items():
            if it["category"] in cats:
                by_feed[fid].append(it)
                break
        else:
            archive.append(it)
    return by_feed, archive


@contextmanager
def serve_sample(items: Sequence[dict[str, Any]] | None = None) -> Iterator[FeedServer]:
    by_feed, _ = split_items(items if items is not None else load_items())
    feeds = {fid: (FEEDS[fid][0], FEEDS[fid][2], sorted(its, key=published_at)) for fid, its in by_feed.items()}
    server = FeedServer(feeds).start()
    try:
        yield server
    finally:
        server.stop()


def write_demo_config(out: Path, server: FeedServer, archive: Sequence[dict[str, Any]]) -> Path:
    """The demo's sources.yaml, pointing at the local server, plus the archive file."""
    out.mkdir(parents=True, exist_ok=True)
    archive_path = out / "archive" / "thaigov_radio_line.jsonl"
    archive_path.parent.mkdir(parents=True, exist_ok=True)
    with archive_path.open("w", encoding="utf-8") as f:
        for it in archive:
            row = {k: it[k] for k in ("id", "url", "title", "published", "body", "lang")}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    lines = [
        "# Generated by `make demo`: the bundled thaigov sample served from 127.0.0.1.",
        "settings:",
        "  db: signals.db",
        "  reports_dir: reports",
        "  per_host_delay: 0",
        "  # The demo's server runs on this machine; only hosts listed here may be internal.",
        f"  allow_hosts: ['{server.base_url.split('//', 1)[1]}']",
        "  user_agent: 'scanner-demo/0.1 (offline demo; contact: lab@example.org)'",
        "sources:",
    ]
    for fid, (name, _, fmt) in FEEDS.items():
        lines += [
            f"  - id: {fid}",
            f"    name: {json.dumps(name, ensure_ascii=False)}",
            "    kind: rss",
            f"    url: {server.url(fid)}",
            f"    language: {'en' if fmt == 'atom' else 'th'}",
            "    tags: [government]",
            "    every: 1d",
        ]
    lines += [
        f"  - id: {ARCHIVE_ID}",
        "    name: 'ทำเนียบรัฐบาล: รายการวิทยุและ LINE (archive)'",
        "    kind: file",
        "    path: archive/thaigov_radio_line.jsonl",
        "    language: th",
        "    tags: [government, archive]",
        "    every: 1w",
    ]
    path = out / "sources.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def mondays(first: date, last: date) -> list[date]:
    """Every Monday after ``first`` up to ``last``: the days a weekly digest is due. The replay stops
    at the last Monday of the data, so the final digest is of a complete week."""
    d = first + timedelta(days=(7 - first.weekday()) % 7 or 7)
    out = []
    while d <= last:
        out.append(d)
        d += timedelta(days=7)
    return out


def run_demo(out: Path, weeks: int | None = None, quiet: bool = False) -> int:
    """Replay the sample week by week into ``out``; return the last run's exit code."""
    from scanner.clock import as_of_datetime
    from scanner.config import load_config
    from scanner.pipeline import run_once
    from scanner.store import Store

    items = load_items()
    if out.exists():
        shutil.rmtree(out)
    _, archive = split_items(items)
    first = min(date.fromisoformat(i["published"]) for i in items)
    last = max(date.fromisoformat(i["published"]) for i in items)
    days = mondays(first, last)
    if weeks:
        days = days[:weeks]
    code = 0
    with serve_sample(items) as server:
        config = load_config(write_demo_config(out, server, archive))
        with Store.open(config.db_path) as store:
            for day in days:
                # Monday 08:00 in Bangkok: just after the weekly digest's default cron (Monday 07:00).
                now = as_of_datetime(datetime.combine(day, time(8)), config.settings.timezone)
                server.now = now
                summary = run_once(config, store, now)
                code = summary.exit_code
                if not quiet:
                    print(f"== as of Monday {day} 08:00 ==")
                    for line in summary.lines:
                        print(f"   {line}")
            total = store.count_items()
            password = demo_admin(store)
    if not quiet:
        print()
        print(f"Demo done: {total} items from {len(FEEDS) + 1} sources in {out / 'signals.db'}")
        reports = out / "reports"
        if reports.exists():
            print(f"Digests: {reports}/ (open {reports / 'index.html'} in a browser)")
        print(f"Try: .venv/bin/scanner --config {out / 'sources.yaml'} status")
        print(f"Workspace: .venv/bin/scanner --config {out / 'sources.yaml'} serve, then open http://127.0.0.1:8000/ "
              f"and log in as {DEMO_ADMIN} with the password {password} (made at random for this demo)")
    return code


DEMO_ADMIN = "demo-admin"


def demo_admin(store: Store) -> str:
    """An admin account for trying the workspace on the demo database; returns its random password."""
    import secrets

    from scanner.accounts import add_user
    from scanner.clock import now_utc

    password = secrets.token_urlsafe(12)
    add_user(store, DEMO_ADMIN, "admin", password, now_utc(), by="make demo")
    return password


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "demo" / "out", help="output folder (replaced)")
    parser.add_argument("--weeks", type=int, default=None, help="replay only the first N weeks")
    args = parser.parse_args(argv)
    code = run_demo(args.out, args.weeks)
    sys.exit(0 if code in (0, 1) else code)


if __name__ == "__main__":
    main()
