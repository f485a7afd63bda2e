"""Queries for the ``embeddings`` table: vectors keyed by (content hash, model id)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scanner.clock import iso, now_utc
from scanner.models import Item
from scanner.store import ITEM_COLUMNS, Store, chunked, placeholders, select_items


def items_without_vectors(store: Store, model_id: str, item_ids: Sequence[int] | None = None) -> list[Item]:
    """Items whose current text has no vector for ``model_id`` (the first item of each content hash), by id."""
    sql = (f"SELECT {ITEM_COLUMNS} FROM items LEFT JOIN embeddings e ON e.content_hash = items.content_hash "
           "AND e.model = ? WHERE e.content_hash IS NULL")
    first: dict[str, Item] = {}
    for item in select_items(store, sql, [model_id], item_ids):
        first.setdefault(item.content_hash, item)
    return list(first.values())


def save_vectors(store: Store, model_id: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
    """Store one batch of vectors in one transaction."""
    now = iso(now_utc())
    vectors = np.asarray(vectors, dtype="<f4")
    with store.transaction():
        store.db.table("embeddings").insert_all(
            ({"content_hash": h, "model": model_id, "dim": int(v.shape[0]), "vector": v.tobytes(), "created_at": now}
             for h, v in zip(hashes, vectors, strict=True)), replace=True)


def load_vectors(store: Store, model_id: str, item_ids: Sequence[int]) -> np.ndarray:
    """Vectors of ``item_ids`` in that order (rows of zeros where an item has none)."""
    if not item_ids:
        return np.zeros((0, 0), dtype=np.float32)
    found: dict[int, np.ndarray] = {}
    for ids in chunked(item_ids):
        rows = store.db.execute(
            f"SELECT items.id, e.vector FROM items JOIN embeddings e ON e.content_hash = items.content_hash "
            f"AND e.model = ? WHERE items.id IN ({placeholders(ids)})",
            [model_id, *ids],
        ).fetchall()
        for item_id, blob in rows:
            found[item_id] = np.frombuffer(blob, dtype="<f4")
    dim = next(iter(found.values())).shape[0] if found else 0
    out = np.zeros((len(item_ids), dim), dtype=np.float32)
    for i, item_id in enumerate(item_ids):
        v = found.get(item_id)
        if v is not None:
            out[i] = v
    return out
