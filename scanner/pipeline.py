"""One pass of the whole pipeline: fetch what is due → analyse → digest when due.

Used by ``scanner run --once`` and by the scheduled job. Each stage is called through its module;
the stages talk through the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from scanner.collect import collect, select_sources
from scanner.config import Config
from scanner.models import FetchRun
from scanner.store import Store

logger = logging.getLogger(__name__)


@dataclass
class RunSummary:
    fetch: FetchRun
    lines: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return self.fetch.exit_code


def run_once(config: Config, store: Store, now: datetime, progress: bool = False,
             db_path: Path | None = None) -> RunSummary:
    """Fetch every due source, then the later stages. Returns what happened, line by line."""
    store.sync_sources(config)
    sources = select_sources(config, store, now)
    run = collect(config, store, sources, now=now)
    summary = RunSummary(fetch=run)
    for r in run.results:
        if r.status == "failed":
            summary.lines.append(f"  {r.source_id}: FAILED: {r.error}")
    summary.lines.append(
        f"fetch: {len(run.results)} sources due, {run.ok} ok, {run.failed} failed; "
        f"{run.items_new} new items, {run.items_updated} updated"
    )
    return summary
