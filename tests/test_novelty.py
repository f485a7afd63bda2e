"""Novelty and sightings on real Thai government press releases: how far an item is from everything
the scanner saw before it (not just the analysis window), replay-stable, shown in the digest and
exported."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from markupsafe import escape

from scanner.analysis.analyse import analyse
from scanner.analysis.novelty import horizon_start, nearest_earlier
from scanner.analysis.replay import replay
from scanner.cli import cli
from scanner.clock import UTC, as_of_datetime, iso_week
from scanner.config import Config
from scanner.digest.build import build_digest
from scanner.digest.model import Sightings, digest_from_dict, digest_from_json
from scanner.digest.render import render_html, render_json, render_markdown
from scanner.digest.sightings import MAX_SIGHTINGS, week_sightings
from scanner.models import RawItem
from scanner.prepare import store_items
from scanner.store import Store
from scanner.store.embeddings import load_vectors
from scanner.store.novelty import VectorChunk, load_novelty
from scanner.store.signals import mark_relevant
from tests import digest_fixtures as fx
from tests.signal_data import add_items, ensure_source

HASHING = "analysis:\n  embedder: hashing\nsources: []\n"
TZ = "Asia/Bangkok"
# A matter the sample never mentions: a Thai earth-observation satellite watching forest fires and haze.
NEW_MATTER = ("จิสด้าเตรียมส่งดาวเทียมสำรวจโลกดวงใหม่ขึ้นสู่วงโคจร",
              "สำนักงานพัฒนาเทคโนโลยีอวกาศและภูมิสารสนเทศ (จิสด้า) เตรียมส่งดาวเทียมสำรวจโลกดวงใหม่ขึ้นสู่วงโคจร "
              "เพื่อถ่ายภาพความละเอียดสูง ติดตามจุดความร้อน ไฟป่า และฝุ่นละอองขนาดเล็ก PM2.5 จากอวกาศ "
              "ภาพถ่ายดาวเทียมจะเปิดให้นักวิจัยและสตาร์ทอัพนำไปพัฒนาแบบจำลองพยากรณ์หมอกควันล่วงหน้า")


def by_date(thaigov: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(thaigov, key=lambda r: (r["published"], r["id"]))


def store_rows(store: Store, rows: Sequence[dict[str, Any]], source: str = "thaigov") -> list[int]:
    """Store sample rows (10:00 Bangkok on their day) and mark the sample's relevant ones relevant."""
    ensure_source(store, source)
    raws = [RawItem(url=r["url"], title=r["title"], content=r["body"],
                    published=datetime.fromisoformat(r["published"][:10]).replace(hour=3, tzinfo=UTC)) for r in rows]
    ids = store_items(store, source, raws, datetime(2025, 4, 1, tzinfo=UTC)).item_ids
    mark_relevant(store, [i for i, r in zip(ids, rows, strict=True) if r["relevant"]], topics=["digital-government"])
    return ids


def novelty_of(store: Store) -> dict[int, tuple[float, int | None, int]]:
    return {r.item_id: (r.novelty, r.nearest_id, r.earlier)
            for r in load_novelty(store, [i for (i,) in store.db.execute("SELECT id FROM items")]).values()}


# --------------------------------------------------------------------------- the pure function
def brute_force(vectors: np.ndarray, keys: list[tuple[str, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Novelty and nearest id by the definition, one item at a time."""
    novelty, nearest = [], []
    for k, key in enumerate(keys):
        earlier = [j for j, other in enumerate(keys) if other < key]
        sims = [float(vectors[k] @ vectors[j]) for j in earlier]
        best = max(sims, default=0.0)
        novelty.append(round(1 - max(0.0, best), 4))
        nearest.append(keys[earlier[int(np.argmax(sims))]][1] if earlier and best > 0 else -1)
    return np.array(novelty), np.array(nearest)


def test_nearest_earlier_counts_only_the_past_whatever_the_chunks() -> None:
    rng = np.random.default_rng(11)
    vectors = rng.normal(size=(40, 16)).astype(np.float32)
    vectors[7] = vectors[3]  # an exact copy, later
    vectors[21] = vectors[22]  # a copy published at the same instant, with a larger id: the later one
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    days = [f"2025-01-{1 + k // 3:02d}T03:00:00+00:00" for k in range(40)]
    keys = [(days[k], 100 + k) for k in range(40)]
    keys[22] = (days[21], 99)  # same instant as 21, smaller id: it comes first
    order = sorted(range(40), key=lambda k: keys[k])
    expected_novelty, expected_nearest = brute_force(vectors, keys)
    for size in (1, 7, 40):
        chunks = [VectorChunk(keys=[keys[k] for k in order[s:s + size]], vectors=vectors[order[s:s + size]])
                  for s in range(0, 40, size)]
        found = nearest_earlier(vectors, keys, chunks)
        assert found.novelty.tolist() == expected_novelty.tolist()
        assert found.item_id.tolist() == expected_nearest.tolist()
        assert found.earlier.tolist() == [sum(1 for o in keys if o < key) for key in keys]
    assert expected_novelty[0] == 1.0 and expected_nearest[0] == -1  # nothing before the first item
    assert expected_novelty[7] == 0.0 and expected_nearest[7] == 103  # the copy of an earlier item
    assert expected_novelty[21] == 0.0 and expected_nearest[21] == 99  # ties of time go by id
    assert expected_novelty[22] > 0.0  # the first of the pair does not see its later twin


def test_the_horizon_leaves_out_older_items_whatever_the_chunks() -> None:
    """With ``starts``, an item sees only the earlier items published from its start on."""
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(30, 16)).astype(np.float32)
    vectors[25] = vectors[2]  # a copy of an item from long before
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    keys = [(f"20{10 + k // 3:02d}-06-01T03:00:00+00:00", k) for k in range(30)]  # three items a year
    starts = [horizon_start(p, 3) for p, _ in keys]
    expected_novelty, expected_nearest = [], []
    for k, key in enumerate(keys):
        seen = [j for j, other in enumerate(keys) if other < key and other[0] >= starts[k]]
        sims = [float(vectors[k] @ vectors[j]) for j in seen]
        best = max(sims, default=0.0)
        expected_novelty.append(round(1 - max(0.0, best), 4))
        expected_nearest.append(keys[seen[int(np.argmax(sims))]][1] if seen and best > 0 else -1)
    for size in (1, 4, 30):
        chunks = [VectorChunk(keys=keys[s:s + size], vectors=vectors[s:s + size]) for s in range(0, 30, size)]
        found = nearest_earlier(vectors, keys, chunks, starts)
        assert found.novelty.tolist() == expected_novelty
        assert found.item_id.tolist() == expected_nearest
        assert found.earlier.tolist() == [sum(1 for o in keys if o < key and o[0] >= start)
                                          for key, start in zip(keys, starts, strict=True)]
        assert found.earlier.tolist()[-1] == 11  # three years of three items a year, and its own year's two
    assert expected_novelty[25] > 0.0  # its copy is eight years older: outside the horizon
    assert nearest_earlier(vectors, keys, [VectorChunk(keys, vectors)]).novelty[25] == 0.0  # no horizon: a copy


# --------------------------------------------------------------------------- the analysis stage
def test_old_news_outside_the_window_is_not_new_and_a_new_matter_is(
        tmp_path: Path, make_config: Callable[[str], Config], thaigov: list[dict[str, Any]]) -> None:
    config = make_config(HASHING)
    rows = by_date(thaigov)[:150]  # 2024-09-01 .. October: long before a 12-week window of late March 2025
    original = next(r for r in rows if r["relevant"] and len(r["body"]) > 400)
    with Store.open(tmp_path / "signals.db") as store:
        ids = store_rows(store, rows)
        late = [{**original, "url": original["url"] + "?repost=1", "title": "(เผยแพร่ซ้ำ) " + original["title"],
                 "published": "2025-03-25", "relevant": True},
                {"url": "https://www.thaigov.go.th/news/contents/details/999001", "title": NEW_MATTER[0],
                 "body": NEW_MATTER[1], "published": "2025-03-26", "relevant": True}]
        repost, satellite = store_rows(store, late)
        result = analyse(config, store, as_of_datetime("2025-03-30", TZ), relevance=False)
        assert result.relevant == 2 and result.novelty == 2  # the window holds only the two late items
        got = novelty_of(store)
        assert set(got) == {repost, satellite}
        assert got[repost][1] == ids[rows.index(original)]  # the nearest is five months before the window
        assert got[repost][0] < 0.15
        assert got[repost][2] == len(rows)  # compared with every earlier item, relevant or not
        assert got[satellite][0] > 0.5 and got[satellite][1] != repost
        # Earlier items that were never analysed (irrelevant, or before any window) were embedded for it.
        assert np.all(np.any(load_vectors(store, "hashing-256", ids), axis=1))
        again = analyse(config, store, as_of_datetime("2025-03-31", TZ), relevance=False)
        assert again.novelty == 0 and novelty_of(store) == got  # computed once per item, model and text

    runner = CliRunner()
    exported = runner.invoke(cli, ["export", "items", "--relevant"])
    assert exported.exit_code == 0, exported.output
    records = {r["id"]: r for r in map(json.loads, exported.output.splitlines())}
    assert records[repost]["novelty"] == got[repost][0] and records[satellite]["novelty"] == got[satellite][0]
    assert all(r["novelty"] is None for i, r in records.items() if i not in (repost, satellite))
    csv = runner.invoke(cli, ["export", "items", "--format", "csv"])
    assert csv.output.splitlines()[0].endswith(",duplicate_of,novelty")
    explained = runner.invoke(cli, ["items", "--explain", str(repost)])
    assert explained.exit_code == 0, explained.output
    assert (f"novelty: {got[repost][0]:.3f} against {len(rows)} earlier items; closest earlier item "
            f"{got[repost][1]}: {original['title']} ({original['published'][:10]})") in explained.output.splitlines()
    unscored = runner.invoke(cli, ["items", "--explain", str(ids[0])])
    assert "novelty: not computed (`scanner analyse` computes it for relevant items)" in unscored.output


def test_replay_week_by_week_gives_the_values_of_one_computation_over_everything(
        tmp_path: Path, make_config: Callable[[str], Config], thaigov: list[dict[str, Any]]) -> None:
    rows = by_date(thaigov)[:130]  # 2024-09-01 .. mid-October, some ten weeks
    weekly, once = (Store.open(tmp_path / f"{name}.db") for name in ("weekly", "once"))
    for s in (weekly, once):
        store_rows(s, rows)
    now = as_of_datetime("2024-10-20", TZ)
    first = iso_week(as_of_datetime(rows[0]["published"][:10], TZ), TZ)
    replay(make_config(HASHING), weekly, first, iso_week(now, TZ), now, relevance=False)
    whole = analyse(make_config(HASHING.replace("embedder: hashing", "embedder: hashing\n  window_weeks: 52")), once,
                    now, relevance=False)
    relevant = sum(1 for r in rows if r["relevant"])
    assert whole.novelty == whole.relevant == relevant
    got = novelty_of(weekly)
    assert got == novelty_of(once) and len(got) == relevant
    values = [v[0] for v in got.values()]
    assert min(values) < 0.3 and max(values) > 0.6  # a spread, not a constant

    # The definition, by brute force over every item's stored vector.
    ids = [i for (i,) in once.db.execute("SELECT id FROM items ORDER BY published, id")]
    keys = [(p, int(i)) for i, p in once.db.execute("SELECT id, published FROM items ORDER BY published, id")]
    vectors = load_vectors(once, "hashing-256", ids)
    novelty, nearest = brute_force(vectors, keys)
    expected = {i: (float(novelty[k]), int(nearest[k]) if nearest[k] >= 0 else None)
                for k, i in enumerate(ids) if i in got}
    assert {i: (v[0], v[1]) for i, v in got.items()} == expected
    for s in (weekly, once):
        s.close()


def test_a_changed_text_is_computed_again(store: Store, make_config: Callable[[str], Config]) -> None:
    config = make_config(HASHING)
    [a, b] = add_items(store, [("fraud", "มิจฉาชีพ บัญชีม้า", "2025-01-06"), ("fraud", "มิจฉาชีพ บัญชีม้า", "2025-01-07")])
    assert analyse(config, store, as_of_datetime("2025-01-08", TZ), relevance=False).novelty == 2
    before = novelty_of(store)[b]
    assert before[1] == a and before[0] < 0.5
    add_items(store, [(NEW_MATTER[1], NEW_MATTER[0], "2025-01-07")], start=1)  # the same URL, a new text
    assert analyse(config, store, as_of_datetime("2025-01-09", TZ), relevance=False).novelty == 1
    assert novelty_of(store)[b][0] > before[0] + 0.3


# --------------------------------------------------------------------------- the digest
@pytest.fixture
def sightings_week(tmp_path: Path, thaigov: list[dict[str, Any]]) -> tuple[Store, Config, int]:
    """Six weeks of the sample analysed week by week, then a hostile item in the last week."""
    config = fx.write_config(tmp_path, "analysis:\n  embedder: hashing\n")
    store = Store.open(tmp_path / "signals.db")
    fx.insert_sources(store)
    rows = [r for r in by_date(thaigov) if "2025-02-03" <= r["published"] <= "2025-03-16"]
    store_rows(store, rows)
    hostile = fx.insert_item(store, "thaigov", fx.HOSTILE_TITLE, "2025-03-12T03:00:00+00:00", fx.HOSTILE_URLS[0],
                             body="")
    with store.transaction() as conn:
        conn.execute("UPDATE items SET content = ? WHERE id = ?", (NEW_MATTER[1], hostile))
    replay(config, store, "2025-W06", "2025-W11", as_of_datetime("2025-03-17", TZ), relevance=False)
    return store, config, hostile


def test_digest_lists_the_weeks_sightings_by_novelty_and_escapes_them(
        sightings_week: tuple[Store, Config, int]) -> None:
    store, config, hostile = sightings_week
    digest = build_digest(config, store, "2025-W11", as_of_datetime("2025-03-18", TZ))
    expected = [(i, n) for i, n in store.db.execute(
        "SELECT i.id, n.novelty FROM items i JOIN item_relevance r ON r.item_id = i.id AND r.relevant = 1 "
        "JOIN item_novelty n ON n.item_id = i.id LEFT JOIN signal_items si ON si.item_id = i.id "
        "WHERE si.item_id IS NULL AND i.published >= '2025-03-09T17:00:00+00:00' "
        "AND i.published < '2025-03-16T17:00:00+00:00' ORDER BY n.novelty DESC, i.published, i.id")]
    assert len(expected) >= MAX_SIGHTINGS  # enough to rank
    shown = digest.sightings.items
    assert [(s.id, s.novelty) for s in shown] == expected[:MAX_SIGHTINGS]
    assert digest.sightings.more == len(expected) - MAX_SIGHTINGS
    capped = week_sightings(store, digest.start, digest.end, TZ, cap=3)
    assert [s.id for s in capped.items] == [i for i, _ in expected[:3]] and capped.more == len(expected) - 3
    assert shown[0].id == hostile and shown[0].url is None  # the newest matter leads; its javascript: URL is no link
    assert all(s.nearest_title and s.nearest_date and s.nearest_date < "2025-03-17" for s in shown)
    assert all(s.date.startswith("2025-03-1") for s in shown)
    assert [s.novelty for s in shown] == sorted((s.novelty for s in shown), reverse=True)
    joined = {i for (i,) in store.db.execute(
        "SELECT si.item_id FROM signal_items si JOIN items i ON i.id = si.item_id "
        "WHERE i.published >= ? AND i.published < ?", (digest.start, digest.end))}
    assert joined and not joined & {s.id for s in shown}  # items in a signal are not sightings

    html = render_html(digest, "t")
    section = html[html.index('<section id="sightings">'):html.index('<section id="charts">')]
    assert "<script>" not in html and "javascript:" not in html.lower()
    lines = section.split("<li>")[1:]
    assert len(lines) == len(shown)
    for line, s in zip(lines, shown, strict=True):  # in rank order, each with its novelty and closest earlier item
        head, meta = line.split('<span class="meta">')
        assert str(escape(s.title)) in head and f"novelty <b>{s.novelty:.2f}</b>" in meta
        assert f"closest earlier: <span lang=\"th\">{escape(s.nearest_title)}</span>" in meta
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in lines[0] and "<a href" not in lines[0]
    assert all('<a href="https://www.thaigov.go.th/' in line for line in lines[1:])
    md = render_markdown(digest, "t")
    block = md[md.index("## Sightings: new and unclustered"):md.index("## Keywords to watch")]
    assert block.startswith(f"## Sightings: new and unclustered ({len(expected)})")
    assert "<script>" not in md and "&lt;script&gt;" in block and "](javascript" not in md.lower()
    assert block.count("novelty 0.") == len(shown) and "](https://www.thaigov.go.th/" in block
    more = render_markdown(replace(digest, sightings=capped), "t")
    assert f"and {capped.more} more (`scanner export items --relevant`)." in more
    assert digest_from_json(render_json(digest)) == digest  # the record reads back whole
    older = json.loads(render_json(digest))
    del older["sightings"]  # a digest recorded before sightings existed
    assert digest_from_dict(older).sightings == Sightings() and "Sightings" in render_html(digest_from_dict(older), "t")
    store.close()


def test_a_signal_card_carries_the_median_novelty_of_its_first_items(
        sightings_week: tuple[Store, Config, int]) -> None:
    """Semantic novelty of a signal: the median novelty of its first five items, on its card."""
    from statistics import median

    store, config, _ = sightings_week
    digest = build_digest(config, store, "2025-W11", as_of_datetime("2025-03-18", TZ))
    cards = [c for s in digest.sections for c in s.signals if c.items]
    assert cards
    for card in cards:
        first = [i for (i,) in store.db.execute(
            "SELECT i.id FROM signal_items si JOIN items i ON i.id = si.item_id WHERE si.signal_id = ? "
            "AND i.published < '2025-03-16T17:00:00+00:00' ORDER BY i.published, i.id LIMIT 5", (card.id,))]
        values = [n for (n,) in store.db.execute(
            f"SELECT novelty FROM item_novelty WHERE item_id IN ({','.join('?' * len(first))})", first)]
        assert card.novelty == (round(median(values), 4) if values else None)
        if values:
            assert f"Novelty of its first items {card.novelty:.2f}" in card.scores_text
    assert any(c.novelty is not None for c in cards)


@pytest.mark.parametrize(("years", "finds_it"), [(1, False), (3, True)])
def test_an_item_is_compared_with_the_years_of_its_horizon(
        tmp_path: Path, make_config: Callable[[str], Config], thaigov: list[dict[str, Any]], years: int,
        finds_it: bool) -> None:
    """A repost 18 months after the original: within the default three years it is old news; with
    ``analysis.novelty_years: 1`` the original is beyond its horizon and not compared."""
    config = make_config(f"analysis:\n  embedder: hashing\n  novelty_years: {years}\nsources: []\n")
    assert config.analysis.novelty_years == years
    rows = by_date(thaigov)[:60]  # September 2024
    original = next(r for r in rows if r["relevant"] and len(r["body"]) > 400)
    with Store.open(tmp_path / "signals.db") as store:
        ids = store_rows(store, rows)
        (repost,) = store_rows(store, [{**original, "url": original["url"] + "?repost=2", "published": "2026-03-25",
                                        "title": "(เผยแพร่ซ้ำ) " + original["title"], "relevant": True}])
        analyse(config, store, as_of_datetime("2026-03-30", TZ), relevance=False)
        novelty, nearest, earlier = novelty_of(store)[repost]
    if finds_it:
        assert nearest == ids[rows.index(original)] and novelty < 0.15 and earlier == len(rows)
    else:
        assert nearest is None and novelty == 1.0 and earlier == 0
