"""Analysts' verdicts on signals, and the two hand edits of a signal: merge and rename.

Verdicts are append-only: a new verdict never overwrites an old one, so who said what and when is
kept. ``summarise_reviews`` turns one signal's verdicts into what the digest does with it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scanner.clock import iso, iso_week
from scanner.errors import UsageError
from scanner.models import SignalEvent
from scanner.store import Store
from scanner.store.audit import record_audit
from scanner.store.signals import final_signal, merged_into_map, record_events

logger = logging.getLogger(__name__)

VERDICTS = ("keep", "watch", "dismiss")


@dataclass
class VerdictSummary:
    """What several analysts' verdicts on one signal add up to.

    ``effective`` follows a simple, explainable rule on each analyst's *latest* verdict: ``watch`` if
    anyone watches it, ``dismiss`` only if everyone dismissed it, else ``keep``.
    """

    effective: str | None = None
    disputed: bool = False
    text: str = ""
    latest: dict[str, str] = field(default_factory=dict)  # analyst → their latest verdict
    dismissed_at: str | None = None  # when the last analyst dismissed it (when effective is dismiss)


@dataclass
class ReviewRow:
    """One analyst's verdict on a signal, as stored (``title`` is the signal's display title)."""

    id: int
    signal_id: int
    title: str | None
    verdict: str
    by: str
    created_at: str
    note: str | None


def get_signal(store: Store, signal_id: int) -> dict[str, Any]:
    """The ``signals`` row, or ``UsageError`` saying how to find a valid id."""
    rows = store.query("SELECT * FROM signals WHERE id = ?", [signal_id])
    if not rows:
        raise UsageError(f"no signal with id {signal_id}: list the signals with `scanner signals`")
    return rows[0]


def add_review(store: Store, signal_id: int, verdict: str, by: str, at: datetime,
               note: str | None = None) -> ReviewRow:
    """Record one analyst's verdict (and note). A merged signal's review goes to the signal it joined.

    One short transaction: it never waits for a long job (which holds the process lock, not the
    database), only for another write's commit, within SQLite's busy timeout.
    """
    if verdict not in VERDICTS:
        raise UsageError(f"unknown verdict {verdict!r}: use one of {', '.join(VERDICTS)}")
    by = (by or "").strip() or "analyst"
    get_signal(store, signal_id)
    target = final_signal(store, signal_id)
    clean_note = (note or "").strip() or None
    with store.transaction() as conn:
        cur = conn.execute("INSERT INTO reviews (signal_id, verdict, note, by, created_at) VALUES (?,?,?,?,?)",
                           (target, verdict, clean_note, by, iso(at)))
        title = conn.execute("SELECT COALESCE(NULLIF(custom_title, ''), title) FROM signals WHERE id = ?",
                             (target,)).fetchone()[0]
        record_audit(conn, iso(at), by, "review", f"signal:{target}", None,
                     {"verdict": verdict, "note": clean_note})
    return ReviewRow(int(cur.lastrowid or 0), target, title, verdict, by, iso(at), clean_note)


def list_reviews(store: Store, signal_id: int | None = None, until: str | None = None) -> list[ReviewRow]:
    """Reviews, oldest first, with the signal's display title; ``until`` keeps those recorded up to then."""
    where: list[str] = []
    params: list[Any] = []
    if signal_id is not None:
        where.append("r.signal_id = ?")
        params.append(signal_id)
    if until is not None:
        where.append("r.created_at <= ?")
        params.append(until)
    sql = ("SELECT r.id, r.signal_id, COALESCE(NULLIF(s.custom_title, ''), s.title) AS title, r.verdict, r.by, "
           "r.created_at, r.note FROM reviews r LEFT JOIN signals s ON s.id = r.signal_id")
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [ReviewRow(*row) for row in store.db.execute(sql + " ORDER BY r.created_at, r.id", params)]


def reviews_by_signal(store: Store, until: str | None = None) -> dict[int, list[ReviewRow]]:
    """Every review recorded up to ``until``, keyed by the signal that holds it now (merges followed)."""
    final = merged_into_map(store)
    out: dict[int, list[ReviewRow]] = {}
    for r in list_reviews(store, until=until):
        out.setdefault(final.get(r.signal_id, r.signal_id), []).append(r)
    return out


def summarise_reviews(reviews: Sequence[ReviewRow]) -> VerdictSummary:
    """Several analysts' verdicts on one signal, summarised (reviews oldest first)."""
    if not reviews:
        return VerdictSummary()
    latest: dict[str, ReviewRow] = {}
    for r in reviews:
        latest[r.by] = r
    verdicts = {by: r.verdict for by, r in latest.items()}
    kinds = sorted(set(verdicts.values()), key=VERDICTS.index)
    if "watch" in kinds:
        effective = "watch"
    elif kinds == ["dismiss"]:
        effective = "dismiss"
    else:
        effective = "keep"
    parts = []
    for v in kinds:
        names = sorted(by for by, verdict in verdicts.items() if verdict == v)
        parts.append(f"{v} ({', '.join(names)})")
    disputed = len(kinds) > 1
    text = ("analysts disagree: " if disputed else "") + "; ".join(parts)
    dismissed_at = max(r.created_at for r in latest.values()) if effective == "dismiss" else None
    return VerdictSummary(effective=effective, disputed=disputed, text=text, latest=verdicts,
                          dismissed_at=dismissed_at)


def rename_signal(store: Store, signal_id: int, title: str, now: datetime, tz: str = "Asia/Bangkok",
                  by: str = "analyst") -> str:
    """Give a signal an analyst's title (it wins over the automatic one); returns the old display title."""
    title = " ".join((title or "").split())
    if not title:
        raise UsageError("the new title is empty: give the signal a short descriptive title")
    row = get_signal(store, signal_id)
    old = row.get("custom_title") or row["title"]
    with store.transaction() as conn:
        conn.execute("UPDATE signals SET custom_title = ?, updated_at = ? WHERE id = ?", (title, iso(now), signal_id))
        record_events(conn, iso_week(now, tz), iso(now),
                      [SignalEvent(signal_id, "renamed", {"from": old, "to": title}, by=by)])
        record_audit(conn, iso(now), by, "rename", f"signal:{signal_id}", {"title": old}, {"title": title})
    return str(old)


@dataclass
class MergeResult:
    kept: int
    merged: int
    items_moved: int
    weeks_recounted: int


def merge_signals(store: Store, keep_id: int, other_id: int, now: datetime,
                  tz: str = "Asia/Bangkok", by: str = "analyst") -> MergeResult:
    """Fold signal ``other_id`` into ``keep_id``: its items move, it is marked merged, both get an event.

    ``keep_id``'s weekly item, story, source and source-kind counts are recounted from its new
    members; DoV/DoD scores are left for the next ``scanner analyse`` to recompute.
    """
    if keep_id == other_id:
        raise UsageError(f"cannot merge signal {keep_id} into itself: give two different ids")
    keep, other = get_signal(store, keep_id), get_signal(store, other_id)
    for row in (keep, other):
        if row.get("merged_into"):
            raise UsageError(f"signal {row['id']} was already merged into {row['merged_into']}: "
                             f"use {row['merged_into']} instead")
    week = iso_week(now, tz)
    at = iso(now)
    with store.transaction() as conn:
        moved = [r[0] for r in conn.execute("SELECT item_id FROM signal_items WHERE signal_id = ?", (other_id,))]
        conn.execute("UPDATE signal_items SET signal_id = ?, assigned_week = ? WHERE signal_id = ?",
                     (keep_id, week, other_id))
        conn.executemany("INSERT INTO signal_item_history (item_id, signal_id, week, assigned_at) VALUES (?,?,?,?)",
                         [(i, keep_id, week, at) for i in moved])
        conn.execute("UPDATE signals SET status = 'merged', merged_into = ?, updated_at = ? WHERE id = ?",
                     (keep_id, at, other_id))
        first = min(keep["first_seen"], other["first_seen"])
        last = max(keep["last_seen"], other["last_seen"])
        conn.execute("UPDATE signals SET first_seen = ?, last_seen = ?, updated_at = ? WHERE id = ?",
                     (first, last, at, keep_id))
        detail = {"kept": keep_id, "merged": other_id, "items_moved": len(moved)}
        record_events(conn, week, at, [SignalEvent(keep_id, "merged", detail, by=by),
                                       SignalEvent(other_id, "merged", detail, by=by)])
        for sid in (keep_id, other_id):
            record_audit(conn, at, by, "merge", f"signal:{sid}", {"merged_into": None},
                         {"kept": keep_id, "merged": other_id, "items_moved": len(moved)})
        weeks = _recount_weeks(store, keep_id, other_id, tz)
    logger.info("merged signal %s into %s (%d items)", other_id, keep_id, len(moved))
    return MergeResult(kept=keep_id, merged=other_id, items_moved=len(moved), weeks_recounted=weeks)


def _recount_weeks(store: Store, keep_id: int, other_id: int, tz: str) -> int:
    """Recount ``keep_id``'s per-week counts from its members, over both signals' weeks."""
    conn = store.db.conn
    weeks = {r[0] for r in conn.execute("SELECT week FROM signal_weeks WHERE signal_id IN (?, ?)",
                                        (keep_id, other_id))}
    members = conn.execute(
        "SELECT i.id, i.published, i.source_id, COALESCE(src.kind, ''), COALESCE(st.story_id, i.id) "
        "FROM signal_items si JOIN items i ON i.id = si.item_id LEFT JOIN sources src ON src.id = i.source_id "
        "LEFT JOIN stories st ON st.item_id = i.id WHERE si.signal_id = ?", (keep_id,)).fetchall()
    per_week: dict[str, list[tuple[Any, ...]]] = {}
    for m in members:
        per_week.setdefault(iso_week(datetime.fromisoformat(m[1]), tz), []).append(m)
    for week in sorted(weeks | set(per_week)):
        rows = per_week.get(week, [])
        counts = (len(rows), len({r[4] for r in rows}), len({r[2] for r in rows}), len({r[3] for r in rows}))
        exists = conn.execute("SELECT 1 FROM signal_weeks WHERE signal_id = ? AND week = ?", (keep_id, week)).fetchone()
        if exists:
            conn.execute("UPDATE signal_weeks SET items = ?, stories = ?, sources = ?, source_kinds = ? "
                         "WHERE signal_id = ? AND week = ?", (*counts, keep_id, week))
        else:
            conn.execute("INSERT INTO signal_weeks (signal_id, week, items, stories, sources, source_kinds) "
                         "VALUES (?,?,?,?,?,?)", (keep_id, week, *counts))
    return len(weeks | set(per_week))

