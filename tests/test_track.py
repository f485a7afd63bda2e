"""Stable identity on controlled vectors: birth, growth, merge, split and fade."""

from __future__ import annotations

import numpy as np

from scanner.analysis.score import WindowData, score_signals
from scanner.analysis.track import track_signals
from scanner.models import SignalEvent, SignalUpdate
from scanner.store.signals import SignalRef

DIM = 16


def around(axis: int, n: int, spread: float = 0.15, seed: int = 0, mix: tuple[int, float] | None = None) -> np.ndarray:
    """``n`` unit vectors near basis vector ``axis`` (optionally tilted towards another axis)."""
    rng = np.random.default_rng(seed)
    base = np.zeros(DIM, dtype=np.float32)
    base[axis] = 1.0
    if mix is not None:
        base[mix[0]] = mix[1]
    x = base + rng.normal(0, spread, (n, DIM)).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def ref(sid: int, vectors: np.ndarray) -> SignalRef:
    return SignalRef(sid, vectors.mean(axis=0).astype(np.float32), "active", "2025-W01")


def test_birth_of_one_signal_from_a_tight_group_and_nothing_from_a_lone_item() -> None:
    vectors = np.vstack([around(0, 4), around(5, 1, seed=1)])
    ids = [1, 2, 3, 4, 5]
    r = track_signals(ids, ids, vectors, {}, [], next_id=1)
    assert r.assignment == {1: 1, 2: 1, 3: 1, 4: 1}
    assert r.born == [1]
    assert r.events == [SignalEvent(1, "born", {"items": 4, "stories": 4})]
    assert r.unassigned == 1


def test_tiny_inputs() -> None:
    empty = track_signals([], [], np.zeros((0, DIM), np.float32), {}, [], next_id=1)
    assert empty.assignment == {} and empty.born == []
    one = track_signals([7], [7], around(0, 1), {}, [], next_id=1)
    assert one.assignment == {} and one.unassigned == 1
    two = track_signals([7, 8], [7, 8], around(0, 2), {}, [], next_id=4)
    assert two.assignment == {7: 4, 8: 4}


def test_growth_keeps_the_id_and_old_assignments() -> None:
    old = around(0, 4)
    new = around(0, 5, seed=2)
    vectors = np.vstack([old, new])
    ids = list(range(1, 10))
    previous = {1: 3, 2: 3, 3: 3, 4: 3}
    r = track_signals(ids, ids, vectors, previous, [ref(3, old)], next_id=4)
    assert r.assignment == dict.fromkeys(ids, 3)
    assert r.born == [] and r.events == []


def test_a_story_counts_as_one_point_and_its_items_follow_it() -> None:
    vectors = np.vstack([around(0, 3), around(0, 1, seed=3)])
    # items 1 and 2 are one story (id 1): three stories, four items
    r = track_signals([1, 2, 3, 4], [1, 1, 3, 4], vectors, {}, [], next_id=1)
    assert r.assignment == {1: 1, 2: 1, 3: 1, 4: 1}
    assert r.events == [SignalEvent(1, "born", {"items": 4, "stories": 3})]


def test_two_matters_give_two_signals_in_first_appearance_order() -> None:
    vectors = np.vstack([around(3, 3), around(9, 3, seed=4)])
    ids = [10, 11, 12, 13, 14, 15]
    r = track_signals(ids, ids, vectors, {}, [], next_id=1)
    assert r.assignment == {10: 1, 11: 1, 12: 1, 13: 2, 14: 2, 15: 2}
    assert [(e.signal_id, e.event) for e in r.events] == [(1, "born"), (2, "born")]


def test_merge_when_two_signals_converge_the_larger_keeps_its_id() -> None:
    a = around(0, 5, spread=0.05)
    b = around(0, 3, spread=0.05, seed=5, mix=(1, 0.2))  # the same matter, slightly tilted
    vectors = np.vstack([a, b])
    ids = list(range(1, 9))
    previous = {1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 1, 7: 1, 8: 1}
    r = track_signals(ids, ids, vectors, previous, [ref(1, b), ref(2, a)], next_id=3)
    assert r.assignment == dict.fromkeys(ids, 2)
    assert r.merged == [(1, 2)]
    assert r.events == [SignalEvent(1, "merged", {"into": 2}), SignalEvent(2, "merged", {"absorbed": [1]})]
    assert sorted(r.means) == [2]


def test_split_when_a_signal_holds_two_matters() -> None:
    a = around(0, 5, spread=0.05)
    b = around(8, 4, spread=0.05, seed=6)
    vectors = np.vstack([a, b])
    ids = list(range(1, 10))
    previous = dict.fromkeys(ids, 1)
    r = track_signals(ids, ids, vectors, previous, [ref(1, vectors)], next_id=2)
    assert r.split == [(1, 2)]
    assert r.assignment == {**dict.fromkeys(range(1, 6), 1), **dict.fromkeys(range(6, 10), 2)}
    assert r.events == [SignalEvent(1, "split", {"into": 2}), SignalEvent(2, "split", {"from": 1, "items": 4})]
    # the next run sees two stable signals: no merge back, no further split
    again = track_signals(ids, ids, vectors, r.assignment, [ref(1, a), ref(2, b)], next_id=3)
    assert again.assignment == r.assignment and again.events == []


def test_new_item_joins_the_closest_existing_signal_and_a_faded_one_revives() -> None:
    a, b = around(0, 3), around(6, 3, seed=7)
    # signal 2 (matter b) has no items in the window any more: only its stored mean remains
    r = track_signals([20], [20], around(6, 1, seed=8), {}, [ref(1, a), ref(2, b)], next_id=3)
    assert r.assignment == {20: 2}
    assert r.born == []


def test_deterministic() -> None:
    vectors = np.vstack([around(k, 6, spread=0.3, seed=k) for k in range(4)])
    ids = list(range(1, 25))
    first = track_signals(ids, ids, vectors, {}, [], next_id=1)
    second = track_signals(ids, ids, vectors, {}, [], next_id=1)
    assert first.assignment == second.assignment and first.events == second.events


def window(weeks: list[str], per_week: dict[str, int], sid: int = 1) -> WindowData:
    item_week = [w for w in weeks for _ in range(per_week.get(w, 0))]
    n = len(item_week)
    return WindowData(weeks=weeks, item_week=item_week, item_story=list(range(n)), item_source=["s"] * n,
                      item_kind=["rss"] * n, item_signal=[sid] * n)


def test_fade_after_fading_weeks_without_items_and_revival() -> None:
    weeks = ["2025-W01", "2025-W02", "2025-W03", "2025-W04", "2025-W05"]
    data = window(weeks, {"2025-W01": 2, "2025-W02": 1})
    r = score_signals(data, [1], {1: "2025-W01"}, {1: "2025-W02"}, {1: "strong"}, {}, fading_weeks=3)
    assert r.signal_updates == [SignalUpdate(id=1, state="fading", status="active", first_seen="2025-W01",
                                              last_seen="2025-W02")]
    assert r.events == [SignalEvent(1, "faded", {"last_week": "2025-W02"})]
    # two idle weeks only: not fading yet
    r2 = score_signals(data, [1], {1: "2025-W01"}, {1: "2025-W02"}, {1: "strong"}, {}, fading_weeks=4)
    assert r2.signal_updates[0].state != "fading" and r2.events == []
    # items again this week: revived
    data3 = window(weeks, {"2025-W01": 2, "2025-W05": 1})
    r3 = score_signals(data3, [1], {1: "2025-W01"}, {1: "2025-W05"}, {1: "fading"}, {}, fading_weeks=3)
    assert r3.signal_updates[0].state != "fading"
    assert r3.events == [SignalEvent(1, "revived")]


def test_a_signal_merged_by_an_analyst_is_not_split() -> None:
    vectors = np.vstack([around(0, 5, spread=0.05), around(8, 4, spread=0.05, seed=6)])
    ids = list(range(1, 10))
    previous = dict.fromkeys(ids, 1)
    r = track_signals(ids, ids, vectors, previous, [ref(1, vectors)], next_id=2, no_split=frozenset({1}))
    assert r.assignment == previous and r.events == []
