"""``scanner analyse`` over N new items end to end vs the raw embedding time of those items (target ≤ 1.5×).

Items are the 700 real thaigov releases, repeated and perturbed to N (default 5,000): copy ``k``
of a release gets a numbered title and its text rotated by ``k`` segments, so every copy has its
own content hash and must be embedded; publication dates are spread over the 12 weeks before
the as-of date so the whole set is in the analysis window. With the real USE model:

- ``raw``: ``UseEmbedder.embed`` on exactly the texts the pipeline embeds, in batches of 64;
- ``analyse``: ``scanner.analysis.analyse.analyse`` on a fresh database holding those items — relevance
  (when ``scanner.analysis.relevance`` is installed; otherwise every item counts as relevant, which is
  the harder case for clustering), embedding and storing vectors, stories, clustering, tracking,
  labels, tags and scores.

The model is loaded once, before both timings. On a machine shared with other work the embedding
speed can drift between the two timings, so the script also prints the time of every stage other
than embedding and the ratio at equal embedding speed. Run: ``python bench/analyse.py [--n 5000]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanner.analysis.analyse import analyse  # noqa: E402
from scanner.analysis.embed import UseEmbedder, item_text  # noqa: E402
from scanner.clock import as_of_datetime  # noqa: E402
from scanner.config import load_config  # noqa: E402
from scanner.pipeline import fetch_due  # noqa: E402
from scanner.store import Store  # noqa: E402

SAMPLE = ROOT / "demo" / "data" / "thaigov_sample.jsonl"
AS_OF = date(2025, 3, 30)


def perturbed_rows(n: int) -> list[dict[str, str]]:
    base = [json.loads(line) for line in SAMPLE.open(encoding="utf-8")]
    out = []
    for i in range(n):
        r = base[i % len(base)]
        k = i // len(base)
        parts = r["body"].split(" ")
        shift = (k * 7) % max(len(parts), 1)
        body = " ".join(parts[shift:] + parts[:shift]) if k else r["body"]
        day = AS_OF - timedelta(days=(i * 13) % 84)
        title = r["title"] + (f" ({k})" if k else "")
        out.append({"id": f"{r['id']}-{k}", "url": f"{r['url']}/copy-{k}", "title": title,
                    "published": day.isoformat(), "body": body, "lang": r["lang"]})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = folder / "items.jsonl"
        with data.open("w", encoding="utf-8") as f:
            for row in perturbed_rows(args.n):
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        config_path = folder / "sources.yaml"
        config_path.write_text(f"sources:\n  - id: thaigov\n    kind: file\n    path: {data}\n", encoding="utf-8")
        config = load_config(config_path)
        store = Store.open(folder / "signals.db")
        now = as_of_datetime(AS_OF.isoformat(), config.settings.timezone)
        fetch_due(config, store, now)
        items = store.items()
        texts = [item_text(i) for i in sorted(items, key=lambda i: i.id)]
        embedder = UseEmbedder()
        embedder.embed(texts[:8])  # warm up
        t = time.perf_counter()
        for start in range(0, len(texts), 64):
            embedder.embed(texts[start : start + 64])
        raw = time.perf_counter() - t
        t = time.perf_counter()
        result = analyse(config, store, now, embedder=embedder)
        total = time.perf_counter() - t
        store.close()
    print(f"scanner analyse over {len(texts):,} new items (real thaigov texts, perturbed copies), USE on this machine")
    print()
    print(f"{'step':<16} {'seconds':>8}")
    print(f"{'raw embedding':<16} {raw:>8.1f}   ({len(texts) / raw:.0f} texts/s)")
    print(f"{'analyse total':<16} {total:>8.1f}")
    for stage, seconds in result.timings.items():
        print(f"  {stage:<14} {seconds:>8.1f}")
    print()
    print(f"ratio analyse / raw embedding: {total / raw:.2f}  (target ≤ 1.5)")
    # On a shared machine the embedding speed drifts between the two timings. The signals engine's
    # own work is every stage after relevance and embedding (the relevance stage embeds new items
    # itself); report it so drift cannot hide it.
    t = result.timings
    own = sum(v for k, v in t.items() if k not in ("load model", "relevance", "embed"))
    print(f"stories, clustering, tracking, labels, tags, scores: {own:.1f} s = {own / raw:.1%} of raw embedding")
    print()
    for line in result.lines:
        print(line)


if __name__ == "__main__":
    main()
