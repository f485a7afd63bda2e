"""Seventeen hostile sources and two healthy ones in one ``fetch --all``, then ``run --once``.

Limits: the fetch ends within its budget (four workers, ``source_budget: 4``: at most a few
budgets in all); the healthy sources' items are all stored with their own titles; the digest is
written and nothing in it is live. The closing note of the hardening issue quotes this run.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path

from click.testing import CliRunner

from scanner.cli import cli
from scanner.store import Store
from tests.hostile import payloads
from tests.hostile.server import HostileServer, drip, endless, gzip_bomb, redirect, respond
from tests.hostile.test_text import BILLION_LAUGHS, XXE
from tests.test_digest_safety import parse

SCRIPT = '<script>alert("x")</script><img src=x onerror="alert(1)"> ข่าวปลอม'


def healthy_items(thaigov: list[dict], base: str, offset: int) -> list[dict[str, str]]:
    rows = [r for r in thaigov if r.get("relevant")][offset:offset + 8]
    return [{"title": html.escape(r["title"]), "link": f"{base}/{i}", "guid": f"{base}/{i}",
             "description": html.escape(r["body"][:600]), "pubDate": f"Wed, 0{8 + i % 3} Jan 2025 09:00:00 +0700"}
            for i, r in enumerate(rows)]


def test_hostile_sources_and_two_healthy_ones(tmp_path: Path, thaigov: list[dict]) -> None:
    with HostileServer() as srv, HostileServer() as admin:
        admin.routes["/admin"] = respond("<p>ADMIN SECRET</p>")
        feed = "application/rss+xml"
        good_a = healthy_items(thaigov, srv.url("/a"), 0)
        good_b = healthy_items(thaigov, srv.url("/b"), 8)
        copy = [dict(it, title=html.escape(SCRIPT), description="ปลอม") for it in good_a]
        srv.routes.update({
            "/good-a": respond(payloads.rss(good_a), content_type=feed),
            "/good-b": respond(payloads.rss(good_b), content_type=feed),
            "/copycat": respond(payloads.rss(copy), content_type=feed),
            "/drip": drip(payloads.rss(good_b), every=1.0),
            "/slow-headers": drip(b"<rss/>", every=1.0, headers_too=True),
            "/to-admin": redirect(admin.url("/admin")),
            "/to-localhost": redirect(f"http://localhost:{admin.port}/admin"),
            "/gzip-bomb": gzip_bomb(300_000_000),
            "/endless": endless(),
            "/busy": respond(b"", status="503 Service Unavailable", headers={"Retry-After": "100000"}),
            "/surrogates": respond(payloads.surrogate_feed(srv.url("")), content_type=feed),
            "/categories": respond(payloads.many_categories(100_000), content_type=feed),
            "/nested": respond(payloads.rss([{"title": "ลึก", "link": srv.url("/n"),
                                              "description": payloads.nested_divs_escaped()}]), content_type=feed),
            "/xxe": respond(XXE.encode(), content_type=feed),
            "/laughs": respond(BILLION_LAUGHS.encode(), content_type=feed),
            "/gone": respond(b"gone", status="404 Not Found"),
            "/html": respond("<html><body><p>not a feed</p></body></html>"),
            "/title": respond(payloads.huge_thai_title(1_000_000), content_type=feed),
            "/api/3/action/package_search": respond(payloads.ckan_answer(
                [payloads.ckan_dataset(1, tags=5), payloads.surrogate_dataset(2)]), content_type="application/json"),
        })
        healthy = ("/good-a", "/good-b", "/robots.txt", "/api/3/action/package_search")
        hostile = [p for p in srv.routes if p not in healthy]
        lines = ["settings:", "  per_host_delay: 0", "  timeout: 2", "  source_budget: 4",
                 f"  allow_hosts: ['127.0.0.1:{srv.port}']", "sources:",
                 f"  - {{id: good-a, kind: rss, url: '{srv.url('/good-a')}'}}"]
        lines += [f"  - {{id: h{n:02d}, kind: rss, url: '{srv.url(p)}'}}" for n, p in enumerate(hostile)]
        lines += [f"  - {{id: portal, kind: ckan, url: '{srv.url('')}'}}",
                  f"  - {{id: good-b, kind: rss, url: '{srv.url('/good-b')}'}}"]
        (tmp_path / "sources.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")

        started = time.monotonic()
        fetched = CliRunner().invoke(cli, ["fetch", "--all", "--as-of", "2025-01-14"])
        elapsed = time.monotonic() - started
        assert fetched.exit_code == 1, fetched.output  # some sources failed, the run did not
        assert elapsed < 45, elapsed  # 20 sources, 4 workers, 4 s budget each
        assert [h for h in admin.hits if h != "/robots.txt"] == []

        with Store.open(tmp_path / "signals.db") as store:
            for sid, items in (("good-a", good_a), ("good-b", good_b)):
                stored = sorted(r["title"] for r in store.query("SELECT title FROM items WHERE source_id = ?", [sid]))
                assert stored == sorted(html.unescape(it["title"]) for it in items)
            fetches = store.query("SELECT source_id, status FROM fetches")
            assert len(fetches) == len(hostile) + 3  # every source recorded, the failed ones too
            failed = sum(1 for f in fetches if f["status"] == "failed")
            items = store.count_items()

        ran = CliRunner().invoke(cli, ["run", "--once", "--as-of", "2025-01-14"])
        assert ran.exit_code in (0, 1), ran.output
        digest = tmp_path / "reports" / "2025-W02.html"
        assert digest.exists(), ran.output
        page = digest.read_text(encoding="utf-8")
        live = parse(page)
        assert "script" not in live.tags and "img" not in live.tags and live.handlers == []
        for link in live.links:
            assert link.startswith(("https://", "http://", "#")) or link.endswith((".html", ".md", ".json", ".xml"))
        assert "ADMIN SECRET" not in page and "\ud800" not in page
        data = json.loads((tmp_path / "reports" / "2025-W02.json").read_text(encoding="utf-8"))
        assert data["week"] == "2025-W02"
        feed_xml = (tmp_path / "reports" / "feed.xml").read_text(encoding="utf-8")
        assert "<script" not in feed_xml
        print(f"\nend-to-end: fetch --all of {len(hostile) + 3} sources took {elapsed:.1f} s: {failed} failed, "
              f"{items} items stored; run --once wrote {digest.name} ({len(page):,} bytes)")
