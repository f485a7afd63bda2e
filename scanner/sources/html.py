"""HTML listing pages scraped with CSS selectors: follow a site that has no feed.

For each listing URL: fetch politely, parse with BeautifulSoup (lxml), select every ``item``, and in
each entry the ``link``, ``title``, ``date`` and ``summary``; then follow ``next_page`` up to
``max_pages`` pages, never visiting a page twice. Links are resolved against the page URL and its
``<base href>``; ``javascript:``, ``mailto:`` and other non-http links are dropped.

A selector that matches nothing on the first page fails the fetch with a message that names it and
shows the start of the page, so the YAML can be fixed. ``SourceFetch.report`` records what each
selector matched, for ``scanner sources test ID``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Comment, Script, Stylesheet, Tag

from scanner.config import HtmlSource
from scanner.dates import find_date, parse_date
from scanner.errors import FetchError, ParseError
from scanner.models import RawItem, SourceFetch
from scanner.normalize import canonical_url, clean_text, http_url
from scanner.sources import FetchContext

logger = logging.getLogger(__name__)

HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
NOT_HTML_TYPES = ("application/pdf", "image/", "audio/", "video/", "application/zip", "application/octet-stream",
                  "application/json")
SNIPPET_CHARS = 300
DEFAULT_LINK = "a[href]"
SELECTOR_FIELDS = ("link", "title", "date", "summary")


@dataclass
class FieldStats:
    """How one selector fared over the entries of a fetch."""

    matched: int = 0
    parsed: int = 0
    example: str = ""
    failed_example: str = ""


@dataclass
class ListingPage:
    """What one listing page yielded."""

    url: str
    items: list[RawItem] = field(default_factory=list)
    entries: int = 0
    next_url: str | None = None
    next_matched: bool = False
    dropped_links: list[str] = field(default_factory=list)
    stats: dict[str, FieldStats] = field(default_factory=lambda: {f: FieldStats() for f in SELECTOR_FIELDS})


@dataclass
class Crawl:
    """State of one fetch across listing pages."""

    seen_pages: set[str] = field(default_factory=set)
    seen_items: set[str] = field(default_factory=set)
    totals: dict[str, FieldStats] = field(default_factory=lambda: {f: FieldStats() for f in SELECTOR_FIELDS})
    entries: int = 0
    pages: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    next_notes: list[str] = field(default_factory=list)


def fetch(source: HtmlSource, ctx: FetchContext) -> SourceFetch:
    result = SourceFetch(source.id, started_at=ctx.now)
    crawl = Crawl()
    for n, start in enumerate(source.urls):
        # Conditional GET only for a single listing URL: the source keeps one ETag.
        if not _crawl_from(start, source, ctx, crawl, result, first=n == 0, conditional=len(source.urls) == 1):
            return result  # 304: nothing changed
    if crawl.errors and not result.items:
        raise FetchError(crawl.errors[0] if len(crawl.errors) == 1 else "; ".join(crawl.errors))
    result.warnings.extend(f"{e} (other listing pages were read)" for e in crawl.errors)
    _fill_report(result, source, crawl)
    _warn_partial(result, source, crawl)
    if source.fulltext and result.items:
        from scanner.sources.fulltext import add_fulltext

        add_fulltext(result.items, ctx, result.warnings, limit=source.fulltext_limit)
    return result


def _crawl_from(start: str, source: HtmlSource, ctx: FetchContext, crawl: Crawl, result: SourceFetch,
                first: bool, conditional: bool) -> bool:
    """Read ``start`` and its next pages; False when the first page was not modified (HTTP 304)."""
    url: str | None = start
    for page_no in range(1, source.max_pages + 1):
        if url is None:
            return True
        key = canonical_url(url) or url
        if key in crawl.seen_pages:
            crawl.next_notes.append(f"stopped at {url}: already visited (a loop)")
            return True
        crawl.seen_pages.add(key)
        if page_no > 1:
            if ctx.offsite(url):
                crawl.next_notes.append(f"stopped at {url}: on another site than the listing (set "
                                        "follow_offsite: true to follow it)")
                result.warnings.append(f"next page {url} is on another site; not followed (follow_offsite)")
                return True
            crawl.next_notes.append(f"page {page_no} → {url}")
        use_cache = conditional and page_no == 1
        try:
            resp = ctx.get(url, accept=HTML_ACCEPT, etag=ctx.state.etag if use_cache else None,
                                last_modified=ctx.state.last_modified if use_cache else None)
        except FetchError as e:
            _page_failed(crawl, result, page_no, url, e)
            return True
        if resp.not_modified:
            result.http_status, result.status = resp.status, "not_modified"
            result.report["page 1"] = f"{url}: not modified since the last fetch (HTTP 304)"
            return False
        if page_no == 1 and first:
            result.http_status = resp.status
            if conditional:
                result.etag, result.last_modified = resp.etag, resp.last_modified
        try:
            _check_html(resp.content_type, resp.final_url)
            page = parse_listing(resp.text(), resp.final_url, source, tz=ctx.config.settings.timezone, now=ctx.now,
                                 strict=page_no == 1)
        except ParseError as e:
            _page_failed(crawl, result, page_no, url, e)
            return True
        crawl.pages.append(f"{resp.final_url} ({page.entries} entries, {len(resp.content):,} bytes)")
        crawl.entries += page.entries
        crawl.dropped.extend(page.dropped_links)
        _merge_stats(crawl.totals, page.stats)
        for item in page.items:
            ikey = canonical_url(item.url) or str(item.url)
            if ikey not in crawl.seen_items:
                crawl.seen_items.add(ikey)
                result.items.append(item)
        if source.next_page and page_no == 1 and not page.next_url:
            note = "matched a link that is not http(s)" if page.next_matched else "matched nothing"
            result.warnings.append(f"next_page {source.next_page!r} {note} on {url}; only that page was read")
        url = page.next_url if source.next_page else None
    if url is not None:
        crawl.next_notes.append(f"stopped after max_pages={source.max_pages} (next would be {url})")
    return True


def _page_failed(crawl: Crawl, result: SourceFetch, page_no: int, url: str, error: FetchError) -> None:
    """A first page that fails fails the source (unless other URLs give items); a later one is a warning."""
    if page_no == 1:
        crawl.errors.append(str(error))
    else:
        result.warnings.append(f"page {page_no} ({url}) skipped: {error}")


def _check_html(content_type: str, url: str) -> None:
    if content_type and any(content_type.startswith(t) for t in NOT_HTML_TYPES):
        raise ParseError(f"{url}: not an HTML page (Content-Type {content_type.split(';')[0]}); "
                         "`url` must be a listing page")


def parse_listing(html: str, page_url: str, source: HtmlSource, tz: str = "Asia/Bangkok",
                  now: datetime | None = None, strict: bool = True) -> ListingPage:
    """Entries of one listing page. With ``strict``, a selector matching nothing raises ``ParseError``."""
    soup = BeautifulSoup(html, "lxml")
    base = _base_url(soup, page_url)
    page = ListingPage(page_url)
    entries = soup.select(source.item)
    page.entries = len(entries)
    if not entries:
        raise ParseError(f"{page_url}: selector item={source.item!r} matched nothing; {page_start(soup)}")
    for entry in entries:
        item = _entry_to_item(entry, base, source, tz, now, page)
        if item is not None:
            page.items.append(item)
    if strict:
        for name in SELECTOR_FIELDS:
            selector = getattr(source, name)
            if selector and page.stats[name].matched == 0:
                example = clean_text(entries[0].get_text(" "))[:120]
                raise ParseError(
                    f"{page_url}: selector {name}={selector!r} matched nothing inside any of the "
                    f"{len(entries)} entries of item={source.item!r} (first entry: {example!r}); "
                    f"{page_start(soup)}"
                )
    if source.next_page:
        nxt = soup.select_one(source.next_page)
        if nxt is not None:
            page.next_matched = True
            page.next_url = _absolute(_href(nxt), base)
    return page


def page_start(soup: BeautifulSoup) -> str:
    """'page title: …; the page starts: …' for error messages."""
    title = clean_text(soup.title.get_text()) if soup.title else ""
    body = soup.body or soup
    for bad in body(["script", "style", "noscript", "template"]):
        bad.decompose()
    text = clean_text(body.get_text(" ")).replace("\n", " ")
    snippet = text[:SNIPPET_CHARS] + ("…" if len(text) > SNIPPET_CHARS else "")
    return f"page title: {title[:120]!r}; the page starts: {snippet!r}"


def _base_url(soup: BeautifulSoup, page_url: str) -> str:
    tag = soup.find("base", href=True)
    if isinstance(tag, Tag):
        href = str(tag.get("href") or "").strip()
        resolved = http_url(urljoin(page_url, href)) if href else None
        if resolved:
            return resolved
    return page_url


def _href(tag: Tag) -> str:
    """The link of a matched element: its href, else the first a[href] inside it."""
    href = tag.get("href")
    if not href:
        inner = tag.select_one("a[href]")
        href = inner.get("href") if inner is not None else None
    if isinstance(href, list):
        href = href[0] if href else None
    return str(href or "").strip()


def _absolute(href: str, base: str) -> str | None:
    """An absolute http(s) URL, or None for javascript:, mailto:, data: and other schemes."""
    href = "".join(href.split())  # hrefs broken over lines
    if not href or href.startswith("#"):
        return None
    return http_url(urljoin(base, href))


BLOCK_TAGS = ["br", "p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th", "dt", "dd"]


def _text(tag: Tag | None) -> str:
    """Text of an element. Inline tags join without a space (``ทาง<b>รัฐ</b>`` is one Thai word);
    block elements and ``<br>`` separate."""
    if tag is None:
        return ""
    parts: list[str] = []
    for node in tag.descendants:
        if isinstance(node, Tag):
            if node.name in BLOCK_TAGS:
                parts.append(" ")
        elif not isinstance(node, (Comment, Script, Stylesheet)):
            parts.append(str(node))
    return clean_text("".join(parts))


def _entry_to_item(entry: Tag, base: str, source: HtmlSource, tz: str, now: datetime | None,
                   page: ListingPage) -> RawItem | None:
    stats = page.stats
    # link
    if source.link:
        link_el = entry.select_one(source.link)
    elif entry.name == "a" and entry.get("href"):
        link_el = entry
    else:
        link_el = entry.select_one(DEFAULT_LINK)
    href = _href(link_el) if link_el is not None else ""
    if link_el is not None and href:
        stats["link"].matched += 1
    url = _absolute(href, base) if href else None
    if url is None:
        if href:
            page.dropped_links.append(href[:80])
        return None
    stats["link"].parsed += 1
    stats["link"].example = stats["link"].example or url
    # title
    if source.title:
        title_el = entry.select_one(source.title)
        title = _text(title_el)
    else:
        title_el = link_el
        title = _text(link_el) or str(link_el.get("title") or "").strip() if link_el is not None else ""
        if not title:
            heading = entry.select_one("h1, h2, h3, h4, h5, [title]")
            title = _text(heading) or (str(heading.get("title") or "") if heading is not None else "")
    if title_el is not None and title:
        stats["title"].matched += 1
        stats["title"].parsed += 1
        stats["title"].example = stats["title"].example or title[:80]
    # date
    published, date_text = _entry_date(entry, source, tz, now)
    if date_text:
        stats["date"].matched += 1
        if published:
            stats["date"].parsed += 1
            stats["date"].example = stats["date"].example or f"{date_text[:40]!r} → {published.isoformat()}"
        else:
            stats["date"].failed_example = stats["date"].failed_example or date_text[:60]
    # summary
    summary = ""
    if source.summary:
        summary = _text(entry.select_one(source.summary))
        if summary:
            stats["summary"].matched += 1
            stats["summary"].parsed += 1
            stats["summary"].example = stats["summary"].example or summary[:80]
    if not title:
        title = summary.split("\n", 1)[0][:140] if summary else ""
    if not title:
        return None
    return RawItem(url=url, title=title, summary=summary if summary != title else "", published=published)


def _entry_date(entry: Tag, source: HtmlSource, tz: str, now: datetime | None) -> tuple[datetime | None, str]:
    if source.date:
        el = entry.select_one(source.date)
        if el is None:
            return None, ""
        text = _date_text(el)
        return parse_date(text, tz=tz, date_format=source.date_format, now=now), text
    el = entry.select_one("time")
    if el is not None:
        text = _date_text(el)
        dt = parse_date(text, tz=tz, date_format=source.date_format, now=now)
        if dt:
            return dt, text
    # No selector: look for a written date in the entry's own text (Thai, numeric, English).
    found = find_date(clean_text(entry.get_text(" "))[:600], tz=tz)
    return found if found else (None, "")


def _date_text(el: Tag) -> str:
    for attr in ("datetime", "content", "data-date", "title"):
        value = el.get(attr)
        if value and isinstance(value, str) and any(ch.isdigit() for ch in value):
            return value.strip()
    return _text(el)


def _merge_stats(totals: dict[str, FieldStats], page: dict[str, FieldStats]) -> None:
    for name, st in page.items():
        t = totals[name]
        t.matched += st.matched
        t.parsed += st.parsed
        t.example = t.example or st.example
        t.failed_example = t.failed_example or st.failed_example


def _fill_report(result: SourceFetch, source: HtmlSource, crawl: Crawl) -> None:
    report: dict[str, str] = {}
    for n, p in enumerate(crawl.pages, start=1):
        report[f"page {n}"] = p
    entries = crawl.entries
    report["item"] = f"{source.item!r} matched {entries} entries on {len(crawl.pages)} page(s)"
    defaults = {"link": f"(default {DEFAULT_LINK})", "title": "(default: the link's text)",
                "date": "(default: <time> or a date in the entry's text)", "summary": "(none)"}
    for name in SELECTOR_FIELDS:
        selector = getattr(source, name)
        label = repr(selector) if selector else defaults[name]
        st = crawl.totals[name]
        if name == "summary" and not selector:
            report[name] = label
            continue
        line = f"{label} matched {st.matched}/{entries}"
        if name == "date":
            line += f", understood {st.parsed}/{st.matched}"
            if st.failed_example:
                line += f" (not understood: {st.failed_example!r}; set date_format)"
        if name == "link" and crawl.dropped:
            line += f"; {len(crawl.dropped)} non-http link(s) dropped, e.g. {crawl.dropped[0]!r}"
        if st.example:
            line += f"; e.g. {st.example}"
        report[name] = line
    if source.next_page:
        report["next_page"] = f"{source.next_page!r}: " + ("; ".join(crawl.next_notes) or "no further page")
    report["items"] = f"{len(result.items)} distinct items"
    result.report.update(report)


def _warn_partial(result: SourceFetch, source: HtmlSource, crawl: Crawl) -> None:
    if crawl.dropped:
        result.warnings.append(f"{len(crawl.dropped)} entries skipped: their link is not http(s) "
                               f"(e.g. {crawl.dropped[0]!r})")
    date = crawl.totals["date"]
    if date.matched and date.parsed < date.matched:
        hint = "set date_format" if source.date else "set the date selector (and date_format if needed)"
        result.warnings.append(f"{date.matched - date.parsed} of {date.matched} dates not understood, e.g. "
                               f"{date.failed_example!r}: {hint}")
