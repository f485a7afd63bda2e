"""The delivery log: one row per week and channel (``deliveries``, migration ``m013_deliveries``).

A channel that delivered a week is never sent that week again by the scheduled runs; one that
failed is tried again (``scanner.digest.write_due_digest``). ``scanner status`` shows the latest.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.store import Store


@dataclass
class DeliveryRow:
    """How one week's digest fared on one channel."""

    week: str
    channel: str
    kind: str  # email | webhook
    format: str | None  # teams | slack | json for a webhook
    status: str  # ok | failed
    attempts: int
    first_attempt: str
    last_attempt: str
    delivered_at: str | None
    error: str | None


COLUMNS = "week, channel, kind, format, status, attempts, first_attempt, last_attempt, delivered_at, error"


def record_delivery(store: Store, week: str, channel: str, kind: str, fmt: str | None, at: str,
                    error: str | None = None) -> None:
    """Record one try of ``week`` on ``channel``: delivered when ``error`` is ``None``, else failed."""
    status = "ok" if error is None else "failed"
    with store.transaction() as conn:
        conn.execute(
            f"INSERT INTO deliveries ({COLUMNS}) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?) "
            "ON CONFLICT(week, channel) DO UPDATE SET kind = excluded.kind, format = excluded.format, "
            "status = excluded.status, attempts = deliveries.attempts + 1, last_attempt = excluded.last_attempt, "
            "delivered_at = COALESCE(excluded.delivered_at, deliveries.delivered_at), error = excluded.error",
            (week, channel, kind, fmt, status, at, at, at if error is None else None, error),
        )


def fetch_deliveries(store: Store, week: str) -> dict[str, DeliveryRow]:
    """``{channel: row}`` for ``week``."""
    return {r.channel: r for r in _rows(store, "WHERE week = ?", [week])}


def latest_deliveries(store: Store, weeks: int = 4) -> list[DeliveryRow]:
    """The rows of the last ``weeks`` weeks that have any, newest week first, channels by name."""
    return _rows(store, "WHERE week IN (SELECT DISTINCT week FROM deliveries ORDER BY week DESC LIMIT ?)", [weeks],
                 order="week DESC, channel")


def _rows(store: Store, where: str, params: list[object], order: str = "channel") -> list[DeliveryRow]:
    rows = store.db.execute(f"SELECT {COLUMNS} FROM deliveries {where} ORDER BY {order}", params)
    return [DeliveryRow(week=w, channel=c, kind=k, format=f, status=s, attempts=int(a), first_attempt=fa,
                        last_attempt=la, delivered_at=d, error=e)
            for w, c, k, f, s, a, fa, la, d, e in rows]
