"""Where each card goes: the signals to look at first, the sections by state, the themes, the
watchlist and the dismissed signals left out."""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields

from scanner.digest.model import (
    Hidden,
    HiddenTitle,
    NotedSignal,
    Section,
    SignalCard,
    SignalHead,
    ThemeGroup,
    ThemeSignal,
    WatchedSignal,
)

logger = logging.getLogger(__name__)

TOP_SIGNALS = 3
TOP_STATES = ("weak", "new", "strong")
# key, title, Thai title, intro, the states it shows (each of scanner.analysis.score.STATES in one section)
SECTIONS = (
    ("emerging", "Weak and emerging signals", "สัญญาณอ่อนที่กำลังก่อตัว",
     "Rare but growing: the early signs horizon scanning is for.", ("weak",)),
    ("new", "New this week", "สัญญาณใหม่สัปดาห์นี้", "Signals first seen this week.", ("new",)),
    ("strong", "Strong and ongoing", "สัญญาณแรงและต่อเนื่อง",
     "Frequent topics: growing (strong) or steady (established).", ("strong", "established")),
    ("fading", "Fading", "สัญญาณที่กำลังจางลง", "Signals with no new items for a while.", ("fading",)),
    ("latent", "Quiet (latent)", "สัญญาณแฝง", "Rare and not growing; tracked in case they wake up.", ("latent",)),
)
TAG_GROUPS = (("steepv", "STEEP+V"), ("themes", "Thematic areas"), ("sdgs", "SDGs"))


@dataclass
class Layout:
    shown: list[SignalCard]  # every card but the dismissed ones that did not surge
    hidden: list[SignalCard]
    top: list[SignalCard]
    sections: list[Section]
    placed: set[int]  # ids of the cards the sections show


def lay_out(cards: list[SignalCard], cap: int) -> Layout:
    """Sections of at most ``cap`` cards each, plus the top signals and watched ones wherever they fall."""
    shown = [c for c in cards if c.verdict != "dismiss" or c.surged_after_dismissal]
    shown_ids = {c.id for c in shown}
    ranked = sorted((c for c in shown if c.state in TOP_STATES and c.items_week > 0),
                    key=lambda c: (-c.attention, c.id))
    top = ranked[:TOP_SIGNALS]
    pinned = {c.id for c in top} | {c.id for c in shown if c.watched}
    sections = make_sections(shown, pinned, cap)
    return Layout(shown=shown, hidden=[c for c in cards if c.id not in shown_ids], top=top, sections=sections,
                  placed={c.id for sec in sections for c in sec.signals})


def make_sections(cards: list[SignalCard], pinned: set[int], cap: int) -> list[Section]:
    """The five sections; each keeps its first ``cap`` cards and every ``pinned`` one."""
    out = []
    for key, title, title_th, intro, states in SECTIONS:
        members = sorted((c for c in cards if c.state in states), key=lambda c: (-c.attention, -c.items_total, c.id))
        if key == "latent":
            members.sort(key=lambda c: (-c.items_total, c.id))
        elif key == "fading":
            members.sort(key=lambda c: (-int(c.last_seen.replace("-W", "")), c.id))  # the latest to fade first
        keep = [c for i, c in enumerate(members) if i < cap or c.id in pinned]
        out.append(Section(key=key, title=title, title_th=title_th, intro=intro, signals=keep,
                           more=len(members) - len(keep)))
    return out


def top_signals(top: list[SignalCard]) -> list[SignalHead]:
    return [SignalHead(**{f.name: getattr(c, f.name) for f in fields(SignalHead)}) for c in top]


def themes(cards: list[SignalCard], placed: set[int], cap: int) -> list[ThemeGroup]:
    """Signals grouped by STEEP+V, thematic area and SDG; the busiest first, ``cap`` per tag."""
    out: list[ThemeGroup] = []
    for key, label in TAG_GROUPS:
        groups: dict[str, list[ThemeSignal]] = {}
        for c in sorted(cards, key=lambda c: (-c.items_week, c.id)):
            for tag in c.tags.get(key, []):
                groups.setdefault(tag, []).append({"id": c.id, "anchor": c.anchor, "title": c.title,
                                                   "state": c.state, "linked": c.id in placed})
        order = sorted(groups, key=lambda t: (-len(groups[t]), t))
        out.append({"key": key, "label": label,
                    "tags": [{"tag": t, "signals": groups[t][:cap], "more": max(len(groups[t]) - cap, 0)}
                             for t in order]})
    return out


def watchlist(cards: list[SignalCard], placed: set[int]) -> list[WatchedSignal | NotedSignal]:
    """Watched signals (with their card when no section shows it), then the other signals with notes."""
    by_id = sorted(cards, key=lambda c: c.id)
    watched: list[WatchedSignal | NotedSignal] = [
        {"id": c.id, "anchor": c.anchor, "title": c.title, "state": c.state, "state_label": c.state_label,
         "items_week": c.items_week, "verdict_text": c.verdict_text, "shown_above": c.id in placed,
         "card": c if c.id not in placed else None}
        for c in by_id if c.watched]
    noted: list[NotedSignal] = [
        {"notes_only": True, "id": c.id, "anchor": c.anchor, "title": c.title,
         "reviews": [r for r in c.reviews if r.note]}
        for c in by_id if any(r.note for r in c.reviews) and not c.watched]
    return watched + noted


def hidden_signals(hidden: list[SignalCard], cap: int) -> Hidden:
    """How many dismissed signals are left out, and the first ``cap`` of them."""
    titles: list[HiddenTitle] = [{"id": c.id, "title": c.title, "verdict_text": c.verdict_text} for c in hidden[:cap]]
    return {"dismissed": len(hidden), "titles": titles, "more": max(len(hidden) - cap, 0)}
