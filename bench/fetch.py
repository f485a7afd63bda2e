"""How fast does collection go, and does the thread pool pay? 50 local feeds of real Thai items.

Prints a table: first fetch (all new) and second fetch (all conditional, 304) with 1 and 4 workers.
Run: .venv/bin/python bench/fetch.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from scanner.clock import now_utc
from scanner.collect import collect
from scanner.config import Config, RssSource, Settings
from scanner.demo import FeedServer, load_items, published_at
from scanner.store import Store

N_FEEDS = 50


def measure(workers: int, server: FeedServer, folder: Path) -> tuple[float, float, int]:
    sources = [RssSource(id=fid, kind="rss", url=server.url(fid)) for fid in server.feeds]
    config = Config(settings=Settings(per_host_delay=0), sources=sources)
    with Store.open(folder / f"bench-{workers}.db") as store:
        t0 = time.perf_counter()
        first = collect(config, store, sources, now=now_utc(), workers=workers)
        t1 = time.perf_counter()
        second = collect(config, store, sources, now=now_utc(), workers=workers)
        t2 = time.perf_counter()
        assert second.items_new == 0 and all(r.status == "not_modified" for r in second.results)
        return t1 - t0, t2 - t1, first.items_new


def main() -> None:
    items = load_items()
    feeds = {f"feed-{n:02d}": (f"Feed {n}", "rss", sorted(items[n::N_FEEDS], key=published_at))
             for n in range(N_FEEDS)}
    server = FeedServer(feeds, window=100).start()
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for workers in (1, 4):
                first, second, n = measure(workers, server, Path(tmp))
                rows.append((workers, n, first, n / first, second))
    finally:
        server.stop()
    print(f"{'workers':>7} {'items':>6} {'first fetch s':>13} {'items/s':>8} {'304 round s':>11}")
    for workers, n, first, rate, second in rows:
        print(f"{workers:>7} {n:>6} {first:>13.2f} {rate:>8.1f} {second:>11.2f}")
    print(f"speed-up of 4 workers over 1 on the first fetch: {rows[0][2] / rows[1][2]:.2f}x")


if __name__ == "__main__":
    main()
