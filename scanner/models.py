"""Plain dataclasses passed between stages. No behaviour beyond small conveniences."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from scanner.normalize import markup_chars

FetchStatus = Literal["ok", "not_modified", "failed", "skipped"]


@dataclass
class RawItem:
    """One entry as a source kind found it, before identity and storage.

    ``published`` is timezone-aware (UTC) or ``None`` when the source gave no usable date.
    """

    url: str | None
    title: str
    guid: str | None = None
    summary: str = ""
    content: str = ""
    author: str | None = None
    lang: str | None = None
    published: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class FieldCaps:
    """How much of one item is kept (``settings.max_title_chars`` …), cut before any parsing or
    tokenising so a hostile value costs at most its cap."""

    title: int = 1_000
    summary: int = 20_000
    body: int = 200_000
    tags: int = 50

    def raw(self, cap: int) -> int:
        """How much markup to read for ``cap`` characters of text (``normalize.markup_chars``)."""
        return markup_chars(cap)


@dataclass
class PreparedItem:
    """An item ready to store (``scanner.prepare``): its key, cleaned text, language and tokens.

    ``published`` is a UTC ISO string, or ``None`` when the source gave no date (the store then
    uses the fetch time and sets ``date_missing``). ``tokens`` (title tokens, a newline, body
    tokens) and the two full-text fields are ``None`` when the stored item already has this text.
    """

    source_id: str
    item_key: str
    url: str | None
    canonical_url: str | None
    guid: str | None
    title: str
    summary: str
    content: str
    author: str | None
    lang: str
    published: str | None
    content_hash: str
    extra: str = "{}"  # JSON
    tokens: str | None = None
    fts_title: str | None = None
    fts_body: str | None = None
    date_clamped: bool = False  # claimed a date more than a day after the fetch; stored with the fetch time


ENGINE = "engine"  # who records the events the analysis finds (an analyst's own acts carry their name)


@dataclass
class SignalEvent:
    """Something that happened to a signal in a week: born, grew, merged, split, faded, revived, renamed."""

    signal_id: int
    event: str
    detail: dict[str, Any] = field(default_factory=dict)
    by: str = ENGINE


@dataclass(frozen=True)
class Window:
    """The items one analysis looks at: those published in ``[start, end]``, both ends included.

    ``start`` is Monday 00:00 (``settings.timezone``) of ``first_week``, the first of the
    ``analysis.window_weeks`` ISO weeks that end with ``week``, the week of ``now``; ``end`` is ``now``
    itself (UTC ISO strings, to the second). An item published at the very instant of ``now`` (an
    item without a date gets its fetch time, and a fetch ``--as-of`` the same moment is common) is
    inside; one a second later is not.
    """

    first_week: str
    week: str
    start: str
    end: str


Keywords = dict[str, list[str]]  # {"th": [...], "en": [...], "all": [...]} (scanner.analysis.label)


@dataclass
class SignalLabel:
    """What labelling gives a signal: its name (``title``), keywords, thematic tags, the lab's topics,
    its most representative headline (``example``) and, from a language model, a one-paragraph
    ``summary`` (``scanner.analysis.namer``; empty with the keyphrase namer)."""

    id: int
    title: str
    keywords: Keywords
    tags: dict[str, list[str]]
    topics: list[str]
    example: str = ""
    summary: str = ""


@dataclass
class WeekScores:
    """A signal's counts, Yoon's degrees, growth and state in one ISO week (as exports show them)."""

    week: str
    items: int
    stories: int
    sources: int
    source_kinds: int
    dov: float | None
    dod: float | None
    dov_growth: float | None
    dod_growth: float | None
    state: str | None


@dataclass
class SignalWeek(WeekScores):
    """One ``signal_weeks`` row: the week's scores of one signal, and its keywords in the current week."""

    signal_id: int = 0
    keywords: Keywords | None = None


@dataclass
class SignalUpdate:
    """A signal's state and span after scoring."""

    id: int
    state: str
    status: str  # active | faded
    first_seen: str
    last_seen: str


@dataclass
class KeywordWeek:
    """One keyword in one ISO week (a ``keyword_weeks`` row)."""

    keyword: str
    lang: str
    week: str
    tf: int
    df: int
    dov: float | None
    dod: float | None
    dov_growth: float | None
    dod_growth: float | None


@dataclass
class SourceState:
    """What the store remembers about a source between runs (conditional GET and health)."""

    source_id: str
    etag: str | None = None
    last_modified: str | None = None
    last_attempt: str | None = None
    last_success: str | None = None
    last_error: str | None = None
    consecutive_failures: int = 0


@dataclass
class SourceFetch:
    """The outcome of fetching one source once."""

    source_id: str
    started_at: datetime
    finished_at: datetime | None = None
    status: FetchStatus = "ok"
    http_status: int | None = None
    items: list[RawItem] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    items_new: int = 0
    items_updated: int = 0
    items_seen: int = 0
    # Diagnostics for `scanner sources test` (e.g. what each CSS selector matched), in print order.
    report: dict[str, str] = field(default_factory=dict)


@dataclass
class Item:
    """An item as stored in ``signals.db``."""

    id: int
    source_id: str
    url: str | None
    canonical_url: str | None
    guid: str | None
    item_key: str
    title: str
    summary: str
    content: str
    author: str | None
    lang: str
    published: str
    date_missing: bool
    first_seen: str
    last_seen: str
    content_hash: str
    tokens: list[str] = field(default_factory=list)  # newmm tokens of title + text (``items.tokens``)

    @property
    def text(self) -> str:
        """Best available text: full content, else the summary."""
        return self.content or self.summary


@dataclass
class KnownItem:
    """What a source kind may learn about an item already stored under a URL (to skip refetching)."""

    id: int
    content_hash: str
    summary: str
    content: str
    extra: dict[str, Any]


@dataclass
class UpsertResult:
    """How storing a batch of items went."""

    new: int = 0
    updated: int = 0
    seen: int = 0
    item_ids: list[int] = field(default_factory=list)


@dataclass
class FetchRun:
    """Summary of one ``scanner fetch`` round over several sources."""

    results: list[SourceFetch] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return sum(1 for r in self.results if r.status in ("ok", "not_modified"))

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results if r.status == "failed")

    @property
    def items_new(self) -> int:
        return sum(r.items_new for r in self.results)

    @property
    def items_updated(self) -> int:
        return sum(r.items_updated for r in self.results)

    @property
    def exit_code(self) -> int:
        """0 all ok (or nothing due), 1 some failed, 3 all failed."""
        if not self.results or self.failed == 0:
            return 0
        return 3 if self.ok == 0 else 1
