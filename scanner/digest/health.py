"""Source health for the digest: sources whose fetches failed in the week, sources silent for four
weeks or more, and sources new in the week."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from scanner.clock import parse_iso
from scanner.digest.model import FailedSource, NewSource, SourceHealth, StaleSource
from scanner.store import Store
from scanner.store import digest as q
from scanner.store.digest import SourceHealthRow

logger = logging.getLogger(__name__)

SILENT_DAYS = 28
ERROR_CHARS = 200


def source_health(store: Store, week: str, start: str, end: str, tz: str, cap: int) -> SourceHealth:
    """The sources known before ``end``, with at most ``cap`` entries in each list (and how many more)."""
    rows = [r for r in q.fetch_source_health(store, start, end) if r.known_since < end]
    failed: list[FailedSource] = []
    stale: list[StaleSource] = []
    new: list[NewSource] = []
    for r in rows:
        if r.failures:
            error = r.last_error.splitlines()[0][:ERROR_CHARS] if r.last_error else ""
            failed.append({"id": r.id, "name": r.name, "failures": r.failures, "attempts": r.attempts,
                           "error": error})
        if r.known_since >= start:
            new.append({"id": r.id, "name": r.name, "kind": r.kind, "items_week": r.items_week})
        elif r.enabled and r.in_config:
            silent = _silent(r, end, tz)
            if silent is not None:
                stale.append(silent)
    stale.sort(key=lambda s: (s["last_item"] or "", s["id"]))
    return {"sources": len(rows), "failed": failed[:cap], "failed_more": max(len(failed) - cap, 0),
            "stale": stale[:cap], "stale_more": max(len(stale) - cap, 0), "new": new[:cap],
            "new_more": max(len(new) - cap, 0), "week": week}


def _silent(r: SourceHealthRow, end: str, tz: str) -> StaleSource | None:
    """``r`` as a silent source when it never had an item or none for ``SILENT_DAYS`` before ``end``."""
    if not r.last_item:
        return {"id": r.id, "name": r.name, "last_item": None, "weeks": None}
    days = (parse_iso(end) - parse_iso(r.last_item)).days
    if days < SILENT_DAYS:
        return None
    return {"id": r.id, "name": r.name, "last_item": parse_iso(r.last_item).astimezone(ZoneInfo(tz)).date().isoformat(),
            "weeks": days // 7}
