"""Item marks, moves and submissions through the real app over HTTP, on a real signals.db, with a
real local web server for the submitted page (nothing leaves 127.0.0.1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from scanner.store.labels import latest_labels, pinned_items
from tests.web_support import Workspace, csrf_of, live_markup, make_workspace, post_form

ARTICLE = """<!DOCTYPE html><html lang="th"><head><meta charset="utf-8"><title>ThaID ขยายบริการ</title></head>
<body><nav>หน้าแรก | ข่าว</nav><article><h1>ThaID ขยายบริการ</h1>
<p>กรมการปกครองประกาศขยายบริการแอปพลิเคชัน ThaID ให้ประชาชนยืนยันตัวตนทางดิจิทัลได้ที่หน่วยงานรัฐทุกแห่ง
ตั้งแต่เดือนหน้า โดยไม่ต้องใช้สำเนาบัตรประชาชนอีกต่อไป ซึ่งจะช่วยลดเอกสารและเวลาการติดต่อราชการ</p>
<p>ผู้บริหารกล่าวว่าระบบนี้เชื่อมโยงกับบริการภาครัฐออนไลน์กว่าสองร้อยบริการ และจะเพิ่มขึ้นอีกภายในปีนี้</p>
</article></body></html>"""
PAYLOAD = '<script>alert("why")</script><img src=x onerror=alert(1)>'



@pytest.fixture
def ws(web_base: Path, tmp_path: Path) -> Iterator[Workspace]:
    w = make_workspace(web_base, tmp_path)
    settings = w.config.settings.model_copy(update={"allow_hosts": ["127.0.0.1"], "per_host_delay": 0.0,
                                                    "timeout": 5.0})
    w.app.state.config = w.config.model_copy(update={"settings": settings})
    yield w
    w.close()


def extra(ws: Workspace, item_id: int) -> dict[str, Any]:
    with ws.store() as store:
        return dict(json.loads(store.db.execute("SELECT extra FROM items WHERE id = ?", (item_id,)).fetchone()[0]))


def member(ws: Workspace, signal_id: int) -> int:
    with ws.store() as store:
        return int(store.db.execute("SELECT min(item_id) FROM signal_items WHERE signal_id = ?",
                                    (signal_id,)).fetchone()[0])


def test_a_curator_marks_and_moves_items_from_the_signal_page(ws: Workspace) -> None:
    curator = ws.login("curator")
    page = curator.get("/signals/1").text
    item = member(ws, 1)
    assert f'action="/items/{item}/mark"' in page and f'action="/items/{item}/move"' in page
    r = post_form(curator, f"/items/{item}/move", {"to": "2", "next": "//evil.example/"})
    assert r.headers["location"] == "/items"  # only a local page
    with ws.store() as store:  # put in a signal: relevant
        assert latest_labels(store, "relevance")[item].value == "relevant"
    r = post_form(curator, f"/items/{item}/mark", {"relevant": "no", "next": "/signals/1"})
    assert r.status_code == 303 and r.headers["location"] == "/signals/1"  # the latest word wins
    other = member(ws, 3)
    post_form(curator, f"/items/{other}/move", {"to": "out", "next": "/signals/3"})
    with ws.store() as store:
        assert latest_labels(store, "relevance")[item].value == "not_relevant"
        assert pinned_items(store) == {item: 2, other: None}
        placed = dict(store.db.execute("SELECT item_id, signal_id FROM signal_items"))
        assert placed[item] == 2 and other not in placed
    curator.cookies.set("lang", "en")
    page = curator.get("/signals/2").text
    assert "marked not relevant (curator)" in page
    assert "<td>move</td>" in page  # the audit trail of the signal shows its items' moves
    r = post_form(curator, f"/items/{item}/move", {"to": "nonsense"})
    assert r.status_code == 400


def test_marks_and_moves_need_a_curator_and_a_csrf_token(ws: Workspace) -> None:
    item = member(ws, 1)
    contributor = ws.login("contributor")
    assert f"/items/{item}/mark" not in contributor.get("/signals/1").text
    assert post_form(contributor, f"/items/{item}/mark", {"relevant": "no"}).status_code == 403
    curator = ws.login("curator")
    assert curator.post(f"/items/{item}/move", data={"to": "out"}, follow_redirects=False).status_code == 403
    with ws.store() as store:
        assert store.db.execute("SELECT count(*) FROM item_labels").fetchone()[0] == 0
        assert member(ws, 1) == item


def submit(ws: Workspace, role: str, url: str, why: str, tags: str = "") -> tuple[int, int]:
    client = ws.login(role)
    token = csrf_of(client.get("/submit").text)
    r = client.post("/submit", data={"url": url, "why": why, "tags": tags, "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.status_code, int(r.headers["location"].rsplit("=", 1)[1])


def test_a_submitted_page_is_fetched_politely_and_counts_as_relevant(ws: Workspace, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /private/\n")
    httpserver.expect_request("/news/thaid").respond_with_data(ARTICLE, content_type="text/html; charset=utf-8")
    _, item_id = submit(ws, "contributor", httpserver.url_for("/news/thaid"), "ThaID  reaches every office",
                        "digital-id, ThaID")
    with ws.store() as store:
        item = store.item(item_id)
        assert item is not None and item.source_id == "submissions" and item.author == "contributor"
        assert item.title == "ThaID ขยายบริการ"
        assert "ยืนยันตัวตนทางดิจิทัล" in item.text and "ThaID reaches every office" in item.text
        assert extra(ws, item_id)["why"] == "ThaID reaches every office"
        assert extra(ws, item_id)["tags"] == ["digital-id", "ThaID"]
        label = latest_labels(store, "relevance", [item_id])[item_id]
        assert (label.value, label.by) == ("relevant", "contributor")
    assert [r.path for r, _ in httpserver.log] == ["/robots.txt", "/news/thaid"]
    viewer = ws.login("viewer")
    assert "ThaID ขยายบริการ" in viewer.get("/items?source=submissions").text
    assert "<td>submissions (built-in)</td>" in viewer.get("/sources").text  # not "removed" from sources.yaml
    # robots.txt says no: the page is not fetched, the submission is kept with its text
    _, refused = submit(ws, "curator", httpserver.url_for("/private/memo"), "a memo partners mentioned")
    assert "/private/memo" not in [r.path for r, _ in httpserver.log]
    with ws.store() as store:
        kept = store.item(refused)
        assert kept is not None and extra(ws, refused)["fetched"] is False
        assert "robots" in extra(ws, refused)["problem"]


def test_an_unreachable_url_is_kept_with_the_submitters_text(ws: Workspace) -> None:
    _, item_id = submit(ws, "contributor", "http://127.0.0.1:1/gone", "the ministry's new open-data rule")
    with ws.store() as store:
        item = store.item(item_id)
        assert item is not None and item.url == "http://127.0.0.1:1/gone"
        assert item.text == "the ministry's new open-data rule" and extra(ws, item_id)["fetched"] is False
        assert latest_labels(store, "relevance", [item_id])[item_id].relevant


def test_a_submission_needs_a_url_and_a_reason(ws: Workspace) -> None:
    client = ws.login("contributor")
    for form in ({"url": "javascript:alert(1)", "why": "x"}, {"url": "https://example.org/", "why": "  "}):
        token = csrf_of(client.get("/submit").text)
        r = client.post("/submit", data={**form, "csrf_token": token}, follow_redirects=False)
        assert r.status_code == 400
    with ws.store() as store:
        assert store.db.execute("SELECT count(*) FROM items WHERE source_id = 'submissions'").fetchone()[0] == 0


def test_a_submitted_reason_never_comes_alive(ws: Workspace) -> None:
    _, item_id = submit(ws, "contributor", "http://127.0.0.1:1/x", PAYLOAD, tags=PAYLOAD)
    viewer = ws.login("viewer")
    for lang in ("th", "en"):
        viewer.cookies.set("lang", lang)
        for path in ("/items?source=submissions", f"/items?search=alert&submitted={item_id}", "/submit"):
            r = viewer.get(path)
            if path == "/submit":
                assert r.status_code == 403
                continue
            assert live_markup(r.text) == [], (path, live_markup(r.text))
            assert "<script" not in r.text.lower()
    assert "&lt;script&gt;alert(" in viewer.get("/items?source=submissions").text
