"""Gather one ISO week's digest into a ``Digest`` (serialised as the digest's JSON).

Only rows bounded by the week's end are read, and nothing here looks at the wall clock, so the same
database gives byte-identical JSON. Signals are read as they stand now (their current titles, tags
and members), so a later analysis, merge or rename changes what this builds for an old week: a
written week is therefore rendered from its record, not built again (``scanner.digest.write_digest``;
only ``--rebuild`` calls this for it). Reviews are the analysts' input: those recorded up to ``now``
(the time the digest is written, or ``--as-of``) are applied.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from scanner.clock import iso, week_end, week_start, weeks_ending
from scanner.config import Config
from scanner.digest.cards import add_items, build_cards
from scanner.digest.chart_data import build_charts
from scanner.digest.health import source_health
from scanner.digest.layout import hidden_signals, lay_out, themes, top_signals, watchlist
from scanner.digest.model import Digest, SignalCard, Stats
from scanner.digest.prose import format_period, headline
from scanner.digest.sightings import week_sightings
from scanner.digest.trends import build_trend_cards
from scanner.store import Store
from scanner.store import digest as q
from scanner.store.digest import WeekItem

logger = logging.getLogger(__name__)


def build_digest(config: Config, store: Store, week: str, now: datetime) -> Digest:
    """Everything the digest of ``week`` shows, read from the database."""
    tz = config.settings.timezone
    cap = config.digest.max_signals
    start, end = iso(week_start(week, tz)), iso(week_end(week, tz))
    history = weeks_ending(week, config.analysis.window_weeks)
    cards = build_cards(config, store, week, history, now)
    layout = lay_out(cards, cap)
    add_items(store, [c for c in layout.shown if c.id in layout.placed or c.watched], config, week)
    stats = week_stats(q.fetch_items_between(store, start, end), q.any_analysed(store, end), cards, layout.shown)
    first_digest = not q.any_items_before(store, start)
    period = format_period(week, tz)
    trends, trends_more = build_trend_cards(store, week, history, layout.shown, layout.placed,
                                            config.analysis.fading_weeks)
    return Digest(
        week=week, start=start, end=end, period=period, timezone=tz, first_digest=first_digest,
        headline=headline(week, period, stats, layout.top[0] if layout.top else None, first_digest),
        top=top_signals(layout.top), stats=stats, sections=layout.sections,
        charts=build_charts(config, store, week, history), themes=themes(layout.shown, layout.placed, cap),
        watchlist=watchlist(layout.shown, layout.placed), hidden=hidden_signals(layout.hidden, cap),
        source_health=source_health(store, week, start, end, tz, cap), history_weeks=history,
        sightings=week_sightings(store, start, end, tz), trends=trends, trends_more=trends_more,
    )


def week_stats(items: list[WeekItem], analysed: bool, cards: list[SignalCard], shown: list[SignalCard]) -> Stats:
    """The week's counts: items and sources, and the shown signals per state (``signals_tracked``: all)."""
    states = Counter(c.state for c in shown)
    return {"items": len(items), "relevant": sum(1 for i in items if i.relevant) if analysed else None,
            "analysed": analysed, "sources": len({i.source_id for i in items}),
            "source_kinds": sorted({i.kind or "?" for i in items}), "signals_tracked": len(cards),
            "new": states["new"], "weak": states["weak"], "strong": states["strong"], "fading": states["fading"],
            "established": states["established"], "latent": states["latent"]}
