"""The lab's topics in the vectors signals are tracked with.

Relevance already scores every item against each of the lab's topics (``scanner.analysis.relevance``:
the topic's description similarity and its seed keywords, ``score_topics``). Two releases can share
the words of a ministry and the tone of a press release and still be about different matters for
the lab: a scam warning (cyber security and fraud) and a digital-economy forum. Their topic scores
tell them apart, so each item's tracking vector carries a third part, its **topic row**: the topic
scores raised to ``SHARPNESS`` (so the leading topic counts and the faint ones fade), to unit length,
in share ``analysis.topic_weight`` (``scanner.analysis.lexical.tracking_vectors``). A dot product is
then

    (1 − t) · [(1 − w) · cos(embeddings) + w · cos(keywords)] + t · cos(topic rows)

Thresholds stay in USE units: the reference pairs of the calibration get topic rows the same way
(their texts embedded once per model and topics, kept in the database), and the tracking map is fitted
on their mixed cosines (``tracking_calibration``). Labels, tags, stories, novelty and trends do not
use the topic part.

Measured on the sample's tune months (``bench/signals_quality.py --topic-weight``): at the coverage of
the shipped setting, signals are purer (README "Signals quality").
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np

from scanner.analysis.calibration import ModelCalibration, pairs_digest, reference_pairs, similarity_calibration
from scanner.analysis.embed import Embedder
from scanner.analysis.lexical import tracking_weight
from scanner.analysis.relevance import config_topics, match_tokens, prepare_topics, score_topics, token_evidence
from scanner.analysis.vectors import normalise_rows
from scanner.config import Config
from scanner.store import Store
from scanner.store.calibration import load_pair_cosines, save_pair_cosines
from scanner.store.relevance import topic_scores

logger = logging.getLogger(__name__)

SHARPNESS = 6.0  # topic scores are raised to this power: chosen with analysis.topic_weight on the tune months


def topic_rows(scores: Sequence[Mapping[str, float]], topic_ids: Sequence[str]) -> np.ndarray:
    """One unit row per entry of ``scores`` (topic id → score): the scores of ``topic_ids``, in that
    order, raised to ``SHARPNESS``. An entry with no score (or all zero) is a zero row."""
    rows = np.zeros((len(scores), len(topic_ids)), dtype=np.float32)
    for r, s in enumerate(scores):
        for c, t in enumerate(topic_ids):
            rows[r, c] = max(0.0, float(s.get(t, 0.0))) ** SHARPNESS
    return normalise_rows(rows)


def window_topic_rows(store: Store, config: Config, item_ids: Sequence[int]) -> np.ndarray:
    """The topic rows of ``item_ids``, from the topic scores their relevance rows keep."""
    ids = [t.id for t in config_topics(config)]
    stored = topic_scores(store, item_ids)
    return topic_rows([stored.get(i, {}) for i in item_ids], ids)


def reference_topic_cosines(store: Store, config: Config, embedder: Embedder, save: bool = True) -> np.ndarray:
    """The topic-row cosine of each calibration reference pair (``calibration_pairs.json``, in its
    order) under ``embedder`` and ``config``'s topics: computed once (the 200 texts embedded, title
    and body matched as relevance matches them) and kept in ``store`` by model and topics
    (``save=False``: computed but not kept, for readers of a read-only database)."""
    prepared = prepare_topics(config, embedder)
    data = reference_pairs()
    key, digest = f"topics:{embedder.model_id}", f"{pairs_digest(data)}#{prepared.key}"
    cached = load_pair_cosines(store, key, digest)
    if cached is None:
        logger.info("topic rows of the %d reference texts under %s", len(data["texts"]), embedder.model_id)
        texts: list[str] = data["texts"]
        vectors = embedder.embed(texts)
        scores = []
        for text, vector in zip(texts, vectors, strict=True):
            title, _, body = text.partition("\n")
            evidence = token_evidence(match_tokens(title), match_tokens(body), vector, prepared)
            scores.append(score_topics(evidence, prepared))
        rows = topic_rows(scores, [t.id for t in prepared.topics])
        pairs = np.array([p[:2] for p in data["pairs"]], dtype=np.int64)
        cosines = np.einsum("ij,ij->i", rows[pairs[:, 0]], rows[pairs[:, 1]])
        cached = {"pairs": [round(float(c), 6) for c in cosines]}
        if save:
            save_pair_cosines(store, key, digest, cached)
    return np.asarray(cached["pairs"], dtype=np.float64)


def tracking_calibration(store: Store, config: Config, embedder: Embedder, save: bool = True) -> ModelCalibration:
    """The calibration ``scanner analyse`` tracks with: ``similarity_calibration`` for
    ``config.analysis``'s keyword weight, with the topic part (``analysis.topic_weight``) in the
    tracking map. The one place that decides which mix the tracking thresholds are mapped onto."""
    weight = tracking_weight(embedder.model_id, config.analysis.topic_weight)
    topics = (weight, reference_topic_cosines(store, config, embedder, save)) if weight > 0 else None
    return similarity_calibration(store, embedder, config.analysis.lexical_weight, save=save, topics=topics)


__all__ = ["SHARPNESS", "reference_topic_cosines", "topic_rows", "tracking_calibration", "window_topic_rows"]
