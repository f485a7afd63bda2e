"""From what a source found to what the store writes: ``prepare_items`` is the one step that builds
an item's key, cleans its text, detects its language and tokenises it.

The store only stores (``Store.upsert_items``). Preparing happens before the write transaction,
so the transaction stays short while PyThaiNLP tokenises (the costly part of storing an item).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from scanner.clock import iso, now_utc
from scanner.models import FieldCaps, PreparedItem, RawItem, UpsertResult
from scanner.normalize import (
    canonical_url,
    capped_text,
    content_hash,
    detect_lang,
    http_url,
    join_tokens,
    scrub_json,
    scrub_line,
    search_tokens,
    split_tokens,
    tokenize,
)
from scanner.store import BODY_TOKENS, Store

MAX_INDEXED_CHARS = 20_000  # text beyond this is stored but not tokenised
FUTURE_SLACK = timedelta(days=1)  # a date later than the fetch by more than this is not believed
MAX_LINE_CHARS = 2_000  # guid, author and URL

# The content hash of the item a source would write under an item key, or None when there is none.
KnownHash = Callable[[str, str], str | None]


def item_key(source_id: str, canonical: str | None, guid: str | None, chash: str) -> str:
    """An item's identity: its canonical URL; without one, its guid or its text within its source."""
    if canonical:
        return canonical
    if guid and guid.strip():
        return f"guid:{source_id}:{guid.strip()}"
    return f"hash:{source_id}:{chash}"


def prepare_item(raw: RawItem, source_id: str, language: str = "auto", known: KnownHash | None = None,
                 caps: FieldCaps | None = None, now: datetime | None = None) -> PreparedItem | None:
    """``raw`` ready to store, or ``None`` when it has neither a title nor any text.

    Every string is cleaned (``clean_text`` for text, ``scrub`` for the rest: no lone surrogates or
    control characters reach the database) and cut to ``caps``. ``language`` is the source's
    setting (``th``, ``en`` or ``auto``); the item's own ``lang`` wins over it. A publication date
    more than a day in the future (after ``now``, the fetch, and after the clock: a replay ``--as-of``
    a past week still believes dates up to today) is not believed: the item gets ``now`` and keeps
    the claimed date in ``extra["published_claimed"]``. Tokens are left out (``None``) when ``known``
    says the stored item already has this exact text: it is then only touched, never re-indexed.
    """
    caps = caps or FieldCaps()
    title = _first_line(capped_text(raw.title, caps.title))
    summary = capped_text(raw.summary, caps.summary)
    content = capped_text(raw.content, caps.body)
    text = content or summary
    if not title and not text:
        return None
    chash = content_hash(title, text)
    url = http_url(scrub_line((raw.url or "")[:MAX_LINE_CHARS]))
    canon = canonical_url(url)
    guid = scrub_line((raw.guid or "")[:MAX_LINE_CHARS])
    key = item_key(source_id, canon, guid, chash)
    hint = raw.lang if raw.lang in ("th", "en") else language
    lang = detect_lang(f"{title}\n{text}", hint if hint in ("th", "en") else None)
    extra = scrub_json(raw.extra) if raw.extra else {}
    published, clamped = raw.published, False
    if published is not None and now is not None and published > max(now, now_utc()) + FUTURE_SLACK:
        assert isinstance(extra, dict)
        extra["published_claimed"] = iso(published)
        published, clamped = now, True
    item = PreparedItem(
        source_id=source_id, item_key=key, url=url if canon else None, canonical_url=canon,
        guid=guid, title=title, summary=summary, content=content,
        author=scrub_line((raw.author or "")[:MAX_LINE_CHARS]), lang=lang,
        published=iso(published) if published else None, content_hash=chash,
        extra=json.dumps(extra, ensure_ascii=False) if extra else "{}", date_clamped=clamped,
    )
    if known is None or known(source_id, key) != chash:
        title_tokens = tokenize(title)
        text_tokens = tokenize(text[:MAX_INDEXED_CHARS])
        item.tokens = join_tokens(title_tokens, text_tokens)
        item.fts_title = " ".join(search_tokens(title, title_tokens))
        item.fts_body = " ".join(search_tokens(text, text_tokens))
    return item


def _first_line(title: str) -> str:
    """A title is one line (a hostile feed may put a whole page in it)."""
    return " ".join(title.split("\n")).strip()


def prepare_items(raws: Sequence[RawItem], source_id: str, language: str = "auto",
                  known: KnownHash | None = None, caps: FieldCaps | None = None,
                  now: datetime | None = None) -> list[PreparedItem]:
    """``prepare_item`` over a fetch's entries; an item listed twice in one fetch is kept once (the first)."""
    out: list[PreparedItem] = []
    keys: set[str] = set()
    for raw in raws:
        item = prepare_item(raw, source_id, language, known, caps, now)
        if item is not None and item.item_key not in keys:
            keys.add(item.item_key)
            out.append(item)
    return out



def kept_tokens(stored: str, keep: int) -> tuple[str, str]:
    """Retention: an item's stored tokens with its body cut to the first ``keep`` tokens, and the
    search index's body for them (``search_tokens``, so words inside Thai compounds stay findable)."""
    title, body = split_tokens(stored)
    kept = body[:keep]
    return join_tokens(title, kept), " ".join(search_tokens("", kept))


def drop_bodies(store: Store, before: str, batch: int = 5000) -> int:
    """Retention (``settings.keep_bodies``): forget the full text of items published before ``before``.

    Title, summary, content hash (so vectors and relevance stay valid), signal membership and the
    first ``BODY_TOKENS`` body tokens (what the analysis reads) stay, and so does the search
    index for them. Such an item is never rewritten by a later fetch (a feed that still lists it
    cannot restore the dropped text). Each batch is one short transaction. Returns how many items
    lost their text.
    """
    done, cursor = 0, ("", 0)
    while rows := store.bodies_before(before, cursor, batch):
        cursor = rows[-1][1], rows[-1][0]
        store.forget_bodies([(item_id, *kept_tokens(tokens, BODY_TOKENS)) for item_id, _, tokens in rows])
        done += len(rows)
    return done


def store_items(store: Store, source_id: str, raws: Sequence[RawItem], seen_at: datetime,
                language: str = "auto") -> UpsertResult:
    """Prepare ``raws`` of one source and store them in one transaction (outside a fetch: imports, tests)."""
    return store.upsert_items(prepare_items(raws, source_id, language, store.stored_hash, now=seen_at), seen_at)
