"""Cosines of the similarity calibration's reference pairs under a model that ships none (any
``sentence-transformers`` model; ``scanner.analysis.calibration``), kept by model id and the pairs'
digest, so the reference texts are embedded once per model and database."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from scanner.clock import iso, now_utc
from scanner.store import Store


def load_pair_cosines(store: Store, model_id: str, pairs_digest: str) -> dict[str, list[float]] | None:
    """The stored cosines of ``model_id`` over the reference pairs ``pairs_digest`` (``pairs``, and
    ``means`` over the group pairs), if any."""
    row = store.db.execute("SELECT cosines FROM similarity_calibration WHERE model = ? AND pairs_digest = ?",
                           [model_id, pairs_digest]).fetchone()
    if row is None:
        return None
    return {k: [float(c) for c in v] for k, v in json.loads(row[0]).items()}


def save_pair_cosines(store: Store, model_id: str, pairs_digest: str, cosines: Mapping[str, Sequence[float]]) -> None:
    """Keep one model's cosines (they replace any computed for other reference pairs)."""
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO similarity_calibration (model, pairs_digest, cosines, created_at) VALUES (?,?,?,?) "
            "ON CONFLICT(model) DO UPDATE SET pairs_digest = excluded.pairs_digest, cosines = excluded.cosines, "
            "created_at = excluded.created_at",
            (model_id, pairs_digest, json.dumps({k: [float(c) for c in v] for k, v in cosines.items()}),
             iso(now_utc())))


__all__ = ["load_pair_cosines", "save_pair_cosines"]
