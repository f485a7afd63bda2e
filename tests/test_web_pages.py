"""The workspace's pages over real HTTP: what they show, in Thai and English, the actions' effects and
their audit trail, and that no scraped or typed text comes alive in any page."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from scanner.cli import cli
from scanner.web import i18n
from tests import digest_fixtures as fx
from tests.web_support import Workspace, live_markup, post_form

PAGES = ["/", "/signals", "/signals/1", "/items", "/sources", "/digests", "/login"]




def test_this_week_is_the_digest_live_with_verdicts_at_once(ws: Workspace) -> None:
    client = ws.login("curator")
    page = client.get("/").text
    assert "Week 2025-W12" in page and 'href="/signals/' in page and 'class="card"' in page
    assert "ask DGA about the pilot" not in page
    r = post_form(client, "/signals/2/review", {"verdict": "watch", "note": "ask DGA about the pilot"})
    assert r.status_code == 303 and r.headers["location"] == "/signals/2"
    page = client.get("/").text
    assert "ask DGA about the pilot" in page and "watched" in page


def test_signal_page_shows_name_chart_members_verdicts_ratings_and_audit(ws: Workspace) -> None:
    curator, contributor = ws.login("curator"), ws.login("contributor")
    post_form(curator, "/signals/1/review", {"verdict": "keep", "note": "solid"})
    post_form(curator, "/signals/1/rename", {"title": "ThaID  for all"})
    for client, (n, h, i) in ((curator, ("5", "H1", "3")), (contributor, ("2", "H3", "1"))):
        assert post_form(client, "/signals/1/rate", {"novelty": n, "horizon": h, "impact": i}).status_code == 303
    post_form(contributor, "/signals/1/rate", {"novelty": "3", "horizon": "H2", "impact": "2"})  # replaces theirs
    assert post_form(contributor, "/signals/1/comment", {"text": "seen at the ministry"}).status_code == 303
    curator.cookies.set("lang", "en")
    page = curator.get("/signals/1").text
    assert "<h1>ThaID for all" in page
    assert 'class="spark"' in page  # the weekly chart
    assert "Median of 2 raters: novelty 4.0 of 5, horizon H1, impact 2.5 of 3." in page
    assert "solid" in page and "seen at the ministry" in page
    audit = page.split("Audit trail")[1]
    for action in ("review", "rename", "rate", "comment"):
        assert f"<td>{action}</td>" in audit
    assert audit.count("<td>rate</td>") == 3 and '"novelty": 2}' in audit  # the replaced rating is the before
    members = re.findall(r'<li><span lang="[a-z]+"><a href="(https?://[^"]+)"', page)
    assert members and all(m.startswith("https://") for m in members)


def test_merge_from_the_page_moves_items_and_says_where_it_went(ws: Workspace) -> None:
    client = ws.login("curator")
    client.cookies.set("lang", "en")
    before = len(client.get("/api/signals/1").json()["signal"]["items"])
    moved = len(client.get("/api/signals/4").json()["signal"]["items"])
    r = post_form(client, "/signals/4/merge", {"into": "1"}, page="/signals/4")
    assert r.status_code == 303 and r.headers["location"] == "/signals/1"
    assert len(client.get("/api/signals/1").json()["signal"]["items"]) == before + moved
    assert 'Merged into <a href="/signals/1">#1</a>' in client.get("/signals/4").text
    r = post_form(client, "/signals/4/merge", {"into": "1"}, page="/signals/1")
    assert r.status_code == 400 and "already merged" in r.text


def test_cli_review_merge_and_rename_write_the_same_audit_trail(ws: Workspace) -> None:
    cfg = ["--config", str(ws.folder / "sources.yaml"), "--db", str(ws.db)]
    runner = CliRunner()
    review = ["review", "3", "--verdict", "dismiss", "--note", "noise", "--by", "nok"]
    assert runner.invoke(cli, [*cfg, *review]).exit_code == 0
    assert runner.invoke(cli, [*cfg, "signals", "rename", "3", "Mule accounts", "--by", "nok"]).exit_code == 0
    assert runner.invoke(cli, [*cfg, "signals", "merge", "3", "5", "--by", "nok"]).exit_code == 0
    client = ws.login("viewer")
    client.cookies.set("lang", "en")
    audit = client.get("/signals/3").text.split("Audit trail")[1]
    assert audit.count("<td>nok</td>") == 3
    assert re.findall(r"<td>nok</td><td>([a-z]+)</td>", audit) == ["merge", "rename", "review"]
    assert client.get("/api/signals/3").json()["audit"][0]["action"] == "merge"


def test_signals_list_filters_by_state_verdict_rating_tag_and_text(ws: Workspace) -> None:
    client = ws.login("curator")
    post_form(client, "/signals/2/review", {"verdict": "watch"})
    post_form(client, "/signals/3/rate", {"novelty": "4", "horizon": "H2", "impact": "2"})
    ids = lambda query: [s["id"] for s in client.get(f"/api/signals?{query}").json()["signals"]]  # noqa: E731
    everything = ids("")
    assert len(everything) >= 5
    assert ids("state=weak") == [2, 4]
    assert ids("verdict=watch") == [2]
    assert ids("rated=yes") == [3]
    name = client.get("/api/signals/1").json()["signal"]["name"]
    assert 1 in ids(f"q={name.split()[0]}")
    tagged = client.get("/api/signals/1").json()["signal"]["tags"]
    tag = next(t for group in tagged.values() for t in group)
    assert 1 in ids(f"tag={tag}") and len(ids(f"tag={tag}")) < len(everything)
    page = client.get("/signals?state=weak").text
    assert page.count('<a href="/signals/') == 2


def test_items_search_finds_a_thai_word_inside_a_sentence(ws: Workspace, thaigov: list[dict[str, object]]) -> None:
    from datetime import UTC, datetime

    from scanner.models import RawItem
    from scanner.prepare import store_items

    with ws.store() as store:
        raw = RawItem(url="https://www.thaigov.go.th/news/1", title="ตำรวจเตือนภัยบัญชีม้าระบาดหนัก",
                      content="ประชาชนควรระวังมิจฉาชีพ", published=datetime(2025, 3, 20, tzinfo=UTC))
        store_items(store, "thaigov", [raw], datetime(2025, 3, 21, tzinfo=UTC))
    client = ws.login("viewer")
    page = client.get("/items", params={"search": "บัญชีม้า"}).text
    assert "ตำรวจเตือนภัยบัญชีม้าระบาดหนัก" in page
    found = client.get("/api/items", params={"search": "บัญชีม้า"}).json()["items"]
    assert found[0]["url"] == "https://www.thaigov.go.th/news/1"
    assert "ตำรวจเตือนภัย" not in client.get("/items", params={"search": "ข้อมูลเปิด"}).text


def test_every_page_has_the_language_switch_and_speaks_thai_or_english(ws: Workspace) -> None:
    client = ws.login("admin")
    for path in PAGES:
        th = client.get(path, headers={"Accept-Language": "th"}).text
        assert ('href="/lang/en?next=' in th and "สัญญาณ" in th) or path == "/login"
        assert "ไทย" in th and "English" in th
    r = client.get("/lang/en?next=/signals", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signals" and "lang=en" in r.headers["set-cookie"]
    client.cookies.set("lang", "en")
    assert "<h1>Signals" in client.get("/signals").text
    assert client.get("/lang/en?next=//evil.example/", follow_redirects=False).headers["location"] == "/"


def test_every_message_of_the_templates_has_a_thai_translation() -> None:
    root = Path(__file__).resolve().parent.parent / "scanner"
    texts = [p.read_text(encoding="utf-8") for p in [*(root / "web" / "templates").glob("*.j2"),
                                                     root / "templates" / "digest.html.j2", root / "web" / "pages.py"]]
    ids = {m.group(2) for t in texts for m in re.finditer(r"""_\((["'])(.+?)\1""", t)}
    assert len(ids) > 50
    th = i18n.catalog("th")
    missing = sorted(i for i in ids if th.gettext(i) == i)
    assert not missing


def test_scraped_and_typed_text_never_comes_alive(ws: Workspace) -> None:
    with ws.store() as store:
        sid = fx.add_hostile_item(store, "2025-W12")
    payload = '<script>alert("n")</script><img src=x onerror=alert(1)>'
    curator = ws.login("curator")
    post_form(curator, f"/signals/{sid}/review", {"verdict": "watch", "note": payload})
    post_form(curator, f"/signals/{sid}/comment", {"text": payload})
    post_form(curator, "/signals/1/rename", {"title": payload})
    post_form(curator, f"/signals/{sid}/rate", {"novelty": "1", "horizon": "H1", "impact": "1"})
    for lang in ("th", "en"):
        curator.cookies.set("lang", lang)
        for path in [*PAGES, f"/signals/{sid}", f"/signals?q={payload}", f"/items?search={payload}",
                     f"/signals?state={payload}"]:
            page = curator.get(path).text
            assert live_markup(page) == [], (path, live_markup(page))
            assert "<script" not in page.lower()
    page = curator.get(f"/signals/{sid}").text
    assert "&lt;script&gt;alert(" in page  # shown, as text
    assert "javascript:" not in re.sub(r">[^<]*<", "><", page).lower()  # no link carries it
    api = curator.get(f"/api/signals/{sid}")
    assert api.headers["content-type"].startswith("application/json")


def test_the_signal_page_says_why_it_has_its_state_in_the_digests_words(ws: Workspace) -> None:
    """The state's reasons, with the counts of its last weeks, in the one wording the digest uses."""
    from markupsafe import escape

    from scanner.digest.prose import state_sentence

    viewer = ws.login("viewer")
    with ws.store() as store:
        rows = store.query("SELECT week, items, sources FROM signal_weeks WHERE signal_id = 1 ORDER BY week")
        state = store.query("SELECT state, last_seen FROM signals WHERE id = 1")[0]
        total = store.query("SELECT count(*) AS n FROM signal_items WHERE signal_id = 1")[0]["n"]
    spark = [r["items"] for r in rows[-26:]][-12:]
    expected = state_sentence(state["state"], sum(spark[-4:]), spark, total, rows[-1]["items"],
                              f"{rows[-1]['sources']} source" + ("s" if rows[-1]["sources"] != 1 else ""),
                              state["last_seen"], ws.config.analysis.fading_weeks)
    page = viewer.get("/signals/1").text
    assert f'<p class="why">{escape(expected)}</p>' in page
    assert viewer.get("/api/signals/1").json()["why"] == expected
