"""Queries behind the weekly digest. Every read is bounded by the end of the digest's week, so an old
week regenerated later reads the same rows (items published later are never seen)."""

from __future__ import annotations

import json
import logging
from typing import Any

from scanner.store import Store

logger = logging.getLogger(__name__)


def load_json(text: str | None, default: Any) -> Any:
    """A JSON column, or ``default`` when it is empty or broken (never crash a digest on one bad row)."""
    if not text:
        return default
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return default
    return value if isinstance(value, type(default)) else default


def fetch_items_between(store: Store, start: str, end: str) -> list[dict[str, Any]]:
    """Items published in ``[start, end)`` with their source kind and relevance (if analysed)."""
    return store.query(
        """
        SELECT i.id, i.source_id, i.published, i.lang, src.kind AS kind,
               r.relevance, r.relevant, r.topics
        FROM items i
        LEFT JOIN sources src ON src.id = i.source_id
        LEFT JOIN item_relevance r ON r.item_id = i.id
        WHERE i.published >= ? AND i.published < ? AND i.duplicate_of IS NULL
        ORDER BY i.published, i.id
        """,
        [start, end],
    )


def count_analysed(store: Store, end: str) -> int:
    """How many items published before ``end`` have a relevance decision."""
    row = store.query(
        "SELECT count(*) AS n FROM item_relevance r JOIN items i ON i.id = r.item_id WHERE i.published < ?", [end]
    )
    return int(row[0]["n"])


def fetch_signals(store: Store, week: str) -> list[dict[str, Any]]:
    """Signals born by ``week`` that still stand on their own (merged ones live on in their target)."""
    return store.query(
        "SELECT id, title, custom_title, keywords, state, status, topics, tags, first_seen, last_seen "
        "FROM signals WHERE first_seen <= ? AND merged_into IS NULL ORDER BY id",
        [week],
    )


def fetch_signal_weeks(store: Store, first: str, last: str) -> dict[int, dict[str, dict[str, Any]]]:
    """``{signal_id: {week: row}}`` for weeks ``first``..``last``."""
    out: dict[int, dict[str, dict[str, Any]]] = {}
    for r in store.query("SELECT * FROM signal_weeks WHERE week >= ? AND week <= ? ORDER BY signal_id, week",
                         [first, last]):
        out.setdefault(int(r["signal_id"]), {})[r["week"]] = r
    return out


def fetch_latest_signal_weeks(store: Store, week: str) -> dict[int, dict[str, Any]]:
    """Each signal's latest ``signal_weeks`` row at or before ``week``."""
    rows = store.query(
        """
        SELECT sw.* FROM signal_weeks sw
        JOIN (SELECT signal_id, max(week) AS week FROM signal_weeks WHERE week <= ? GROUP BY signal_id) last
          ON last.signal_id = sw.signal_id AND last.week = sw.week
        """,
        [week],
    )
    return {int(r["signal_id"]): r for r in rows}


def fetch_signal_totals(store: Store, week: str) -> dict[int, int]:
    """Items per signal over all weeks up to ``week``."""
    rows = store.query("SELECT signal_id, sum(items) AS n FROM signal_weeks WHERE week <= ? GROUP BY signal_id",
                       [week])
    return {int(r["signal_id"]): int(r["n"] or 0) for r in rows}


def fetch_signal_members(store: Store, signal_id: int, end: str) -> list[dict[str, Any]]:
    """A signal's items published before ``end``, most central first."""
    return store.query(
        """
        SELECT i.id, i.title, i.url, i.published, i.lang, i.source_id,
               COALESCE(NULLIF(src.name, ''), i.source_id) AS source_name, src.kind AS kind, si.similarity
        FROM signal_items si
        JOIN items i ON i.id = si.item_id
        LEFT JOIN sources src ON src.id = i.source_id
        WHERE si.signal_id = ? AND i.published < ?
        ORDER BY si.similarity DESC, i.published DESC, i.id
        """,
        [signal_id, end],
    )


def fetch_signal_events(store: Store, week: str) -> dict[int, list[dict[str, Any]]]:
    """Events recorded for ``week``, per signal."""
    out: dict[int, list[dict[str, Any]]] = {}
    for r in store.query("SELECT signal_id, event, detail FROM signal_events WHERE week = ? ORDER BY id", [week]):
        out.setdefault(int(r["signal_id"]), []).append(r)
    return out


def fetch_keyword_weeks(store: Store, week: str) -> list[dict[str, Any]]:
    """Keyword scores of ``week`` (for the Keyword Emergence and Issue Maps)."""
    return store.query(
        "SELECT keyword, lang, tf, df, dov, dod, dov_growth, dod_growth FROM keyword_weeks WHERE week = ? "
        "ORDER BY tf DESC, keyword",
        [week],
    )


def fetch_source_health(store: Store, start: str, end: str) -> list[dict[str, Any]]:
    """Per source: failures in ``[start, end)``, the last error, the last item before ``end`` and when
    the scanner first knew of it (earliest of creation, first fetch, first item)."""
    return store.query(
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


def fetch_digest_row(store: Store, week: str) -> dict[str, Any] | None:
    rows = store.query("SELECT * FROM digests WHERE week = ?", [week])
    return rows[0] if rows else None


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
