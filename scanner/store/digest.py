"""Queries behind the weekly digest, returning typed rows.

Every read is bounded by the end of the digest's week, so items published later are never seen
(signals, though, are read as they stand now: a written week is rendered from its record, see
``scanner.store.records``). JSON columns are parsed here, with ``load_json``'s fallback for an empty
or broken value.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from scanner.models import Keywords, KeywordWeek, SignalWeek
from scanner.store import Store, chunked, load_json, placeholders

logger = logging.getLogger(__name__)


@dataclass
class WeekItem:
    """An item published in the digest's range, with its source kind and relevance (if analysed)."""

    id: int
    source_id: str
    published: str
    kind: str | None
    relevant: bool | None  # None: no relevance decision yet
    topics: list[str]


@dataclass
class SignalRow:
    """A ``signals`` row with its JSON columns parsed."""

    id: int
    title: str
    custom_title: str | None
    keywords: Keywords
    state: str | None
    topics: list[str]
    tags: dict[str, Any]  # {"steepv": [...], "themes": [...], "sdgs": [...]}, checked by the reader
    first_seen: str
    last_seen: str
    summary: str = ""  # one paragraph from the language model (analysis.namer: llm)


@dataclass
class MemberRow:
    """One item of a signal, with its source's display name and kind."""

    id: int
    title: str | None
    url: str | None
    published: str
    lang: str | None
    source_id: str
    source_name: str  # the source's name, or its id when it has none
    kind: str | None


@dataclass
class EventRow:
    signal_id: int
    event: str
    detail: dict[str, Any]  # free-form JSON, different for each kind of event


@dataclass
class SourceHealthRow:
    """One source's fetches in the week, its last item and when the scanner first knew of it."""

    id: str
    name: str
    kind: str
    enabled: bool
    in_config: bool
    failures: int
    attempts: int
    last_error: str | None
    last_item: str | None
    items_week: int
    known_since: str


@dataclass
class DigestRow:
    """A ``digests`` row: when a week's digest was written and e-mailed."""

    week: str
    generated_at: str
    paths: list[str]
    emailed_at: str | None


SIGNAL_WEEK_COLUMNS = ("signal_id", "week", "items", "stories", "sources", "source_kinds", "dov", "dod", "dov_growth",
                       "dod_growth", "state", "keywords")


def _signal_week(r: Sequence[Any]) -> SignalWeek:
    """A row selected as ``SIGNAL_WEEK_COLUMNS`` (``keywords`` may be left out: then it is ``None``)."""
    sid, week, items, stories, sources, kinds, dov, dod, dov_g, dod_g, state = r[:11]
    return SignalWeek(signal_id=int(sid), week=week, items=int(items or 0), stories=int(stories or 0),
                      sources=int(sources or 0), source_kinds=int(kinds or 0), dov=dov, dod=dod, dov_growth=dov_g,
                      dod_growth=dod_g, state=state, keywords=load_json(r[11], {}) if len(r) > 11 else None)


def fetch_items_between(store: Store, start: str, end: str) -> list[WeekItem]:
    """Items published in ``[start, end)`` (duplicates left out), oldest first."""
    rows = store.db.execute(
        """
        SELECT i.id, i.source_id, i.published, src.kind AS kind, r.relevant, r.topics
        FROM items i
        LEFT JOIN sources src ON src.id = i.source_id
        LEFT JOIN item_relevance r ON r.item_id = i.id
        WHERE i.published >= ? AND i.published < ? AND i.duplicate_of IS NULL
        ORDER BY i.published, i.id
        """,
        [start, end],
    )
    return [WeekItem(id=int(i), source_id=source, published=published, kind=kind,
                     relevant=None if relevant is None else bool(relevant),
                     topics=[str(t) for t in load_json(topics, [])])
            for i, source, published, kind, relevant, topics in rows]


@dataclass
class SightingRow(MemberRow):
    """A relevant item in no signal (the fields of a member row), with its stored novelty and its most
    similar earlier item."""

    novelty: float | None  # None: not computed (analysed before novelty was)
    nearest_title: str | None
    nearest_published: str | None


def fetch_sightings(store: Store, start: str, end: str) -> list[SightingRow]:
    """Sightings published in ``[start, end)``: relevant items (duplicates left out) that are in no
    signal, most novel first (then oldest first); those without a novelty come last."""
    rows = store.db.execute(
        """
        SELECT i.id, i.title, i.url, i.published, i.lang, i.source_id,
               COALESCE(NULLIF(src.name, ''), i.source_id), src.kind, n.novelty, e.title, e.published
        FROM items i
        JOIN item_relevance r ON r.item_id = i.id AND r.relevant = 1
        LEFT JOIN signal_items si ON si.item_id = i.id
        LEFT JOIN sources src ON src.id = i.source_id
        LEFT JOIN item_novelty n ON n.item_id = i.id
        LEFT JOIN items e ON e.id = n.nearest_id
        WHERE i.published >= ? AND i.published < ? AND i.duplicate_of IS NULL AND si.item_id IS NULL
        ORDER BY n.novelty IS NULL, n.novelty DESC, i.published, i.id
        """,
        [start, end],
    )
    return [SightingRow(id=int(i), title=title, url=url, published=published, lang=lang, source_id=source,
                        source_name=name, kind=kind, novelty=None if novelty is None else float(novelty),
                        nearest_title=near_title, nearest_published=near_published)
            for i, title, url, published, lang, source, name, kind, novelty, near_title, near_published in rows]


def any_items_before(store: Store, start: str) -> bool:
    """Was anything published before ``start`` (if not, this is one of the first digests)?"""
    return store.db.execute("SELECT 1 FROM items WHERE published < ? LIMIT 1", [start]).fetchone() is not None


def any_analysed(store: Store, end: str) -> bool:
    """Has any item published before ``end`` a relevance decision?"""
    return store.db.execute("SELECT 1 FROM item_relevance r JOIN items i ON i.id = r.item_id WHERE i.published < ? "
                            "LIMIT 1", [end]).fetchone() is not None


def fetch_signals(store: Store, week: str, ids: Iterable[int]) -> list[SignalRow]:
    """The signals ``ids`` born by ``week`` that still stand on their own (merged ones live on in
    their target), in id order."""
    rows: list[tuple[Any, ...]] = []
    for chunk in chunked(sorted(ids)):
        rows.extend(store.db.execute(
            "SELECT id, title, custom_title, keywords, state, topics, tags, first_seen, last_seen, summary "
            f"FROM signals WHERE first_seen <= ? AND merged_into IS NULL AND id IN ({placeholders(chunk)}) ORDER BY id",
            [week, *chunk]))
    return [SignalRow(id=int(sid), title=title, custom_title=custom, keywords=load_json(kw, {}), state=state,
                      topics=[str(t) for t in load_json(topics, [])], tags=load_json(tags, {}), first_seen=first,
                      last_seen=last, summary=summary)
            for sid, title, custom, kw, state, topics, tags, first, last, summary in rows]


def fetch_signal_weeks(store: Store, first: str, last: str) -> dict[int, dict[str, SignalWeek]]:
    """``{signal_id: {week: row}}`` for weeks ``first``..``last``."""
    out: dict[int, dict[str, SignalWeek]] = {}
    for r in store.db.execute(f"SELECT {', '.join(SIGNAL_WEEK_COLUMNS)} FROM signal_weeks WHERE week >= ? "
                              "AND week <= ? ORDER BY signal_id, week", [first, last]):
        row = _signal_week(r)
        out.setdefault(row.signal_id, {})[row.week] = row
    return out


@dataclass
class SignalTally:
    """One signal's weekly rows up to the digest's week, summed up."""

    latest: SignalWeek  # the latest row (without keywords)
    last_item_week: str | None  # the latest week with an item
    items: int  # items over all weeks


def fetch_signal_tallies(store: Store, week: str, ids: Iterable[int]) -> dict[int, SignalTally]:
    """``SignalTally`` of each of the signals ``ids`` that has weekly rows at or before ``week``."""
    out: dict[int, SignalTally] = {}
    for chunk in chunked(sorted(ids)):
        sums = {sid: (last, last_item, int(n or 0)) for sid, last, last_item, n in store.db.execute(
            "SELECT signal_id, max(week), max(CASE WHEN items > 0 THEN week END), sum(items) FROM signal_weeks "
            f"WHERE week <= ? AND signal_id IN ({placeholders(chunk)}) GROUP BY signal_id", [week, *chunk])}
        for r in store.db.execute(f"SELECT {', '.join(SIGNAL_WEEK_COLUMNS[:-1])} FROM signal_weeks WHERE "
                                  f"signal_id IN ({placeholders(chunk)}) AND week <= ?", [*chunk, week]):
            row = _signal_week(r)
            last, last_item, n = sums[row.signal_id]
            if row.week == last:
                out[row.signal_id] = SignalTally(latest=row, last_item_week=last_item, items=n)
    return out


def fetch_signal_members(store: Store, signal_id: int, end: str) -> list[MemberRow]:
    """A signal's items published before ``end``, most central first."""
    rows = store.query(
        """
        SELECT i.id, i.title, i.url, i.published, i.lang, i.source_id,
               COALESCE(NULLIF(src.name, ''), i.source_id) AS source_name, src.kind AS kind
        FROM signal_items si
        JOIN items i ON i.id = si.item_id
        LEFT JOIN sources src ON src.id = i.source_id
        WHERE si.signal_id = ? AND i.published < ?
        ORDER BY si.similarity DESC, i.published DESC, i.id
        """,
        [signal_id, end],
    )
    return [MemberRow(id=int(r["id"]), title=r["title"], url=r["url"], published=r["published"], lang=r["lang"],
                      source_id=r["source_id"], source_name=r["source_name"], kind=r["kind"])
            for r in rows]


def fetch_signal_events(store: Store, week: str) -> dict[int, list[EventRow]]:
    """Events recorded for ``week``, per signal, in the order they were recorded."""
    out: dict[int, list[EventRow]] = {}
    for r in store.query("SELECT signal_id, event, detail FROM signal_events WHERE week = ? ORDER BY id", [week]):
        sid = int(r["signal_id"])
        out.setdefault(sid, []).append(EventRow(signal_id=sid, event=r["event"], detail=load_json(r["detail"], {})))
    return out


def fetch_keyword_weeks(store: Store, week: str) -> list[KeywordWeek]:
    """Keyword scores of ``week`` (for the Keyword Emergence and Issue Maps), most frequent first."""
    rows = store.db.execute(
        "SELECT keyword, lang, week, tf, df, dov, dod, dov_growth, dod_growth FROM keyword_weeks WHERE week = ? "
        "ORDER BY tf DESC, keyword", [week])
    return [KeywordWeek(*r) for r in rows]


def fetch_source_health(store: Store, start: str, end: str) -> list[SourceHealthRow]:
    """Per source: failures in ``[start, end)``, the last error, the last item before ``end`` and when
    the scanner first knew of it (earliest of creation, first fetch, first item)."""
    rows = store.query(
        """
        SELECT s.id, COALESCE(NULLIF(s.name, ''), s.id) AS name, s.kind, s.enabled, s.in_config,
               (SELECT count(*) FROM fetches f WHERE f.source_id = s.id AND f.status = 'failed'
                  AND f.started_at >= :start AND f.started_at < :end) AS failures,
               (SELECT count(*) FROM fetches f WHERE f.source_id = s.id
                  AND f.started_at >= :start AND f.started_at < :end) AS attempts,
               (SELECT f.error FROM fetches f WHERE f.source_id = s.id AND f.status = 'failed'
                  AND f.started_at >= :start AND f.started_at < :end ORDER BY f.started_at DESC, f.id DESC
                  LIMIT 1) AS last_error,
               (SELECT max(i.published) FROM items i WHERE i.source_id = s.id AND i.published < :end) AS last_item,
               (SELECT count(*) FROM items i WHERE i.source_id = s.id
                  AND i.published >= :start AND i.published < :end) AS items_week,
               min(s.created_at,
                   COALESCE((SELECT min(f.started_at) FROM fetches f WHERE f.source_id = s.id), s.created_at),
                   COALESCE((SELECT min(i.published) FROM items i WHERE i.source_id = s.id), s.created_at))
                 AS known_since
        FROM sources s
        ORDER BY s.id
        """,
        {"start": start, "end": end},
    )
    return [SourceHealthRow(id=r["id"], name=r["name"], kind=r["kind"], enabled=bool(r["enabled"]),
                            in_config=bool(r["in_config"]), failures=int(r["failures"]), attempts=int(r["attempts"]),
                            last_error=r["last_error"], last_item=r["last_item"], items_week=int(r["items_week"]),
                            known_since=r["known_since"])
            for r in rows]


def fetch_digest_row(store: Store, week: str) -> DigestRow | None:
    rows = store.query("SELECT week, generated_at, paths, emailed_at FROM digests WHERE week = ?", [week])
    if not rows:
        return None
    r = rows[0]
    return DigestRow(week=r["week"], generated_at=r["generated_at"],
                     paths=[str(p) for p in load_json(r["paths"], [])], emailed_at=r["emailed_at"])


def record_digest(store: Store, week: str, generated_at: str, paths: list[str]) -> None:
    """Remember that ``week``'s digest was written (keeps ``emailed_at`` of an earlier write)."""
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO digests (week, generated_at, paths) VALUES (?, ?, ?) "
            "ON CONFLICT(week) DO UPDATE SET generated_at = excluded.generated_at, paths = excluded.paths",
            (week, generated_at, json.dumps(paths, ensure_ascii=False)),
        )


def mark_emailed(store: Store, week: str, at: str) -> None:
    with store.transaction() as conn:
        conn.execute("UPDATE digests SET emailed_at = ? WHERE week = ?", (at, week))
