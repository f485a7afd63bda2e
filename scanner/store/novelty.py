"""Queries for ``item_novelty`` (``scanner.analysis.novelty``): the stored values, the earlier items'
vectors in publication order, and the readers' view of an item's novelty.

"Earlier" is the ``(published, id)`` order everywhere here: published strictly before, and at the
same instant the smaller id first. The vectors are those of ``embeddings`` for one model, joined by
content hash, so exact copies share one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from scanner.store import Store, chunked, placeholders

Key = tuple[str, int]  # (published, id): an item's place in the order of arrival

CHUNK = 2048  # earlier vectors read at a time: 4 MB of 512-dimension float32 rows


@dataclass
class NoveltyRow:
    """One item's stored novelty: for which text and model, against how many earlier items."""

    item_id: int
    content_hash: str
    model: str
    novelty: float
    nearest_id: int | None  # the most similar earlier item (None: none earlier, or none similar at all)
    earlier: int
    computed_at: str


@dataclass
class VectorChunk:
    """Earlier items' vectors, in ``(published, id)`` order."""

    keys: list[Key]
    vectors: np.ndarray  # float32 rows, one per key


@dataclass
class ItemNovelty:
    """An item's novelty as a reader shows it: with its nearest earlier item's title and date."""

    item_id: int
    novelty: float
    model: str
    up_to_date: bool  # computed for the item's current text
    earlier: int
    nearest_id: int | None
    nearest_title: str | None
    nearest_published: str | None


def load_novelty(store: Store, item_ids: Sequence[int]) -> dict[int, NoveltyRow]:
    """The stored rows of ``item_ids`` (whatever their model)."""
    out: dict[int, NoveltyRow] = {}
    for ids in chunked(item_ids):
        for r in store.db.execute(
            "SELECT item_id, content_hash, model, novelty, nearest_id, earlier, computed_at FROM item_novelty "
            f"WHERE item_id IN ({placeholders(ids)})", ids
        ):
            out[int(r[0])] = NoveltyRow(int(r[0]), r[1], r[2], float(r[3]), r[4], int(r[5]), r[6])
    return out


def save_novelty(store: Store, rows: Sequence[NoveltyRow]) -> None:
    """Store (replace) the rows of one run in one transaction."""
    with store.transaction() as conn:
        conn.executemany(
            "INSERT OR REPLACE INTO item_novelty (item_id, content_hash, model, novelty, nearest_id, earlier, "
            "computed_at) VALUES (?,?,?,?,?,?,?)",
            [(r.item_id, r.content_hash, r.model, r.novelty, r.nearest_id, r.earlier, r.computed_at) for r in rows],
        )


def ids_without_vectors_before(store: Store, model_id: str, until: Key, since: str = "") -> list[int]:
    """Items published from ``since`` on and before ``until`` in ``(published, id)`` order with no
    vector for ``model_id``, by id."""
    sql = ("SELECT items.id FROM items LEFT JOIN embeddings e ON e.content_hash = items.content_hash AND e.model = ? "
           "WHERE e.content_hash IS NULL AND items.published >= ? AND (items.published, items.id) < (?, ?) "
           "ORDER BY items.id")
    return [int(r[0]) for r in store.db.execute(sql, (model_id, since, *until))]


def earlier_vectors(store: Store, model_id: str, until: Key, size: int = CHUNK, since: str = "") -> Iterator[
        VectorChunk]:
    """The vectors of every item published from ``since`` on and before ``until`` (``(published, id)``
    order), ``size`` rows at a time.

    Keyset pages, so memory stays at one chunk however long the history; items without a vector
    for ``model_id`` are not in it."""
    after: Key = (since, -1)
    while True:
        rows = store.db.execute(
            "SELECT items.published, items.id, e.vector FROM items JOIN embeddings e "
            "ON e.content_hash = items.content_hash AND e.model = ? "
            "WHERE (items.published, items.id) > (?, ?) AND (items.published, items.id) < (?, ?) "
            "ORDER BY items.published, items.id LIMIT ?", (model_id, *after, *until, size)).fetchall()
        if not rows:
            return
        vectors = np.stack([np.frombuffer(blob, dtype="<f4") for _, _, blob in rows]).astype(np.float32)
        yield VectorChunk(keys=[(p, int(i)) for p, i, _ in rows], vectors=vectors)
        if len(rows) < size:
            return
        after = (rows[-1][0], int(rows[-1][1]))


def item_novelty(store: Store, item_ids: Sequence[int]) -> dict[int, ItemNovelty]:
    """``ItemNovelty`` of those of ``item_ids`` that have one (``export items``, ``items --explain``)."""
    out: dict[int, ItemNovelty] = {}
    for ids in chunked(item_ids):
        for r in store.db.execute(
            "SELECT n.item_id, n.novelty, n.model, n.content_hash = i.content_hash, n.earlier, n.nearest_id, "
            "e.title, e.published FROM item_novelty n JOIN items i ON i.id = n.item_id "
            f"LEFT JOIN items e ON e.id = n.nearest_id WHERE n.item_id IN ({placeholders(ids)})", ids
        ):
            out[int(r[0])] = ItemNovelty(int(r[0]), float(r[1]), r[2], bool(r[3]), int(r[4]), r[5], r[6], r[7])
    return out
