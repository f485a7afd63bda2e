"""The digest's lead: the trends of the week, their movement, and their signals under them.

A trend's weekly counts and state are those its rows held for the digest's week (``trend_weeks``,
written by ``scanner.analysis.analyse``), bounded by the week like everything else in the digest;
its signals are the digest's own cards, so a trend's figures add up to what the cards say.
"""

from __future__ import annotations

from scanner.analysis.score import RECENT_WEEKS, STATE_LABELS, state_rank
from scanner.digest.model import SignalCard, TrendCard, TrendSignal
from scanner.digest.prose import explain_trend
from scanner.store import Store
from scanner.store import trends as tq

MAX_TRENDS = 8


def build_trend_cards(store: Store, week: str, history: list[str], cards: list[SignalCard], shown: set[int],
                      fading_weeks: int, cap: int = MAX_TRENDS) -> tuple[list[TrendCard], int]:
    """The trends with items in the digest's ``history`` weeks, the most active first (at most
    ``cap``; also returns how many more there were). ``shown``: the signals whose cards are on the page."""
    card_of = {c.id: c for c in cards}
    records = tq.trend_records(store)
    rows = tq.trend_weeks(store, week, [r["id"] for r in records])
    out: list[TrendCard] = []
    for r in records:
        weeks = rows.get(r["id"], {})
        spark = [weeks[w].items if w in weeks else 0 for w in history]
        members = sorted((card_of[s] for s in r["signals"] if s in card_of),
                         key=lambda c: (state_rank(c.state), -c.items_week, c.id))
        if not any(spark) or not members:
            continue
        stated = [st for w in history if w in weeks and (st := weeks[w].state)]
        state = stated[-1] if stated else r["state"]
        kw = r["keywords"]
        card = TrendCard(
            id=r["id"], anchor=f"trend-{r['id']}", name=r["name"], example=r["example"], state=state,
            state_label=STATE_LABELS.get(state, state), why="", keywords_th=kw.get("th", [])[:5],
            keywords_en=kw.get("en", [])[:5], items_week=spark[-1], items_previous=spark[-2] if len(spark) > 1 else 0,
            items_recent=sum(spark[-RECENT_WEEKS:]), items_total=sum(c.items_total for c in members),
            sparkline=spark,
            signals=[TrendSignal(id=c.id, anchor=c.anchor, title=c.title, state=c.state, state_label=c.state_label,
                                 items_week=c.items_week, linked=c.id in shown) for c in members])
        card.why = explain_trend(card, fading_weeks)
        out.append(card)
    out.sort(key=lambda t: (-t.items_recent, -t.items_week, t.id))
    return out[:cap], max(0, len(out) - cap)
