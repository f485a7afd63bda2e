"""Yoon's degrees of visibility and diffusion, growth rates, map quadrants and states."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scanner.analysis.score import (
    WindowData,
    burst_p,
    growth_rate,
    quadrant,
    rising,
    score_keywords,
    score_signals,
    yoon_degree,
)
from scanner.models import SignalEvent


def test_yoon_degree_weights_older_weeks_less() -> None:
    d = yoon_degree(np.array([2.0, 4.0, 5.0]), np.array([10.0, 10.0, 20.0]))
    # (2/10)(1 - 0.05·2), (4/10)(1 - 0.05·1), (5/20)(1 - 0)
    assert d.tolist() == pytest.approx([0.18, 0.38, 0.25])
    assert yoon_degree(np.array([1.0, 0.0]), np.array([0.0, 5.0])).tolist() == [0.0, 0.0]


def test_growth_rate_is_the_geometric_mean_weekly_growth() -> None:
    assert growth_rate(np.array([1.0, 2.0, 4.0, 8.0]), eps=0.0) == pytest.approx(1.0)
    assert growth_rate(np.array([0.5, 0.5, 0.5]), eps=0.0) == pytest.approx(0.0)
    assert growth_rate(np.array([8.0, 4.0, 2.0]), eps=0.0) == pytest.approx(-0.5)
    assert growth_rate(np.array([0.3]), eps=0.1) is None
    # empty weeks stay finite thanks to eps
    assert math.isfinite(growth_rate(np.array([0.0, 0.0, 0.2]), eps=0.01) or math.nan)


@pytest.mark.parametrize(("freq", "growth", "state"), [
    (1.0, 0.5, "weak"), (5.0, 0.5, "strong"), (1.0, -0.1, "latent"), (5.0, -0.1, "established"),
    (3.0, 0.1, "strong"), (1.0, None, "weak"),
])
def test_quadrants_split_at_the_medians(freq: float, growth: float | None, state: str) -> None:
    assert quadrant(freq, growth, freq_median=3.0, growth_median=0.1) == state


WEEKS = ["2025-W01", "2025-W02", "2025-W03", "2025-W04"]


def make_window(rows: list[tuple[str, int, str, int | None]]) -> WindowData:
    """rows: (week, story, source, signal)."""
    return WindowData(weeks=WEEKS, item_week=[r[0] for r in rows], item_story=[r[1] for r in rows],
                      item_source=[r[2] for r in rows], item_kind=["rss" if r[2] != "survey" else "file"
                                                                    for r in rows],
                      item_signal=[r[3] for r in rows])


def test_signal_weeks_count_stories_once_and_sources_for_diffusion() -> None:
    rows = [("2025-W01", 1, "a", 1), ("2025-W01", 2, "a", 2), ("2025-W02", 3, "a", 2),
            ("2025-W04", 4, "a", 1), ("2025-W04", 4, "b", 1), ("2025-W04", 4, "survey", 1),
            ("2025-W04", 5, "a", 1), ("2025-W04", 6, "a", None)]
    r = score_signals(make_window(rows), [1, 2], {1: "2025-W01", 2: "2025-W01"}, {1: "2025-W04", 2: "2025-W02"},
                      {}, {1: {"all": ["x"]}}, fading_weeks=3)
    current = next(w for w in r.signal_weeks if w.signal_id == 1 and w.week == "2025-W04")
    # story 4 syndicated by three sources: one story for volume, three items for diffusion
    assert (current.items, current.stories, current.sources, current.source_kinds) == (4, 2, 3, 2)
    assert current.dov == pytest.approx(2 / 5) and current.dod == pytest.approx(4 / 5)
    assert current.keywords == {"all": ["x"]}
    assert [w.week for w in r.signal_weeks if w.signal_id == 1] == WEEKS
    states = {u.id: u.state for u in r.signal_updates}
    # four weeks are all "recent": no earlier weeks to compare with, so no evidence of a rise
    assert states == {1: "established", 2: "latent"}
    assert r.events == []  # two stories: below the bar for "grew"


TWELVE = [f"2025-W{k:02d}" for k in range(1, 13)]


def twelve_weeks(counts: dict[int, list[int]], background: int = 5) -> WindowData:
    """Items of each signal per week over twelve weeks, plus ``background`` unassigned items a week."""
    rows: list[tuple[str, int, str, int | None]] = []
    story = 0
    for sid, per_week in counts.items():
        for week, n in zip(TWELVE, per_week, strict=True):
            for _ in range(n):
                story += 1
                rows.append((week, story, "a", sid))
    for week in TWELVE:
        for _ in range(background):
            story += 1
            rows.append((week, story, "a", None))
    return WindowData(weeks=TWELVE, item_week=[r[0] for r in rows], item_story=[r[1] for r in rows],
                      item_source=[r[2] for r in rows], item_kind=["rss"] * len(rows), item_signal=[r[3] for r in rows])


def test_weak_needs_evidence_not_a_rank() -> None:
    # the example: 2 items in 12 weeks ranks above the median growth but is no evidence of anything
    counts = {1: [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], 2: [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 1],
              3: [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3], 4: [1, 1, 1, 1, 1, 1, 1, 1, 3, 4, 4, 5]}
    first = {1: "2025-W07", 2: "2025-W09", 3: "2025-W01", 4: "2025-W01"}
    last = dict.fromkeys(counts, "2025-W12")
    r = score_signals(twelve_weeks(counts), list(counts), first, last, {}, {}, fading_weeks=6)
    states = {u.id: u.state for u in r.signal_updates}
    assert states == {1: "latent", 2: "weak", 3: "established", 4: "strong"}


def test_rising_scales_with_the_stream() -> None:
    # the signal doubles, but so does the whole stream: no rise against the stream's baseline
    counts = np.array([1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2], dtype=float)
    assert not rising(counts, np.array([10] * 8 + [20] * 4, dtype=float))
    assert rising(np.array([1, 1, 1, 1, 1, 1, 1, 1, 4, 4, 4, 4], dtype=float), np.full(12, 20.0))
    assert not rising(np.array([0] * 10 + [1, 1], dtype=float), np.full(12, 20.0))  # below the minimum support
    assert burst_p(3, 0, 4, 8) == pytest.approx((4 / 12) ** 3)


def test_new_state_and_grew_event() -> None:
    rows = [("2025-W01", 1, "a", 1), ("2025-W02", 2, "a", 1), ("2025-W03", 3, "a", 1)]
    rows += [("2025-W04", 10 + k, "a", 1) for k in range(4)]
    rows += [("2025-W04", 20, "a", 2), ("2025-W04", 21, "b", 2)]
    r = score_signals(make_window(rows), [1, 2], {1: "2025-W01", 2: "2025-W04"}, {1: "2025-W04", 2: "2025-W04"},
                      {1: "latent"}, {}, fading_weeks=3)
    # signal 1 quadruples its stories, but its share of the week falls (1 → 4/6): Yoon's measures are
    # relative to the stream, so it is "established", while the signal born this week is "new"
    assert {u.id: u.state for u in r.signal_updates} == {1: "established", 2: "new"}
    assert r.events == [SignalEvent(1, "grew", {"stories": 4, "before": 1.0})]
    assert dict(r.states) == {"established": 1, "new": 1}


def test_keyword_weeks() -> None:
    rows = score_keywords(WEEKS[:2], ["2025-W01", "2025-W01", "2025-W02"],
                          [["ai", "ai", "ข้อมูล"], ["ข้อมูล"], ["ai"]], {"ai": "en", "ข้อมูล": "th"})
    got = {(r.keyword, r.week): (r.tf, r.df, r.dov, r.dod) for r in rows}
    assert got == {("ai", "2025-W01"): (2, 1, 1.0, 0.5), ("ai", "2025-W02"): (1, 1, 1.0, 1.0),
                   ("ข้อมูล", "2025-W01"): (2, 2, 1.0, 1.0), ("ข้อมูล", "2025-W02"): (0, 0, 0.0, 0.0)}
    assert {r.lang for r in rows if r.keyword == "ข้อมูล"} == {"th"}
