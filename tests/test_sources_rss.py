"""Every fixture in tests/data/feeds is served from a real local HTTP server and fetched through the
rss source kind. Expected values are written here in Python (derived from each file's content and
feedparser's own `Expect:` header)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from scanner.clock import now_utc
from scanner.collect import fetch_source
from scanner.config import Config, RssSource, Settings
from scanner.http import HttpClient
from scanner.models import SourceFetch, SourceState
from scanner.sources import FetchContext

FEEDS = Path(__file__).parent / "data" / "feeds"
UTC = UTC


@dataclass
class Case:
    count: int | None = None  # number of items; None: failure expected
    title: str | None = None  # first item's title (exact)
    url: str | None = "-"  # first item's url ("{base}" = the local server); "-": not checked
    published: datetime | None = None
    summary_starts: str | None = None
    warning: str | None = None  # substring of a warning
    error: str | None = None  # substring of the failure message


CASES: dict[str, Case] = {
    "feed-rs/atom/atom_spec_1.xml": Case(1, "Atom-Powered Robots Run Amok", "http://example.org/2003/12/13/atom03",
                                         datetime(2003, 12, 13, 18, 30, 2, tzinfo=UTC), "Some text."),
    "feed-rs/atom/atom_relative.xml": Case(1, "Atom-Powered Robots Run Amok", "{base}/blog/2003/12/13/atom03",
                                           datetime(2003, 12, 13, 18, 30, 2, tzinfo=UTC)),
    "feed-rs/atom/atom_xml_base.xml": Case(1, "my cool entry title", "https://numi.st/post/2022/travel-uke",
                                           datetime(2022, 4, 21, tzinfo=UTC)),
    "feed-rs/rss1/rss_1.0_spec_1.xml": Case(2, "Processing Inclusions with XSLT",
                                            "http://xml.com/pub/2000/08/09/xslt/xslt.html", None,
                                            "Processing document inclusions with general XML tools"),
    "feed-rs/rss2/rss_2.0_relurl_2.xml": Case(1, "An item with a relative enclosure URL",
                                              "https://kryogenix.org/nothing-here-really",
                                              datetime(2021, 3, 17, 18, 14, 23, tzinfo=UTC)),
    "feed-rs/rss2/rss_2.0_spec_1.xml": Case(2, "Joshua Allen: Who", "-", datetime(2002, 9, 29, 19, 59, 1, tzinfo=UTC),
                                            "Joshua Allen: Who\nloves namespaces?"),
    # Thai in TIS-620 with no declaration: decoded as Thai, not mojibake.
    "feedparser/illformed/chardet/tis620.xml": Case(
        1, None, None, None, "สำนักงานส่งเสริมอุตสาหกรรมซอฟต์แวร์แห่งชาติ หรือ SIPA", "malformed feed"),
    "feedparser/illformed/chardet/eucjp.xml": Case(1, "ゲーム三昧な正月", warning="malformed feed"),
    "feedparser/illformed/chardet/euckr.xml": Case(1, "EUC-KR 에서 TypeKey 한글닉네임 표시하기"),
    "feedparser/illformed/chardet/gb2312.xml": Case(1, "不归移民漫画系列：专业工作"),
    "feedparser/illformed/chardet/koi8r.xml": Case(1, "Как пережить новогоднюю ночь"),
    "feedparser/illformed/chardet/shiftjis.xml": Case(1, "DrecomRSSに記事投稿が反映されない…"),
    # No <title>: the title is the start of the text.
    "feedparser/illformed/chardet/windows1255.xml": Case(1, None, summary_starts="האם תדפיס נייר של אתר אינטרנט"),
    "feedparser/encoding/demoronize-1.xml": Case(1, "don\u2019t"),
    "feedparser/encoding/double-encoded-html.xml": Case(1, "\u2026"),
    "feedparser/encoding/bozo_double-encoded-html.xml": Case(1, "\u2026", warning="malformed feed"),
    # An empty <rss/> with a bogus encoding name: an empty feed, with a warning.
    "feedparser/encoding/bozo_bogus_encoding.xml": Case(0, warning="wrong encoding declaration"),
    "feedparser/encoding/bozo_invalid-bytes-with-bom.xml": Case(error="malformed feed with no entries"),
    "feedparser/illformed/aaa_illformed.xml": Case(error="malformed feed with no entries: SAXParseException"),
    "feedparser/illformed/rss_empty_document.xml": Case(error="malformed feed with no entries"),
    "feedparser/illformed/undeclared_namespace.xml": Case(error="unbound prefix"),
    "feedparser/illformed/http_high_bit_date.xml": Case(0, warning="no entries and a wrong encoding declaration"),
    "feedparser/illformed/rdf_channel_empty_textinput.xml": Case(1, "crashes here"),
    "feedparser/illformed/rss_incomplete_cdata.xml": Case(error="malformed feed with no usable entries"),
    # Only a relative link, no title or text: nothing worth storing, said in a warning.
    "feedparser/wellformed/base/http_item_link_base_docuri.xml": Case(0, warning="1 of 1 entries skipped"),
    "feedparser/wellformed/rss/item_guid_not_permalink.xml": Case(0, warning="1 of 1 entries skipped"),
    "feedparser/wellformed/base/http_item_description_base_content_location.xml": Case(1, "click here"),
    "feedparser/wellformed/base/relative_xml_base.xml": Case(1, "Example test"),
    "feedparser/wellformed/base/unsafe_base.xml": Case(1, "Example test"),
}

ALL_FIXTURES = sorted(str(p.relative_to(FEEDS)) for p in FEEDS.rglob("*.xml"))


def _headers(data: bytes) -> dict[str, str]:
    """The HTTP headers a feedparser fixture asks to be served with (its `Header:` lines)."""
    headers = {}
    for m in re.finditer(rb"^Header:\s*([\w-]+):\s*(.*)$", data, re.MULTILINE):
        headers[m.group(1).decode()] = m.group(2).decode().strip()
    return headers


def fetch_fixture(httpserver: HTTPServer, rel: str) -> SourceFetch:
    data = (FEEDS / rel).read_bytes()
    headers = _headers(data)
    content_type = headers.pop("Content-type", headers.pop("Content-Type", "application/xml"))
    path = "/" + rel
    httpserver.expect_request(path).respond_with_data(data, content_type=content_type, headers=headers)
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    source = RssSource(id="fixture", kind="rss", url=httpserver.url_for(path))
    config = Config(settings=Settings(per_host_delay=0, allow_hosts=["127.0.0.1"]), sources=[source])
    with HttpClient.from_settings(config.settings) as http:
        ctx = FetchContext(http=http, config=config, now=now_utc(), state=SourceState("fixture"))
        return fetch_source(source, ctx)


@pytest.mark.parametrize("rel", ALL_FIXTURES)
def test_every_fixture_is_handled_without_crashing(httpserver: HTTPServer, rel: str) -> None:
    result = fetch_fixture(httpserver, rel)
    if result.status == "failed":
        assert result.error and not result.error.startswith("unexpected"), result.error
    else:
        assert result.status == "ok"
        for item in result.items:
            assert item.title.strip()
            assert item.url is None or item.url.startswith(("http://", "https://"))
            assert item.published is None or item.published.tzinfo is not None


@pytest.mark.parametrize("rel", sorted(CASES))
def test_fixture_expected_values(httpserver: HTTPServer, rel: str) -> None:
    case = CASES[rel]
    result = fetch_fixture(httpserver, rel)
    base = httpserver.url_for("").rstrip("/")
    if case.count is None:
        assert result.status == "failed"
        assert case.error and case.error in (result.error or "")
        return
    assert result.status == "ok", result.error
    assert len(result.items) == case.count
    if case.warning:
        assert any(case.warning in w for w in result.warnings), result.warnings
    if not case.count:
        return
    first = result.items[0]
    if case.title is not None:
        assert first.title == case.title
    if case.url != "-":
        assert first.url == (case.url.replace("{base}", base) if case.url else None)
    assert first.published == case.published
    if case.summary_starts:
        assert (first.summary or first.content).startswith(case.summary_starts)
