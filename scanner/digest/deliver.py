"""Sending a written digest through the channels of ``digest.deliver``: e-mail (``scanner.digest.email``)
and webhooks (Teams, Slack, JSON; ``scanner.digest.messages`` builds what they post).

Every channel is tried on its own: one that fails is logged, recorded in the delivery log
(``scanner.store.deliveries``) and reported, and never stops the others; the digest's files are
written before any of them is tried. Webhooks go through the scanner's HTTP client (the address
policy of ``settings.allow_hosts``, timeouts, retries with back-off on 429, 5xx and lost
connections). A webhook address read from ``url_env`` is a secret: it never appears in a message,
a log line, the delivery log or ``scanner status``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from scanner.clock import iso
from scanner.config import Config, EmailChannel, WebhookChannel
from scanner.digest.email import send_digest_email
from scanner.digest.messages import DigestSummary, render_message, summarise
from scanner.digest.model import Digest
from scanner.errors import DeliveryError, ScannerError
from scanner.http import HttpClient
from scanner.normalize import http_url
from scanner.store import Store
from scanner.store import digest as q
from scanner.store.deliveries import fetch_deliveries, record_delivery

logger = logging.getLogger(__name__)

FORMAT_NAMES = {"teams": "Teams card", "slack": "Slack message", "json": "JSON summary"}


@dataclass
class Delivery:
    """How one channel fared: ``error`` is ``None`` when it was delivered."""

    channel: str
    kind: str  # email | webhook
    format: str | None
    line: str  # what to print
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def subject(d: Digest) -> str:
    """The e-mail subject of a digest."""
    s = d.stats
    return (f"Horizon scan {d.week}: {s['new']} new, {s['weak']} weak, {s['strong']} strong signals "
            f"({s['items']} items)")


def pending_channels(config: Config, store: Store, week: str) -> list[str]:
    """The channels that have not delivered ``week`` yet (never tried, or failed), in file order."""
    done = {name for name, row in fetch_deliveries(store, week).items() if row.status == "ok"}
    return [name for name, _ in config.digest.channels if name not in done]


def deliver_digest(config: Config, store: Store, digest: Digest, html: str, md: str, now: datetime,
                   names: Collection[str]) -> list[Delivery]:
    """Send ``digest`` through the channels called ``names``, each on its own, and record each outcome."""
    summary = summarise(digest, config.digest.site_url)
    out: list[Delivery] = []
    client: HttpClient | None = None
    try:
        for name, channel in config.digest.channels:
            if name not in names:
                continue
            if isinstance(channel, WebhookChannel) and client is None:
                client = HttpClient.from_settings(config.settings, obey_robots=False)
            out.append(_deliver_one(config, store, digest, html, md, now, name, channel, summary, client))
    finally:
        if client is not None:
            client.close()
    return out


def _deliver_one(config: Config, store: Store, digest: Digest, html: str, md: str, now: datetime, name: str,
                 channel: EmailChannel | WebhookChannel, summary: DigestSummary,
                 client: HttpClient | None) -> Delivery:
    week = digest.week
    fmt = channel.format if isinstance(channel, WebhookChannel) else None
    what = ("e-mail" if name == "email" else f"e-mail to {name}") if fmt is None else name
    try:
        if isinstance(channel, EmailChannel):
            send_digest_email(channel, subject(digest), html, md)
            line = f"digest {week}: e-mailed to {len(channel.recipients)} recipient(s)" + (
                "" if name == "email" else f" ({name})")
        else:
            assert client is not None
            post_webhook(client, name, channel, summary)
            line = f"digest {week}: posted to {name} ({FORMAT_NAMES[channel.format]})"
    except ScannerError as e:
        error = str(e)
    except Exception as e:  # a bug in one channel must not stop the others, nor the digest
        logger.exception("digest %s: delivery to %s broke", week, name)
        error = f"unexpected {e.__class__.__name__} while delivering"
    else:
        record_delivery(store, week, name, channel.kind, fmt, iso(now))
        if isinstance(channel, EmailChannel):
            q.mark_emailed(store, week, iso(now))
        logger.info("%s", line)
        return Delivery(name, channel.kind, fmt, line)
    record_delivery(store, week, name, channel.kind, fmt, iso(now), error)
    logger.error("digest %s: delivery to %s failed (tried again on the next run): %s", week, name, error)
    return Delivery(name, channel.kind, fmt, f"digest {week}: {what} FAILED: {error}", error)


def webhook_url(name: str, channel: WebhookChannel) -> str:
    """The channel's address: ``url``, or the value of the environment variable ``url_env``."""
    if channel.url is not None:
        return channel.url
    assert channel.url_env is not None
    value = os.environ.get(channel.url_env, "").strip()
    if not value:
        raise DeliveryError(f"channel {name!r}: url_env names {channel.url_env!r} but that environment variable is "
                            f"not set (or empty): export {channel.url_env}='https://…' where the scanner runs")
    if http_url(value) is None:  # not repeated: it is the secret
        raise DeliveryError(f"channel {name!r}: the environment variable {channel.url_env} does not hold an "
                            "http(s) URL")
    return value


def post_webhook(client: HttpClient, name: str, channel: WebhookChannel, summary: DigestSummary) -> None:
    """Post the summary to the channel's webhook in its format; raise ``ScannerError`` saying what failed."""
    url = webhook_url(name, channel)
    client.post_json(url, render_message(channel.format, summary), label="webhook", retries=channel.retries,
                     secret=channel.url_env is not None)
