"""The audit trail: who changed what, when, from what to what. One row per change a person makes
(a verdict, a rename, a merge, a rating, a comment, an account or token change), written in the same
transaction as the change itself, so a change and its audit row are stored together or not at all.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from scanner.store import Store


@dataclass
class AuditRow:
    id: int
    at: str
    by: str
    action: str
    target: str
    before: Any
    after: Any


def record_audit(conn: sqlite3.Connection, at: str, by: str, action: str, target: str,
                 before: Any = None, after: Any = None) -> None:
    """Write one audit row inside the caller's open transaction (``Store.transaction``)."""
    conn.execute("INSERT INTO audit (at, by, action, target, before, after) VALUES (?,?,?,?,?,?)",
                 (at, by, action, target, json.dumps(before, ensure_ascii=False, default=str),
                  json.dumps(after, ensure_ascii=False, default=str)))


def audit_rows(store: Store, targets: list[str] | None = None, limit: int = 200) -> list[AuditRow]:
    """Audit rows, newest first: all of them, or those about ``targets`` (``signal:12`` …)."""
    sql = "SELECT id, at, by, action, target, before, after FROM audit"
    params: list[Any] = []
    if targets is not None:
        if not targets:
            return []
        sql += f" WHERE target IN ({','.join('?' for _ in targets)})"
        params.extend(targets)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(limit)
    return [AuditRow(i, at, by, action, target, _load(b), _load(a))
            for i, at, by, action, target, b, a in store.db.execute(sql, params)]


def _load(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text
