"""Novelty: how far an item is from everything the lab saw before it.

``novelty(x) = 1 − max(0, max cos(v_x, v_e))`` over every **earlier** item ``e``: every stored item
published strictly before ``x``, or at the same instant with a smaller id (the ``(published, id)``
order), and no more than ``analysis.novelty_years`` (3) years before it, relevant or not and inside
the analysis window or years before it, embedded with the same model as ``x``. So it lies in [0, 1]:
1 for the first item ever (or one unlike anything in those years), 0 for an exact copy of an
earlier item. Only the past counts, never a later item. The horizon keeps a run's cost bounded: a
week's items are compared with about three years of items however long the archive grows.

Rules of the stage (``score_novelty``, run by ``scanner analyse`` after the embeddings):

- It covers the window's **relevant** items (the ones embedded and clustered, which can be
  sightings: relevant items in no signal).
- It is computed once per item, model and text: an item with a stored value for the current model
  and its current content hash is not computed again, so a run costs only the window's new items
  (compared with every earlier vector, read in chunks). Earlier items that have no vector yet are
  embedded first.
- The value is fixed when computed. An item published earlier but collected later (a late
  arrival) does not lower the novelty already stored for the items after it; with items collected
  in order, replaying weeks (``scanner analyse --from/--to``) gives the values of living through them.
- Similarities are rounded to 9 decimals before they are compared and the earliest of equals is
  the nearest, so the result does not depend on how the history is chunked.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from scanner.analysis.embed import Embedder, embed_items
from scanner.clock import iso, now_utc, parse_iso
from scanner.store import Store
from scanner.store import novelty as q
from scanner.store.novelty import Key, NoveltyRow, VectorChunk
from scanner.store.signals import WindowItem

logger = logging.getLogger(__name__)

QUERY_BLOCK = 1024  # items compared at a time: a 1024 × 2048 float64 block of similarities is 16 MB
SIM_DIGITS = 9
NOVELTY_DIGITS = 4


@dataclass
class Nearest:
    """For each item: its most similar earlier item and how many earlier items it was compared with."""

    similarity: np.ndarray  # float64; 0.0 while no earlier item has a positive cosine
    item_id: np.ndarray  # int64; -1 while there is none
    earlier: np.ndarray  # int64

    @property
    def novelty(self) -> np.ndarray:
        """``1 − max(0, similarity)``, rounded to 4 decimals."""
        return np.asarray(np.round(1.0 - np.clip(self.similarity, 0.0, 1.0), NOVELTY_DIGITS), dtype=np.float64)


def nearest_earlier(vectors: np.ndarray, keys: Sequence[Key], chunks: Iterable[VectorChunk],
                    starts: Sequence[str] | None = None) -> Nearest:
    """The nearest earlier item of each row of ``vectors`` (unit rows; ``keys[k]`` is row k's
    ``(published, id)``) among the ``chunks`` of earlier vectors, each in ascending key order and
    following one another in that order. Within a chunk, a row only sees the items before its own key
    and, with ``starts``, published at ``starts[k]`` or later (its horizon)."""
    n = len(keys)
    best = np.zeros(n, dtype=np.float64)
    who = np.full(n, -1, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    if n == 0:
        return Nearest(best, who, count)
    queries = np.asarray(vectors, dtype=np.float64)
    for chunk in chunks:
        if not chunk.keys:
            continue
        cut = np.array([bisect_left(chunk.keys, k) for k in keys], dtype=np.int64)  # earlier rows of the chunk
        if not cut.any():
            break  # chunks come in key order: nothing further is earlier than any item
        low = (np.zeros(n, dtype=np.int64) if starts is None else  # rows of the chunk before the horizon
               np.minimum(np.array([bisect_left(chunk.keys, (s, -1)) for s in starts], dtype=np.int64), cut))
        count += cut - low
        refs = np.asarray(chunk.vectors, dtype=np.float64)
        ids = np.array([i for _, i in chunk.keys], dtype=np.int64)
        columns = np.arange(len(chunk.keys))
        for start in range(0, n, QUERY_BLOCK):
            rows = slice(start, start + QUERY_BLOCK)
            sims = np.round(queries[rows] @ refs.T, SIM_DIGITS)
            sims[(columns[None, :] >= cut[rows, None]) | (columns[None, :] < low[rows, None])] = -np.inf
            j = np.argmax(sims, axis=1)  # the first of equals: the earliest
            s = sims[np.arange(len(j)), j]
            better = s > best[rows]
            best[rows] = np.where(better, s, best[rows])
            who[rows] = np.where(better, ids[j], who[rows])
    return Nearest(best, who, count)


def horizon_start(published: str, years: int) -> str:
    """The earliest ``published`` an item published at ``published`` is compared with."""
    return iso(parse_iso(published) - timedelta(days=round(365.25 * years)))


def score_novelty(store: Store, embedder: Embedder, items: Sequence[WindowItem], vectors: np.ndarray,
                  progress: bool = False, years: int = 3) -> int:
    """Compute and store the novelty of those of ``items`` (rows of ``vectors``) that have none for
    this model and their current text; returns how many were computed (the rules: module docstring)."""
    model = embedder.model_id
    stored = q.load_novelty(store, [it.id for it in items])
    rows = [k for k, it in enumerate(items)
            if (s := stored.get(it.id)) is None or s.model != model or s.content_hash != it.content_hash]
    if not rows:
        return 0
    keys = [(items[k].published, items[k].id) for k in rows]
    last = max(keys)
    starts = [horizon_start(p, years) for p, _ in keys]
    since = min(starts)
    embed_items(store, embedder, q.ids_without_vectors_before(store, model, last, since), progress=progress)
    nearest = nearest_earlier(vectors[rows], keys, q.earlier_vectors(store, model, last, since=since), starts)
    stamp = iso(now_utc())
    novelty = nearest.novelty
    q.save_novelty(store, [
        NoveltyRow(item_id=items[k].id, content_hash=items[k].content_hash, model=model, novelty=float(novelty[r]),
                   nearest_id=int(nearest.item_id[r]) if nearest.item_id[r] >= 0 else None,
                   earlier=int(nearest.earlier[r]), computed_at=stamp)
        for r, k in enumerate(rows)])
    logger.info("novelty: computed for %d items", len(rows))
    return len(rows)


__all__ = ["Nearest", "horizon_start", "nearest_earlier", "score_novelty"]
