"""Digests are records: a week once written regenerates byte for byte whatever is analysed, reviewed,
merged or renamed later; ``scanner digest --rebuild`` is the deliberate way to build it again."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.analysis.analyse import analyse
from scanner.analysis.replay import week_moment
from scanner.cli import cli
from scanner.clock import as_of_datetime, iso, week_end, week_start, weeks_between
from scanner.config import Config
from scanner.digest import write_digest, write_digests, write_due_digest
from scanner.digest.build import build_digest
from scanner.digest.model import (
    Digest,
    EmergencePoint,
    IssuePoint,
    VolumeChart,
    digest_from_dict,
    digest_from_json,
)
from scanner.digest.render import render_html, render_json, render_markdown
from scanner.store import Store
from scanner.store.records import fetch_digest_record
from scanner.store.reviews import add_review, merge_signals, rename_signal
from tests import digest_fixtures as fx
from tests.signal_data import add_items

HASHING = "analysis:\n  embedder: hashing\n  fading_weeks: 3\nsources: []\n"
TZ = "Asia/Bangkok"
WEEKS = weeks_between("2025-W02", "2025-W11")
# matter: (first week index, last week index + 1, items a week, source)
PLAN = {"opendata": (0, 10, 2, "news"), "fraud": (2, 10, 3, "police"), "ai": (5, 10, 3, "news"),
        "wifi": (0, 4, 3, "news")}
LATER = as_of_datetime("2025-04-07", TZ)  # Monday of 2025-W15
RENAMED = "AI pilots in ministries"


def days(week: str, n: int) -> list[str]:
    """``n`` days of ``week``, Tuesday to Saturday in turn."""
    tuesday = week_start(week, TZ).date() + timedelta(days=1)
    return [(tuesday + timedelta(days=i % 5)).isoformat() for i in range(n)]


class Archive:
    """Items of four matters, added so that every item gets its own URL."""

    def __init__(self, store: Store) -> None:
        self.store, self.n = store, 0

    def add(self, matter: str, week: str, n: int, source: str, label: str) -> None:
        rows = [(matter, f"{matter} {label} {week} {j}", d) for j, d in enumerate(days(week, n))]
        add_items(self.store, rows, source_id=source, start=self.n)
        self.n += n


def live_through_ten_weeks(config: Config, store: Store) -> Archive:
    """The scanner's ten weeks: each week analysed at its end, its digest written on Monday morning."""
    archive = Archive(store)
    for i, week in enumerate(WEEKS):
        for matter, (first, stop, n, source) in PLAN.items():
            if first <= i < stop:
                archive.add(matter, week, n, source, "item")
    for week in WEEKS:
        end = week_end(week, TZ)
        analyse(config, store, week_moment(week, end, TZ), relevance=False)
        result = write_due_digest(config, store, end + timedelta(hours=1))  # Monday 08:00 in Bangkok
        assert result is not None and result.week == week
        assert "as written" not in result.lines[0]
    return archive


def files(reports: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(reports.iterdir())}


def signal_of(store: Store, matter: str) -> int:
    """The signal that holds most of ``matter``'s items."""
    rows = store.query("SELECT si.signal_id AS id, count(*) AS n FROM signal_items si JOIN items i ON i.id = "
                       "si.item_id WHERE i.title LIKE ? GROUP BY si.signal_id ORDER BY n DESC", [f"{matter} %"])
    assert rows, f"no signal holds the {matter} items"
    return int(rows[0]["id"])


def later_changes(config: Config, store: Store, archive: Archive) -> dict[str, int]:
    """What happens after the ten weeks: late items of old weeks arrive, new weeks come in and are
    analysed, and analysts rename, merge and review signals."""
    archive.add("ai", "2025-W08", 4, "news", "late")
    for week in ("2025-W12", "2025-W13", "2025-W14"):
        archive.add("fraud", week, 5, "police", "new")
        archive.add("ai", week, 4, "news", "new")
    analyse(config, store, LATER, relevance=False)
    ids = {m: signal_of(store, m) for m in ("opendata", "wifi", "fraud", "ai")}
    assert len(set(ids.values())) == 4, f"the four matters should be four signals: {ids}"
    rename_signal(store, ids["ai"], RENAMED, LATER, TZ, by="somchai")
    merge_signals(store, ids["opendata"], ids["wifi"], LATER, TZ, by="malee")
    add_review(store, ids["fraud"], "watch", "ann", LATER, "ask the police about the SIM rules")
    add_review(store, ids["opendata"], "dismiss", "bee", LATER)
    return ids


@pytest.fixture
def lived(tmp_path: Path, make_config: Callable[[str], Config]) -> Any:
    """Ten weeks lived through and their reports as written at the time, then the later changes."""
    config = make_config(HASHING)
    store = Store.open(tmp_path / "signals.db")
    archive = live_through_ten_weeks(config, store)
    written = files(config.reports_path)
    assert len(written) == 3 * len(WEEKS) + 2  # each week's HTML, Markdown, JSON; index.html, feed.xml
    ids = later_changes(config, store, archive)
    yield config, store, written, ids
    store.close()


def test_regenerating_ten_past_weeks_gives_the_files_written_at_the_time(lived: Any) -> None:
    config, store, written, _ = lived
    # Built from the database now, every week would differ: late items, the rename, the merge, the reviews.
    changed = [w for w in WEEKS if render_json(build_digest(config, store, w, LATER)) != written[f"{w}.json"].decode()]
    assert changed == WEEKS
    results = write_digests(config, store, WEEKS[0], WEEKS[-1], LATER)
    assert files(config.reports_path) == written
    assert results[0].lines[0].endswith(" (as written at 2025-01-12T18:00:00+00:00; --rebuild rebuilds it)")
    # The command does the same, and so does the scheduler's e-mail-less due digest of a written week.
    out = CliRunner().invoke(cli, ["--config", str(config.path), "--db", str(store.path), "digest", "--from",
                                   WEEKS[0], "--to", WEEKS[-1], "--as-of", "2025-04-07"])
    assert out.exit_code == 0, out.output
    assert files(config.reports_path) == written
    (config.reports_path / f"{WEEKS[-1]}.html").unlink()
    assert write_due_digest(config, store, week_end(WEEKS[-1], TZ) + timedelta(hours=2)) is not None
    assert files(config.reports_path) == written


def test_rebuild_picks_up_the_changes_and_replaces_the_record(lived: Any) -> None:
    config, store, written, ids = lived
    week = "2025-W10"
    base = ["--config", str(config.path), "--db", str(store.path), "digest"]
    out = CliRunner().invoke(cli, [*base, "--week", week, "--rebuild", "--as-of", "2025-04-07"])
    assert out.exit_code == 0, out.output
    assert "as written" not in out.output
    rebuilt = files(config.reports_path)
    assert rebuilt[f"{week}.json"] != written[f"{week}.json"]
    data = json.loads(rebuilt[f"{week}.json"])
    cards = {c["id"]: c for s in data["sections"] for c in s["signals"]}
    assert cards[ids["ai"]]["title"] == RENAMED and RENAMED in rebuilt[f"{week}.html"].decode()
    assert ids["wifi"] not in cards  # merged into the open-data signal, which is dismissed
    assert [h["id"] for h in data["hidden"]["titles"]] == [ids["opendata"]]
    assert "ask the police about the SIM rules" in rebuilt[f"{week}.md"].decode()
    # Only that week changed (and the index and feed made from it), and the rebuild is now its record.
    changed = {n for n in written if rebuilt[n] != written[n]}
    assert {f"{week}.html", f"{week}.md", f"{week}.json"} <= changed <= {f"{week}.html", f"{week}.md",
                                                                         f"{week}.json", "index.html", "feed.xml"}
    record = fetch_digest_record(store, week)
    assert record is not None and record.written_at == iso(LATER)
    again = CliRunner().invoke(cli, [*base, "--week", week, "--as-of", "2025-04-08"])
    assert again.exit_code == 0 and f"(as written at {iso(LATER)};" in again.output
    assert files(config.reports_path) == rebuilt
    # A back-fill with --rebuild rebuilds every week of it.
    out = CliRunner().invoke(cli, [*base, "--from", WEEKS[0], "--to", WEEKS[-1], "--rebuild", "--as-of", "2025-04-07"])
    assert out.exit_code == 0, out.output
    now = files(config.reports_path)
    assert all(now[f"{w}.json"] != written[f"{w}.json"] for w in WEEKS)
    assert all(now[f"{w}.json"] == render_json(build_digest(config, store, w, LATER)).encode() for w in WEEKS)


def test_a_week_written_before_records_were_kept_gets_one_when_regenerated(
        store: Store, make_config: Callable[[str], Config]) -> None:
    config = make_config(HASHING)
    archive = Archive(store)
    for week in WEEKS[:3]:
        archive.add("ai", week, 3, "news", "item")
    analyse(config, store, week_moment(WEEKS[2], LATER, TZ), relevance=False)
    written_then = datetime.fromisoformat("2025-01-27T01:00:00+00:00")
    write_digest(config, store, WEEKS[2], written_then)
    with store.transaction() as conn:  # as a database from before m009 has it: files and a digests row only
        conn.execute("DELETE FROM digest_records")
    sid = signal_of(store, "ai")
    rename_signal(store, sid, RENAMED, LATER, TZ)
    first = write_digest(config, store, WEEKS[2], LATER)  # built from the database now, and recorded
    assert "as written" not in first.lines[0] and first.digest.sections
    assert RENAMED in first.paths[0].read_text(encoding="utf-8")
    regenerated = files(config.reports_path)
    rename_signal(store, sid, "Another title", LATER, TZ)
    write_digest(config, store, WEEKS[2], LATER + timedelta(days=7))
    assert files(config.reports_path) == regenerated


# ------------------------------------------------------------------------------- JSON round trip
def assert_round_trip(digest: Digest) -> None:
    """The record renders exactly as the digest it was made from."""
    text = render_json(digest)
    back = digest_from_json(text)
    assert render_json(back) == text
    assert render_html(back, "t") == render_html(digest, "t")
    assert render_markdown(back, "t") == render_markdown(digest, "t")


def test_round_trip_over_the_fixture_weeks(tmp_path: Path) -> None:
    path, info = fx.build_base_db(tmp_path)
    config = fx.write_config(tmp_path)
    as_of = as_of_datetime("2025-04-01")
    with Store.open(path) as store:
        add_review(store, info["signals"]["semi"], "watch", "ann", as_of, "ask DGA")
        add_review(store, info["signals"]["ai"], "keep", "bee", as_of, "a note")
        add_review(store, info["signals"]["fake"], "dismiss", "bee", as_of)
        fx.add_hostile_item(store, "2025-W11")
        for week in ("2025-W01", "2025-W06", "2025-W11", "2025-W12"):
            digest = build_digest(config, store, week, as_of)
            assert_round_trip(digest)
            assert digest_from_json(render_json(digest)) == digest


def keyword_map(point: type[Any]) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries({"x": st.text(), "y": st.text(), "x_split": st.none() | st.floats(),
                                  "y_split": st.none() | st.floats(),
                                  "points": st.lists(st.from_type(point), max_size=3)})


CHARTS = st.fixed_dictionaries({"emergence": keyword_map(EmergencePoint), "issue": keyword_map(IssuePoint),
                                "volume": st.from_type(VolumeChart)})


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.builds(Digest, charts=CHARTS))
def test_any_digest_json_reads_back_to_the_same_json(digest: Digest) -> None:
    text = render_json(digest)
    assert render_json(digest_from_json(text)) == text


def test_a_record_from_an_older_model_reads_with_defaults(tmp_path: Path) -> None:
    path, info = fx.build_base_db(tmp_path)
    config = fx.write_config(tmp_path)
    with Store.open(path) as store:
        add_review(store, info["signals"]["semi"], "watch", "ann", as_of_datetime("2025-04-01"), "ask DGA")
        data = json.loads(render_json(build_digest(config, store, "2025-W12", as_of_datetime("2025-04-01"))))
    del data["history_weeks"], data["hidden"]
    card = data["sections"][0]["signals"][0]
    del card["reviews"], card["watched"], card["sparkline"]
    del data["watchlist"][0]["verdict_text"]
    data["gone"] = card["gone"] = 1  # a field the model no longer has
    digest = digest_from_dict(data)
    assert digest.history_weeks == [] and digest.hidden == {"dismissed": 0, "titles": [], "more": 0}
    first = digest.sections[0].signals[0]
    assert (first.reviews, first.watched, first.sparkline) == ([], False, [])
    assert digest.watchlist[0]["verdict_text"] == ""
    assert "gone" not in json.loads(render_json(digest))
    render_html(digest, "t")
    render_markdown(digest, "t")
