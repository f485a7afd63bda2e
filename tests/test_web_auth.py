"""Accounts and security over real HTTP: login, sessions, CSRF, throttling, tokens, headers, binding."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner import accounts
from scanner.cli import cli
from scanner.errors import UsageError
from scanner.store import Store
from scanner.web.app import check_bind
from scanner.web.auth import SESSION_COOKIE
from tests import digest_fixtures as fx
from tests.web_support import NOW, PASSWORDS, Workspace, csrf_of, login


def reviews(ws: Workspace) -> int:
    with ws.store() as store:
        return int(store.query("SELECT count(*) AS n FROM reviews")[0]["n"])


def test_passwords_are_stored_only_as_argon2_hashes(ws: Workspace) -> None:
    with ws.store() as store:
        rows = store.query("SELECT name, password_hash FROM users")
        dump = "\n".join(store.db.conn.iterdump())
    assert rows and all(r["password_hash"].startswith("$argon2id$") for r in rows)
    assert not any(pw in dump for pw in PASSWORDS.values())


def test_login_sets_a_signed_httponly_lax_cookie_and_logout_ends_the_session(ws: Workspace) -> None:
    client = ws.client()
    r = login(client, "curator", PASSWORDS["curator"])
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"].lower()
    assert cookie.startswith(SESSION_COOKIE) and "httponly" in cookie and "samesite=lax" in cookie
    assert "max-age=" in cookie
    stolen = client.cookies.get(SESSION_COOKIE)
    assert client.get("/signals", follow_redirects=False).status_code == 200
    r = client.post("/logout", data={"csrf_token": csrf_of(client.get("/signals").text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    other = ws.client()
    other.cookies.set(SESSION_COOKIE, stolen or "")
    assert other.get("/signals", follow_redirects=False).status_code == 303  # ended on the server


def test_a_forged_or_expired_session_is_not_accepted(ws: Workspace) -> None:
    client = ws.login("viewer")
    good = client.cookies.get(SESSION_COOKIE) or ""
    forged = ws.client()
    forged.cookies.set(SESSION_COOKIE, good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"))
    assert forged.get("/signals", follow_redirects=False).status_code == 303
    ws.clock.advance(hours=12, minutes=1)
    assert client.get("/signals", follow_redirects=False).status_code == 303


def test_wrong_password_and_unknown_user_are_refused_alike(ws: Workspace) -> None:
    a = login(ws.client(), "curator", "wrong password")
    b = login(ws.client(), "nobody", "wrong password")
    assert a.status_code == b.status_code == 401
    assert SESSION_COOKIE not in a.headers.get("set-cookie", "")


def test_a_post_without_a_valid_csrf_token_is_403_and_changes_nothing(ws: Workspace) -> None:
    client = ws.login("curator")
    before = reviews(ws)
    form = {"verdict": "watch", "note": "x"}
    assert client.post("/signals/1/review", data=form, follow_redirects=False).status_code == 403
    assert client.post("/signals/1/review", data={**form, "csrf_token": "0" * 64},
                       follow_redirects=False).status_code == 403
    other = ws.login("admin")  # a valid token, but of another session
    token = csrf_of(other.get("/signals/1").text)
    assert client.post("/signals/1/review", data={**form, "csrf_token": token},
                       follow_redirects=False).status_code == 403
    assert reviews(ws) == before
    token = csrf_of(client.get("/signals/1").text)
    assert client.post("/signals/1/review", data={**form, "csrf_token": token},
                       follow_redirects=False).status_code == 303
    assert reviews(ws) == before + 1


def test_login_itself_needs_the_forms_csrf_token(ws: Workspace) -> None:
    client = ws.client()
    r = client.post("/login", data={"username": "admin", "password": PASSWORDS["admin"]}, follow_redirects=False)
    assert r.status_code == 403 and SESSION_COOKIE not in r.headers.get("set-cookie", "")


def test_five_failures_lock_the_user_out_for_fifteen_minutes(ws: Workspace) -> None:
    client = ws.client()
    client.cookies.set("lang", "en")
    for _ in range(accounts.MAX_FAILURES):
        assert login(client, "curator", "guess").status_code == 401
    r = login(client, "curator", PASSWORDS["curator"])  # the right password, refused
    assert r.status_code == 429 and "15 minutes" in r.text
    assert login(ws.client(), "admin", PASSWORDS["admin"]).status_code == 303  # other users are not affected
    ws.clock.advance(minutes=14)
    assert login(client, "curator", PASSWORDS["curator"]).status_code == 429
    ws.clock.advance(minutes=1, seconds=1)
    assert login(client, "curator", PASSWORDS["curator"]).status_code == 303


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(ws: Workspace) -> None:
    client = ws.client()
    for _ in range(accounts.MAX_FAILURES):
        assert login(client, "viewer", "guess").status_code == 401
        ws.clock.advance(minutes=4)
    assert login(client, "viewer", PASSWORDS["viewer"]).status_code == 303


def test_security_headers_on_every_page(ws: Workspace) -> None:
    client = ws.login("viewer")
    for path in ("/login", "/", "/signals", "/signals/1", "/items", "/api/signals", "/static/workspace.css"):
        r = client.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"


def test_api_tokens_work_for_the_api_only_and_stop_when_revoked(ws: Workspace) -> None:
    with ws.store() as store:
        token = accounts.issue_token(store, "viewer", NOW, "test")
        stored = store.query("SELECT token_hash FROM api_tokens")[0]["token_hash"]
    assert token not in stored
    client = ws.client()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/signals", headers=auth).status_code == 200
    assert client.get("/api/signals/1", headers=auth).json()["signal"]["id"] == 1
    assert client.get("/signals", headers=auth, follow_redirects=False).status_code == 303  # pages need a session
    assert client.get("/api/signals", headers={"Authorization": "Bearer scn_nope"}).status_code == 401
    with ws.store() as store:
        accounts.revoke_tokens(store, "viewer", NOW, "test")
    assert client.get("/api/signals", headers=auth).status_code == 401


def test_disabling_a_user_ends_their_sessions_at_once(ws: Workspace) -> None:
    client = ws.login("contributor")
    with ws.store() as store:
        accounts.disable_user(store, "contributor", NOW, "test")
    assert client.get("/signals", follow_redirects=False).status_code == 303
    assert login(ws.client(), "contributor", PASSWORDS["contributor"]).status_code == 401


def test_binding_beyond_loopback_needs_allow_remote_and_an_admin(tmp_path: Path) -> None:
    with Store.open(tmp_path / "signals.db") as store:
        assert check_bind(store, "127.0.0.1", False) == []
        assert check_bind(store, "::1", False) == []
        with pytest.raises(UsageError, match="--allow-remote"):
            check_bind(store, "0.0.0.0", False)
        with pytest.raises(UsageError, match="admin account"):
            check_bind(store, "0.0.0.0", True)
        accounts.add_user(store, "boss", "admin", "long enough pw", NOW, "test")
        warnings = check_bind(store, "0.0.0.0", True)
    assert warnings and "reverse proxy" in warnings[0]


def test_serve_refuses_a_remote_address_without_allow_remote(tmp_path: Path) -> None:
    fx.write_config(tmp_path)
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "sources.yaml"), "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "--allow-remote" in result.output


def test_users_cli_add_list_set_role_disable_token(tmp_path: Path) -> None:
    fx.write_config(tmp_path)
    cfg = ["--config", str(tmp_path / "sources.yaml")]
    runner = CliRunner()
    r = runner.invoke(cli, [*cfg, "users", "add", "somchai", "--role", "curator", "--password-stdin", "--by", "ann"],
                      input="a secret password\n")
    assert r.exit_code == 0 and r.output == "added somchai (curator)\n"
    r = runner.invoke(cli, [*cfg, "users", "add", "malee", "--role", "viewer", "--by", "ann"],
                      input="another password\nanother password\n")
    assert r.exit_code == 0, r.output
    assert "another password" not in r.output
    r = runner.invoke(cli, [*cfg, "users", "add", "x", "--role", "viewer", "--password-stdin"], input="short\n")
    assert r.exit_code == 2 and "too short" in r.output
    r = runner.invoke(cli, [*cfg, "users", "set-role", "malee", "contributor", "--by", "ann"])
    assert r.output == "malee is now contributor\n"
    r = runner.invoke(cli, [*cfg, "users", "token", "somchai", "--by", "ann"])
    token = r.stdout.strip().splitlines()[0]
    assert r.exit_code == 0 and token.startswith("scn_")
    r = runner.invoke(cli, [*cfg, "users", "disable", "somchai", "--by", "ann"])
    assert r.exit_code == 0
    r = runner.invoke(cli, [*cfg, "users", "list", "--format", "json"])
    assert '"somchai"' in r.output and "a secret password" not in r.output and token not in r.output
    with Store.open(tmp_path / "signals.db") as store:
        assert accounts.user_for_token(store, token) is None
        actions = [r["action"] for r in store.query("SELECT action FROM audit WHERE by = 'ann' ORDER BY id")]
    assert actions == ["user.add", "user.add", "user.role", "token.add", "user.disable"]
