"""Clustering + tracking of a 50,000-item window: time and peak memory (target ≤ 30 s, ≤ 1.5 GB).

The vectors are synthetic with the structure of real ones: the titles of the 345 relevant thaigov
releases are embedded with USE (in a child process, so the model's memory is not counted), and
each of the 50,000 items is one of those seeds plus Gaussian noise (cosine ≈ 0.8 to its seed),
so the window has USE's real anisotropy and topic geometry, with ~145 near-copies per release.
About 3% of items are exact syndicated copies (same story). Measured:

- ``cold``: the first run — no signals yet; every story goes through clustering;
- ``warm``: the next week — last run's assignments kept, 5% new items arrive.

Signals are tracked on each item's embedding next to its keywords (``scanner.analysis.lexical``,
``analysis.lexical_weight``): every synthetic item carries the newmm tokens of its seed release
(a random 80 % of them), and building those 1,536-dimension rows is timed as its own column
(``mix``) and counted in each run. ``--lexical-weight 0`` measures the embedding alone.

Each scenario is the mix, ``track_signals`` with the shipped thresholds (calibrated to the mix) plus
writing the result (``save_tracking``) to a real SQLite file.
Run: ``python bench/cluster.py [--n 50000] [--lexical-weight W]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanner.analysis.calibration import REFERENCE, similarity_calibration  # noqa: E402
from scanner.analysis.lexical import tracking_vectors  # noqa: E402
from scanner.analysis.track import TrackParams, track_signals  # noqa: E402
from scanner.config import AnalysisConfig  # noqa: E402
from scanner.store import Store  # noqa: E402
from scanner.store import signals as db  # noqa: E402

SAMPLE = ROOT / "demo" / "data" / "thaigov_sample.jsonl"


def embed_seeds(out: Path) -> None:
    from scanner.analysis.embed import UseEmbedder
    from scanner.normalize import tokenize

    rows = [json.loads(line) for line in SAMPLE.open(encoding="utf-8") if json.loads(line)["relevant"]]
    np.save(out, UseEmbedder().embed([r["title"] for r in rows]))
    tokens = [tokenize(r["title"]) + tokenize(r["body"])[:400] for r in rows]
    out.with_suffix(".json").write_text(json.dumps(tokens, ensure_ascii=False), encoding="utf-8")


class _Use:
    model_id = REFERENCE  # the calibration of USE reads the shipped reference cosines: no model loaded


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic(seeds: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, list[int], np.ndarray]:
    pick = rng.integers(0, len(seeds), n)
    x = seeds[pick] + rng.normal(0, 0.032, (n, seeds.shape[1])).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    story = list(range(1, n + 1))
    for k in range(1, n, 33):  # ~3% syndicated copies of the previous item
        x[k] = x[k - 1]
        story[k] = story[k - 1]
        pick[k] = pick[k - 1]
    return x.astype(np.float32), story, pick


def item_tokens(seed_tokens: list[list[str]], pick: np.ndarray, rng: np.random.Generator) -> list[list[str]]:
    """Each item's tokens: a random 80 % of its seed release's (copies keep their original's)."""
    out: list[list[str]] = []
    for k, seed in enumerate(pick.tolist()):
        toks = seed_tokens[seed]
        out.append(out[k - 1] if k and pick[k - 1] == seed and k % 33 == 0 else
                   [t for t, keep in zip(toks, rng.random(len(toks)) < 0.8, strict=True) if keep])
    return out


def fill_items(store: Store, n: int) -> None:
    with store.transaction() as conn:
        conn.execute("INSERT INTO sources (id, kind, created_at, updated_at) VALUES ('s', 'rss', '', '')")
        conn.executemany(
            "INSERT INTO items (id, source_id, item_key, published, first_seen, last_seen, updated_at, content_hash) "
            "VALUES (?, 's', ?, '2025-01-01', '', '', '', ?)",
            [(i, f"k{i}", f"h{i}") for i in range(1, n + 1)],
        )


def run_once(store: Store, ids: list[int], story: list[int], x: np.ndarray, tokens: list[list[str]], weight: float,
             params: TrackParams, week: str) -> tuple[float, float, dict[str, int]]:
    t = time.perf_counter()
    mixed = tracking_vectors(x, tokens, weight)
    mix_s = time.perf_counter() - t
    refs = db.load_signal_refs(store)
    previous = db.load_assignments(store, ids)
    r = track_signals(ids, story, mixed, previous, refs, db.next_signal_id(store), params)
    db.save_tracking(store, week=week, now="2025-01-01T00:00:00+00:00", model="bench", born=r.born, means=r.means,
                     merged=r.merged, assignment=r.assignment, similarity=r.similarity, events=r.events)
    seconds = time.perf_counter() - t
    return seconds, mix_s, {"signals": len(r.means), "born": len(r.born), "merged": len(r.merged),
                            "split": len(r.split), "unassigned": r.unassigned}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--lexical-weight", type=float, default=AnalysisConfig().lexical_weight)
    parser.add_argument("--embed-seeds", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.embed_seeds:
        embed_seeds(args.embed_seeds)
        return
    with tempfile.TemporaryDirectory() as tmp:
        seeds_path = Path(tmp) / "seeds.npy"
        subprocess.run([sys.executable, __file__, "--embed-seeds", str(seeds_path)], check=True)
        seeds = np.load(seeds_path)
        seed_tokens = json.loads(seeds_path.with_suffix(".json").read_text(encoding="utf-8"))
        rng = np.random.default_rng(0)
        n_new = args.n // 20
        x, story, pick = synthetic(seeds, args.n + n_new, rng)
        tokens = item_tokens(seed_tokens, pick, rng)
        store = Store.open(Path(tmp) / "bench.db")
        fill_items(store, args.n + n_new)
        a = AnalysisConfig(lexical_weight=args.lexical_weight)
        params = similarity_calibration(store, _Use(), a.lexical_weight).tracking.track_params(  # type: ignore[arg-type]
            TrackParams(threshold=a.cluster_threshold, join=a.join))
        base = peak_mb()
        ids = list(range(1, args.n + 1))
        cold_s, cold_mix, cold = run_once(store, ids, story[: args.n], x[: args.n], tokens[: args.n],
                                          a.lexical_weight, params, "2025-W01")
        cold_mb = peak_mb()
        # next week: the oldest 5% leave the window, 5% new items arrive
        ids2 = list(range(n_new + 1, args.n + n_new + 1))
        warm_s, warm_mix, warm = run_once(store, ids2, story[n_new:], x[n_new:], tokens[n_new:], a.lexical_weight,
                                          params, "2025-W02")
        warm_mb = peak_mb()
    dims = seeds.shape[1] + (1024 if a.lexical_weight else 0)
    print(f"clustering + tracking, {args.n:,} items, {dims} dims (USE-shaped synthetic vectors, keyword weight "
          f"{a.lexical_weight}; cluster {params.threshold:.3f}, join {params.join:.3f} on the mixed scale)")
    print(f"process peak RSS before: {base:.0f} MB")
    print()
    print(f"{'run':<6} {'seconds':>8} {'mix s':>6} {'peak MB':>8} {'signals':>8} {'born':>6} {'merged':>7} "
          f"{'split':>6} {'unassigned':>10}")
    for name, s, mix, mb, r in (("cold", cold_s, cold_mix, cold_mb, cold), ("warm", warm_s, warm_mix, warm_mb, warm)):
        print(f"{name:<6} {s:>8.1f} {mix:>6.1f} {mb:>8.0f} {r['signals']:>8} {r['born']:>6} {r['merged']:>7} "
              f"{r['split']:>6} {r['unassigned']:>10}")
    print()
    print("targets: ≤ 30 s and ≤ 1,500 MB peak RSS")


if __name__ == "__main__":
    main()
