"""The weekly horizon-scan digest: build (data) → render (HTML, Markdown, JSON) → write → deliver.

``write_digest`` writes one ISO week; ``write_due_digest`` is what the pipeline and the scheduler
call: it writes the last complete week's digest if it is missing, and sends it through the channels
of ``digest.deliver`` (``scanner.digest.deliver``: e-mail, Teams, Slack, JSON webhooks) that have not
delivered it yet, so a channel that failed is tried again on the next run and one that succeeded is
never sent the week twice. Each returns a ``DigestResult``: the lines to print, and
``delivery_failed`` / ``exit_code`` for a command to act on.

Digests are records: the first time a week is written, its data (the JSON) is kept in the database
(``scanner.store.records``) and every later write of that week renders from it, so a past week
regenerated after later analyses, merges, renames and reviews gives byte-identical files. Only
``rebuild`` (``scanner digest --rebuild``) builds a written week again from the database, and
replaces its record.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from scanner.clock import check_week, iso, last_complete_week, week_end, week_range
from scanner.config import Config
from scanner.digest.build import build_digest
from scanner.digest.deliver import Delivery, deliver_digest, pending_channels
from scanner.digest.feed import write_index_and_feed, write_text_atomic
from scanner.digest.model import Digest, digest_from_json
from scanner.digest.render import render_html, render_json, render_markdown
from scanner.errors import UsageError
from scanner.store import Store, records
from scanner.store import digest as q

logger = logging.getLogger(__name__)

SITE_TITLE = "Horizon scan: Thai digital government"

__all__ = ["DigestResult", "check_week", "pending_deliveries", "write_digest", "write_digests", "write_due_digest",
           "write_requested"]


@dataclass
class DigestResult:
    """One written digest: its files, the lines to print, and how each channel it was sent through fared."""

    week: str
    digest: Digest = field(repr=False)
    paths: list[Path] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def emailed(self) -> bool:
        """An e-mail channel delivered it."""
        return any(d.ok for d in self.deliveries if d.kind == "email")

    @property
    def email_failed(self) -> bool:
        """An e-mail channel was due but could not send it (the files are written)."""
        return any(not d.ok for d in self.deliveries if d.kind == "email")

    @property
    def delivery_failed(self) -> bool:
        """A channel (e-mail or webhook) was due but failed; it is tried again on the next run."""
        return any(not d.ok for d in self.deliveries)

    @property
    def exit_code(self) -> int:
        """``1`` when a delivery failed, else ``0`` (the files are written either way)."""
        return 1 if self.delivery_failed else 0


def write_digest(config: Config, store: Store, week: str, now: datetime, send_email: bool = False,
                 rebuild: bool = False, deliver: Collection[str] = ()) -> DigestResult:
    """Write ``week``'s HTML, Markdown and JSON into the reports folder, then the index and feed.

    A week with a record is rendered from it: the same files as when it was first written. A week
    without one (never written, or written before records were kept) is built from the database as
    it is at ``now`` and recorded; ``rebuild`` does that for a recorded week too, replacing the record.
    Refuses a week that is not over at ``now``. Then sends it through the channels named in
    ``deliver`` (and every e-mail channel with ``send_email``); a failed channel sets
    ``delivery_failed`` and is reported in ``lines`` (the files stay written, the other channels
    are still tried).
    """
    check_week(week)
    tz = config.settings.timezone
    if week_end(week, tz) > now:
        raise UsageError(f"{week} is not over yet (it ends {iso(week_end(week, tz))}): pick an earlier --week, "
                         "or --as-of a date after it")
    record = None if rebuild else records.fetch_digest_record(store, week)
    digest = build_digest(config, store, week, now) if record is None else digest_from_json(record.data)
    html, md, data = render_html(digest, SITE_TITLE), render_markdown(digest, SITE_TITLE), render_json(digest)
    if record is None:
        records.save_digest_record(store, week, iso(now), data)
    reports = config.reports_path
    reports.mkdir(parents=True, exist_ok=True)
    paths = [reports / f"{week}.html", reports / f"{week}.md", reports / f"{week}.json"]
    for path, text in zip(paths, (html, md, data), strict=True):
        write_text_atomic(path, text)
    paths += write_index_and_feed(reports, SITE_TITLE, config.digest.site_url)
    q.record_digest(store, week, iso(now), [str(p) for p in paths[:3]])
    s = digest.stats
    result = DigestResult(week=week, digest=digest, paths=paths, lines=[
        f"digest {week}: {s['items']} items, {s['new']} new, {s['weak']} weak, {s['strong']} strong, "
        f"{s['fading']} fading signals → {paths[0]}"
        + (f" (as written at {record.written_at}; --rebuild rebuilds it)" if record else "")])
    names = set(deliver) | ({n for n, _ in config.digest.email_channels} if send_email else set())
    if names:
        result.deliveries = deliver_digest(config, store, digest, html, md, now, names)
        result.lines.extend(d.line for d in result.deliveries)
    return result


def pending_deliveries(config: Config, store: Store, now: datetime) -> list[str]:
    """The channels that still owe the last complete week's digest (they failed, or never tried it)."""
    if not config.digest.channels:
        return []
    week = last_complete_week(now, config.settings.timezone)
    return pending_channels(config, store, week) if q.fetch_digest_row(store, week) is not None else []


def write_due_digest(config: Config, store: Store, now: datetime) -> DigestResult | None:
    """The last complete week's digest, if it has not been written yet (``None`` when nothing to do).

    It goes to every channel of ``digest.deliver`` that has not delivered that week yet: a written
    digest whose delivery failed on some channel is sent again to those channels only, as it was
    written (from its record); so are its files, if they are gone.
    """
    week = last_complete_week(now, config.settings.timezone)
    row = q.fetch_digest_row(store, week)
    html_path = config.reports_path / f"{week}.html"
    pending = pending_channels(config, store, week)
    if row is not None and html_path.exists() and not pending:
        return None
    return write_digest(config, store, week, now, deliver=pending)


def write_requested(config: Config, store: Store, now: datetime, week: str | None = None, first: str | None = None,
                    last: str | None = None, send_email: bool = False, rebuild: bool = False,
                    deliver: bool = False) -> list[DigestResult]:
    """``scanner digest``: one ``week`` (default: the last complete one at ``now``), or the back-fill
    ``first``..``last`` (never delivered); ``rebuild`` builds them from the database now, replacing
    their records. ``deliver`` sends the week through every channel of ``digest.deliver`` (again, if
    they had delivered it), ``send_email`` through the e-mail ones."""
    if (first is None) != (last is None):
        raise UsageError("--from and --to go together: give both weeks of the back-fill")
    if first and week:
        raise UsageError("give either --week or --from/--to, not both")
    if send_email and not config.digest.email_channels:
        raise UsageError("--email needs an e-mail channel: a `kind: email` entry (host, recipients, …) under "
                         "digest.deliver in the sources file")
    if deliver and not config.digest.channels:
        raise UsageError("--deliver needs channels: list them under digest.deliver in the sources file "
                         "(kind: email or kind: webhook; see README, 'Deliver')")
    if deliver and first:
        raise UsageError("--deliver sends one week: give --week (a back-fill is never delivered)")
    if first and last:
        return write_digests(config, store, first, last, now, rebuild=rebuild)
    return [write_digest(config, store, week or last_complete_week(now, config.settings.timezone), now,
                         send_email=send_email, rebuild=rebuild,
                         deliver=[n for n, _ in config.digest.channels] if deliver else ())]


def write_digests(config: Config, store: Store, first: str, last: str, now: datetime,
                  rebuild: bool = False) -> list[DigestResult]:
    """Back-fill: every week from ``first`` to ``last`` inclusive (never delivered); recorded weeks as
    they were written, unless ``rebuild``."""
    return [write_digest(config, store, w, now, rebuild=rebuild) for w in week_range(first, last)]
