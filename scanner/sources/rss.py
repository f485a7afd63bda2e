"""RSS 0.9x/1.0/2.0 and Atom feeds: fetch bytes politely, parse with feedparser."""

from __future__ import annotations

import calendar
import logging
from datetime import UTC, datetime
from typing import Any

import feedparser
from feedparser.mixin import _FeedParserMixin

from scanner.config import RssSource
from scanner.dates import parse_date
from scanner.errors import ParseError
from scanner.models import FieldCaps, RawItem, SourceFetch
from scanner.normalize import html_to_text, http_url
from scanner.sources import FetchContext

logger = logging.getLogger(__name__)

FEED_TAG_LIMIT = 1000  # tags feedparser keeps per entry; settings.max_tags cuts further


def _add_tag_linear(self: Any, term: Any, scheme: Any, label: Any) -> None:
    """feedparser's ``_add_tag`` with a set instead of a list scan, and a ceiling.

    feedparser checks ``value not in tags`` for every ``<category>``: 100,000 categories on one entry
    took 285 s. This keeps its behaviour (same de-duplication, same order) in linear time.
    """
    context = self._get_context()
    tags = context.setdefault("tags", [])
    if (not term and not scheme and not label) or len(tags) >= FEED_TAG_LIMIT:
        return
    seen = self.__dict__.setdefault("_scanner_tags_seen", {}).setdefault(id(tags), set())
    key = (term, scheme, label)
    if key not in seen:
        seen.add(key)
        tags.append(feedparser.FeedParserDict(term=term, scheme=scheme, label=label))


_FeedParserMixin._add_tag = _add_tag_linear

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.5"
)


def fetch(source: RssSource, ctx: FetchContext) -> SourceFetch:
    result = SourceFetch(source.id, started_at=ctx.now)
    resp = ctx.get(source.url, etag=ctx.state.etag, last_modified=ctx.state.last_modified, accept=FEED_ACCEPT)
    result.http_status = resp.status
    if resp.not_modified:
        result.status = "not_modified"
        return result
    result.etag, result.last_modified = resp.etag, resp.last_modified
    headers = {k.lower(): v for k, v in resp.headers.items()}
    headers.setdefault("content-location", resp.final_url)
    result.items = parse_feed(resp.content, headers, tz=ctx.config.settings.timezone, warnings=result.warnings,
                              caps=ctx.config.settings.caps)
    if getattr(source, "fulltext", False):
        from scanner.sources.fulltext import add_fulltext

        add_fulltext(result.items, ctx, result.warnings, limit=source.fulltext_limit)
    return result


def parse_feed(content: bytes, headers: dict[str, str] | None = None, tz: str = "Asia/Bangkok",
               warnings: list[str] | None = None, caps: FieldCaps | None = None) -> list[RawItem]:
    """Entries of a feed as ``RawItem``s. A malformed feed that still has entries gives a warning;
    one with none raises ``ParseError`` with the parser's reason.

    feedparser's own HTML sanitising and link rewriting are off: every field becomes plain text
    here (``html_to_text``, within ``caps``) and is escaped wherever it is shown, and both passes
    were the slowest part of hostile feeds."""
    warnings = warnings if warnings is not None else []
    caps = caps or FieldCaps()
    try:
        parsed = feedparser.parse(content, response_headers=headers or {}, sanitize_html=False,
                                  resolve_relative_uris=False)
    except (UnicodeError, ValueError, RecursionError) as e:  # e.g. "&#xD800;": feedparser raises
        raise ParseError(f"the feed parser gave up on this feed ({e.__class__.__name__}: {str(e)[:200]})") from None
    entries = parsed.get("entries", [])
    if parsed.get("bozo"):
        reason = _bozo_reason(parsed)
        exc = parsed.get("bozo_exception")
        encoding_only = exc is not None and "Encoding" in exc.__class__.__name__
        if not entries:
            if _looks_like_html(content):
                raise ParseError(f"not a feed: the URL returned an HTML page ({reason})")
            if not (encoding_only and parsed.get("version")):
                raise ParseError(f"malformed feed with no entries: {reason}")
            warnings.append(f"feed has no entries and a wrong encoding declaration: {reason}")
        else:
            warnings.append(f"malformed feed, {len(entries)} entries recovered: {reason}")
    elif not entries and not parsed.get("version"):
        if _looks_like_html(content):
            raise ParseError("not a feed: the URL returned an HTML page (is there an RSS link on it?)")
        raise ParseError("not a feed: no RSS/Atom structure found")
    items = []
    for entry in entries:
        item = _entry_to_item(entry, tz, caps)
        if item is not None:
            items.append(item)
    if len(items) < len(entries):
        if not items and parsed.get("bozo"):
            raise ParseError(f"malformed feed with no usable entries: {_bozo_reason(parsed)}")
        warnings.append(f"{len(entries) - len(items)} of {len(entries)} entries skipped: no title and no text")
    return items


def _entry_to_item(entry: Any, tz: str, caps: FieldCaps) -> RawItem | None:
    title = html_to_text(_text(entry.get("title")), caps.title)
    summary = html_to_text(_text(entry.get("summary")), caps.summary)
    content = ""
    for c in (entry.get("content") or [])[:5]:
        text = html_to_text(_text(c.get("value") if isinstance(c, dict) else None), caps.body)
        if len(text) > len(content):
            content = text
    if content == summary:
        content = ""
    link = http_url(_text(entry.get("link")))
    guid = _text(entry.get("id")) or None
    if not title and not summary and not content:
        return None
    if not title:
        title = (summary or content).split("\n", 1)[0][:140]
    author = _text(entry.get("author")) or None
    return RawItem(
        url=link,
        title=title,
        guid=guid,
        summary=summary,
        content=content,
        author=html_to_text(author, 500) if author else None,
        published=_entry_date(entry, tz),
        extra=_tags(entry, caps.tags),
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _entry_date(entry: Any, tz: str) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    for key in ("published", "updated", "created", "dc_date"):
        value = entry.get(key)
        if value:
            dt = parse_date(str(value), tz=tz)
            if dt:
                return dt
    return None


def _bozo_reason(parsed: Any) -> str:
    exc = parsed.get("bozo_exception")
    if exc is None:
        return "unknown problem"
    text = str(exc) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}"[:300]


def _looks_like_html(content: bytes) -> bool:
    head = content[:2048].lower()
    return b"<html" in head or b"<!doctype html" in head


def _tags(entry: Any, limit: int) -> dict[str, Any]:
    terms = [t["term"][:200] for t in entry.get("tags", []) or [] if isinstance(t.get("term"), str) and t["term"]]
    return {"tags": terms[:limit]} if terms else {}
