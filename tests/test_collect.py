"""One broken or hostile source never stops the others."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from scanner.cli import cli
from scanner.store import Store

GOOD = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>ดีอี</title>
<item><title>ดีอี เตือนภัยบัญชีม้า</title><link>https://www.mdes.go.th/news/1</link>
<pubDate>Sat, 01 Mar 2025 03:00:00 GMT</pubDate><description>กระทรวงดิจิทัลฯ เตือนประชาชน</description></item>
</channel></rss>"""

THAI_TIS620 = ("<rss version=\"2.0\"><channel><title>ข่าว</title><item><title>สพร. เปิดบริการทางรัฐ</title>"
               "<link>https://www.dga.or.th/news/2</link><description>บริการภาครัฐดิจิทัล</description>"
               "</item></channel></rss>").encode("tis-620")


def test_bad_sources_fail_alone(httpserver: HTTPServer, write_config: Callable[[str], Path], tmp_path: Path) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/good.xml").respond_with_data(GOOD, content_type="application/rss+xml")
    httpserver.expect_request("/thai.xml").respond_with_data(THAI_TIS620, content_type="text/xml")
    httpserver.expect_request("/404.xml").respond_with_data("gone", status=404)
    httpserver.expect_request("/500.xml").respond_with_data("down", status=500)
    httpserver.expect_request("/broken.xml").respond_with_data("<rss><channel><item><title>x</chan",
                                                               content_type="text/xml")
    httpserver.expect_request("/page.html").respond_with_data(
        "<!doctype html><html><head><title>ข่าว</title></head><body><p>ไม่ใช่ฟีด</p></body></html>",
        content_type="text/html")

    def huge(request: Request) -> Response:
        return Response((b"<rss>" + b"x" * 1_048_576 for _ in range(50)), content_type="text/xml",
                        direct_passthrough=True)

    httpserver.expect_request("/huge.xml").respond_with_handler(huge)
    # (A timeout is tested in test_http.py: the test server handles one request at a time.)
    names = ["good", "thai", "404", "500", "broken", "page", "huge"]
    lines = ["settings:", "  per_host_delay: 0", "  allow_hosts: [127.0.0.1, localhost]", "  timeout: 0.5",
             "  max_bytes: 20MB", "sources:"]
    for n in names:
        path = f"/{n}." + ("html" if n == "page" else "xml")
        lines += [f"  - id: s-{n}", "    kind: rss", f"    url: {httpserver.url_for(path)}"]
    lines += ["  - id: s-refused", "    kind: rss", "    url: http://127.0.0.1:9/feed.xml"]
    write_config("\n".join(lines) + "\n")
    result = CliRunner().invoke(cli, ["fetch"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == "fetched 8 sources: 2 ok, 6 failed; 2 new items, 0 updated"
    with Store.open(tmp_path / "signals.db") as store:
        errors = {r.id: r.state.last_error for r in store.source_rows()}
        titles = sorted(r["title"] for r in store.query("SELECT title FROM items"))
    assert titles == ["ดีอี เตือนภัยบัญชีม้า", "สพร. เปิดบริการทางรัฐ"]
    assert errors["s-good"] is None and errors["s-thai"] is None
    assert "HTTP 404" in errors["s-404"]
    assert "HTTP 500" in errors["s-500"]
    assert "malformed feed with no usable entries: SAXParseException" in errors["s-broken"]
    assert "not a feed: the URL returned an HTML page" in errors["s-page"]
    assert "over the 20,000,000-byte cap" in errors["s-huge"]
    assert "connection refused" in errors["s-refused"]
    status = CliRunner().invoke(cli, ["status", "--format", "json"])
    assert status.exit_code == 0 and '"failures": 1' in status.output


def test_db_option_overrides_settings(httpserver: HTTPServer, write_config: Callable[[str], Path],
                                      tmp_path: Path) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/good.xml").respond_with_data(GOOD)
    write_config(f"settings:\n  per_host_delay: 0\n  allow_hosts: [127.0.0.1]\nsources:\n  - id: g\n    kind: rss\n"
                 f"    url: {httpserver.url_for('/good.xml')}\n")
    other = tmp_path / "elsewhere" / "x.db"
    assert CliRunner().invoke(cli, ["--db", str(other), "fetch"]).exit_code == 0
    assert other.exists() and not (tmp_path / "signals.db").exists()
    env_db = tmp_path / "env.db"
    assert CliRunner().invoke(cli, ["fetch", "--all"], env={"SCANNER_DB": str(env_db)}).exit_code == 0
    assert env_db.exists()
