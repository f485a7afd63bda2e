"""The weekly horizon-scan digest: build (data) → render (HTML, Markdown, JSON) → write → deliver.

``write_digest`` writes one ISO week; ``write_due_digest`` is what the pipeline and the scheduler
call: it writes the last complete week's digest if it is missing (and e-mails it when configured).
Each returns a ``DigestResult``: the lines to print, and ``email_failed`` / ``exit_code`` for a
command to act on.

Digests are records: the first time a week is written, its data (the JSON) is kept in the database
(``scanner.store.records``) and every later write of that week renders from it, so a past week
regenerated after later analyses, merges, renames and reviews gives byte-identical files. Only
``rebuild`` (``scanner digest --rebuild``) builds a written week again from the database, and
replaces its record.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from scanner.clock import check_week, iso, last_complete_week, week_end, week_range
from scanner.config import Config
from scanner.digest.build import build_digest
from scanner.digest.email import send_digest_email
from scanner.digest.feed import write_index_and_feed, write_text_atomic
from scanner.digest.model import Digest, digest_from_json
from scanner.digest.render import render_html, render_json, render_markdown
from scanner.errors import DeliveryError, UsageError
from scanner.store import Store, records
from scanner.store import digest as q

logger = logging.getLogger(__name__)

SITE_TITLE = "Horizon scan: Thai digital government"

__all__ = ["DigestResult", "check_week", "write_digest", "write_digests", "write_due_digest", "write_requested"]


@dataclass
class DigestResult:
    """One written digest: its files, the lines to print, and whether e-mailing it was tried and failed."""

    week: str
    digest: Digest = field(repr=False)
    paths: list[Path] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    emailed: bool = False
    email_failed: bool = False  # e-mail was due but could not be sent (the files are written)

    @property
    def exit_code(self) -> int:
        """``1`` when the e-mail failed, else ``0`` (the files are written either way)."""
        return 1 if self.email_failed else 0


def _subject(d: Digest) -> str:
    s = d.stats
    return (f"Horizon scan {d.week}: {s['new']} new, {s['weak']} weak, {s['strong']} strong signals "
            f"({s['items']} items)")


def write_digest(config: Config, store: Store, week: str, now: datetime, send_email: bool = False,
                 rebuild: bool = False) -> DigestResult:
    """Write ``week``'s HTML, Markdown and JSON into the reports folder, then the index and feed.

    A week with a record is rendered from it: the same files as when it was first written. A week
    without one (never written, or written before records were kept) is built from the database as
    it is at ``now`` and recorded; ``rebuild`` does that for a recorded week too, replacing the record.
    Refuses a week that is not over at ``now``. With ``send_email`` and ``digest.email`` set, also
    e-mails it; a delivery failure sets ``email_failed`` and is reported in ``lines`` (the files
    stay written).
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
    paths += write_index_and_feed(reports, SITE_TITLE, config.digest.base_url)
    q.record_digest(store, week, iso(now), [str(p) for p in paths[:3]])
    s = digest.stats
    result = DigestResult(week=week, digest=digest, paths=paths, lines=[
        f"digest {week}: {s['items']} items, {s['new']} new, {s['weak']} weak, {s['strong']} strong, "
        f"{s['fading']} fading signals → {paths[0]}"
        + (f" (as written at {record.written_at}; --rebuild rebuilds it)" if record else "")])
    if send_email:
        _deliver(config, store, digest, html, md, now, result)
    return result


def _deliver(config: Config, store: Store, digest: Digest, html: str, md: str, now: datetime,
             result: DigestResult) -> None:
    cfg = config.digest.email
    if cfg is None:
        return
    try:
        send_digest_email(cfg, _subject(digest), html, md)
    except DeliveryError as e:
        logger.error("%s", e)
        result.email_failed = True
        result.lines.append(f"digest {digest.week}: e-mail FAILED: {e}")
        return
    q.mark_emailed(store, digest.week, iso(now))
    result.emailed = True
    result.lines.append(f"digest {digest.week}: e-mailed to {len(cfg.recipients)} recipient(s)")


def write_due_digest(config: Config, store: Store, now: datetime) -> DigestResult | None:
    """The last complete week's digest, if it has not been written yet (``None`` when nothing to do).

    A digest that was written but whose e-mail failed is sent again, as it was written (from its
    record); so are its files, if they are gone.
    """
    week = last_complete_week(now, config.settings.timezone)
    row = q.fetch_digest_row(store, week)
    html_path = config.reports_path / f"{week}.html"
    if row is not None and html_path.exists() and (config.digest.email is None or row.emailed_at):
        return None
    return write_digest(config, store, week, now, send_email=config.digest.email is not None)


def write_requested(config: Config, store: Store, now: datetime, week: str | None = None, first: str | None = None,
                    last: str | None = None, send_email: bool = False, rebuild: bool = False) -> list[DigestResult]:
    """``scanner digest``: one ``week`` (default: the last complete one at ``now``), or the back-fill
    ``first``..``last`` (never e-mailed); ``rebuild`` builds them from the database now, replacing
    their records."""
    if (first is None) != (last is None):
        raise UsageError("--from and --to go together: give both weeks of the back-fill")
    if first and week:
        raise UsageError("give either --week or --from/--to, not both")
    if send_email and config.digest.email is None:
        raise UsageError("--email needs a digest.email section (host, recipients, …) in the sources file")
    if first and last:
        return write_digests(config, store, first, last, now, rebuild=rebuild)
    return [write_digest(config, store, week or last_complete_week(now, config.settings.timezone), now,
                         send_email=send_email, rebuild=rebuild)]


def write_digests(config: Config, store: Store, first: str, last: str, now: datetime,
                  rebuild: bool = False) -> list[DigestResult]:
    """Back-fill: every week from ``first`` to ``last`` inclusive (no e-mail); recorded weeks as
    they were written, unless ``rebuild``."""
    return [write_digest(config, store, w, now, rebuild=rebuild) for w in week_range(first, last)]
