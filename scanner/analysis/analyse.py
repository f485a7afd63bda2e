"""``scanner analyse``: relevance → embeddings → stories → clustering and tracking → labels → scores.

Everything is computed "as of" ``now`` (``--as-of DATE``): the window is the ``analysis.window_weeks``
ISO weeks ending with the week of ``now`` (in ``settings.timezone``), and only items published up
to ``now`` are used, so replaying an archive week by week gives the same signals, with the same
ids, as living through those weeks. Each stage writes in one transaction.
"""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from scanner.analysis.embed import Embedder, embed_items, get_embedder
from scanner.analysis.label import central_title, ctfidf_keywords, lang_of, majority_topics
from scanner.analysis.score import WindowData, score_keywords, score_signals
from scanner.analysis.stories import group_stories
from scanner.analysis.tags import Tagger
from scanner.analysis.track import TrackParams, TrackResult, track_signals
from scanner.clock import iso, iso_week, now_utc, parse_iso, shift_week, week_start
from scanner.config import Config
from scanner.store import Store
from scanner.store import signals as db
from scanner.store.embeddings import load_vectors

logger = logging.getLogger(__name__)


@dataclass
class AnalyseResult:
    week: str
    lines: list[str] = field(default_factory=list)
    items: int = 0
    relevant: int = 0
    stories: int = 0
    signals: int = 0
    born: int = 0
    merged: int = 0
    split: int = 0
    unassigned: int = 0
    states: dict[str, int] = field(default_factory=dict)
    relevance_stage: bool = False
    relevance_source: str = "stored relevance"
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
    a = config.analysis
    tz = config.settings.timezone
    week = iso_week(now, tz)
    first_week = shift_week(week, -(a.window_weeks - 1))
    since, until = iso(week_start(first_week, tz)), iso(now)
    result = AnalyseResult(week=week)
    timer = _Timer(result.timings)
    run_id = db.start_run(store, "analyse", iso(now), iso(now_utc()))
    embedder = embedder or get_embedder(a)
    timer.lap("load model")

    ids = _relevant_window(config, store, embedder, since, until, progress, result, relevance)
    timer.lap("relevance")
    embed_items(store, embedder, ids, progress=progress)
    vectors = load_vectors(store, embedder.model_id, ids) if ids else np.zeros((0, 0), np.float32)
    if len(ids):
        keep = np.linalg.norm(vectors, axis=1) > 0
        ids = [i for i, k in zip(ids, keep, strict=True) if k]
        vectors = vectors[keep]
    timer.lap("embed")
    items = db.window_items(store, ids)
    row = {i: k for k, i in enumerate(ids)}
    vectors = vectors[[row[it.id] for it in items]] if items else np.zeros((0, 0), np.float32)
    ids = [it.id for it in items]
    result.relevant = len(ids)

    existing = db.load_stories(store, ids)
    story_of = group_stories(ids, [it.content_hash for it in items], [it.duplicate_of for it in items],
                             [it.published for it in items], vectors, existing)
    changed = {i: s for i, s in story_of.items() if existing.get(i) != s}
    if changed:
        db.save_stories(store, changed)
    result.stories = len(set(story_of.values()))
    timer.lap("stories")

    refs = db.load_signal_refs(store)
    previous = db.load_assignments(store, ids)
    params = TrackParams(threshold=a.cluster_threshold)
    tracked = track_signals(ids, [story_of[i] for i in ids], vectors, previous, refs, db.next_signal_id(store),
                            params, no_split=frozenset(db.analyst_merged(store)))
    stamp = iso(now_utc())
    db.save_tracking(store, week=week, now=stamp, model=embedder.model_id, born=tracked.born, means=tracked.means,
                     merged=tracked.merged, assignment=tracked.assignment, similarity=tracked.similarity,
                     events=tracked.events, window=(since, until))
    result.born = sum(1 for e in tracked.events if e.event == "born")
    result.split = len(tracked.split)
    result.merged = len(tracked.merged)
    result.unassigned = tracked.unassigned
    timer.lap("cluster+track")

    tokens = db.item_tokens(store, ids)
    keywords = _label(store, embedder, config, items, vectors, tracked.assignment, tracked.means, tokens, stamp)
    timer.lap("labels+tags")

    _score(config, store, items, story_of, tracked, tokens, keywords, (first_week, week, until), stamp, result)
    timer.lap("scores")
    result.signals = sum(result.states.values())
    result.lines = _summary(result, a.window_weeks)
    db.finish_run(store, run_id, iso(now_utc()), summary_dict(result))
    return result


def _relevant_window(config: Config, store: Store, embedder: Embedder, since: str, until: str, progress: bool,
                     result: AnalyseResult, score: bool) -> list[int]:
    """Score relevance of what is new (when the relevance stage is installed), then the window's relevant ids."""
    stage: Any = None
    if score:
        try:
            stage = importlib.import_module("scanner.analysis.relevance")  # merged from its own branch; optional here
        except ImportError:
            stage = None
    if stage is not None:
        stage.score_relevance(store, config, embedder, item_ids=None, progress=progress)
        result.relevance_stage = True
        result.relevance_source = "relevance stage"
        ids = list(stage.relevant_item_ids(store, since=since, until=until))
    elif store.db.execute("SELECT 1 FROM item_relevance LIMIT 1").fetchone():
        ids = db.relevant_ids(store, since, until)
    else:
        logger.warning("no relevance stage installed and no relevance scores stored: every item counts as relevant")
        result.relevance_source = "no relevance scores: every item counts"
        ids = db.item_ids_between(store, since, until)
    result.items = len(db.item_ids_between(store, since, until))
    return sorted(ids)


def _label(store: Store, embedder: Embedder, config: Config, items: list[db.WindowItem], vectors: np.ndarray,
           assignment: dict[int, int], means: dict[int, np.ndarray], tokens: dict[int, list[str]],
           stamp: str) -> dict[int, dict[str, list[str]]]:
    sids = sorted(means)
    if not sids:
        return {}
    row_of = {it.id: k for k, it in enumerate(items)}
    members: dict[int, list[int]] = {s: [] for s in sids}
    background: list[int] = []
    for it in items:
        sid = assignment.get(it.id)
        (members.get(sid, background) if sid is not None else background).append(it.id)
    classes = [[tokens.get(i, []) for i in members[s]] for s in sids]
    classes.append([tokens.get(i, []) for i in background])
    keywords = ctfidf_keywords(classes)[: len(sids)]
    tagger = Tagger(embedder, config.analysis.tags)
    tags = tagger.tag(np.stack([means[s] for s in sids]))
    topics = db.item_topics(store, [it.id for it in items])
    rows = []
    for k, s in enumerate(sids):
        rows_k = [row_of[i] for i in members[s]]
        title = central_title([items[r].title for r in rows_k], vectors[rows_k], means[s])
        rows.append({"id": s, "title": title, "keywords": keywords[k], "tags": tags[k],
                     "topics": majority_topics([topics.get(i, []) for i in members[s]])})
    db.save_labels(store, rows, stamp)
    return {s: keywords[k] for k, s in enumerate(sids)}


def _score(config: Config, store: Store, items: list[db.WindowItem], story_of: dict[int, int], tracked: TrackResult,
           tokens: dict[int, list[str]], keywords: dict[int, dict[str, list[str]]], span_: tuple[str, str, str],
           stamp: str, result: AnalyseResult) -> None:
    first_week, week, until = span_
    assignment, born = tracked.assignment, set(tracked.born)
    tz = config.settings.timezone
    weeks = _weeks(first_week, week)
    item_week = [iso_week(parse_iso(it.published), tz) for it in items]
    data = WindowData(weeks=weeks, item_week=item_week, item_story=[story_of[it.id] for it in items],
                      item_source=[it.source_id for it in items], item_kind=[it.source_kind for it in items],
                      item_signal=[assignment.get(it.id) for it in items])
    refs = db.load_signal_refs(store)
    span = db.signal_spans(store, until)
    first = {s: iso_week(parse_iso(lo), tz) for s, (lo, _) in span.items()}
    last = {s: iso_week(parse_iso(hi), tz) for s, (_, hi) in span.items()}
    signal_ids = [r.id for r in refs if r.id in span]
    scored = score_signals(data, signal_ids, first, last, db.previous_states(store), keywords,
                           config.analysis.fading_weeks)
    scored.events = [e for e in scored.events if not (e.event == "grew" and e.signal_id in born)]  # birth says it all
    vocab: dict[str, str] = {}
    for kw in keywords.values():
        for t in kw.get("all", []):
            vocab[t] = lang_of(t)
    kw_rows = score_keywords(weeks, item_week, [tokens.get(it.id, []) for it in items], vocab)
    db.save_scores(store, weeks=weeks, signal_weeks=scored.signal_weeks, signal_updates=scored.signal_updates,
                   keyword_weeks=kw_rows, events=scored.events, week=week, now=stamp)
    result.states = dict(sorted(scored.states.items()))


def _weeks(first: str, last: str) -> list[str]:
    out = [first]
    while out[-1] < last:
        out.append(shift_week(out[-1], 1))
    return out


def _summary(r: AnalyseResult, window_weeks: int) -> list[str]:
    states = ", ".join(f"{k} {v}" for k, v in r.states.items()) or "none"
    source = r.relevance_source
    return [
        f"analyse {r.week} (window {window_weeks} weeks): {r.relevant} relevant of {r.items} items "
        f"({source}), {r.stories} stories",
        f"signals: {r.signals} tracked; {r.born} born, {r.merged} merged, {r.split} split; "
        f"{r.unassigned} items in no signal",
        f"states: {states}",
    ]


def summary_dict(result: AnalyseResult) -> dict[str, Any]:
    return {k: v for k, v in result.__dict__.items() if k != "lines"}


__all__ = ["AnalyseResult", "analyse"]
