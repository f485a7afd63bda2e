"""Labels: what analysts taught the engine about single items (the ``item_labels`` table).

Two kinds, each written with its audit row in one short transaction:

- **relevance** (``relevant`` | ``not_relevant``): a curator's mark, or a submission (always
  ``relevant``). The next ``scanner analyse`` follows it (``scanner.store.relevance.save_relevance``
  applies it where the decision is stored) and the relevance model learns from it (labelled
  neighbours vote, ``scanner.analysis.relevance``).
- **signal** (a signal id | ``out``): a curator moved the item. The move is done at once in
  ``signal_items``, and tracking pins the item there in every later run (``track_signals(pinned=)``);
  an item moved ``out`` is never assigned again.

Rows are never rewritten: the latest row of an item and kind is the one that counts, the older ones
are its history.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from scanner.clock import iso, iso_week
from scanner.errors import UsageError
from scanner.store import Store, chunked, placeholders
from scanner.store.audit import record_audit
from scanner.store.signals import final_signal, merged_into_map

RELEVANT = "relevant"
NOT_RELEVANT = "not_relevant"
OUT = "out"


@dataclass(frozen=True)
class Label:
    id: int
    item_id: int
    kind: str
    value: str
    by: str
    at: str

    @property
    def relevant(self) -> bool:
        return self.value == RELEVANT


def insert_label(conn: sqlite3.Connection, item_id: int, kind: str, value: str, by: str, at: str) -> None:
    """Write one label inside the caller's open transaction."""
    conn.execute("INSERT INTO item_labels (item_id, kind, value, by, at) VALUES (?,?,?,?,?)",
                 (item_id, kind, value, by, at))


def _item_exists(store: Store, item_id: int) -> None:
    if store.db.execute("SELECT 1 FROM items WHERE id = ?", (item_id,)).fetchone() is None:
        raise UsageError(f"no item with id {item_id} (see `scanner items` for ids)")


def latest_labels(store: Store, kind: str, item_ids: Sequence[int] | None = None) -> dict[int, Label]:
    """The label that counts for each item of ``kind``: all items, or ``item_ids``."""
    sql = ("SELECT l.id, l.item_id, l.kind, l.value, l.by, l.at FROM item_labels l WHERE l.kind = ? AND l.id = "
           "(SELECT max(id) FROM item_labels m WHERE m.item_id = l.item_id AND m.kind = l.kind)")
    if item_ids is None:
        return {int(r[1]): Label(*r) for r in store.db.execute(sql, (kind,))}
    out: dict[int, Label] = {}
    for chunk in chunked(list(dict.fromkeys(item_ids))):
        for r in store.db.execute(sql + f" AND l.item_id IN ({placeholders(chunk)})", (kind, *chunk)):
            out[int(r[1])] = Label(*r)
    return out


def label_stamp(store: Store) -> int:
    """Changes whenever a relevance label is added: part of the relevance model key, so the next run
    rescores the window with the labels it has now."""
    row = store.db.execute("SELECT coalesce(max(id), 0) FROM item_labels WHERE kind = 'relevance'").fetchone()
    return int(row[0])


def mark_item(store: Store, item_id: int, relevant: bool, now: datetime, by: str) -> None:
    """An analyst's relevance mark; the next ``analyse`` follows it and learns from it."""
    _item_exists(store, item_id)
    value = RELEVANT if relevant else NOT_RELEVANT
    before = latest_labels(store, "relevance", [item_id]).get(item_id)
    with store.transaction() as conn:
        insert_label(conn, item_id, "relevance", value, by, iso(now))
        record_audit(conn, iso(now), by, "mark", f"item:{item_id}", before.value if before else None, value)


def move_item(store: Store, item_id: int, to: int | None, now: datetime, tz: str = "Asia/Bangkok",
              by: str = "analyst") -> int | None:
    """Move an item to signal ``to`` (``None``: out of all signals), now and in every later run.

    An item the analyst puts in a signal is relevant: unless it already carries a "relevant" mark,
    the move also marks it so (otherwise an item the model had left out would drop out of the
    signal at the next analysis). Moving an item out of all signals says nothing about relevance.
    Returns the signal it was in before (``None``: none)."""
    _item_exists(store, item_id)
    target = None if to is None else final_signal(store, to)
    if target is not None and store.db.execute("SELECT 1 FROM signals WHERE id = ?", (target,)).fetchone() is None:
        raise UsageError(f"no signal with id {to} (see `scanner signals` for ids)")
    row = store.db.execute("SELECT signal_id FROM signal_items WHERE item_id = ?", (item_id,)).fetchone()
    old = int(row[0]) if row else None
    relevance = latest_labels(store, "relevance", [item_id]).get(item_id)
    stamp, week = iso(now), iso_week(now, tz)
    with store.transaction() as conn:
        insert_label(conn, item_id, "signal", OUT if target is None else str(target), by, stamp)
        if target is not None and (relevance is None or relevance.value != RELEVANT):
            insert_label(conn, item_id, "relevance", RELEVANT, by, stamp)
            record_audit(conn, stamp, by, "mark", f"item:{item_id}", relevance.value if relevance else None,
                         RELEVANT)
        if target is None:
            conn.execute("DELETE FROM signal_items WHERE item_id = ?", (item_id,))
        elif target != old:
            conn.execute(
                "INSERT INTO signal_items (item_id, signal_id, similarity, assigned_week) VALUES (?,?,0,?) "
                "ON CONFLICT(item_id) DO UPDATE SET signal_id = excluded.signal_id, "
                "assigned_week = excluded.assigned_week", (item_id, target, week))
            conn.execute("INSERT INTO signal_item_history (item_id, signal_id, week, assigned_at) VALUES (?,?,?,?)",
                         (item_id, target, week, stamp))
        record_audit(conn, stamp, by, "move", f"item:{item_id}", {"signal": old}, {"signal": target})
    return old


def pinned_items(store: Store, item_ids: Sequence[int] | None = None) -> dict[int, int | None]:
    """Items an analyst placed: item id → signal id (through merges), or ``None`` (moved out)."""
    out: dict[int, int | None] = {}
    alias = merged_into_map(store)
    for item_id, label in latest_labels(store, "signal", item_ids).items():
        out[item_id] = None if label.value == OUT else alias.get(int(label.value), int(label.value))
    return out


def labelled_relevance(store: Store) -> dict[int, bool]:
    """Every item's relevance label that counts: item id → relevant."""
    return {i: lab.relevant for i, lab in latest_labels(store, "relevance").items()}


__all__ = ["OUT", "Label", "latest_labels", "mark_item", "move_item", "pinned_items"]
