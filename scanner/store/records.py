"""Digests as records: each week's digest data as it was first written (``digest_records``).

A week's record is its JSON (``scanner.digest.render.render_json``); ``scanner.digest.write_digest``
renders a written week from it again, so later analyses, merges, renames and reviews never change a
digest already written. Only ``scanner digest --rebuild`` replaces a record.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.store import Store


@dataclass
class DigestRecord:
    """One week's digest as recorded: when, and its JSON."""

    week: str
    written_at: str
    data: str  # the digest's JSON text


def fetch_digest_record(store: Store, week: str) -> DigestRecord | None:
    row = store.db.execute("SELECT week, written_at, data FROM digest_records WHERE week = ?", [week]).fetchone()
    return None if row is None else DigestRecord(week=row[0], written_at=row[1], data=row[2])


def save_digest_record(store: Store, week: str, written_at: str, data: str) -> None:
    """Record ``week``'s digest, replacing an earlier record of it (a rebuild)."""
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO digest_records (week, written_at, data) VALUES (?, ?, ?) "
            "ON CONFLICT(week) DO UPDATE SET written_at = excluded.written_at, data = excluded.data",
            (week, written_at, data),
        )
