"""The item pages and the relevance filter: why an item was judged relevant, as ``scanner items
--explain`` says it, in the workspace (HTML and API) and on the command line, on real Thai releases
scored by the real relevance model (hashing embedder), in a real signals.db."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scanner.analysis.embed import HashingEmbedder
from scanner.analysis.relevance import explain_item, score_relevance
from scanner.cli import cli
from scanner.config import Config, load_config
from scanner.models import RawItem
from scanner.prepare import store_items
from scanner.store.audit import audit_rows
from tests import digest_fixtures as fx
from tests.test_analyse import HASHING
from tests.web_support import Workspace, live_markup, make_workspace, post_form


@pytest.fixture
def scored(web_base: Path, tmp_path: Path, thaigov: list[dict[str, Any]]) -> Iterator[tuple[Workspace, Config,
                                                                                              list[int]]]:
    """A workspace with 40 real releases (of November 2024) added and scored by the shipped model
    (default topics and keywords, hashing embedder); the config that scored them is
    ``scoring.yaml`` beside the database."""
    ws = make_workspace(web_base, tmp_path)
    path = tmp_path / "scoring.yaml"
    path.write_text(HASHING.lstrip("\n"), encoding="utf-8")
    config = load_config(path)
    sample = [r for r in thaigov if "2024-11-01" <= r["published"] <= "2024-11-30"][:40]
    # dated after everything in the base database, so the newest-first pages list them all
    start = datetime(2025, 3, 25, 1, tzinfo=UTC)
    raws = [RawItem(url=r["url"] + "?scored", title=r["title"], content=r["body"], lang=r["lang"],
                    published=start + timedelta(minutes=n)) for n, r in enumerate(sample)]
    with ws.store() as store:
        result = store_items(store, "thaigov", raws, datetime(2025, 1, 1, tzinfo=UTC))
        ids = sorted(result.item_ids)
        score_relevance(store, config, HashingEmbedder(), item_ids=ids)
    yield ws, config, ids
    ws.close()


def decisions(ws: Workspace, ids: list[int]) -> dict[int, dict[str, Any]]:
    with ws.store() as store:
        rows = store.db.execute(f"SELECT item_id, relevant, explain FROM item_relevance WHERE item_id IN "
                                f"({','.join('?' * len(ids))})", ids).fetchall()
    return {r[0]: {"relevant": bool(r[1]), **json.loads(r[2])} for r in rows}


def listed(client: Any, **params: str) -> set[int]:
    page = client.get("/items", params=params).text
    return {int(m) for m in re.findall(r'<a href="/items/(\d+)">#', page)}


def test_the_item_page_says_what_items_explain_says(scored: tuple[Workspace, Config, list[int]]) -> None:
    ws, config, ids = scored
    found = decisions(ws, ids)
    kept = next(i for i in ids if found[i]["relevant"] and found[i]["keywords"]["title"])
    left = next(i for i in ids if not found[i]["relevant"])
    with ws.store() as store:
        expected = explain_item(store, config, HashingEmbedder(), kept)
    assert expected["stored"]["up_to_date"]
    cli_json = CliRunner().invoke(cli, ["--config", str(ws.folder / "scoring.yaml"), "--db", str(ws.db), "items",
                                        "--explain", str(kept), "--format", "json"])
    assert cli_json.exit_code == 0, cli_json.output
    assert json.loads(cli_json.output)["score"] == expected["score"]
    client = ws.login("viewer")
    client.cookies.set("lang", "en")
    page = client.get(f"/items/{kept}").text
    assert "<h2>Relevance decision</h2>" in page
    assert f"score {expected['score']:.3f} &ge; threshold {expected['threshold']:.2f}" in page
    assert html.escape(expected["rule"], quote=False) in page
    for topic, sim in expected["similarity"].items():  # every topic's similarity, as the CLI prints it
        assert f"<td>{topic}</td><td>{sim:.3f}</td>" in page
    hit = expected["keywords"]["title"][0]
    assert f'<b lang="th">{hit["keyword"]}</b> ×{hit["count"]}' in page
    assert " | ".join(hit["tokens"]) in page  # the Thai tokens the keyword matched (newmm)
    assert "relevant · score" in page
    other = client.get(f"/items/{left}").text
    assert f"score {found[left]['score']:.3f} &lt; threshold" in other and "not relevant · score" in other
    client.cookies.set("lang", "th")
    assert "การตัดสินความเกี่ยวข้อง" in client.get(f"/items/{kept}").text
    assert client.get("/items/999999").status_code == 404
    api = client.get(f"/api/items/{kept}").json()
    assert api["relevant"] is True and api["explanation"]["score"] == expected["score"]
    assert api["explanation"]["keywords"] == expected["keywords"] and api["labels"] == {}


def test_a_mark_decides_the_page_the_filter_and_the_api_at_once(scored: tuple[Workspace, Config, list[int]]
                                                                 ) -> None:
    ws, _config, ids = scored
    found = decisions(ws, ids)
    kept = next(i for i in ids if found[i]["relevant"])
    viewer, curator = ws.login("viewer"), ws.login("curator")
    curator.cookies.set("lang", "en")
    relevant, dropped = listed(viewer, relevance="relevant"), listed(viewer, relevance="not_relevant")
    assert kept in relevant and kept not in dropped
    assert {i for i in ids if found[i]["relevant"]} <= relevant
    assert {i for i in ids if not found[i]["relevant"]} <= dropped and not relevant & dropped
    r = post_form(curator, f"/items/{kept}/mark", {"relevant": "no", "next": f"/items/{kept}"}, page=f"/items/{kept}")
    assert r.status_code == 303 and r.headers["location"] == f"/items/{kept}"
    page = curator.get(f"/items/{kept}").text
    assert "not relevant · score" in page and "the model alone: relevant" in page
    assert "label: marked not relevant by curator" in page
    assert kept in listed(viewer, relevance="not_relevant") and kept not in listed(viewer, relevance="relevant")
    api = viewer.get(f"/api/items/{kept}").json()
    assert api["relevant"] is False and api["explanation"]["decision"] == "left out"
    assert api["explanation"]["model_decision"] == "kept"
    assert (api["labels"]["relevance"]["value"], api["labels"]["relevance"]["by"]) == ("not_relevant", "curator")
    filtered = viewer.get("/api/items", params={"relevance": "not_relevant", "limit": 500}).json()["items"]
    assert kept in {i["id"] for i in filtered} and all(i["relevant"] is False for i in filtered)
    assert viewer.get("/api/items", params={"relevance": "maybe"}).status_code == 400


def test_an_unscored_item_says_so(scored: tuple[Workspace, Config, list[int]]) -> None:
    ws, _config, ids = scored
    with ws.store() as store:
        raw = RawItem(url="https://www.thaigov.go.th/news/new-1", title="สพร. เปิดบริการข้อมูลเปิดภาครัฐ",
                      content="ประชาชนเข้าถึงชุดข้อมูลได้ทันที", published=datetime(2025, 3, 20, tzinfo=UTC))
        new = store_items(store, "thaigov", [raw], datetime(2025, 3, 21, tzinfo=UTC)).item_ids[0]
    client = ws.login("viewer")
    client.cookies.set("lang", "en")
    assert new in listed(client, relevance="unscored")
    assert not set(ids) & listed(client, relevance="unscored")
    assert "Not scored yet: the next analysis scores it." in client.get(f"/items/{new}").text
    assert client.get(f"/api/items/{new}").json()["explanation"] is None


def test_item_pages_never_bring_scraped_text_alive(ws: Workspace) -> None:
    with ws.store() as store:
        sid = fx.add_hostile_item(store, "2025-W12")
        hostile = [r[0] for r in store.db.execute("SELECT item_id FROM signal_items WHERE signal_id = ?", (sid,))]
    client = ws.login("curator")
    for lang in ("th", "en"):
        client.cookies.set("lang", lang)
        for item in hostile:
            page = client.get(f"/items/{item}").text
            assert live_markup(page) == [] and "<script" not in page.lower()
            assert "&lt;script&gt;alert(" in page


def test_the_cli_marks_moves_and_filters_items(scored: tuple[Workspace, Config, list[int]]) -> None:
    ws, _config, ids = scored
    base = ["--config", str(ws.folder / "scoring.yaml"), "--db", str(ws.db)]
    found = decisions(ws, ids)
    kept = next(i for i in ids if found[i]["relevant"])
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, [*base, *args])
        assert result.exit_code == 0, result.output
        return result.output

    def listing(relevance: str) -> set[int]:
        return {r["id"] for r in json.loads(run("items", "--relevance", relevance, "--format", "json", "--limit", "0"))}

    assert kept in listing("relevant")
    assert "marked item" in run("items", "mark", str(kept), "not_relevant", "--by", "somchai")
    assert kept in listing("not_relevant") and kept not in listing("relevant")
    assert f"moved item {kept} from no signal to signal 2" in run("items", "move", str(kept), "2", "--by", "somchai")
    assert kept in listing("relevant")  # put in a signal: relevant
    assert "to no signal" in run("items", "move", str(kept), "out", "--by", "somchai")
    bad = runner.invoke(cli, [*base, "items", "move", str(kept), "two"])
    assert bad.exit_code == 2 and "signal id" in bad.output
    with ws.store() as store:
        trail = [(a.action, a.by) for a in audit_rows(store, [f"item:{kept}"])]
    assert trail.count(("mark", "somchai")) == 2 and trail.count(("move", "somchai")) == 2
