"""The analysts' review loop: verdicts kept with who and when, summarised, and acted on by the digest;
merging and renaming signals by hand."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from scanner.clock import as_of_datetime
from scanner.digest.build import build_digest
from scanner.errors import UsageError
from scanner.store import Store
from scanner.store.reviews import (
    ReviewRow,
    add_review,
    list_reviews,
    merge_signals,
    rename_signal,
    reviews_by_signal,
    summarise_reviews,
)
from tests import digest_fixtures as fx

AS_OF = as_of_datetime("2025-04-01")
T1 = datetime.fromisoformat("2025-03-25T02:00:00+00:00")
T2 = datetime.fromisoformat("2025-03-26T02:00:00+00:00")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return fx.build_base_db(tmp_path_factory.mktemp("review-base"))


@pytest.fixture
def history(base: tuple[Path, dict[str, Any]], tmp_path: Path) -> Any:
    store = fx.copy_db(base[0], tmp_path)
    yield store, base[1], fx.write_config(tmp_path)
    store.close()


def placement(digest: Any) -> dict[int, str]:
    """signal id → the section (or watchlist) whose card shows it."""
    out = {c.id: s.key for s in digest.sections for c in s.signals}
    for w in digest.watchlist:
        if w.get("card") is not None:
            out[w["id"]] = "watchlist"
    return out


def test_verdicts_are_appended_never_overwritten(store: Store) -> None:
    sid = fx.add_signal(store, "ข่าวปลอม", "2025-W10", "2025-W12")
    add_review(store, sid, "keep", "somchai", T1, "worth a call with ETDA")
    add_review(store, sid, "dismiss", "somchai", T2)
    rows = list_reviews(store, sid)
    assert [(r.verdict, r.by, r.created_at, r.note) for r in rows] == [
        ("keep", "somchai", "2025-03-25T02:00:00+00:00", "worth a call with ETDA"),
        ("dismiss", "somchai", "2025-03-26T02:00:00+00:00", None),
    ]
    assert summarise_reviews(rows).effective == "dismiss"


def test_several_analysts_are_summarised() -> None:
    def r(verdict: str, by: str, at: str) -> ReviewRow:
        return ReviewRow(0, 1, None, verdict, by, at, None)

    s = summarise_reviews([r("keep", "ann", "1"), r("dismiss", "bee", "2"), r("dismiss", "cat", "3"),
                           r("dismiss", "ann", "4")])
    assert (s.effective, s.disputed, s.text) == ("dismiss", False, "dismiss (ann, bee, cat)")
    s = summarise_reviews([r("watch", "ann", "1"), r("dismiss", "bee", "2"), r("keep", "cat", "3")])
    assert (s.effective, s.disputed, s.text) == ("watch", True,
                                                 "analysts disagree: keep (cat); watch (ann); dismiss (bee)")
    s = summarise_reviews([r("keep", "ann", "1"), r("dismiss", "bee", "2")])
    assert (s.effective, s.disputed) == ("keep", True)
    assert summarise_reviews([]).effective is None


def test_unknown_signal_and_verdict_are_usage_errors(store: Store) -> None:
    with pytest.raises(UsageError, match="no signal with id 99: list the signals with `scanner signals`"):
        add_review(store, 99, "keep", "ann", T1)
    sid = fx.add_signal(store, "x", "2025-W10", "2025-W10")
    with pytest.raises(UsageError, match="unknown verdict 'maybe': use one of keep, watch, dismiss"):
        add_review(store, sid, "maybe", "ann", T1)


def test_dismissed_signal_leaves_the_digest_but_stays_tracked(history: Any) -> None:
    store, info, config = history
    before = build_digest(config, store, "2025-W12", AS_OF)
    sid = info["signals"]["fake"]
    assert placement(before)[sid] == "emerging"
    add_review(store, sid, "dismiss", "ann", T1, "routine warnings, not a trend")
    after = build_digest(config, store, "2025-W12", AS_OF)
    assert sid not in placement(after)
    assert after.hidden["dismissed"] == 1 and after.hidden["titles"][0]["id"] == sid
    assert sid not in {t.id for t in after.top}
    assert store.query("SELECT status FROM signals WHERE id = ?", [sid])[0]["status"] == "active"


def test_reviews_after_the_digest_was_written_are_not_applied(history: Any) -> None:
    store, info, config = history
    sid = info["signals"]["fake"]
    add_review(store, sid, "dismiss", "ann", as_of_datetime("2025-05-01"))
    assert placement(build_digest(config, store, "2025-W12", AS_OF))[sid] == "emerging"


def test_dismissed_signal_that_surges_comes_back_flagged(history: Any) -> None:
    store, info, config = history
    sid = info["signals"]["pdpa"]
    add_review(store, sid, "dismiss", "ann", T1)
    assert sid not in placement(build_digest(config, store, "2025-W12", AS_OF))
    with store.transaction() as conn:
        conn.execute("UPDATE signal_weeks SET items = 6 WHERE signal_id = ? AND week = '2025-W12'", (sid,))
    digest = build_digest(config, store, "2025-W12", AS_OF)
    card = next(c for s in digest.sections for c in s.signals if c.id == sid)
    assert card.surged_after_dismissal is not None
    assert card.surged_after_dismissal.startswith("Dismissed (dismiss (ann)) but back because it surged: 6 items "
                                                  "this week against")


def test_watched_signal_always_appears_with_notes(history: Any) -> None:
    store, info, config = history
    sid = info["signals"]["semi"]  # fading for months: never among the capped lists' first entries
    config.digest.max_signals = 1
    before = build_digest(config, store, "2025-W12", AS_OF)
    assert sid not in placement(before)
    add_review(store, sid, "watch", "ann", T1, "BOI chip incentives: ask the lab's economist")
    add_review(store, sid, "keep", "bee", T2, "ok")
    digest = build_digest(config, store, "2025-W12", AS_OF)
    assert sid in placement(digest)
    entry = next(w for w in digest.watchlist if w["id"] == sid)
    assert entry["verdict_text"] == "analysts disagree: keep (bee); watch (ann)"
    card = next(c for s in digest.sections for c in s.signals if c.id == sid)
    assert card.watched and [(r.by, r.note) for r in card.reviews] == [
        ("ann", "BOI chip incentives: ask the lab's economist"), ("bee", "ok")]


def test_notes_appear_under_their_signal_in_html_and_markdown(history: Any, tmp_path: Path) -> None:
    from scanner.digest import write_digest

    store, info, config = history
    sid = info["signals"]["ai"]
    add_review(store, sid, "keep", "somchai", T1, "ดูร่างกฎหมาย AI ของ ETDA ด้วย")
    paths = write_digest(config, store, "2025-W12", AS_OF).paths
    html = paths[0].read_text(encoding="utf-8")
    card = html.split(f'id="signal-{sid}"', 1)[1].split("</article>", 1)[0]
    assert "<p><b>somchai</b> (2025-03-25, keep): ดูร่างกฎหมาย AI ของ ETDA ด้วย</p>" in card
    md = paths[1].read_text(encoding="utf-8")
    section = md.split(f"(#{sid})", 1)[1].split("\n### ", 1)[0]
    assert "- Note by somchai (2025-03-25, keep): ดูร่างกฎหมาย AI ของ ETDA ด้วย" in section


def test_rename_wins_over_the_automatic_title_and_is_recorded(history: Any) -> None:
    store, info, config = history
    sid = info["signals"]["ai"]
    old = rename_signal(store, sid, "  AI governance   in the public sector ", T1)
    assert old == "AI ในภาครัฐและเศรษฐกิจ"
    row = store.query("SELECT title, custom_title FROM signals WHERE id = ?", [sid])[0]
    assert row == {"title": "AI ในภาครัฐและเศรษฐกิจ", "custom_title": "AI governance in the public sector"}
    ev = store.query("SELECT week, event, detail, by FROM signal_events WHERE signal_id = ? AND event = 'renamed'",
                     [sid])
    assert ev == [{"week": "2025-W13", "event": "renamed", "by": "analyst", "detail": json.dumps(
        {"from": "AI ในภาครัฐและเศรษฐกิจ", "to": "AI governance in the public sector"},
        ensure_ascii=False, sort_keys=True)}]
    digest = build_digest(config, store, "2025-W12", AS_OF)
    assert next(c for s in digest.sections for c in s.signals if c.id == sid).title == \
        "AI governance in the public sector"
    with pytest.raises(UsageError, match="the new title is empty"):
        rename_signal(store, sid, "   ", T1)


def test_merge_moves_items_marks_the_other_and_recounts(history: Any) -> None:
    store, info, config = history
    keep, other = info["signals"]["mule"], info["signals"]["scam"]
    n_keep = store.query("SELECT count(*) AS n FROM signal_items WHERE signal_id = ?", [keep])[0]["n"]
    n_other = store.query("SELECT count(*) AS n FROM signal_items WHERE signal_id = ?", [other])[0]["n"]
    w12 = {r["signal_id"]: r["items"] for r in store.query(
        "SELECT signal_id, items FROM signal_weeks WHERE week = '2025-W12' AND signal_id IN (?, ?)", [keep, other])}
    add_review(store, other, "watch", "ann", T1, "scams")
    result = merge_signals(store, keep, other, T2)
    assert result.items_moved == n_other
    assert store.query("SELECT count(*) AS n FROM signal_items WHERE signal_id = ?", [keep])[0]["n"] == \
        n_keep + n_other
    row = store.query("SELECT status, merged_into FROM signals WHERE id = ?", [other])[0]
    assert row == {"status": "merged", "merged_into": keep}
    assert store.query("SELECT items FROM signal_weeks WHERE signal_id = ? AND week = '2025-W12'", [keep])[0][
        "items"] == w12[keep] + w12[other]
    events = store.query("SELECT signal_id, event FROM signal_events WHERE event = 'merged' ORDER BY signal_id")
    assert events == [{"signal_id": keep, "event": "merged"}, {"signal_id": other, "event": "merged"}]
    history_rows = store.query("SELECT count(*) AS n FROM signal_item_history WHERE signal_id = ?", [keep])[0]["n"]
    assert history_rows == n_other
    # The merged signal is gone from the digest; its reviews follow it to the one it joined.
    digest = build_digest(config, store, "2025-W12", AS_OF)
    assert other not in placement(digest)
    assert reviews_by_signal(store)[keep][0].note == "scams"
    assert next(w for w in digest.watchlist if w["id"] == keep)["verdict_text"] == "watch (ann)"
    # A review of the merged id lands on the surviving signal.
    assert add_review(store, other, "keep", "bee", T2).signal_id == keep
    with pytest.raises(UsageError, match=f"signal {other} was already merged into {keep}: use {keep} instead"):
        merge_signals(store, keep, other, T2)
    with pytest.raises(UsageError, match="cannot merge signal 3 into itself"):
        merge_signals(store, 3, 3, T2)


def test_merge_and_rename_commands_record_who(history: Any) -> None:
    from click.testing import CliRunner

    from scanner.cli import cli

    store, info, config = history
    base = ["--config", str(config.path), "--db", str(store.path), "signals"]
    ai, keep, other = info["signals"]["ai"], info["signals"]["mule"], info["signals"]["scam"]
    assert CliRunner().invoke(cli, [*base, "rename", str(ai), "AI", "--by", "somchai"]).exit_code == 0
    assert CliRunner().invoke(cli, [*base, "merge", str(keep), str(other), "--by", "malee"]).exit_code == 0
    rows = store.query("SELECT event, by FROM signal_events WHERE event IN ('renamed', 'merged') ORDER BY id")
    assert [(r["event"], r["by"]) for r in rows] == [("renamed", "somchai"), ("merged", "malee"), ("merged", "malee")]
