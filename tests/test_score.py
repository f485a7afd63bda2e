"""Yoon's degrees of visibility and diffusion, growth rates, map quadrants and states."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scanner.analysis.score import WindowData, growth_rate, quadrant, score_keywords, score_signals, yoon_degree
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
    assert states == {1: "strong", 2: "latent"}
    assert r.events == []  # two stories: below the bar for "grew"


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
