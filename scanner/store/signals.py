"""Queries of the signals engine: stories, signals, assignments, weekly scores, events, runs.

Every write of a stage happens in one transaction (``Store.transaction``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from scanner.clock import shift_week
from scanner.models import ENGINE, KeywordWeek, SignalEvent, SignalLabel, SignalUpdate, SignalWeek, Window
from scanner.normalize import split_tokens
from scanner.store import BODY_TOKENS, Store, chunked, load_json, placeholders


@dataclass
class WindowItem:
    """A relevant item inside the analysis window, with what clustering and scoring need."""

    id: int
    source_id: str
    source_kind: str
    published: str
    content_hash: str
    duplicate_of: int | None
    title: str
    lang: str
    url: str | None


@dataclass
class SignalRef:
    """An existing signal as tracking sees it."""

    id: int
    mean: np.ndarray | None
    status: str
    first_seen: str
    last_seen: str = ""


# --------------------------------------------------------------------------- relevance (read side)
def mark_relevant(store: Store, item_ids: Sequence[int], topics: Sequence[str] = (), relevant: bool = True,
                  relevance: float = 1.0, model: str = "manual", computed_at: str = "") -> None:
    """Write ``item_relevance`` rows directly, bypassing the relevance stage (hand-labelled data, tests)."""
    with store.transaction() as conn:
        for ids in chunked(list(item_ids)):
            hashes = dict(conn.execute(f"SELECT id, content_hash FROM items WHERE id IN ({placeholders(ids)})", ids))
            conn.executemany(
                "INSERT OR REPLACE INTO item_relevance (item_id, content_hash, model, relevance, relevant, topics, "
                "explain, computed_at) VALUES (?,?,?,?,?,?,?,?)",
                [(i, hashes.get(i, ""), model, relevance, int(relevant), json.dumps(list(topics)), "{}", computed_at)
                 for i in ids if i in hashes],
            )


def relevant_ids(store: Store, start: str, end: str) -> list[int]:
    """Ids of items marked relevant, published in ``[start, end]`` (both included, as in ``Window``)."""
    sql = ("SELECT i.id FROM items i JOIN item_relevance r ON r.item_id = i.id "
           "WHERE r.relevant = 1 AND i.published >= ? AND i.published <= ? ORDER BY i.id")
    return [r[0] for r in store.db.execute(sql, (start, end))]


def item_ids_in(store: Store, start: str, end: str) -> list[int]:
    """Ids of the items published in ``[start, end]`` (both included), in id order."""
    sql = "SELECT id FROM items WHERE published >= ? AND published <= ? ORDER BY id"
    return [r[0] for r in store.db.execute(sql, (start, end))]


def any_item_in(store: Store, start: str, end: str) -> bool:
    """Whether an item was published in ``[start, end]``."""
    sql = "SELECT 1 FROM items WHERE published >= ? AND published <= ? LIMIT 1"
    return store.db.execute(sql, (start, end)).fetchone() is not None


def first_published(store: Store) -> str | None:
    """The publication time of the oldest item, or ``None`` for an empty database."""
    row = store.db.execute("SELECT min(published) FROM items").fetchone()
    return str(row[0]) if row and row[0] else None


def item_topics(store: Store, item_ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for ids in chunked(item_ids):
        for item_id, topics in store.db.execute(
            f"SELECT item_id, topics FROM item_relevance WHERE item_id IN ({placeholders(ids)})", ids
        ):
            try:
                out[item_id] = [str(t) for t in json.loads(topics or "[]")]
            except ValueError:
                out[item_id] = []
    return out


# --------------------------------------------------------------------------- window items + stories
def window_items(store: Store, item_ids: Sequence[int]) -> list[WindowItem]:
    """The items ``item_ids`` in id order, with their source kind."""
    out: list[WindowItem] = []
    for ids in chunked(sorted(item_ids)):
        rows = store.db.execute(
            "SELECT i.id, i.source_id, COALESCE(s.kind, ''), i.published, i.content_hash, i.duplicate_of, i.title, "
            f"i.lang, i.url FROM items i LEFT JOIN sources s ON s.id = i.source_id WHERE i.id IN ({placeholders(ids)}) "
            "ORDER BY i.id",
            ids,
        ).fetchall()
        out.extend(WindowItem(*r) for r in rows)
    return out


def load_stories(store: Store, item_ids: Sequence[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for ids in chunked(item_ids):
        sql = f"SELECT item_id, story_id FROM stories WHERE item_id IN ({placeholders(ids)})"
        out.update(store.db.execute(sql, ids))
    return out


def save_stories(store: Store, story_of: dict[int, int]) -> None:
    with store.transaction():
        store.db.table("stories").insert_all(({"item_id": i, "story_id": s} for i, s in sorted(story_of.items())),
                                       replace=True)


# --------------------------------------------------------------------------- signals for tracking
def load_signal_refs(store: Store) -> list[SignalRef]:
    """Signals that can still receive items (not merged away), oldest first."""
    out = []
    for sid, blob, status, first_seen, last_seen in store.db.execute(
        "SELECT id, centroid, status, first_seen, last_seen FROM signals WHERE status != 'merged' "
        "AND merged_into IS NULL ORDER BY id"
    ):
        mean = np.frombuffer(blob, dtype="<f4").copy() if blob else None
        out.append(SignalRef(sid, mean, status, first_seen, last_seen))
    return out


def follow_merges(direct: dict[int, int]) -> dict[int, int]:
    """``{merged: merged_into}`` links → every merged signal's final signal (chains followed, cycles cut)."""
    out = {}
    for sid in direct:
        target, seen = sid, set()
        while target in direct and target not in seen:
            seen.add(target)
            target = direct[target]
        out[sid] = target
    return out


def merged_into_map(store: Store) -> dict[int, int]:
    """Every merged signal → the signal it finally lives on in (the one rule for merge chains)."""
    return follow_merges(dict(store.db.execute("SELECT id, merged_into FROM signals WHERE merged_into IS NOT NULL")))


def final_signal(store: Store, signal_id: int) -> int:
    """The signal that holds ``signal_id``'s items now: itself, or where its merges lead."""
    return merged_into_map(store).get(signal_id, signal_id)


def load_assignments(store: Store, item_ids: Sequence[int]) -> dict[int, int]:
    """Current signal of each item (through merges)."""
    alias = merged_into_map(store)
    out: dict[int, int] = {}
    for ids in chunked(item_ids):
        for item_id, sid in store.db.execute(
            f"SELECT item_id, signal_id FROM signal_items WHERE item_id IN ({placeholders(ids)})", ids
        ):
            out[item_id] = alias.get(sid, sid)
    return out


def next_signal_id(store: Store) -> int:
    return int(store.db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM signals").fetchone()[0])


@dataclass
class SavedTracking:
    """What ``save_tracking`` stored: the assignments (after merges an analyst made meanwhile), the
    signals that lost members, and how many items changed signal."""

    assignment: dict[int, int]
    lost: set[int]
    moved: int


def save_tracking(store: Store, *, week: str, now: str, model: str, born: Sequence[int],
                  means: dict[int, np.ndarray], merged: Sequence[tuple[int, int]],
                  assignment: dict[int, int], similarity: dict[int, float],
                  events: Sequence[SignalEvent], window: Window | None = None) -> SavedTracking:
    """Write one tracking pass atomically.

    With ``window``, items published in it that are no longer assigned (judged not relevant any
    more) leave their signal. An analyst may have merged signals while the analysis ran (merges are
    short transactions that do not wait for the analysis): assignments follow those merges, and an
    engine merge that an analyst's merge contradicts is dropped, so the analyst's merge is never undone.
    """
    with store.transaction() as conn:
        final = merged_into_map(store)
        assignment = {i: final.get(s, s) for i, s in assignment.items()}
        kept, dropped = _engine_merges(merged, final)
        lost: set[int] = set()
        if window is not None:
            stale = [(i, s) for i, s in conn.execute(
                "SELECT si.item_id, si.signal_id FROM signal_items si JOIN items i ON i.id = si.item_id "
                "WHERE i.published >= ? AND i.published <= ?", (window.start, window.end)) if i not in assignment]
            lost.update(s for _, s in stale)
            for chunk in chunked([i for i, _ in stale]):
                conn.execute(f"DELETE FROM signal_items WHERE item_id IN ({placeholders(chunk)})", chunk)
        conn.executemany(
            "INSERT INTO signals (id, first_seen, last_seen, created_at, updated_at, model) VALUES (?,?,?,?,?,?)",
            [(sid, week, week, now, now, model) for sid in born],
        )
        for absorbed, into in kept:
            conn.execute("UPDATE signals SET status = 'merged', merged_into = ?, updated_at = ? WHERE id = ?",
                         (into, now, absorbed))
            conn.execute(  # the survivor spans both
                "UPDATE signals SET first_seen = min(first_seen, (SELECT first_seen FROM signals WHERE id = :a)), "
                "last_seen = max(last_seen, (SELECT last_seen FROM signals WHERE id = :a)) WHERE id = :b",
                {"a": absorbed, "b": into})
        gone = final.keys() | {a for a, _ in kept}
        conn.executemany(
            "UPDATE signals SET centroid = ?, model = ?, updated_at = ? WHERE id = ?",
            [(np.asarray(v, dtype="<f4").tobytes(), model, now, sid) for sid, v in sorted(means.items())
             if sid not in gone],
        )
        moved = _store_assignment(conn, assignment, similarity, week, now, lost)
        for absorbed, into in kept:  # items of merged signals that left the window follow the survivor
            conn.execute("UPDATE signal_items SET signal_id = ? WHERE signal_id = ?", (into, absorbed))
        record_events(conn, week, now, [e for e in events if not _about_dropped_merge(e, dropped)])
    return SavedTracking(assignment=assignment, lost=lost - gone, moved=moved)


def _engine_merges(merged: Sequence[tuple[int, int]], final: dict[int, int]
                   ) -> tuple[list[tuple[int, int]], set[int]]:
    """The engine's merges that still make sense after the analysts' (``final``): (kept pairs, dropped ids)."""
    kept, dropped = [], set()
    for absorbed, into in merged:
        target = final.get(into, into)
        if absorbed in final or target == absorbed:  # an analyst already placed it: the analyst wins
            dropped.add(absorbed)
        else:
            kept.append((absorbed, target))
    return kept, dropped


def _about_dropped_merge(e: SignalEvent, dropped: set[int]) -> bool:
    if e.event != "merged" or not dropped:
        return False
    if e.signal_id in dropped:
        return True
    absorbed = e.detail.get("absorbed")
    if isinstance(absorbed, list):
        e.detail["absorbed"] = [a for a in absorbed if a not in dropped]
        return not e.detail["absorbed"]
    return False


def _store_assignment(conn: sqlite3.Connection, assignment: dict[int, int], similarity: dict[int, float], week: str,
                      now: str, lost: set[int]) -> int:
    """Upsert ``signal_items`` and append the changes to ``signal_item_history``; note the signals that
    lost items in ``lost``. Returns how many items changed signal."""
    ids = sorted(assignment)
    old: dict[int, int] = {}
    for chunk in chunked(ids):
        old.update(conn.execute(f"SELECT item_id, signal_id FROM signal_items WHERE item_id IN "
                                f"({placeholders(chunk)})", chunk))
    moved = [i for i in ids if old.get(i) != assignment[i]]
    lost.update(old[i] for i in moved if i in old)
    conn.executemany(
        "INSERT INTO signal_items (item_id, signal_id, similarity, assigned_week) VALUES (?,?,?,?) "
        "ON CONFLICT(item_id) DO UPDATE SET signal_id = excluded.signal_id, similarity = excluded.similarity, "
        "assigned_week = CASE WHEN signal_items.signal_id = excluded.signal_id THEN signal_items.assigned_week "
        "ELSE excluded.assigned_week END",
        [(i, assignment[i], round(float(similarity.get(i, 0.0)), 4), week) for i in ids],
    )
    conn.executemany("INSERT INTO signal_item_history (item_id, signal_id, week, assigned_at) VALUES (?,?,?,?)",
                     [(i, assignment[i], week, now) for i in moved])
    return len(moved)


# the event tables of the two levels, and the column naming the signal or trend an event is about
EVENT_TABLES = {"signal": ("signal_events", "signal_id"), "trend": ("trend_events", "trend_id")}


def record_events(conn: sqlite3.Connection, week: str, now: str, events: Sequence[SignalEvent],
                  level: str = "signal") -> None:
    """The one way events are written, inside the caller's transaction, for signals or (``level``
    ``"trend"``, ``SignalEvent.signal_id`` holding the trend's id) for trends.

    What the engine finds (``by == ENGINE``) describes a week, so a signal has at most one event of a
    kind per week: re-running the week keeps the first record and adds nothing. An analyst's act
    (merge, rename, move) is an entry in the audit trail: each one is kept.
    """
    table, key = EVENT_TABLES[level]
    for e in events:
        if e.by == ENGINE and conn.execute(
            f"SELECT 1 FROM {table} WHERE week = ? AND {key} = ? AND event = ? AND by = ?",
            (week, e.signal_id, e.event, ENGINE),
        ).fetchone():
            continue
        conn.execute(
            f"INSERT INTO {table} ({key}, week, event, detail, created_at, by) VALUES (?,?,?,?,?,?)",
            (e.signal_id, week, e.event, json.dumps(e.detail, ensure_ascii=False, sort_keys=True), now, e.by),
        )


# --------------------------------------------------------------------------- tokens for labels
def item_tokens(store: Store, item_ids: Sequence[int], max_body_tokens: int = BODY_TOKENS) -> dict[int, list[str]]:
    """PyThaiNLP newmm tokens of each item's title and the start of its text, stored at ingest
    (``items.tokens``: tokens joined by spaces, a newline between title and body). Splitting on
    whitespace only undoes that join; Thai text itself is never split on whitespace."""
    out: dict[int, list[str]] = {}
    for ids in chunked(item_ids):
        for item_id, tokens in store.db.execute(
            f"SELECT id, tokens FROM items WHERE id IN ({placeholders(ids)})", ids
        ):
            title, body = split_tokens(tokens)
            out[item_id] = title + body[:max_body_tokens]
    return out


def analyst_merged(store: Store) -> set[int]:
    """Signals an analyst formed by merging (``scanner signals merge``): never split automatically."""
    out = set()
    sql = "SELECT signal_id, detail FROM signal_events WHERE event = 'merged' AND by != ?"
    for sid, detail in store.db.execute(sql, (ENGINE,)):
        d = load_json(detail, {})
        if isinstance(d, dict) and d.get("kept") == sid:
            out.add(int(sid))
    return out


# --------------------------------------------------------------------------- labels, tags, scores
def save_labels(store: Store, labels: Sequence[SignalLabel], now: str) -> None:
    """Each signal's automatic title, summary, keywords, tags and topics (an analyst's title is kept apart)."""
    with store.transaction() as conn:
        conn.executemany(
            "UPDATE signals SET title = ?, example = ?, summary = ?, keywords = ?, tags = ?, topics = ?, "
            "updated_at = ? WHERE id = ?",
            [(r.title, r.example, r.summary, json.dumps(r.keywords, ensure_ascii=False),
              json.dumps(r.tags, ensure_ascii=False), json.dumps(r.topics, ensure_ascii=False), now, r.id)
             for r in labels],
        )


def save_scores(store: Store, *, weeks: Sequence[str], signal_weeks: Sequence[SignalWeek],
                signal_updates: Sequence[SignalUpdate], keyword_weeks: Sequence[KeywordWeek],
                events: Sequence[SignalEvent], week: str, now: str) -> None:
    """Replace the window's weekly rows and update each signal's state, all at once."""
    with store.transaction() as conn:
        marks = placeholders(weeks)
        cols = ["signal_id", "week", "items", "stories", "sources", "source_kinds", "dov", "dod", "dov_growth",
                "dod_growth", "state", "keywords"]
        counts = ["items", "stories", "sources", "source_kinds", "dov", "dod"]
        # Counts are rewritten. Growth and state are rewritten for this week and the one before (a run
        # early in a week saw only part of it; the digest reports the last complete week); older
        # weeks keep the growth and state they had when they were current.
        keep = ["dov_growth", "dod_growth", "state"]
        updates = ", ".join([f"{c} = excluded.{c}" for c in counts] +
                            [f"{c} = CASE WHEN excluded.week >= :previous THEN excluded.{c} "
                             f"ELSE COALESCE(signal_weeks.{c}, excluded.{c}) END" for c in keep] +
                            ["keywords = CASE WHEN excluded.week = :current THEN excluded.keywords "
                             "ELSE signal_weeks.keywords END"])
        conn.executemany(
            f"INSERT INTO signal_weeks ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)}) "
            f"ON CONFLICT(signal_id, week) DO UPDATE SET {updates}",
            [{**asdict(r), "keywords": json.dumps(r.keywords or {}, ensure_ascii=False), "current": week,
              "previous": shift_week(week, -1)} for r in signal_weeks],
        )
        conn.executemany(
            "UPDATE signals SET state = ?, status = ?, first_seen = ?, last_seen = ?, updated_at = ? "
            "WHERE id = ? AND merged_into IS NULL",
            [(u.state, u.status, u.first_seen, u.last_seen, now, u.id) for u in signal_updates],
        )
        conn.execute(f"DELETE FROM keyword_weeks WHERE week IN ({marks})", list(weeks))
        kcols = ["keyword", "lang", "week", "tf", "df", "dov", "dod", "dov_growth", "dod_growth"]
        conn.executemany(
            f"INSERT INTO keyword_weeks ({', '.join(kcols)}) VALUES ({placeholders(kcols)})",
            [tuple(getattr(r, c) for c in kcols) for r in keyword_weeks],
        )
        record_events(conn, week, now, events)


def previous_states(store: Store) -> dict[int, str]:
    return dict(store.db.execute("SELECT id, state FROM signals"))


def signal_spans(store: Store, until: str, signal_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """(earliest, latest) ``published`` of the items of ``signal_ids`` up to ``until`` (all time before it)."""
    out: dict[int, tuple[str, str]] = {}
    for chunk in chunked(list(signal_ids)):
        out.update((sid, (lo, hi)) for sid, lo, hi in store.db.execute(
            "SELECT si.signal_id, MIN(i.published), MAX(i.published) FROM signal_items si JOIN items i ON i.id = "
            f"si.item_id WHERE i.published <= ? AND si.signal_id IN ({placeholders(chunk)}) GROUP BY si.signal_id",
            (until, *chunk)))
    return out


# --------------------------------------------------------------------------- runs
def count_runs(store: Store, kind: str) -> int:
    """How many ``kind`` runs finished (``analyse``: whether the engine has ever run)."""
    return int(store.db.execute("SELECT count(*) FROM runs WHERE kind = ? AND finished_at IS NOT NULL",
                                (kind,)).fetchone()[0])


def start_run(store: Store, kind: str, as_of: str | None, started_at: str) -> int:
    with store.transaction() as conn:
        cur = conn.execute("INSERT INTO runs (kind, as_of, started_at) VALUES (?,?,?)", (kind, as_of, started_at))
        return int(cur.lastrowid or 0)


def finish_run(store: Store, run_id: int, finished_at: str, summary: dict[str, Any]) -> None:
    with store.transaction() as conn:
        conn.execute("UPDATE runs SET finished_at = ?, summary = ? WHERE id = ?",
                     (finished_at, json.dumps(summary, ensure_ascii=False, sort_keys=True), run_id))
