"""Full text: fetch each new item's page and extract the main text, title, author and date.

Used by source kinds with ``fulltext: true`` (rss, html). Each page is fetched through the same
polite ``HttpClient`` once per item and never again unless the item changes: the feed's own
title+summary is hashed into ``RawItem.extra["fulltext"]["feed_hash"]``; when the stored item has the
same hash, the stored text is carried over instead of fetching again. Pages that fail with a
temporary error (timeout, 5xx) are tried again on the next run; 4xx and pages with no extractable
text are not.

Extraction uses trafilatura on the decoded HTML (no trafilatura network calls). The feed summary
stays as the fallback when extraction fails; an extracted date is used when the feed had none.
At most ``limit`` pages are fetched per run so a first run on a large feed stays polite.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from scanner.dates import find_date, parse_date
from scanner.errors import (
    BudgetExceededError,
    FetchError,
    HTTPStatusError,
    ParseError,
    RefusedURLError,
    ResponseTooLargeError,
    RobotsDisallowedError,
)
from scanner.http import HttpResponse
from scanner.models import KnownItem, RawItem
from scanner.normalize import THAI_RE, canonical_url, clean_text
from scanner.sources import FetchContext

logger = logging.getLogger(__name__)

PREVIEW_LIMIT = 3  # pages fetched by `scanner sources test`
DEFAULT_LIMIT = 50
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.3"
MIN_TEXT_CHARS = 80
MAX_PAGE_CHARS = 1_000_000  # of a page's HTML handed to extraction (articles are 50-300 KB)
# Meta tags that carry the publication time with its zone (more exact than trafilatura's date-only result).
META_DATE_KEYS = ("article:published_time", "og:published_time", "datepublished", "dc.date.issued", "dc.date",
                  "pubdate", "publishdate", "date")
JSONLD_DATE_RE = re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"')
STATUS_DONE = ("ok", "empty", "gone", "not-html", "blocked")
# Links to documents and media are not articles: never downloaded for full text.
NOT_HTML_SUFFIXES = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".zip", ".rar", ".7z", ".jpg",
                     ".jpeg", ".png", ".gif", ".webp", ".mp3", ".mp4", ".csv", ".json", ".xml")


def feed_hash(item: RawItem) -> str:
    """Identity of what the feed/listing said about an item; a change means the page is fetched again."""
    text = f"{item.url}\n{item.title}\n{item.summary}\n{item.content[:2000]}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def add_fulltext(items: list[RawItem], ctx: FetchContext, warnings: list[str], limit: int = DEFAULT_LIMIT) -> None:
    """Fill ``content`` (and missing title, author, date) of ``items`` from their pages, in place.

    Pages on another site than the source's are left alone unless it says ``follow_offsite``; when
    the source's time budget runs out, the remaining pages wait for the next run."""
    if ctx.preview:
        limit = min(limit, PREVIEW_LIMIT)
    fetched = pending = offsite = 0
    out_of_time = False
    problems: list[str] = []
    tz = ctx.config.settings.timezone
    first_of: dict[str, RawItem] = {}
    for item in items:
        if not item.url:
            continue
        key = canonical_url(item.url) or item.url
        if key in first_of:  # the same page twice in one feed: fetch it once
            _copy_fulltext(first_of[key], item)
            continue
        first_of[key] = item
        fhash = feed_hash(item)
        stored = ctx.lookup(item.url)
        if stored is not None and _carry_over(item, stored, fhash):
            continue
        if urlsplit(item.url).path.lower().endswith(NOT_HTML_SUFFIXES):
            item.extra["fulltext"] = {"feed_hash": fhash, "status": "not-html"}
            continue
        if ctx.offsite(item.url):
            item.extra["fulltext"] = {"feed_hash": fhash, "status": "offsite"}
            offsite += 1
            continue
        if fetched >= limit or out_of_time:
            pending += 1
            continue
        fetched += 1
        state: dict[str, Any] = {"feed_hash": fhash}
        try:
            resp = ctx.get(item.url, accept=PAGE_ACCEPT)
            extracted = extract_page(resp, tz=tz, now=ctx.now)
        except BudgetExceededError:
            # The source's budget is spent: this page and the rest wait for the next run.
            out_of_time, fetched, pending = True, fetched - 1, pending + 1
            continue
        except HTTPStatusError as e:
            state["status"] = "gone" if 400 <= e.status < 500 and e.status not in (408, 429) else "error"
            problems.append(str(e))
        except (RobotsDisallowedError, ResponseTooLargeError, RefusedURLError) as e:
            state["status"] = "blocked"
            problems.append(str(e))
        except ParseError as e:
            state["status"] = "empty"
            problems.append(str(e))
        except FetchError as e:
            state["status"] = "error"
            problems.append(str(e))
        except Exception as e:  # a hostile page must cost this item its full text, never the source
            state["status"] = "empty"
            problems.append(f"{item.url}: unexpected {e.__class__.__name__} while extracting: {str(e)[:100]}")
        else:
            state.update(_apply(item, extracted))
        item.extra["fulltext"] = state
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        warnings.append(f"full text: {len(problems)} of {fetched} pages gave no text, the summary is kept: "
                        f"{'; '.join(problems[:3])}{more}")
    if pending:
        why = ("the source's time budget (settings.source_budget) ran out" if out_of_time else
               f"at most {limit} per run; raise fulltext_limit to fetch more at once")
        warnings.append(f"full text: {pending} pages left for the next run ({why})")
    if offsite:
        warnings.append(f"full text: {offsite} links point to other sites and were not fetched (set "
                        "follow_offsite: true on the source to fetch them)")


def _copy_fulltext(source: RawItem, item: RawItem) -> None:
    state = source.extra.get("fulltext")
    if isinstance(state, dict):
        item.extra["fulltext"] = dict(state)
        if state.get("status") == "ok":
            item.content = source.content if len(source.content) > len(item.content) else item.content
            item.author = item.author or source.author
            item.published = item.published or source.published


def _carry_over(item: RawItem, stored: KnownItem, fhash: str) -> bool:
    """When the stored item was extracted from the same feed entry, reuse its text; True if done."""
    state = stored.extra.get("fulltext")
    if not isinstance(state, dict) or state.get("feed_hash") != fhash or state.get("status") not in STATUS_DONE:
        return False
    if state.get("status") == "ok":
        item.content = stored.content or item.content
        if state.get("title") and not item.title:
            item.title = state["title"]
        if state.get("author") and not item.author:
            item.author = state["author"]
        if state.get("date") and item.published is None:
            item.published = datetime.fromisoformat(state["date"])
    item.extra["fulltext"] = state
    return True


def _apply(item: RawItem, page: dict[str, Any]) -> dict[str, Any]:
    """Merge an extraction into the item; return the state to remember."""
    text = page.get("text") or ""
    state: dict[str, Any] = {"status": "ok" if text else "empty"}
    if not text:
        return state
    if len(text) > len(item.content):
        item.content = text
    if page.get("title"):
        state["title"] = page["title"]
        if not item.title:
            item.title = page["title"]
    if page.get("author"):
        state["author"] = page["author"]
        item.author = item.author or page["author"]
    if page.get("date") is not None:
        state["date"] = page["date"].isoformat()
        if item.published is None:
            item.published = page["date"]
    return state


def extract_page(resp: HttpResponse, tz: str = "Asia/Bangkok", now: datetime | None = None) -> dict[str, Any]:
    """Main text, title, author and date of a fetched article page. Raises ``ParseError`` when the
    response is not HTML or has no extractable text."""
    ctype = resp.content_type
    if ctype and not any(t in ctype for t in ("html", "xml")) and not ctype.startswith("text/"):
        raise ParseError(f"{resp.final_url}: not an HTML page (Content-Type {ctype.split(';')[0]})")
    # Extraction time grows with the page (a hostile 4 MB page took 45 s): read the first MAX_PAGE_CHARS.
    return extract_html(resp.text()[:MAX_PAGE_CHARS], url=resp.final_url, tz=tz, now=now)


def extract_html(html: str, url: str | None = None, tz: str = "Asia/Bangkok",
                 now: datetime | None = None) -> dict[str, Any]:
    """``{"text", "title", "author", "date"}`` from an HTML document (``date`` aware UTC or None)."""
    import trafilatura

    params: dict[str, Any] = {"extensive_search": True, "original_date": True}
    if now is not None:
        params["max_date"] = now.strftime("%Y-%m-%d")
    try:
        doc = trafilatura.bare_extraction(
            html, url=url, with_metadata=True, include_comments=False, include_tables=True,
            deduplicate=False, date_extraction_params=params,
        )
    except Exception as e:  # trafilatura on hostile markup: never let it stop the source
        raise ParseError(f"{url}: text extraction failed ({e.__class__.__name__}: {e})") from None
    text = clean_text(getattr(doc, "text", None) or "") if doc is not None else ""
    title = clean_text(getattr(doc, "title", None) or "")
    first, _, rest = text.partition("\n")
    if title and rest and first.strip().casefold() == title.casefold():
        text = rest.strip()  # the headline is the item's title already
    if len(text) < MIN_TEXT_CHARS:
        raise ParseError(f"{url}: no article text found on the page")
    author = clean_text(getattr(doc, "author", None) or "") or _head_meta(html)[1]
    date = _page_date(html, text, title, getattr(doc, "date", None), tz, now)
    return {"text": text, "title": title, "author": author, "date": date}


def _page_date(html: str, text: str, title: str, extracted: str | None, tz: str,
               now: datetime | None) -> datetime | None:
    """Publication time: a dated meta tag, else a Thai date under the title or at the top of a Thai
    article (htmldate does not read Buddhist-Era dates), else trafilatura's (htmldate's) date."""
    for value in _meta_dates(html):
        dt = parse_date(value, tz=tz, now=now)
        if dt is not None and (now is None or dt <= now):
            return dt
    if THAI_RE.search(text[:400]):
        for window in (_below_title(html, title), text[:800]):
            found = find_date(window, tz=tz)
            if found is not None and (now is None or found[0] <= now):
                return found[0]
    if extracted:
        return parse_date(extracted, tz=tz, now=now)
    return None


def _below_title(html: str, title: str, chars: int = 600) -> str:
    """The page's visible text just after its headline (where Thai sites print the date)."""
    if not title:
        return ""
    soup = BeautifulSoup(html, "lxml")
    body = soup.body or soup
    for bad in body(["script", "style", "noscript", "nav", "header", "footer"]):
        bad.decompose()
    visible = clean_text(body.get_text(" "))
    at = visible.find(title[:40])
    return visible[at + len(title): at + len(title) + chars] if at >= 0 else ""


def _meta_dates(html: str) -> list[str]:
    return _head_meta(html)[0]


def _head_meta(html: str) -> tuple[list[str], str | None]:
    """Publication dates (meta tags, JSON-LD) and the ``author`` meta tag of a page."""
    head = html[:200_000]
    soup = BeautifulSoup(head, "lxml")
    found: list[str] = []
    author = None
    for meta in soup.find_all("meta"):
        key = str(meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        content = str(meta.get("content") or "").strip()
        if not content:
            continue
        if key in META_DATE_KEYS:
            found.append(content)
        elif key in ("author", "article:author", "dc.creator") and author is None and "://" not in content:
            author = clean_text(content)[:200] or None
    found.extend(JSONLD_DATE_RE.findall(head))
    return found, author
