"""Find the feeds of a web site, the way feed readers do (``scanner sources discover URL``).

The page is fetched through the polite client (robots.txt, per-host delay, size cap, address
rules). Its ``<link rel="alternate" type="application/rss+xml|atom+xml">`` announcements are read
(relative addresses resolved against the page and its ``<base href>``); only when it announces none
are a few common paths tried (``/feed``, ``/rss.xml``, ``/atom.xml`` …), one after the other, until
one answers with a feed. A page that is itself a feed is said to be one. Every feed found is
fetched and parsed, for its title, format and number of items.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from scanner.config.edit import NewSource, feed_key, known_feeds, make_id
from scanner.config.models import Config
from scanner.errors import FetchError, ParseError
from scanner.http import HttpClient, HttpResponse
from scanner.normalize import http_url, scrub_line
from scanner.sources.rss import FEED_ACCEPT, parse_feed

logger = logging.getLogger(__name__)

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
                        "text/xml"})
COMMON_PATHS = ("/feed", "/rss.xml", "/atom.xml", "/feed.xml", "/rss", "/index.xml")
MAX_ANNOUNCED = 10  # feeds fetched from one page's announcements; a page listing hundreds is not a site's feed
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, application/rss+xml;q=0.8, application/atom+xml;q=0.8, */*;q=0.5"
FORMATS = {"rss20": "RSS 2.0", "rss10": "RSS 1.0", "rss090": "RSS 0.90", "rss091u": "RSS 0.91", "rss091n": "RSS 0.91",
           "rss092": "RSS 0.92", "rss093": "RSS 0.93", "rss094": "RSS 0.94", "atom10": "Atom 1.0",
           "atom03": "Atom 0.3", "atom": "Atom", "rss": "RSS", "cdf": "CDF"}


@dataclass
class FoundFeed:
    """A feed address and what fetching it showed: its title, format and items, or why it failed.
    ``source`` is the entry to paste into ``sources.yaml`` (None when the feed failed)."""

    url: str
    found_by: str
    title: str = ""
    format: str = ""
    items: int = 0
    language: str = "auto"
    site: str | None = None
    error: str | None = None
    source: NewSource | None = None
    known_as: str | None = None  # the id of the source in sources.yaml that already reads this feed


@dataclass
class Discovery:
    """What ``discover_feeds`` found on ``url`` (the page's address after redirects)."""

    url: str
    page_is_feed: bool = False
    feeds: list[FoundFeed] = field(default_factory=list)
    tried: list[str] = field(default_factory=list)  # common paths tried because the page announced none
    announced_more: int = 0  # announcements beyond MAX_ANNOUNCED, not fetched


def announced_feeds(html: str, page_url: str) -> list[tuple[str, str]]:
    """``(url, title)`` of every ``<link rel="alternate">`` to an RSS/Atom feed, in page order,
    resolved against the page (and its ``<base href>``), each once."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    base = page_url
    base_tag = soup.find("base", href=True)
    if base_tag is not None:
        base = http_url(urljoin(page_url, str(base_tag.get("href")).strip())) or page_url
    found: dict[str, tuple[str, str]] = {}
    for link in soup.find_all("link", href=True):
        rel = link.get("rel")
        rels = {str(r).lower() for r in (rel if isinstance(rel, list) else str(rel or "").split())}
        kind = str(link.get("type") or "").split(";")[0].strip().lower()
        if "alternate" not in rels or kind not in FEED_TYPES:
            continue
        url = http_url(urljoin(base, str(link.get("href")).strip()))
        key = feed_key(url)
        if url and key and key not in found:
            found[key] = (url, scrub_line(str(link.get("title") or "")) or "")
    return list(found.values())


def _language(code: str | None) -> str:
    code = (code or "").lower()
    return "th" if code.startswith("th") else "en" if code.startswith("en") else "auto"


def read_feed(resp: HttpResponse, found_by: str, title_hint: str = "") -> FoundFeed:
    """What a fetched response is as a feed (``error`` says why it is not one)."""
    import feedparser

    url = resp.final_url or resp.url
    found = FoundFeed(url=url, found_by=found_by, title=title_hint)
    headers = {k.lower(): v for k, v in resp.headers.items()}
    headers.setdefault("content-location", url)
    try:
        found.items = len(parse_feed(resp.content, headers))
    except ParseError as e:
        found.error = str(e)
        return found
    parsed = feedparser.parse(resp.content, response_headers=headers, sanitize_html=False,
                              resolve_relative_uris=False)
    meta = parsed.get("feed", {})
    found.title = scrub_line(meta.get("title")) or title_hint
    found.format = FORMATS.get(parsed.get("version") or "", parsed.get("version") or "feed")
    found.language = _language(meta.get("language"))
    found.site = http_url(scrub_line(meta.get("link")))
    return found


def _fetch_feed(http: HttpClient, url: str, found_by: str, title_hint: str = "") -> FoundFeed:
    try:
        resp = http.get(url, accept=FEED_ACCEPT)
    except FetchError as e:
        return FoundFeed(url=url, found_by=found_by, title=title_hint, error=str(e))
    return read_feed(resp, found_by, title_hint)


def _with_sources(feeds: list[FoundFeed], config: Config) -> list[FoundFeed]:
    used = {s.id for s in config.sources}
    known = known_feeds(config)
    for feed in feeds:
        feed.known_as = known.get(feed_key(feed.url) or "")
        if feed.error is None:
            sid = make_id(feed.title, feed.url, used)
            used.add(sid)
            host = (urlsplit(feed.url).hostname or "").removeprefix("www.")
            name = feed.title or host
            comment = f"{name}: {feed.format}, {feed.items} items" + (f"; site: {feed.site}" if feed.site else "")
            feed.source = NewSource(id=sid, url=feed.url, name=name, language=feed.language, comment=comment)
    return feeds


def discover_feeds(url: str, config: Config | None = None, http: HttpClient | None = None) -> Discovery:
    """The feeds ``url`` announces (or, when none, the first common feed path that answers), each
    fetched and parsed, with an entry whose id is unique in ``config``. A page that cannot be fetched
    raises ``FetchError``; so does a page with no feed anywhere."""
    config = config or Config()
    checked = http_url(url)
    if checked is None:
        raise FetchError(f"{url}: not an http(s) address (write it with https://)")
    own = http is None
    http = http or HttpClient.from_settings(config.settings)
    try:
        resp = http.get(checked, accept=PAGE_ACCEPT)
        page = resp.final_url or checked
        itself = read_feed(resp, "the page itself")
        if itself.error is None:
            return Discovery(page, page_is_feed=True, feeds=_with_sources([itself], config))
        announced = announced_feeds(resp.text(), page)
        if announced:
            feeds = [_fetch_feed(http, u, "announced by the page", t) for u, t in announced[:MAX_ANNOUNCED]]
            return Discovery(page, feeds=_with_sources(feeds, config),
                             announced_more=max(0, len(announced) - MAX_ANNOUNCED))
        parts = urlsplit(page)
        tried: list[str] = []
        for path in COMMON_PATHS:
            candidate = f"{parts.scheme}://{parts.netloc}{path}"
            tried.append(candidate)
            found = _fetch_feed(http, candidate, f"common path {path}")
            logger.info("discover: %s: %s", candidate, found.error or "a feed")
            if found.error is None:
                return Discovery(page, feeds=_with_sources([found], config), tried=tried)
    finally:
        if own:
            http.close()
    paths = ", ".join(COMMON_PATHS)
    raise FetchError(f"{page}: no feed found: the page announces none (no <link rel=\"alternate\" "
                     f"type=\"application/rss+xml\"> or atom+xml), and none of {paths} on {parts.netloc} is a feed. "
                     "Look for an RSS link on the site, or add it as an `html` source")
