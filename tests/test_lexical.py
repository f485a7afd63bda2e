"""Keyword vectors next to embeddings (``scanner.analysis.lexical``): on real Thai releases, through the
calibration, and through a real ``analyse`` with the real USE model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scanner.analysis.analyse import analyse
from scanner.analysis.calibration import REFERENCE, reference_pairs, similarity_calibration
from scanner.analysis.embed import HashingEmbedder
from scanner.analysis.lexical import (
    DIM,
    idf,
    keywords_of,
    lexical_vectors,
    reference_group_keyword_cosines,
    reference_keyword_cosines,
    tracking_vectors,
    tracking_weight,
)
from scanner.analysis.relevance import default_topics
from scanner.clock import as_of_datetime
from scanner.config import AnalysisConfig, Config, FileSource
from scanner.models import RawItem
from scanner.normalize import tokenize
from scanner.prepare import store_items
from scanner.store import Store
from tests.test_calibration import NamedEmbedder


def _tokens(row: dict[str, Any]) -> list[str]:
    return tokenize(row["title"]) + tokenize(row["body"])[:400]


def test_releases_on_one_matter_share_more_keywords_than_releases_on_others(thaigov: list[dict[str, Any]]) -> None:
    fake_news = [r for r in thaigov if "ข่าวปลอม" in r["title"]][:12]
    farming = [r for r in thaigov if r["label"] == "agriculture"][:12]
    assert len(fake_news) == 12 and len(farming) == 12
    x = lexical_vectors([_tokens(r) for r in fake_news + farming])
    sim = x @ x.T
    within = sim[:12, :12][np.triu_indices(12, 1)].mean()
    across = sim[:12, 12:].mean()
    assert within > 2 * across, (within, across)
    assert "ข่าวปลอม" not in keywords_of(["ข่าว", "ปลอม"])  # newmm's words, never re-split or re-joined
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)


def test_stop_words_and_loose_fragments_make_no_keyword_vector() -> None:
    tokens = tokenize("และ ที่ ของ ใน การ")  # Thai function words only
    assert keywords_of(tokens) == []
    assert not np.any(lexical_vectors([tokens]))


def test_a_word_the_reference_texts_never_use_weighs_most() -> None:
    assert idf("ควอนตัม") > idf("ดิจิทัล") > 1.0
    assert idf("ควอนตัม") == idf("คำที่ไม่มีในข้อความอ้างอิงเลย")


def test_the_mixed_dot_product_is_the_weighted_sum_of_both_cosines(thaigov: list[dict[str, Any]]) -> None:
    rows = thaigov[:30]
    docs = [_tokens(r) for r in rows]
    dense = HashingEmbedder().embed([r["title"] for r in rows])
    for weight in (0.25, 0.5, 0.8):
        mixed = tracking_vectors(dense, docs, weight)
        assert mixed.shape == (30, dense.shape[1] + DIM)
        lexical = lexical_vectors(docs)
        expected = (1 - weight) * dense @ dense.T + weight * lexical @ lexical.T
        assert np.allclose(mixed @ mixed.T, expected, atol=1e-5)
    assert tracking_vectors(dense, docs, 0.0).shape == dense.shape


def test_the_hashing_test_embedder_is_tracked_by_its_own_vectors() -> None:
    assert tracking_weight(HashingEmbedder().model_id, 0.5) == 0.0
    assert tracking_weight(REFERENCE, 0.5) == 0.5


def test_tracking_thresholds_in_use_units_map_onto_the_mixed_scale(store: Store) -> None:
    use = NamedEmbedder(REFERENCE)  # USE's id: its cosines are the shipped reference ones
    plain = similarity_calibration(store, use, 0.0)
    assert plain.is_identity
    mixed = similarity_calibration(store, use, 0.5)
    assert mixed.items.is_identity  # stories: USE as written
    assert not mixed.tracking.is_identity
    data = reference_pairs()
    reference = np.asarray(data["cosines"][REFERENCE])
    combined = 0.5 * reference + 0.5 * reference_keyword_cosines()
    for t in (0.5, 0.6, 0.65):  # as many reference pairs pass the mapped bar as pass t under USE
        passed_use = np.mean(reference >= t)
        passed_mixed = np.mean(combined >= mixed.tracking.to_model(t))
        assert abs(passed_use - passed_mixed) <= 2 / len(reference)
    assert mixed.tracking.to_model(0.5) < mixed.tracking.to_model(0.6) < 0.6  # keyword cosines are low
    groups = 0.5 * np.asarray(data["group_cosines"][REFERENCE]) + 0.5 * reference_group_keyword_cosines()
    t = mixed.means.to_model(0.64)  # trends: the same map on pairs of reference groups' unit means
    assert abs(np.mean(np.asarray(data["group_cosines"][REFERENCE]) >= 0.64) - np.mean(groups >= t)) <= 2 / len(groups)
    hashing = similarity_calibration(store, HashingEmbedder(), 0.5)
    assert hashing.is_identity


@pytest.fixture(scope="module")
def use_embedder() -> Any:
    from scanner.analysis.embed import UseEmbedder

    return UseEmbedder()


def _stored_sample(path: Path, rows: list[dict[str, Any]]) -> Store:
    store = Store.open(path)
    store.sync_sources(Config(sources=[FileSource(id="thaigov", kind="file", path="sample.jsonl")]))
    raws = [RawItem(url=r["url"], title=r["title"], content=r["body"], guid=r["id"], lang=r.get("lang"),
                    published=datetime.fromisoformat(r["published"]).replace(hour=3, tzinfo=UTC)) for r in rows]
    store_items(store, "thaigov", raws, datetime(2025, 1, 1, tzinfo=UTC))
    return store


@pytest.mark.parametrize(("weight", "topic_weight"), [(0.0, 0.0), (0.5, 0.0), (0.5, 0.4), (0.0, 0.4)])
def test_analyse_tracks_on_words_and_meaning_and_labels_on_meaning(tmp_path: Path, thaigov: list[dict[str, Any]],
                                                                    use_embedder: Any, weight: float,
                                                                    topic_weight: float) -> None:
    rows = [r for r in thaigov if "2024-10-01" <= r["published"] < "2024-12-01"]
    config = Config(analysis=AnalysisConfig(lexical_weight=weight, topic_weight=topic_weight))
    with _stored_sample(tmp_path / "signals.db", rows) as store:
        result = analyse(config, store, as_of_datetime("2024-11-30", config.settings.timezone),
                         embedder=use_embedder)
        assert result.signals >= 3
        dims = {len(blob) // 4 for (blob,) in store.db.execute("SELECT centroid FROM signals")}
        topics = len(default_topics()) if topic_weight else 0  # the topic part (scanner.analysis.topicmix) leads
        assert dims == {topics + 512 + (DIM if weight else 0)}  # what the next run's tracking compares
        labels = [(json.loads(k), json.loads(t)) for k, t in store.db.execute("SELECT keywords, tags FROM signals")]
        assert all(k.get("all") for k, _ in labels)
        assert any(any(t.values()) for _, t in labels)  # tags compare the embedding means (512), not the tracking ones
        trend_dims = {len(blob) // 4 for (blob,) in store.db.execute("SELECT centroid FROM trends")}
        assert trend_dims == {512 + (DIM if weight else 0)}  # trends compare signals as signals are tracked
        sims = [s for (s,) in store.db.execute("SELECT similarity FROM signal_items")]
        assert sims and all(0.0 < s <= 1.0001 for s in sims)


def test_a_database_tracked_on_embeddings_alone_keeps_its_signals_when_words_join(
        tmp_path: Path, thaigov: list[dict[str, Any]], use_embedder: Any) -> None:
    """An older database (centroids of 512 dimensions) analysed again with the keyword mix: its
    signals keep their ids and members, and their centroids become the mix's."""
    rows = [r for r in thaigov if "2024-10-01" <= r["published"] < "2024-12-01"]
    before = Config(analysis=AnalysisConfig(lexical_weight=0.0))
    after = Config(analysis=AnalysisConfig(lexical_weight=0.5))
    with _stored_sample(tmp_path / "signals.db", rows) as store:
        analyse(before, store, as_of_datetime("2024-11-30", before.settings.timezone), embedder=use_embedder)
        members = dict(store.db.execute("SELECT item_id, signal_id FROM signal_items").fetchall())
        analyse(after, store, as_of_datetime("2024-11-30", after.settings.timezone), embedder=use_embedder)
        again = dict(store.db.execute("SELECT item_id, signal_id FROM signal_items").fetchall())
        kept = sum(1 for i, s in members.items() if again.get(i) == s)
        assert len(members) >= 50 and kept / len(members) >= 0.9, (kept, len(members))
        dims = {len(blob) // 4 for (blob,) in store.db.execute(
            "SELECT centroid FROM signals WHERE id IN (SELECT signal_id FROM signal_items)")}
        assert dims == {512 + DIM}
