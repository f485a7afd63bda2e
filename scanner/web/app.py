"""The ASGI app behind ``scanner serve``: FastAPI routes, Jinja templates, security headers, and the
rule for running beside the scheduler.

**The write rule** (``scanner.lock``, rule 2): the server never takes the database lock that
``scanner schedule``/``analyse``/``fetch``/``digest`` hold, and every change a person makes (a
verdict, a rename, a merge, a rating, a comment, a login) is one short SQLite transaction, through
the same library function the CLI uses. While a long job works, such a write waits only for the
job's current transaction to commit (SQLite's busy timeout); it is then stored, or refused with a
message (503), never lost. The long job never waits for the server longer than one such
transaction, so the scheduler never fails because of it. Pages only read.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from scanner.clock import now_utc
from scanner.config import Config
from scanner.errors import ScannerError, StoreError, UsageError
from scanner.store import Store
from scanner.store.users import count_admins, workspace_secret
from scanner.web.auth import CSRF_COOKIE, NotAuthenticatedError, signed_nonce

logger = logging.getLogger(__name__)

CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,  # no inline script anywhere; styles only from the app (and the digest's own)
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}
STATIC = Path(__file__).parent / "static"


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if request.url.path != "/static" and not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        nonce = getattr(request.state, "new_nonce", "")
        if nonce:  # the pre-login CSRF value a form on this page was given
            response.set_cookie(CSRF_COOKIE, signed_nonce(request, nonce), httponly=True, samesite="lax",
                                secure=request.url.scheme == "https", path="/")
        return response


def create_app(config: Config, db_path: Path, clock: Callable[[], datetime] = now_utc) -> FastAPI:
    """The workspace over ``db_path`` (migrated here, once); ``clock`` is "now" (tests move it)."""
    from scanner.web.api import router as api_router
    from scanner.web.pages import router as page_router

    with Store.open(db_path) as store:
        secret = workspace_secret(store)
    app = FastAPI(title="scanner workspace", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.config = config
    app.state.db_path = db_path
    app.state.clock = clock
    app.state.secret = secret
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(api_router)
    app.include_router(page_router)

    @app.exception_handler(NotAuthenticatedError)
    async def _unauthenticated(request: Request, exc: NotAuthenticatedError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "sign in, or send Authorization: Bearer TOKEN"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        return _error(request, exc.status_code, str(exc.detail))

    @app.exception_handler(UsageError)
    async def _usage(request: Request, exc: UsageError) -> Response:
        return _error(request, 400, str(exc))

    @app.exception_handler(StoreError)
    async def _busy(request: Request, exc: StoreError) -> Response:
        return _error(request, 503, str(exc))

    @app.exception_handler(ScannerError)
    async def _scanner(request: Request, exc: ScannerError) -> Response:
        return _error(request, 400, str(exc))

    return app


def _error(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    from scanner.web.pages import render

    return render(request, "error.html.j2", {"status": status, "message": message}, status=status)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(store: Store, host: str, allow_remote: bool) -> list[str]:
    """Refuse a non-loopback address without ``--allow-remote`` and an admin account; return warnings."""
    if is_loopback(host):
        return []
    if not allow_remote:
        raise UsageError(f"{host} is reachable from other machines: add --allow-remote (and put the workspace "
                         "behind an HTTPS reverse proxy, see docs/workspace.md), or bind 127.0.0.1")
    if count_admins(store) == 0:
        raise UsageError("serving other machines needs an admin account first: "
                         "`scanner users add NAME --role admin`")
    return [f"serving {host}: put it behind an HTTPS reverse proxy (nginx or Caddy, see docs/workspace.md); "
            "passwords and session cookies must not cross the network in clear"]


def serve(config: Config, db_path: Path, host: str, port: int, allow_remote: bool,
          on_start: Callable[[str], Any] = print) -> None:
    """``scanner serve``: check the address, then run the app under uvicorn until interrupted."""
    import uvicorn

    with Store.open(db_path) as store:
        warnings = check_bind(store, host, allow_remote)
    for w in warnings:
        on_start(w)
    app = create_app(config, db_path)
    on_start(f"workspace on http://{host}:{port}/ (database {db_path}); stop with Ctrl-C")
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True)
