"""Where signals were published in FTSS (``scanner publish ftss``): FTSS's id of each signal, per FTSS
address. Never a token."""

from __future__ import annotations

from scanner.store import Store


def remote_ids(store: Store, base_url: str) -> dict[int, int]:
    """Our signal id → FTSS's id, for the signals already published to ``base_url`` (none when the
    database predates the table: a read-only open does not add it)."""
    if not store.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ftss_signals'").fetchone():
        return {}
    return {int(s): int(r) for s, r in store.db.execute(
        "SELECT signal_id, remote_id FROM ftss_signals WHERE base_url = ?", [base_url])}


def record_remote_id(store: Store, signal_id: int, base_url: str, remote_id: int, at: str) -> None:
    """Remember that ``signal_id`` is ``remote_id`` at ``base_url`` (first publish or an update)."""
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO ftss_signals (signal_id, base_url, remote_id, published_at, updated_at) VALUES (?,?,?,?,?) "
            "ON CONFLICT (signal_id, base_url) DO UPDATE SET remote_id = excluded.remote_id, "
            "updated_at = excluded.updated_at", (signal_id, base_url, remote_id, at, at))
