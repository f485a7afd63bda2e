"""How long the weekly digest takes on a large database: N items over 12 weeks in S signals.

Prints a table; run from the repository root: ``python bench/digest_scale.py [items] [signals]``.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scanner.clock import as_of_datetime, iso, shift_week, week_start
from scanner.digest import write_digest
from scanner.store import Store
from tests import digest_fixtures as fx


def fill(store: Store, n_items: int, n_signals: int, last: str) -> None:
    rng = random.Random(7)
    titles = [r["title"] for r in fx.load_thaigov()]
    weeks = [shift_week(last, -k) for k in range(11, -1, -1)]
    fx.insert_sources(store)
    sources = [s[0] for s in fx.SOURCES]
    with store.transaction() as conn:
        for s in range(1, n_signals + 1):
            conn.execute("INSERT INTO signals (id, title, keywords, state, topics, tags, first_seen, last_seen, "
                         "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                         (s, titles[s % len(titles)][:60], json.dumps({"th": ["ข่าวปลอม"], "en": ["fake news"]}),
                          "weak", "[]", json.dumps({"steepv": ["social"]}), weeks[0], last, fx.CREATED, fx.CREATED))
        for i in range(1, n_items + 1):
            w = weeks[rng.randrange(12)]
            pub = iso(week_start(w, fx.TZ) + timedelta(hours=rng.randrange(0, 168)))
            conn.execute("INSERT INTO items (id, source_id, item_key, url, title, lang, published, first_seen, "
                         "last_seen, updated_at, content_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                         (i, rng.choice(sources), f"k{i}", f"https://example.org/{i}", titles[i % len(titles)], "th",
                          pub, pub, pub, pub, f"h{i}"))
            conn.execute("INSERT INTO item_relevance VALUES (?,?,?,?,?,?,?,?)",
                         (i, "h", "m", 0.9, 1, json.dumps([rng.choice(["a", "b", "c"])]), "{}", pub))
            conn.execute("INSERT INTO signal_items VALUES (?,?,?,?)", (i, rng.randrange(1, n_signals + 1),
                                                                        rng.random(), w))
        states = ["weak", "strong", "established", "latent", "new", "fading"]
        for s in range(1, n_signals + 1):
            for w in weeks:
                conn.execute("INSERT INTO signal_weeks (signal_id, week, items, stories, sources, source_kinds, dov, "
                             "dod, dov_growth, dod_growth, state) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                             (s, w, rng.randrange(0, 30), 1, 2, 1, 0.01, 0.02, rng.uniform(-0.5, 1), 0.1,
                              rng.choice(states)))
        for k in range(2000):
            conn.execute("INSERT INTO keyword_weeks VALUES (?,?,?,?,?,?,?,?,?)",
                         (f"kw{k}", "th", last, rng.randrange(1, 300), rng.randrange(1, 100), 0.01, 0.01,
                          rng.uniform(-1, 2), rng.uniform(-1, 2)))


def main() -> None:
    n_items = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    n_signals = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    with tempfile.TemporaryDirectory() as tmp:
        config = fx.write_config(tmp)
        store = Store.open(Path(tmp) / "signals.db")
        t = time.perf_counter()
        fill(store, n_items, n_signals, "2025-W12")
        fill_s = time.perf_counter() - t
        t = time.perf_counter()
        result = write_digest(config, store, "2025-W12", as_of_datetime("2025-04-01"))
        digest_s = time.perf_counter() - t
        sizes = {p.suffix: p.stat().st_size for p in result.paths[:3]}
    print(f"{'items':>8} {'signals':>8} {'fill s':>8} {'digest s':>9} {'html KB':>8} {'json KB':>8} {'md KB':>6}")
    print(f"{n_items:>8} {n_signals:>8} {fill_s:>8.1f} {digest_s:>9.2f} {sizes['.html'] / 1000:>8.0f} "
          f"{sizes['.json'] / 1000:>8.0f} {sizes['.md'] / 1000:>6.0f}")


if __name__ == "__main__":
    main()
