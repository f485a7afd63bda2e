"""Clustering + tracking of a 50,000-item window: time and peak memory (target ≤ 30 s, ≤ 1.5 GB).

The vectors are synthetic with the structure of real ones: the titles of the 345 relevant thaigov
releases are embedded with USE (in a child process, so the model's memory is not counted), and
each of the 50,000 items is one of those seeds plus Gaussian noise (cosine ≈ 0.8 to its seed),
so the window has USE's real anisotropy and topic geometry, with ~145 near-copies per release.
About 3% of items are exact syndicated copies (same story). Measured:

- ``cold``: the first run — no signals yet; every story goes through clustering;
- ``warm``: the next week — last run's assignments kept, 5% new items arrive.

Each scenario is ``track_signals`` plus writing the result (``save_tracking``) to a real SQLite
file. Run: ``python bench/cluster.py [--n 50000]``.
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

from scanner.analysis.track import TrackParams, track_signals  # noqa: E402
from scanner.store import Store  # noqa: E402
from scanner.store import signals as db  # noqa: E402

SAMPLE = ROOT / "demo" / "data" / "thaigov_sample.jsonl"


def embed_seeds(out: Path) -> None:
    from scanner.analysis.embed import UseEmbedder

    rows = [json.loads(line) for line in SAMPLE.open(encoding="utf-8")]
    titles = [r["title"] for r in rows if r["relevant"]]
    np.save(out, UseEmbedder().embed(titles))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic(seeds: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, list[int]]:
    pick = rng.integers(0, len(seeds), n)
    x = seeds[pick] + rng.normal(0, 0.032, (n, seeds.shape[1])).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    story = list(range(1, n + 1))
    for k in range(1, n, 33):  # ~3% syndicated copies of the previous item
        x[k] = x[k - 1]
        story[k] = story[k - 1]
    return x.astype(np.float32), story


def fill_items(store: Store, n: int) -> None:
    with store.transaction() as conn:
        conn.execute("INSERT INTO sources (id, kind, created_at, updated_at) VALUES ('s', 'rss', '', '')")
        conn.executemany(
            "INSERT INTO items (id, source_id, item_key, published, first_seen, last_seen, updated_at, content_hash) "
            "VALUES (?, 's', ?, '2025-01-01', '', '', '', ?)",
            [(i, f"k{i}", f"h{i}") for i in range(1, n + 1)],
        )


def run_once(store: Store, ids: list[int], story: list[int], x: np.ndarray, week: str) -> tuple[float, dict[str, int]]:
    t = time.perf_counter()
    refs = db.load_signal_refs(store)
    previous = db.load_assignments(store, ids)
    r = track_signals(ids, story, x, previous, refs, db.next_signal_id(store), TrackParams())
    db.save_tracking(store, week=week, now="2025-01-01T00:00:00+00:00", model="bench", born=r.born, means=r.means,
                     merged=r.merged, assignment=r.assignment, similarity=r.similarity, events=r.events)
    seconds = time.perf_counter() - t
    return seconds, {"signals": len(r.means), "born": len(r.born), "merged": len(r.merged), "split": len(r.split),
                     "unassigned": r.unassigned}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--embed-seeds", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.embed_seeds:
        embed_seeds(args.embed_seeds)
        return
    with tempfile.TemporaryDirectory() as tmp:
        seeds_path = Path(tmp) / "seeds.npy"
        subprocess.run([sys.executable, __file__, "--embed-seeds", str(seeds_path)], check=True)
        seeds = np.load(seeds_path)
        rng = np.random.default_rng(0)
        n_new = args.n // 20
        x, story = synthetic(seeds, args.n + n_new, rng)
        store = Store.open(Path(tmp) / "bench.db")
        fill_items(store, args.n + n_new)
        base = peak_mb()
        ids = list(range(1, args.n + 1))
        cold_s, cold = run_once(store, ids, story[: args.n], x[: args.n], "2025-W01")
        cold_mb = peak_mb()
        # next week: the oldest 5% leave the window, 5% new items arrive
        ids2 = list(range(n_new + 1, args.n + n_new + 1))
        warm_s, warm = run_once(store, ids2, story[n_new:], x[n_new:], "2025-W02")
        warm_mb = peak_mb()
    print(f"clustering + tracking, {args.n:,} items, {seeds.shape[1]} dims (USE-shaped synthetic vectors)")
    print(f"process peak RSS before: {base:.0f} MB")
    print()
    print(f"{'run':<6} {'seconds':>8} {'peak MB':>8} {'signals':>8} {'born':>6} {'merged':>7} {'split':>6} "
          f"{'unassigned':>10}")
    for name, s, mb, r in (("cold", cold_s, cold_mb, cold), ("warm", warm_s, warm_mb, warm)):
        print(f"{name:<6} {s:>8.1f} {mb:>8.0f} {r['signals']:>8} {r['born']:>6} {r['merged']:>7} {r['split']:>6} "
              f"{r['unassigned']:>10}")
    print()
    print("targets: ≤ 30 s and ≤ 1,500 MB peak RSS")


if __name__ == "__main__":
    main()
