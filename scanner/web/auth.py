"""Who is asking, and may they: sessions in signed cookies, API tokens, CSRF tokens, permission checks.

- **Session cookie** ``scanner_session``: the session's random id, signed with itsdangerous
  (``URLSafeTimedSerializer``, the database's ``workspace_secret``), HttpOnly, SameSite=Lax, Secure
  over HTTPS, expiring with the session. The server keeps the session (hashed, with its expiry), so
  logout and disabling an account end it even if a copy of the cookie survives.
- **API token**: ``Authorization: Bearer scn_…`` (``scanner users token NAME``), for ``/api/`` only.
- **CSRF**: every POST form carries ``csrf_token`` = HMAC(secret, session id), or, before login, of a
  random value in the signed ``scanner_csrf`` cookie. A POST without the right token gets 403 and
  nothing is changed (``checked_form`` runs before any handler).
- **Permissions**: each route asks for one action of ``scanner.accounts.ACTIONS`` (``require``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from scanner import accounts
from scanner.store import Store
from scanner.store.users import UserRow

SESSION_COOKIE = "scanner_session"
CSRF_COOKIE = "scanner_csrf"


class NotAuthenticatedError(Exception):
    """No valid session or token: HTML pages redirect to /login, the API answers 401."""


@dataclass
class Actor:
    """The signed-in person (``sid`` is set for a browser session, empty for an API token)."""

    user: UserRow
    sid: str = ""

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def role(self) -> str:
        return self.user.role

    def can(self, action: str) -> bool:
        return accounts.allowed(self.user.role, action)


def now_of(request: Request) -> datetime:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


def get_store(request: Request) -> Iterator[Store]:
    """One connection per request: the server writes small transactions and never holds the lock."""
    store = Store.open(request.app.state.db_path)
    try:
        yield store
    finally:
        store.close()


StoreDep = Annotated[Store, Depends(get_store)]


def _serializer(request: Request, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.secret, salt=salt)


def sign_session(request: Request, sid: str) -> str:
    return _serializer(request, "session").dumps(sid)


def session_id(request: Request) -> str:
    """The session id from the signed cookie, or ``""`` (missing, forged or older than a session lives)."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return ""
    try:
        sid = _serializer(request, "session").loads(raw, max_age=int(accounts.SESSION_LIFETIME.total_seconds()))
    except BadSignature:
        return ""
    return sid if isinstance(sid, str) else ""


def login_nonce(request: Request) -> str:
    """The pre-login CSRF value: from the signed cookie, or a new one (set on the response by the app)."""
    raw = request.cookies.get(CSRF_COOKIE)
    if raw:
        try:
            value = _serializer(request, "csrf").loads(raw)
            if isinstance(value, str):
                return value
        except BadSignature:
            pass
    if not getattr(request.state, "new_nonce", ""):
        request.state.new_nonce = secrets.token_urlsafe(24)
    return str(request.state.new_nonce)


def signed_nonce(request: Request, nonce: str) -> str:
    return _serializer(request, "csrf").dumps(nonce)


def csrf_token(request: Request) -> str:
    """The token every form of this page carries: bound to the session, or before login to the nonce."""
    actor: Actor | None = getattr(request.state, "actor", None)
    key = f"session:{actor.sid}" if actor is not None and actor.sid else f"login:{login_nonce(request)}"
    return hmac.new(request.app.state.secret.encode(), key.encode(), hashlib.sha256).hexdigest()


def current_actor(request: Request, store: StoreDep) -> Actor:
    """The person behind the request: a live session cookie, or (API) a bearer token."""
    now = now_of(request)
    sid = session_id(request)
    if sid:
        user = accounts.session_user(store, sid, now)
        if user is not None:
            request.state.actor = Actor(user, sid)
            return request.state.actor  # type: ignore[no-any-return]
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer ") and request.url.path.startswith("/api/"):
        user = accounts.user_for_token(store, header[7:].strip())
        if user is not None:
            request.state.actor = Actor(user)
            return request.state.actor  # type: ignore[no-any-return]
    raise NotAuthenticatedError()


def require(action: str) -> Callable[..., Actor]:
    """A dependency: the signed-in actor, if their role may do ``action`` (else 403)."""

    def dependency(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if not actor.can(action):
            raise HTTPException(status_code=403, detail=f"your role ({actor.role}) may not {action}")
        return actor

    return dependency


async def checked_form(request: Request) -> dict[str, str]:
    """The POSTed form, after its ``csrf_token`` was checked (403 and nothing done otherwise).

    Runs before the permission check's database work; the actor, if any, was set by ``current_actor``
    (declared first on each route), so the token is compared with the one bound to its session.
    """
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    sent = values.pop("csrf_token", "")
    if not sent or not hmac.compare_digest(sent, csrf_token(request)):
        raise HTTPException(status_code=403, detail="the form's security token is missing or out of date: "
                                                    "reload the page and try again")
    return values


ActorDep = Annotated[Actor, Depends(current_actor)]
FormDep = Annotated[dict[str, str], Depends(checked_form)]
