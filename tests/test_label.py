"""c-TF-IDF keywords over newmm tokens (Thai and English), titles, topics, zero-shot tags."""

from __future__ import annotations

import random
from itertools import pairwise
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
    kw = ctfidf_keywords(classes, written=[r["title"] for group in (cyber, farm) for r in group])
    vocab = {t for group in classes for doc in group for t in doc}
    vocab |= {a + b for group in classes for doc in group for a, b in pairwise(doc)}
    for k in kw:
        assert k["th"] and set(k["all"]) <= vocab  # every keyword is a newmm token, or two side by side
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


def test_a_name_leads_with_what_the_matter_is_about_not_what_is_done(thaigov: list[dict[str, Any]]) -> None:
    """Words ORCHID mostly uses as a verb, adjective, adverb or conjunction (จ่าย, แน่นอน, ว่าด้วย) follow
    the nouns in a name; a word ORCHID never saw (ข่าวปลอม) and any Latin word can lead."""
    from scanner.analysis.label import names_a_thing, signal_name

    assert not any(map(names_a_thing, ["จ่าย", "แน่นอน", "ว่าด้วย", "จำกัด", "ร่วม"]))
    assert all(map(names_a_thing, ["ผู้สูงอายุ", "เบี้ยยังชีพ", "พระราชบัญญัติ", "ข่าวปลอม", "ThaID", "cloud"]))
    pay = [tokenize(t) for t in ("จ่าย จ่าย แน่นอน แน่นอน ผู้สูงอายุ เบี้ยยังชีพ",
                                 "จ่าย จ่าย แน่นอน แน่นอน ผู้สูงอายุ เบี้ยยังชีพ เดือนนี้",
                                 "จ่าย จ่าย แน่นอน แน่นอน เบี้ยยังชีพ ผู้สูงอายุ ทั่วไทย")]
    kw, _ = ctfidf_keywords([pay, [tokenize(r["title"]) for r in thaigov[:40]]])
    first_action = min(kw["all"].index("จ่าย"), kw["all"].index("แน่นอน"))  # c-TF-IDF alone: แน่นอน, จ่าย first
    assert first_action >= 2 and all(map(names_a_thing, kw["all"][:first_action])), kw["all"]
    # real releases: each label's name is made of words that name things, where the label has three of them
    by_label: dict[str, list[list[str]]] = {}
    for r in thaigov:
        by_label.setdefault(r["label"], []).append(tokenize(r["title"]))
    labels = list(by_label)
    for kw, label in zip(ctfidf_keywords([by_label[k] for k in labels]), labels, strict=True):
        terms = signal_name(kw["all"], [r["title"] for r in thaigov if r["label"] == label]).split(" · ")
        if sum(map(names_a_thing, kw["all"])) >= len(terms):
            assert all(map(names_a_thing, terms)), (label, terms)


def test_tagging_stops_early_without_changing_what_a_label_shows() -> None:
    """_things_first tags only as far as a label can show: its first TOP_ALL words, and the first
    TOP_LANG Thai and English words, are those of the full reordering, on many random orders."""
    from scanner.analysis.label import TOP_ALL, TOP_LANG, _things_first, lang_of, names_a_thing

    pool = ["จ่าย", "แน่นอน", "ร่วม", "ว่าด้วย", "จำกัด", "เร่ง", "ผู้สูงอายุ", "เบี้ยยังชีพ", "ข่าวปลอม", "มิจฉาชีพ",
            "ชายแดน", "ยาเสพติด", "ฐานข้อมูล", "สถานี", "ซิม", "คดี", "อาเซียน", "รถไฟฟ้า", "ตำรวจสากล",
            "ไซเบอร์", "thaid", "afnc", "cloud", "gdcc", "tiktok"]
    rng = random.Random(7)
    stopped = 0
    for _ in range(300):
        words = rng.sample(pool, rng.randint(0, len(pool)))
        full = sorted(words, key=lambda w: not names_a_thing(w))
        fast = _things_first(words)
        assert sorted(fast) == sorted(words) and fast[:TOP_ALL] == full[:TOP_ALL]
        for lang in ("th", "en"):
            def first(ws: list[str], lang: str = lang) -> list[str]:
                return [w for w in ws if lang_of(w) == lang][:TOP_LANG]
            assert first(fast) == first(full)
        stopped += fast != full
    assert stopped > 0  # the early stop was taken (and changed only what no label shows)


def test_generic_words_of_the_window_do_not_lead_but_a_signals_own_common_word_does() -> None:
    from scanner.analysis.label import GENERIC_SHARE, generic_share

    # 111 Thai items: บริการ and ออนไลน์ are in 40 (generic; not in half, so c-TF-IDF keeps them, and
    # ออนไลน์ is frequent in the fake-news items); ข่าวปลอม is in 12 (more than
    # 10 % of the window), but nearly all of them are the fake-news class's (its own word).
    def docs(words: str, n: int) -> list[list[str]]:  # word order varies from item to item, as in real text
        out = []
        for k in range(n):
            w = words.split()
            random.Random(k).shuffle(w)
            out.append(tokenize(" ".join(w) + f" {k}"))
        return out

    fake = docs("ดีอี เตือน ข่าวปลอม บริการ ออนไลน์ ออนไลน์ ออนไลน์ มิจฉาชีพ หลอกลวง เพจ", 10)
    portal = docs("ข้อมูลเปิด ภาครัฐ บริการ ออนไลน์ ชุดข้อมูล แพลตฟอร์ม เผยแพร่", 10)
    other = docs("บริการ ออนไลน์ การท่องเที่ยว งานเทศกาล จังหวัด", 20) + docs("การท่องเที่ยว งานเทศกาล ประเพณี", 69)
    other += [tokenize("ข่าวปลอม บริการ"), tokenize("บริการ ข่าวปลอม")]
    titles = ["ดีอี เตือน ข่าวปลอม ระบาดหนัก"]  # the compound as the titles write it
    fake_kw, portal_kw, _ = ctfidf_keywords([fake, portal, other], written=titles)
    window = fake + portal + other
    # two words side by side but a space apart in the text (the tokens lost the space) stay two words
    words = set().union(*window)
    assert not [t for kw in (fake_kw, portal_kw) for t in kw["all"] if t not in words and t not in titles[0]]
    for kw in (fake_kw, portal_kw):  # the generic words come after every word that names the matter
        generic_at = [k for k, t in enumerate(kw["all"]) if t in {"บริการ", "ออนไลน์"}]
        assert all(k >= len(kw["all"]) - len(generic_at) for k in generic_at), kw["all"]
    assert len([t for t in fake_kw["all"] if t not in {"บริการ", "ออนไลน์"}]) >= 3
    assert "ข่าวปลอม" in fake_kw["all"][:5] and "ปลอม" not in fake_kw["all"]  # newmm splits it; kept whole
    portal_words = {t for d in portal for t in d} | {a + b for d in portal for a, b in pairwise(d)}
    assert set(portal_kw["all"][:5]) <= portal_words
    generic, slots = generic_share([fake_kw["all"], portal_kw["all"]], window, titles)
    assert slots == len(fake_kw["all"][:5]) + len(portal_kw["all"][:5])
    # ข่าวปลอม counts (12 of 111 > 10 %: common, though the fake-news class's own), and so does a
    # generic word shown only because the portal class has fewer than five words of its own
    common = {"ข่าวปลอม", "บริการ", "ออนไลน์"}
    assert generic == sum(1 for kw in (fake_kw, portal_kw) for t in kw["all"][:5] if t in common) >= 1
    assert GENERIC_SHARE < 12 / 111


def test_everyday_thai_words_and_day_names_never_lead_a_label(thaigov: list[dict[str, Any]]) -> None:
    """ระบบ, อย่า, รู้จัก are everyday Thai (frequent in the Thai National Corpus): they rank after the
    words that name the matter, even when the class holds all of their items; a weekday is no keyword."""
    from scanner.analysis.label import everyday_thai

    assert {"ระบบ", "อย่า", "รู้จัก", "ปัญหา"} <= everyday_thai()
    assert not {"ไซเบอร์", "ผู้เสียหาย", "ข่าวปลอม", "ดิจิทัล"} & everyday_thai()
    scam = [tokenize(f"อย่า {t} รู้จัก ระบบ มิจฉาชีพ ไซเบอร์ วันจันทร์") for t in ("หลอกลวง", "ผู้เสียหาย", "เพจปลอม")]
    rest = [tokenize(r["title"]) for r in thaigov[:40]]
    kw, _ = ctfidf_keywords([scam, rest])
    assert {"อย่า", "รู้จัก", "ระบบ"} <= set(kw["all"])  # kept, but last
    lead = [t for t in kw["all"] if t not in everyday_thai()]
    assert kw["all"][: len(lead)] == lead and {"มิจฉาชีพ", "ไซเบอร์"} <= set(lead)
    assert "จันทร์" not in kw["all"] and "วันจันทร์" not in kw["all"]


def test_words_common_among_the_english_items_do_not_lead() -> None:
    from scanner.analysis.label import english_generic

    def english(n: int, words: str) -> list[list[str]]:
        return [tokenize(f"{words} story{k % 7} item") for k in range(n)]

    visits = english(30, "prime minister ministry welcomed") + english(3, "semiconductor investment board")
    assert {"prime", "minister", "ministry"} <= english_generic(visits)
    assert "semiconductor" not in english_generic(visits)
    assert english_generic(visits[:20]) == set()  # too few English items to tell
    thai = [tokenize("กระทรวง prime minister ประชุม หารือ ความร่วมมือ ภาครัฐ") for _ in range(40)]
    assert english_generic(thai) == set()  # Latin words in Thai items are not the English items' words


def test_a_lowercase_two_letter_word_is_left_out_of_a_name() -> None:
    from scanner.analysis.label import signal_name

    assert signal_name(["อันตราย", "cc", "ข้อมูลส่วนตัว"], ["เตือน อันตราย cc"]) == "อันตราย · ข้อมูลส่วนตัว"
    assert signal_name(["ai", "ภาครัฐ"], ["AI ในภาครัฐ"]) == "AI · ภาครัฐ"


def test_an_english_phrase_the_titles_write_is_kept_whole() -> None:
    """prime + minister and mobile + banking, side by side wherever they appear and written so in the
    titles, are one keyword each; in a name they are written as the titles write them."""
    from scanner.analysis.label import signal_name

    titles = ["Prime Minister opens Mobile Banking week", "Mobile Banking fraud: Prime Minister orders checks",
              "Prime Minister meets banks on Mobile Banking scams"]
    ours = [tokenize(f"{t} story{k}") for k, t in enumerate(titles * 2)]
    rest = [tokenize(f"ministry budget {w} review") for w in ("prime", "minister", "mobile", "banking", "rail")]
    rest += [tokenize("tourism festival province") for _ in range(30)]
    kw, _ = ctfidf_keywords([ours, rest], written=titles)
    assert {"prime minister", "mobile banking"} <= set(kw["en"]) and "minister" not in kw["en"]
    name = signal_name(kw["all"], titles)
    assert name.startswith(("Prime Minister · Mobile Banking", "Mobile Banking · Prime Minister")), name
    apart, _ = ctfidf_keywords([ours, rest], written=["Prime. Minister"])  # never written as a phrase
    assert "prime minister" not in apart["en"]
