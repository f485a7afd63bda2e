"""Replaying the analysis week by week: an imported archive gets the signals of a scanner that lived
through those weeks.

One ``analyse`` over an archive sees only its last window, so most of the archive never reaches a
signal. ``replay`` runs ``analyse`` as of the end of every week in turn (the last second of
Sunday in ``settings.timezone``; the current week as of ``now``), which is what ``make demo`` and
a scheduler running since the first week do: signals are born, grow, merge and fade in order,
with the same ids. Stored vectors and relevance decisions are reused, so a week costs only what
is new in it plus clustering its window.

``scanner analyse --from W --to W`` calls it for a range; ``scanner run --once`` (and the scheduled
job) call it by themselves for the archive's weeks when the database has items but no analysis
yet (``archive_weeks``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from scanner.analysis.analyse import AnalyseResult, analyse, analysis_window
from scanner.analysis.embed import Embedder, get_embedder
from scanner.clock import iso_week, parse_iso, shift_week, week_end, week_range
from scanner.config import Config
from scanner.store import Store
from scanner.store import signals as db


def week_moment(week: str, now: datetime, tz: str) -> datetime:
    """When a replay analyses ``week``: its last second, or ``now`` if the week has not ended."""
    return min(week_end(week, tz) - timedelta(seconds=1), now)


def replay(config: Config, store: Store, first: str, last: str, now: datetime, progress: bool = False,
           embedder: Embedder | None = None, relevance: bool = True,
           on_week: Callable[[AnalyseResult], None] | None = None) -> list[AnalyseResult]:
    """Analyse every ISO week from ``first`` to ``last`` (both included, none after ``now``'s week), in
    order; a week whose whole window holds no item is skipped."""
    from tqdm import tqdm

    tz = config.settings.timezone
    weeks = [w for w in week_range(first, last) if w <= iso_week(now, tz)]
    embedder = embedder or get_embedder(config.analysis, config.base_dir)
    results = []
    for week in tqdm(weeks, unit="week", desc="analyse", disable=not progress or len(weeks) < 2, leave=False):
        at = week_moment(week, now, tz)
        window = analysis_window(at, config.analysis.window_weeks, tz)
        if not db.any_item_in(store, window.start, window.end):
            continue  # nothing published in the whole window: no signal to find, grow or fade
        result = analyse(config, store, at, embedder=embedder, relevance=relevance)
        results.append(result)
        if on_week:
            on_week(result)
    return results


def archive_weeks(config: Config, store: Store, now: datetime) -> tuple[str, str] | None:
    """The weeks to replay before analysing ``now`` when nothing was analysed yet: from the week of
    the first item published to the week before ``now``'s. ``None`` when an analysis has run, or
    when there is no earlier week with items."""
    if db.count_runs(store, "analyse"):
        return None
    first = db.first_published(store)
    if first is None:
        return None
    tz = config.settings.timezone
    start, last = iso_week(parse_iso(first), tz), shift_week(iso_week(now, tz), -1)
    if start > last:
        return None
    return max(start, shift_week(last, -(MAX_ARCHIVE_WEEKS - 1))), last


MAX_ARCHIVE_WEEKS = 520  # an archive older than ten years is replayed from its last ten
