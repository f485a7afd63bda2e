"""Queries of the trend level: trends, which signal is in which, their weekly rows, events, moves.

Mirrors ``scanner.store.signals`` one level up. Every write of a stage happens in one transaction;
an analyst's move (``move_signal``) is a short transaction of its own and is never undone by the
engine (the signal is *pinned* to the trend it was moved to).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

import numpy as np

from scanner.clock import iso, iso_week
from scanner.errors import UsageError
from scanner.models import SignalEvent, SignalLabel, SignalUpdate
from scanner.store import Store, chunked, load_json, placeholders
from scanner.store.signals import SignalRef, follow_merges, merged_into_map, record_events


@dataclass
class TrendWeek:
    """One ``trend_weeks`` row: a trend's items, stories and signals in one week, its share and state."""

    trend_id: int
    week: str
    items: int
    stories: int
    signals: int
    dod: float | None
    state: str | None


# --------------------------------------------------------------------------- for tracking
def load_trend_refs(store: Store) -> list[SignalRef]:
    """Trends that can still receive signals (not merged away), oldest first (as tracking sees them)."""
    out = []
    for tid, blob, status, first_seen, last_seen in store.db.execute(
        "SELECT id, centroid, status, first_seen, last_seen FROM trends WHERE merged_into IS NULL ORDER BY id"
    ):
        mean = np.frombuffer(blob, dtype="<f4").copy() if blob else None
        out.append(SignalRef(tid, mean, status, first_seen, last_seen))
    return out


def trend_merges(store: Store) -> dict[int, int]:
    """Every merged trend → the trend it finally lives on in."""
    return follow_merges(dict(store.db.execute("SELECT id, merged_into FROM trends WHERE merged_into IS NOT NULL")))


def signal_trends(store: Store) -> dict[int, int]:
    """Each signal's trend now (through trend merges); signals in no trend are absent."""
    alias = trend_merges(store)
    return {int(s): alias.get(t, t) for s, t in store.db.execute("SELECT signal_id, trend_id FROM signal_trends")}


def pinned_trends(store: Store) -> dict[int, int]:
    """Signals an analyst moved to a trend, and that trend (through trend merges)."""
    alias = trend_merges(store)
    return {int(s): alias.get(t, t) for s, t in store.db.execute(
        "SELECT signal_id, trend_id FROM signal_trends WHERE pinned_by IS NOT NULL")}


def next_trend_id(store: Store) -> int:
    return int(store.db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM trends").fetchone()[0])


def save_trend_tracking(store: Store, *, week: str, now: str, model: str, signal_ids: Sequence[int],
                        born: Sequence[int], means: dict[int, np.ndarray], merged: Sequence[tuple[int, int]],
                        assignment: dict[int, int], events: Sequence[SignalEvent]) -> None:
    """Write one trend-tracking pass over the window's ``signal_ids`` atomically.

    A window signal in no trend leaves the one it was in, unless an analyst pinned it there; a
    signal merged away leaves its trend (its items live on in the signal it was merged into).
    """
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO trends (id, first_seen, last_seen, created_at, updated_at, model) VALUES (?,?,?,?,?,?)",
            [(t, week, week, now, now, model) for t in born])
        for absorbed, into in merged:
            conn.execute("UPDATE trends SET status = 'merged', merged_into = ?, updated_at = ? WHERE id = ?",
                         (into, now, absorbed))
            conn.execute("UPDATE signal_trends SET trend_id = ? WHERE trend_id = ?", (into, absorbed))
        gone = {a for a, _ in merged}
        conn.executemany("UPDATE trends SET centroid = ?, model = ?, updated_at = ? WHERE id = ?",
                         [(np.asarray(v, dtype="<f4").tobytes(), model, now, t) for t, v in sorted(means.items())
                          if t not in gone])
        conn.executemany(
            "INSERT INTO signal_trends (signal_id, trend_id, updated_at) VALUES (?,?,?) ON CONFLICT(signal_id) DO "
            "UPDATE SET trend_id = excluded.trend_id, updated_at = CASE WHEN signal_trends.trend_id = "
            "excluded.trend_id THEN signal_trends.updated_at ELSE excluded.updated_at END "
            "WHERE signal_trends.pinned_by IS NULL",
            [(s, t, now) for s, t in sorted(assignment.items())])
        loose = [s for s in signal_ids if s not in assignment]
        for chunk in chunked(loose):
            conn.execute(f"DELETE FROM signal_trends WHERE pinned_by IS NULL AND signal_id IN ({placeholders(chunk)})",
                         chunk)
        conn.execute("DELETE FROM signal_trends WHERE signal_id IN (SELECT id FROM signals WHERE merged_into IS NOT "
                     "NULL)")
        record_events(conn, week, now, events, level="trend")


def save_trend_labels(store: Store, labels: Sequence[SignalLabel], now: str) -> None:
    """Each trend's automatic name, example headline, summary and keywords (an analyst's name is kept apart)."""
    with store.transaction() as conn:
        conn.executemany(
            "UPDATE trends SET title = ?, example = ?, summary = ?, keywords = ?, updated_at = ? WHERE id = ?",
            [(r.title, r.example, r.summary, json.dumps(r.keywords, ensure_ascii=False), now, r.id) for r in labels])


def trend_spans(store: Store, trend_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """(first, last) ISO week of each trend: the span of its signals (their stored spans)."""
    out: dict[int, tuple[str, str]] = {}
    alias = trend_merges(store)
    for sid_first, sid_last, tid in store.db.execute(
        "SELECT s.first_seen, s.last_seen, st.trend_id FROM signal_trends st JOIN signals s ON s.id = st.signal_id"
    ):
        t = alias.get(tid, tid)
        lo, hi = out.get(t, (sid_first, sid_last))
        out[t] = (min(lo, sid_first), max(hi, sid_last))
    return {t: out[t] for t in trend_ids if t in out}


def previous_trend_states(store: Store) -> dict[int, str]:
    return dict(store.db.execute("SELECT id, state FROM trends"))


def save_trend_scores(store: Store, *, weeks: Sequence[str], rows: Sequence[TrendWeek],
                      updates: Sequence[SignalUpdate], events: Sequence[SignalEvent], week: str, now: str) -> None:
    """The window's weekly trend rows (state kept for weeks before the last two, as for signals), and
    each trend's state and span."""
    with store.transaction() as conn:
        previous = weeks[-2] if len(weeks) > 1 else weeks[-1]
        conn.executemany(
            "INSERT INTO trend_weeks (trend_id, week, items, stories, signals, dod, state) VALUES "
            "(:trend_id, :week, :items, :stories, :signals, :dod, :state) ON CONFLICT(trend_id, week) DO UPDATE SET "
            "items = excluded.items, stories = excluded.stories, signals = excluded.signals, dod = excluded.dod, "
            "state = CASE WHEN excluded.week >= :previous THEN excluded.state "
            "ELSE COALESCE(trend_weeks.state, excluded.state) END",
            [{**r.__dict__, "previous": previous} for r in rows])
        conn.executemany(
            "UPDATE trends SET state = ?, status = ?, first_seen = ?, last_seen = ?, updated_at = ? "
            "WHERE id = ? AND merged_into IS NULL",
            [(u.state, u.status, u.first_seen, u.last_seen, now, u.id) for u in updates])
        record_events(conn, week, now, events, level="trend")


# --------------------------------------------------------------------------- analysts
def _trend_row(conn: sqlite3.Connection, trend_id: int) -> tuple[int, int | None]:
    row = conn.execute("SELECT id, merged_into FROM trends WHERE id = ?", (trend_id,)).fetchone()
    if row is None:
        raise UsageError(f"no trend {trend_id}: `scanner trends` lists them")
    return int(row[0]), row[1]


def move_signal(store: Store, signal_id: int, trend_id: int, now: datetime, tz: str = "Asia/Bangkok",
                by: str = "analyst") -> int | None:
    """Move a signal to a trend and pin it there (later analyses keep it); returns its trend before."""
    with store.transaction() as conn:
        if conn.execute("SELECT 1 FROM signals WHERE id = ?", (signal_id,)).fetchone() is None:
            raise UsageError(f"no signal {signal_id}: `scanner signals` lists them")
        merged = merged_into_map(store).get(signal_id)
        if merged is not None:
            raise UsageError(f"signal {signal_id} was merged into {merged}: move {merged} instead")
        _, into = _trend_row(conn, trend_id)
        if into is not None:
            raise UsageError(f"trend {trend_id} was merged into {into}: use {into} instead")
        old = conn.execute("SELECT trend_id FROM signal_trends WHERE signal_id = ?", (signal_id,)).fetchone()
        before = None if old is None else int(old[0])
        conn.execute(
            "INSERT INTO signal_trends (signal_id, trend_id, pinned_by, updated_at) VALUES (?,?,?,?) "
            "ON CONFLICT(signal_id) DO UPDATE SET trend_id = excluded.trend_id, pinned_by = excluded.pinned_by, "
            "updated_at = excluded.updated_at", (signal_id, trend_id, by, iso(now)))
        week = iso_week(now, tz)
        events = [SignalEvent(trend_id, "moved", {"signal": signal_id, "from": before, "to": trend_id}, by=by)]
        if before is not None and before != trend_id:
            events.append(SignalEvent(before, "moved", {"signal": signal_id, "from": before, "to": trend_id}, by=by))
        record_events(conn, week, iso(now), events, level="trend")
    return before


def rename_trend(store: Store, trend_id: int, title: str, now: datetime, tz: str = "Asia/Bangkok",
                 by: str = "analyst") -> str:
    """Give a trend an analyst's name (it wins over the automatic one); returns the old name."""
    title = " ".join((title or "").split())
    if not title:
        raise UsageError("the new name is empty: give the trend a short descriptive name")
    with store.transaction() as conn:
        _trend_row(conn, trend_id)
        old = conn.execute("SELECT COALESCE(NULLIF(custom_title, ''), title) FROM trends WHERE id = ?",
                           (trend_id,)).fetchone()[0]
        conn.execute("UPDATE trends SET custom_title = ?, updated_at = ? WHERE id = ?", (title, iso(now), trend_id))
        record_events(conn, iso_week(now, tz), iso(now),
                      [SignalEvent(trend_id, "renamed", {"from": old, "to": title}, by=by)], level="trend")
    return str(old)


# --------------------------------------------------------------------------- reading
class TrendRef(TypedDict):
    """A signal's trend, as ``export signals`` shows it."""

    id: int
    name: str


class TrendRecord(TypedDict):
    """One trend as ``scanner trends`` and ``export trends`` give it."""

    id: int
    name: str
    auto_name: str
    custom_name: str | None
    example: str
    summary: str  # one paragraph from the language model (analysis.namer: llm); '' otherwise
    state: str
    status: str
    first_seen: str
    last_seen: str
    keywords: dict[str, list[str]]
    signals: list[int]
    items: int


class TrendEventRecord(TypedDict):
    week: str
    event: str
    detail: dict[str, object]
    by: str
    at: str


def trend_records(store: Store, ids: Sequence[int] | None = None, state: str | None = None,
                  include_faded: bool = True) -> list[TrendRecord]:
    """Trends (not merged away), most items first; each with its signals and their item count."""
    members: dict[int, list[int]] = {}
    for s, t in sorted(signal_trends(store).items()):
        members.setdefault(t, []).append(s)
    counts = dict(store.db.execute("SELECT signal_id, count(*) FROM signal_items GROUP BY signal_id"))
    sql = ("SELECT id, title, custom_title, example, summary, keywords, state, status, first_seen, last_seen "
           "FROM trends WHERE merged_into IS NULL")
    out: list[TrendRecord] = []
    for tid, title, custom, example, summary, kw, st, status, first, last in store.db.execute(sql):
        if (ids is not None and tid not in ids) or (state and st != state) or (not include_faded and
                                                                              status == "faded"):
            continue
        sids = members.get(tid, [])
        out.append(TrendRecord(id=tid, name=custom or title, auto_name=title, custom_name=custom, example=example,
                               summary=summary, state=st, status=status, first_seen=first, last_seen=last,
                               keywords=load_json(kw, {}), signals=sids,
                               items=sum(int(counts.get(s, 0)) for s in sids)))
    return sorted(out, key=lambda r: (-r["items"], r["id"]))


def trend_of_signals(store: Store) -> dict[int, TrendRef]:
    """Each signal's trend (id and name), through signal and trend merges."""
    names = {int(t): (c or n) for t, n, c in store.db.execute("SELECT id, title, custom_title FROM trends")}
    return {s: TrendRef(id=t, name=names.get(t, "")) for s, t in signal_trends(store).items()}


def trend_event_records(store: Store, trend_id: int) -> list[TrendEventRecord]:
    return [TrendEventRecord(week=w, event=e, detail=load_json(d, {}), by=b, at=a) for w, e, d, b, a in
            store.db.execute("SELECT week, event, detail, by, created_at FROM trend_events WHERE trend_id = ? "
                             "ORDER BY id", (trend_id,))]


def trend_weeks(store: Store, last: str, trend_ids: Sequence[int]) -> dict[int, dict[str, TrendWeek]]:
    """The weekly rows of ``trend_ids`` up to week ``last``."""
    out: dict[int, dict[str, TrendWeek]] = {}
    for chunk in chunked(list(trend_ids)):
        for row in store.db.execute(
            "SELECT trend_id, week, items, stories, signals, dod, state FROM trend_weeks WHERE week <= ? AND "
            f"trend_id IN ({placeholders(chunk)}) ORDER BY week", (last, *chunk)):
            out.setdefault(int(row[0]), {})[row[1]] = TrendWeek(*row)
    return out
