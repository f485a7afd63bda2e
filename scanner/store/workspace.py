"""Small reads the workspace needs beside the existing queries: which week "this week" is."""

from __future__ import annotations

from scanner.store import Store


def latest_analysis_as_of(store: Store, until: str) -> str | None:
    """The "now" of the latest finished analysis that ran as of ``until`` or earlier (UTC ISO), or ``None``."""
    row = store.db.execute(
        "SELECT max(COALESCE(as_of, started_at)) FROM runs WHERE kind IN ('analyse', 'run') "
        "AND finished_at IS NOT NULL AND COALESCE(as_of, started_at) <= ?", (until,)).fetchone()
    return str(row[0]) if row and row[0] else None
