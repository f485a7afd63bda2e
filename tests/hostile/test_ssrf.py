"""Found 5: SSRF. A stranger's feed must not steer the scanner into the lab's own network.

``srv`` is the stranger's site (allowed by its port, as the demo allows 127.0.0.1); ``admin`` is
an "internal" server on another port of the same machine, which nothing may reach. Limit: what is
stored, and that the admin server saw no request at all.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest

from scanner.errors import RefusedURLError
from scanner.http import HttpClient
from scanner.netguard import allow_entry, host_allowed, internal_address
from tests.hostile import payloads
from tests.hostile.server import HostileServer, redirect, respond

SECRET = "ADMIN-PANEL-SECRET รหัสผ่านผู้ดูแล"


@pytest.fixture
def admin() -> Iterator[HostileServer]:
    with HostileServer() as server:
        server.routes["/admin"] = respond(f"<html><body><article><p>{SECRET} " + payloads.THAI * 5
                                          + "</p></article></body></html>")
        yield server


def admin_hits(admin: HostileServer) -> list[str]:
    return [h for h in admin.hits if h != "/robots.txt"]


@pytest.mark.parametrize("target", [
    "http://127.0.0.1:{port}/admin",
    "http://localhost:{port}/admin",
    "http://2130706433:{port}/admin",
    "http://0x7f.0.0.1:{port}/admin",
    "http://user@127.0.0.1:{port}/admin",
    "http://[::ffff:127.0.0.1]:{port}/admin",
])
def test_a_redirect_into_the_network_is_refused(srv: HostileServer, admin: HostileServer, fetch_all,
                                                target: str) -> None:
    srv.routes["/feed"] = redirect(target.format(port=admin.port))
    run, _store, _ = fetch_all(f'- {{id: evil, kind: rss, url: "{srv.url("/feed")}"}}')
    assert run.results[0].status == "failed"
    assert "internal address" in (run.results[0].error or "")
    assert admin_hits(admin) == [] and admin.hits == []


def test_a_three_hop_chain_is_checked_on_every_hop(srv: HostileServer, admin: HostileServer, fetch_all) -> None:
    srv.routes["/feed"] = redirect(srv.url("/hop1"))
    srv.routes["/hop1"] = redirect(srv.url("/hop2"))
    srv.routes["/hop2"] = redirect(admin.url("/admin"))
    run, _, _ = fetch_all(f'- {{id: evil, kind: rss, url: "{srv.url("/feed")}"}}')
    assert run.results[0].status == "failed" and admin.hits == []
    assert srv.hits.count("/hop2") == 1


def test_full_text_links_into_the_network_are_not_fetched(srv: HostileServer, admin: HostileServer,
                                                          fetch_all) -> None:
    items = [{"title": "ข่าว", "link": admin.url("/admin"), "description": "สรุปข่าวจากฟีด"}]
    srv.routes["/feed"] = respond(payloads.rss(items), content_type="application/rss+xml")
    run, store, _ = fetch_all(f'- {{id: evil, kind: rss, url: "{srv.url("/feed")}", fulltext: true}}')
    assert run.results[0].status == "ok" and admin.hits == []
    stored = store.query("SELECT content, summary FROM items")[0]
    assert SECRET not in stored["content"] and stored["summary"] == "สรุปข่าวจากฟีด"


def test_full_text_and_next_pages_stay_on_the_sources_site(srv: HostileServer, fetch_all, monkeypatch) -> None:
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def counting(host, *args, **kwargs):  # the real resolver, counted
        looked_up.append(str(host))
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    items = [{"title": "ข่าว", "link": "http://elsewhere.example/article", "description": "สรุป"}]
    srv.routes["/feed"] = respond(payloads.rss(items), content_type="application/rss+xml")
    srv.routes["/list"] = respond('<html><body><ul><li><a href="/a1">ข่าวหนึ่ง</a></li></ul>'
                                  '<a class="next" href="http://elsewhere.example/list2">ถัดไป</a></body></html>')
    run, _store, _ = fetch_all(f"""
        - {{id: feed, kind: rss, url: "{srv.url('/feed')}", fulltext: true}}
        - {{id: list, kind: html, url: "{srv.url('/list')}", item: li, next_page: a.next, max_pages: 3}}
    """)
    result = {r.source_id: r for r in run.results}
    assert result["feed"].status == "ok" and any("other sites" in w for w in result["feed"].warnings)
    assert result["list"].status == "ok" and any("another site" in w for w in result["list"].warnings)
    assert "elsewhere.example" not in looked_up  # never even resolved


def test_follow_offsite_and_allow_hosts_open_what_they_name(srv: HostileServer, admin: HostileServer,
                                                            fetch_all) -> None:
    """The positive control: an allowed host is fetched (so the refusals above are the policy)."""
    items = [{"title": "ข่าว", "link": admin.url("/admin"), "description": "สรุป"}]
    srv.routes["/feed"] = respond(payloads.rss(items), content_type="application/rss+xml")
    _run, store, _ = fetch_all(f'- {{id: ok, kind: rss, url: "{srv.url("/feed")}", fulltext: true}}',
                              settings=f"allow_hosts: ['127.0.0.1:{srv.port}', '127.0.0.1:{admin.port}']")
    assert SECRET in store.query("SELECT content FROM items")[0]["content"]


def test_each_connection_resolves_once_and_connects_to_what_it_checked(srv: HostileServer, monkeypatch) -> None:
    """No DNS rebinding: the name is resolved once per connection, and that answer is used."""
    answers: list[str] = []
    real = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):  # first answer public, later ones internal
        if not str(host).replace(".", "").isdigit():  # numeric lookups resolve nothing
            answers.append(host)
        if host == "rebind.test":
            ip = "93.184.216.34" if len(answers) == 1 else "127.0.0.1"
            return real(ip, port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with (HttpClient("t", timeout=1, per_host_delay=0, obey_robots=False, retries=0) as http,
          pytest.raises(Exception) as info):
        http.get(f"http://rebind.test:{srv.port}/x")
    assert answers == ["rebind.test"]  # one lookup: the public answer was the one connected to
    assert srv.hits == []  # and it never reached the local server behind the second answer
    assert not isinstance(info.value, RefusedURLError)


@pytest.mark.parametrize(("address", "internal"), [
    ("127.0.0.1", True), ("10.1.2.3", True), ("172.16.0.1", True), ("192.168.1.1", True), ("169.254.169.254", True),
    ("100.64.0.1", True), ("0.0.0.0", True), ("224.0.0.1", True), ("240.0.0.1", True), ("::1", True),
    ("fe80::1", True), ("fc00::1", True), ("ff02::1", True), ("::ffff:10.0.0.1", True),
    ("8.8.8.8", False), ("203.150.1.1", False), ("2001:4860:4860::8888", False),
])
def test_internal_addresses(address: str, internal: bool) -> None:
    assert internal_address(ipaddress.ip_address(address)) is internal


def test_allow_hosts_entries() -> None:
    assert allow_entry("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert allow_entry("[::1]:81") == ("::1", 81) and allow_entry("::1") == ("::1", None)
    assert host_allowed("LOCALHOST", 99, ["localhost"]) and not host_allowed("127.0.0.1", 99, ["127.0.0.1:98"])
    for bad in ("http://x", "a b", "x:0", "x:99999", "", "user@x"):
        with pytest.raises(ValueError):
            allow_entry(bad)
