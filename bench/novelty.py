"""What novelty costs as the archive grows: one week's new items against ten years of stored vectors,
with the shipped three-year horizon (``analysis.novelty_years``) and without one.

    python bench/novelty.py [--queries 1900] [--sizes 50000,200000,1000000]

An archive of ``size`` stored items: the last ``size`` items of a stream of ~270 a day (1,000,000 is
ten years, as in ``bench/scale.py``, and 50,000 its last six months) before 2025-03-24, with
512-dimension unit vectors in chunks of
``scanner.store.novelty.CHUNK`` rows; ``--queries`` new items in the week after. It times
``scanner.analysis.novelty.nearest_earlier``, the comparison itself, which is the part that grows
with the archive; reading the chunks from SQLite comes on top (the vectors are the same for every
chunk here: their values do not change the cost). Printed: seconds, seconds per 1,000 new items,
items compared per new item, and the ratio to the smallest archive (the ten-year target is ≤ 2×).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scanner.analysis.novelty import horizon_start, nearest_earlier
from scanner.clock import UTC, iso
from scanner.store.novelty import CHUNK, VectorChunk

END = datetime(2025, 3, 24, tzinfo=UTC)
YEARS = 10
STREAM = 1_000_000  # items in ten years
DIM = 512


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def chunks(size: int, since: str, pool: np.ndarray) -> Iterator[VectorChunk]:
    """The stored stream from ``since`` on, oldest first, as ``earlier_vectors`` pages it."""
    step = timedelta(days=365.25 * YEARS) / STREAM
    start = END - step * size
    first = 0
    if since:
        first = max(0, int((datetime.fromisoformat(since) - start) / step))
    for lo in range(first, size, CHUNK):
        hi = min(size, lo + CHUNK)
        keys = [(iso(start + step * k), k) for k in range(lo, hi)]
        yield VectorChunk(keys=keys, vectors=pool[: hi - lo])


def run(size: int, queries: int, horizon: int | None, rng: np.random.Generator,
        pool: np.ndarray) -> tuple[float, float]:
    q = unit(rng, queries)
    keys = [(iso(END + timedelta(minutes=5 * k)), size + k) for k in range(queries)]
    starts = [horizon_start(p, horizon) for p, _ in keys] if horizon else None
    since = min(starts) if starts else ""
    t = time.perf_counter()
    found = nearest_earlier(q, keys, chunks(size, since, pool), starts)
    return time.perf_counter() - t, float(found.earlier.mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--queries", type=int, default=1900, help="new items (one week of ~270 a day)")
    parser.add_argument("--sizes", default="50000,200000,1000000", help="stored items, comma-separated")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(1)
    pool = unit(rng, CHUNK)
    print(f"{args.queries} new items against the last N items of a stream of ~270 a day ({DIM} dimensions)\n")
    print("| stored items | horizon | seconds | s per 1,000 new | compared per new item | ratio to the smallest |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for horizon in (3, None):
        base = None
        for size in sizes:
            seconds, compared = run(size, args.queries, horizon, rng, pool)
            base = base or seconds
            label = f"{horizon} years" if horizon else "none (all history)"
            print(f"| {size:,} | {label} | {seconds:.1f} | {seconds * 1000 / args.queries:.2f} | {compared:,.0f} | "
                  f"{seconds / base:.2f}× |", flush=True)


if __name__ == "__main__":
    main()
