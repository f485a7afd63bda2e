"""Trends: signals on one matter grouped one level up, with stable ids, an analyst's moves kept,
names and states of their own, and in the exports and the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from scanner.analysis.analyse import analyse
from scanner.analysis.trends import track_trends
from scanner.cli import cli
from scanner.clock import as_of_datetime
from scanner.config import Config
from scanner.store import Store
from scanner.store.signals import SignalRef
from scanner.store.trends import move_signal, signal_trends, trend_records
from tests.signal_data import EXTRA, add_items


# ------------------------------------------------------------------------------- tracking, in vectors
def around(centre: np.ndarray, n: int, spread: float, rng: np.random.Generator) -> np.ndarray:
    rows = centre + spread * rng.standard_normal((n, centre.shape[0]))
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_close_signals_make_a_trend_a_lone_one_stays_alone_and_ids_hold() -> None:
    rng = np.random.default_rng(7)
    a, b, lone = (np.eye(32)[k] for k in (0, 1, 2))
    means = np.vstack([around(a, 3, 0.05, rng), around(b, 2, 0.05, rng), lone[None, :]])
    sids = [10, 11, 12, 20, 21, 30]
    first = track_trends(sids, means, {}, [], 1)
    groups = {}
    for s, t in first.assignment.items():
        groups.setdefault(t, set()).add(s)
    assert sorted(map(sorted, groups.values())) == [[10, 11, 12], [20, 21]]
    assert 30 not in first.assignment and sorted(first.born) == [1, 2]
    # Next week: a new signal near a joins a's trend; the ids are kept.
    refs = [SignalRef(t, m, "active", "2025-W01") for t, m in first.means.items()]
    more = np.vstack([means, around(a, 1, 0.05, rng)])
    second = track_trends([*sids, 13], more, first.assignment, refs, 3)
    assert second.born == [] and second.assignment[13] == first.assignment[10]
    assert {s: second.assignment[s] for s in first.assignment} == first.assignment


def test_a_pinned_signal_stays_where_the_analyst_put_it() -> None:
    rng = np.random.default_rng(3)
    a, b = np.eye(32)[0], np.eye(32)[1]
    means = np.vstack([around(a, 3, 0.05, rng), around(b, 3, 0.05, rng)])
    sids = [1, 2, 3, 4, 5, 6]
    first = track_trends(sids, means, {}, [], 1)
    ta, tb = first.assignment[1], first.assignment[4]
    assert ta != tb
    refs = [SignalRef(t, m, "active", "2025-W01") for t, m in first.means.items()]
    pinned = {1: tb, 2: tb}  # the analyst says signals 1 and 2 belong with b's signals
    previous = {**first.assignment, **pinned}
    second = track_trends(sids, means, previous, refs, 3, pinned=pinned)
    assert second.assignment[1] == second.assignment[2] == tb and second.assignment[3] == ta
    assert second.split == [] and np.allclose(second.means[tb], means[[0, 1, 3, 4, 5]].mean(axis=0))
    # Without the pins the engine would split them off again (two far groups of two or more).
    free = track_trends(sids, means, previous, refs, 3)
    assert free.split and free.assignment[1] == free.assignment[2] != tb


# ------------------------------------------------------------------------------- end to end, Thai text
# Two sub-matters of online fraud share most of their words (one trend, two signals); open data is apart.
COMMON = "มิจฉาชีพ หลอกลวง ประชาชน ตำรวจ ออนไลน์ scam police"
SUB = {"sms": f"{COMMON} ข้อความ ลิงก์ปลอม เอสเอ็มเอส sms link", "call": f"{COMMON} คอลเซ็นเตอร์ โทรศัพท์ แก๊ง call centre",
       "data": "ข้อมูลเปิด ชุดข้อมูล แพลตฟอร์ม เผยแพร่ ภาครัฐ open data portal catalogue api"}
CONFIG = """\
analysis:
  embedder: hashing
  cluster_threshold: 0.75
  trend_threshold: 0.45
sources: []
"""
DAYS = {"2025-W03": ["2025-01-14", "2025-01-15", "2025-01-16", "2025-01-17"],
        "2025-W04": ["2025-01-21", "2025-01-22", "2025-01-23", "2025-01-24"]}


def add_week(store: Store, week: str, start: int) -> int:
    rows = []
    for matter, text in SUB.items():
        for k, day in enumerate(DAYS[week]):
            n = start + len(rows)
            rows.append((f"{text} {EXTRA[n % len(EXTRA)]} ref{n}", f"{matter} ข่าว {week} {k}", day))
    add_items(store, rows, start=start)
    return start + len(rows)


def signal_with(store: Store, matter: str) -> int:
    rows = store.query("SELECT si.signal_id AS id, count(*) AS n FROM signal_items si "
                       "JOIN items i ON i.id = si.item_id WHERE i.title LIKE ? GROUP BY si.signal_id "
                       "ORDER BY n DESC", [f"{matter} %"])
    return int(rows[0]["id"])


@pytest.fixture
def analysed(store: Store, make_config: Callable[[str], Config]) -> tuple[Config, Store, dict[str, int]]:
    config = make_config(CONFIG)
    add_week(store, "2025-W03", 0)
    result = analyse(config, store, as_of_datetime("2025-01-19"), relevance=False)
    assert result.trends == 1, result.lines
    ids = {m: signal_with(store, m) for m in SUB}
    assert len(set(ids.values())) == 3, ids
    return config, store, ids


def test_sub_matters_are_one_trend_and_the_other_matter_none(analysed: tuple[Config, Store, dict[str, int]]) -> None:
    _, store, ids = analysed
    trend = signal_trends(store)
    assert trend.get(ids["sms"]) is not None and trend.get(ids["sms"]) == trend.get(ids["call"])
    assert ids["data"] not in trend
    (record,) = trend_records(store)
    assert record["signals"] == sorted([ids["sms"], ids["call"]]) and record["items"] == 8
    assert record["state"] == "new" and record["name"] and len(record["name"]) <= 60
    words = set(record["keywords"]["all"])  # both sub-matters' own words, none of open data's
    assert words & {"sms", "link", "ลิงก์ปลอม", "ข้อความ"} and words & {"centre", "call", "คอลเซ็นเตอร์", "แก๊ง"}
    assert not words & set(SUB["data"].split())
    assert record["example"].startswith(("sms ข่าว", "call ข่าว"))


def test_ids_hold_and_an_analysts_move_is_kept(analysed: tuple[Config, Store, dict[str, int]]) -> None:
    config, store, ids = analysed
    (before,) = trend_records(store)
    move_signal(store, ids["data"], before["id"], as_of_datetime("2025-01-20"), by="somchai")
    add_week(store, "2025-W04", 12)
    analyse(config, store, as_of_datetime("2025-01-26"), relevance=False)
    (after,) = trend_records(store)
    assert after["id"] == before["id"]
    assert after["signals"] == sorted(ids.values()) and after["items"] == 24
    row = store.query("SELECT pinned_by FROM signal_trends WHERE signal_id = ?", [ids["data"]])
    assert row == [{"pinned_by": "somchai"}]
    events = store.query("SELECT event, by FROM trend_events WHERE trend_id = ? ORDER BY id", [after["id"]])
    assert {"event": "moved", "by": "somchai"} in events and events[0] == {"event": "born", "by": "engine"}
    weeks = store.query("SELECT week, items, signals FROM trend_weeks WHERE trend_id = ? ORDER BY week", [after["id"]])
    # Counts follow the members as they are now (as a signal's do): the moved signal counts in W03 too.
    assert weeks[-2:] == [{"week": "2025-W03", "items": 12, "signals": 3}, {"week": "2025-W04", "items": 12,
                                                                            "signals": 3}]


def test_cli_lists_shows_exports_moves_and_renames(analysed: tuple[Config, Store, dict[str, int]]) -> None:
    config, store, ids = analysed
    base = ["--config", str(config.path), "--db", str(store.path)]
    runner = CliRunner()
    (record,) = trend_records(store)
    out = runner.invoke(cli, [*base, "trends"])
    assert out.exit_code == 0, out.output
    assert str(record["id"]) in out.output and record["name"] in out.output
    shown = runner.invoke(cli, [*base, "trends", "show", str(record["id"])])
    assert shown.exit_code == 0, shown.output
    assert f"trend {record['id']}: {record['name']}" in shown.output and "born" in shown.output
    assert all(f"{s:>5}" in shown.output for s in record["signals"])
    exported = json.loads(runner.invoke(cli, [*base, "export", "trends", "--format", "json"]).output)
    assert [{k: t[k] for k in ("id", "name", "state", "signals", "items")} for t in exported] == [
        {k: record[k] for k in ("id", "name", "state", "signals", "items")}]  # type: ignore[literal-required]
    signals = {s["id"]: s for s in json.loads(runner.invoke(cli, [*base, "export", "signals"]).output)}
    assert signals[ids["sms"]]["trend"] == {"id": record["id"], "name": record["name"]}
    assert signals[ids["data"]]["trend"] is None
    moved = runner.invoke(cli, [*base, "trends", "move", str(ids["data"]), str(record["id"]), "--by", "malee"])
    assert moved.exit_code == 0 and "stays there" in moved.output
    renamed = runner.invoke(cli, [*base, "trends", "rename", str(record["id"]), "มิจฉาชีพออนไลน์", "--by", "malee"])
    assert renamed.exit_code == 0, renamed.output
    signals = {s["id"]: s for s in json.loads(runner.invoke(cli, [*base, "export", "signals"]).output)}
    assert signals[ids["data"]]["trend"] == {"id": record["id"], "name": "มิจฉาชีพออนไลน์"}
    text = runner.invoke(cli, [*base, "signals", "show", str(ids["data"])]).output
    assert f"trend: {record['id']} มิจฉาชีพออนไลน์" in text
    bad = runner.invoke(cli, [*base, "trends", "move", str(ids["data"]), "999"])
    assert bad.exit_code != 0 and "no trend 999" in bad.output
    missing = runner.invoke(cli, [*base, "trends", "show", "999"])
    assert missing.exit_code != 0 and "no trend with id 999" in missing.output


def test_trend_level_on_real_thai_releases(tmp_path: Path, thaigov: list[dict[str, object]],
                                           make_config: Callable[[str], Config]) -> None:
    """On 300 real releases: every signal in a trend belongs to one trend only, a trend's item count
    is its signals' sum, and names are short."""
    from tests.test_digest_records import HASHING  # the light embedder, default thresholds

    config = make_config(HASHING)
    with Store.open(tmp_path / "real.db") as store:
        rows = [(str(r["body"])[:600], str(r["title"]), str(r["published"])[:10]) for r in thaigov[:300]]
        add_items(store, rows)
        analyse(config, store, as_of_datetime("2024-12-31"), relevance=False)
        records = trend_records(store)
        counts = dict(store.db.execute("SELECT signal_id, count(*) FROM signal_items GROUP BY signal_id"))
        members = [s for r in records for s in r["signals"]]
        assert len(members) == len(set(members))
        assert all(r["items"] == sum(counts[s] for s in r["signals"]) for r in records)
        assert all(len(r["signals"]) >= 1 and len(r["name"]) <= 60 for r in records)


def test_the_digest_leads_with_trends_and_escapes_their_names(
        analysed: tuple[Config, Store, dict[str, int]]) -> None:
    from scanner.digest.build import build_digest
    from scanner.digest.model import digest_from_json
    from scanner.digest.render import render_html, render_json, render_markdown
    from scanner.store.trends import rename_trend

    config, store, ids = analysed
    (record,) = trend_records(store)
    rename_trend(store, record["id"], "<script>alert(1)</script> scams & fakes", as_of_datetime("2025-01-20"))
    digest = build_digest(config, store, "2025-W03", as_of_datetime("2025-01-20"))
    (trend,) = digest.trends
    assert [s.id for s in trend.signals] == sorted([ids["sms"], ids["call"]])
    assert trend.items_week == trend.items_recent == trend.items_total == 8 and trend.state == "new"
    assert trend.why.startswith("First seen this week: 8 items from 2 of its 2 signals")
    html = render_html(digest, "t")
    assert html.index('id="headline"') < html.index('id="trends"') < html.index('id="new"')
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; scams &amp; fakes" in html
    assert all(f'href="#signal-{s.id}"' in html for s in trend.signals)
    md = render_markdown(digest, "t")
    assert md.index("## Trends") < md.index("## New") and "<script>" not in md
    assert digest_from_json(render_json(digest)).trends == digest.trends
