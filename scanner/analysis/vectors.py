"""Small vector helpers every analysis stage shares: unit rows, per-group means, linked groups."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1, as float32 (a 1-D vector becomes one row; zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    if x.size == 0:
        return x
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(x / norms, dtype=np.float32)


def normalise_rows(x: np.ndarray, length: float = 1.0) -> np.ndarray:
    """Scale each row of the float32 array (or view) ``x`` to ``length`` in place, and return it; zero
    rows stay zero. For large windows, where a copy of the vectors is hundreds of megabytes."""
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    norms[norms == 0] = np.inf
    x *= (length / norms).astype(np.float32)[:, None]
    return x


def is_unit(x: np.ndarray, tolerance: float = 1e-4) -> bool:
    """Every row of ``x`` is of length 1 (or 0)."""
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    return bool(np.all((np.abs(norms - 1.0) <= tolerance) | (norms == 0)))


def mean_rows(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Per-label mean of rows (not re-normalised: dot products of means are average similarities)."""
    n = len(labels)
    d = x.shape[1] if x.ndim == 2 else 0
    if n == 0 or k == 0:
        return np.zeros((k, d), dtype=np.float32)
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    weights = 1.0 / np.maximum(counts, 1.0)[labels]
    member = csr_matrix((weights, (labels, np.arange(n))), shape=(k, n))
    # float32 throughout: a float64 copy of a 50,000 × 1,536 window would be 600 MB for 1e-7 of precision
    return np.asarray(member.astype(np.float32) @ np.asarray(x, dtype=np.float32), dtype=np.float32)


def linked_groups(n: int, pairs: Iterable[tuple[int, int]]) -> np.ndarray:
    """Group ``n`` points joined by ``pairs`` of indexes (transitively): one label per point.

    Labels are numbered in order of each group's first point, so point 0 is in group 0.
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    edges = np.asarray(list(pairs), dtype=np.int64).reshape(-1, 2)
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return renumber(labels)


def renumber(labels: np.ndarray) -> np.ndarray:
    """Relabel groups 0, 1, … in order of first appearance."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    mapping = np.empty(len(first), dtype=np.int64)
    mapping[np.argsort(first, kind="stable")] = np.arange(len(first))
    return np.asarray(mapping[inverse.reshape(-1)], dtype=np.int64)
