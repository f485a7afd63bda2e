"""Collecting: decide which sources are due, fetch them concurrently, store what they yield.

Each source is fetched in a worker thread (the HTTP client keeps every host polite) within its
time budget (``settings.source_budget``); results are prepared and written by the calling thread,
one transaction per source. A source that fails, while fetching or while its items are prepared
and stored, is recorded in ``fetches`` as failed and never stops the others.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from scanner.clock import now_utc
from scanner.config import CkanSource, Config, HtmlSource, RssSource, SourceConfig
from scanner.due import is_due
from scanner.errors import FetchError, HTTPStatusError
from scanner.http import HttpClient
from scanner.models import FetchRun, KnownItem, SourceFetch, SourceState
from scanner.netguard import Deadline
from scanner.normalize import clean_text
from scanner.prepare import prepare_items
from scanner.sources import FetchContext, ckan, file, html, rss
from scanner.store import Store

logger = logging.getLogger(__name__)

MAX_WORKERS = 4


def select_sources(config: Config, store: Store, now: datetime, ids: Sequence[str] = (),
                   all_sources: bool = False) -> list[SourceConfig]:
    """The sources to fetch: the named ones, every enabled one (``all_sources``), or the due ones."""
    if ids:
        chosen = [config.source(i) for i in ids]
        return chosen
    enabled = [s for s in config.sources if s.enabled]
    if all_sources:
        return enabled
    return [s for s in enabled if is_due(store.source_state(s.id), s.every_seconds(config.settings), now)]


def fetch_kind(source: SourceConfig, ctx: FetchContext) -> SourceFetch:
    """Fetch ``source`` with the module of its kind (raises ``FetchError``)."""
    if isinstance(source, RssSource):
        return rss.fetch(source, ctx)
    if isinstance(source, HtmlSource):
        return html.fetch(source, ctx)
    if isinstance(source, CkanSource):
        return ckan.fetch(source, ctx)
    return file.fetch(source, ctx)


def fetch_source(source: SourceConfig, ctx: FetchContext) -> SourceFetch:
    """Fetch one source within its budget; never raises: any failure becomes a ``failed`` result."""
    started = now_utc()
    ctx.source = source
    ctx.deadline = Deadline.after(ctx.config.settings.budget)
    try:
        result = fetch_kind(source, ctx)
    except FetchError as e:
        result = SourceFetch(source.id, started_at=ctx.now, status="failed", error=str(e))
        if isinstance(e, HTTPStatusError):
            result.http_status = e.status
    except Exception as e:  # a bug or a hostile input must not stop the run
        result = _crashed(source.id, ctx.now, "fetching", e)
    result.finished_at = now_utc() if ctx.now >= started else ctx.now
    if result.status == "failed":
        result.items = []
    return result


def collect(
    config: Config,
    store: Store,
    sources: Sequence[SourceConfig],
    now: datetime | None = None,
    http: HttpClient | None = None,
    workers: int = MAX_WORKERS,
    on_result: Callable[[SourceFetch], None] | None = None,
) -> FetchRun:
    """Fetch ``sources`` and store their items. Returns the run summary (see ``FetchRun.exit_code``)."""
    now = now or now_utc()
    store.sync_sources(config)
    run = FetchRun()
    if not sources:
        return run
    own_http = http is None
    http = http or HttpClient.from_settings(config.settings)
    lock = threading.Lock()

    def lookup_for(source_id: str) -> Callable[[str], KnownItem | None]:
        def lookup(url: str) -> KnownItem | None:
            with lock:
                return store.known_item(url, source_id)

        return lookup

    try:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(sources))), thread_name_prefix="fetch") as pool:
            futures = {}
            for s in sources:
                with lock:
                    state = store.source_state(s.id)
                ctx = FetchContext(http=http, config=config, now=now, state=state, lookup=lookup_for(s.id), lock=lock)
                futures[pool.submit(fetch_source, s, ctx)] = s
            # Stored in configuration order, not completion order, so item ids (and everything built
            # on them) are the same on every run over the same input.
            for fut, source in futures.items():
                result = fut.result()
                with lock:
                    result = _store_result(config, store, source, result, now)
                _log_result(result)
                run.results.append(result)
                if on_result:
                    on_result(result)
    finally:
        if own_http:
            http.close()
    run.results.sort(key=lambda r: r.source_id)
    return run


def _store_result(config: Config, store: Store, source: SourceConfig, result: SourceFetch,
                  now: datetime) -> SourceFetch:
    """Prepare and store one source's fetch. If that fails (a hostile value the cleaning missed, a
    bug), the fetch is recorded as failed instead, so the source backs off and the run goes on."""
    try:
        items = prepare_items(result.items, source.id, source.language, store.stored_hash,
                              caps=config.settings.caps, now=now)
        clamped = sum(1 for it in items if it.date_clamped)
        if clamped:
            result.warnings.append(f"{clamped} items claimed a publication date more than a day ahead; stored "
                                   "with the fetch time (the claimed date is kept as published_claimed)")
        store.save_fetch(result, items)
        return result
    except Exception as e:
        failed = _crashed(source.id, result.started_at, "storing its items", e)
        failed.finished_at = result.finished_at
        store.save_fetch(failed)
        return failed


def _crashed(source_id: str, started: datetime, doing: str, e: Exception) -> SourceFetch:
    logger.debug("unexpected error in %s while %s:\n%s", source_id, doing, traceback.format_exc())
    message = clean_text(f"unexpected {e.__class__.__name__} while {doing}: {e}")[:500]
    return SourceFetch(source_id, started_at=started, status="failed", error=message)


def test_source(config: Config, source_id: str, now: datetime | None = None,
                store: Store | None = None) -> SourceFetch:
    """Fetch one source now and return what it would store; writes nothing (``scanner sources test``)."""
    source = config.source(source_id)
    now = now or now_utc()
    with HttpClient.from_settings(config.settings) as http:
        ctx = FetchContext(http=http, config=config, now=now, state=SourceState(source_id),
                           lookup=(lambda url: store.known_item(url, source_id)) if store else (lambda url: None),
                           preview=True)
        return fetch_source(source, ctx)


def _log_result(r: SourceFetch) -> None:
    if r.status == "failed":
        logger.warning("%s: failed: %s", r.source_id, r.error)
    else:
        logger.info("%s: %s, %d new, %d updated, %d seen", r.source_id, r.status, r.items_new, r.items_updated,
                    r.items_seen)
    for w in r.warnings:
        logger.warning("%s: %s", r.source_id, w)
