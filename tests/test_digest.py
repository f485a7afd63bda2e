"""The weekly digest built from real Thai press releases: content, order, caps, honesty on empty
weeks, determinism of back-fills, the index and the Atom feed."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from scanner.analysis.score import STATE_LABELS, STATES
from scanner.clock import as_of_datetime
from scanner.digest import write_digest, write_digests, write_due_digest
from scanner.digest.build import build_digest
from scanner.digest.cards import NO_WEEK_ROW, card_state, last_seen
from scanner.digest.layout import SECTIONS
from scanner.digest.render import STATE_COLOURS
from scanner.errors import UsageError
from scanner.models import SignalWeek
from scanner.store import Store
from scanner.store.digest import SignalRow
from scanner.store.reviews import add_review
from tests import digest_fixtures as fx

AS_OF = as_of_datetime("2025-04-01")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return fx.build_base_db(tmp_path_factory.mktemp("digest-base"))


@pytest.fixture
def history(base: tuple[Path, dict[str, Any]], tmp_path: Path) -> Any:
    store = fx.copy_db(base[0], tmp_path)
    yield store, base[1]
    store.close()


def expected_counts(week_days: tuple[str, str]) -> tuple[int, int]:
    rows = [r for r in fx.load_thaigov() if week_days[0] <= r["published"] <= week_days[1]]
    return len(rows), sum(1 for r in rows if r["relevant"])


def section_ids(html: str) -> list[str]:
    return re.findall(r'<section (?:class="headline" )?id="([a-z]+)"', html)


def test_real_week_digest_has_every_section_in_order(history: Any, tmp_path: Path) -> None:
    store, _info = history
    config = fx.write_config(tmp_path)
    result = write_digest(config, store, "2025-W12", AS_OF)
    reports = tmp_path / "reports"
    assert [p.name for p in result.paths] == ["2025-W12.html", "2025-W12.md", "2025-W12.json", "index.html",
                                              "feed.xml"]
    html = (reports / "2025-W12.html").read_text(encoding="utf-8")
    assert section_ids(html) == ["headline", "emerging", "new", "strong", "fading", "latent", "sightings", "charts",
                                 "themes", "watchlist", "sources"]
    items, relevant = expected_counts(("2025-03-17", "2025-03-23"))
    data = json.loads((reports / "2025-W12.json").read_text(encoding="utf-8"))
    assert data["headline"][0] == (f"In 2025-W12 (17–23 Mar 2025) the scanner collected {items} items from 4 sources "
                                   f"(ckan, html, rss), {relevant} items relevant to the lab's topics.")
    assert len(data["headline"]) == 3
    assert 1 <= len(data["top"]) <= 3
    # Every top signal links to a card in the page.
    for t in data["top"]:
        assert f'id="{t["anchor"]}"' in html
        assert f'href="#{t["anchor"]}"' in html
    s = data["stats"]
    assert result.lines == [f"digest 2025-W12: {items} items, {s['new']} new, {s['weak']} weak, {s['strong']} strong, "
                            f"{s['fading']} fading signals → {reports / '2025-W12.html'}"]


def test_weak_signal_card_shows_keywords_why_sparkline_sources_tags_and_items(history: Any, tmp_path: Path) -> None:
    store, info = history
    config = fx.write_config(tmp_path)
    digest = build_digest(config, store, "2025-W12", AS_OF)
    emerging = next(s for s in digest.sections if s.key == "emerging")
    assert emerging.signals, "the fixture week has weak signals"
    card = emerging.signals[0]
    spec = next(s for s in fx.SIGNALS if info["signals"].get(s.key) == card.id)
    assert card.state == "weak"
    assert card.keywords_th == spec.th and card.keywords_en == spec.en
    assert card.why.startswith(f"Rare but rising with evidence: {sum(card.sparkline[-4:])} item")
    assert "against" in card.why and "visibility" not in card.why  # the reasons are counts, never "steady"
    assert len(card.sparkline) == 12 and card.sparkline[-1] == card.items_week
    assert card.tags == spec.tags
    assert 3 <= len(card.items) <= 5
    for item in card.items:
        assert item.url is not None and item.url.startswith("https://www.thaigov.go.th/news/contents/details/")
        assert item.date <= "2025-03-23"
    # This week's items come first.
    week_items = [i for i in card.items if i.date >= "2025-03-17"]
    assert card.items[: len(week_items)] == week_items
    html = (write_digest(config, store, "2025-W12", AS_OF).paths[0]).read_text(encoding="utf-8")
    block = html.split(f'id="signal-{card.id}"', 1)[1].split("</article>", 1)[0]
    assert 'class="spark"' in block
    for kw in spec.th + spec.en:
        assert f'<span class="chip">{kw}</span>' in block


def test_digest_uses_only_items_published_by_the_end_of_its_week(history: Any, tmp_path: Path) -> None:
    store, info = history
    config = fx.write_config(tmp_path)
    first = write_digest(config, store, "2025-W10", AS_OF).paths
    before = {p.name: p.read_bytes() for p in first[:3]}
    # A later item joins a signal, and a later analyse pass scores the following week.
    sid = info["signals"]["ai"]
    late = fx.insert_item(store, "thaigov", "AI item published after the week", "2025-03-12T03:00:00+00:00",
                          "https://www.thaigov.go.th/news/contents/details/1")
    fx.assign(store, late, sid, 0.99, "2025-W11")
    # Built again from the database (not from the week's record), it still leaves the later item out.
    again = write_digest(config, store, "2025-W10", as_of_datetime("2025-05-01"), rebuild=True).paths
    assert {p.name: p.read_bytes() for p in again[:3]} == before


def test_backfill_is_deterministic_byte_for_byte(base: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    outputs = []
    for run, as_of in enumerate(("2025-04-01", "2025-06-30")):
        folder = tmp_path / f"run{run}"
        folder.mkdir()
        config = fx.write_config(folder)
        store = fx.copy_db(base[0], folder)
        results = write_digests(config, store, "2025-W01", "2025-W12", as_of_datetime(as_of))
        store.close()
        assert [r.week for r in results] == [f"2025-W{n:02d}" for n in range(1, 13)]
        outputs.append({p.name: p.read_bytes() for p in sorted((folder / "reports").iterdir())})
    assert len(outputs[0]) == 12 * 3 + 2
    assert outputs[0] == outputs[1]


def test_empty_database_gives_an_honest_readable_digest(store: Store, tmp_path: Path) -> None:
    config = fx.write_config(tmp_path)
    result = write_digest(config, store, "2025-W10", AS_OF)
    data = json.loads(result.paths[2].read_text(encoding="utf-8"))
    assert data["headline"] == [
        "No items were published in 2025-W10 (3–9 Mar 2025) by the sources the scanner reads.",
        "No signals are tracked yet: signals appear once `scanner analyse` has grouped enough related items.",
        "This is one of the first digests: growth rates need a few weeks of history, so states will settle.",
    ]
    html = result.paths[0].read_text(encoding="utf-8")
    assert "No weak signals this week" in html and "No keyword scores for this week yet." in html
    assert section_ids(html)[-1] == "sources"
    md = result.paths[1].read_text(encoding="utf-8")
    assert md.startswith("# Horizon scan: Thai digital government: week 2025-W10\n")
    assert "None this week." in md


def test_first_run_with_a_few_unanalysed_items(store: Store, tmp_path: Path) -> None:
    config = fx.write_config(tmp_path)
    fx.insert_sources(store)
    for n, row in enumerate(fx.load_thaigov()[:3]):
        fx.insert_item(store, "thaigov", row["title"], "2025-03-04T03:00:00+00:00", row["url"], relevant=None,
                       body=str(n))
    data = build_digest(config, store, "2025-W10", AS_OF)
    assert data.headline[0] == "In 2025-W10 (3–9 Mar 2025) the scanner collected 3 items from 1 source (rss)."
    assert data.first_digest is True
    assert data.charts["volume"]["series"] == [{"id": "all items", "name": "all items",
                                                "counts": [0] * 11 + [3]}]


def test_long_lists_are_capped_with_and_n_more(history: Any, tmp_path: Path) -> None:
    store, _ = history
    config = fx.write_config(tmp_path, "digest:\n  max_signals: 1\n  max_items: 3\n")
    digest = build_digest(config, store, "2025-W12", AS_OF)
    top_ids = {t.id for t in digest.top}
    for sec in digest.sections:
        beyond_cap = [c for c in sec.signals[1:] if c.id not in top_ids]
        assert beyond_cap == []
    fading = next(s for s in digest.sections if s.key == "fading")
    assert fading.more == 3 and len(fading.signals) == 1
    html = write_digest(config, store, "2025-W12", AS_OF).paths[0].read_text(encoding="utf-8")
    assert "and 3 more (<code>scanner signals --state fading</code>)." in html
    for sec in digest.sections:
        for c in sec.signals:
            assert len(c.items) <= 3
    steepv = next(g for g in digest.themes if g["key"] == "steepv")
    social = next(t for t in steepv["tags"] if t["tag"] == "social")
    tagged = [s for s in fx.SIGNALS if "social" in s.tags["steepv"]]
    assert len(social["signals"]) == 1 and social["more"] == len(tagged) - 1
    assert f"and {len(tagged) - 1} more</td>" in html


def test_week_must_be_valid_and_over(store: Store, tmp_path: Path) -> None:
    config = fx.write_config(tmp_path)
    with pytest.raises(UsageError, match="is not an ISO week: write it as YYYY-Www"):
        write_digest(config, store, "2025-12", AS_OF)
    with pytest.raises(UsageError, match="2025-W14 is not over yet"):
        write_digest(config, store, "2025-W14", AS_OF)
    with pytest.raises(UsageError, match="does not exist: 2025 has no week 53"):
        write_digest(config, store, "2025-W53", AS_OF)


@pytest.mark.parametrize(("now", "week"), [
    ("2025-03-23T16:59:00+00:00", "2025-W11"),  # Sunday 23:59 in Bangkok: W12 is not over
    ("2025-03-23T17:01:00+00:00", "2025-W12"),  # Monday 00:01 in Bangkok
])
def test_due_digest_is_the_last_complete_week_in_the_lab_timezone(store: Store, tmp_path: Path, now: str,
                                                                  week: str) -> None:
    config = fx.write_config(tmp_path)
    result = write_due_digest(config, store, datetime.fromisoformat(now))
    assert result is not None and result.week == week
    assert (tmp_path / "reports" / f"{week}.html").exists()
    assert write_due_digest(config, store, datetime.fromisoformat(now)) is None


def test_index_and_feed_list_digests_newest_first(history: Any, tmp_path: Path) -> None:
    store, _ = history
    config = fx.write_config(tmp_path, "digest:\n  base_url: https://lab.example.org/scan/\n")
    write_digests(config, store, "2025-W10", "2025-W12", AS_OF)
    index = (tmp_path / "reports" / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'class="w" href="([^"]+)"', index) == ["2025-W12.html", "2025-W11.html", "2025-W10.html"]
    items, _ = expected_counts(("2025-03-17", "2025-03-23"))
    assert f"17–23 Mar 2025 · {items} items · " in index
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.parse(tmp_path / "reports" / "feed.xml").getroot()
    entries = feed.findall("a:entry", ns)
    assert [e.find("a:id", ns).text for e in entries] == [  # type: ignore[union-attr]
        "urn:scanner:digest:2025-W12", "urn:scanner:digest:2025-W11", "urn:scanner:digest:2025-W10"]
    assert entries[0].find("a:link", ns).get("href") == "https://lab.example.org/scan/2025-W12.html"  # type: ignore[union-attr]
    assert feed.find("a:updated", ns).text == "2025-03-23T17:00:00+00:00"  # type: ignore[union-attr]
    assert entries[0].find("a:summary", ns).text.startswith("In 2025-W12 (17–23 Mar 2025)")  # type: ignore[union-attr]


def test_volume_chart_counts_relevant_items_by_first_topic(history: Any, tmp_path: Path) -> None:
    store, _ = history
    config = fx.write_config(tmp_path)
    vol = build_digest(config, store, "2025-W12", AS_OF).charts["volume"]
    assert vol["relevant_only"] is True
    _, relevant = expected_counts(("2025-03-17", "2025-03-23"))
    assert sum(s["counts"][-1] for s in vol["series"]) == relevant
    names = {s["name"] for s in vol["series"]}
    assert names <= {"Digital government and e-services", "Cyber security and online fraud",
                     "Digital economy and platforms"}


def test_pipeline_digest_step_writes_the_due_digest_once(store: Store, tmp_path: Path) -> None:
    from scanner.pipeline import digest_step

    config = fx.write_config(tmp_path)
    now = datetime.fromisoformat("2025-03-24T01:00:00+00:00")
    lines = digest_step(config, store, now)
    assert lines == [f"digest 2025-W12: 0 items, 0 new, 0 weak, 0 strong, 0 fading signals → "
                     f"{tmp_path / 'reports' / '2025-W12.html'}"]
    assert digest_step(config, store, now) == []


def test_every_state_has_one_section_and_a_label() -> None:
    shown_in = [state for *_, states in SECTIONS for state in states]
    assert sorted(shown_in) == sorted(STATES)
    assert set(STATE_LABELS) == set(STATES) == set(STATE_COLOURS)


def signal_row(first_seen: str = "2025-W01", state: str | None = "weak") -> SignalRow:
    return SignalRow(id=1, title="t", custom_title=None, keywords={}, state=state, topics=[], tags={},
                     first_seen=first_seen, last_seen="2025-W10")


def week_row(week: str, state: str | None, items: int = 1) -> SignalWeek:
    return SignalWeek(signal_id=1, week=week, items=items, stories=items, sources=1, source_kinds=1, dov=None,
                         dod=None, dov_growth=None, dod_growth=None, state=state, keywords={})


@pytest.mark.parametrize(("this", "latest", "last_item", "state"), [
    # The state analyse stored for the week wins, whatever the other rows say.
    (week_row("2025-W12", "latent"), week_row("2025-W12", "latent"), "2025-W02", "latent"),
    # No row for the week: the latest known state, unless there has been no item for fading_weeks (6) weeks.
    (None, week_row("2025-W11", "strong"), "2025-W07", "strong"),
    (None, week_row("2025-W11", "strong"), "2025-W06", "fading"),
    # A row recounted by a merge has no state yet: the same rule, from the signal's own state.
    (week_row("2025-W12", None), week_row("2025-W12", None), "2025-W12", "weak"),
    (None, None, None, "weak"),
])
def test_state_is_the_stored_one_else_the_one_rule(this: SignalWeek | None, latest: SignalWeek | None,
                                                   last_item: str | None, state: str) -> None:
    assert card_state(signal_row(), this or NO_WEEK_ROW, latest, last_item, "2025-W12", 6) == state


def test_unscored_first_week_is_new() -> None:
    assert card_state(signal_row("2025-W12"), NO_WEEK_ROW, None, "2025-W12", "2025-W12", 6) == "new"


def test_last_seen_is_the_week_of_the_latest_item_not_of_the_latest_row() -> None:
    # Scoring writes rows for weeks without items too: a fading signal was last *seen* at its last item.
    assert last_seen(signal_row(), week_row("2025-W09", "fading", items=0), "2025-W03") == "2025-W03"
    assert last_seen(signal_row(), week_row("2025-W09", "weak"), None) == "2025-W09"
    assert last_seen(signal_row(), None, None) == "2025-W10"


def test_json_keeps_its_public_field_names(history: Any, tmp_path: Path) -> None:
    store, info = history
    config = fx.write_config(tmp_path)
    add_review(store, info["signals"]["semi"], "watch", "ann", AS_OF, "ask DGA")
    add_review(store, info["signals"]["ai"], "keep", "bee", AS_OF, "a note")
    add_review(store, info["signals"]["fake"], "dismiss", "bee", AS_OF)
    fx.add_fetches(store, "2025-W12")
    data = json.loads(write_digest(config, store, "2025-W12", AS_OF).paths[2].read_text(encoding="utf-8"))
    assert list(data) == ["week", "start", "end", "period", "timezone", "first_digest", "headline", "top", "stats",
                          "sections", "charts", "themes", "watchlist", "hidden", "source_health", "history_weeks",
                          "sightings", "trends", "trends_more"]
    assert list(data["sightings"]) == ["items", "more"]
    assert list(data["top"][0]) == ["id", "anchor", "title", "state", "state_label", "why"]
    assert list(data["stats"]) == ["items", "relevant", "analysed", "sources", "source_kinds", "signals_tracked",
                                   "new", "weak", "strong", "fading", "established", "latent"]
    assert list(data["sections"][0]) == ["key", "title", "title_th", "intro", "signals", "more"]
    card = data["sections"][0]["signals"][0]
    assert list(card) == [
        "id", "anchor", "title", "state", "state_label", "why", "scores_text", "keywords_th", "keywords_en",
        "items_week", "stories_week", "items_total", "items_recent", "sources_week", "source_kinds_week",
        "source_names", "kinds", "dov", "dod", "dov_growth", "dod_growth", "first_seen", "last_seen", "sparkline",
        "tags", "topics", "items", "items_more", "events", "attention", "verdict", "verdict_text", "disputed",
        "watched", "surged_after_dismissal", "reviews", "novelty", "rating", "summary"]
    assert list(card["items"][0]) == ["id", "title", "url", "source", "source_name", "kind", "date", "lang"]
    charts = data["charts"]
    assert list(charts) == ["emergence", "issue", "volume"]
    assert list(charts["emergence"]) == ["x", "y", "x_split", "y_split", "points"]
    assert list(charts["emergence"]["points"][0]) == ["label", "lang", "tf", "dov_growth", "quadrant"]
    assert list(charts["issue"]["points"][0]) == ["label", "lang", "df", "dod_growth", "quadrant"]
    assert list(charts["volume"]) == ["weeks", "relevant_only", "series"]
    assert list(charts["volume"]["series"][0]) == ["id", "name", "counts"]
    assert list(data["themes"][0]) == ["key", "label", "tags"]
    assert list(data["themes"][0]["tags"][0]) == ["tag", "signals", "more"]
    assert list(data["themes"][0]["tags"][0]["signals"][0]) == ["id", "anchor", "title", "state", "linked"]
    watched, noted = data["watchlist"]
    assert list(watched) == ["id", "anchor", "title", "state", "state_label", "items_week", "verdict_text",
                             "shown_above", "card"]
    assert list(noted) == ["notes_only", "id", "anchor", "title", "reviews"]
    assert list(noted["reviews"][0]) == ["verdict", "by", "at", "note"]
    assert list(data["hidden"]) == ["dismissed", "titles", "more"]
    assert list(data["hidden"]["titles"][0]) == ["id", "title", "verdict_text"]
    health = data["source_health"]
    assert list(health) == ["sources", "failed", "failed_more", "stale", "stale_more", "new", "new_more", "week"]
    assert list(health["failed"][0]) == ["id", "name", "failures", "attempts", "error"]
    assert list(health["stale"][0]) == ["id", "name", "last_item", "weeks"]


def test_ratings_show_as_medians_in_the_digest_and_the_exports(history: Any, tmp_path: Path) -> None:
    """FTSS-scale ratings: medians and raters on the card (HTML, Markdown, JSON) and in export signals;
    a rating given after the digest's time is not in it."""
    from scanner.digest.render import render_html, render_json, render_markdown
    from scanner.export import SIGNAL_CSV_COLUMNS, export_signals
    from scanner.store.ratings import rate_signal

    store, info = history
    config = fx.write_config(tmp_path)
    ai = info["signals"]["ai"]
    rate_signal(store, ai, "ann", 4, "H1", 3, as_of_datetime("2025-03-20"))
    rate_signal(store, ai, "bee", 5, "H2", 2, as_of_datetime("2025-03-21"))
    rate_signal(store, ai, "kim", 1, "H3", 1, as_of_datetime("2025-04-05"))  # after AS_OF
    digest = build_digest(config, store, "2025-W12", AS_OF)
    (card,) = [c for s in digest.sections for c in s.signals if c.id == ai]
    assert card.rating is not None
    assert (card.rating.raters, card.rating.novelty, card.rating.horizon, card.rating.impact) == (2, 4.5, "H1", 2.5)
    assert all(c.rating is None for s in digest.sections for c in s.signals if c.id != ai)
    assert "Ratings (2 raters, medians): novelty 4.5 of 5 · horizon H1 · impact 2.5 of 3." in render_html(digest, "t")
    md = render_markdown(digest, "t")
    assert "- Ratings (2 raters, medians): novelty 4.5 of 5, horizon H1, impact 2.5 of 3" in md
    cards = {c["id"]: c for s in json.loads(render_json(digest))["sections"] for c in s["signals"]}
    assert cards[ai]["rating"] == {"raters": 2, "novelty": 4.5, "horizon": "H1", "impact": 2.5}
    records = {r["id"]: r for r in json.loads(export_signals(store, "json"))}
    assert records[ai]["ratings"] == {"raters": 3, "novelty": 4.0, "horizon": "H2", "impact": 2.0}  # all, now
    assert records[info["signals"]["semi"]]["ratings"]["raters"] == 0
    header = export_signals(store, "csv").splitlines()[0]
    from scanner.export import show_signal, signal_text

    found = show_signal(store, ai)
    assert found is not None
    assert "  ratings (3 raters, medians): novelty 4 of 5, horizon H2, impact 2 of 3" in signal_text(found[0])
    assert header.split(",")[-4:] == ["raters", "novelty_rating", "horizon", "impact"] == SIGNAL_CSV_COLUMNS[-4:]
