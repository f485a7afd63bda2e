"""The workspace under test: a real signals.db (the digest fixtures' history of 700 real Thai press
releases), one account per role, the real app over HTTP (starlette's TestClient, httpx underneath),
and a clock the tests can move."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from scanner.accounts import ROLES, add_user
from scanner.clock import as_of_datetime
from scanner.config import Config
from scanner.store import Store
from scanner.web.app import create_app
from tests import digest_fixtures as fx

NOW = as_of_datetime("2025-03-26")
PASSWORDS = {role: f"{role}-pass-123" for role in ROLES}
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@dataclass
class Workspace:
    folder: Path
    db: Path
    config: Config
    clock: Clock
    app: Any
    clients: list[TestClient] = field(default_factory=list)

    def client(self) -> TestClient:
        c = TestClient(self.app, base_url="http://127.0.0.1")
        self.clients.append(c)
        return c

    def login(self, role: str, client: TestClient | None = None) -> TestClient:
        c = client or self.client()
        r = login(c, role, PASSWORDS[role])
        assert r.status_code == 303, r.text
        return c

    def store(self) -> Store:
        return Store.open(self.db)

    def close(self) -> None:
        for c in self.clients:
            c.close()


def csrf_of(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "the page has no form with a csrf_token"
    return m.group(1)


def login(client: TestClient, name: str, password: str) -> Any:
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": name, "password": password, "csrf_token": token, "next": "/"},
                       follow_redirects=False)


def post_form(client: TestClient, path: str, data: dict[str, str], page: str | None = None) -> Any:
    """POST a form as the browser would: with the csrf_token of the page it is on."""
    token = csrf_of(client.get(page or "/signals/1").text)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def make_workspace(base: Path, folder: Path, roles: tuple[str, ...] = ROLES) -> Workspace:
    store = fx.copy_db(base, folder)
    for role in roles:
        add_user(store, role, role, PASSWORDS[role], NOW, "test")
    store.close()
    config = fx.write_config(folder)
    clock = Clock()
    app = create_app(config, folder / "signals.db", clock=clock)
    return Workspace(folder, folder / "signals.db", config, clock, app)


class LiveMarkup(HTMLParser):
    """Everything in a page that a browser would run or follow: scripts, handlers, non-http(s) links."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "img", "base", "meta") and tag != "meta":
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action", "formaction") and value is not None:
                v = value.strip().lower()
                if not (v.startswith(("http://", "https://", "/", "#", "?")) or v == ""):
                    self.problems.append(f"<{tag} {name}={value!r}>")
                if v.startswith("//"):
                    self.problems.append(f"<{tag} {name}={value!r}>")


def live_markup(html: str) -> list[str]:
    p = LiveMarkup()
    p.feed(html)
    return p.problems
