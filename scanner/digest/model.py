"""What one week's digest holds: the records the builders fill and the templates and JSON show.

``render_json`` writes ``dataclasses.asdict(digest)``, so the field names and their order here are
the digest's public JSON format. The summaries derived from the cards (top, stats, charts, themes,
watchlist, hidden, source health) are ``TypedDict``s whose keys are the JSON's keys, like
``scanner.store.exports``: the index and feed read the same shapes back from the JSON files, and a
noted signal differs from a watched one by having a ``notes_only`` key. Cards and sections are
dataclasses because they are built up in steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Generic, TypedDict, TypeVar


def rounded(value: float | None, digits: int = 4) -> float | None:
    """A score as the digest shows it: ``digits`` decimals, ``None`` when missing or not finite."""
    if value is None:
        return None
    f = float(value)
    return None if math.isnan(f) or math.isinf(f) else round(f, digits)


# ------------------------------------------------------------------------------------------ cards
@dataclass
class ItemRef:
    id: int
    title: str
    url: str | None  # an http(s) URL or None (``scanner.normalize.http_url``)
    source: str
    source_name: str
    kind: str
    date: str  # the day it was published, in the lab's time zone
    lang: str


@dataclass
class Review:
    verdict: str
    by: str
    at: str  # the day it was recorded
    note: str | None


@dataclass
class SignalHead:
    """What names a signal in a list: the top three of the week, the index, the feed."""

    id: int
    anchor: str
    title: str
    state: str
    state_label: str
    why: str


@dataclass
class SignalCard(SignalHead):
    scores_text: str
    keywords_th: list[str]
    keywords_en: list[str]
    items_week: int
    stories_week: int
    items_total: int
    items_recent: int
    sources_week: int
    source_kinds_week: int
    source_names: list[str]
    kinds: list[str]
    dov: float | None
    dod: float | None
    dov_growth: float | None
    dod_growth: float | None
    first_seen: str
    last_seen: str
    sparkline: list[int]
    tags: dict[str, list[str]]
    topics: list[str]
    items: list[ItemRef]
    items_more: int
    events: list[str]
    attention: float
    verdict: str | None = None
    verdict_text: str = ""
    disputed: bool = False
    watched: bool = False
    surged_after_dismissal: str | None = None
    reviews: list[Review] = field(default_factory=list)


@dataclass
class Section:
    key: str
    title: str
    title_th: str
    intro: str
    signals: list[SignalCard] = field(default_factory=list)
    more: int = 0


# ----------------------------------------------------------------------------- headline and stats
class Stats(TypedDict):
    items: int
    relevant: int | None  # None until relevance has been computed
    analysed: bool
    sources: int
    source_kinds: list[str]
    signals_tracked: int
    new: int
    weak: int
    strong: int
    fading: int
    established: int
    latent: int


# ------------------------------------------------------------------------------------------ charts
class EmergencePoint(TypedDict):
    label: str
    lang: str
    tf: int
    dov_growth: float
    quadrant: str


class IssuePoint(TypedDict):
    label: str
    lang: str
    df: int
    dod_growth: float
    quadrant: str


P = TypeVar("P", EmergencePoint, IssuePoint)


class KeywordMap(TypedDict, Generic[P]):
    x: str  # the key of each point's x value
    y: str
    x_split: float | None  # the medians that split the map into quadrants
    y_split: float | None
    points: list[P]


class VolumeSeries(TypedDict):
    id: str
    name: str
    counts: list[int]  # aligned with ``VolumeChart.weeks``


class VolumeChart(TypedDict):
    weeks: list[str]
    relevant_only: bool
    series: list[VolumeSeries]


class Charts(TypedDict):
    emergence: KeywordMap[EmergencePoint]
    issue: KeywordMap[IssuePoint]
    volume: VolumeChart


# ------------------------------------------------------------------------- themes, watchlist, hidden
class ThemeSignal(TypedDict):
    id: int
    anchor: str
    title: str
    state: str
    linked: bool  # its card is in the digest, so the theme table links to it


class ThemeTag(TypedDict):
    tag: str
    signals: list[ThemeSignal]
    more: int


class ThemeGroup(TypedDict):
    key: str
    label: str
    tags: list[ThemeTag]


class WatchedSignal(TypedDict):
    id: int
    anchor: str
    title: str
    state: str
    state_label: str
    items_week: int
    verdict_text: str
    shown_above: bool
    card: SignalCard | None  # the full card when no section above shows it


class NotedSignal(TypedDict):
    notes_only: bool
    id: int
    anchor: str
    title: str
    reviews: list[Review]  # the reviews that carry a note


class HiddenTitle(TypedDict):
    id: int
    title: str
    verdict_text: str


class Hidden(TypedDict):
    dismissed: int
    titles: list[HiddenTitle]
    more: int


# ----------------------------------------------------------------------------------- source health
class FailedSource(TypedDict):
    id: str
    name: str
    failures: int
    attempts: int
    error: str  # the first line of the last error


class StaleSource(TypedDict):
    id: str
    name: str
    last_item: str | None  # day of its last item; None: never had one
    weeks: int | None


class NewSource(TypedDict):
    id: str
    name: str
    kind: str
    items_week: int


class SourceHealth(TypedDict):
    sources: int
    failed: list[FailedSource]
    failed_more: int
    stale: list[StaleSource]
    stale_more: int
    new: list[NewSource]
    new_more: int
    week: str


# ------------------------------------------------------------------------------------------ digest
@dataclass
class Digest:
    week: str
    start: str
    end: str
    period: str
    timezone: str
    first_digest: bool
    headline: list[str]
    top: list[SignalHead]
    stats: Stats
    sections: list[Section]
    charts: Charts
    themes: list[ThemeGroup]
    watchlist: list[WatchedSignal | NotedSignal]
    hidden: Hidden
    source_health: SourceHealth
    history_weeks: list[str]


class IndexEntry(TypedDict):
    """One digest as ``index.html`` and ``feed.xml`` list it, read back from its JSON file."""

    week: str
    period: str
    end: str
    start: str
    href: str
    md: str
    json: str
    headline: str  # the first sentence
    sentences: list[str]
    top: list[SignalHead]
    item_count: int
    new: int
    weak: int
    strong: int
