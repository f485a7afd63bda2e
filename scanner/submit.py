"""Submissions: a person hands the scanner a URL and says why it matters (``/submit``).

The page is fetched through the project's polite client (``HttpClient.from_settings``: robots.txt,
timeouts, size caps, ``settings.allow_hosts``), its text extracted with trafilatura
(``scanner.sources.fulltext.extract_html``) and stored as an item of the built-in ``submissions``
source, with the submitter's name, their "why it matters" and tags in ``extra``. It always counts as
relevant (a ``relevance`` label by the submitter, ``scanner.store.labels``), so the next
``scanner analyse`` takes it in like any item. A page that cannot be fetched or read is still kept:
the item is then the URL with the submitter's text.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from scanner.clock import iso
from scanner.config import SUBMISSIONS_SOURCE, Config
from scanner.errors import FetchError, UsageError
from scanner.http import HttpClient
from scanner.models import RawItem
from scanner.normalize import http_url
from scanner.prepare import store_items
from scanner.sources.fulltext import extract_page
from scanner.store import Store
from scanner.store.audit import record_audit
from scanner.store.labels import RELEVANT, insert_label

logger = logging.getLogger(__name__)

SOURCE_ID = SUBMISSIONS_SOURCE
MAX_WHY = 4_000
MAX_TAGS = 10


@dataclass
class Submission:
    item_id: int
    fetched: bool  # the page's text was extracted
    problem: str | None  # why it was not, in words


def ensure_submissions_source(store: Store, now: datetime) -> None:
    """The built-in ``submissions`` source row (not in ``sources.yaml``; never fetched on a schedule)."""
    with store.transaction() as conn:
        conn.execute(
            "INSERT OR IGNORE INTO sources (id, name, kind, enabled, in_config, config, created_at, updated_at) "
            "VALUES (?, 'Submissions', 'submissions', 0, 0, '{}', ?, ?)", (SOURCE_ID, iso(now), iso(now)))


def parse_tags(text: str) -> list[str]:
    tags = [" ".join(t.split())[:40] for t in (text or "").replace("\n", ",").split(",")]
    return list(dict.fromkeys(t for t in tags if t))[:MAX_TAGS]


def submit_url(config: Config, store: Store, url: str, why: str, by: str, now: datetime, tags: str = "",
               client: HttpClient | None = None) -> Submission:
    """Fetch ``url``, store it as a ``submissions`` item that counts as relevant; returns its id.

    Fetching happens before any write, so the database is never held while a page loads."""
    clean = http_url((url or "").strip())
    why = " ".join((why or "").split())[:MAX_WHY]
    if not clean:
        raise UsageError("give an http(s) URL")
    if not why:
        raise UsageError("say in a sentence why it matters")
    page: dict[str, object] = {}
    problem = None
    own = client is None
    http = client or HttpClient.from_settings(config.settings, retries=1)
    try:
        page = extract_page(http.get(clean), config.settings.timezone, now)
    except FetchError as e:
        problem = str(e)
        logger.info("submission %s kept without its page: %s", clean, e)
    finally:
        if own:
            http.close()
    text = str(page.get("text") or "")
    title = str(page.get("title") or "") or why[:120]
    raw = RawItem(url=clean, title=title, summary=why, content=f"{why}\n\n{text}".strip(), lang=None,
                  published=now, author=by,
                  extra={"submitted_by": by, "why": why, "tags": parse_tags(tags), "fetched": not problem,
                         "problem": problem})
    ensure_submissions_source(store, now)
    with store.transaction() as conn:
        result = store_items(store, SOURCE_ID, [raw], now)
        if not result.item_ids:
            raise UsageError("that page could not be stored")
        item_id = int(result.item_ids[0])
        insert_label(conn, item_id, "relevance", RELEVANT, by, iso(now))
        record_audit(conn, iso(now), by, "submit", f"item:{item_id}", None,
                     {"url": clean, "why": why, "tags": json.loads(json.dumps(raw.extra["tags"])),
                      "fetched": not problem})
    return Submission(item_id, not problem, problem)


__all__ = ["SOURCE_ID", "Submission", "submit_url"]
