"""One card per signal: its state for the week, figures, sparkline, representative items and reviews.

A signal's state in the digest of week ``w`` is the one ``scanner analyse`` stored for ``w`` in
``signal_weeks``; a signal without a scored row for ``w`` (no analysis has covered that week) gets
the state the one rule, ``scanner.analysis.score.signal_state``, gives it from its latest known
state and the week of its latest item.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from scanner.analysis.score import RECENT_WEEKS, STATE_LABELS, signal_state
from scanner.analysis.tags import tag_label
from scanner.clock import iso, parse_iso, week_end, week_start
from scanner.config import Config
from scanner.digest.model import CardRating, ItemRef, Review, SignalCard, rounded
from scanner.digest.prose import event_text, explain_scores, explain_state, novelty_text, plural
from scanner.models import SignalWeek
from scanner.normalize import http_url
from scanner.store import Store
from scanner.store import digest as q
from scanner.store.digest import EventRow, MemberRow, SignalRow
from scanner.store.novelty import item_novelty
from scanner.store.ratings import all_rating_summaries
from scanner.store.reviews import ReviewRow, reviews_by_signal, summarise_reviews

logger = logging.getLogger(__name__)

SURGE_FACTOR = 2.0  # a dismissed signal comes back with this many times its recent weekly mean ...
SURGE_MIN_ITEMS = 3  # ... and at least this many items this week
STRONG_ITEMS = 3  # a strong or established signal is well known: fewer items on its card
NO_WEEK_ROW = SignalWeek(signal_id=0, week="", items=0, stories=0, sources=0, source_kinds=0, dov=None, dod=None,
                            dov_growth=None, dod_growth=None, state=None, keywords={})


@dataclass(frozen=True)
class CardWeek:
    """The digest's week as every card sees it."""

    week: str
    history: list[str]  # the analysis window's weeks, ending with ``week``
    start: str  # the week's first instant (ISO)
    tz: str
    max_items: int
    fading_weeks: int


@dataclass
class SignalHistory:
    """What the store holds about all signals up to the week, read once for all cards."""

    weeks: dict[int, dict[str, SignalWeek]]  # the window's rows
    latest: dict[int, SignalWeek]  # the latest row at or before the week
    last_item_week: dict[int, str]
    totals: dict[int, int]
    events: dict[int, list[EventRow]]  # recorded in the week
    reviews: dict[int, list[ReviewRow]]


def build_cards(config: Config, store: Store, week: str, history: list[str], now: datetime) -> list[SignalCard]:
    """A card for every signal tracked in the window ending with ``week`` (scored in one of its weeks)
    or reviewed by an analyst, born by ``week`` and not merged away, in id order.

    Signals dormant since before the window (no item in its weeks, so no longer scored) are left
    out: after years of running they would be most of the list. Reviews up to ``now`` are applied.
    """
    tz = config.settings.timezone
    cw = CardWeek(week=week, history=history, start=iso(week_start(week, tz)), tz=tz,
                  max_items=config.digest.max_items, fading_weeks=config.analysis.fading_weeks)
    weeks = q.fetch_signal_weeks(store, history[0], week)
    reviews = reviews_by_signal(store, until=iso(now))
    tracked = weeks.keys() | reviews.keys()
    tallies = q.fetch_signal_tallies(store, week, tracked)
    data = SignalHistory(
        weeks=weeks, latest={s: t.latest for s, t in tallies.items()},
        last_item_week={s: t.last_item_week for s, t in tallies.items() if t.last_item_week},
        totals={s: t.items for s, t in tallies.items()}, events=q.fetch_signal_events(store, week), reviews=reviews,
    )
    cards = [make_card(s, data, cw) for s in q.fetch_signals(store, week, tracked)]
    ratings = all_rating_summaries(store, until=iso(now))
    for card in cards:
        if (r := ratings.get(card.id)) is not None and r.raters:
            card.rating = CardRating(raters=r.raters, novelty=r.novelty, horizon=r.horizon, impact=r.impact)
    return cards


def add_items(store: Store, cards: list[SignalCard], config: Config, week: str) -> None:
    """Give the cards the digest shows their items (the others need only their counts): a database of
    thousands of signals reads the members of a few dozen."""
    tz = config.settings.timezone
    start, end = iso(week_start(week, tz)), iso(week_end(week, tz))
    for card in cards:
        members = q.fetch_signal_members(store, card.id, end)
        week_members = [m for m in members if m.published >= start]
        card.source_names = sorted({m.source_name for m in week_members})
        card.kinds = sorted({m.kind or "?" for m in week_members})
        card.items = pick_items(members, start, config.digest.max_items, tz)
        card.novelty = signal_novelty(store, members)
        if card.novelty is not None:
            card.scores_text = " ".join(filter(None, [card.scores_text, novelty_text(card.novelty)]))
        card.items_more = max(len(members) - len(card.items), 0)
        if card.state in ("strong", "established"):
            shown = min(STRONG_ITEMS, config.digest.max_items)
            card.items_more += max(len(card.items) - shown, 0)
            card.items = card.items[:shown]


FIRST_ITEMS = 5


def signal_novelty(store: Store, members: list[MemberRow]) -> float | None:
    """A signal's semantic novelty: the median novelty of its first ``FIRST_ITEMS`` items (how far they
    were, when they came, from everything seen before; ``scanner.analysis.novelty``), or None when
    none of them has one."""
    first = sorted(members, key=lambda m: (m.published, m.id))[:FIRST_ITEMS]
    values = sorted(n.novelty for n in item_novelty(store, [m.id for m in first]).values())
    if not values:
        return None
    mid = len(values) // 2
    return round(values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2, 4)


def card_state(signal: SignalRow, this: SignalWeek, latest: SignalWeek | None, last_item_week: str | None,
               week: str, fading_weeks: int) -> str:
    """The signal's state in ``week``: as stored for the week, else by ``signal_state`` (see the module)."""
    if this.state:
        return this.state
    known = (latest.state if latest else None) or signal.state or "latent"
    return signal_state(known, signal.first_seen, last_item_week, week, fading_weeks)


def make_card(s: SignalRow, data: SignalHistory, cw: CardWeek) -> SignalCard:
    """The card of signal ``s`` from its rows; its items come later (``add_items``), for shown cards only."""
    weeks = data.weeks.get(s.id, {})
    this = weeks.get(cw.week, NO_WEEK_ROW)
    latest = data.latest.get(s.id)
    state = card_state(s, this, latest, data.last_item_week.get(s.id), cw.week, cw.fading_weeks)
    kw = this.keywords or s.keywords
    spark = [weeks[w].items if w in weeks else 0 for w in cw.history]
    dov_growth, dod_growth = rounded(this.dov_growth), rounded(this.dod_growth)
    card = SignalCard(
        id=s.id, anchor=f"signal-{s.id}", title=(s.custom_title or s.title or f"Signal {s.id}").strip(),
        state=state, state_label=STATE_LABELS.get(state, state), why="", scores_text="",
        keywords_th=[str(k) for k in kw.get("th", [])][:8], keywords_en=[str(k) for k in kw.get("en", [])][:8],
        items_week=this.items, stories_week=this.stories, items_total=data.totals.get(s.id, 0),
        items_recent=sum(spark[-RECENT_WEEKS:]), sources_week=this.sources, source_kinds_week=this.source_kinds,
        source_names=[], kinds=[],
        dov=rounded(this.dov), dod=rounded(this.dod), dov_growth=dov_growth, dod_growth=dod_growth,
        first_seen=s.first_seen, last_seen=last_seen(s, latest, data.last_item_week.get(s.id)),
        sparkline=spark, tags={k: [tag_label(str(t)) for t in v] for k, v in s.tags.items() if isinstance(v, list)},
        topics=s.topics, items=[], items_more=0,
        events=[event_text(e) for e in data.events.get(s.id, [])],
        attention=attention(this.items, this.sources, dov_growth, dod_growth), summary=s.summary,
    )
    card.why = explain_state(card, cw.fading_weeks)
    card.scores_text = explain_scores(card)
    apply_reviews(card, data.reviews.get(s.id, []))
    return card


def last_seen(s: SignalRow, latest: SignalWeek | None, last_item_week: str | None) -> str:
    """The week of the signal's latest item up to the digest's week (a weekly row can be a week without items)."""
    if last_item_week:
        return last_item_week
    return min(s.last_seen, latest.week) if latest else s.last_seen


def attention(items_week: int, sources: int, dov_growth: float | None, dod_growth: float | None) -> float:
    """How much a signal deserves a look this week: volume, spread and growth together."""
    growth = max(dov_growth or 0.0, 0.0) + max(dod_growth or 0.0, 0.0)
    return round(math.log1p(items_week) * (1 + growth) * math.sqrt(max(sources, 1)), 6)


def pick_items(members: list[MemberRow], start: str, n: int, tz: str) -> list[ItemRef]:
    """``n`` representative items: this week's first, most central first, one per source per round."""
    this_week = [m for m in members if m.published >= start]
    older = [m for m in members if m.published < start]
    picked: list[MemberRow] = []
    for pool in (this_week, older):
        remaining = list(pool)
        while remaining and len(picked) < n:
            used: set[str] = set()
            rest = []
            for m in remaining:
                if len(picked) < n and m.source_id not in used:
                    picked.append(m)
                    used.add(m.source_id)
                else:
                    rest.append(m)
            remaining = rest
    zone = ZoneInfo(tz)
    return [item_ref(m, zone) for m in picked]


def item_ref(m: MemberRow, zone: ZoneInfo) -> ItemRef:
    """An item as the digest shows it: its title (or "(untitled)"), a link only if it is http(s), its
    source, and the day it was published in the lab's time zone."""
    return ItemRef(id=m.id, title=m.title or "(untitled)", url=http_url(m.url), source=m.source_id,
                   source_name=m.source_name, kind=m.kind or "",
                   date=parse_iso(m.published).astimezone(zone).date().isoformat(), lang=m.lang or "")


def apply_reviews(card: SignalCard, reviews: list[ReviewRow]) -> None:
    """The analysts' verdicts and notes on ``card``; a dismissed signal that surged this week comes back."""
    summary = summarise_reviews(reviews)
    card.reviews = [Review(verdict=r.verdict, by=r.by, at=r.created_at[:10], note=r.note) for r in reviews]
    card.verdict, card.verdict_text, card.disputed = summary.effective, summary.text, summary.disputed
    card.watched = summary.effective == "watch"
    if summary.effective != "dismiss":
        return
    before = card.sparkline[-5:-1]  # the four weeks before this one
    baseline = sum(before) / len(before) if before else 0.0
    surged = card.items_week >= SURGE_MIN_ITEMS and card.items_week >= SURGE_FACTOR * baseline
    if surged or (card.state == "strong" and card.items_week > 0):
        card.surged_after_dismissal = (
            f"Dismissed ({summary.text}) but back because it surged: {plural(card.items_week, 'item')} this week "
            f"against {baseline:.1f} a week before.")
