"""Shared words next to shared meaning: the vectors signals are tracked with.

Items of one matter share *names*: ควอนตัม, ThaID, AFNC, ทางรัฐ, a ministry's acronym. A multilingual
sentence model sees their meaning but blurs the names (two releases about different cyber threats
sit as close as two about the same one), so signals are tracked with both: each item's vector is its
unit embedding next to a unit TF-IDF vector of its PyThaiNLP ``newmm`` keywords, weighted so that the
dot product of two such vectors is

    (1 − w) · cos(embeddings) + w · cos(keywords)

with ``w`` = ``analysis.lexical_weight``. Everything ``scanner.analysis.track`` does (average linkage,
joining, merging, splitting) works on dot products of unit rows, so it runs unchanged on these.

The keyword vector:

- **Tokens** are those stored at ingest (title and the start of the text), kept when
  ``label.is_keyword`` (a dictionary word, a long token or a Latin word, so newmm's loose fragments
  of unknown names drop out) and not a stop word.
- **Weights** are sublinear term frequency (1 + log tf) times a fixed inverse document frequency,
  counted over the 200 texts of the bundled calibration reference set (tune-month items of the
  thaigov sample, ``scanner/data/calibration_pairs.json``); a word they never use gets the highest
  weight. Fixed, so a signal's stored mean means the same thing next week, and a run's outcome does
  not depend on what else is in the window.
- **Hashed** into ``DIM`` signed buckets (the hashing trick), so any vocabulary fits one fixed-size
  dense row; the collision noise on a cosine is about 1/√DIM ≈ 0.03, times ``w``.

Thresholds stay in USE units: the combined cosine of the reference pairs is known exactly (their
model cosine and their keyword cosine, mixed as above), so ``scanner.analysis.calibration`` maps every
tracking threshold onto it as it maps any model's (``ModelCalibration.tracking``).

Trends compare signals the same way, one level up: each signal's mean embedding next to the mean of
its stories' keyword rows (``mixed_rows``), with the trend thresholds mapped on the reference groups'
mixed cosines (``ModelCalibration.means``). Labels, tags, novelty and stories use the embeddings alone.

Measured on the sample's tune months (``bench/signals_quality.py --lexical-weight``): at the same
coverage the signals are purer (0.795 against 0.719 at coverage 0.844), and at the shipped thresholds
more relevant items reach a signal. The ``hashing`` test embedder is itself a bag of words, so it is
tracked by its own vectors alone (``tracking_weight``).
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Sequence
from functools import cache

import numpy as np

from scanner.analysis.label import is_keyword, stop_words
from scanner.analysis.vectors import normalise_rows, unit_rows

DIM = 1024
CHUNK = 2048  # documents whose entries are gathered at once


def keywords_of(tokens: Sequence[str]) -> list[str]:
    """The tokens that count as words of the matter (not stop words, not newmm's loose fragments)."""
    stop = stop_words()
    return [t for t in tokens if t not in stop and is_keyword(t)]


@cache
def _document_frequency() -> tuple[int, dict[str, int]]:
    """Documents and document frequency of each keyword over the bundled reference texts."""
    from scanner.analysis.calibration import reference_pairs
    from scanner.normalize import tokenize

    texts = reference_pairs()["texts"]
    df: Counter[str] = Counter()
    for text in texts:
        df.update(set(keywords_of(tokenize(text))))
    return len(texts), dict(df)


def idf(word: str) -> float:
    """Smoothed inverse document frequency of ``word`` over the reference texts (unseen words: the highest)."""
    n, df = _document_frequency()
    return math.log((1 + n) / (1 + df.get(word, 0))) + 1.0


def lexical_vectors(docs: Sequence[Sequence[str]], dim: int = DIM) -> np.ndarray:
    """Unit TF-IDF rows of the keywords of each token list in ``docs``, hashed into ``dim`` signed buckets.

    A document with no keyword is a zero row (it then has keyword similarity 0 to everything)."""
    out = np.zeros((len(docs), dim), dtype=np.float32)
    _fill_lexical(out, docs)
    return normalise_rows(out)


def tracking_vectors(dense: np.ndarray, docs: Sequence[Sequence[str]], weight: float,
                     topics: np.ndarray | None = None, topic_weight: float = 0.0) -> np.ndarray:
    """Unit ``dense`` rows next to the keyword rows of ``docs``, so that a dot product is
    ``(1 − weight) · dense cosine + weight · keyword cosine``; ``dense`` alone when ``weight`` is 0.

    ``topics``: the items' rows of lab-topic scores (``scanner.analysis.topicmix``), put in front with
    share ``topic_weight``, so that a dot product is ``(1 − topic_weight) · the above + topic_weight ·
    topic cosine``. The keyword columns stay the last ``DIM`` (``keyword_part``).

    Built in one array, in place (a 50,000-item window is 300 MB, not three copies of it)."""
    k = topics.shape[1] if topics is not None and topic_weight > 0 and len(dense) else 0
    if (weight <= 0 and not k) or not len(dense):
        return unit_rows(dense)
    n, d = dense.shape
    out = np.zeros((n, k + d + (DIM if weight > 0 else 0)), dtype=np.float32)
    out[:, k : k + d] = dense
    if weight > 0:
        _fill_lexical(out[:, k + d :], docs)
        _weigh(out[:, k:], d, weight)
    else:
        normalise_rows(out[:, k : k + d])
    if k:
        assert topics is not None
        out[:, k:] *= math.sqrt(1.0 - topic_weight)
        out[:, :k] = topics
        normalise_rows(out[:, :k], math.sqrt(topic_weight))
    return out


def keyword_part(mixed: np.ndarray) -> np.ndarray:
    """The keyword columns of ``tracking_vectors`` rows (scaled by √weight; only their direction counts)."""
    return mixed[:, -DIM:]


def mixed_rows(dense: np.ndarray, lexical: np.ndarray, weight: float) -> np.ndarray:
    """Rows of ``dense`` and of ``lexical`` (any lengths) side by side as ``tracking_vectors`` sets them:
    each part to unit length, weighted, so a dot product mixes the two cosines by ``weight``."""
    if weight <= 0 or not len(dense):
        return unit_rows(dense)
    out = np.hstack([np.asarray(dense, dtype=np.float32), np.asarray(lexical, dtype=np.float32)])
    _weigh(out, dense.shape[1], weight)
    return out


def _weigh(out: np.ndarray, d: int, weight: float) -> None:
    """In place: the first ``d`` columns to length √(1 − weight), the rest to √weight (zero rows stay zero)."""
    normalise_rows(out[:, :d], math.sqrt(1.0 - weight))
    normalise_rows(out[:, d:], math.sqrt(weight))


def _fill_lexical(out: np.ndarray, docs: Sequence[Sequence[str]]) -> None:
    """Write the hashed TF-IDF rows of ``docs`` into the zeroed view ``out`` (not yet to unit length: the
    caller scales them).

    Each distinct word is checked, hashed and weighed once per call, so the cost is one pass of
    ``Counter`` over the tokens; the entries are gathered ``CHUNK`` documents at a time, so memory
    beyond ``out`` stays small however long the window."""
    dim = out.shape[1]
    stop = stop_words()
    slot: dict[str, tuple[int, float] | None] = {}
    for start in range(0, len(docs), CHUNK):
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for row, tokens in enumerate(docs[start : start + CHUNK]):
            for word, count in Counter(tokens).items():
                if word not in slot:
                    if word in stop or not is_keyword(word):
                        slot[word] = None
                    else:
                        h = zlib.crc32(word.encode("utf-8"))
                        slot[word] = (h % dim, idf(word) * (1.0 if (h >> 16) & 1 else -1.0))
                found = slot[word]
                if found is not None:
                    rows.append(row)
                    cols.append(found[0])
                    vals.append((1.0 + math.log(count)) * found[1])
        if rows:
            np.add.at(out[start : start + CHUNK], (np.asarray(rows), np.asarray(cols)),
                      np.asarray(vals, dtype=np.float32))


def tracking_weight(model_id: str, weight: float) -> float:
    """The keyword weight a model is tracked with: ``weight``, except for the ``hashing`` test embedder,
    whose vectors already are hashed words (and whose test fixtures assert outcomes on them alone)."""
    return 0.0 if model_id.startswith("hashing-") else weight


@cache
def reference_group_keyword_cosines() -> np.ndarray:
    """Keyword cosine of each pair of reference groups (``group_pairs``), compared by their unit means,
    as trends compare signals."""
    from scanner.analysis.calibration import reference_pairs
    from scanner.normalize import tokenize

    data = reference_pairs()
    rows = lexical_vectors([tokenize(t) for t in data["texts"]])
    means = unit_rows(np.stack([rows[list(g)].mean(axis=0) for g in data["groups"]]))
    pairs = np.array(data["group_pairs"], dtype=np.int64)
    return np.asarray(np.einsum("ij,ij->i", means[pairs[:, 0]], means[pairs[:, 1]]), dtype=np.float64)


@cache
def reference_keyword_cosines() -> np.ndarray:
    """Keyword cosine of each reference pair (``calibration_pairs.json``), in the pairs' order."""
    from scanner.analysis.calibration import reference_pairs
    from scanner.normalize import tokenize

    data = reference_pairs()
    rows = lexical_vectors([tokenize(t) for t in data["texts"]])
    pairs = np.array([p[:2] for p in data["pairs"]], dtype=np.int64)
    return np.asarray(np.einsum("ij,ij->i", rows[pairs[:, 0]], rows[pairs[:, 1]]), dtype=np.float64)


__all__ = ["DIM", "idf", "keyword_part", "keywords_of", "lexical_vectors", "mixed_rows",
           "reference_group_keyword_cosines", "reference_keyword_cosines", "tracking_vectors", "tracking_weight"]
