"""Full-text search, newest first, fast on a database of ten years.

The search index (``items_fts``, PyThaiNLP tokens) finds matching rowids quickly, but ordering
every match of a common word by publication time means reading each match's row: seconds for a
word in half a million items. So the search runs in two ways, both exact:

- A rare term (at most ``RARE`` matches) is sorted whole.
- A common one is looked for in a growing window of the newest items: the window's ids come
  from the ``published`` index, and the index is asked only for matches within the window's
  id ranges. The window grows fourfold until it holds ``limit`` matches or covers everything.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

from scanner.clock import iso, parse_iso
from scanner.store import Store, chunked, item_filters, placeholders

RARE = 2000  # a term with at most this many matches is sorted whole
FIRST_WINDOW_DAYS = 7
ID_GAP = 5000  # ids further apart than this are looked up as separate ranges


def search_ids(store: Store, match: str, limit: int | None, since: str | None = None, until: str | None = None,
               source_ids: Sequence[str] = (), relevance: str = "") -> list[int]:
    """Ids of the items matching the FTS5 expression ``match``, newest published first (at most ``limit``).

    ``since`` (inclusive) and ``until`` (exclusive) bound ``published``; ``source_ids`` keeps those
    sources, ``relevance`` those with that stored decision (``scanner.store.item_filters``).
    """
    conditions, params = item_filters(since, until, source_ids, relevance)
    where = "".join(f" AND {c}" for c in conditions)
    few = [r[0] for r in store.db.execute("SELECT rowid FROM items_fts WHERE items_fts MATCH ? LIMIT ?",
                                          (match, RARE + 1))]
    if len(few) <= RARE:
        return _sorted(store, few, where, params, limit)
    if not limit:
        sql = (f"SELECT id FROM items WHERE id IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?){where} "
               "ORDER BY published DESC, id DESC")
        return [r[0] for r in store.db.execute(sql, [match, *params])]
    return _windowed(store, match, limit, where, params, since)


def _sorted(store: Store, ids: list[int], where: str, params: list[Any], limit: int | None) -> list[int]:
    rows: list[tuple[str, int]] = []
    for chunk in chunked(ids):
        rows.extend(store.db.execute(f"SELECT published, id FROM items WHERE id IN ({placeholders(chunk)}){where}",
                                     [*chunk, *params]))
    rows.sort(reverse=True)
    return [i for _, i in (rows[:limit] if limit else rows)]


def _windowed(store: Store, match: str, limit: int, where: str, params: list[Any], since: str | None) -> list[int]:
    ends = [store.db.execute(f"SELECT published FROM items WHERE 1{where} ORDER BY published {order} LIMIT 1",
                             params).fetchone() for order in ("ASC", "DESC")]  # each one step down the index
    if ends[0] is None or ends[1] is None:
        return []
    oldest, newest = parse_iso(ends[0][0]), parse_iso(ends[1][0])
    days = FIRST_WINDOW_DAYS
    while True:
        start = newest - timedelta(days=days)
        window = store.db.execute(
            f"SELECT id FROM items WHERE published >= ?{where} ORDER BY published DESC, id DESC",
            [iso(start), *params]).fetchall()
        ids = [r[0] for r in window]
        matched: set[int] = set()
        for lo, hi in _ranges(sorted(ids)):
            matched.update(r[0] for r in store.db.execute(
                "SELECT rowid FROM items_fts WHERE items_fts MATCH ? AND rowid BETWEEN ? AND ?", (match, lo, hi)))
        hits = [i for i in ids if i in matched]
        if len(hits) >= limit or start <= oldest or (since is not None and iso(start) <= since):
            return hits[:limit]
        days *= 4


def _ranges(ids: list[int]) -> Iterator[tuple[int, int]]:
    """Sorted ids as ``(first, last)`` runs with gaps of at most ``ID_GAP`` inside."""
    if not ids:
        return
    lo = prev = ids[0]
    for i in ids[1:]:
        if i - prev > ID_GAP:
            yield lo, prev
            lo = i
        prev = i
    yield lo, prev
