"""Queries for the workspace's accounts: users, API tokens, sessions, login failures and the signing
secret. Only hashes are stored (argon2 for passwords, sha256 for tokens and session ids); the rules
(roles, throttling, expiry) live in ``scanner.accounts``. Every write is one short transaction and
each account change writes its audit row in the same transaction."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from scanner.store import Store
from scanner.store.audit import record_audit


@dataclass
class UserRow:
    id: int
    name: str
    role: str
    password_hash: str | None
    disabled: bool
    created_at: str


USER_COLUMNS = "id, name, role, password_hash, disabled, created_at"


def _user(row: tuple[object, ...] | None) -> UserRow | None:
    if row is None:
        return None
    i, name, role, ph, disabled, created = row
    return UserRow(int(str(i)), str(name), str(role), None if ph is None else str(ph), bool(disabled), str(created))


def find_user(store: Store, name: str) -> UserRow | None:
    """The account called ``name`` (case-insensitive), or ``None``."""
    return _user(store.db.execute(f"SELECT {USER_COLUMNS} FROM users WHERE name = ?", (name,)).fetchone())


def user_by_id(store: Store, user_id: int) -> UserRow | None:
    return _user(store.db.execute(f"SELECT {USER_COLUMNS} FROM users WHERE id = ?", (user_id,)).fetchone())


def list_users(store: Store) -> list[UserRow]:
    rows = store.db.execute(f"SELECT {USER_COLUMNS} FROM users ORDER BY name").fetchall()
    return [u for u in (_user(r) for r in rows) if u is not None]


def count_admins(store: Store) -> int:
    return int(store.db.execute("SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0").fetchone()[0])


def insert_user(store: Store, name: str, role: str, password_hash: str, at: str, by: str) -> int:
    with store.transaction() as conn:
        cur = conn.execute("INSERT INTO users (name, role, password_hash, created_at) VALUES (?,?,?,?)",
                           (name, role, password_hash, at))
        record_audit(conn, at, by, "user.add", f"user:{name}", None, {"role": role})
    return int(cur.lastrowid or 0)


def update_role(store: Store, user: UserRow, role: str, at: str, by: str) -> None:
    with store.transaction() as conn:
        conn.execute("UPDATE users SET role = ? WHERE id = ?", (role, user.id))
        record_audit(conn, at, by, "user.role", f"user:{user.name}", {"role": user.role}, {"role": role})


def disable(store: Store, user: UserRow, at: str, by: str) -> None:
    """Disable the account and end its sessions and tokens at once."""
    with store.transaction() as conn:
        conn.execute("UPDATE users SET disabled = 1 WHERE id = ?", (user.id,))
        conn.execute("UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL", (at, user.id))
        conn.execute("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", (at, user.id))
        record_audit(conn, at, by, "user.disable", f"user:{user.name}", {"disabled": user.disabled},
                     {"disabled": True})


def insert_token(store: Store, user: UserRow, token_hash: str, at: str, by: str) -> int:
    with store.transaction() as conn:
        cur = conn.execute("INSERT INTO api_tokens (user_id, token_hash, created_at) VALUES (?,?,?)",
                           (user.id, token_hash, at))
        token_id = int(cur.lastrowid or 0)
        record_audit(conn, at, by, "token.add", f"user:{user.name}", None, {"token_id": token_id})
    return token_id


def revoke_tokens(store: Store, user: UserRow, at: str, by: str) -> int:
    with store.transaction() as conn:
        cur = conn.execute("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                           (at, user.id))
        record_audit(conn, at, by, "token.revoke", f"user:{user.name}", None, {"revoked": cur.rowcount})
    return int(cur.rowcount)


def user_for_token(store: Store, token_hash: str) -> UserRow | None:
    """The enabled account holding this unrevoked token."""
    return _user(store.db.execute(
        f"SELECT {', '.join('u.' + c.strip() for c in USER_COLUMNS.split(','))} FROM api_tokens t "
        "JOIN users u ON u.id = t.user_id WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.disabled = 0",
        (token_hash,)).fetchone())


def insert_session(store: Store, session_hash: str, user_id: int, at: str, expires_at: str) -> None:
    with store.transaction() as conn:
        conn.execute("INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?,?,?,?)",
                     (session_hash, user_id, at, expires_at))
        conn.execute("DELETE FROM login_failures WHERE name = (SELECT lower(name) FROM users WHERE id = ?)",
                     (user_id,))


def user_for_session(store: Store, session_hash: str, now: str) -> UserRow | None:
    """The enabled account of a live session (not ended, not expired at ``now``)."""
    return _user(store.db.execute(
        f"SELECT {', '.join('u.' + c.strip() for c in USER_COLUMNS.split(','))} FROM sessions s "
        "JOIN users u ON u.id = s.user_id WHERE s.id = ? AND s.ended_at IS NULL AND s.expires_at > ? "
        "AND u.disabled = 0", (session_hash, now)).fetchone())


def end_session(store: Store, session_hash: str, at: str) -> None:
    with store.transaction() as conn:
        conn.execute("UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL", (at, session_hash))


def add_login_failure(store: Store, name: str, at: str) -> None:
    with store.transaction() as conn:
        conn.execute("INSERT INTO login_failures (name, at) VALUES (?, ?)", (name.lower(), at))


def login_failures_since(store: Store, name: str, since: str) -> list[str]:
    """When ``name`` failed to log in since ``since``, oldest first."""
    return [r[0] for r in store.db.execute(
        "SELECT at FROM login_failures WHERE name = ? AND at >= ? ORDER BY at", (name.lower(), since))]


def workspace_secret(store: Store) -> str:
    """The key that signs cookies, made once per database (so restarting the server keeps sessions)."""
    row = store.db.execute("SELECT secret FROM workspace_secret WHERE id = 1").fetchone()
    if row:
        return str(row[0])
    with store.transaction() as conn:
        conn.execute("INSERT OR IGNORE INTO workspace_secret (id, secret) VALUES (1, ?)", (secrets.token_hex(32),))
        return str(conn.execute("SELECT secret FROM workspace_secret WHERE id = 1").fetchone()[0])
