"""From what a source found to what the store writes: ``prepare_items`` is the one step that builds
an item's key, cleans its text, detects its language and tokenises it.

The store only stores (``Store.upsert_items``). Preparing happens before the write transaction,
so the transaction stays short while PyThaiNLP tokenises (the costly part of storing an item).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime

from scanner.clock import iso
from scanner.models import PreparedItem, RawItem, UpsertResult
from scanner.normalize import (
    canonical_url,
    clean_text,
    content_hash,
    detect_lang,
    join_tokens,
    search_tokens,
    split_tokens,
    tokenize,
)
from scanner.store import BODY_TOKENS, Store

MAX_INDEXED_CHARS = 20_000  # text beyond this is stored but not tokenised

# The content hash stored under an item key, or None for a key not stored yet.
KnownHash = Callable[[str], str | None]


def item_key(source_id: str, canonical: str | None, guid: str | None, chash: str) -> str:
    """An item's identity: its canonical URL; without one, its guid or its text within its source."""
    if canonical:
        return canonical
    if guid and guid.strip():
        return f"guid:{source_id}:{guid.strip()}"
    return f"hash:{source_id}:{chash}"


def prepare_item(raw: RawItem, source_id: str, language: str = "auto", known: KnownHash | None = None
                 ) -> PreparedItem | None:
    """``raw`` ready to store, or ``None`` when it has neither a title nor any text.

    ``language`` is the source's setting (``th``, ``en`` or ``auto``); the item's own ``lang`` wins
    over it. Tokens are left out (``None``) when ``known`` says the stored item already has this
    exact text: it is then only touched, never re-indexed.
    """
    title = clean_text(raw.title)
    summary = clean_text(raw.summary)
    content = clean_text(raw.content)
    text = content or summary
    if not title and not text:
        return None
    chash = content_hash(title, text)
    canon = canonical_url(raw.url)
    key = item_key(source_id, canon, raw.guid, chash)
    hint = raw.lang if raw.lang in ("th", "en") else language
    lang = detect_lang(f"{title}\n{text}", hint if hint in ("th", "en") else None)
    item = PreparedItem(
        source_id=source_id, item_key=key, url=raw.url.strip() if canon and raw.url else None, canonical_url=canon,
        guid=raw.guid, title=title, summary=summary, content=content, author=raw.author, lang=lang,
        published=iso(raw.published) if raw.published else None, content_hash=chash,
        extra=json.dumps(raw.extra, ensure_ascii=False, default=str) if raw.extra else "{}",
    )
    if known is None or known(key) != chash:
        title_tokens = tokenize(title)
        text_tokens = tokenize(text[:MAX_INDEXED_CHARS])
        item.tokens = join_tokens(title_tokens, text_tokens)
        item.fts_title = " ".join(search_tokens(title, title_tokens))
        item.fts_body = " ".join(search_tokens(text, text_tokens))
    return item


def prepare_items(raws: Sequence[RawItem], source_id: str, language: str = "auto",
                  known: KnownHash | None = None) -> list[PreparedItem]:
    """``prepare_item`` over a fetch's entries; an item listed twice in one fetch is kept once (the first)."""
    out: list[PreparedItem] = []
    keys: set[str] = set()
    for raw in raws:
        item = prepare_item(raw, source_id, language, known)
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
    return store.upsert_items(prepare_items(raws, source_id, language, store.stored_hash), seen_at)
