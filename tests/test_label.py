"""c-TF-IDF keywords over newmm tokens (Thai and English), titles, topics, zero-shot tags."""

from __future__ import annotations

from typing import Any

import numpy as np

from scanner.analysis.embed import HashingEmbedder
from scanner.analysis.label import central_title, ctfidf_keywords, is_keyword, majority_topics, shorten
from scanner.analysis.tags import DEFAULT_TAGS, Tagger, tag_sets
from scanner.normalize import tokenize


def test_ctfidf_prefers_words_of_the_class_over_words_of_every_class() -> None:
    classes = [
        [["ข้อมูลเปิด", "ภาครัฐ", "portal"], ["ข้อมูลเปิด", "ภาครัฐ", "dataset"], ["ข้อมูลเปิด", "portal", "ภาครัฐ"]],
        [["มิจฉาชีพ", "ภาครัฐ", "scam"], ["มิจฉาชีพ", "scam", "ภาครัฐ"], ["มิจฉาชีพ", "scam"]],
    ]
    kw = ctfidf_keywords(classes, max_df=1.0)
    assert kw[0] == {"th": ["ข้อมูลเปิด", "ภาครัฐ"], "en": ["portal"], "all": ["ข้อมูลเปิด", "portal", "ภาครัฐ"]}
    assert kw[1] == {"th": ["มิจฉาชีพ", "ภาครัฐ"], "en": ["scam"], "all": ["scam", "มิจฉาชีพ", "ภาครัฐ"]}  # tie: word order


def test_stop_words_numbers_and_single_letters_are_not_keywords() -> None:
    assert not is_keyword("และ")  # PyThaiNLP stop word
    assert not is_keyword("the")  # scikit-learn stop word
    assert not is_keyword("2568")
    assert not is_keyword("ก")
    assert not is_keyword("มีนาคม") and not is_keyword("march")  # month names
    assert is_keyword("ไซเบอร์") and is_keyword("e-office")


def test_keywords_of_real_thai_releases_are_newmm_words(thaigov: list[dict[str, Any]]) -> None:
    cyber = [r for r in thaigov if r["label"] == "cyber_security"][:30]
    farm = [r for r in thaigov if r["label"] == "agriculture"][:30]
    classes = [[tokenize(r["title"] + " " + r["body"][:600]) for r in group] for group in (cyber, farm)]
    kw = ctfidf_keywords(classes)
    vocab = {t for group in classes for doc in group for t in doc}
    for k in kw:
        assert k["th"] and set(k["all"]) <= vocab  # every keyword is a token newmm produced
        assert all(" " not in t for t in k["all"])
    assert {"มิจฉาชีพ", "ออนไลน์"} & set(kw[0]["th"])
    assert {"เกษตรกร", "ข้าว", "สินค้าเกษตร"} & set(kw[1]["th"])
    assert not set(kw[0]["all"]) & set(kw[1]["all"])


def test_title_of_the_most_central_item_shortened() -> None:
    vectors = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], np.float32)
    assert central_title(["a", "b", "c"], vectors, np.array([0.6, 0.5], np.float32)) == "b"
    long = "ดีอี เตือน " + "ข่าวปลอม " * 30
    assert shorten(long, 40) == "ดีอี เตือน ข่าวปลอม ข่าวปลอม ข่าวปลอม…"
    assert shorten("  short   title ") == "short title"


def test_majority_topics() -> None:
    assert majority_topics([["a", "b"], ["a"], ["c"]]) == ["a"]
    assert majority_topics([["a"], ["b"], ["c"]]) == ["a"]
    assert majority_topics([["b", "a"], ["a", "b"]]) == ["a", "b"]
    assert majority_topics([[], []]) == []


def test_tags_pick_the_closest_description_per_group() -> None:
    embedder = HashingEmbedder()
    configured = {"themes": {"fraud": "มิจฉาชีพ หลอกลวง บัญชีม้า", "data": "ข้อมูลเปิด ชุดข้อมูล แพลตฟอร์ม"}}
    tagger = Tagger(embedder, configured)
    assert list(tagger.groups) == ["steepv", "themes", "sdgs"]
    assert tagger.groups["steepv"] == DEFAULT_TAGS["steepv"]
    centroids = embedder.embed(["มิจฉาชีพ หลอกลวง ผู้เสียหาย", "ข้อมูลเปิด ชุดข้อมูล ภาครัฐ"])
    tags = tagger.tag(centroids)
    assert [t["themes"] for t in tags] == [["fraud"], ["data"]]
    assert all(set(t) == {"steepv", "themes", "sdgs"} for t in tags)
    assert list(tag_sets({"sdgs": {}})) == ["steepv", "themes"]  # an empty group switches it off


def test_signal_name_is_short_keyphrases_with_names_and_acronyms_first() -> None:
    from scanner.analysis.label import NAME_CHARS, signal_name

    titles = ["ดีอี เตือน ข่าวปลอม พบเพจปลอม บน TikTok", "ศูนย์ AFNC ยืนยัน ข่าวปลอม ระบาด"]
    name = signal_name(["ข่าวปลอม", "afnc", "tiktok", "เพจปลอม"], titles)
    assert name == "AFNC · TikTok · ข่าวปลอม"  # acronyms as the titles write them, before Thai words
    assert len(signal_name(["ก" * 30, "ข" * 30, "ค" * 30], [])) <= NAME_CHARS
    assert signal_name([], titles) == ""
