"""Weekly scores of signals and keywords (Yoon 2012) and their place on the two maps.

For a signal (or keyword) in ISO week ``j`` of a window of ``n`` weeks:

- ``TF_j``: volume. For a signal, the number of *stories* (syndicated copies count once); for a
  keyword, its number of occurrences.
- ``DF_j``: diffusion. For a signal, the number of items — a story carried by three sources
  counts three times; for a keyword, the number of items containing it.
- ``NN_j``: the number of relevant items in the window that week.
- Degree of visibility ``DoV_j = (TF_j / NN_j)·(1 − tw·(n − j))`` and degree of diffusion
  ``DoD_j = (DF_j / NN_j)·(1 − tw·(n − j))``, ``tw = 0.05`` (older weeks weigh less).
- Weeks before the first item of the whole stream are not periods (there was nothing to see), so
  a young database does not make every signal look like it grew from nothing.
- Growth: the geometric-mean weekly growth rate of DoV (DoD) over the window, estimated as
  ``exp(slope) − 1`` of a least-squares line through ``log(DoV_j + ε)``. (The plain geometric mean
  of week-on-week ratios telescopes to the ratio of the two end weeks, which in weekly news counts
  is mostly noise; the fit uses every week.) ``ε`` is half an item at the window's mean volume,
  so empty weeks are finite.

``signal_weeks`` holds, for each week ``w`` of the window, the counts of that week, its own
``DoV``/``DoD`` (``j = n``, weight 1) and the growth and state *as of* ``w`` (the window cut at ``w``).

Maps (Yoon): the Keyword Emergence Map plots the average ``TF`` per week against DoV growth; the
Keyword Issue Map the average ``DF`` against DoD growth, split at the **medians** (``quadrant``).

States need evidence, which a rank among signals is not (a signal with 2 items in 12 weeks can rank
above the median growth). Frequency is still "at or above the median" of the signals alive and not
fading; growth is ``rising``: at least ``MIN_SUPPORT`` items in the last ``RECENT_WEEKS`` weeks and
a one-sided exact rate-ratio test (two Poisson counts, conditioned on their sum) of those weeks
against the signal's own earlier weeks, with the stream's relevant items as exposure, at ``ALPHA``:

- ``weak``: rare, rising with evidence — the early signals the lab looks for;
- ``strong``: frequent, rising; ``latent``: rare, not rising; ``established``: frequent, not rising;
- overriding these, ``new`` (its first item is in the current week) and ``fading`` (no item for
  ``analysis.fading_weeks`` weeks).

The state comes from the emergence map (``signal_state``).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from scanner.clock import weeks_apart
from scanner.models import Keywords, KeywordWeek, SignalEvent, SignalUpdate, SignalWeek

logger = logging.getLogger(__name__)

TW = 0.05
RECENT_WEEKS = 4  # the recent weeks the burst test compares with the weeks before them
MIN_SUPPORT = 3  # items in the recent weeks before a rise counts as evidence
ALPHA = 0.05  # the burst test's significance level
GREW_MIN = 3  # stories in the week, and at least twice the previous four weeks' mean
# Every state a signal can be in, in the order lists show them (the newest and weakest first).
STATES = ("new", "weak", "strong", "latent", "established", "fading")


def state_rank(state: str | None) -> int:
    """Where a state comes in lists: the order of ``STATES`` (newest and weakest first), unknown last."""
    return STATES.index(state) if state in STATES else len(STATES)

STATE_LABELS = {"new": "New", "weak": "Weak signal", "strong": "Strong signal", "latent": "Latent",
                "established": "Established", "fading": "Fading"}


def yoon_degree(counts: np.ndarray, nn: np.ndarray, tw: float = TW) -> np.ndarray:
    """``(count_j / NN_j)·(1 − tw·(n − j))`` for j = 1..n (last entry is the current week)."""
    n = len(counts)
    j = np.arange(1, n + 1)
    weight = np.maximum(1.0 - tw * (n - j), 0.0)
    share = np.divide(counts, nn, out=np.zeros(n, dtype=np.float64), where=nn > 0)
    return np.asarray(share * weight, dtype=np.float64)


def growth_rate(degrees: np.ndarray, eps: float) -> float | None:
    """Geometric-mean growth per week, ``exp(slope of log(d + eps)) − 1``; ``None`` with < 2 weeks."""
    n = len(degrees)
    if n < 2:
        return None
    y = np.log(np.asarray(degrees, dtype=np.float64) + eps)
    x = np.arange(n, dtype=np.float64)
    x -= x.mean()
    slope = float((x * (y - y.mean())).sum() / (x * x).sum())
    return float(np.exp(slope) - 1.0)


def burst_p(recent: float, before: float, recent_exposure: float, before_exposure: float) -> float:
    """One-sided p-value that a signal's rate rose: the conditional (binomial) test of two Poisson counts.

    Under "no rise", the ``recent + before`` items fall into the recent weeks in proportion to the
    exposure (the stream's relevant items in those weeks, so a busier stream does not look like a
    rise): ``P(X ≥ recent)``, ``X ~ Binomial(recent + before, recent_exposure / total exposure)``.
    Exact for small counts; ``1.0`` when there is nothing to compare with.
    """
    from scipy.stats import binom

    n = round(recent + before)
    total = recent_exposure + before_exposure
    if n == 0 or before_exposure <= 0 or total <= 0:
        return 1.0
    return float(binom.sf(round(recent) - 1, n, recent_exposure / total))


def rising(counts: np.ndarray, nn: np.ndarray) -> bool:
    """The one rule for "growing, with evidence": at least ``MIN_SUPPORT`` items in the last
    ``RECENT_WEEKS`` weeks of ``counts`` and a burst test against the weeks before at ``ALPHA``
    (``nn``: the stream's relevant items per week, the exposure)."""
    r = min(RECENT_WEEKS, len(counts))
    recent, before = float(counts[-r:].sum()), float(counts[:-r].sum())
    if recent < MIN_SUPPORT:
        return False
    return burst_p(recent, before, float(nn[-r:].sum()), float(nn[:-r].sum())) <= ALPHA


def quadrant(freq: float, growth: float | None, freq_median: float, growth_median: float) -> str:
    """The map quadrant of a point: growth at or above the median is high, and so is frequency."""
    high_f = freq >= freq_median
    high_g = growth is None or growth >= growth_median
    if high_g:
        return "strong" if high_f else "weak"
    return "established" if high_f else "latent"


def signal_state(quadrant_state: str, first_week: str, last_item_week: str | None, week: str,
                 fading_weeks: int) -> str:
    """The one rule for a signal's state in ``week``.

    ``fading`` once it has had no item for ``fading_weeks`` weeks; else ``new`` in the week of its
    first item; else its quadrant on the emergence map (``quadrant_state``). ``last_item_week`` is
    the week of its latest item up to ``week`` (``None``: no item seen yet).
    """
    if last_item_week is not None and weeks_apart(last_item_week, week) >= fading_weeks:
        return "fading"
    if week == first_week:
        return "new"
    return quadrant_state


def median(values: Sequence[float]) -> float:
    return float(np.median(values)) if len(values) else 0.0


@dataclass
class WindowData:
    """The window as scoring sees it (aligned lists, one entry per relevant item)."""

    weeks: list[str]  # every ISO week of the window, oldest first; the last one is current
    item_week: list[str]
    item_story: list[int]
    item_source: list[str]
    item_kind: list[str]
    item_signal: list[int | None]


@dataclass
class ScoreResult:
    signal_weeks: list[SignalWeek] = field(default_factory=list)
    signal_updates: list[SignalUpdate] = field(default_factory=list)
    events: list[SignalEvent] = field(default_factory=list)
    states: Counter[str] = field(default_factory=Counter)


def _eps(nn: np.ndarray) -> float:
    mean = float(nn[nn > 0].mean()) if (nn > 0).any() else 1.0
    return 0.5 / mean


@dataclass
class _Counts:
    """Per signal and week of the window: items, stories, sources and kinds of source."""

    nn: np.ndarray  # relevant items per week (all signals and none)
    items: dict[int, np.ndarray]
    stories: dict[int, list[set[int]]]
    sources: dict[int, list[set[str]]]
    kinds: dict[int, list[set[str]]]


def _count(data: WindowData) -> _Counts:
    n = len(data.weeks)
    w_index = {w: k for k, w in enumerate(data.weeks)}
    c = _Counts(np.zeros(n), defaultdict(lambda: np.zeros(n)), defaultdict(lambda: [set() for _ in range(n)]),
                defaultdict(lambda: [set() for _ in range(n)]), defaultdict(lambda: [set() for _ in range(n)]))
    for w, story, src, kind, sid in zip(data.item_week, data.item_story, data.item_source, data.item_kind,
                                        data.item_signal, strict=True):
        k = w_index[w]
        c.nn[k] += 1
        if sid is None:
            continue
        c.items[sid][k] += 1
        c.stories[sid][k].add(story)
        c.sources[sid][k].add(src)
        c.kinds[sid][k].add(kind)
    return c


Stats = tuple[float, float | None, float, float | None]  # mean TF, DoV growth, mean DF, DoD growth


def _stats_by_week(tf: dict[int, np.ndarray], df: dict[int, np.ndarray], nn: np.ndarray,
                   fading_weeks: int) -> tuple[dict[int, list[Stats]], dict[int, list[str]]]:
    """For every week ``k``: each signal's stats over the window cut at ``k``, and its quadrant
    (frequency against the median of the signals alive at ``k``; growth by ``rising``)."""
    live = list(tf)
    eps = _eps(nn)
    per_week: dict[int, list[Stats]] = {s: [] for s in live}
    state_at: dict[int, list[str]] = {s: [] for s in live}
    start = int(np.argmax(nn > 0)) if (nn > 0).any() else 0  # weeks before the stream began are no data
    for k in range(len(nn)):
        lo = min(start, k)
        stats: dict[int, Stats] = {}
        for s in live:
            dov = yoon_degree(tf[s][lo : k + 1], nn[lo : k + 1])
            dod = yoon_degree(df[s][lo : k + 1], nn[lo : k + 1])
            stats[s] = (float(tf[s][lo : k + 1].mean()), growth_rate(dov, eps), float(df[s][lo : k + 1].mean()),
                        growth_rate(dod, eps))
            per_week[s].append(stats[s])
        present = [s for s in live if tf[s][: k + 1].sum() > 0 and _weeks_idle(tf[s], k) < fading_weeks]
        f_med = median([stats[s][0] for s in present])
        for s in live:  # growth on the state's axis is evidence of a rise, not a rank among signals
            high_f = stats[s][0] >= f_med
            if rising(df[s][lo : k + 1], nn[lo : k + 1]):
                state_at[s].append("strong" if high_f else "weak")
            else:
                state_at[s].append("established" if high_f else "latent")
    return per_week, state_at


def score_signals(data: WindowData, signal_ids: Sequence[int], first_week: dict[int, str],
                  last_week: dict[int, str], previous_state: dict[int, str], keywords: dict[int, Keywords],
                  fading_weeks: int) -> ScoreResult:
    """Weekly rows, states and events of every signal in ``signal_ids``.

    ``first_week``/``last_week``: ISO week of each signal's first and last item (all time).
    """
    out = ScoreResult()
    weeks, current = data.weeks, data.weeks[-1]
    c = _count(data)
    tf = {s: np.array([len(x) for x in c.stories[s]], dtype=np.float64) for s in signal_ids if s in c.items}
    per_week, state_at = _stats_by_week(tf, {s: c.items[s] for s in tf}, c.nn, fading_weeks)
    for s in signal_ids:
        first = first_week.get(s, current)
        last = last_week.get(s, first)
        for k, w in enumerate(weeks if s in tf else []):
            if w < first:
                continue
            seen = last_week_before(tf[s], k)
            state = signal_state(state_at[s][k], first, weeks[seen] if seen is not None else None, w, fading_weeks)
            _f_tf, g_dov, _f_df, g_dod = per_week[s][k]
            out.signal_weeks.append(SignalWeek(
                signal_id=s, week=w, items=int(c.items[s][k]), stories=int(tf[s][k]), sources=len(c.sources[s][k]),
                source_kinds=len(c.kinds[s][k]), dov=_share(tf[s][k], c.nn[k]), dod=_share(c.items[s][k], c.nn[k]),
                dov_growth=_r(g_dov), dod_growth=_r(g_dod), state=state,
                keywords=keywords.get(s, {}) if w == current else None,
            ))
        state = signal_state(state_at[s][-1] if s in tf else "fading", first, last, current, fading_weeks)
        out.events.extend(_events(s, state, previous_state.get(s), last, tf.get(s)))
        out.signal_updates.append(SignalUpdate(id=s, state=state, status="active" if s in tf else "faded",
                                               first_seen=first, last_seen=last))
        out.states[state] += 1
    return out


def _events(sid: int, state: str, previous: str | None, last: str, tf: np.ndarray | None) -> list[SignalEvent]:
    """Faded, revived, or grew (``GREW_MIN`` stories this week and twice the previous four weeks' mean)."""
    out = []
    if state == "fading" and previous not in ("fading", None):
        out.append(SignalEvent(sid, "faded", {"last_week": last}))
    if previous == "fading" and state != "fading":
        out.append(SignalEvent(sid, "revived"))
    if tf is not None and state not in ("new", "fading"):
        k = len(tf) - 1
        before = tf[max(0, k - 4) : k]
        if tf[k] >= GREW_MIN and (not len(before) or tf[k] >= 2 * before.mean()):
            out.append(SignalEvent(sid, "grew", {"stories": int(tf[k]),
                                                 "before": _r(float(before.mean())) if len(before) else 0.0}))
    return out


def last_week_before(counts: np.ndarray, k: int) -> int | None:
    nz = np.nonzero(counts[: k + 1])[0]
    return int(nz[-1]) if len(nz) else None


def _weeks_idle(counts: np.ndarray, k: int) -> int:
    last = last_week_before(counts, k)
    return k - last if last is not None else k + 1


def _share(count: float, total: float) -> float | None:
    return _r(count / total if total else 0.0)


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 6)


def score_keywords(weeks: list[str], item_week: Sequence[str], item_tokens: Sequence[Sequence[str]],
                   keywords: dict[str, str]) -> list[KeywordWeek]:
    """``keyword_weeks`` rows for ``keywords`` (word → lang) over the window: tf, df, DoV, DoD, growth."""
    n = len(weeks)
    w_index = {w: k for k, w in enumerate(weeks)}
    vocab = sorted(keywords)
    index = {t: i for i, t in enumerate(vocab)}
    tf = np.zeros((len(vocab), n))
    df = np.zeros((len(vocab), n))
    nn = np.zeros(n)
    for w, toks in zip(item_week, item_tokens, strict=True):
        k = w_index[w]
        nn[k] += 1
        counts = Counter(t for t in toks if t in index)
        for t, c in counts.items():
            tf[index[t], k] += c
            df[index[t], k] += 1
    eps = _eps(nn)
    start = int(np.argmax(nn > 0)) if (nn > 0).any() else 0
    rows = []
    for t, i in index.items():
        for k, w in enumerate(weeks):
            if tf[i, : k + 1].sum() == 0:
                continue
            lo = min(start, k)
            rows.append(KeywordWeek(
                keyword=t, lang=keywords[t], week=w, tf=int(tf[i, k]), df=int(df[i, k]),
                dov=_share(tf[i, k], nn[k]), dod=_share(df[i, k], nn[k]),
                dov_growth=_r(growth_rate(yoon_degree(tf[i, lo : k + 1], nn[lo : k + 1]), eps)),
                dod_growth=_r(growth_rate(yoon_degree(df[i, lo : k + 1], nn[lo : k + 1]), eps)),
            ))
    return rows


__all__ = ["STATES", "STATE_LABELS", "growth_rate", "quadrant", "score_keywords", "score_signals",
           "signal_state", "yoon_degree"]
