"""One pass of the whole pipeline: fetch what is due → analyse → digest when due.

Used by ``scanner run --once`` and by the scheduled job (``scanner.schedule``), which also calls
the three steps separately. The stages talk through the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from scanner.clock import iso, months_before
from scanner.collect import collect, select_sources
from scanner.config import Config
from scanner.models import FetchRun, SourceFetch
from scanner.prepare import drop_bodies
from scanner.store import Store

logger = logging.getLogger(__name__)


@dataclass
class RunSummary:
    fetch: FetchRun
    lines: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return self.fetch.exit_code


def fetch_due(config: Config, store: Store, now: datetime, source_ids: Sequence[str] | None = None,
              all_sources: bool = False, on_result: Callable[[SourceFetch], None] | None = None) -> FetchRun:
    """Fetch the due sources (exactly ``source_ids`` when given; every enabled one with
    ``all_sources``) and store their items (``collect`` mirrors the configured sources first)."""
    sources = select_sources(config, store, now, source_ids or (), all_sources)
    return collect(config, store, sources, now=now, on_result=on_result)


def analyse_step(config: Config, store: Store, now: datetime, progress: bool = False) -> list[str]:
    """Relevance, embeddings, clustering, tracking and scores over the analysis window. Returns summary lines.

    On a database with items but no analysis yet (an imported archive, a first run over feeds with
    weeks of history), the archive's weeks are replayed first (``analysis.replay``), so its items
    get the signals of a scanner that ran through those weeks."""
    # Heavy (numpy, scikit-learn, the model): imported when used.
    from scanner.analysis.analyse import analyse
    from scanner.analysis.embed import get_embedder
    from scanner.analysis.replay import archive_weeks, replay

    lines: list[str] = []
    embedder = get_embedder(config.analysis, config.base_dir)
    pending = archive_weeks(config, store, now)
    if pending:
        done = replay(config, store, *pending, now, progress=progress, embedder=embedder)
        lines.append(f"analyse: no earlier analysis: replayed {pending[0]} … {pending[1]} first "
                     f"({len(done)} weeks with items)")
    result = analyse(config, store, now, progress=progress, embedder=embedder)
    return lines + list(result.lines)


def digest_step(config: Config, store: Store, now: datetime) -> list[str]:
    """Write the digest of the last complete week if it is missing. Returns summary lines."""
    from scanner.digest import write_due_digest

    result = write_due_digest(config, store, now)
    return list(result.lines) if result is not None else []


def retention_step(config: Config, store: Store, now: datetime) -> list[str]:
    """Apply ``settings.keep_bodies``: drop the full text of items older than that many months."""
    months = config.settings.keep_bodies
    if months is None:
        return []
    tz = config.settings.timezone
    cutoff = months_before(now, months, tz)
    dropped = drop_bodies(store, iso(cutoff))
    day = cutoff.astimezone(ZoneInfo(tz)).date()
    return [f"retention: full text of {dropped} items published before {day} dropped"] if dropped else []


def run_once(config: Config, store: Store, now: datetime, progress: bool = False) -> RunSummary:
    """Fetch every due source, then analyse, then write the digest when one is due."""
    run = fetch_due(config, store, now)
    summary = RunSummary(fetch=run)
    for r in run.results:
        if r.status == "failed":
            summary.lines.append(f"  {r.source_id}: FAILED: {r.error}")
    summary.lines.append(
        f"fetch: {len(run.results)} sources due, {run.ok} ok, {run.failed} failed; "
        f"{run.items_new} new items, {run.items_updated} updated"
    )
    summary.lines.extend(analyse_step(config, store, now, progress=progress))
    summary.lines.extend(digest_step(config, store, now))
    summary.lines.extend(retention_step(config, store, now))
    return summary
