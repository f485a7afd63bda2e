"""Similarity calibration: the USE-unit thresholds of clustering, tracking, trends and stories on any model's scale.

Every similarity threshold (``analysis.cluster_threshold``, ``analysis.join``,
``analysis.trend_threshold``, the story threshold 0.93, the merge and split margins) is written,
tuned and documented in the cosine units of the default embedder, USE. Other models spread their
cosines differently (multilingual-e5 crowds them into ~0.7–0.95), so the same number means
something else there. A threshold ``t`` is therefore mapped to the model's own scale by matching
distributions (quantile mapping):

    t_model = Q_model(F_USE(t))

where ``F_USE`` is the CDF of USE cosines over a fixed set of reference text pairs and ``Q_model``
the quantile function of the model's cosines over the same pairs: a threshold that lets through the
top 5 % of reference pairs under USE lets through the top 5 % under the model. Both are empirical
and linearly interpolated, so the map is piecewise linear and monotone, and an affine rescaling of
USE's cosines gets the same rescaling of the thresholds back. Beyond the reference range the map
goes on with the slope of its last (first) tenth, clipped to [-1, 1].

The reference pairs (``scanner/data/calibration_pairs.json``, its provenance inside; built by
``bench/calibration_pairs.py``) are a few hundred pairs of tune-month items of the bundled thaigov
sample — near pairs, same-label pairs and random pairs, so the whole range is covered — with their
USE cosines and those of the built-in models, so no run computes them. Another model (any
``sentence-transformers`` one) embeds the 200 short texts once, on first use, and its cosines are
kept in the database (``scanner.store.calibration``) under its model id and the pairs' hash.

Trends compare signals by the unit means of their members, and averaging changes the spread of
cosines differently per model (e5's vectors share a large common part that averaging keeps while
the rest shrinks: USE's trend threshold 0.62 is 0.900 on e5's item pairs but 0.949 on group means).
So the trend level has its own reference: groups of four reference items (each item with its three
nearest, and random same-label groups) and pairs of groups, compared by their unit means
(``ModelCalibration.means``); stories and signals use the item pairs (``ModelCalibration.items``).

Margins are differences, so they are mapped as differences at the point where they act: merging
happens at ``threshold + merge_margin``, so the model's margin is ``map(t + m) - map(t)``; splitting
at ``threshold - split_margin``, so ``map(t) - map(t - m)``. The trend join (threshold − 0.10) is
mapped as a threshold of its own, as ``analysis.join`` is.

Identity: USE (the reference itself), and the ``hashing`` test embedder. The tests' hashing
fixtures were written with these thresholds and assert their outcomes; and a bag of hashed tokens
is no semantic model to calibrate (its random pairs sit near 0 and near pairs share words, not
meaning), so its map would only move the tests' outcomes, not make hashing useful.

Relevance keeps its own per-model calibration (``SIM_CALIBRATION`` in ``scanner.analysis.relevance``):
item↔topic-description similarities are a different population from item↔item ones, so it is
fitted on labelled items, not mapped from these pairs. Both are keyed by ``Embedder.model_id``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from scanner.analysis.embed import Embedder, UseEmbedder
from scanner.analysis.lexical import reference_group_keyword_cosines, reference_keyword_cosines, tracking_weight
from scanner.analysis.track import TrackParams
from scanner.analysis.vectors import unit_rows
from scanner.config.models import TREND_THRESHOLD
from scanner.store import Store
from scanner.store.calibration import load_pair_cosines, save_pair_cosines

logger = logging.getLogger(__name__)

PAIRS_FILE = "data/calibration_pairs.json"
REFERENCE = UseEmbedder.model_id  # the units every threshold is written in
TAIL = 0.10  # beyond the reference range the map continues with the slope of its last tenth


def is_uncalibrated(model_id: str) -> bool:
    """Models whose thresholds are used as written: USE itself and the hashing test embedder."""
    return model_id == REFERENCE or model_id.startswith("hashing-")


@dataclass(frozen=True)
class SimilarityCalibration:
    """A monotone map from USE cosine units to one model's (identity when ``reference`` is empty)."""

    model_id: str
    reference: np.ndarray  # sorted USE cosines of the reference pairs
    model: np.ndarray  # sorted cosines of the same pairs under the model

    @classmethod
    def identity(cls, model_id: str = REFERENCE) -> SimilarityCalibration:
        return cls(model_id, np.zeros(0), np.zeros(0))

    @classmethod
    def from_cosines(cls, model_id: str, reference: Sequence[float] | np.ndarray,
                     model: Sequence[float] | np.ndarray) -> SimilarityCalibration:
        ref, mod = np.sort(np.asarray(reference, float)), np.sort(np.asarray(model, float))
        if ref.shape != mod.shape or ref.size < 10:
            raise ValueError("the calibration needs the same 10 or more pairs under both models")
        return cls(model_id, ref, mod)

    @property
    def is_identity(self) -> bool:
        return self.reference.size == 0

    def to_model(self, threshold: float) -> float:
        """``threshold`` (USE units) on the model's scale: ``Q_model(F_USE(threshold))``."""
        if self.is_identity:
            return threshold
        ref, mod = self.reference, self.model
        tail = max(1, int(TAIL * (ref.size - 1)))
        if threshold > ref[-1]:
            lo = ref.size - 1 - tail
            return float(min(1.0, mod[-1] + (threshold - ref[-1]) * _slope(ref, mod, lo, ref.size - 1)))
        if threshold < ref[0]:
            return float(max(-1.0, mod[0] - (ref[0] - threshold) * _slope(ref, mod, 0, tail)))
        return float(np.interp(threshold, ref, mod))

    def track_params(self, params: TrackParams) -> TrackParams:
        """``params`` with its thresholds on the model's scale and its margins mapped where they act."""
        if self.is_identity:
            return params
        t = self.to_model(params.threshold)
        return replace(params, threshold=t, join=self.to_model(params.join),
                       merge_margin=self.to_model(params.threshold + params.merge_margin) - t,
                       split_margin=t - self.to_model(params.threshold - params.split_margin))


def _slope(ref: np.ndarray, mod: np.ndarray, lo: int, hi: int) -> float:
    dx = ref[hi] - ref[lo]
    return float((mod[hi] - mod[lo]) / dx) if dx > 0 else 1.0


@cache
def reference_pairs() -> dict[str, Any]:
    """The bundled reference pairs: ``texts``, ``pairs`` (index, index, kind), ``cosines`` by model id."""
    text = resources.files("scanner").joinpath(PAIRS_FILE).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def pairs_digest(data: dict[str, Any]) -> str:
    """What a cached model's cosines are valid for: the texts and pairs of the reference set."""
    blob = json.dumps([data["texts"], [p[:2] for p in data["pairs"]], data["groups"], data["group_pairs"]],
                      ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class ModelCalibration:
    """One model's maps: ``items`` for stories, ``tracking`` for signals (items' model cosines mixed with
    their keyword cosines, ``scanner.analysis.lexical``) and ``means`` for trends (signals' unit means,
    mixed the same way); with keyword weight 0, ``tracking`` is ``items`` and ``means`` the model's own."""

    items: SimilarityCalibration
    means: SimilarityCalibration
    tracking: SimilarityCalibration

    @classmethod
    def identity(cls, model_id: str = REFERENCE) -> ModelCalibration:
        same = SimilarityCalibration.identity(model_id)
        return cls(same, same, same)

    @property
    def is_identity(self) -> bool:
        return self.items.is_identity and self.means.is_identity and self.tracking.is_identity


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(np.einsum("ij,ij->i", a, b), dtype=np.float64)


def reference_cosines(embedder: Embedder, data: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """``embedder``'s cosines over the reference ``pairs`` and over the ``group_pairs`` (unit group means)."""
    vectors = np.asarray(embedder.embed(list(data["texts"])), dtype=np.float64)
    pairs = np.array([p[:2] for p in data["pairs"]], dtype=np.int64)
    means = unit_rows(np.stack([vectors[list(g)].mean(axis=0) for g in data["groups"]]))
    group_pairs = np.array(data["group_pairs"], dtype=np.int64)
    return (_cosines(vectors[pairs[:, 0]], vectors[pairs[:, 1]]),
            _cosines(means[group_pairs[:, 0]], means[group_pairs[:, 1]]))


def similarity_calibration(store: Store, embedder: Embedder, lexical_weight: float = 0.0,
                           save: bool = True, topics: tuple[float, np.ndarray] | None = None) -> ModelCalibration:
    """The calibration of ``embedder``: identity for USE and hashing, the shipped cosines for the
    built-in models, otherwise cosines computed once and cached in ``store`` (``save=False``: computed
    but not cached, for readers of a read-only database). ``lexical_weight`` (``analysis.lexical_weight``)
    is the keyword share of the vectors signals are tracked with; ``topics``: the topic part's share and
    the reference pairs' topic cosines, when they carry one (``scanner.analysis.topicmix``, which
    decides both)."""
    model_id = embedder.model_id
    weight = tracking_weight(model_id, lexical_weight)
    if is_uncalibrated(model_id) and weight == 0 and topics is None:
        return ModelCalibration.identity(model_id)
    data = reference_pairs()
    reference = np.asarray(data["cosines"][REFERENCE], dtype=np.float64)
    group_reference = np.asarray(data["group_cosines"][REFERENCE], dtype=np.float64)
    if model_id == REFERENCE:
        cosines, group_cosines = reference, group_reference
        items = means = SimilarityCalibration.identity(model_id)
    else:
        cosines, group_cosines = _model_cosines(store, embedder, data, save)
        items = SimilarityCalibration.from_cosines(model_id, reference, cosines)
        means = SimilarityCalibration.from_cosines(model_id, group_reference, group_cosines)
    tracked = cosines
    if weight > 0:
        tracked = (1.0 - weight) * cosines + weight * reference_keyword_cosines()
        means = SimilarityCalibration.from_cosines(
            model_id, group_reference, (1.0 - weight) * group_cosines + weight * reference_group_keyword_cosines())
    topic_weight = topics[0] if topics is not None else 0.0
    if topics is not None:
        tracked = (1.0 - topic_weight) * tracked + topic_weight * np.asarray(topics[1], dtype=np.float64)
    tracking = SimilarityCalibration.from_cosines(model_id, reference, tracked) if tracked is not cosines else items
    calibration = ModelCalibration(items, means, tracking)
    logger.info("similarity calibration of %s: USE 0.50/0.60/0.93 → %.3f/%.3f/%.3f, trends %.2f → %.3f; "
                "signals (keyword weight %.2f, topic weight %.2f) 0.50/0.60 → %.3f/%.3f", model_id,
                items.to_model(0.5), items.to_model(0.6), items.to_model(0.93), TREND_THRESHOLD,
                means.to_model(TREND_THRESHOLD), weight, topic_weight,
                tracking.to_model(0.5), tracking.to_model(0.6))
    return calibration


def _model_cosines(store: Store, embedder: Embedder, data: dict[str, Any],
                   save: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``embedder``'s cosines over the reference pairs and group pairs: shipped for the built-in models,
    otherwise computed once and cached in ``store``."""
    model_id = embedder.model_id
    cosines, group_cosines = data["cosines"].get(model_id), data["group_cosines"].get(model_id)
    if cosines is None or group_cosines is None:
        digest = pairs_digest(data)
        cached = load_pair_cosines(store, model_id, digest)
        if cached is None:
            logger.info("calibrating %s on %d reference pairs", model_id, len(data["pairs"]))
            computed = reference_cosines(embedder, data)
            cached = {"pairs": computed[0].tolist(), "means": computed[1].tolist()}
            if save:
                save_pair_cosines(store, model_id, digest, cached)
        cosines, group_cosines = cached["pairs"], cached["means"]
    return np.asarray(cosines, dtype=np.float64), np.asarray(group_cosines, dtype=np.float64)


__all__ = ["ModelCalibration", "SimilarityCalibration", "is_uncalibrated", "reference_cosines", "reference_pairs",
           "similarity_calibration"]
