"""What one week's digest holds: the records the builders fill and the templates and JSON show.

``render_json`` writes ``dataclasses.asdict(digest)``, so the field names and their order here are
the digest's public JSON format. The summaries derived from the cards (top, stats, charts, themes,
watchlist, hidden, source health) are ``TypedDict``s whose keys are the JSON's keys, like
``scanner.store.exports``: the index and feed read the same shapes back from the JSON files, and a
noted signal differs from a watched one by having a ``notes_only`` key. Cards and sections are
dataclasses because they are built up in steps.

``digest_from_dict`` reads that JSON back into a ``Digest`` (a written week's record, see
``scanner.digest.write_digest``), guided only by the type hints here, so a field added later needs
nothing more than a default for the digests recorded before it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypedDict, TypeVar, Union, get_args, get_origin, get_type_hints, is_typeddict


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
class CardRating:
    """The analysts' FTSS-scale ratings of a signal: medians over ``raters`` (``scanner.store.ratings``)."""

    raters: int
    novelty: float | None  # 1–5
    horizon: str | None  # H1 (0–3 years), H2 (3–7), H3 (7–10)
    impact: float | None  # 1–3


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
    novelty: float | None = None  # median novelty of its first items (``scanner.digest.cards.signal_novelty``)
    rating: CardRating | None = None  # the analysts' ratings, when someone rated it
    summary: str = ""  # one paragraph from the language model (``analysis.namer: llm``), as the week was written


@dataclass
class TrendSignal:
    """One of a trend's signals, under the trend."""

    id: int
    anchor: str
    title: str
    state: str
    state_label: str
    items_week: int
    linked: bool  # its card is on the page


@dataclass
class TrendCard:
    """A trend (a group of signals on one matter) and its movement, as the digest leads with it."""

    id: int
    anchor: str
    name: str
    example: str
    state: str
    state_label: str
    why: str  # the state's reasons, in one sentence (``scanner.digest.prose.explain_trend``)
    keywords_th: list[str]
    keywords_en: list[str]
    items_week: int
    items_previous: int  # the week before
    items_recent: int  # the last RECENT_WEEKS weeks
    items_total: int
    sparkline: list[int]
    signals: list[TrendSignal] = field(default_factory=list)


@dataclass
class Section:
    key: str
    title: str
    title_th: str
    intro: str
    signals: list[SignalCard] = field(default_factory=list)
    more: int = 0


@dataclass
class Sighting(ItemRef):
    """A relevant item of the week that joined no signal, with how new it was when it arrived."""

    novelty: float | None  # ``scanner.analysis.novelty``; None: not computed
    nearest_title: str | None  # that earlier item
    nearest_date: str | None


@dataclass
class Sightings:
    """The week's sightings, most novel first, up to the digest's cap."""

    items: list[Sighting] = field(default_factory=list)
    more: int = 0  # sightings beyond the cap


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
    sightings: Sightings = field(default_factory=Sightings)  # a default: digests recorded before it read back
    trends: list[TrendCard] = field(default_factory=list)  # likewise
    trends_more: int = 0


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


# ------------------------------------------------------------------------------ reading one back
def digest_from_json(text: str) -> Digest:
    """The ``Digest`` whose JSON (``render_json``'s output) is ``text``."""
    return digest_from_dict(json.loads(text))


def digest_from_dict(data: Mapping[str, Any]) -> Digest:
    """The inverse of ``dataclasses.asdict``: dataclasses rebuilt, ``TypedDict``s kept as dicts.

    Driven by the type hints above, so it follows the model as fields are added. A key missing from
    ``data`` (a digest recorded before its field existed) gets the field's default, else an empty
    value of its type (``[]``, ``{}``, ``""``, ``0``, ``False``, ``None``); a key the model no longer
    has is dropped from a dataclass and kept in a ``TypedDict``. Values are never coerced and a
    ``TypedDict`` keeps the key order it was written with, so for any digest
    ``render_json(digest_from_json(render_json(d))) == render_json(d)``.
    """
    digest: Digest = _dataclass(Digest, data)
    return digest


@functools.cache
def _hints(cls: Any) -> dict[str, Any]:
    return get_type_hints(cls)


def _dataclass(cls: Any, data: Mapping[str, Any]) -> Any:
    hints = _hints(cls)
    kwargs = {f.name: _value(hints[f.name], data[f.name]) if f.name in data else _empty(hints[f.name])
              for f in dataclasses.fields(cls)
              if f.name in data or (f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)}
    return cls(**kwargs)


def _typeddict(hint: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    td = get_origin(hint) or hint
    hints = _hints(td)
    params = dict(zip(getattr(td, "__parameters__", ()), get_args(hint), strict=False))  # KeywordMap[P]
    out = {k: _value(_bind(hints[k], params), v) if k in hints else v for k, v in data.items()}
    for k in td.__required_keys__:
        if k not in out:
            out[k] = _empty(_bind(hints[k], params))
    return out


def _bind(hint: Any, params: dict[Any, Any]) -> Any:
    """``hint`` with the type variables of a generic ``TypedDict`` replaced by their arguments."""
    if isinstance(hint, TypeVar):
        return params.get(hint, Any)
    free = getattr(hint, "__parameters__", ())
    return hint[tuple(params.get(p, Any) for p in free)] if free and params else hint


def _is_record(hint: Any) -> bool:
    """A dataclass or a (possibly generic) ``TypedDict``: what a JSON object stands for."""
    base = get_origin(hint) or hint
    return isinstance(base, type) and (dataclasses.is_dataclass(base) or is_typeddict(base))


def _pick(options: tuple[Any, ...], value: Any) -> Any:
    """The member of a union that ``value`` is: for an object, the record type sharing most keys with it."""
    options = tuple(o for o in options if o is not type(None))
    records = [o for o in options if _is_record(o)]
    if isinstance(value, dict) and records:
        return max(records, key=lambda o: len(value.keys() & _hints(get_origin(o) or o).keys()))
    return next((o for o in options if not _is_record(o)), options[0])


def _value(hint: Any, value: Any) -> Any:
    """``value`` (parsed JSON) as ``hint`` describes it."""
    if value is None:
        return None
    origin = get_origin(hint)
    if origin is Union or origin is types.UnionType:
        return _value(_pick(get_args(hint), value), value)
    if isinstance(value, dict) and _is_record(hint):
        base = origin or hint
        return _dataclass(base, value) if dataclasses.is_dataclass(base) else _typeddict(hint, value)
    if origin is list and isinstance(value, list):
        (item,) = get_args(hint)
        return [_value(item, v) for v in value]
    if origin is dict and isinstance(value, dict):
        _, item = get_args(hint)
        return {k: _value(item, v) for k, v in value.items()}
    return value


def _empty(hint: Any) -> Any:
    """The value of a field missing from an older digest's JSON and without a default."""
    origin = get_origin(hint)
    if origin is Union or origin is types.UnionType:
        return None if type(None) in get_args(hint) else _empty(get_args(hint)[0])
    if _is_record(hint):
        return _value(hint, {})
    empties: dict[Any, Any] = {list: [], dict: {}, str: "", bool: False, int: 0, float: 0.0}
    return empties.get(origin or hint)
