"""``scanner analyse``: relevance → embeddings → novelty → stories → clustering and tracking → labels → scores.

Every similarity threshold is written in USE units and mapped to the embedder's own scale here, once
per run (``scanner.analysis.calibration``): the story threshold and the signal parameters on the scale
of item pairs, the trend parameters on that of signal means.

Labels include each signal's and trend's name, from keyphrases or a language model (``scanner.analysis.namer``).

Everything is computed "as of" ``now`` (``--as-of DATE``) over one ``Window`` (``analysis_window``),
so replaying an archive week by week gives the same signals, with the same ids, as living through
those weeks. Each stage writes in one transaction.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

import numpy as np

from scanner.analysis.calibration import ModelCalibration
from scanner.analysis.embed import Embedder, embed_items, get_embedder
from scanner.analysis.label import ctfidf_keywords, lang_of, majority_topics, name_and_example
from scanner.analysis.lexical import keyword_part, mixed_rows, tracking_vectors, tracking_weight
from scanner.analysis.namer import Namer, apply_names, get_namer, naming_input
from scanner.analysis.novelty import score_novelty
from scanner.analysis.relevance import score_relevance
from scanner.analysis.score import WindowData, score_keywords, score_signals
from scanner.analysis.stories import THRESHOLD as STORY_THRESHOLD
from scanner.analysis.stories import group_stories
from scanner.analysis.tags import Tagger
from scanner.analysis.topicmix import tracking_calibration, window_topic_rows
from scanner.analysis.track import TrackParams, TrackResult, story_means, track_signals
from scanner.analysis.trends import track_trends, trend_params
from scanner.clock import iso, iso_week, now_utc, parse_iso, week_start, weeks_between, weeks_ending
from scanner.config import Config
from scanner.models import Keywords, SignalLabel, Window
from scanner.store import Store
from scanner.store import signals as db
from scanner.store import trends as tdb
from scanner.store.embeddings import load_vectors
from scanner.store.labels import pinned_items

logger = logging.getLogger(__name__)


def analysis_window(now: datetime, window_weeks: int, tz: str) -> Window:
    """The window of an analysis run at ``now``."""
    week = iso_week(now, tz)
    first_week = weeks_ending(week, window_weeks)[0]
    return Window(first_week=first_week, week=week, start=iso(week_start(first_week, tz)), end=iso(now))


@dataclass
class AnalyseResult:
    week: str
    lines: list[str] = field(default_factory=list)
    items: int = 0
    relevant: int = 0
    novelty: int = 0  # relevant items whose novelty was computed in this run
    stories: int = 0
    signals: int = 0
    born: int = 0
    trends: int = 0
    merged: int = 0
    split: int = 0
    unassigned: int = 0
    states: dict[str, int] = field(default_factory=dict)
    relevance_scored: bool = False
    timings: dict[str, float] = field(default_factory=dict)


class _Timer:
    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self.last, 3)
        self.last = now


def analyse(config: Config, store: Store, now: datetime, progress: bool = False,
            embedder: Embedder | None = None, relevance: bool = True) -> AnalyseResult:
    """Analyse the window ending at ``now``; returns counts and summary ``lines``.

    ``relevance=False`` skips scoring relevance and uses the decisions already stored in
    ``item_relevance`` (hand-labelled data, tests).
    """
    window = analysis_window(now, config.analysis.window_weeks, config.settings.timezone)
    result = AnalyseResult(week=window.week)
    timer = _Timer(result.timings)
    run_id = db.start_run(store, "analyse", iso(now), iso(now_utc()))
    embedder = embedder or get_embedder(config.analysis, config.base_dir)
    namer = get_namer(config.analysis, store)
    calibration = tracking_calibration(store, config, embedder)
    timer.lap("load model")
    # Relevance of the window's items only: older items keep their decision, so the cost of a run
    # (and of changing the topics) does not grow with the years of history.
    window_ids = db.item_ids_in(store, window.start, window.end)
    if relevance:
        score_relevance(store, config, embedder, item_ids=window_ids, progress=progress)
        result.relevance_scored = True
    result.items = len(window_ids)
    timer.lap("relevance")
    items, vectors = _window_items(store, embedder, window, progress)
    result.relevant = len(items)
    timer.lap("embed")
    result.novelty = score_novelty(store, embedder, items, vectors, progress=progress,
                                   years=config.analysis.novelty_years)
    timer.lap("novelty")
    story_of = _stories(store, items, vectors, calibration.items.to_model(STORY_THRESHOLD))
    result.stories = len(set(story_of.values()))
    timer.lap("stories")
    stamp = iso(now_utc())
    params = calibration.tracking.track_params(
        TrackParams(threshold=config.analysis.cluster_threshold, join=config.analysis.join))
    tokens = db.item_tokens(store, [it.id for it in items])
    weight = tracking_weight(embedder.model_id, config.analysis.lexical_weight)
    topic_weight = tracking_weight(embedder.model_id, config.analysis.topic_weight)
    topics = window_topic_rows(store, config, [it.id for it in items]) if topic_weight > 0 else None
    track_vecs = tracking_vectors(vectors, [tokens.get(it.id, []) for it in items], weight, topics, topic_weight)
    tracked, lost = _track(store, embedder, window, items, vectors, track_vecs, story_of, params, stamp)
    result.born = sum(1 for e in tracked.events if e.event == "born")
    result.split, result.merged, result.unassigned = len(tracked.split), len(tracked.merged), tracked.unassigned
    timer.lap("cluster+track")
    keywords = _label(store, embedder, namer, config, items, vectors, tracked, tokens, stamp)
    timer.lap("labels+tags")
    data = _window_data(config, window, items, story_of, tracked)
    result.states = _score(config, store, window, items, data, tracked, lost, tokens, keywords, stamp)
    timer.lap("scores")
    result.trends = _trends(config, store, embedder, namer, calibration, window, items, vectors, data, tracked,
                            tokens, track_vecs, weight, story_of, stamp)
    timer.lap("trends")
    result.signals = sum(result.states.values())
    result.lines = _summary(result, config.analysis.window_weeks)
    if (names := namer.report()) is not None:
        result.lines.append(names)
    db.finish_run(store, run_id, iso(now_utc()), summary_dict(result))
    return result


def _window_items(store: Store, embedder: Embedder, window: Window,
                  progress: bool) -> tuple[list[db.WindowItem], np.ndarray]:
    """The window's relevant items that have a vector (embedding those that lack one), in id order."""
    ids = db.relevant_ids(store, window.start, window.end)
    embed_items(store, embedder, ids, progress=progress)
    if not ids:
        return [], np.zeros((0, 0), np.float32)
    vectors = load_vectors(store, embedder.model_id, ids)
    row = {i: k for k, i in enumerate(ids)}
    items = [it for it in db.window_items(store, ids) if np.any(vectors[row[it.id]])]
    return items, vectors[[row[it.id] for it in items]] if items else np.zeros((0, 0), np.float32)


def _stories(store: Store, items: list[db.WindowItem], vectors: np.ndarray, threshold: float) -> dict[int, int]:
    """Group the window's items into stories (near-duplicates at ``threshold``, the model's units);
    store the groupings that changed."""
    ids = [it.id for it in items]
    existing = db.load_stories(store, ids)
    story_of = group_stories(ids, [it.content_hash for it in items], [it.duplicate_of for it in items],
                             [it.published for it in items], vectors, existing, threshold=threshold)
    changed = {i: s for i, s in story_of.items() if existing.get(i) != s}
    if changed:
        db.save_stories(store, changed)
    return story_of


def _track(store: Store, embedder: Embedder, window: Window, items: list[db.WindowItem], vectors: np.ndarray,
           track_vecs: np.ndarray, story_of: dict[int, int], params: TrackParams,
           stamp: str) -> tuple[TrackResult, set[int]]:
    """Keep, assign, cluster, merge and split (``scanner.analysis.track``) on ``track_vecs``, the items'
    embeddings next to their keywords and lab topics (``scanner.analysis.lexical.tracking_vectors``), with
    ``params`` (calibrated to that mix); store the result.

    Returns the result as stored (merges an analyst made meanwhile followed), with each signal's mean
    of its stories' *embeddings* (what labels, tags and trends compare), and the signals that lost
    members (their spans are read again when they are scored). The stored centroids are means of the
    tracking vectors: only the next run's tracking reads them."""
    ids = [it.id for it in items]
    stories = [story_of[i] for i in ids]
    tracked = track_signals(ids, stories, track_vecs, db.load_assignments(store, ids),
                            db.load_signal_refs(store), db.next_signal_id(store),
                            params, no_split=frozenset(db.analyst_merged(store)), pinned=pinned_items(store, ids))
    saved = db.save_tracking(store, week=window.week, now=stamp, model=embedder.model_id, born=tracked.born,
                             means=tracked.means, merged=tracked.merged, assignment=tracked.assignment,
                             similarity=tracked.similarity, events=tracked.events, window=window)
    tracked.assignment = saved.assignment
    if track_vecs.shape[1] != vectors.shape[1]:  # tracked on words or topics too: the embeddings' own means
        tracked.means = story_means(ids, stories, vectors, tracked.assignment)
    else:
        live = set(saved.assignment.values())
        tracked.means = {s: v for s, v in tracked.means.items() if s in live}
    return tracked, saved.lost


def _label(store: Store, embedder: Embedder, namer: Namer, config: Config, items: list[db.WindowItem],
           vectors: np.ndarray, tracked: TrackResult, tokens: dict[int, list[str]], stamp: str) -> dict[int, Keywords]:
    """Name (``namer``: from keyphrases, or a language model's name and summary), example headline, keywords
    (c-TF-IDF against the unassigned items), tags and topics of every signal in the window."""
    sids = sorted(tracked.means)
    if not sids:
        return {}
    row_of = {it.id: k for k, it in enumerate(items)}
    members: dict[int, list[int]] = {s: [] for s in sids}
    background: list[int] = []
    for it in items:
        sid = tracked.assignment.get(it.id)
        (members.get(sid, background) if sid is not None else background).append(it.id)
    classes = [[tokens.get(i, []) for i in members[s]] for s in sids]
    classes.append([tokens.get(i, []) for i in background])
    keywords = ctfidf_keywords(classes, written=[it.title for it in items])[: len(sids)]
    tags = Tagger(embedder, config.analysis.tags).tag(np.stack([tracked.means[s] for s in sids]))
    topics = db.item_topics(store, [it.id for it in items])
    labels, asked = [], []
    for k, s in enumerate(sids):
        rows_k = [row_of[i] for i in members[s]]
        titles = [items[r].title for r in rows_k]
        name, example = name_and_example(keywords[k], titles, vectors[rows_k], tracked.means[s])
        labels.append(SignalLabel(id=s, title=name, keywords=keywords[k], tags=tags[k], example=example,
                                  topics=majority_topics([topics.get(i, []) for i in members[s]])))
        asked.append(naming_input("signal", s, keywords[k], titles, [items[r].lang for r in rows_k], vectors[rows_k],
                                  tracked.means[s], name))
    db.save_labels(store, apply_names(namer, labels, asked), stamp)
    return {s: keywords[k] for k, s in enumerate(sids)}


def _window_data(config: Config, window: Window, items: list[db.WindowItem], story_of: dict[int, int],
                 tracked: TrackResult) -> WindowData:
    """The window as scoring sees it, each item with its signal (trends replace ``item_signal``)."""
    tz = config.settings.timezone
    return WindowData(weeks=weeks_between(window.first_week, window.week),
                      item_week=[iso_week(parse_iso(it.published), tz) for it in items],
                      item_story=[story_of[it.id] for it in items], item_source=[it.source_id for it in items],
                      item_kind=[it.source_kind for it in items],
                      item_signal=[tracked.assignment.get(it.id) for it in items])


def _score(config: Config, store: Store, window: Window, items: list[db.WindowItem], data: WindowData,
           tracked: TrackResult, lost: set[int], tokens: dict[int, list[str]], keywords: dict[int, Keywords],
           stamp: str) -> dict[str, int]:
    """Weekly scores and states of every signal with items so far, and of their keywords; returns state counts."""
    weeks, item_week = data.weeks, data.item_week
    first, last = _spans(store, window, items, item_week, tracked, lost, config.settings.timezone)
    scored = score_signals(data, sorted(first), first, last, db.previous_states(store), keywords,
                           config.analysis.fading_weeks)
    born = set(tracked.born)
    scored.events = [e for e in scored.events if not (e.event == "grew" and e.signal_id in born)]  # birth says it all
    vocab = {t: lang_of(t) for kw in keywords.values() for t in kw.get("all", [])}
    kw_rows = score_keywords(weeks, item_week, [tokens.get(it.id, []) for it in items], vocab)
    db.save_scores(store, weeks=weeks, signal_weeks=scored.signal_weeks, signal_updates=scored.signal_updates,
                   keyword_weeks=kw_rows, events=scored.events, week=window.week, now=stamp)
    return dict(sorted(scored.states.items()))


def _spans(store: Store, window: Window, items: list[db.WindowItem], item_week: list[str], tracked: TrackResult,
           lost: set[int], tz: str) -> tuple[dict[int, str], dict[int, str]]:
    """The week of the first and of the latest item of every signal to score: those with items in the
    window, and those not yet faded (they may fade now). Faded signals with no new item stay as they are.

    The weeks come from the signal's stored span (kept by scoring, merges widen it) widened by this
    window's items, so a run does not read every item of ten years. A signal that lost members in
    this run, or whose stored span reaches past ``now`` (a replay of an older week), has its span
    read from its items.
    """
    refs = {r.id: r for r in db.load_signal_refs(store)}
    first: dict[int, str] = {}
    last: dict[int, str] = {}
    for it, week in zip(items, item_week, strict=True):
        sid = tracked.assignment.get(it.id)
        if sid is not None:
            first[sid] = min(first.get(sid, week), week)
            last[sid] = max(last.get(sid, week), week)
    for sid, ref in refs.items():
        if sid in first or ref.status == "active":
            first[sid] = min(first.get(sid, ref.first_seen), ref.first_seen)
            last[sid] = max(last.get(sid, ref.last_seen), ref.last_seen)
    stale = [s for s in first if s in lost or last[s] > window.week or first[s] > window.week]
    exact = db.signal_spans(store, window.end, stale) if stale else {}
    for s in stale:
        if s in exact:
            first[s], last[s] = (iso_week(parse_iso(t), tz) for t in exact[s])
        else:  # no item up to now: nothing to score yet
            del first[s], last[s]
    return first, last


def _signal_vectors(items: list[db.WindowItem], track_vecs: np.ndarray, weight: float, story_of: dict[int, int],
                    tracked: TrackResult, sids: list[int]) -> np.ndarray:
    """The rows trends compare, one per signal in ``sids``: its mean embedding, next to the mean of its
    stories' keyword rows (the keyword part of ``track_vecs``) when signals are tracked on words too."""
    if not sids:
        return np.zeros((0, 0), np.float32)
    dense = np.stack([tracked.means[s] for s in sids])
    if weight <= 0:
        return dense
    ids = [it.id for it in items]
    keyword_means = story_means(ids, [story_of[i] for i in ids], keyword_part(track_vecs), tracked.assignment)
    return mixed_rows(dense, np.stack([keyword_means[s] for s in sids]), weight)


def _trends(config: Config, store: Store, embedder: Embedder, namer: Namer, calibration: ModelCalibration,
            window: Window, items: list[db.WindowItem], vectors: np.ndarray, signal_data: WindowData,
            tracked: TrackResult, tokens: dict[int, list[str]], track_vecs: np.ndarray, weight: float,
            story_of: dict[int, int], stamp: str) -> int:
    """Group the window's signals into trends (``scanner.analysis.trends``), then name and score the
    trends as signals are named and scored, over the items of their signals. Returns how many trends
    have items in the window."""
    sids = sorted(tracked.means)
    found = track_trends(sids, _signal_vectors(items, track_vecs, weight, story_of, tracked, sids),
                         tdb.signal_trends(store), tdb.load_trend_refs(store), tdb.next_trend_id(store),
                         calibration.means.track_params(trend_params(config.analysis.trend_threshold)),
                         tdb.pinned_trends(store))
    tdb.save_trend_tracking(store, week=window.week, now=stamp, model=embedder.model_id, signal_ids=sids,
                            born=found.born, means=found.means, merged=found.merged, assignment=found.assignment,
                            events=found.events)
    trend_of = tdb.signal_trends(store)
    item_trend = [trend_of.get(tracked.assignment.get(it.id, -1)) for it in items]
    live = sorted({t for t in item_trend if t is not None})
    labels = _trend_labels(namer, items, vectors, item_trend, live, tokens)
    tdb.save_trend_labels(store, labels, stamp)
    data = replace(signal_data, item_signal=item_trend)
    weeks, item_week = data.weeks, data.item_week
    refs = tdb.load_trend_refs(store)
    to_score = sorted(set(live) | {r.id for r in refs if r.status == "active"})
    spans = tdb.trend_spans(store, to_score)
    to_score = [t for t in to_score if t in spans]
    scored = score_signals(data, to_score, {t: spans[t][0] for t in to_score}, {t: spans[t][1] for t in to_score},
                           tdb.previous_trend_states(store), {lb.id: lb.keywords for lb in labels},
                           config.analysis.fading_weeks)
    signals_in: dict[tuple[int, str], set[int]] = {}
    for it, t, w in zip(items, item_trend, item_week, strict=True):
        if t is not None:
            signals_in.setdefault((t, w), set()).add(tracked.assignment[it.id])
    rows = [tdb.TrendWeek(trend_id=r.signal_id, week=r.week, items=r.items, stories=r.stories,
                          signals=len(signals_in.get((r.signal_id, r.week), ())), dod=r.dod, state=r.state)
            for r in scored.signal_weeks]
    tdb.save_trend_scores(store, weeks=weeks, rows=rows, updates=scored.signal_updates, events=scored.events,
                          week=window.week, now=stamp)
    return len(live)


def _trend_labels(namer: Namer, items: list[db.WindowItem], vectors: np.ndarray, item_trend: list[int | None],
                  live: list[int], tokens: dict[int, list[str]]) -> list[SignalLabel]:
    """Each live trend's name (and summary, from ``namer``), example headline and keywords (c-TF-IDF against
    the items in no trend)."""
    if not live:
        return []
    rows: dict[int | None, list[int]] = {}
    for r, t in enumerate(item_trend):
        rows.setdefault(t if t in live else None, []).append(r)
    classes = [[tokens.get(items[r].id, []) for r in rows.get(t, [])] for t in live]
    classes.append([tokens.get(items[r].id, []) for r in rows.get(None, [])])
    keywords = ctfidf_keywords(classes, written=[it.title for it in items])[: len(live)]
    out, asked = [], []
    for k, t in enumerate(live):
        members = rows[t]
        titles = [items[r].title for r in members]
        mean = vectors[members].mean(axis=0)
        mean = mean / (np.linalg.norm(mean) or 1.0)
        name, example = name_and_example(keywords[k], titles, vectors[members], mean)
        out.append(SignalLabel(id=t, title=name, keywords=keywords[k], tags={}, topics=[], example=example))
        asked.append(naming_input("trend", t, keywords[k], titles, [items[r].lang for r in members], vectors[members],
                                  mean, name))
    return apply_names(namer, out, asked)


def _summary(r: AnalyseResult, window_weeks: int) -> list[str]:
    states = ", ".join(f"{k} {v}" for k, v in r.states.items()) or "none"
    source = "relevance scored" if r.relevance_scored else "stored relevance"
    return [
        f"analyse {r.week} (window {window_weeks} weeks): {r.relevant} relevant of {r.items} items "
        f"({source}), {r.stories} stories",
        f"signals: {r.signals} tracked; {r.born} born, {r.merged} merged, {r.split} split; "
        f"{r.unassigned} items in no signal; {r.trends} trends",
        f"states: {states}",
    ]


def summary_dict(result: AnalyseResult) -> dict[str, object]:
    """What the ``runs`` table keeps of an analysis: everything but the printed lines."""
    return {k: v for k, v in asdict(result).items() if k != "lines"}


__all__ = ["AnalyseResult", "analyse"]
