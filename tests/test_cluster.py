"""Clustering (tiny and large inputs, determinism) and story grouping."""

from __future__ import annotations

import numpy as np

from scanner.analysis import cluster
from scanner.analysis.cluster import cluster_vectors
from scanner.analysis.stories import group_stories
from scanner.analysis.vectors import linked_groups, mean_rows, renumber


def blobs(centres: int, per: int, dim: int = 32, spread: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(centres), per)
    x = np.eye(dim, dtype=np.float32)[truth] + rng.normal(0, spread, (centres * per, dim)).astype(np.float32)
    order = rng.permutation(len(truth))
    x, truth = x[order], truth[order]
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), truth


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    return bool((renumber(a) == renumber(b)).all())


def test_empty_one_and_five_items() -> None:
    assert cluster_vectors(np.zeros((0, 8), np.float32), 0.5).tolist() == []
    assert cluster_vectors(np.ones((1, 8), np.float32), 0.5).tolist() == [0]
    x, _ = blobs(1, 5, dim=8, spread=0.05)
    assert cluster_vectors(x, 0.5).tolist() == [0, 0, 0, 0, 0]
    assert cluster_vectors(np.eye(5, dtype=np.float32), 0.5).tolist() == [0, 1, 2, 3, 4]


def test_labels_follow_first_appearance() -> None:
    x = np.eye(4, dtype=np.float32)[[2, 0, 2, 0, 3]]
    assert cluster_vectors(x, 0.5).tolist() == [0, 1, 0, 1, 2]


def test_threshold_is_the_average_similarity_between_groups() -> None:
    a = np.array([1.0, 0.0], np.float32)
    b = np.array([0.6, 0.8], np.float32)  # cosine(a, b) = 0.6
    x = np.stack([a, a, b, b])
    assert cluster_vectors(x, 0.55).tolist() == [0, 0, 0, 0]
    assert cluster_vectors(x, 0.65).tolist() == [0, 0, 1, 1]


def test_large_input_path_recovers_the_groups_and_is_deterministic(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(cluster, "DIRECT_MAX", 500)
    x, truth = blobs(6, 200, dim=32, spread=0.1, seed=1)
    first = cluster_vectors(x, 0.5)
    assert same_partition(first, truth)
    assert (cluster_vectors(x, 0.5) == first).all()


def test_mean_rows_is_the_plain_mean() -> None:
    x = np.array([[1, 0], [0, 1], [1, 1]], np.float32)
    assert mean_rows(x, np.array([0, 0, 1]), 2).tolist() == [[0.5, 0.5], [1.0, 1.0]]


def unit(*v: float) -> np.ndarray:
    a = np.array(v, np.float32)
    return a / np.linalg.norm(a)


def test_stories_group_exact_copies_and_near_duplicates_close_in_time() -> None:
    ids = [1, 2, 3, 4, 5]
    hashes = ["h1", "h2", "h1", "h4", "h5"]
    published = ["2025-01-01T00:00:00+00:00", "2025-01-02T00:00:00+00:00", "2025-03-01T00:00:00+00:00",
                 "2025-01-03T00:00:00+00:00", "2025-01-20T00:00:00+00:00"]
    v = np.stack([unit(1, 0, 0), unit(0, 1, 0), unit(1, 0, 0), unit(0, 1, 0.05), unit(0, 1, 0.02)])
    story = group_stories(ids, hashes, [None] * 5, published, v, {})
    # 3 copies 1's text; 4 is a near-copy of 2 two days later; 5 is as close to 2 but 18 days later
    assert story == {1: 1, 2: 2, 3: 1, 4: 2, 5: 5}


def test_existing_stories_keep_their_id_and_duplicate_of_links() -> None:
    ids = [4, 9, 12]
    v = np.stack([unit(1, 0), unit(0, 1), unit(1, 0.01)])
    published = ["2025-01-01T00:00:00+00:00"] * 3
    story = group_stories(ids, ["a", "b", "c"], [None, 4, None], published, v, {4: 4, 12: 12})
    # 9 is stored as a duplicate of 4; 12 was grouped alone before and is not re-examined
    assert story == {4: 4, 9: 4, 12: 12}
    fresh = group_stories(ids, ["a", "b", "c"], [None, None, None], published, v, {})
    assert fresh == {4: 4, 9: 9, 12: 4}


def test_linked_groups_follow_chains_and_number_groups_by_first_point() -> None:
    assert linked_groups(6, [(4, 5), (1, 3), (3, 5)]).tolist() == [0, 1, 2, 1, 1, 1]
    assert linked_groups(3, []).tolist() == [0, 1, 2]
    assert linked_groups(0, []).tolist() == []
