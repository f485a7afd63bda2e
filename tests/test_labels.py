"""Labels (``scanner.store.labels``): analysts' marks and moves, followed by the next ``analyse`` on a real database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pytest

from scanner.analysis.embed import get_embedder
from scanner.analysis.neighbours import LabelledNeighbours
from scanner.analysis.relevance import Evidence, decide, explain_item, format_explanation, prepare_topics
from scanner.clock import UTC
from scanner.config import Config
from scanner.errors import UsageError
from scanner.models import RawItem
from scanner.prepare import store_items
from scanner.store import Store
from scanner.store.audit import audit_rows
from scanner.store.labels import mark_item, move_item, pinned_items
from scanner.store.relevance import load_relevance
from scanner.store.reviews import rename_signal
from tests.signal_data import add_items, ensure_source
from tests.test_analyse import HASHING, run, signal_of  # the same helpers as the engine's own tests

NOW = datetime(2025, 1, 20, 9, tzinfo=UTC)
@pytest.fixture
def tracked(store: Store, make_config: Callable[[str], Config]) -> tuple[Store, Config, dict[str, list[int]]]:
    ids = {
        "opendata": add_items(store, [("opendata", "ข้อมูลเปิด ภาครัฐ", d) for d in
                                      ("2025-01-06", "2025-01-08", "2025-01-10", "2025-01-14", "2025-01-16")]),
        "fraud": add_items(store, [("fraud", "มิจฉาชีพ บัญชีม้า", d) for d in
                                   ("2025-01-09", "2025-01-13", "2025-01-15", "2025-01-17")], start=10),
    }
    return store, make_config(HASHING), ids


def test_a_moved_item_stays_where_the_analyst_put_it(tracked: Any) -> None:
    store, config, ids = tracked
    run(config, store, "2025-01-19")
    before = signal_of(store)
    opendata, fraud = before[ids["opendata"][0]], before[ids["fraud"][0]]
    assert opendata != fraud
    moved, out = ids["opendata"][0], ids["fraud"][0]
    assert move_item(store, moved, fraud, NOW, by="somchai") == opendata
    assert move_item(store, out, None, NOW, by="somchai") == fraud
    assert signal_of(store)[moved] == fraud and out not in signal_of(store)  # at once
    for day in ("2025-01-19", "2025-01-22", "2025-01-26"):  # the same week again, then later runs
        run(config, store, day)
        now = signal_of(store)
        assert now[moved] == fraud, day
        assert out not in now, day
        assert all(now[i] == opendata for i in ids["opendata"][1:]), day  # the rest of its story did not follow
        assert all(now[i] == fraud for i in ids["fraud"][1:]), day
    assert pinned_items(store) == {moved: fraud, out: None}
    trail = audit_rows(store, [f"item:{moved}", f"item:{out}"])
    assert [(a.action, a.by, a.before, a.after) for a in reversed(trail)] == [
        ("mark", "somchai", None, "relevant"),  # put in a signal by an analyst: relevant (moved out: no mark)
        ("move", "somchai", {"signal": opendata}, {"signal": fraud}),
        ("move", "somchai", {"signal": fraud}, {"signal": None})]


def test_an_item_moved_back_is_tracked_again(tracked: Any) -> None:
    store, config, ids = tracked
    run(config, store, "2025-01-19")
    first = ids["fraud"][0]
    home = signal_of(store)[first]
    move_item(store, first, None, NOW, by="a")
    run(config, store, "2025-01-19")
    assert first not in signal_of(store)
    move_item(store, first, home, NOW, by="a")  # the latest label counts
    run(config, store, "2025-01-19")
    assert signal_of(store)[first] == home


def test_a_move_needs_an_item_and_a_signal(tracked: Any) -> None:
    store, config, ids = tracked
    run(config, store, "2025-01-19")
    with pytest.raises(UsageError, match="no signal with id 999"):
        move_item(store, ids["fraud"][0], 999, NOW, by="a")
    with pytest.raises(UsageError, match="no item with id 12345"):
        mark_item(store, 12345, False, NOW, by="a")
    assert store.db.execute("SELECT count(*) FROM item_labels").fetchone()[0] == 0


def test_a_renamed_signal_keeps_its_name_in_later_runs(tracked: Any) -> None:
    from scanner.export import show_signal

    store, config, ids = tracked
    run(config, store, "2025-01-19")
    sid = signal_of(store)[ids["fraud"][0]]
    rename_signal(store, sid, "บัญชีม้า ระบาด", NOW, by="somchai")
    for day in ("2025-01-19", "2025-01-26"):
        run(config, store, day)
        found = show_signal(store, sid)
        assert found is not None and found[0]["name"] == "บัญชีม้า ระบาด"


@pytest.fixture
def thaigov_store(store: Store, make_config: Callable[[str], Config],
                  thaigov: list[dict[str, Any]]) -> tuple[Store, Config]:
    ensure_source(store, "thaigov", "file")
    sample = [r for r in thaigov if "2024-11-01" <= r["published"] <= "2024-11-30"][:60]
    raws = [RawItem(url=r["url"], title=r["title"], content=r["body"], lang=r["lang"],
                    published=datetime.fromisoformat(r["published"]).replace(hour=3, tzinfo=UTC)) for r in sample]
    store_items(store, "thaigov", raws, datetime(2025, 1, 1, tzinfo=UTC))
    return store, make_config(HASHING)


def test_the_relevance_decision_follows_the_analysts_mark(thaigov_store: Any) -> None:
    store, config = thaigov_store
    run(config, store, "2024-11-30", relevance=True)
    rows = dict(store.db.execute("SELECT item_id, relevant FROM item_relevance"))
    kept = next(i for i, r in sorted(rows.items()) if r)
    dropped = next(i for i, r in sorted(rows.items()) if not r)
    mark_item(store, kept, False, NOW, by="somchai")
    mark_item(store, dropped, True, NOW, by="somchai")
    run(config, store, "2024-11-30", relevance=True)
    after_kept, after_dropped = load_relevance(store, kept), load_relevance(store, dropped)
    assert after_kept is not None and after_dropped is not None
    assert not after_kept.relevant and after_dropped.relevant
    assert after_kept.explain["rule"] == "label: marked not relevant by somchai"
    assert after_kept.explain["model_decision"] == "kept" and after_kept.topics == []
    assert after_dropped.explain["model_decision"] == "left out" and after_dropped.topics
    assert kept not in signal_of(store)
    text = format_explanation(explain_item(store, config, get_embedder(config.analysis), kept))
    assert "decision: left out (label: marked not relevant by somchai" in text
    assert "the model alone: kept" in text
    trail = audit_rows(store, [f"item:{kept}"])
    assert [(a.action, a.after) for a in trail] == [("mark", "not_relevant")]


def test_labelled_neighbours_vote_and_the_explanation_names_them(store: Store, make_config: Callable[[str], Config]
                                                                  ) -> None:
    config = make_config(HASHING)
    prepared = prepare_topics(config, get_embedder(config.analysis))
    centre, scale = prepared.calibration  # similarity that puts the item just below the line (log-odds -0.25)
    sim = centre + (-0.25 - prepared.weights.bias) / prepared.weights.similarity * scale
    evidence = Evidence(np.full(len(prepared.topics), sim, dtype=np.float32))
    alone = decide(evidence, prepared)
    assert alone[1] is False
    axis = np.eye(4, dtype=np.float32)
    near = LabelledNeighbours(np.array([7, 8, 9]), axis[:3], np.array([1.0, 1.0, -1.0], dtype=np.float32))
    vote = near.vote(np.array([0.9, 0.1, 0.0, 0.0], dtype=np.float32) / np.hypot(0.9, 0.1))
    assert vote[0] == pytest.approx(1.0) and [n["item_id"] for n in vote[1]] == [7]
    score, relevant, _topics, explain = decide(evidence, prepared, vote)
    assert relevant and score > alone[0]
    assert explain["rule"].startswith("labels: 1 similar item(s) an analyst marked tipped it (kept;")
    assert explain["neighbours"][0]["item_id"] == 7
    assert explain["terms"]["labels"] == pytest.approx(prepared.label_weight)
    assert near.vote(axis[3]) == (0.0, [])  # nothing close: no term, the model as shipped
    assert near.vote(axis[0], exclude=7)[1] == []  # an item never votes for itself


def test_an_item_moved_into_a_signal_is_relevant_from_then_on(thaigov_store: Any) -> None:
    """The model left an item out; an analyst puts it in a signal: it is marked relevant too, so the
    next analysis keeps it there instead of dropping it as not relevant."""
    from scanner.store.labels import move_item

    store, config = thaigov_store
    run(config, store, "2024-11-30", relevance=True)
    rows = dict(store.db.execute("SELECT item_id, relevant FROM item_relevance"))
    dropped = next(i for i, r in sorted(rows.items()) if not r)
    target = next(iter(signal_of(store).values()))
    move_item(store, dropped, target, NOW, by="somchai")
    run(config, store, "2024-11-30", relevance=True)
    after = load_relevance(store, dropped)
    assert after is not None and after.relevant and after.explain["rule"] == "label: marked relevant by somchai"
    assert signal_of(store)[dropped] == target
    assert [a.action for a in audit_rows(store, [f"item:{dropped}"])] == ["move", "mark"]  # newest first
