"""Stories: the same news syndicated or re-posted by several sources, grouped before clustering.

A story counts once towards a signal's volume (``DoV``) and as several sources towards its
diffusion (``DoD``). Items join one story when

- they have the same text (same ``content_hash``; ``items.duplicate_of`` already links an exact
  copy stored under another URL to the first one), or
- their embeddings are near-duplicates (cosine ≥ ``threshold``, default 0.93) and they were
  published at most ``days`` apart (default 3). On the thaigov sample with USE, re-posts of one
  press release score 0.94–0.99 while weekly bulletins of the same series (AOC 1441 warnings)
  score 0.92–0.94 but lie a week apart, so the time limit keeps them apart.

The story id is the smallest item id of the group (the first item stored), and existing stories
keep their id: only new items are compared with the window, in time-sorted chunks, so the cost
is O(new × items within ±days), never a full n × n matrix.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

import numpy as np

from scanner.analysis.vectors import linked_groups

logger = logging.getLogger(__name__)

THRESHOLD = 0.93
DAYS = 3.0
CHUNK = 1024


def day_number(published: str) -> float:
    """Days since the epoch of an ISO timestamp (for the ±days window)."""
    dt = datetime.fromisoformat(published)
    return dt.timestamp() / 86400.0


def group_stories(item_ids: Sequence[int], hashes: Sequence[str], duplicate_of: Sequence[int | None],
                  published: Sequence[str], vectors: np.ndarray, existing: dict[int, int],
                  threshold: float = THRESHOLD, days: float = DAYS) -> dict[int, int]:
    """Story id of every item in ``item_ids``.

    ``existing`` maps items already grouped on an earlier run to their story id; they keep it
    unless a new item bridges two stories (then the smaller id wins). ``vectors`` are unit rows
    aligned with ``item_ids``.
    """
    ids = [int(i) for i in item_ids]
    row = {item_id: k for k, item_id in enumerate(ids)}
    pairs: list[tuple[int, int]] = []
    for item_id, story_id in existing.items():
        if item_id in row and story_id in row:
            pairs.append((row[item_id], row[story_id]))
    by_hash: dict[str, int] = {}
    for k, (h, dup) in enumerate(zip(hashes, duplicate_of, strict=True)):
        if dup is not None and dup in row:
            pairs.append((k, row[int(dup)]))
        if h in by_hash:
            pairs.append((k, by_hash[h]))
        else:
            by_hash[h] = k
    new_rows = [k for k, item_id in enumerate(ids) if item_id not in existing]
    if new_rows and len(ids) > 1 and vectors.size:
        pairs.extend(_near_duplicates(new_rows, published, vectors, threshold, days))
    group = linked_groups(len(ids), pairs)
    first: dict[int, int] = {}
    for item_id, g in zip(ids, group.tolist(), strict=True):
        first[g] = min(first.get(g, item_id), item_id)  # the story id is its first item stored
    return {item_id: first[g] for item_id, g in zip(ids, group.tolist(), strict=True)}


def _near_duplicates(new_rows: list[int], published: Sequence[str], vectors: np.ndarray, threshold: float,
                     days: float) -> list[tuple[int, int]]:
    """Pairs of rows (at least one new) with cosine ≥ ``threshold`` published at most ``days`` apart."""
    t = np.array([day_number(p) for p in published], dtype=np.float64)
    order = np.argsort(t, kind="stable")
    t_sorted = t[order]
    v_sorted = np.ascontiguousarray(vectors[order], dtype=np.float32)
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    new_sorted = np.sort(position[np.asarray(new_rows, dtype=np.int64)])
    pairs: list[tuple[int, int]] = []
    for start in range(0, len(new_sorted), CHUNK):
        rows = new_sorted[start : start + CHUNK]
        lo = int(np.searchsorted(t_sorted, t_sorted[rows[0]] - days, side="left"))
        hi = int(np.searchsorted(t_sorted, t_sorted[rows[-1]] + days, side="right"))
        sim = v_sorted[rows] @ v_sorted[lo:hi].T
        close = np.abs(t_sorted[rows][:, None] - t_sorted[lo:hi][None, :]) <= days
        r_idx, c_idx = np.nonzero((sim >= threshold) & close)
        pairs.extend((int(order[rows[r]]), int(order[lo + c])) for r, c in zip(r_idx, c_idx, strict=True))
    logger.debug("near-duplicate links: %d", len(pairs))
    return pairs


__all__ = ["group_stories"]
