"""Hostile inputs a review found after the first round of fixes; each failed before its fix."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from scanner.errors import BudgetExceededError
from scanner.http import HttpClient
from scanner.netguard import Deadline
from tests.hostile import payloads
from tests.hostile.server import HostileServer, drip, respond

FEED = "application/rss+xml"


def test_a_bad_content_length_on_one_page_costs_only_that_page(srv: HostileServer, fetch_all) -> None:
    srv.routes["/feed"] = respond(payloads.rss(payloads.plain_items(3, srv.url("/p"))), content_type=FEED)
    page = "<html><body><article><p>" + payloads.THAI * 10 + "</p></article></body></html>"
    for i in (1, 2):
        srv.routes[f"/p/{i}"] = respond(page)
    srv.routes["/p/3"] = respond(page, headers={"Content-Length": "\u00b2"})  # "²".isdigit() is True
    run, _, _ = fetch_all(f'- {{id: news, kind: rss, url: "{srv.url("/feed")}", fulltext: true}}')
    assert run.results[0].status == "ok" and run.results[0].items_new == 3


def test_a_five_thousand_digit_retry_after(srv: HostileServer) -> None:
    srv.routes["/busy"] = respond(b"", status="503 Service Unavailable", headers={"Retry-After": "9" * 5000})
    with HttpClient("t", timeout=2, per_host_delay=0, allow_hosts=(f"127.0.0.1:{srv.port}",)) as http:
        started = time.monotonic()
        with pytest.raises(BudgetExceededError) as info:
            http.get(srv.url("/busy"), deadline=Deadline.after(10))
    assert time.monotonic() - started < 5 and len(str(info.value)) < 300


def test_a_slow_name_server_counts_against_the_budget(srv: HostileServer, monkeypatch) -> None:
    real = socket.getaddrinfo

    def slow(host, *args, **kwargs):  # the real resolver behind a name server that takes 3 s
        if host == "slow.test":
            time.sleep(3)
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    srv.routes["/feed"] = drip(payloads.rss(payloads.plain_items(1, srv.url("/x"))), every=1.0)
    allow = (f"slow.test:{srv.port}",)
    with HttpClient("t", timeout=5, per_host_delay=0, obey_robots=False, allow_hosts=allow) as http:
        started = time.monotonic()
        with pytest.raises(BudgetExceededError):
            http.get(f"http://slow.test:{srv.port}/feed", deadline=Deadline.after(2))
    assert time.monotonic() - started < 4  # before: 25 s (the socket made after the watchdog was never cut)


def test_waiting_for_another_sources_turn_at_a_host_respects_the_budget(srv: HostileServer) -> None:
    srv.routes["/a"] = respond(b"<rss/>", content_type=FEED)
    allow = (f"127.0.0.1:{srv.port}",)
    with HttpClient("t", timeout=5, per_host_delay=4, obey_robots=False, allow_hosts=allow) as http:
        http.get(srv.url("/a"))  # the host's last request: the next one may go in 4 s
        other = threading.Thread(target=lambda: http.get(srv.url("/a"), deadline=Deadline.after(100)))
        other.start()  # another source takes the next turn and sleeps it out
        time.sleep(0.2)
        started = time.monotonic()
        with pytest.raises(BudgetExceededError):
            http.get(srv.url("/a"), deadline=Deadline.after(1))
        waited = time.monotonic() - started
        other.join()
    assert waited < 1.5  # before: 3.8 s, blocked on the lock the other source slept in


def test_year_one_dates_and_huge_numbers_cost_one_row(tmp_path: Path, fetch_all) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.jsonl").write_text(
        '{"id": "y1", "title": "ปีที่หนึ่ง", "body": "ข้อความ", "published": "0001-01-01T00:00:00+01:00"}\n'
        '{"id": "big", "title": "ตัวเลข", "body": "ข้อความ", "n": ' + "9" * 5000 + "}\n"
        '{"id": "ok", "title": "ปกติ", "body": "ข้อความ"}\n', encoding="utf-8")
    run, store, _ = fetch_all(f"- {{id: notes, kind: file, path: {notes}}}")
    assert run.results[0].status == "ok"
    assert sorted(r["guid"] for r in store.query("SELECT guid FROM items")) == ["ok", "y1"]
    assert any("a.jsonl:2:" in w for w in run.results[0].warnings)


def test_a_sources_copy_carries_over_its_own_full_text(srv: HostileServer, fetch_all) -> None:
    items = payloads.plain_items(2, srv.url("/p"))
    srv.routes["/a"] = respond(payloads.rss(items), content_type=FEED)
    srv.routes["/b"] = respond(payloads.rss(items), content_type=FEED)
    for i in (1, 2):
        srv.routes[f"/p/{i}"] = respond(f"<html><body><article><p>{payloads.THAI * 10}</p></article></body></html>")
    sources = f"""
        - {{id: a, kind: rss, url: "{srv.url('/a')}"}}
        - {{id: b, kind: rss, url: "{srv.url('/b')}", fulltext: true}}
    """
    fetch_all(sources)
    first = [h for h in srv.hits if h.startswith("/p/")]
    fetch_all(sources)
    assert len(first) == 2 and [h for h in srv.hits if h.startswith("/p/")] == first  # not fetched again
