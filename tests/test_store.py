from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scanner.config import Config, RssSource
from scanner.errors import StoreError
from scanner.models import RawItem, SourceFetch
from scanner.prepare import drop_bodies, prepare_items, store_items
from scanner.store import Store

T0 = datetime(2025, 3, 1, 3, 0, tzinfo=UTC)
T1 = datetime(2025, 3, 2, 3, 0, tzinfo=UTC)


def setup_source(store: Store, source_id: str = "s1") -> None:
    store.sync_sources(Config(sources=[RssSource(id=source_id, kind="rss", url="https://example.org/feed")]))


def test_migrations_run_once_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "signals.db"
    with Store.open(path) as s:
        assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        names = [r[0] for r in s.db.execute("SELECT name FROM _migrations ORDER BY name")]
        assert names[0] == "m001_create_sources_fetches_items"
    with Store.open(path) as s:
        assert s.migrate() == []
        assert {"items", "fetches", "sources", "signals", "signal_weeks", "reviews", "heartbeat"} <= set(
            s.db.table_names())


def test_items_stored_once_and_updates_keep_first_seen(store: Store) -> None:
    setup_source(store)
    raw = [
        RawItem(url="https://Example.org/a?utm_source=x", title="ข่าวหนึ่ง", summary="รัฐบาลดิจิทัล", published=T0),
        RawItem(url=None, guid="g-2", title="ข่าวสอง", summary="ข้อมูลเปิด"),
    ]
    first = store_items(store, "s1", raw, T0)
    assert (first.new, first.updated, first.seen) == (2, 0, 0)
    # Same items again, one with a tracking-free URL variant and changed text.
    again = [
        RawItem(url="https://example.org/a#comments", title="ข่าวหนึ่ง", summary="รัฐบาลดิจิทัล (แก้ไข)",
                published=T0),
        RawItem(url=None, guid="g-2", title="ข่าวสอง", summary="ข้อมูลเปิด"),
    ]
    second = store_items(store, "s1", again, T1)
    assert (second.new, second.updated, second.seen) == (0, 1, 1)
    assert store.count_items() == 2
    item = store.item(first.item_ids[0])
    assert item is not None
    assert item.summary == "รัฐบาลดิจิทัล (แก้ไข)"
    assert item.first_seen == "2025-03-01T03:00:00+00:00" and item.last_seen == "2025-03-02T03:00:00+00:00"
    assert item.canonical_url == "https://example.org/a"


def test_missing_date_gets_fetch_time_and_flag_then_real_date(store: Store) -> None:
    setup_source(store)
    r = store_items(store, "s1", [RawItem(url="https://example.org/x", title="t", summary="s")], T0)
    item = store.item(r.item_ids[0])
    assert item is not None and item.date_missing and item.published == "2025-03-01T03:00:00+00:00"
    store_items(store, "s1", [RawItem(url="https://example.org/x", title="t", summary="s", published=T1)], T1)
    item = store.item(r.item_ids[0])
    assert item is not None and not item.date_missing and item.published == "2025-03-02T03:00:00+00:00"


def test_same_text_under_another_url_is_marked_duplicate(store: Store) -> None:
    setup_source(store)
    store_items(store, "s1", [RawItem(url="https://a.org/1", title="ThaID", summary="แอปทางรัฐ")], T0)
    r = store_items(store, "s1", [RawItem(url="https://b.org/9", title="ThaID", summary="แอปทางรัฐ")], T0)
    dup = store.db.execute("SELECT duplicate_of FROM items WHERE id = ?", (r.item_ids[0],)).fetchone()[0]
    assert dup == 1 and store.count_items() == 2


def test_unsafe_links_are_never_stored(store: Store) -> None:
    setup_source(store)
    r = store_items(store, "s1", [RawItem(url="javascript:alert(1)", title="x", summary="y", guid="g")], T0)
    item = store.item(r.item_ids[0])
    assert item is not None and item.url is None and item.item_key == "guid:s1:g"


def test_thai_full_text_search_finds_words_inside_sentences(store: Store, thaigov: list[dict[str, str]]) -> None:
    setup_source(store)
    raws = [RawItem(url=i["url"], title=i["title"], content=i["body"]) for i in thaigov[:60]]
    store_items(store, "s1", raws, T0)
    hits = store.items(search="บัญชีม้า")
    expected = {i["url"] for i in thaigov[:60] if "บัญชีม้า" in i["title"] + i["body"]}
    assert expected, "the sample should mention mule accounts"
    assert {h.url for h in hits} == expected
    assert store.items(search="ไม่มีคำนี้อยู่แน่นอนxyz") == []


def test_save_fetch_records_failure_and_success(store: Store) -> None:
    setup_source(store)
    store.save_fetch(SourceFetch("s1", started_at=T0, status="failed", error="boom"))
    store.save_fetch(SourceFetch("s1", started_at=T0, status="failed", error="boom again"))
    state = store.source_state("s1")
    assert state.consecutive_failures == 2 and state.last_error == "boom again" and state.last_success is None
    ok = SourceFetch("s1", started_at=T1, etag='"e1"', items=[RawItem(url="https://a.org/1", title="t", summary="s")])
    store.save_fetch(ok, prepare_items(ok.items, "s1"))
    state = store.source_state("s1")
    assert state.consecutive_failures == 0 and state.etag == '"e1"' and state.last_success is not None
    rows = store.fetches("s1")
    assert [r["status"] for r in rows] == ["ok", "failed", "failed"]
    assert rows[0]["items_new"] == 1


def test_retention_drops_old_full_text_but_keeps_title_summary_and_search(store: Store) -> None:
    setup_source(store)
    body = "การยืนยันตัวตนทางดิจิทัลผ่านแอปทางรัฐ " * 600
    old = RawItem(url="https://a.org/old", title="ThaID เก่า", summary="สรุปเก่า", content=body,
                  published=datetime(2024, 1, 5, tzinfo=UTC))
    new = RawItem(url="https://a.org/new", title="ThaID ใหม่", summary="สรุปใหม่", content=body, published=T0)
    ids = store_items(store, "s1", [old, new], T1).item_ids
    hashes = {i: store.item(i).content_hash for i in ids}  # type: ignore[union-attr]
    assert drop_bodies(store, "2024-06-01T00:00:00+00:00") == 1
    kept, recent = store.item(ids[0]), store.item(ids[1])
    assert kept is not None and recent is not None
    assert (kept.title, kept.summary, kept.content) == ("ThaID เก่า", "สรุปเก่า", "")
    assert recent.content == body.strip() and {kept.id: kept.content_hash, recent.id: recent.content_hash} == hashes
    assert 0 < len(kept.tokens) < len(recent.tokens)  # the first body tokens stay for labels
    assert [i.id for i in store.items(search="ยืนยันตัวตน")] == [ids[1], ids[0]]  # still found by the kept tokens
    assert [i.id for i in store.items(search="ตัวตน")] == [ids[1], ids[0]]  # a word inside a compound, too
    assert drop_bodies(store, "2024-06-01T00:00:00+00:00") == 0  # nothing left to drop
    # A feed that still lists the old item, now with only its short text, does not rewrite it.
    again = store_items(store, "s1", [RawItem(url="https://a.org/old", title="ThaID เก่า", summary="สรุปเก่า",
                                              published=datetime(2024, 1, 5, tzinfo=UTC))], T1)
    assert (again.updated, again.seen) == (0, 1) and store.item(ids[0]).content_hash == hashes[ids[0]]  # type: ignore[union-attr]


def test_run_once_applies_retention_after_the_digest(store: Store, tmp_path: Path) -> None:
    from scanner.clock import as_of_datetime
    from scanner.config import parse_config
    from scanner.pipeline import retention_step

    setup_source(store)
    raws = [RawItem(url=f"https://a.org/{m}", title=f"ข่าว {m}", summary="สรุป", content="เนื้อหาเต็ม " * 50,
                    published=datetime(2025, m, 10, tzinfo=UTC)) for m in (1, 2, 3)]
    store_items(store, "s1", raws, T1)
    keep = parse_config("settings:\n  keep_bodies: 1\nanalysis:\n  window_weeks: 4\nsources: []\n",
                        tmp_path / "sources.yaml")
    assert retention_step(keep, store, as_of_datetime("2025-03-20")) == [
        "retention: full text of 2 items published before 2025-02-20 dropped"]
    assert [bool(i.content) for i in store.items()] == [True, False, False]  # newest first
    assert retention_step(parse_config("sources: []\n"), store, as_of_datetime("2026-01-01")) == []


def test_search_of_a_common_word_is_the_exact_newest_first_list(store: Store, monkeypatch: Any) -> None:
    """The windowed search for common terms (``store/search.py``) gives what sorting every match gives,
    with back-filled items (old dates, high ids), other sources and a --since bound."""
    import random

    from scanner.store import search

    setup_source(store)
    setup_source(store, "s2")
    rng = random.Random(7)
    words = ["บัญชีม้า", "ข้อมูลเปิด", "ปัญญาประดิษฐ์"]
    for batch in range(6):  # later batches are back-fills: older dates stored after newer ones
        raws = [RawItem(url=f"https://a.org/{batch}/{n}", title=f"ข่าว {batch} {n}",
                        summary=" ".join(rng.sample(words, rng.randint(1, 2))),
                        published=datetime(2025, 3, 1, tzinfo=UTC) - timedelta(days=rng.randint(0, 400)))
                for n in range(40)]
        store_items(store, "s1" if batch % 2 else "s2", raws, T1)
    monkeypatch.setattr(search, "RARE", 5)  # every term here counts as common
    monkeypatch.setattr(search, "ID_GAP", 3)
    everything = store.items(limit=None)
    for word in words:
        for kwargs in ({}, {"source_ids": ["s1"]}, {"since": "2024-10-01T00:00:00+00:00"}):
            expected = [i.id for i in everything if word in i.summary
                        and (not kwargs.get("source_ids") or i.source_id in kwargs["source_ids"])  # type: ignore[operator]
                        and i.published >= str(kwargs.get("since", ""))][:25]
            assert [i.id for i in store.items(search=word, limit=25, **kwargs)] == expected  # type: ignore[arg-type]


def test_readers_open_a_database_from_before_this_round_without_upgrading_it(tmp_path: Path) -> None:
    """A database written before migrations m004..m007 reads as it is; nothing is written to it (m008 adds a
    column readers select, so from that one on a reader asks for an upgrade)."""
    import sqlite3

    path = tmp_path / "old.db"
    with Store.open(path) as s:
        setup_source(s)
        store_items(s, "s1", [RawItem(url="https://a.org/1", title="ข่าว", summary="สรุป")], T0)
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM _migrations WHERE name >= 'm004' AND name < 'm008'")
    conn.commit()
    conn.close()
    with Store.open(path, readonly=True) as s:
        assert [i.title for i in s.items()] == ["ข่าว"]
        assert s.db.execute("SELECT count(*) FROM _migrations WHERE name < 'm004'").fetchone()[0] == 3
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM _migrations WHERE name = 'm003_create_reviews_digests_heartbeat'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=r"needs an upgrade \(m003_create_reviews_digests_heartbeat\); any command "
                                         "that writes"):
        Store.open(path, readonly=True)
