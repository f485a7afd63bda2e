"""How pure can signals be at a given coverage, on these vectors? The engine beside static partitions.

    python bench/signals_frontier.py [--data demo/data/thaigov_sample.jsonl]

The sample is replayed weekly as ``bench/signals_quality.py`` does, with the shipped settings (USE,
words and meaning). Then, per split (tune = 2024-09 … 2024-12, held out = 2025-01 … 2025-03), the
split's relevant items (the engine's decision) are partitioned **all at once** on the vectors the
engine tracks with (``lexical.tracking_vectors``: the embedding beside the keyword rows), by
agglomeration at every threshold from 0.10 to 0.70 (the mixed scale, where the shipped 0.65/0.60
are 0.392/0.337):

- **average** linkage, the engine's own rule (``scanner.analysis.cluster``), but with no weeks,
  no keep/join/merge/split and the whole split in view;
- **complete** linkage: every pair of items in a group at least as similar as the threshold.

A group of at least two items is a signal (``min_items``), so coverage is the share of relevant
items in such groups. For each, the table gives the purest partition (against the sample's
``label``) that keeps coverage at least 0.85 and at least 0.90, with its number of groups and BCubed
F1 (``signals_quality.measure``, the same scores). This is a frontier of the engine's kind of rule
on these vectors (agglomeration at one threshold), not of every possible rule: if average linkage
with the whole split in view stays under purity 0.85 at coverage 0.85, the weekly engine will too,
and its distance from that frontier at the same coverage is what its week-by-week decisions cost.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from signals_quality import SPLITS, build, load_rows, measure, replay_sample  # noqa: E402

from scanner.analysis.embed import get_embedder  # noqa: E402
from scanner.analysis.lexical import tracking_vectors, tracking_weight  # noqa: E402
from scanner.config import AnalysisConfig, Config  # noqa: E402
from scanner.store import Store  # noqa: E402
from scanner.store import signals as db  # noqa: E402
from scanner.store.embeddings import load_vectors  # noqa: E402

THRESHOLDS = np.round(np.arange(0.10, 0.701, 0.01), 2)
COVERAGES = (0.85, 0.90)


def static_partitions(vectors: np.ndarray, method: str) -> dict[float, np.ndarray]:
    """Agglomerative labels of unit ``vectors`` at each of ``THRESHOLDS`` (cosine similarity)."""
    from scipy.cluster.hierarchy import fcluster, linkage

    sim = vectors @ vectors.T
    dist = np.clip(1.0 - sim[np.triu_indices(len(vectors), 1)], 0.0, 2.0).astype(np.float64)
    z = linkage(dist, method=method)
    return {float(t): np.asarray(fcluster(z, t=1.0 - t, criterion="distance")) for t in THRESHOLDS}


def members(ids: list[int], labels: np.ndarray) -> dict[int, Any]:
    """Item → group, for the groups of at least two items (a lone item is in no signal)."""
    sizes = np.bincount(labels)
    return {i: int(g) for i, g in zip(ids, labels.tolist(), strict=True) if sizes[g] >= 2}


def best(rows: list[tuple[float, dict[str, Any]]], coverage: float) -> tuple[float, dict[str, Any]] | None:
    fit = [(t, m) for t, m in rows if m["coverage (engine)"] >= coverage]
    return max(fit, key=lambda tm: (tm[1]["purity"], tm[0])) if fit else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=ROOT / "demo" / "data" / "thaigov_sample.jsonl")
    args = parser.parse_args()
    rows = load_rows(args.data)
    config = Config(analysis=AnalysisConfig())
    embedder = get_embedder(config.analysis)
    weight = tracking_weight(embedder.model_id, config.analysis.lexical_weight)
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "signals.db") as store:
        by_id = build(store, rows)
        replay_sample(config, store, rows)
        relevant = {int(i) for (i,) in store.db.execute("SELECT item_id FROM item_relevance WHERE relevant = 1")}
        print(f"{len(rows)} items, {embedder.model_id}, keyword weight {weight}; purest partition keeping "
              f"coverage ≥ {' and ≥ '.join(map(str, COVERAGES))} (threshold on the mixed scale)\n")
        print("| split | partition | coverage ≥ | threshold | coverage (engine) | groups | purity | bcubed F1 |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, (start, end) in list(SPLITS.items())[:2]:
            ids = sorted(i for i, r in by_id.items() if start <= r["published"] < end and i in relevant)
            tokens = db.item_tokens(store, ids)
            vectors = tracking_vectors(load_vectors(store, embedder.model_id, ids), [tokens[i] for i in ids], weight)
            engine = measure(store, by_id, start, end)
            assert engine is not None
            print(f"| {name} | engine, replayed weekly | — | shipped | {engine['coverage (engine)']:.3f} | "
                  f"{engine['signals']} | {engine['purity']:.3f} | {engine['bcubed F1']:.3f} |")
            for method in ("average", "complete"):
                scored = [(t, measure(store, by_id, start, end, member=members(ids, labels)))
                          for t, labels in static_partitions(vectors, method).items()]
                found = [(t, m) for t, m in scored if m is not None]
                for coverage in COVERAGES:
                    pick = best(found, coverage)
                    if pick is None:
                        print(f"| {name} | {method} linkage, all at once | {coverage} | — | — | — | — | — |")
                        continue
                    t, m = pick
                    print(f"| {name} | {method} linkage, all at once | {coverage} | {t:.2f} | "
                          f"{m['coverage (engine)']:.3f} | {m['signals']} | {m['purity']:.3f} | {m['bcubed F1']:.3f} |")


if __name__ == "__main__":
    main()
