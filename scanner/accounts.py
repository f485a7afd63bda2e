"""Workspace accounts: roles and what each may do, passwords, API tokens, sessions and login
throttling. The one place these rules live; ``scanner users`` and ``scanner serve`` both call it.

- Passwords are hashed with argon2id (argon2-cffi) and never stored, logged or echoed in clear.
- API tokens are random, shown once, stored as their sha256, revocable (``revoke_tokens``).
- Sessions: a random id, stored as its sha256 with an expiry; the browser holds the id in a signed
  cookie (``scanner.web.auth``). Logout or disabling the account ends it on the server.
- Throttling: after ``MAX_FAILURES`` failed logins for a user name within ``FAILURE_WINDOW``,
  every attempt for that name is refused for ``LOCKOUT`` (even with the right password).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from scanner.clock import iso, parse_iso
from scanner.errors import UsageError
from scanner.store import Store
from scanner.store import users as q
from scanner.store.users import UserRow

logger = logging.getLogger(__name__)

ROLES = ("admin", "curator", "contributor", "viewer")

# The permission table: role × action. Every route names one action; nothing else decides access.
ACTIONS: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),                                   # every page and GET of the API
    "rate": frozenset({"admin", "curator", "contributor"}),      # FTSS ratings
    "comment": frozenset({"admin", "curator", "contributor"}),   # a note without a verdict
    "submit": frozenset({"admin", "curator", "contributor"}),    # a URL and why it matters
    "review": frozenset({"admin", "curator"}),                   # verdict keep/watch/dismiss with a note
    "rename": frozenset({"admin", "curator"}),
    "merge": frozenset({"admin", "curator"}),
    "mark": frozenset({"admin", "curator"}),                     # an item "relevant" / "not relevant" (a label)
    "move": frozenset({"admin", "curator"}),                     # an item to another signal or out (a label)
    "admin": frozenset({"admin"}),                               # accounts
}

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD = 8

_hasher = PasswordHasher()


def allowed(role: str, action: str) -> bool:
    """May ``role`` do ``action``? Unknown actions are refused."""
    return role in ACTIONS.get(action, frozenset())


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return role


def _get(store: Store, name: str) -> UserRow:
    user = q.find_user(store, name)
    if user is None:
        raise UsageError(f"no user called {name!r}: list them with `scanner users list`")
    return user


def add_user(store: Store, name: str, role: str, password: str, now: datetime, by: str) -> UserRow:
    """Create an account; the password is kept only as its argon2 hash."""
    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise UsageError("a user name is 1–64 characters without spaces")
    check_role(role)
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    if q.find_user(store, name) is not None:
        raise UsageError(f"there is already a user called {name!r}")
    q.insert_user(store, name, role, _hasher.hash(password), iso(now), by)
    return _get(store, name)


def set_role(store: Store, name: str, role: str, now: datetime, by: str) -> UserRow:
    user = _get(store, name)
    q.update_role(store, user, check_role(role), iso(now), by)
    return _get(store, name)


def disable_user(store: Store, name: str, now: datetime, by: str) -> UserRow:
    """Disable an account: its sessions end and its tokens stop working at once."""
    user = _get(store, name)
    q.disable(store, user, iso(now), by)
    return _get(store, name)


def hash_secret(value: str) -> str:
    """How tokens and session ids are stored: sha256 (they are long random values, so no salt is needed)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def issue_token(store: Store, name: str, now: datetime, by: str) -> str:
    """A new API token for ``name``, returned once (only its hash is stored)."""
    user = _get(store, name)
    if user.disabled:
        raise UsageError(f"{name} is disabled")
    token = "scn_" + secrets.token_urlsafe(32)
    q.insert_token(store, user, hash_secret(token), iso(now), by)
    return token


def revoke_tokens(store: Store, name: str, now: datetime, by: str) -> int:
    return q.revoke_tokens(store, _get(store, name), iso(now), by)


def user_for_token(store: Store, token: str) -> UserRow | None:
    return q.user_for_token(store, hash_secret(token)) if token else None


def locked_until(store: Store, name: str, now: datetime) -> datetime | None:
    """When the lockout of ``name`` ends, if it is locked out at ``now``.

    Locked: ``MAX_FAILURES`` failures within ``FAILURE_WINDOW`` of each other, the last of them less
    than ``LOCKOUT`` ago. Refused attempts are not failures, so a lockout never extends itself.
    """
    since = now - FAILURE_WINDOW - LOCKOUT
    times = [parse_iso(t) for t in q.login_failures_since(store, name, iso(since))]
    until: datetime | None = None
    for i in range(MAX_FAILURES - 1, len(times)):
        if times[i] - times[i - MAX_FAILURES + 1] <= FAILURE_WINDOW:
            end = times[i] + LOCKOUT
            if end > now and (until is None or end > until):
                until = end
    return until


@dataclass
class LoginResult:
    user: UserRow | None = None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None


def authenticate(store: Store, name: str, password: str, now: datetime) -> LoginResult:
    """Check a name and password, with throttling; a failure is recorded (a known name or not)."""
    name = (name or "").strip()[:64]
    until = locked_until(store, name, now)
    if until is not None:
        logger.warning("login refused for a locked-out user name until %s", iso(until))
        return LoginResult(locked_until=until)
    user = q.find_user(store, name) if name else None
    ok = False
    if user is not None and not user.disabled and user.password_hash:
        try:
            ok = _hasher.verify(user.password_hash, password or "")
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        try:  # the same work for an unknown name, so timing does not tell which names exist
            _hasher.verify(_DUMMY, password or "")
        except (VerificationError, InvalidHashError):
            pass
    if not ok or user is None:
        q.add_login_failure(store, name or "-", iso(now))
        return LoginResult()  # the next attempt learns whether this one locked the name out
    return LoginResult(user=user)


_DUMMY = _hasher.hash("not a password of anyone")


def start_session(store: Store, user: UserRow, now: datetime) -> str:
    """A new session for ``user``: returns its random id (the cookie carries it, signed)."""
    sid = secrets.token_urlsafe(32)
    q.insert_session(store, hash_secret(sid), user.id, iso(now), iso(now + SESSION_LIFETIME))
    return sid


def session_user(store: Store, sid: str, now: datetime) -> UserRow | None:
    return q.user_for_session(store, hash_secret(sid), iso(now)) if sid else None


def end_session(store: Store, sid: str, now: datetime) -> None:
    q.end_session(store, hash_secret(sid), iso(now))
