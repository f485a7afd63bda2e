"""The permission matrix: every route × every role, allowed (and done) or 403 (and nothing changed).
The route table below must name every route the app has, so a new route cannot skip the walk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scanner.accounts import ACTIONS, ROLES
from tests.web_support import Workspace, csrf_of, make_workspace

# (method, path, action, form) in the order they are tried; merge and logout come last.
ROUTES: list[tuple[str, str, str, dict[str, str]]] = [
    ("GET", "/", "read", {}),
    ("GET", "/signals", "read", {}),
    ("GET", "/signals/1", "read", {}),
    ("GET", "/items", "read", {}),
    ("GET", "/items/3", "read", {}),
    ("GET", "/sources", "read", {}),
    ("GET", "/digests", "read", {}),
    ("GET", "/reports/2025-W12.html", "read", {}),
    ("GET", "/api/signals", "read", {}),
    ("GET", "/api/signals/1", "read", {}),
    ("GET", "/api/items", "read", {}),
    ("GET", "/api/items/3", "read", {}),
    ("POST", "/signals/1/review", "review", {"verdict": "watch", "note": "ask DGA"}),
    ("POST", "/signals/1/rename", "rename", {"title": "ThaID everywhere"}),
    ("POST", "/signals/1/rate", "rate", {"novelty": "4", "horizon": "H2", "impact": "3"}),
    ("POST", "/signals/1/comment", "comment", {"text": "seen this at the ministry too"}),
    ("POST", "/items/3/mark", "mark", {"relevant": "no", "next": "/signals/1"}),
    ("POST", "/items/3/move", "move", {"to": "2", "next": "/signals/1"}),
    ("GET", "/submit", "submit", {}),
    ("POST", "/submit", "submit", {"url": "http://127.0.0.1:1/not-allowed", "why": "partners asked"}),
    ("POST", "/signals/2/merge", "merge", {"into": "1"}),
    ("POST", "/logout", "any", {}),
]
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/lang/{code}"), ("GET", "/api/openapi.json")}



@pytest.fixture
def ws(web_base: Path, tmp_path: Path) -> Iterator[Workspace]:
    w = make_workspace(web_base, tmp_path)
    reports = w.config.reports_path
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "2025-W12.html").write_text("<!DOCTYPE html><title>digest</title>", encoding="utf-8")
    yield w
    w.close()


def changes(ws: Workspace) -> dict[str, Any]:
    with ws.store() as store:
        return {t: store.query(f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in ("audit", "reviews", "ratings",
                                                                             "comments")} | {
            "titles": store.query("SELECT id, custom_title, status FROM signals ORDER BY id")}


def test_the_table_covers_every_route_of_the_app(ws: Workspace) -> None:
    from scanner.web.api import router as api_router
    from scanner.web.pages import router as page_router

    have = set()
    for route in [*ws.app.router.routes, *api_router.routes, *page_router.routes]:
        for method in getattr(route, "methods", None) or ():
            if method in ("GET", "POST"):
                have.add((method, route.path))
    walked = {(m, p.replace("/1/", "/{signal_id}/").replace("/2/", "/{signal_id}/")
               .replace("/signals/1", "/signals/{signal_id}").replace("2025-W12.html", "{name}")
               .replace("/items/3/", "/items/{item_id}/").replace("/items/3", "/items/{item_id}"))
              for m, p, _, _ in ROUTES}
    assert have - PUBLIC == walked
    assert {a for _, _, a, _ in ROUTES} - {"any"} <= set(ACTIONS)


@pytest.mark.parametrize("role", ROLES)
def test_every_route_is_allowed_or_403_by_role(ws: Workspace, role: str) -> None:
    client = ws.login(role)
    outcome = {}
    for method, path, action, form in ROUTES:
        allowed = action == "any" or role in ACTIONS[action]
        before = changes(ws)
        if method == "GET":
            r = client.get(path, follow_redirects=False)
            expected = 200
        else:
            token = csrf_of(client.get("/signals/1").text)
            r = client.post(path, data={**form, "csrf_token": token}, follow_redirects=False)
            expected = 303
        outcome[(method, path)] = r.status_code
        if allowed:
            assert r.status_code == expected, (role, method, path, r.text[:300])
            if method == "POST" and action != "any":
                assert changes(ws) != before, (role, path, "allowed but nothing changed")
        else:
            assert r.status_code == 403, (role, method, path, r.status_code)
            assert changes(ws) == before, (role, path, "refused but something changed")
    assert len(outcome) == len(ROUTES)


def test_unauthenticated_pages_redirect_to_login_and_the_api_answers_401(ws: Workspace) -> None:
    client = ws.client()
    for method, path, _, _form in ROUTES:
        if method == "GET":
            r = client.get(path, follow_redirects=False)
            if path.startswith("/api/"):
                assert r.status_code == 401 and "error" in r.json()
            else:
                assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert client.get("/login").status_code == 200
    assert client.get("/static/workspace.css").status_code == 200
