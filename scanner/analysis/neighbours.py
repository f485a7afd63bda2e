"""Labelled neighbours vote: how the relevance model learns from analysts' marks.

Every item an analyst marked (or submitted) is a labelled example. When an item is scored, its
``K`` most similar labelled items (cosine of the stored embeddings, at least ``MIN_SIMILARITY``, in
USE units and mapped to the embedder's own scale by ``scanner.analysis.calibration``, as every other
similarity threshold is) vote: each says +1 (relevant) or -1 (not relevant), weighted by its similarity. The vote, in
[-1, 1], enters the logistic model as one more additive term, ``WEIGHT × vote``, beside similarity
and keywords; with no labelled neighbour close enough the term is absent and the model is as
shipped. The explanation names the neighbours, so a person can see which marks tipped a decision.

``K``, ``MIN_SIMILARITY`` and ``WEIGHT`` were chosen on the tune months of the bundled sample
(``bench/relevance_labels.py --grid``: the best mean F1 of the two models on the tune months'
unlabelled items, 100 labels); the held-out months are only reported. The term is small on purpose:
the sample's labels come from a keyword rule that the shipped model already follows closely, so
there a stronger vote only added noise (held-out F1 0.979 → 0.976 with 100 labels), while the
similarity-only model gains (0.903 → 0.911). An item's own mark always decides it, whatever the vote.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scanner.analysis.calibration import similarity_calibration
from scanner.analysis.embed import Embedder, item_vectors
from scanner.store import Store
from scanner.store.labels import labelled_relevance

K = 5
MIN_SIMILARITY = 0.6
WEIGHT = 0.5


@dataclass
class LabelledNeighbours:
    """The labelled items of one embedder: ids, unit vectors and +1/-1 labels."""

    ids: np.ndarray
    vectors: np.ndarray
    signs: np.ndarray
    weight: float = WEIGHT
    k: int = K
    min_similarity: float = MIN_SIMILARITY

    def __len__(self) -> int:
        return len(self.ids)

    def vote(self, vector: np.ndarray, exclude: int | None = None) -> tuple[float, list[dict[str, object]]]:
        """(vote in [-1, 1], the neighbours that cast it) for an item's ``vector``; (0, []) when none is close."""
        if not len(self.ids) or not np.any(vector):
            return 0.0, []
        sims = self.vectors @ np.asarray(vector, dtype=np.float32)
        if exclude is not None:
            sims = np.where(self.ids == exclude, -1.0, sims)
        top = np.argsort(-sims, kind="stable")[: self.k]
        top = top[sims[top] >= self.min_similarity]
        if not len(top):
            return 0.0, []
        w = sims[top]
        vote = float((w * self.signs[top]).sum() / w.sum())
        return vote, [{"item_id": int(self.ids[j]), "similarity": round(float(sims[j]), 3),
                       "label": "relevant" if self.signs[j] > 0 else "not relevant"} for j in top]


def load_neighbours(store: Store, embedder: Embedder, labels: dict[int, bool] | None = None) -> LabelledNeighbours:
    """The labelled items (``scanner.store.labels``, or ``labels`` given) with their vectors (embedded if
    missing), and ``MIN_SIMILARITY`` on the embedder's scale (e5's cosines crowd into 0.77–0.98, where
    USE's 0.6 would let any five labelled items vote)."""
    labels = labelled_relevance(store) if labels is None else labels
    ids = sorted(labels)
    if not ids:
        return LabelledNeighbours(np.zeros(0, np.int64), np.zeros((0, 0), np.float32), np.zeros(0, np.float32))
    vectors = np.asarray(item_vectors(store, embedder, ids), dtype=np.float32)
    keep = np.any(vectors, axis=1)
    signs = np.array([1.0 if labels[i] else -1.0 for i in ids], dtype=np.float32)
    return LabelledNeighbours(np.array(ids, dtype=np.int64)[keep], vectors[keep], signs[keep],
                              min_similarity=neighbour_floor(store, embedder))


def neighbour_floor(store: Store, embedder: Embedder, save: bool = True) -> float:
    """``MIN_SIMILARITY`` on ``embedder``'s scale (``save=False`` for a read-only database)."""
    return similarity_calibration(store, embedder, save=save).items.to_model(MIN_SIMILARITY)


__all__ = ["LabelledNeighbours", "load_neighbours", "neighbour_floor"]
