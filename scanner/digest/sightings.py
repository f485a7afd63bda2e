"""The digest's sightings: the week's relevant items that joined no signal, most novel first.

A sighting is where the truly new shows up before it is a signal: ranked by novelty (how far the
item is from everything the scanner saw before it, ``scanner.analysis.novelty``), the first
``MAX_SIGHTINGS`` are shown with their closest earlier item, the rest counted. Items whose novelty
was never computed (analysed before it existed) come last.
"""

from __future__ import annotations

from dataclasses import asdict
from zoneinfo import ZoneInfo

from scanner.clock import parse_iso
from scanner.digest.cards import item_ref
from scanner.digest.model import Sighting, Sightings
from scanner.store import Store
from scanner.store import digest as q

MAX_SIGHTINGS = 8


def week_sightings(store: Store, start: str, end: str, tz: str, cap: int = MAX_SIGHTINGS) -> Sightings:
    """The sightings published in ``[start, end)``: the first ``cap`` by novelty, and how many more."""
    rows = q.fetch_sightings(store, start, end)
    zone = ZoneInfo(tz)

    def day(published: str | None) -> str | None:
        return parse_iso(published).astimezone(zone).date().isoformat() if published else None

    items = [Sighting(**asdict(item_ref(r, zone)), novelty=r.novelty, nearest_title=r.nearest_title,
                      nearest_date=day(r.nearest_published))
             for r in rows[:cap]]
    return Sightings(items=items, more=max(0, len(rows) - cap))
