"""``analyse`` end to end on a real database: weekly replay with --as-of, stable ids, events, fading."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from scanner.analysis.analyse import analyse
from scanner.clock import as_of_datetime
from scanner.config import Config
from scanner.models import SignalEvent
from scanner.prepare import store_items
from scanner.store import Store
from tests.signal_data import add_items

HASHING = """
analysis:
  embedder: hashing
  fading_weeks: 3
"""


def signal_of(store: Store) -> dict[int, int]:
    return dict(store.db.execute("SELECT item_id, signal_id FROM signal_items"))


def events(store: Store) -> list[tuple[int, str, str]]:
    return [tuple(r) for r in store.db.execute("SELECT signal_id, week, event FROM signal_events ORDER BY id")]


@pytest.fixture
def replay(store: Store, make_config: Callable[[str], Config]) -> tuple[Store, Config, dict[str, list[int]]]:
    """Four matters over five weeks, all stored up front (as a back-fill would)."""
    ids = {
        "opendata": add_items(store, [("opendata", "ข้อมูลเปิด ภาครัฐ", d) for d in
                                      ("2025-01-06", "2025-01-08", "2025-01-10", "2025-01-14", "2025-01-16")]),
        "fraud": add_items(store, [("fraud", "มิจฉาชีพ บัญชีม้า", d) for d in
                                   ("2025-01-09", "2025-01-13", "2025-01-15", "2025-01-17", "2025-01-21")], start=10),
        "ai": add_items(store, [("ai", "ปัญญาประดิษฐ์ ทดลองใช้", d) for d in
                                ("2025-01-20", "2025-01-22", "2025-01-24")], start=20),
        "future": add_items(store, [("wifi", "อินเทอร์เน็ต หมู่บ้าน", d) for d in ("2025-03-03", "2025-03-04")],
                            start=30),
        "off": add_items(store, [("wifi", "อินเทอร์เน็ต หมู่บ้าน", d) for d in ("2025-01-07", "2025-01-08")],
                         start=40, relevant=False),
    }
    return store, make_config(HASHING), ids


def run(config: Config, store: Store, day: str, relevance: bool = False) -> Any:
    """Analyse as of ``day``; by default with the relevance decisions the test stored."""
    return analyse(config, store, as_of_datetime(day, config.settings.timezone), relevance=relevance)


def test_weekly_replay_keeps_ids_and_records_birth_growth_and_fading(replay: Any) -> None:
    store, config, ids = replay
    od, fr, ai = ids["opendata"], ids["fraud"], ids["ai"]

    r1 = run(config, store, "2025-01-12")  # Sunday of 2025-W02
    assert r1.week == "2025-W02"
    assert signal_of(store) == dict.fromkeys(od[:3], 1)  # the lone fraud item joins nothing yet
    assert r1.lines[0] == ("analyse 2025-W02 (window 12 weeks): 4 relevant of 6 items "
                           "(stored relevance), 4 stories")

    run(config, store, "2025-01-19")  # W03: open data grows, fraud is born with its first item
    assert signal_of(store) == {**dict.fromkeys(od, 1), **dict.fromkeys(fr[:4], 2)}

    run(config, store, "2025-01-26")  # W04: AI is born; fraud grows
    expected = {**dict.fromkeys(od, 1), **dict.fromkeys(fr, 2), **dict.fromkeys(ai, 3)}
    assert signal_of(store) == expected

    run(config, store, "2025-02-02")  # W05: nothing new
    run(config, store, "2025-02-09")  # W06: open data (last item W03) has been idle for 3 weeks
    assert signal_of(store) == expected  # ids never moved; the March items are still in the future
    assert events(store) == [(1, "2025-W02", "born"), (2, "2025-W03", "born"),
                             (3, "2025-W04", "born"), (1, "2025-W06", "faded")]
    states = dict(store.db.execute("SELECT id, state FROM signals"))
    assert states[1] == "fading" and states[3] != "fading"
    # every item was assigned exactly once
    assert store.db.execute("SELECT COUNT(*), COUNT(DISTINCT item_id) FROM signal_item_history").fetchone() == (13, 13)
    weeks = [r[0] for r in store.db.execute("SELECT week FROM signal_weeks WHERE signal_id = 1 ORDER BY week")]
    assert weeks == ["2025-W02", "2025-W03", "2025-W04", "2025-W05", "2025-W06"]
    w3 = store.query("SELECT items, stories, sources FROM signal_weeks WHERE signal_id = 2 AND week = '2025-W03'")
    assert w3 == [{"items": 3, "stories": 3, "sources": 1}]
    assert store.db.execute("SELECT COUNT(*) FROM runs WHERE kind = 'analyse' AND finished_at IS NOT NULL"
                            ).fetchone()[0] == 5


def test_rerunning_the_same_week_changes_nothing(replay: Any) -> None:
    store, config, _ = replay
    run(config, store, "2025-01-26")
    before = (signal_of(store), events(store), store.query("SELECT * FROM signal_weeks ORDER BY signal_id, week"))
    run(config, store, "2025-01-26")
    after = (signal_of(store), events(store), store.query("SELECT * FROM signal_weeks ORDER BY signal_id, week"))
    assert before == after


def test_labels_topics_and_tags_are_stored(replay: Any) -> None:
    store, config, _ = replay
    run(config, store, "2025-01-26")
    row = store.query("SELECT title, example, keywords, topics, tags FROM signals WHERE id = 1")[0]
    assert row["example"] == "ข้อมูลเปิด ภาครัฐ"  # the most central member's headline
    keywords = json.loads(row["keywords"])
    # the name is made of the signal's own keywords, at most 60 characters
    assert len(row["title"]) <= 60 and row["title"].split(" · ") == keywords["all"][:3]
    assert {"แพลตฟอร์ม", "ภาครัฐ"} <= set(keywords["th"]) and {"portal", "catalogue"} <= set(keywords["en"])
    assert json.loads(row["topics"]) == ["digital-id"]
    assert set(json.loads(row["tags"])) == {"steepv", "themes", "sdgs"}
    kw = {r[0] for r in store.db.execute("SELECT keyword FROM keyword_weeks WHERE week = '2025-W04'")}
    assert "portal" in kw and "แพลตฟอร์ม" in kw


def test_near_duplicates_from_two_sources_are_one_story(store: Store, make_config: Callable[[str], Config]) -> None:
    a = add_items(store, [("opendata", "ข้อมูลเปิด ภาครัฐ", "2025-01-06"), ("fraud", "มิจฉาชีพ", "2025-01-07")])
    b = add_items(store, [("opendata", "ข้อมูลเปิด ภาครัฐ", "2025-01-07")], source_id="wire", start=0)
    r = run(make_config(HASHING), store, "2025-01-12")
    assert (r.relevant, r.stories) == (3, 2)
    assert dict(store.db.execute("SELECT item_id, story_id FROM stories")) == {a[0]: a[0], a[1]: a[1], b[0]: a[0]}
    # one story carried by two sources is a signal: counted once for volume, twice for diffusion
    row = store.query("SELECT items, stories, sources FROM signal_weeks")
    assert row == [{"items": 2, "stories": 1, "sources": 2}]


def test_empty_database(store: Store, make_config: Callable[[str], Config]) -> None:
    r = run(make_config(HASHING), store, "2025-01-12")
    assert (r.relevant, r.signals, r.born) == (0, 0, 0)
    assert r.lines[1] == "signals: 0 tracked; 0 born, 0 merged, 0 split; 0 items in no signal; 0 trends"


THAI_ENGLISH = [
    ("ดีอี เตือน ข่าวปลอม กรุงไทยปล่อยสินเชื่อผ่านบัญชี TikTok",
     "กระทรวงดิจิทัลเพื่อเศรษฐกิจและสังคม (ดีอี) ตรวจพบข่าวปลอมเรื่อง ธนาคารกรุงไทยปล่อยสินเชื่อผ่านบัญชี TikTok "
     "โดยมิจฉาชีพเปิดบัญชีปลอมเพื่อหลอกดึงข้อมูลส่วนตัวและดูดเงินจากประชาชน ขอให้ประชาชนอย่าหลงเชื่อและอย่าแชร์"),
    ("Digital ministry warns of fake news: Krungthai Bank offering loans via a TikTok account",
     "The Ministry of Digital Economy and Society found fake news claiming that Krungthai Bank offers loans through a "
     "TikTok account. Scammers opened fake accounts to steal personal data and money from the public. People should "
     "not believe or share it."),
    ("ดีอี ตั้งเป้าภาครัฐใช้ระบบ e-Office หนึ่งล้านผู้ใช้ ลดการใช้กระดาษ",
     "กระทรวงดิจิทัลฯ ตั้งเป้าให้หน่วยงานภาครัฐใช้ระบบสารบรรณอิเล็กทรอนิกส์ e-Office ครบหนึ่งล้านผู้ใช้งานในปี 2568 "
     "เพื่อลดการใช้กระดาษและเพิ่มความรวดเร็วในการทำงาน"),
    ("Government targets one million users of the e-Office system",
     "The digital ministry aims for government agencies to reach one million users of the electronic document "
     "system e-Office in 2025, cutting paper use and speeding up work."),
]


@pytest.mark.slow
def test_thai_and_english_items_about_the_same_matter_share_a_signal(store: Store,
                                                                      make_config: Callable[[str], Config]) -> None:
    rows = [(body, title, "2025-01-0" + str(6 + k)) for k, (title, body) in enumerate(THAI_ENGLISH)]
    ids = add_items(store, rows)
    r = run(make_config("analysis:\n  embedder: use\n"), store, "2025-01-12")
    sig = signal_of(store)
    assert r.relevant == 4 and r.born == 2
    assert sig[ids[0]] == sig[ids[1]] != sig[ids[2]] == sig[ids[3]]
    langs = dict(store.db.execute("SELECT id, lang FROM items"))
    assert [langs[i] for i in ids] == ["th", "en", "th", "en"]
    keywords = json.loads(store.db.execute("SELECT keywords FROM signals WHERE id = ?", (sig[ids[0]],)).fetchone()[0])
    assert keywords["th"] and keywords["en"]  # the label shows both languages


@pytest.mark.slow
def test_full_analyse_with_the_relevance_stage(store: Store, make_config: Callable[[str], Config],
                                               thaigov: list[dict[str, Any]]) -> None:
    """Relevance → signals on real Thai releases; relevance is scored for the window's items only."""
    from tests.signal_data import ensure_source

    ensure_source(store, "thaigov", "file")
    from datetime import datetime

    from scanner.clock import UTC
    from scanner.models import RawItem

    sample = [r for r in thaigov if "2024-11-01" <= r["published"] <= "2024-11-30"][:80]
    raws = [RawItem(url=r["url"], title=r["title"], content=r["body"], lang=r["lang"],
                    published=datetime.fromisoformat(r["published"]).replace(hour=3, tzinfo=UTC)) for r in sample]
    store_items(store, "thaigov", raws, datetime(2025, 1, 1, tzinfo=UTC))
    config = make_config("""
        topics:
          - id: cyber
            description_th: ความมั่นคงปลอดภัยไซเบอร์ ภัยออนไลน์ มิจฉาชีพ บัญชีม้า ข่าวปลอม
            description_en: cyber security, online fraud, scam call centres, mule accounts, fake news
            keywords: [ไซเบอร์, มิจฉาชีพ, บัญชีม้า]
          - id: digital-government
            description_th: รัฐบาลดิจิทัล บริการภาครัฐออนไลน์ ข้อมูลเปิด
            description_en: digital government, online public services, open data
            keywords: [รัฐบาลดิจิทัล, ข้อมูลเปิด]
        """)
    run(config, store, "2024-11-17", relevance=True)
    second = run(config, store, "2024-11-30", relevance=True)
    assert 0 < second.relevant < len(sample)
    from scanner.analysis.analyse import analysis_window
    from scanner.store.signals import item_ids_in

    window = analysis_window(as_of_datetime("2024-11-30"), config.analysis.window_weeks, config.settings.timezone)
    scored = {r[0] for r in store.db.execute("SELECT item_id FROM item_relevance")}
    assert scored == set(item_ids_in(store, "0", window.end))  # every item up to now (all in a window), none later
    kept = signal_of(store)
    assert second.signals >= 1 and kept
    relevant = {r[0] for r in store.db.execute("SELECT item_id FROM item_relevance WHERE relevant = 1")}
    assert set(kept) <= relevant


def test_an_item_no_longer_relevant_leaves_its_signal(replay: Any) -> None:
    from scanner.store.signals import mark_relevant

    store, config, ids = replay
    run(config, store, "2025-01-19")
    assert ids["opendata"][0] in signal_of(store)
    mark_relevant(store, [ids["opendata"][0]], relevant=False)
    run(config, store, "2025-01-19")
    assert signal_of(store) == {**dict.fromkeys(ids["opendata"][1:], 1), **dict.fromkeys(ids["fraud"][:4], 2)}


def test_analyst_merges_are_recognised(store: Store) -> None:
    from scanner.store.signals import analyst_merged, record_events

    add_items(store, [("opendata", "t", "2025-01-06")])
    with store.transaction() as conn:
        for sid in (1, 2):
            conn.execute("INSERT INTO signals (id, first_seen, last_seen, created_at, updated_at) "
                         "VALUES (?, '2025-W02', '2025-W02', '', '')", (sid,))
        detail = {"kept": 1, "merged": 2, "items_moved": 1}
        record_events(conn, "2025-W02", "", [SignalEvent(1, "merged", detail, by="ann"),
                                             SignalEvent(2, "merged", detail, by="ann")])
        record_events(conn, "2025-W02", "", [SignalEvent(3, "merged", {"absorbed": [4]})])
    assert analyst_merged(store) == {1}


def test_engine_events_are_kept_once_per_week_and_analyst_acts_every_time(store: Store) -> None:
    from scanner.store.signals import record_events

    with store.transaction() as conn:
        for _ in range(2):  # the same week analysed twice
            record_events(conn, "2025-W02", "t", [SignalEvent(1, "born", {"items": 3})])
            record_events(conn, "2025-W02", "t", [SignalEvent(1, "renamed", {"to": "x"}, by="ann")])
        record_events(conn, "2025-W03", "t", [SignalEvent(1, "grew", {"stories": 4})])
    rows = store.query("SELECT week, event, by FROM signal_events ORDER BY id")
    assert [(r["week"], r["event"], r["by"]) for r in rows] == [
        ("2025-W02", "born", "engine"), ("2025-W02", "renamed", "ann"), ("2025-W02", "renamed", "ann"),
        ("2025-W03", "grew", "engine")]


def test_thaigov_replayed_week_by_week_keeps_signal_ids(store: Store, make_config: Callable[[str], Config],
                                                        thaigov: list[dict[str, Any]]) -> None:
    """Real Thai releases, replayed each Sunday: an item changes signal only through a recorded merge or split."""
    from datetime import date, datetime, timedelta

    from scanner.clock import UTC
    from scanner.models import RawItem
    from scanner.store.signals import mark_relevant
    from tests.signal_data import ensure_source

    ensure_source(store, "thaigov", "file")
    sample = [r for r in thaigov if "2024-11-01" <= r["published"] <= "2024-12-31"]
    raws = [RawItem(url=r["url"], title=r["title"], content=r["body"], lang=r["lang"],
                    published=datetime.fromisoformat(r["published"]).replace(hour=3, tzinfo=UTC)) for r in sample]
    ids = store_items(store, "thaigov", raws, datetime(2025, 1, 1, tzinfo=UTC)).item_ids
    mark_relevant(store, [i for i, r in zip(ids, sample, strict=True) if r["relevant"]], topics=["digital"])
    config = make_config("analysis:\n  embedder: hashing\n  cluster_threshold: 0.3\n")
    day, seen = date(2024, 11, 3), {}
    while day <= date(2025, 1, 5):
        run(config, store, day.isoformat())
        now = signal_of(store)
        for item, sid in seen.items():
            if now[item] != sid:  # moved: its old signal must have been merged or split that week
                assert store.db.execute("SELECT COUNT(*) FROM signal_events WHERE signal_id = ? AND event IN "
                                        "('merged', 'split')", (sid,)).fetchone()[0] > 0
        seen = now
        day += timedelta(days=7)
    assert len(set(seen.values())) >= 3
    titles = [r[0] for r in store.db.execute("SELECT title FROM signals WHERE status = 'active'")]
    assert all(titles)
    keywords = [json.loads(r[0]) for r in store.db.execute("SELECT keywords FROM signals WHERE status = 'active'")]
    assert any(k["th"] for k in keywords)


def test_the_window_includes_both_ends_to_the_second(store: Store) -> None:
    from scanner.analysis.analyse import analysis_window
    from scanner.clock import parse_iso
    from scanner.models import RawItem
    from scanner.prepare import store_items
    from scanner.store.signals import item_ids_in, mark_relevant, relevant_ids
    from tests.signal_data import ensure_source

    now = as_of_datetime("2025-01-19")  # Sunday 23:59:59 in Bangkok
    window = analysis_window(now, 2, "Asia/Bangkok")
    assert (window.first_week, window.week) == ("2025-W02", "2025-W03")
    assert (window.start, window.end) == ("2025-01-05T17:00:00+00:00", "2025-01-19T16:59:59+00:00")
    ensure_source(store, "news")
    times = ["2025-01-05T16:59:59+00:00", window.start, window.end, "2025-01-19T17:00:00+00:00"]
    raws = [RawItem(url=f"https://example.org/{n}", title=f"ข่าว {n}", summary="ข้อมูลเปิด", published=parse_iso(t))
            for n, t in enumerate(times)]
    ids = store_items(store, "news", raws, now).item_ids
    mark_relevant(store, ids)
    assert relevant_ids(store, window.start, window.end) == ids[1:3]
    assert item_ids_in(store, window.start, window.end) == ids[1:3]


@pytest.mark.parametrize("analyst_keeps", ["first", "second"])
def test_a_merge_made_while_analyse_runs_is_never_undone(store: Store, make_config: Callable[[str], Config],
                                                         monkeypatch: pytest.MonkeyPatch, analyst_keeps: str) -> None:
    """The analyst merges two signals after tracking computed its result and before it is stored
    (`scanner signals merge` does not wait for the lock): the stored result follows the merge."""
    from datetime import UTC, datetime

    from scanner.analysis import analyse as stage
    from scanner.export import list_signals
    from scanner.store.reviews import merge_signals
    from scanner.store.signals import load_signal_refs

    config = make_config("sources: []\nanalysis:\n  embedder: hashing\n  fading_weeks: 3\n")
    add_items(store, [("opendata", "ข้อมูลเปิด", d) for d in ("2025-01-06", "2025-01-08", "2025-01-10", "2025-01-14")])
    add_items(store, [("fraud", "บัญชีม้า", d) for d in ("2025-01-09", "2025-01-13", "2025-01-15", "2025-01-17")],
              start=10)
    analyse(config, store, as_of_datetime("2025-01-19"), relevance=False)
    add_items(store, [("fraud", "บัญชีม้า", d) for d in ("2025-01-21", "2025-01-22")], start=20)
    keep, other = (1, 2) if analyst_keeps == "first" else (2, 1)
    track = stage.track_signals

    def track_then_merge(*args: Any, **kwargs: Any) -> Any:
        result = track(*args, **kwargs)
        with Store.open(store.path) as analyst:  # another connection, as `scanner signals merge` would be
            merge_signals(analyst, keep, other, datetime(2025, 1, 26, tzinfo=UTC))
        return result

    monkeypatch.setattr(stage, "track_signals", track_then_merge)
    analyse(config, store, as_of_datetime("2025-01-26"), relevance=False)
    rows = {r["id"]: r for r in store.query("SELECT id, status, merged_into FROM signals")}
    assert rows[other]["status"] == "merged" and rows[other]["merged_into"] == keep
    assert [r["id"] for r in list_signals(store)] == [keep] and [r.id for r in load_signal_refs(store)] == [keep]
    assert set(signal_of(store).values()) == {keep}  # every item on the signal the analyst kept


def test_a_signal_that_loses_its_latest_items_is_last_seen_at_its_latest_remaining_one(
        store: Store, make_config: Callable[[str], Config]) -> None:
    from scanner.store.signals import mark_relevant

    config = make_config("sources: []\nanalysis:\n  embedder: hashing\n  fading_weeks: 3\n")
    ids = add_items(store, [("fraud", "บัญชีม้า", d) for d in
                            ("2025-01-07", "2025-01-08", "2025-01-14", "2025-01-15", "2025-01-21", "2025-01-22")])
    analyse(config, store, as_of_datetime("2025-01-26"), relevance=False)
    assert store.query("SELECT last_seen FROM signals") == [{"last_seen": "2025-W04"}]
    mark_relevant(store, ids[4:], relevant=False)  # the week-4 items are judged not relevant after all
    analyse(config, store, as_of_datetime("2025-01-26"), relevance=False)
    assert store.query("SELECT last_seen FROM signals") == [{"last_seen": "2025-W03"}]
    analyse(config, store, as_of_datetime("2025-02-09"), relevance=False)  # W06: three weeks after W03
    assert store.query("SELECT state FROM signals") == [{"state": "fading"}]
