"""Trends: groups of signals on one matter, the level above signals (as in UNDP's FTSS).

A trend is tracked exactly as a signal is, one level up (``scanner.analysis.track``): the "items"
are the window's signals, each its own "story", with the unit mean of its members' vectors; the
"signals" are the trends. So a trend keeps its id week after week; a new signal joins the trend it
is plainly about (average similarity ``join``); the signals left over cluster at ``threshold`` and
at least two of them make a trend; trends merge and split with the same hysteresis. A signal that
belongs to no trend is a trend of its own in all but name: the digest shows it on its own.

An analyst's move wins: a signal moved to a trend (``pinned``) stays there whatever the engine
finds, and the trend it was moved to is never split.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scanner.analysis.track import TrackParams, TrackResult, track_signals
from scanner.analysis.vectors import unit_rows
from scanner.config.models import TREND_THRESHOLD
from scanner.store.signals import SignalRef

TREND_JOIN_GAP = 0.10  # a signal joins an existing trend at threshold - gap (as items join signals)


def trend_params(threshold: float = TREND_THRESHOLD) -> TrackParams:
    """Tracking parameters one level up: two signals make a trend, two on each side split one."""
    return TrackParams(threshold=threshold, join=threshold - TREND_JOIN_GAP, min_items=2, min_split=2)


def track_trends(signal_ids: Sequence[int], means: np.ndarray, previous: dict[int, int], trends: list[SignalRef],
                 next_id: int, params: TrackParams | None = None,
                 pinned: dict[int, int] | None = None) -> TrackResult:
    """Assign the window's signals (``signal_ids`` with their mean vectors ``means``) to trends.

    ``previous``: each signal's trend from the last run; ``pinned``: signals an analyst moved, and
    where to. The result's ``assignment`` maps signal → trend and ``means`` each live trend's
    mean of unit signal vectors.
    """
    pinned = pinned or {}
    ids = [int(s) for s in signal_ids]
    vectors = unit_rows(np.asarray(means, dtype=np.float32)) if len(ids) else np.zeros((0, 0), np.float32)
    keep = {s: pinned.get(s, t) for s, t in previous.items()}
    result = track_signals(ids, ids, vectors, keep, trends, next_id, params or trend_params(),
                           no_split=frozenset(pinned.values()))
    if not pinned:
        return result
    final = {a: b for a, b in result.merged}
    for sid in ids:
        if sid in pinned:
            target = pinned[sid]
            while target in final:
                target = final[target]
            result.assignment[sid] = target
    result.means = _trend_means(ids, vectors, result.assignment)
    return result


def _trend_means(ids: list[int], vectors: np.ndarray, assignment: dict[int, int]) -> dict[int, np.ndarray]:
    groups: dict[int, list[int]] = {}
    for row, sid in enumerate(ids):
        if sid in assignment:
            groups.setdefault(assignment[sid], []).append(row)
    return {t: vectors[rows].mean(axis=0) for t, rows in sorted(groups.items())}


__all__ = ["TREND_THRESHOLD", "track_trends", "trend_params"]
