"""The digest's delivery sections of ``sources.yaml``: e-mail, channels (e-mail, Teams/Slack/JSON
webhooks) and FTSS publishing."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from scanner.config.base import SLUG_RE, Strict, check_http_url
from scanner.cron import parse_cron


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
        check_http_url(v)
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
        return None if v is None else check_http_url(v)

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
