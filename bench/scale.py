"""Does the scanner hold at ten years of data? Weekly steps on 1,000,000 items vs 50,000, search, RSS, retention.

Builds (once, cached in ``/tmp/scanner-scale``; ``--rebuild`` builds again) a synthetic but
realistic database: ten years of ISO weeks ending 2025-W12 at ~270 items a day, weekdays busier
than weekends and volume growing ~35 % over the decade, from ~40 sources (RSS with full text or
summaries, CKAN, HTML listings, a file of focus-group notes). Text is drawn from the vocabulary of
the bundled thaigov sample (``demo/data``, tokenised once with ``scanner.normalize.tokenize``): each
synthetic *matter* (a story line that lives for days to years) has its own pool of words and, when
it is about one of the shipped topics, that topic's seed keywords; ~20 % of items are English.
Every item has a 512-dimension vector (unit, clustered per matter, matters about a topic leaning
towards the USE vector of that topic's description), a relevance row, and relevant items of a
matter belong to its signal: 3,000 signals over ten years with their stories, assignment history,
weekly rows, events, labels and keyword rows. The build goes week by week through the store's own
functions (``Store.upsert_items`` of ``PreparedItem`` batches, ``save_vectors``, ``save_relevance``,
``save_stories``, ``save_tracking``, ``save_labels``, and ``save_scores`` fed by the real
``score_signals``); the 50,000-item database is the last whole weeks of the same stream.

Then, on each database (steps that write run on a copy; every step runs in its own process under
GNU time, whose %M is that process's own peak RSS): size on disk; ``scanner status`` (the CLI, median
of 3 runs, interpreter start included); ``Store.items(search=..., limit=50)`` for Thai words from
very common to rare (20 queries each; a word slower than a minute in all gets 3, and a query still
running after SEARCH_CAP is interrupted and shown as stopped); ``analyse`` of one new week of 1,900
items with vectors already stored ("embedding excluded"), ``digest`` of that week, ``analyse`` of the
week after with the real USE model embedding it ("embedding included"), and 1,000 new items through
``scanner.prepare.store_items`` (PyThaiNLP tokenising included). Step times are the step's own (no
interpreter start). On the 1,000,000-item copy, retention: ``settings.keep_bodies: 12`` applied as
``scanner run`` applies it (``retention_step``), then ``VACUUM INTO`` a new file (a plain VACUUM in WAL
mode needs about twice the database's size free).

The first build of the 1,000,000-item database takes about 40 minutes on two shared cores (most of
it FTS5 indexing inside ``upsert_items``); later runs reuse it. Run from the repository root:
``python bench/scale.py [--rebuild] [--only 50k|1m] [--build-only]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanner.clock import as_of_datetime, day_start, iso, iso_week, shift_week, weeks_between  # noqa: E402
from scanner.config import (  # noqa: E402
    AnalysisConfig,
    CkanSource,
    Config,
    FileSource,
    HtmlSource,
    RssSource,
    Settings,
    load_config,
)
from scanner.errors import ScannerError  # noqa: E402
from scanner.models import PreparedItem, RawItem, SignalEvent, SignalLabel, SourceFetch  # noqa: E402
from scanner.normalize import content_hash, search_tokens, tokenize  # noqa: E402
from scanner.store import Store  # noqa: E402

SAMPLE = ROOT / "demo" / "data" / "thaigov_sample.jsonl"
CACHE = Path("/tmp/scanner-scale")
TZ = "Asia/Bangkok"
SEED = 20250323
DIM = 512  # the USE embedder's dimension
LAST_DAY = date(2025, 3, 23)  # Sunday of 2025-W12: the built databases end here
WEEKS = 522  # ten years of ISO weeks
FIRST_DAY = LAST_DAY - timedelta(days=7 * WEEKS - 1)
TOTAL = 1_000_000  # items of the ten-year stream
SIGNALS = 3_000  # relevant matters born in the ten years: each becomes a signal
NEW_WEEK = 1_900  # items of each week after the built ones (~270 a day)
UPSERTS = 1_000
SIZES = {"50k": 50_000, "1m": 1_000_000}
WEEK_A, WEEK_B = "2025-W13", "2025-W14"  # analysed without / with embedding
RELEVANT_SHARE = 0.30
MATTERS_OTHER = 12_000  # story lines off the lab's topics
POOL = 40  # words of a matter's own vocabulary
TOKEN_RE = re.compile(r"[\u0E00-\u0E7F]")
TARGET_RATIO, TARGET_SEARCH_MS, TARGET_RSS_MB = 2.0, 200.0, 2048.0
SEARCH_CAP = 60.0  # seconds: a search query still running then is interrupted (and reported as such)
RETENTION_CAP = 1200.0  # seconds: dropping bodies still running then is interrupted (its batches so far stay)

# id, kind, language, share of items, body: full (press releases), summary (feeds), ckan, listing, notes
SOURCE_SPECS: list[tuple[str, str, str, float, str]] = [
    ("thaigov", "rss", "th", 0.16, "full"),
    ("thaigov-en", "rss", "en", 0.03, "full"),
    *[(f"ministry-{k:02d}", "rss", "th", 0.025, "full" if k < 5 else "summary") for k in range(12)],
    *[(f"news-th-{k:02d}", "rss", "th", 0.035, "summary") for k in range(10)],
    *[(f"news-en-{k:02d}", "rss", "en", 0.026, "summary") for k in range(5)],
    *[(f"agency-{k:02d}", "html", "th", 0.02, "listing") for k in range(4)],
    ("data-go-th", "ckan", "th", 0.02, "ckan"),
    ("opendata-bkk", "ckan", "th", 0.01, "ckan"),
    ("data-en", "ckan", "en", 0.005, "ckan"),
    ("focus-groups", "file", "th", 0.004, "notes"),
]


# --------------------------------------------------------------------------- vocabulary
@dataclass
class Vocabulary:
    """What the sample gives the generator: its tokens, how often each occurs, body lengths."""

    tokens: list[str]
    th_counts: np.ndarray  # per token: occurrences in the sample's Thai items
    en_counts: np.ndarray  # in its English items, and the Latin words and numbers of its Thai items
    extras: dict[str, list[str]]  # token → the dictionary words inside it that the search index adds
    keywords: dict[str, list[list[str]]]  # topic id → its seed keywords, tokenised
    body_chars: dict[str, list[int]]  # lang → body lengths of the sample's items
    chars_per_token: dict[str, float]
    words: np.ndarray = field(init=False)  # tokens as an object array, to build texts without Python loops
    extra_words: np.ndarray = field(init=False)  # per token: its extras joined by spaces ("" for none)
    has_extra: np.ndarray = field(init=False)
    keyword_ids: dict[str, list[np.ndarray]] = field(init=False)

    def __post_init__(self) -> None:
        index = {t: k for k, t in enumerate(self.tokens)}
        self.words = np.array(self.tokens, dtype=object)
        self.extra_words = np.array([" ".join(self.extras.get(t, [])) for t in self.tokens], dtype=object)
        self.has_extra = np.array([t in self.extras for t in self.tokens])
        self.keyword_ids = {tid: [np.array([index[t] for t in kw], dtype=np.int64) for kw in kws if kw]
                            for tid, kws in self.keywords.items()}


def load_vocabulary() -> Vocabulary:
    """Tokenise the bundled sample once (cached in ``CACHE/vocabulary.json``)."""
    from scanner.analysis.relevance import default_topics

    path = CACHE / "vocabulary.json"
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
    else:
        rows = [json.loads(line) for line in SAMPLE.open(encoding="utf-8")]
        th, en = Counter[str](), Counter[str]()
        body_chars: dict[str, list[int]] = {"th": [], "en": []}
        chars = {"th": [0, 0], "en": [0, 0]}
        for r in rows:
            lang = "en" if r["lang"] == "en" else "th"
            toks = tokenize(r["title"]) + tokenize(r["body"])
            for t in toks:
                if lang == "th":
                    th[t] += 1
                if lang == "en" or not TOKEN_RE.search(t):
                    en[t] += 1
            body_chars[lang].append(len(r["body"]))
            chars[lang][0] += len(r["title"]) + len(r["body"])
            chars[lang][1] += len(toks)
        keywords = {t.id: [tokenize(k) for k in t.keywords] for t in default_topics()}
        tokens = sorted(set(th) | set(en) | {t for ks in keywords.values() for k in ks for t in k})
        extras = {t: extra for t in tokens if (extra := search_tokens("", [t])[1:])}
        data = {"tokens": tokens, "th": [th[t] for t in tokens], "en": [en[t] for t in tokens], "extras": extras,
                "keywords": keywords, "body_chars": body_chars,
                "chars_per_token": {k: v[0] / max(v[1], 1) for k, v in chars.items()}}
        CACHE.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return Vocabulary(data["tokens"], np.array(data["th"], float), np.array(data["en"], float), data["extras"],
                      data["keywords"], data["body_chars"], data["chars_per_token"])


# --------------------------------------------------------------------------- the stream
@dataclass
class Topics:
    """The shipped topics as ``analyse`` sees them with the USE model."""

    ids: list[str]
    rows: np.ndarray  # USE vectors of each topic's Thai and English description
    owner: list[int]  # topic of each row
    dirs: np.ndarray  # unit direction of each topic (mean of its two rows)
    model_key: str  # what ``item_relevance.model`` holds when these topics scored an item
    model_id: str  # the embedder's id, which keys ``embeddings``


@dataclass
class Plan:
    """Ten years of items, decided up front: daily volumes and the matters that fill them."""

    volume: np.ndarray  # items per day from FIRST_DAY: the built weeks, then the three weeks after
    birth: np.ndarray  # per matter: first day (index into volume)
    end: np.ndarray  # day after its last
    peak: np.ndarray
    topic: np.ndarray  # index into topics.ids; -1 for matters off the lab's topics
    english: np.ndarray  # share of its items in English
    twin_of: np.ndarray  # a relevant matter that repeats another (-1: none): merged into it later
    merge_day: np.ndarray
    centroid: np.ndarray
    pool_th: np.ndarray  # POOL token ids per matter
    pool_en: np.ndarray
    phrases: np.ndarray  # per matter: 3 picks among its topic's keywords
    topics: Topics
    th_cum: np.ndarray
    en_cum: np.ndarray


WEEKDAY = np.array([1.18, 1.20, 1.20, 1.18, 1.10, 0.60, 0.54])  # Monday first: the press works weekdays


def daily_volume(rng: np.random.Generator) -> np.ndarray:
    """TOTAL items over the built weeks (growth, weekday/weekend, holidays, noise), then NEW_WEEK a week."""
    days = np.arange(7 * WEEKS)
    dates = [FIRST_DAY + timedelta(days=int(d)) for d in days]
    growth = 0.85 + 0.30 * days / len(days)
    holidays = {(1, 1), (4, 13), (4, 14), (4, 15), (12, 31)}
    holiday = np.array([0.45 if (d.month, d.day) in holidays else 1.0 for d in dates])
    w = growth * WEEKDAY[[d.weekday() for d in dates]] * holiday * rng.lognormal(0, 0.12, len(days))
    exact = TOTAL * w / w.sum()
    counts = np.floor(exact).astype(int)
    counts[np.argsort(exact - counts)[::-1][: TOTAL - counts.sum()]] += 1
    week = np.floor(NEW_WEEK * WEEKDAY / WEEKDAY.sum()).astype(int)
    week[0] += NEW_WEEK - week.sum()
    return np.concatenate([counts, week, week, week])  # WEEK_A, WEEK_B and the week of the upserts


def make_plan(vocab: Vocabulary, topics: Topics) -> Plan:
    """The matters: SIGNALS on the lab's topics born over the ten years (a few more after), the rest off-topic."""
    rng = np.random.default_rng(SEED)
    volume = daily_volume(rng)
    last = len(volume)
    n_rel = SIGNALS + round(SIGNALS * 21 / (7 * WEEKS))
    n = n_rel + MATTERS_OTHER
    birth = np.concatenate([np.sort(rng.integers(0, 7 * WEEKS, SIGNALS)),
                            np.sort(rng.integers(7 * WEEKS, last, n_rel - SIGNALS)),
                            rng.integers(-60, last, MATTERS_OTHER)])
    life = np.clip(rng.lognormal(np.log(40), 0.9, n), 7, 1500).astype(int)
    long_running = rng.random(n) < 0.03
    life[long_running] = rng.integers(365, 1800, int(long_running.sum()))
    shares = np.array([{"cyber-security-fraud": 3.0, "digital-economy-platforms": 2.0,
                        "digital-id-eservices": 1.5}.get(t, 1.0) for t in topics.ids])
    topic = np.full(n, -1)
    topic[:n_rel] = rng.choice(len(topics.ids), n_rel, p=shares / shares.sum())
    centroid = _unit(rng.standard_normal((n, DIM)))
    centroid[:n_rel] = _unit(0.72 * topics.dirs[topic[:n_rel]] + 0.69 * centroid[:n_rel])
    # 3 % of signals are the twin of a live signal on the same theme: an analyst would see one
    # story, the engine two, until a later week merges them.
    twin_of = np.full(n, -1)
    merge_day = np.full(n, -1)
    for m in range(n_rel):
        if rng.random() < 0.03:
            live = np.nonzero((birth[:m] <= birth[m]) & (birth[:m] + life[:m] > birth[m] + 21) & (twin_of[:m] < 0))[0]
            if len(live):
                p = int(rng.choice(live))
                twin_of[m], merge_day[m], topic[m] = p, birth[m] + int(rng.integers(14, 29)), topic[p]
                centroid[m] = _unit(centroid[p] + 0.45 * _unit(rng.standard_normal(DIM)))
    return Plan(
        volume=volume, birth=birth, end=birth + life, peak=rng.lognormal(0, 0.8, n), topic=topic,
        english=np.where(rng.random(n) < 0.15, 0.8, 0.1), twin_of=twin_of, merge_day=merge_day,
        centroid=centroid.astype(np.float32), pool_th=_pools(rng, vocab.th_counts, n, skip=150),
        pool_en=_pools(rng, vocab.en_counts, n, skip=60), phrases=rng.integers(0, 1 << 30, (n, 3)), topics=topics,
        th_cum=np.cumsum(vocab.th_counts) / vocab.th_counts.sum(),
        en_cum=np.cumsum(vocab.en_counts) / vocab.en_counts.sum(),
    )


def _pools(rng: np.random.Generator, counts: np.ndarray, n: int, skip: int) -> np.ndarray:
    """Each matter's own words: content words (not the ``skip`` most frequent), weighted by frequency."""
    order = np.argsort(-counts)
    content = order[skip:][counts[order[skip:]] > 0]
    p = counts[content] / counts[content].sum()
    return content[rng.choice(len(content), (n, POOL), p=p)]


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


ZIPF = np.cumsum(1 / np.arange(1, POOL + 1) ** 0.9)
ZIPF /= ZIPF[-1]


@dataclass
class WeekBatch:
    """One week of the stream, ready to store: items in time order and what a decade of runs decided."""

    index: int
    week: str
    items: list[PreparedItem]
    vectors: np.ndarray
    matter: np.ndarray  # -1: an item of no matter
    relevant: np.ndarray
    topic: np.ndarray
    origin: np.ndarray  # row of the item this one re-posts or copies (-1: none)
    relevance: list[tuple[float, list[str], dict[str, Any]]] = field(default_factory=list)  # score, topics, explain
    short_tokens: list[list[str]] = field(default_factory=list)  # title and a few body tokens (keyword rows)
    title_ids: list[np.ndarray] = field(default_factory=list)
    body_ids: list[np.ndarray] = field(default_factory=list)
    hits: list[list[dict[str, Any]]] = field(default_factory=list)

    @property
    def seen_at(self) -> datetime:
        """When a fetch stored the week: an hour after its last item."""
        return datetime.fromisoformat(max(i.published or "" for i in self.items)) + timedelta(hours=1)


def generate_week(plan: Plan, vocab: Vocabulary, wi: int) -> WeekBatch:
    """Week ``wi`` (0 = the first built week) of the stream: the same items whatever the database size."""
    rng = np.random.default_rng([SEED, wi])
    days = range(7 * wi, 7 * wi + 7)
    active = np.nonzero((plan.birth <= days[-1]) & (plan.end > days[0]))[0]
    rel_active, other_active = active[plan.topic[active] >= 0], active[plan.topic[active] < 0]
    matter, published = [], []
    for d in days:
        m = _allocate_day(plan, rng, d, rel_active, other_active)
        start = day_start(FIRST_DAY + timedelta(days=d), TZ).timestamp()
        published.append(np.sort(start + rng.uniform(7 * 3600, 21 * 3600, len(m))))
        matter.append(m)
    mat, pub = np.concatenate(matter), np.concatenate(published)
    n = len(mat)
    is_rel = np.where(mat >= 0, plan.topic[np.maximum(mat, 0)] >= 0, mat == -2)
    mat[mat == -2] = -1
    topic = np.where(mat >= 0, plan.topic[np.maximum(mat, 0)], rng.integers(0, len(plan.topics.ids), n))
    topic[~is_rel] = -1
    english = rng.random(n) < np.where(mat >= 0, plan.english[np.maximum(mat, 0)], 0.2)
    ghost = np.where(mat >= 0, mat, rng.integers(0, len(plan.birth), n))  # an item of no matter borrows words
    b = WeekBatch(wi, iso_week(FIRST_DAY + timedelta(days=7 * wi), TZ), [], _vectors(plan, rng, mat, is_rel, topic),
                  mat, is_rel, topic, np.full(n, -1))
    _fill_texts(plan, vocab, rng, b, pub, english, ghost, _pick_sources(rng, english))
    _score(plan, rng, b)
    return b


def _allocate_day(plan: Plan, rng: np.random.Generator, d: int, rel_active: np.ndarray,
                  other_active: np.ndarray) -> np.ndarray:
    """The matter of each of day ``d``'s items (-1: off-topic, no matter; -2: on-topic, no matter)."""
    total = int(plan.volume[d])
    forced = rel_active[(plan.birth[rel_active] == d) | (plan.birth[rel_active] == d - 1)]  # two items to start
    n_rel = max(round(total * RELEVANT_SHARE) - len(forced), 0)
    rel = rel_active[(plan.birth[rel_active] <= d) & (plan.end[rel_active] > d)]
    other = other_active[(plan.birth[other_active] <= d) & (plan.end[other_active] > d)]
    n_single_rel = rng.binomial(n_rel, 0.1) if len(rel) else n_rel
    n_other = total - len(forced) - n_rel
    n_single_other = rng.binomial(n_other, 0.25) if len(other) else n_other
    parts = [forced, np.full(n_single_rel, -2), np.full(n_single_other, -1)]
    if len(rel):
        parts.append(rng.choice(rel, n_rel - n_single_rel, p=_weights(plan, rel, d)))
    if len(other):
        parts.append(rng.choice(other, n_other - n_single_other, p=_weights(plan, other, d)))
    out = np.concatenate(parts).astype(int)
    rng.shuffle(out)
    return out


def _weights(plan: Plan, matters: np.ndarray, d: int) -> np.ndarray:
    t = (d - plan.birth[matters]) / np.maximum(plan.end[matters] - plan.birth[matters], 1)
    w = plan.peak[matters] * np.where(t < 0.2, 0.3 + 3.5 * t, np.exp(-2.0 * (t - 0.2)))
    return np.asarray(w / w.sum())


def _pick_sources(rng: np.random.Generator, english: np.ndarray) -> np.ndarray:
    out = np.empty(len(english), dtype=int)
    for en, mask in ((True, english), (False, ~english)):
        idx = [k for k, s in enumerate(SOURCE_SPECS) if (s[2] == "en") == en]
        w = np.array([SOURCE_SPECS[k][3] for k in idx])
        out[mask] = np.array(idx)[rng.choice(len(idx), int(mask.sum()), p=w / w.sum())]
    return out


def _vectors(plan: Plan, rng: np.random.Generator, mat: np.ndarray, is_rel: np.ndarray,
             topic: np.ndarray) -> np.ndarray:
    """Unit vectors: a matter's items at cosine ~0.85 from its centroid (~0.72 from each other); items of
    no matter on their own (on-topic ones at ~0.55 from their topic, ~0.30 from each other)."""
    n = len(mat)
    own = _unit(rng.standard_normal((n, DIM)))
    single_rel = (mat < 0) & is_rel
    own[single_rel] = _unit(0.55 * plan.topics.dirs[topic[single_rel]] + 0.835 * own[single_rel])
    in_matter = (mat >= 0)[:, None]
    base = np.where(in_matter, plan.centroid[np.maximum(mat, 0)], own)
    noise = 0.62 * _unit(rng.standard_normal((n, DIM)))
    return _unit(np.where(in_matter, base + noise, base)).astype(np.float32)


def _fill_texts(plan: Plan, vocab: Vocabulary, rng: np.random.Generator, b: WeekBatch, pub: np.ndarray,
                english: np.ndarray, ghost: np.ndarray, src: np.ndarray) -> None:
    """Titles, bodies, tokens and search fields of every item; ~9 % re-post an item of the last 3 days."""
    n = len(pub)
    kinds = [SOURCE_SPECS[s][4] for s in src]
    chars = np.array([_body_chars(vocab, rng, k, "en" if e else "th") for k, e in zip(kinds, english, strict=True)])
    cpt = np.where(english, vocab.chars_per_token["en"], vocab.chars_per_token["th"])
    n_body = np.maximum((chars / cpt).astype(int), 5)
    n_title = np.where(english, rng.integers(8, 17, n), rng.integers(12, 31, n))
    last_of: dict[int, int] = {}
    for i in range(n):
        m = int(b.matter[i])
        prev = last_of.get(m, -1) if m >= 0 else -1
        lang = "en" if english[i] else "th"
        if prev >= 0 and pub[i] - pub[prev] < 3 * 86400 and b.origin[prev] < 0 and rng.random() < 0.09:
            exact = bool(rng.random() < 0.12)  # the very same text under another URL
            t_ids, b_ids = b.title_ids[prev].copy(), b.body_ids[prev].copy()
            if not exact:
                b_ids[rng.integers(0, len(b_ids), max(len(b_ids) // 20, 1))] = rng.integers(0, len(vocab.tokens))
                t_ids[-1] = rng.integers(0, len(vocab.tokens))
            lang = b.items[prev].lang
            b.origin[i] = prev
            b.vectors[i] = b.vectors[prev] if exact else _unit(b.vectors[prev] + 0.15 * _unit(rng.standard_normal(DIM)))
            hits = b.hits[prev]
        else:
            t_ids, b_ids, hits = _new_text(plan, vocab, rng, b, i, int(ghost[i]), lang, int(n_title[i]),
                                           int(n_body[i]))
        if m >= 0:
            last_of[m] = i
        b.title_ids.append(t_ids)
        b.body_ids.append(b_ids)
        b.hits.append(hits)
        b.items.append(_prepared(vocab, i, int(src[i]), kinds[i], lang, t_ids, b_ids, float(pub[i])))
        b.short_tokens.append(vocab.words[np.r_[t_ids, b_ids[:10]]].tolist())


def _body_chars(vocab: Vocabulary, rng: np.random.Generator, kind: str, lang: str) -> int:
    if kind == "full":
        return int(rng.choice(vocab.body_chars[lang] or vocab.body_chars["th"]))
    median = {"summary": 280, "ckan": 400, "listing": 160, "notes": 900}[kind]
    return int(np.clip(rng.lognormal(np.log(median), 0.5), 40, 6000))


def _new_text(plan: Plan, vocab: Vocabulary, rng: np.random.Generator, b: WeekBatch, i: int, ghost: int, lang: str,
              n_title: int, n_body: int) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """Token ids of a fresh title and body: common words, the matter's own words, its topic's keywords."""
    cum, pool = (plan.en_cum, plan.pool_en) if lang == "en" else (plan.th_cum, plan.pool_th)
    k = n_title + n_body
    ids = np.minimum(np.searchsorted(cum, rng.random(k)), len(cum) - 1)
    own = rng.random(k) < np.r_[np.full(n_title, 0.55), np.full(n_body, 0.30)]
    ids[own] = pool[ghost][np.minimum(np.searchsorted(ZIPF, rng.random(int(own.sum()))), POOL - 1)]
    t_ids, b_ids = ids[:n_title], ids[n_title:]
    hits: list[dict[str, Any]] = []
    if b.relevant[i]:
        tid = plan.topics.ids[int(b.topic[i])]
        keys = vocab.keyword_ids[tid]
        m = int(b.matter[i])
        picks = [int(x) % len(keys) for x in (plan.phrases[m] if m >= 0 else rng.integers(0, 1 << 30, 3))]
        counts = Counter[int]()
        for _ in range(1 + rng.poisson(1.2)):
            kw = picks[int(rng.integers(0, 3))]
            at = int(rng.integers(0, len(b_ids) + 1))
            b_ids = np.r_[b_ids[:at], keys[kw], b_ids[at:]]
            counts[kw] += 1
        if rng.random() < 0.5:
            t_ids = np.r_[t_ids[:1], keys[picks[0]], t_ids[1:]]
        hits = [{"keyword": "".join(vocab.words[keys[kw]].tolist()), "topic": tid, "count": c,
                 "tokens": vocab.words[keys[kw]].tolist()} for kw, c in counts.items()]
    return t_ids, b_ids, hits


def _prepared(vocab: Vocabulary, i: int, s: int, kind: str, lang: str, t_ids: np.ndarray, b_ids: np.ndarray,
              ts: float) -> PreparedItem:
    """What ``scanner.prepare.prepare_item`` hands the store for this text (its tokens as sampled)."""
    sid = SOURCE_SPECS[s][0]
    tt, bt = vocab.words[t_ids].tolist(), vocab.words[b_ids].tolist()
    if lang == "th":  # Thai runs words together; spaces only between phrases
        title = "".join(tt)
        text = " ".join("".join(bt[k : k + 10]) for k in range(0, len(bt), 10))
    else:
        title, text = " ".join(tt).capitalize(), " ".join(bt).capitalize()
    summary, content = (text[:200], text) if kind in ("full", "notes") else (text, "")
    published = datetime.fromtimestamp(ts, UTC)
    url = f"https://{sid}.example.go.th/news/{published:%Y%m%d}-{i:04d}"
    title_tokens, body_tokens = " ".join(tt), " ".join(bt)
    t_extra = " ".join(vocab.extra_words[t_ids[vocab.has_extra[t_ids]]].tolist())
    b_extra = " ".join(vocab.extra_words[b_ids[vocab.has_extra[b_ids]]].tolist())
    return PreparedItem(
        source_id=sid, item_key=url, url=url, canonical_url=url, guid=None, title=title, summary=summary,
        content=content, author=None, lang=lang, published=iso(published), content_hash=content_hash(title, text),
        tokens=f"{title_tokens}\n{body_tokens}", fts_title=f"{title_tokens} {t_extra}".strip(),
        fts_body=f"{body_tokens} {b_extra}".strip(),
    )


def _score(plan: Plan, rng: np.random.Generator, b: WeekBatch) -> None:
    """What the relevance stage decided for each item, shaped as ``relevance.decide`` explains it."""
    t = plan.topics
    sims_rows = b.vectors @ t.rows.T
    sims = np.full((len(b.items), len(t.ids)), -1.0)
    for r, k in enumerate(t.owner):
        sims[:, k] = np.maximum(sims[:, k], sims_rows[:, r])
    for k in range(len(b.items)):
        rel = bool(b.relevant[k])
        score = float(rng.uniform(0.55, 0.99) if rel else rng.uniform(0.01, 0.45))
        topics = [t.ids[int(b.topic[k])]] if rel else []
        explain = {
            "score": round(score, 4), "threshold": 0.5, "decision": "kept" if rel else "left out",
            "rule": "similarity and keywords: close to a topic description, backed by keyword hits" if rel
            else "no keyword hits and not similar enough to any topic",
            "terms": {"bias": -1.41, "similarity": round(float((sims[k].max() - 0.289) / 0.12 * 0.83), 3),
                      "title_keywords": 0.0, "body_keywords": round(1.11 * float(np.log1p(len(b.hits[k]))), 3)},
            "similarity": {tid: round(float(sims[k, j]), 4) for j, tid in enumerate(t.ids)},
            "topic_scores": {tid: round(score if tid in topics else score / 3, 4) for tid in t.ids},
            "keywords": {"title": [], "body": b.hits[k]}, "topics": topics, "model": t.model_id,
        }
        b.relevance.append((round(score, 6), topics, explain))


_SHARED: tuple[Plan, Vocabulary] | None = None  # the plan, inherited by the forked generator process


def _generate(wi: int) -> WeekBatch:
    assert _SHARED is not None
    return generate_week(*_SHARED, wi)


# --------------------------------------------------------------------------- building a database
def bench_config(db: Path, reports: Path, keep_bodies: int | None = None) -> Config:
    """The configuration every step uses: the synthetic sources, shipped topics, default analysis."""
    sources: list[Any] = []
    for sid, kind, lang, _, _ in SOURCE_SPECS:
        url = f"https://{sid}.example.go.th/feed"
        if kind == "rss":
            sources.append(RssSource(id=sid, kind="rss", url=url, language=lang))
        elif kind == "html":
            sources.append(HtmlSource(id=sid, kind="html", url=url, item="article", language=lang))
        elif kind == "ckan":
            sources.append(CkanSource(id=sid, kind="ckan", url=f"https://{sid}.example.go.th", language=lang))
        else:
            sources.append(FileSource(id=sid, kind="file", path=str(CACHE / "focus-groups"), language=lang))
    return Config(settings=Settings(db=str(db), reports_dir=str(reports), timezone=TZ, keep_bodies=keep_bodies),
                  sources=sources, analysis=AnalysisConfig())


def write_config(config: Config, path: Path) -> Path:
    data = config.model_dump(mode="json", exclude_defaults=True, exclude={"path"})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def build_database(path: Path, first_week: int, plan: Plan, vocab: Vocabulary) -> dict[str, float]:
    """Store weeks ``first_week`` … ``WEEKS - 1`` of the stream at ``path`` as ten years of runs would have.

    A second process generates the weeks ahead (the machine has two cores) while this one stores.
    """
    global _SHARED
    tmp = path.with_name(path.name + ".building")
    remove_db(tmp)
    t0 = time.perf_counter()
    store = Store.open(tmp)
    # Fixture build only (measured steps open the database with the store's own settings): a larger
    # page cache, and no fsync at WAL checkpoints; a crash while building means building again.
    store.db.execute("PRAGMA cache_size = -262144")
    store.db.execute("PRAGMA synchronous = OFF")
    store.sync_sources(bench_config(tmp, CACHE / "reports"))
    ledger = Ledger()
    timings = Counter[str]()
    _SHARED = (plan, vocab)
    weeks = list(range(first_week, WEEKS))
    with multiprocessing.get_context("fork").Pool(1) as pool:
        ahead: deque[Any] = deque(pool.apply_async(_generate, (wi,)) for wi in weeks[:3])
        for k in range(len(weeks)):
            t = time.perf_counter()
            batch = ahead.popleft().get()
            if k + 3 < len(weeks):
                ahead.append(pool.apply_async(_generate, (weeks[k + 3],)))
            timings["waiting for the generator"] += time.perf_counter() - t
            t = time.perf_counter()
            ids = store_week(store, batch, plan.topics)
            timings["items, vectors, relevance"] += time.perf_counter() - t
            t = time.perf_counter()
            track_week(store, batch, ids, plan, vocab, ledger)
            timings["signals"] += time.perf_counter() - t
            if k % 52 == 0:
                print(f"  {path.name}: week {k + 1}/{len(weeks)} ({batch.week}), {time.perf_counter() - t0:.0f} s",
                      file=sys.stderr, flush=True)
    t = time.perf_counter()
    record_fetch_history(store, first_week)
    timings["fetch history"] += time.perf_counter() - t
    store.close()
    for suffix in ("", "-wal"):
        if Path(f"{tmp}{suffix}").exists():
            Path(f"{tmp}{suffix}").rename(f"{path}{suffix}")
    timings["total"] = time.perf_counter() - t0
    return dict(timings)


def store_week(store: Store, b: WeekBatch, topics: Topics) -> list[int]:
    """Items, vectors and relevance of one week, each in one transaction."""
    from scanner.store.embeddings import save_vectors
    from scanner.store.relevance import RelevanceRow, save_relevance

    seen = b.seen_at
    ids = store.upsert_items(b.items, seen).item_ids
    save_vectors(store, topics.model_id, [i.content_hash for i in b.items], b.vectors)
    save_relevance(store, [RelevanceRow(item_id, it.content_hash, topics.model_key, score, bool(rel), tops, explain,
                                        iso(seen))
                           for item_id, it, rel, (score, tops, explain) in zip(ids, b.items, b.relevant, b.relevance,
                                                                                strict=True)])
    return ids


@dataclass
class Ledger:
    """What ten years of weekly ``analyse`` runs decided, kept while building."""

    signal_of: dict[int, int] = field(default_factory=dict)  # matter → signal
    sums: dict[int, np.ndarray] = field(default_factory=dict)
    counts: Counter[int] = field(default_factory=Counter)
    first: dict[int, str] = field(default_factory=dict)  # ISO week of a signal's first and last item
    last: dict[int, str] = field(default_factory=dict)
    merged: dict[int, int] = field(default_factory=dict)
    states: dict[int, str] = field(default_factory=dict)
    keywords: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    # the analysis window: per week, its relevant items as (week, story, source, kind, signal, tokens)
    window: deque[list[tuple[str, int, str, str, int | None, list[str]]]] = field(
        default_factory=lambda: deque(maxlen=12))
    next_id: int = 1


KINDS = {s[0]: s[1] for s in SOURCE_SPECS}


def track_week(store: Store, b: WeekBatch, ids: list[int], plan: Plan, vocab: Vocabulary, ledger: Ledger) -> None:
    """Stories, signal births, merges, assignments, labels and weekly scores of one built week."""
    from scanner.store import signals as db

    now = iso(b.seen_at + timedelta(hours=1))
    run_id = db.start_run(store, "analyse", now, now)
    story: dict[int, int] = {}
    for k, item_id in enumerate(ids):
        if b.relevant[k]:
            o = int(b.origin[k])
            story[item_id] = story.get(ids[o], ids[o]) if o >= 0 and b.relevant[o] else item_id
    db.save_stories(store, story)
    born, merged, events = _births_and_merges(b, plan, ledger)
    alias = db.follow_merges(ledger.merged)
    assignment: dict[int, int] = {}
    touched = {into for _, into in merged}
    for k, item_id in enumerate(ids):
        m = int(b.matter[k])
        if b.relevant[k] and m >= 0:
            sid = alias.get(ledger.signal_of[m], ledger.signal_of[m])
            assignment[item_id] = sid
            ledger.sums[sid] = ledger.sums.get(sid, np.zeros(DIM)) + b.vectors[k]
            ledger.counts[sid] += 1
            ledger.first.setdefault(sid, b.week)
            ledger.last[sid] = b.week
            touched.add(sid)
    means = {s: (ledger.sums[s] / ledger.counts[s]).astype(np.float32) for s in touched}
    row = {item_id: k for k, item_id in enumerate(ids)}
    similarity = {i: float(b.vectors[row[i]] @ means[s] / max(float(np.linalg.norm(means[s])), 1e-9))
                  for i, s in assignment.items()}
    db.save_tracking(store, week=b.week, now=now, model=plan.topics.model_id, born=born, means=means, merged=merged,
                     assignment=assignment, similarity=similarity, events=events)
    newborn = set(born)
    labels = [label_signal(plan, vocab, b, m, sid, ids, assignment) for m, sid in ledger.signal_of.items()
              if sid in newborn]
    ledger.keywords.update({lab.id: lab.keywords for lab in labels})
    db.save_labels(store, labels, now)
    ledger.window.append([(b.week, story.get(i, i), b.items[k].source_id, KINDS[b.items[k].source_id],
                           assignment.get(i), b.short_tokens[k]) for k, i in enumerate(ids) if b.relevant[k]])
    _score_week(store, b.week, now, ledger, alias)
    db.finish_run(store, run_id, now, {"week": b.week, "items": len(ids), "relevant": len(story)})


def _births_and_merges(b: WeekBatch, plan: Plan, ledger: Ledger) -> tuple[list[int], list[tuple[int, int]],
                                                                            list[SignalEvent]]:
    """Signals born this week (matters with their first relevant items), and twins merged into their matter."""
    born: list[int] = []
    events: list[SignalEvent] = []
    per_matter = Counter(int(x) for x, r in zip(b.matter, b.relevant, strict=True) if r and x >= 0)
    for m in sorted(per_matter):
        if m not in ledger.signal_of:
            ledger.signal_of[m] = ledger.next_id
            born.append(ledger.next_id)
            events.append(SignalEvent(ledger.next_id, "born", {"items": per_matter[m], "stories": per_matter[m]}))
            ledger.next_id += 1
    merged = []
    for m, sid in ledger.signal_of.items():
        p = int(plan.twin_of[m])
        if p < 0 or p not in ledger.signal_of or sid in ledger.merged or not 0 <= plan.merge_day[m] - 7 * b.index < 7:
            continue
        into = ledger.signal_of[p]
        if into != sid and into not in ledger.merged:
            merged.append((sid, into))
            ledger.merged[sid] = into
            ledger.sums[into] = ledger.sums.get(into, np.zeros(DIM)) + ledger.sums.pop(sid, np.zeros(DIM))
            ledger.counts[into] += ledger.counts.pop(sid, 0)
            ledger.first[into] = min(ledger.first.get(into, b.week), ledger.first.pop(sid, b.week))
            events += [SignalEvent(sid, "merged", {"into": into}), SignalEvent(into, "merged", {"absorbed": [sid]})]
    return born, merged, events


def _score_week(store: Store, week: str, now: str, ledger: Ledger, alias: dict[int, int]) -> None:
    """Weekly rows, states and events of every signal (the real ``score_signals`` over the window)."""
    from scanner.analysis.label import lang_of
    from scanner.analysis.score import WindowData, score_keywords, score_signals
    from scanner.store import signals as db

    rows = [r for wk in ledger.window for r in wk]
    weeks = weeks_between(shift_week(week, -11), week)
    data = WindowData(weeks=weeks, item_week=[r[0] for r in rows], item_story=[r[1] for r in rows],
                      item_source=[r[2] for r in rows], item_kind=[r[3] for r in rows],
                      item_signal=[alias.get(r[4], r[4]) if r[4] is not None else None for r in rows])
    live = {s for s in data.item_signal if s is not None}
    keywords = {s: ledger.keywords.get(s, {}) for s in live}
    signal_ids = sorted(s for s in ledger.first if s not in ledger.merged)
    scored = score_signals(data, signal_ids, ledger.first, ledger.last, ledger.states, keywords, 6)
    # Keyword rows of this week and the one before only (each run rewrites the whole window's; the
    # rows that stay are the same): scoring every window week again each built week costs minutes.
    recent = weeks[-2:]
    last_two = [r for r in rows if r[0] in recent]
    vocab = {t: lang_of(t) for s in live for t in keywords[s].get("all", [])}
    kw_rows = score_keywords(recent, [r[0] for r in last_two], [r[5] for r in last_two], vocab)
    db.save_scores(store, weeks=recent, signal_weeks=scored.signal_weeks, signal_updates=scored.signal_updates,
                   keyword_weeks=kw_rows, events=scored.events, week=week, now=now)
    ledger.states.update({u.id: u.state for u in scored.signal_updates})


def label_signal(plan: Plan, vocab: Vocabulary, b: WeekBatch, m: int, sid: int, ids: list[int],
                 assignment: dict[int, int]) -> SignalLabel:
    """A new signal's title (its first item's), keywords (its matter's own words), tags and topic."""
    from scanner.analysis.tags import DEFAULT_TAGS

    rng = np.random.default_rng([SEED, sid])
    first = next(k for k, x in enumerate(b.matter) if x == m and ids[k] in assignment)
    th = [vocab.tokens[t] for t in dict.fromkeys(plan.pool_th[m].tolist())][:8]
    en = [vocab.tokens[t] for t in dict.fromkeys(plan.pool_en[m].tolist())][:4]
    tags = {g: [str(t) for t in rng.choice(sorted(DEFAULT_TAGS[g]), n, replace=False)]
            for g, n in (("steepv", 2), ("themes", 1), ("sdgs", 1))}
    return SignalLabel(id=sid, title=b.items[first].title[:120], keywords={"th": th, "en": en, "all": th[:6] + en[:2]},
                       tags=tags, topics=[plan.topics.ids[int(plan.topic[m])]])


def record_fetch_history(store: Store, first_week: int) -> None:
    """Four fetches a day of every source (3 % failed), then each source's state through ``save_fetch``."""
    rng = np.random.default_rng([SEED, 1])
    start = day_start(FIRST_DAY + timedelta(days=7 * first_week), TZ)
    n = 4 * 7 * (WEEKS - first_week)
    rows = []
    for sid, *_ in SOURCE_SPECS:
        for k in range(n):
            at = start + timedelta(hours=6 * k, minutes=int(rng.integers(0, 5)))
            failed = rng.random() < 0.03
            rows.append((sid, iso(at), iso(at + timedelta(seconds=3)), "failed" if failed else "ok",
                         503 if failed else 200, None, "HTTP 503 Service Unavailable" if failed else None))
    # Fixture only: the store records one fetch at a time (save_fetch); ten years of history in bulk.
    with store.transaction() as conn:
        conn.executemany("INSERT INTO fetches (source_id, started_at, finished_at, status, http_status, warning, "
                         "error) VALUES (?,?,?,?,?,?,?)", rows)
    end = day_start(LAST_DAY, TZ) + timedelta(hours=18)
    for sid, *_ in SOURCE_SPECS:
        store.save_fetch(SourceFetch(sid, started_at=end, finished_at=end + timedelta(seconds=3), status="ok",
                                     http_status=200))


def first_week_for(size: int, plan: Plan) -> int:
    """The first built week of a database of about ``size`` items: the last whole weeks of the stream."""
    per_week = plan.volume[: 7 * WEEKS].reshape(WEEKS, 7).sum(axis=1)
    tail = np.cumsum(per_week[::-1])
    return WEEKS - int(np.searchsorted(tail, size) + 1)


# --------------------------------------------------------------------------- measured steps (child processes)
def step_search(args: argparse.Namespace) -> dict[str, Any]:
    from scanner.normalize import fts_query

    store = Store.open(args.db, readonly=True)
    out = []
    for word in args.words:
        times: list[float] = []
        found: list[Any] = []
        stopped = False
        # 20 queries; a word slower than a minute in all gets 3; a query past SEARCH_CAP is interrupted
        while len(times) < 20 and (len(times) < 3 or sum(times) < 60_000) and not stopped:
            timer = threading.Timer(SEARCH_CAP, store.db.conn.interrupt)
            timer.start()
            t = time.perf_counter()
            try:
                found = store.items(search=word, limit=50)
            except sqlite3.OperationalError:
                stopped = True
            timer.cancel()
            times.append((time.perf_counter() - t) * 1000)
        # Reporting only (how common the word is): the store has no count of search matches.
        matches = store.db.execute("SELECT count(*) FROM items_fts WHERE items_fts MATCH ?",
                                   (fts_query(word),)).fetchone()[0]
        out.append({"word": word, "returned": len(found), "matches": int(matches), "times": times, "stopped": stopped})
    return {"words": out}


def step_analyse(args: argparse.Namespace) -> dict[str, Any]:
    from scanner.analysis.analyse import analyse

    config = load_config(args.config)
    store = Store.open(args.db)
    now = as_of_datetime(args.now, TZ)
    t = time.perf_counter()
    result = analyse(config, store, now)
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "timings": result.timings, "items": result.items, "relevant": result.relevant,
            "signals": result.signals, "born": result.born, "lines": result.lines}


def step_digest(args: argparse.Namespace) -> dict[str, Any]:
    from scanner.digest import write_digest

    config = load_config(args.config)
    store = Store.open(args.db)
    t = time.perf_counter()
    result = write_digest(config, store, args.week, as_of_datetime(args.now, TZ))
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "lines": result.lines, "cards": result.digest.stats["signals_tracked"],
            "html_kb": result.paths[0].stat().st_size / 1000}


def step_upsert(args: argparse.Namespace) -> dict[str, Any]:
    from scanner.prepare import prepare_items, store_items

    store = Store.open(args.db)
    with Path(args.items).open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    halves: list[dict[str, list[RawItem]]] = [{}, {}]
    for k, r in enumerate(rows):
        raw = RawItem(url=r["url"], title=r["title"], summary=r["summary"], content=r["content"],
                      published=as_of_datetime(r["published"]))
        halves[0 if k < UPSERTS else 1].setdefault(r["source_id"], []).append(raw)
    seen = as_of_datetime(args.now, TZ)
    t = time.perf_counter()
    n = 0
    for source_id, raws in halves[0].items():
        n += store_items(store, source_id, raws, seen).new
    store_s = time.perf_counter() - t
    prep_s = write_s = 0.0
    m = 0
    for source_id, raws in halves[1].items():
        t = time.perf_counter()
        prepared = prepare_items(raws, source_id, "auto", store.stored_hash)
        prep_s += time.perf_counter() - t
        t = time.perf_counter()
        m += store.upsert_items(prepared, seen).new
        write_s += time.perf_counter() - t
    return {"n": n, "seconds": store_s, "rate": n / store_s, "m": m, "prepare_s": prep_s, "write_s": write_s}


def step_retention(args: argparse.Namespace) -> dict[str, Any]:
    from scanner.pipeline import retention_step

    config = load_config(args.config)
    store = Store.open(args.db)
    timer = threading.Timer(RETENTION_CAP, store.db.conn.interrupt)
    timer.start()
    t = time.perf_counter()
    try:
        lines = retention_step(config, store, as_of_datetime(args.now, TZ))
    except (sqlite3.OperationalError, ScannerError) as e:
        lines = [f"retention interrupted after {RETENTION_CAP:.0f} s ({e}); the batches committed so far stay"]
    drop_s = time.perf_counter() - t
    timer.cancel()
    free_mb = store.db.execute("PRAGMA freelist_count").fetchone()[0] * store.db.execute(
        "PRAGMA page_size").fetchone()[0] / 1e6
    t = time.perf_counter()
    # No store function for it (the lab would run sqlite3 signals.db VACUUM). VACUUM INTO writes the
    # compacted copy straight to a new file; a plain VACUUM in WAL mode needs twice the space.
    Path(args.items).unlink(missing_ok=True)
    store.db.execute("VACUUM INTO ?", (args.items,))
    return {"lines": lines, "drop_s": drop_s, "free_mb": free_mb, "vacuum_s": time.perf_counter() - t}


STEPS = {"search": step_search, "analyse": step_analyse, "digest": step_digest, "upsert": step_upsert,
         "retention": step_retention}


# --------------------------------------------------------------------------- the parent: build, copy, measure
class StepError(RuntimeError):
    pass


@dataclass
class Measured:
    seconds: float
    rss_mb: float
    result: dict[str, Any]


def run_process(cmd: list[str], log: Path) -> Measured:
    """Run ``cmd``; its JSON output, wall time and peak RSS (``wait4`` gives the child's own)."""
    rss = CACHE / "rss.txt"
    t = time.perf_counter()
    with log.open("ab") as err:
        err.write(f"\n$ {' '.join(cmd)}\n".encode())
        err.flush()
        # GNU time reports the command's own peak: a child's ru_maxrss starts from the RSS of the
        # process that forked it, and this parent holds the generator's plan.
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(rss), *cmd], stdout=subprocess.PIPE,
                              stderr=err, cwd=ROOT, check=False)
    wall = time.perf_counter() - t
    if proc.returncode:
        raise StepError(f"{' '.join(cmd[2:5])} failed (exit {proc.returncode}); see {log}")
    text = proc.stdout.decode("utf-8")
    result = json.loads(text.strip().splitlines()[-1]) if text.strip().startswith(("{", "[")) else {"out": text}
    return Measured(wall, int(rss.read_text().split()[-1]) / 1024, result)


def run_step(name: str, db: Path, config: Path, log: Path, **extra: Any) -> Measured:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--step", name, "--db", str(db), "--config", str(config)]
    for k, v in extra.items():
        cmd += [f"--{k}", *(v if isinstance(v, list) else [str(v)])]
    m = run_process(cmd, log)
    if "seconds" in m.result:
        m.seconds = m.result["seconds"]  # the step's own time, without interpreter start and imports
    return m


def db_size_mb(db: Path) -> float:
    return sum(Path(f"{db}{s}").stat().st_size for s in ("", "-wal", "-shm") if Path(f"{db}{s}").exists()) / 1e6


def copy_db(src: Path, dst: Path) -> None:
    remove_db(dst)
    for s in ("", "-wal"):
        if Path(f"{src}{s}").exists():
            shutil.copyfile(f"{src}{s}", f"{dst}{s}")


def remove_db(db: Path) -> None:
    for s in ("", "-wal", "-shm"):
        Path(f"{db}{s}").unlink(missing_ok=True)


def add_week(db: Path, plan: Plan, vocab: Vocabulary, wi: int, vectors: bool) -> WeekBatch:
    """A week after the built ones, stored as a fetch would store it (fixture: not measured)."""
    from scanner.store.embeddings import save_vectors

    batch = generate_week(plan, vocab, wi)
    with Store.open(db) as store:
        store.upsert_items(batch.items, batch.seen_at)
        if vectors:
            save_vectors(store, plan.topics.model_id, [i.content_hash for i in batch.items], batch.vectors)
    return batch


def search_words(vocab: Vocabulary) -> list[str]:
    """Thai words from very common to rare in the sample (and so in the stream)."""
    order = [int(k) for k in np.argsort(-vocab.th_counts) if len(vocab.tokens[k]) >= 3]
    return [vocab.tokens[order[r]] for r in (0, 40, 400, 4000)] + ["ข่าวปลอม"]


def measure(scale: str, base: Path, plan: Plan, vocab: Vocabulary, log: Path) -> dict[str, Any]:
    """Every measured step on one database."""
    out: dict[str, Any] = {"size_mb": db_size_mb(base)}
    reports = CACHE / f"reports-{scale}"
    shutil.rmtree(reports, ignore_errors=True)
    cfg = write_config(bench_config(base, reports), CACHE / f"sources-{scale}.yaml")
    runs = [run_process([sys.executable, "-m", "scanner", "--config", str(cfg), "--db", str(base), "status"], log)
            for _ in range(3)]
    out["status"] = Measured(statistics.median(r.seconds for r in runs), max(r.rss_mb for r in runs),
                             {"rows": len(runs[0].result.get("out", "").splitlines())})
    out["search"] = run_step("search", base, cfg, log, words=search_words(vocab))
    work = CACHE / f"work-{scale}.db"
    t = time.perf_counter()
    copy_db(base, work)
    out["copy_s"] = time.perf_counter() - t
    wcfg = write_config(bench_config(work, reports, keep_bodies=12), CACHE / f"sources-{scale}-work.yaml")
    add_week(work, plan, vocab, WEEKS, vectors=True)
    out["analyse_excl"] = run_step("analyse", work, wcfg, log, now="2025-03-30")
    out["digest"] = run_step("digest", work, wcfg, log, week=WEEK_A, now="2025-03-31T07:00:00")
    add_week(work, plan, vocab, WEEKS + 1, vectors=False)
    out["analyse_incl"] = run_step("analyse", work, wcfg, log, now="2025-04-06")
    upserts = generate_week(plan, vocab, WEEKS + 2)
    items_file = CACHE / "upserts.jsonl"
    with items_file.open("w", encoding="utf-8") as f:
        for it in upserts.items:  # what a feed gives: the text, not its tokens
            f.write(json.dumps({"source_id": it.source_id, "url": it.url, "title": it.title, "summary": it.summary,
                                "content": it.content, "published": it.published}, ensure_ascii=False) + "\n")
    out["upsert"] = run_step("upsert", work, wcfg, log, items=items_file, now="2025-04-07T12:00:00")
    if scale == "1m":
        out["before_mb"] = db_size_mb(work)
        vacuumed = CACHE / "work-1m-vacuumed.db"
        out["retention"] = run_step("retention", work, wcfg, log, now="2025-04-07T12:00:00", items=vacuumed)
        out["after_mb"] = db_size_mb(vacuumed)
        remove_db(vacuumed)
    remove_db(work)
    return out


def counts_of(db: Path) -> dict[str, int]:
    with Store.open(db, readonly=True) as store:
        # Reporting only: table sizes of the built database.
        return {t: int(store.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
                for t in ("items", "signals", "signal_items", "signal_weeks", "signal_events", "embeddings",
                          "item_relevance", "stories", "keyword_weeks", "fetches")}


# --------------------------------------------------------------------------- tables
def ok(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def print_tables(built: dict[str, dict[str, Any]], res: dict[str, dict[str, Any]]) -> None:
    scales = [s for s in SIZES if s in res]
    print("scanner at ten years: synthetic thaigov-vocabulary stream, USE dimension vectors, shipped topics")
    print()
    print(f"{'database':<10} {'items':>10} {'signals':>8} {'sig.items':>10} {'sig.weeks':>10} {'events':>8} "
          f"{'fetches':>8} {'size MB':>9} {'build s':>8}")
    for s in scales:
        c, b = built[s]["counts"], built[s]
        print(f"{s:<10} {c['items']:>10,} {c['signals']:>8,} {c['signal_items']:>10,} {c['signal_weeks']:>10,} "
              f"{c['signal_events']:>8,} {c['fetches']:>8,} {res[s]['size_mb']:>9,.0f} "
              f"{b['build_s'] if b['build_s'] is not None else float('nan'):>8.0f}")
    print()
    steps = [("status (CLI)", "status"), ("upsert 1,000", "upsert"), ("analyse, embedding excluded", "analyse_excl"),
             ("analyse, embedding included", "analyse_incl"), ("digest of the week", "digest")]
    head = "".join(f" {s + ' s':>9} {s + ' MB':>9}" for s in scales)
    print(f"{'weekly step':<29}{head} {'ratio':>6} {'≤2×':>5} {'<2 GB':>6}")
    for label, key in steps:
        cells = "".join(f" {res[s][key].seconds:>9.2f} {res[s][key].rss_mb:>9.0f}" for s in scales)
        ratio = res["1m"][key].seconds / res["50k"][key].seconds if len(scales) == 2 else float("nan")
        rss_ok = all(res[s][key].rss_mb < TARGET_RSS_MB for s in scales)
        print(f"{label:<29}{cells} {ratio:>6.2f} {ok(ratio <= TARGET_RATIO) if len(scales) == 2 else '-':>5} "
              f"{ok(rss_ok):>6}")
    for s in scales:
        u = res[s]["upsert"].result
        print(f"  upsert {s}: {u['rate']:.0f} items/s through store_items; a second 1,000: prepare (PyThaiNLP) "
              f"{u['prepare_s']:.1f} s, write {u['write_s']:.2f} s")
    print()
    print(f"{'analyse stage (s)':<24}" + "".join(f" {s + ' excl':>9} {s + ' incl':>9}" for s in scales))
    stages = list(res[scales[0]]["analyse_excl"].result["timings"])
    for stage in stages:
        print(f"{stage:<24}" + "".join(f" {res[s]['analyse_excl'].result['timings'].get(stage, 0):>9.2f} "
                                        f"{res[s]['analyse_incl'].result['timings'].get(stage, 0):>9.2f}"
                                        for s in scales))
    for s in scales:
        for key in ("analyse_excl", "analyse_incl"):
            print(f"  {s} {key}: " + " | ".join(res[s][key].result["lines"]))
    print()
    print(f"{'items --search':<14}" + "".join(f" {s + ' hits':>10} {'median ms':>9} {'p95 ms':>8}" for s in scales)
          + f" {'p95<200':>8}")
    words = [w["word"] for w in res[scales[0]]["search"].result["words"]]
    for k, word in enumerate(words):
        cells, p95s = "", []
        for s in scales:
            w = res[s]["search"].result["words"][k]
            p95 = float(np.percentile(w["times"], 95))
            p95s.append(p95)
            cells += f" {w['matches']:>10,} {statistics.median(w['times']):>9.1f} {p95:>8.1f}"
            if w["stopped"]:
                cells += f" (query stopped at {SEARCH_CAP:.0f} s)"
            elif len(w["times"]) < 20:
                cells += f" ({len(w['times'])} queries)"
        print(f"{word:<14}{cells} {ok(max(p95s) < TARGET_SEARCH_MS):>8}")
    print("  search RSS MB: " + ", ".join(f"{s} {res[s]['search'].rss_mb:.0f}" for s in scales))
    if "1m" in res and "retention" in res["1m"]:
        r = res["1m"]
        print()
        print("retention on a copy of the 1m database (settings.keep_bodies: 12, as `scanner run` applies it)")
        print(f"{'before MB':>10} {'after MB':>10} {'saved':>6} {'drop s':>8} {'VACUUM s':>9} {'RSS MB':>7}")
        print(f"{r['before_mb']:>10,.0f} {r['after_mb']:>10,.0f} {1 - r['after_mb'] / r['before_mb']:>6.0%} "
              f"{r['retention'].result['drop_s']:>8.0f} {r['retention'].result['vacuum_s']:>9.0f} "
              f"{r['retention'].rss_mb:>7.0f}")
        print(f"  free pages after dropping, before VACUUM: {r['retention'].result['free_mb']:,.0f} MB")
        print("  " + " ".join(r["retention"].result["lines"]))


# --------------------------------------------------------------------------- main
def load_topics() -> Topics:
    """The shipped topics embedded by the model ``analyse`` uses, and the relevance model key it stores."""
    from scanner.analysis.embed import get_embedder
    from scanner.analysis.relevance import prepare_topics

    embedder = get_embedder(AnalysisConfig())
    prepared = prepare_topics(bench_config(CACHE / "x.db", CACHE / "reports"), embedder)
    ids = [t.id for t in prepared.topics]
    dirs = np.zeros((len(ids), DIM))
    for row, t in enumerate(prepared.owner):
        dirs[t] += prepared.vectors[row]
    return Topics(ids, prepared.vectors.astype(np.float64), list(prepared.owner), _unit(dirs), prepared.key,
                  embedder.model_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="build the cached databases again")
    parser.add_argument("--only", choices=list(SIZES), help="one database only")
    parser.add_argument("--build-only", action="store_true", help="build the cached databases, measure nothing")
    parser.add_argument("--step", choices=list(STEPS), help=argparse.SUPPRESS)
    for opt in ("db", "config", "now", "week", "items"):
        parser.add_argument(f"--{opt}", help=argparse.SUPPRESS)
    parser.add_argument("--words", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--trial", action="store_true", help=argparse.SUPPRESS)  # small sizes, own cache
    args = parser.parse_args()
    if args.trial:
        global CACHE
        CACHE = Path("/tmp/scanner-scale-trial")
        SIZES.update({"50k": 4_000, "1m": 16_000})
    if args.step:
        print(json.dumps(STEPS[args.step](args), ensure_ascii=False, default=str))
        return
    (CACHE / "focus-groups").mkdir(parents=True, exist_ok=True)  # the file source's folder (empty)
    log = CACHE / "steps.log"
    print(shutil.disk_usage(CACHE).free // 10**9, "GB free in", CACHE, file=sys.stderr)
    t = time.perf_counter()
    vocab = load_vocabulary()
    plan = make_plan(vocab, load_topics())
    print(f"vocabulary and plan: {time.perf_counter() - t:.0f} s", file=sys.stderr)
    built: dict[str, dict[str, Any]] = {}
    res: dict[str, dict[str, Any]] = {}
    for scale, size in SIZES.items():
        if args.only and scale != args.only:
            continue
        db = CACHE / f"{scale}.db"
        build_s = None
        if args.rebuild or not db.exists():
            remove_db(db)
            timings = build_database(db, first_week_for(size, plan), plan, vocab)
            build_s = timings["total"]
            (CACHE / f"{scale}.build.json").write_text(json.dumps(timings))
            print(f"built {db}: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()), file=sys.stderr)
        elif (CACHE / f"{scale}.build.json").exists():
            build_s = json.loads((CACHE / f"{scale}.build.json").read_text())["total"]
        if args.build_only:
            continue
        built[scale] = {"counts": counts_of(db), "build_s": build_s}
        res[scale] = measure(scale, db, plan, vocab, log)
        print(f"measured {scale}", file=sys.stderr, flush=True)
    if res:
        print_tables(built, res)


if __name__ == "__main__":
    main()
