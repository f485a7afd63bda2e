"""People's ratings of signals on the FTSS scales (novelty 1–5, horizon H1/H2/H3, impact 1–3), one per
signal and person (a new rating replaces that person's old one), and their comments. A merged
signal's rating or comment goes to the signal it joined. Each write is one short transaction with
its audit row."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from scanner.clock import iso
from scanner.errors import UsageError
from scanner.store import Store
from scanner.store.audit import record_audit
from scanner.store.reviews import get_signal
from scanner.store.signals import final_signal

HORIZONS = ("H1", "H2", "H3")  # 0–3 years, 3–7, 7–10 (FTSS)


@dataclass
class Rating:
    signal_id: int
    by: str
    novelty: int
    horizon: str
    impact: int
    rated_at: str


@dataclass
class RatingSummary:
    """The medians over everyone who rated a signal (horizon: the middle one, the lower of two)."""

    raters: int = 0
    novelty: float | None = None
    horizon: str | None = None
    impact: float | None = None
    ratings: list[Rating] = field(default_factory=list)


@dataclass
class Comment:
    id: int
    signal_id: int
    by: str
    text: str
    created_at: str


def check_rating(novelty: int, horizon: str, impact: int) -> None:
    if not 1 <= novelty <= 5:
        raise UsageError("novelty is 1 (familiar) to 5 (unheard of)")
    if horizon not in HORIZONS:
        raise UsageError("horizon is H1 (0–3 years), H2 (3–7) or H3 (7–10)")
    if not 1 <= impact <= 3:
        raise UsageError("impact is 1 (low) to 3 (high)")


def rate_signal(store: Store, signal_id: int, by: str, novelty: int, horizon: str, impact: int,
                at: datetime) -> Rating:
    """Record (or replace) ``by``'s rating of a signal."""
    check_rating(novelty, horizon, impact)
    get_signal(store, signal_id)
    target = final_signal(store, signal_id)
    now = iso(at)
    with store.transaction() as conn:
        old = conn.execute("SELECT novelty, horizon, impact FROM ratings WHERE signal_id = ? AND by = ?",
                           (target, by)).fetchone()
        conn.execute("INSERT OR REPLACE INTO ratings (signal_id, by, novelty, horizon, impact, rated_at) "
                     "VALUES (?,?,?,?,?,?)", (target, by, novelty, horizon, impact, now))
        record_audit(conn, now, by, "rate", f"signal:{target}",
                     None if old is None else {"novelty": old[0], "horizon": old[1], "impact": old[2]},
                     {"novelty": novelty, "horizon": horizon, "impact": impact})
    return Rating(target, by, novelty, horizon, impact, now)


def signal_ratings(store: Store, signal_id: int) -> RatingSummary:
    rows = [Rating(*r) for r in store.db.execute(
        "SELECT signal_id, by, novelty, horizon, impact, rated_at FROM ratings WHERE signal_id = ? ORDER BY by",
        (signal_id,))]
    return summarise_ratings(rows)


def summarise_ratings(rows: list[Rating]) -> RatingSummary:
    if not rows:
        return RatingSummary()
    return RatingSummary(raters=len(rows), novelty=float(statistics.median(r.novelty for r in rows)),
                         horizon=statistics.median_low(sorted(r.horizon for r in rows)),
                         impact=float(statistics.median(r.impact for r in rows)), ratings=rows)


def all_rating_summaries(store: Store, until: str | None = None) -> dict[int, RatingSummary]:
    """Every rated signal's summary (the signals list shows and filters by it); with ``until``, only
    the ratings given up to then (a digest applies the analysts' input up to the time it is written)."""
    per: dict[int, list[Rating]] = {}
    sql = "SELECT signal_id, by, novelty, horizon, impact, rated_at FROM ratings"
    for r in store.db.execute(sql + (" WHERE rated_at <= ?" if until else ""), (until,) if until else ()):
        per.setdefault(int(r[0]), []).append(Rating(*r))
    return {sid: summarise_ratings(rows) for sid, rows in per.items()}


def add_comment(store: Store, signal_id: int, by: str, text: str, at: datetime) -> Comment:
    text = (text or "").strip()
    if not text:
        raise UsageError("the comment is empty")
    get_signal(store, signal_id)
    target = final_signal(store, signal_id)
    now = iso(at)
    with store.transaction() as conn:
        cur = conn.execute("INSERT INTO comments (signal_id, by, text, created_at) VALUES (?,?,?,?)",
                           (target, by, text, now))
        record_audit(conn, now, by, "comment", f"signal:{target}", None, {"text": text})
    return Comment(int(cur.lastrowid or 0), target, by, text, now)


def signal_comments(store: Store, signal_id: int) -> list[Comment]:
    return [Comment(*r) for r in store.db.execute(
        "SELECT id, signal_id, by, text, created_at FROM comments WHERE signal_id = ? ORDER BY id", (signal_id,))]
