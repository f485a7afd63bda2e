"""Stable signal identity across runs: assign, cluster the rest, merge, split.

One pass over the window's stories (unit vectors), given last run's assignments:

0. **Pinned.** An item an analyst moved (``scanner.store.labels``) stays where the analyst put it:
   in that signal (following merges), or out of all signals. Pinned items take no part in the
   steps below (they neither vote for their story's signal nor shape a cluster), so a move never
   drags the rest of a story along, and the engine never moves them back.
1. **Keep.** A story whose items already belong to a signal stays there (majority of its items;
   ties go to the older signal). Ids and histories therefore survive week after week.
2. **Assign.** A new story joins the existing signal whose members it is most similar to on
   average, if that average similarity is at least ``join`` (below ``threshold``: a signal is born
   tight and then gathers the stories that are plainly about it). (The average similarity of a
   unit vector to a set is its dot product with the set's mean, so this is one matrix product.)
   Faded signals keep their last mean, so a topic that comes back revives under its old id.
3. **Cluster the rest** (``scanner.analysis.cluster`` at ``threshold``). A cluster that is, on average,
   as similar to an existing signal as ``join`` joins it; otherwise, with at least
   ``min_items`` items, it is **born** as a new signal.
4. **Merge.** Two signals whose average cross-similarity reaches ``threshold + merge_margin``
   become one; the one with more items in the window keeps its id (ties: the older).
5. **Split.** A signal whose stories fall into two groups (deterministic 2-means) with average
   cross-similarity below ``threshold - split_margin``, each with at least ``min_split`` stories,
   is split; the part holding more of the signal's earlier items keeps the id. Signals an analyst
   merged by hand are never split.

The margins give hysteresis: a split pair is far below the merge bar, so nothing flips back and
forth between runs. Events (born, merged, split) are returned for ``signal_events``; growth,
fading and revival are decided from weekly counts in ``scanner.analysis.score``.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from scanner.analysis.cluster import cluster_vectors
from scanner.analysis.vectors import linked_groups, mean_rows, normalise_rows, unit_rows
from scanner.models import SignalEvent
from scanner.store.signals import SignalRef

logger = logging.getLogger(__name__)


@dataclass
class TrackParams:
    """Thresholds are average cosine similarities (see the module docstring)."""

    threshold: float = 0.60  # a new group of stories is born as a signal at this average similarity
    join: float = 0.50  # a story (or group) joins an existing signal at this one (``AnalysisConfig.join``)
    merge_margin: float = 0.05
    split_margin: float = 0.10
    min_items: int = 2
    min_split: int = 3


@dataclass
class TrackResult:
    assignment: dict[int, int] = field(default_factory=dict)  # item id → signal id
    similarity: dict[int, float] = field(default_factory=dict)  # item id → cosine to its signal's centroid
    means: dict[int, np.ndarray] = field(default_factory=dict)  # live signal → mean of its story vectors
    born: list[int] = field(default_factory=list)
    merged: list[tuple[int, int]] = field(default_factory=list)  # (absorbed, into)
    split: list[tuple[int, int]] = field(default_factory=list)  # (parent, child)
    events: list[SignalEvent] = field(default_factory=list)
    unassigned: int = 0


def track_signals(item_ids: list[int], story_ids: list[int], vectors: np.ndarray, previous: dict[int, int],
                  signals: list[SignalRef], next_id: int, params: TrackParams | None = None,
                  no_split: frozenset[int] = frozenset(), pinned: dict[int, int | None] | None = None) -> TrackResult:
    """Assign every window item (``item_ids`` with their ``story_ids`` and unit ``vectors``) to a signal.

    ``no_split``: signals never split automatically (an analyst merged them on purpose).
    ``pinned``: item → the signal an analyst moved it to (``None``: out of all signals).
    """
    if pinned and any(i in pinned for i in item_ids):
        return _track_with_pins(item_ids, story_ids, vectors, previous, signals, next_id, params, no_split, pinned)
    p = params or TrackParams()
    result = TrackResult()
    if not item_ids:
        return result
    story_list = sorted(set(story_ids))
    story_index = {s: k for k, s in enumerate(story_list)}
    item_story = np.array([story_index[s] for s in story_ids], dtype=np.int64)
    story_vecs = normalise_rows(mean_rows(vectors, item_story, len(story_list)))
    story_size = np.bincount(item_story, minlength=len(story_list))
    label = _keep(item_ids, item_story, len(story_list), previous, {s.id for s in signals})
    prev_label = label.copy()
    stored = {s.id: s.mean for s in signals if s.mean is not None and s.mean.shape[0] == vectors.shape[1]}
    _assign(story_vecs, label, stored, p.join)
    next_id = _cluster_rest(story_vecs, story_size, label, stored, p, next_id, result)
    _merge(story_vecs, story_size, label, p, result)
    _split(story_vecs, story_size, label, prev_label, p, next_id, result, no_split)
    result.means = _signal_means(story_vecs, label, {})
    unit_means = {s: unit_rows(v)[0] for s, v in result.means.items()}
    for item_id, k, vec in zip(item_ids, item_story, vectors, strict=True):
        sid = int(label[k])
        if sid < 0:
            result.unassigned += 1
            continue
        result.assignment[int(item_id)] = sid
        result.similarity[int(item_id)] = float(vec @ unit_means[sid])
    return result


def story_means(item_ids: list[int], story_ids: list[int], vectors: np.ndarray,
                assignment: dict[int, int]) -> dict[int, np.ndarray]:
    """Each signal's mean of its stories' unit mean vectors (a story counts once, as in tracking), from
    the rows of ``vectors`` aligned with ``item_ids``; a story split by an analyst's move counts in each
    signal with the items it has there."""
    groups: dict[tuple[int, int], list[int]] = {}
    for row, (item_id, story_id) in enumerate(zip(item_ids, story_ids, strict=True)):
        if item_id in assignment:
            groups.setdefault((assignment[item_id], story_id), []).append(row)
    by_signal: dict[int, list[np.ndarray]] = {}
    for (sid, _story), rows in sorted(groups.items()):
        by_signal.setdefault(sid, []).append(unit_rows(vectors[rows].mean(axis=0, keepdims=True))[0])
    return {sid: np.mean(np.stack(vecs), axis=0).astype(np.float32) for sid, vecs in by_signal.items()}


def _track_with_pins(item_ids: list[int], story_ids: list[int], vectors: np.ndarray, previous: dict[int, int],
                     signals: list[SignalRef], next_id: int, params: TrackParams | None, no_split: frozenset[int],
                     pinned: dict[int, int | None]) -> TrackResult:
    """0. Pinned: track the other items, then place each pinned one where the analyst put it."""
    free = [k for k, i in enumerate(item_ids) if i not in pinned]
    result = track_signals([item_ids[k] for k in free], [story_ids[k] for k in free], vectors[free], previous,
                           signals, next_id, params, no_split)
    absorbed = dict(result.merged)
    known = {s.id for s in signals} | set(result.born)
    for item_id, vec in zip(item_ids, vectors, strict=True):
        if item_id not in pinned:
            continue
        sid = pinned[item_id]
        seen: set[int] = set()
        while sid is not None and sid in absorbed and sid not in seen:  # the engine merged it this run
            seen.add(sid)
            sid = absorbed[sid]
        if sid is None or sid not in known:
            continue  # moved out (or into a signal that is gone): in no signal
        mean = result.means.get(sid)
        norm = float(np.linalg.norm(mean)) if mean is not None else 0.0
        result.assignment[item_id] = sid
        result.similarity[item_id] = float(vec @ mean) / norm if norm else 0.0
    return result


def _keep(item_ids: list[int], item_story: np.ndarray, n_stories: int, previous: dict[int, int],
          known: set[int]) -> np.ndarray:
    """1. Keep: each story's signal from last run (the majority of its items; ties to the older signal), or -1."""
    votes: list[Counter[int]] = [Counter() for _ in range(n_stories)]
    for item_id, k in zip(item_ids, item_story, strict=True):
        sid = previous.get(item_id)
        if sid is not None and sid in known:
            votes[k][sid] += 1
    label = np.full(n_stories, -1, dtype=np.int64)
    for k, c in enumerate(votes):
        if c:
            label[k] = min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return label


def _assign(story_vecs: np.ndarray, label: np.ndarray, stored: dict[int, np.ndarray], threshold: float) -> None:
    """2. Assign: a new story joins the signal whose members it is most similar to on average, if enough."""
    means = _signal_means(story_vecs, label, stored)
    todo = np.nonzero(label < 0)[0]
    if len(todo) and means:
        sids = sorted(means)
        sim = story_vecs[todo] @ np.stack([means[s] for s in sids]).T
        best = sim.argmax(axis=1)
        ok = sim[np.arange(len(todo)), best] >= threshold
        label[todo[ok]] = np.array(sids)[best[ok]]


def _cluster_rest(story_vecs: np.ndarray, story_size: np.ndarray, label: np.ndarray, stored: dict[int, np.ndarray],
                  p: TrackParams, next_id: int, result: TrackResult) -> int:
    """3. Cluster the stories left; a cluster joins a close signal, or is born when big enough. Returns the next id."""
    todo = np.nonzero(label < 0)[0]
    if not len(todo):
        return next_id
    groups = cluster_vectors(story_vecs if len(todo) == len(story_vecs) else story_vecs[todo], p.threshold)
    k_groups = int(groups.max()) + 1
    g_means = mean_rows(story_vecs[todo], groups, k_groups)
    means = _signal_means(story_vecs, label, stored)
    sids = sorted(means)
    g_sim = g_means @ np.stack([means[s] for s in sids]).T if sids else np.zeros((k_groups, 0), np.float32)
    g_items = np.bincount(groups, weights=story_size[todo], minlength=k_groups)
    for g in range(k_groups):
        rows = todo[groups == g]
        if g_sim.shape[1] and g_sim[g].max() >= p.join:
            label[rows] = sids[int(g_sim[g].argmax())]
        elif g_items[g] >= p.min_items:
            label[rows] = next_id
            result.born.append(next_id)
            result.events.append(SignalEvent(next_id, "born", {"items": int(g_items[g]), "stories": len(rows)}))
            next_id += 1
    return next_id


def _signal_means(story_vecs: np.ndarray, label: np.ndarray, stored: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """Mean story vector of each signal with stories; the stored mean for signals without."""
    out = dict(stored)
    live = label >= 0
    if live.any():
        sids, inverse = np.unique(label[live], return_inverse=True)
        m = mean_rows(story_vecs[live], inverse, len(sids))
        out.update({int(s): m[i] for i, s in enumerate(sids)})
    return out


def _live_counts(label: np.ndarray, story_size: np.ndarray) -> dict[int, int]:
    out: dict[int, int] = {}
    for sid, size in zip(label.tolist(), story_size.tolist(), strict=True):
        if sid >= 0:
            out[sid] = out.get(sid, 0) + int(size)
    return out


def _merge(story_vecs: np.ndarray, story_size: np.ndarray, label: np.ndarray, p: TrackParams,
           result: TrackResult) -> None:
    means = _signal_means(story_vecs, label, {})
    sids = sorted(means)
    if len(sids) < 2:
        return
    m = np.stack([means[s] for s in sids])
    sim = m @ m.T
    np.fill_diagonal(sim, -1.0)
    pairs = np.argwhere(np.triu(sim >= p.threshold + p.merge_margin, 1))
    if not len(pairs):
        return
    groups: dict[int, list[int]] = {}
    for s, g in zip(sids, linked_groups(len(sids), [(int(a), int(b)) for a, b in pairs]).tolist(), strict=True):
        groups.setdefault(g, []).append(s)
    counts = _live_counts(label, story_size)
    newborn = set(result.born)
    for members in groups.values():
        if len(members) < 2:
            continue
        survivor = min(members, key=lambda s: (s in newborn, -counts.get(s, 0), s))
        absorbed = []
        for s in sorted(m for m in members if m != survivor):
            label[label == s] = survivor
            if s in newborn:  # born and absorbed in the same pass: it never existed
                result.born.remove(s)
                result.events = [e for e in result.events if e.signal_id != s]
                continue
            absorbed.append(s)
            result.merged.append((s, survivor))
            result.events.append(SignalEvent(s, "merged", {"into": survivor}))
        if absorbed:
            result.events.append(SignalEvent(survivor, "merged", {"absorbed": absorbed}))


def _two_means(x: np.ndarray, iterations: int = 10) -> np.ndarray:
    """Deterministic 2-means on unit rows: seeds are the row least like the mean and the row least like it."""
    mean = x.mean(axis=0)
    a = int(np.argmin(x @ mean))
    b = int(np.argmin(x @ x[a]))
    centres = np.stack([x[a], x[b]])
    assign = np.zeros(len(x), dtype=np.int64)
    for _ in range(iterations):
        new = (x @ centres.T).argmax(axis=1)
        if (new == assign).all() and _ > 0:
            break
        assign = new
        for c in (0, 1):
            if (assign == c).any():
                centres[c] = unit_rows(x[assign == c].mean(axis=0)[None, :])[0]
    return assign


def _split(story_vecs: np.ndarray, story_size: np.ndarray, label: np.ndarray, prev_label: np.ndarray,
           p: TrackParams, next_id: int, result: TrackResult, no_split: frozenset[int]) -> int:
    for sid in sorted({int(s) for s in label if s >= 0} - no_split):
        rows = np.nonzero(label == sid)[0]
        if len(rows) < 2 * p.min_split:
            continue
        part = _two_means(story_vecs[rows])
        if min((part == 0).sum(), (part == 1).sum()) < p.min_split:
            continue
        m0 = story_vecs[rows[part == 0]].mean(axis=0)
        m1 = story_vecs[rows[part == 1]].mean(axis=0)
        if float(m0 @ m1) >= p.threshold - p.split_margin:
            continue
        # the part holding more of this signal's earlier items keeps the id
        held = [int(story_size[rows[(part == c) & (prev_label[rows] == sid)]].sum()) for c in (0, 1)]
        size = [int(story_size[rows[part == c]].sum()) for c in (0, 1)]
        keep = 0 if (held[0], size[0]) >= (held[1], size[1]) else 1
        child = next_id
        next_id += 1
        label[rows[part != keep]] = child
        result.born.append(child)
        result.split.append((sid, child))
        result.events.append(SignalEvent(sid, "split", {"into": child}))
        result.events.append(SignalEvent(child, "split", {"from": sid, "items": size[1 - keep]}))
    return next_id


__all__ = ["TrackParams", "TrackResult", "story_means", "track_signals"]
