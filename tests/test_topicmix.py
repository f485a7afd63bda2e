"""The lab's topics in the tracking vectors (``scanner.analysis.topicmix``): the mix's algebra, the
reference pairs' topic cosines (computed once per model and topics), the calibration onto the mix, and
the topic rows of real Thai releases as relevance scores them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from scanner.analysis.calibration import REFERENCE, reference_pairs, similarity_calibration
from scanner.analysis.embed import HashingEmbedder
from scanner.analysis.lexical import DIM, keyword_part, lexical_vectors, reference_keyword_cosines, tracking_vectors
from scanner.analysis.relevance import default_topics, score_relevance
from scanner.analysis.topicmix import (
    SHARPNESS,
    reference_topic_cosines,
    topic_rows,
    tracking_calibration,
    window_topic_rows,
)
from scanner.config import AnalysisConfig, Config, FileSource, Topic
from scanner.models import RawItem
from scanner.normalize import tokenize
from scanner.prepare import store_items
from scanner.store import Store


def test_topic_rows_sharpen_the_leading_topic_and_leave_unscored_items_out() -> None:
    rows = topic_rows([{"a": 0.9, "b": 0.45}, {}, {"b": 0.2, "c": 0.0}], ["a", "b", "c"])
    assert rows.shape == (3, 3)
    assert np.isclose(rows[0, 1] / rows[0, 0], 0.5 ** SHARPNESS)  # half the score, 1/64 the weight
    assert np.isclose(np.linalg.norm(rows[0]), 1.0)
    assert not np.any(rows[1])  # no scores: no topic evidence
    assert np.allclose(rows[2], [0.0, 1.0, 0.0])


def test_the_tracking_dot_product_mixes_words_meaning_and_topics(thaigov: list[dict[str, Any]]) -> None:
    rows = thaigov[:30]
    docs = [tokenize(r["title"]) + tokenize(r["body"])[:400] for r in rows]
    dense = HashingEmbedder().embed([r["title"] for r in rows])
    rng = np.random.default_rng(0)
    topics = topic_rows([{t: float(s) for t, s in zip("abcd", rng.random(4), strict=True)} for _ in rows], "abcd")
    lexical = lexical_vectors(docs)
    for weight, topic_weight in ((0.5, 0.3), (0.25, 0.6), (0.0, 0.3)):
        mixed = tracking_vectors(dense, docs, weight, topics, topic_weight)
        words = (1 - weight) * dense @ dense.T + weight * lexical @ lexical.T
        expected = (1 - topic_weight) * words + topic_weight * topics @ topics.T
        assert np.allclose(mixed @ mixed.T, expected, atol=1e-5)
        if weight:
            part = keyword_part(mixed)  # the keyword columns stay the last DIM
            assert mixed.shape[1] == 4 + dense.shape[1] + DIM
            assert np.allclose(part @ part.T, (1 - topic_weight) * weight * lexical @ lexical.T, atol=1e-5)
    assert tracking_vectors(dense, docs, 0.5, topics, 0.0).shape == (30, dense.shape[1] + DIM)


class CountingEmbedder:
    """The real USE model, counting the texts it embeds."""

    def __init__(self, inner: Any) -> None:
        self.model_id = inner.model_id
        self._inner = inner
        self.texts_embedded = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts_embedded += len(texts)
        return np.asarray(self._inner.embed(texts))


@pytest.fixture(scope="module")
def use_embedder() -> Any:
    from scanner.analysis.embed import UseEmbedder

    return UseEmbedder()


def test_reference_pairs_get_topic_cosines_once_per_model_and_topics(store: Store, use_embedder: Any) -> None:
    config = Config(analysis=AnalysisConfig())
    model = CountingEmbedder(use_embedder)
    first = reference_topic_cosines(store, config, model)
    embedded = model.texts_embedded
    assert embedded >= len(reference_pairs()["texts"])
    again = reference_topic_cosines(store, config, model)
    assert model.texts_embedded == embedded  # kept in the database
    assert np.array_equal(first, again)
    data = reference_pairs()
    assert first.shape == (len(data["pairs"]),) and np.all((first >= -1e-6) & (first <= 1 + 1e-6))
    kinds = np.array([p[2] for p in data["pairs"]])
    # pairs of one coarse label share the lab's topic more often than random pairs do
    assert first[kinds == "label"].mean() > first[kinds == "random"].mean() + 0.1
    assert first[kinds == "near"].mean() > 0.85  # the same story told twice: the same topic
    fewer = Config(topics=default_topics()[:3], analysis=AnalysisConfig())
    reference_topic_cosines(store, fewer, model)
    assert model.texts_embedded - embedded >= len(data["texts"])  # other topics: other rows


def test_tracking_thresholds_map_onto_the_topic_mix(store: Store, use_embedder: Any) -> None:
    use = use_embedder
    config = Config(analysis=AnalysisConfig(lexical_weight=0.5, topic_weight=0.3))
    calibration = tracking_calibration(store, config, use)
    assert calibration.items.is_identity  # stories: USE as written
    data = reference_pairs()
    reference = np.asarray(data["cosines"][REFERENCE])
    topics = reference_topic_cosines(store, config, use)
    combined = 0.7 * (0.5 * reference + 0.5 * reference_keyword_cosines()) + 0.3 * topics
    for t in (0.5, 0.6, 0.65, 0.7):  # as many reference pairs pass the mapped bar as pass t under USE
        passed_use = np.mean(reference >= t)
        passed_mixed = np.mean(combined >= calibration.tracking.to_model(t))
        assert abs(passed_use - passed_mixed) <= 2 / len(reference)
    without = similarity_calibration(store, use, 0.5)
    assert calibration.tracking.to_model(0.65) != without.tracking.to_model(0.65)
    off = tracking_calibration(store, Config(analysis=AnalysisConfig(topic_weight=0.0)), use)
    assert off.tracking.to_model(0.65) == without.tracking.to_model(0.65)
    hashing = tracking_calibration(store, config, HashingEmbedder())
    assert hashing.is_identity  # the test embedder is tracked by its own vectors alone


def test_real_releases_get_topic_rows_that_tell_scams_from_the_digital_economy(
        store: Store, thaigov: list[dict[str, Any]], use_embedder: Any) -> None:
    scams = [r for r in thaigov if "บัญชีม้า" in r["title"] or "แก๊งคอลเซ็นเตอร์" in r["title"]][:6]
    economy = [r for r in thaigov if r["label"] == "digital_economy" and "depa" in (r["title"] + r["body"]).lower()][:6]
    assert len(scams) >= 4 and len(economy) >= 4
    store.sync_sources(Config(sources=[FileSource(id="thaigov", kind="file", path="sample.jsonl")]))
    raws = [RawItem(url=r["url"], title=r["title"], content=r["body"], guid=r["id"], lang=r.get("lang"),
                    published=datetime.fromisoformat(r["published"]).replace(hour=3, tzinfo=UTC))
            for r in scams + economy]
    store_items(store, "thaigov", raws, datetime(2025, 4, 1, tzinfo=UTC))
    config = Config(analysis=AnalysisConfig())
    score_relevance(store, config, use_embedder)
    by_url = {u: i for i, u in store.db.execute("SELECT id, url FROM items")}
    ids = [by_url[r["url"]] for r in scams + economy]
    rows = window_topic_rows(store, config, ids)
    assert rows.shape == (len(ids), len(default_topics()))
    sim = rows @ rows.T
    a, b = len(scams), len(economy)
    within = (sim[:a, :a].sum() - a + sim[a:, a:].sum() - b) / (a * (a - 1) + b * (b - 1))
    across = sim[:a, a:].mean()
    assert within > across + 0.3, (within, across)
    lead = [t.id for t in default_topics()]
    assert sum(lead[int(np.argmax(r))] == "cyber-security-fraud" for r in rows[:a]) >= a - 1
    custom = Config(topics=[Topic(id="scams", name="Scams", description_th="มิจฉาชีพ", description_en="scams",
                                  keywords=["บัญชีม้า"])])
    assert window_topic_rows(store, custom, ids).shape == (len(ids), 1)  # rows follow the configured topics
