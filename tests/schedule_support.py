"""Support for the scheduler tests: growing RSS feeds of real Thai press releases on a local server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from scanner.normalize import canonical_url


def render_rss(name: str, rows: list[dict[str, Any]]) -> str:
    items = []
    for r in rows:
        published = datetime.fromisoformat(r["published"]).replace(tzinfo=UTC)
        items.append(
            f"<item><title>{escape(r['title'])}</title><link>{escape(r['url'])}</link>"
            f"<guid>{escape(r['url'])}</guid><pubDate>{format_datetime(published)}</pubDate>"
            f"<description>{escape(r['body'][:400])}</description></item>"
        )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{name}</title>'
            f"<link>http://127.0.0.1/</link><description>ข่าวทำเนียบรัฐบาล {name}</description>"
            + "".join(items) + "</channel></rss>")


class Feeds:
    """``/<name>.xml`` serves the first ``step * n`` rows on its n-th request, and records what it served.

    ``slow(name, seconds)`` makes the next request to a feed wait (at most ``seconds``, or until
    ``release(name)``); ``entered[name]`` is set when a slow request has started, so a test can act
    while the fetch is in flight.
    """

    def __init__(self, server: HTTPServer, feeds: dict[str, list[dict[str, Any]]], step: int = 10,
                 steps: dict[str, int] | None = None) -> None:
        self.server = server
        self.rows = feeds
        self.steps = {n: (steps or {}).get(n, step) for n in feeds}
        self.hits: dict[str, int] = dict.fromkeys(feeds, 0)
        self.served: dict[str, set[str]] = {n: set() for n in feeds}
        self.delays: dict[str, float] = {}
        self.entered: dict[str, threading.Event] = {n: threading.Event() for n in feeds}
        self.released: dict[str, threading.Event] = {n: threading.Event() for n in feeds}
        self._lock = threading.Lock()
        server.no_handler_status_code = 404  # robots.txt and anything else: not found (allowed)
        for name in feeds:
            server.expect_request(f"/{name}.xml").respond_with_handler(self._handler(name))

    def url(self, name: str) -> str:
        return self.server.url_for(f"/{name}.xml")

    def slow(self, name: str, seconds: float) -> None:
        with self._lock:
            self.delays[name] = seconds
            self.entered[name].clear()
            self.released[name].clear()

    def release(self, name: str) -> None:
        """End a slow request now."""
        self.released[name].set()

    def _handler(self, name: str) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            with self._lock:
                delay = self.delays.pop(name, 0.0)
            if delay:
                self.entered[name].set()
                self.released[name].wait(delay)
            with self._lock:
                self.hits[name] += 1
                rows = self.rows[name][: self.steps[name] * self.hits[name]]
                self.served[name].update(canonical_url(r["url"]) or "" for r in rows)
            return Response(render_rss(name, rows), content_type="application/rss+xml; charset=utf-8")

        return handle

    def all_served(self) -> set[str]:
        with self._lock:
            return set().union(*self.served.values())


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition",
             interval: float = 0.05) -> None:
    """Poll until ``condition()`` is true (progress, not timing: the timeout only stops a hung test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def config_text(feeds: Feeds, every: dict[str, str], cron: str = "0 7 * * 1", extra: str = "",
                timeout: float = 10) -> str:
    lines = ["settings:", "  per_host_delay: 0", "  allow_hosts: [127.0.0.1]", f"  timeout: {timeout:g}",
             "  timezone: Asia/Bangkok", "sources:"]
    for name, ev in every.items():
        lines += [f"  - id: {name}", "    kind: rss", f"    url: {feeds.url(name)}", "    language: th",
                  f"    every: {ev}"]
    lines += ["digest:", f'  schedule: "{cron}"']
    return "\n".join(lines) + "\n" + extra
