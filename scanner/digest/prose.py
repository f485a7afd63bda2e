"""The digest's sentences: the headline, why a signal has its state, growth, dates and events in words.

Every sentence is built from figures the digest also shows, so an analyst can check one against the
other.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from scanner.analysis.score import MIN_SUPPORT, RECENT_WEEKS
from scanner.clock import week_start
from scanner.digest.model import SignalCard, Stats, TrendCard
from scanner.store.digest import EventRow

logger = logging.getLogger(__name__)

EVENT_TEXTS = {"born": "born this week", "grew": "grew this week", "faded": "faded this week",
               "revived": "came back after fading", "split": "split this week"}


def format_period(week: str, tz: str) -> str:
    """``17–23 Mar 2025`` for an ISO week, in the lab's time zone."""
    a = week_start(week, tz).astimezone(ZoneInfo(tz)).date()
    b = a + timedelta(days=6)
    if a.year != b.year:
        return f"{a.day} {a:%b %Y} – {b.day} {b:%b %Y}"
    if a.month != b.month:
        return f"{a.day} {a:%b} – {b.day} {b:%b %Y}"
    return f"{a.day}–{b.day} {b:%b %Y}"


def pct(growth: float | None) -> str:
    """``0.45`` → ``+45%``."""
    if growth is None:
        return "n/a"
    return f"{growth * 100:+.0f}%"


def describe_growth(growth: float | None) -> str:
    """A weekly growth rate in words: rising fast (over +50%), rising, steady (±10%) or declining."""
    if growth is None:
        return "not measurable yet"
    if growth > 0.5:
        return f"rising fast ({pct(growth)} a week)"
    if growth > 0.1:
        return f"rising ({pct(growth)} a week)"
    if growth >= -0.1:
        return f"steady ({pct(growth)} a week)"
    return f"declining ({pct(growth)} a week)"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 item``, ``2 items`` (``many`` for an irregular plural)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def explain_state(c: SignalCard, fading_weeks: int) -> str:
    """Why a signal has its state, in one sentence a reader can check against the sparkline.

    The figures are the ones the state rule (``scanner.analysis.score.rising``) weighs: the items of
    the last ``RECENT_WEEKS`` weeks against those of the weeks before them, and whether that is
    evidence of a rise; nothing here contradicts the state it explains."""
    spread = f"{plural(c.sources_week, 'source')} ({plural(c.source_kinds_week, 'kind')} of source)"
    return state_sentence(c.state, c.items_recent, c.sparkline, c.items_total, c.items_week, spread, c.last_seen,
                          fading_weeks)


def explain_trend(t: TrendCard, fading_weeks: int) -> str:
    """A trend's state in one sentence, by the same rule and words as a signal's (its items are its signals')."""
    live = sum(1 for s in t.signals if s.items_week)
    spread = f"{live} of its {plural(len(t.signals), 'signal')}"
    return state_sentence(t.state, t.items_recent, t.sparkline, t.items_total, t.items_week, spread, "", fading_weeks)


def state_sentence(state: str, recent: int, sparkline: list[int], total: int, items_week: int, spread: str,
                   last_seen: str, fading_weeks: int) -> str:
    """The one wording of a state's reasons (signals and trends)."""
    r = RECENT_WEEKS
    before, n_before = sum(sparkline[:-r]), max(0, len(sparkline) - r)
    counts = (f"{plural(recent, 'item')} in the last {r} weeks against {before} in the {n_before} weeks "
              f"before, {total} in all")
    if state == "weak":
        return (f"Rare but rising with evidence: {counts} — at least {MIN_SUPPORT} recent items and more than "
                f"its earlier rate explains; seen in {spread} this week.")
    if state == "strong":
        return (f"Frequent and rising with evidence: {counts} — more than its earlier rate explains; "
                f"seen in {spread} this week.")
    if state == "established":
        return f"Frequent but not rising: {counts}; its recent weeks are within its usual rate."
    if state == "latent":
        return f"Rare and not rising: {counts}; too few recent items to show a rise."
    if state == "new":
        return (f"First seen this week: {plural(items_week, 'item')} from {spread}; "
                "too young for a growth rate.")
    if state == "fading":
        seen = f" (last seen {last_seen})" if last_seen else ""
        return f"No new items for {fading_weeks} weeks or more{seen}; {plural(total, 'item')} in all."
    return f"{plural(items_week, 'item')} this week."  # a state this version does not know


def explain_scores(c: SignalCard) -> str:
    """The DoV/DoD figures behind the state, in words (none for a new or fading signal)."""
    if c.dov is None or c.dod is None or c.state in ("new", "fading"):
        return ""
    return (f"Degree of visibility {c.dov:.3f} (how prominent it is among this week's items, recent weeks weighted "
            f"more); degree of diffusion {c.dod:.3f} (how widely it is spread across documents and sources).")


def novelty_text(novelty: float) -> str:
    """A signal's semantic novelty in words, with the figure."""
    return (f"Novelty of its first items {novelty:.2f} (1 − similarity to the closest item seen before them: "
            "0 repeats the past, 1 is unlike anything).")


def event_text(ev: EventRow) -> str:
    """One recorded event of a signal, as the card lists it."""
    d = ev.detail
    if ev.event == "merged" and d.get("merged") is not None:
        return f"signal #{d['merged']} was merged into #{d.get('kept')}"
    if ev.event == "renamed":
        return f"renamed from “{d.get('from', '')}”"
    if ev.event == "split" and d.get("into"):
        return "split into " + ", ".join(f"#{x}" for x in d["into"]) if isinstance(d["into"], list) else "split"
    return EVENT_TEXTS.get(ev.event, ev.event)


def headline(week: str, period: str, stats: Stats, top: SignalCard | None, first_digest: bool) -> list[str]:
    """Three sentences: what came in, what is tracked, and the signal to look at first."""
    if not stats["items"]:
        one = f"No items were published in {week} ({period}) by the sources the scanner reads."
    else:
        relevant = stats["relevant"]
        rel = f", {plural(relevant, 'item')} relevant to the lab's topics" if relevant is not None else ""
        one = (f"In {week} ({period}) the scanner collected {plural(stats['items'], 'item')} from "
               f"{plural(stats['sources'], 'source')} ({', '.join(stats['source_kinds'])}){rel}.")
    if not stats["signals_tracked"]:
        two = ("No signals are tracked yet: signals appear once `scanner analyse` has grouped enough related items."
               if not stats["analysed"] else "No signals were found yet: too few related items to group.")
    else:
        weak = stats["weak"]
        bits = [plural(stats["new"], "new signal"), f"{weak} rising as weak {'signal' if weak == 1 else 'signals'}",
                f"{stats['strong']} strong"]
        two = f"{stats['signals_tracked']} signals are tracked: " + ", ".join(bits) + f" and {stats['fading']} fading."
    if top is not None and top.state == "new":
        three = (f"Look first at “{top.title}”, new this week with {plural(top.items_week, 'item')} "
                 f"from {plural(top.sources_week, 'source')}.")
    elif top is not None:
        three = (f"Look first at “{top.title}”, a {top.state_label.lower()}: {plural(top.items_week, 'item')} "
                 f"this week from {plural(top.sources_week, 'source')}, visibility {describe_growth(top.dov_growth)}.")
    elif first_digest:
        three = "This is one of the first digests: growth rates need a few weeks of history, so states will settle."
    else:
        three = "Nothing new or rising stood out this week."
    return [one, two, three]
