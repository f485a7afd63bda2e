"""When a source is due: the one rule that ``scanner fetch``, ``scanner status`` and ``scanner schedule`` use.

A source is due ``every`` after its last attempt. After failures the wait doubles per failure in
a row beyond the first (``every``, 2×, 4× … at most 64×), but never beyond a day (or ``every``
itself when that is longer), so a dead host is not hammered and a revived one is tried again soon.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from scanner.clock import parse_iso
from scanner.models import SourceState

MAX_DOUBLINGS = 6
MAX_BACKOFF = 86400.0  # seconds
# Timestamps are stored to the second, so "due at 08:00:00.4" must count as due at 08:00:00.
TOLERANCE = 0.5


def wait_after(every: float, failures: int) -> float:
    """Seconds between the last attempt and the next one, after ``failures`` failures in a row."""
    if failures <= 0:
        return every
    return float(min(every * 2 ** min(failures - 1, MAX_DOUBLINGS), max(every, MAX_BACKOFF)))


def next_due(state: SourceState, every: float) -> datetime | None:
    """When the source is next due; ``None`` when it was never tried (due at once)."""
    if not state.last_attempt:
        return None
    return parse_iso(state.last_attempt) + timedelta(seconds=wait_after(every, state.consecutive_failures))


def is_due(state: SourceState, every: float, now: datetime, early: float = 0.0) -> bool:
    """Is the source due at ``now``? ``early`` (seconds) also accepts a time that close before it.

    The scheduler passes half an interval: its timetable fires every ``every`` seconds, but an
    attempt that waited behind a long job was recorded late, so the next tick may come a little
    before ``every`` has passed since then.
    """
    due = next_due(state, every)
    return due is None or due <= now + timedelta(seconds=early + TOLERANCE)
