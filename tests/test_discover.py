"""`scanner sources discover URL` against a real local HTTP server, through the polite client."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from scanner.cli import cli
from scanner.config import load_config
from scanner.sources.discover import announced_feeds

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>{title}</title><link>{link}</link><language>th-TH</language>
{items}</channel></rss>"""
ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>DGA News (English)</title><id>urn:x</id>
<updated>2025-03-01T00:00:00Z</updated>
<entry><title>Digital ID</title><id>urn:1</id><updated>2025-03-01T00:00:00Z</updated><summary>ThaID</summary></entry>
</feed>"""
PAGE = """<!doctype html><html><head><title>DGA</title>
<link rel="stylesheet" href="/style.css">
<link rel="alternate" hreflang="en" href="/en/">
<link rel="alternate" type="application/rss+xml" title="ข่าวประชาสัมพันธ์" href="news/rss.xml">
<link rel="alternate" type="application/atom+xml" href="{atom}">
<link rel="alternate" type="application/rss+xml" href="news/rss.xml?utm_source=page">
</head><body><h1>สำนักงานพัฒนารัฐบาลดิจิทัล</h1></body></html>"""


def rss(title: str, n: int, link: str = "https://www.dga.or.th/") -> str:
    items = "".join(f"<item><title>ข่าว {i}</title><link>{link}news/{i}</link>"
                    f"<pubDate>Mon, 03 Mar 2025 0{i % 10}:00:00 +0700</pubDate></item>" for i in range(n))
    return RSS.format(title=title, link=link, items=items)


@pytest.fixture
def config(write_config: Callable[[str], Path]) -> Path:
    return write_config("settings:\n  per_host_delay: 0\n  timeout: 5\n  allow_hosts: [127.0.0.1, localhost]\n"
                        "sources:\n  - id: khaoprachasamphan-sop-r\n    kind: rss\n    url: https://example.org/feed\n")


@pytest.fixture(autouse=True)
def no_robots(httpserver: HTTPServer) -> None:
    httpserver.no_handler_status_code = 404  # a path the test does not serve is missing, not a server error
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)


def run(config: Path, url: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), "sources", "discover", url], catch_exceptions=False)


def paths(httpserver: HTTPServer) -> list[str]:
    return [r.path for r, _ in httpserver.log]


def test_a_page_announcing_two_feeds(httpserver: HTTPServer, config: Path) -> None:
    atom = httpserver.url_for("/en/atom.xml")
    httpserver.expect_request("/th/index.html").respond_with_data(PAGE.format(atom=atom), content_type="text/html")
    httpserver.expect_request("/th/news/rss.xml").respond_with_data(rss("ข่าวประชาสัมพันธ์ สพร.", 3),
                                                                    content_type="application/rss+xml")
    httpserver.expect_request("/en/atom.xml").respond_with_data(ATOM, content_type="application/atom+xml")
    page = httpserver.url_for("/th/index.html")
    result = run(config, page)
    assert result.exit_code == 0, result.output
    base = httpserver.url_for("/")
    assert result.output == f"""# {page} announces 2 feeds:

  # ข่าวประชาสัมพันธ์ สพร.: RSS 2.0, 3 items; site: https://www.dga.or.th/
  - id: khaoprachasamphan-sop-r-2
    name: ข่าวประชาสัมพันธ์ สพร.
    kind: rss
    url: {base}th/news/rss.xml
    language: th

  # DGA News (English): Atom 1.0, 1 items
  - id: dga-news-english
    name: DGA News (English)
    kind: rss
    url: {atom}
    language: auto
"""
    assert paths(httpserver) == ["/robots.txt", "/th/index.html", "/th/news/rss.xml", "/en/atom.xml"]  # no guessing
    # What it prints is a valid entry: pasted under `sources:` it passes `sources check`.
    entries = "\n".join(line for line in result.output.splitlines() if line.startswith("  "))
    config.write_text(config.read_text(encoding="utf-8") + entries + "\n", encoding="utf-8")
    assert [s.id for s in load_config(config).sources][1:] == ["khaoprachasamphan-sop-r-2", "dga-news-english"]


def test_a_page_announcing_none_is_tried_at_common_paths(httpserver: HTTPServer, config: Path) -> None:
    httpserver.expect_request("/").respond_with_data("<html><head><title>Ministry</title></head></html>",
                                                     content_type="text/html")
    httpserver.expect_request("/feed").respond_with_data(rss("Ministry news", 2), content_type="text/xml")
    result = run(config, httpserver.url_for("/"))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:3] == [
        f"# {httpserver.url_for('/')} announces no feed; common path /feed has one:", "",
        "  # Ministry news: RSS 2.0, 2 items; site: https://www.dga.or.th/"]
    assert f"    url: {httpserver.url_for('/feed')}\n" in result.output
    assert paths(httpserver) == ["/robots.txt", "/", "/feed"]  # stops at the first that answers


def test_common_paths_are_checked_only_in_turn_until_one_is_a_feed(httpserver: HTTPServer, config: Path) -> None:
    httpserver.expect_request("/").respond_with_data("<html><body>no links</body></html>", content_type="text/html")
    httpserver.expect_request("/feed").respond_with_data("<html><body>a page</body></html>", content_type="text/html")
    httpserver.expect_request("/atom.xml").respond_with_data(ATOM, content_type="application/atom+xml")
    result = run(config, httpserver.url_for("/"))
    assert result.exit_code == 0, result.output
    assert "common path /atom.xml has one" in result.output
    assert paths(httpserver) == ["/robots.txt", "/", "/feed", "/rss.xml", "/atom.xml"]


def test_a_page_that_is_a_feed(httpserver: HTTPServer, config: Path) -> None:
    httpserver.expect_request("/rss").respond_with_data(rss("Blognone", 5), content_type="application/rss+xml")
    url = httpserver.url_for("/rss")
    result = run(config, url)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"# {url} is itself a feed (RSS 2.0):\n\n  # Blognone: RSS 2.0, 5 items")
    assert "  - id: blognone\n" in result.output
    assert paths(httpserver) == ["/robots.txt", "/rss"]


def test_a_feed_already_in_sources_yaml_is_said_to_be(httpserver: HTTPServer,
                                                       write_config: Callable[[str], Path]) -> None:
    httpserver.expect_request("/rss").respond_with_data(rss("Blognone", 1), content_type="application/rss+xml")
    url = httpserver.url_for("/rss")
    config = write_config(f"settings:\n  per_host_delay: 0\n  allow_hosts: [127.0.0.1]\nsources:\n"
                          f"  - id: bn\n    kind: rss\n    url: {url}/?utm_source=x\n")
    result = run(config, url)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[2:] == ["# Blognone: RSS 2.0, 1 items; site: https://www.dga.or.th/",
                                              f"# {url}: already in sources.yaml as bn"]


def test_a_dead_page_is_an_error(httpserver: HTTPServer, config: Path) -> None:
    httpserver.expect_request("/gone").respond_with_data("not here", status=404)
    result = run(config, httpserver.url_for("/gone"))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {httpserver.url_for('/gone')}: HTTP 404 NOT FOUND\n"


def test_a_site_without_any_feed_is_an_error(httpserver: HTTPServer, config: Path) -> None:
    httpserver.expect_request("/").respond_with_data("<html><body>hello</body></html>", content_type="text/html")
    result = run(config, httpserver.url_for("/"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {httpserver.url_for('/')}: no feed found: the page announces none")
    assert "/feed, /rss.xml, /atom.xml" in result.stderr


def test_an_announced_feed_that_fails_is_shown_and_the_exit_code_says_so(httpserver: HTTPServer,
                                                                         config: Path) -> None:
    httpserver.expect_request("/").respond_with_data(
        '<link rel="alternate" type="application/rss+xml" href="/broken.xml">', content_type="text/html")
    httpserver.expect_request("/broken.xml").respond_with_data("<html>oops</html>", content_type="text/html")
    result = run(config, httpserver.url_for("/"))
    assert result.exit_code == 1
    assert f"# {httpserver.url_for('/broken.xml')}: FAILED: not a feed: the URL returned an HTML page" \
        in result.stdout
    assert "Error: none of the feeds" in result.stderr


def test_robots_txt_is_obeyed(httpserver: HTTPServer, config: Path) -> None:
    httpserver.clear()
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /\n")
    result = run(config, httpserver.url_for("/news"))
    assert result.exit_code == 1
    assert "robots.txt" in result.stderr and paths(httpserver) == ["/robots.txt"]


def test_internal_hosts_are_refused_without_allow_hosts(httpserver: HTTPServer,
                                                        write_config: Callable[[str], Path]) -> None:
    config = write_config("settings:\n  per_host_delay: 0\nsources: []\n")
    result = run(config, httpserver.url_for("/"))
    assert result.exit_code == 1 and "allow_hosts" in result.stderr
    assert paths(httpserver) == []


def test_announced_links_resolve_against_base_href() -> None:
    html = ('<base href="https://cdn.example.org/th/"><link rel="Alternate" type="application/atom+xml" '
            'href="atom.xml" title="A"><link rel="alternate" type="application/rss+xml" href="javascript:x">')
    assert announced_feeds(html, "https://example.org/") == [("https://cdn.example.org/th/atom.xml", "A")]
