"""Signal labels: class-based TF-IDF keywords in Thai and English, and a title from the most central item.

c-TF-IDF (Grootendorst 2022, as in BERTopic): all tokens of a signal's items form one document;
``weight(t, c) = tf(t, c) / |c| · log(1 + A / f(t))`` where ``A`` is the average number of tokens
per class and ``f(t)`` the frequency of ``t`` over all classes. Items of the window that belong
to no signal form one more class, so words common to the whole stream score low.

Tokens are PyThaiNLP ``newmm`` words (read back from the full-text index, which stores them
space-joined; Thai is never split on whitespace). Dropped: Thai stop words
(``pythainlp.corpus.thai_stopwords``), English stop words (scikit-learn's list), numbers, single
characters, web debris, and words found in more than half of the window's items; words found in
more than a tenth of them rank after the rest (they name no matter: ปัญหา, บริการ, ออนไลน์), and so
do the words of everyday Thai (more than ``GENERAL_PER_MILLION`` per million words of the Thai
National Corpus: ระบบ, อย่า, รู้จัก), which name no matter however the window's items use them.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

import numpy as np

logger = logging.getLogger(__name__)

THAI_RE = re.compile(r"[\u0E00-\u0E7F]")
LATIN_RE = re.compile(r"^[a-z][a-z0-9\-\.]*$")
TOP_ALL = 10
TOP_LANG = 8
TITLE_CHARS = 120
EXTRA_STOP = {
    "http", "https", "www", "com", "go", "th", "co", "org", "html", "php", "amp", "nbsp",
    "ที่มา", "ข่าว", "ทำเนียบรัฐบาล", "พิมพ์", "วันที่", "ได้แก่", "รวมทั้ง", "ดังกล่าว", "ทั้งนี้", "นาย", "นาง",
    "นางสาว", "โดยมี", "กล่าวว่า", "เปิดเผยว่า", "ได้รับ", "มีการ", "ในการ", "การ", "ความ",
    # generic words of Thai government press releases: they name no matter
    "เรื่อง", "จำนวน", "อันดับ", "เข้าร่วม", "ประชุม", "การประชุม", "ให้การ", "ต้อนรับ", "ประธาน", "ร่วมกับ",
    "ดำเนินการ", "ดำเนินงาน", "เกี่ยวข้อง", "หน่วยงาน", "ผู้บริหาร", "รัฐมนตรี", "รองนายกรัฐมนตรี", "นายกรัฐมนตรี",
    "กระทรวง", "ปลัดกระทรวง", "ท่าน", "พร้อมด้วย", "ณ", "ห้อง", "อาคาร", "เวลา", "น.", "พ.ศ.", "ปี", "เดือน",
    "ครั้งที่", "ที่ผ่านมา", "ต่อไป", "สำหรับ", "นอกจากนี้", "อย่างไรก็ตาม", "ข้อมูล", "ประเทศ", "ไทย",
    # dates say when, not what
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม", "สิงหาคม", "กันยายน",
    "ตุลาคม", "พฤศจิกายน", "ธันวาคม", "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.",
    "ต.ค.", "พ.ย.", "ธ.ค.", "วันจันทร์", "วันอังคาร", "วันพุธ", "วันพฤหัสบดี", "วันศุกร์", "วันเสาร์", "วันอาทิตย์",
    "จันทร์", "อังคาร", "พุธ", "พฤหัสบดี", "พฤหัส", "ศุกร์", "เสาร์",  # newmm cuts วัน + จันทร์
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
}


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """Thai (PyThaiNLP) and English (scikit-learn) stop words, plus press-release debris."""
    from pythainlp.corpus import thai_stopwords
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(thai_stopwords()) | frozenset(ENGLISH_STOP_WORDS) | frozenset(EXTRA_STOP)


@lru_cache(maxsize=1)
def thai_function_words() -> frozenset[str]:
    """PyThaiNLP's Thai stop words only (particles, conjunctions): never part of a compound."""
    from pythainlp.corpus import thai_stopwords

    return frozenset(thai_stopwords())


@lru_cache(maxsize=1)
def thai_dictionary() -> frozenset[str]:
    from pythainlp.corpus import thai_words

    return frozenset(thai_words())


def is_keyword(token: str) -> bool:
    """A word worth showing: Latin of two or more letters, or Thai with two or more consonants that is a
    dictionary word or long (newmm cuts unknown names into short pieces such as ``เส``, which are not words)."""
    if len(token) < 2 or token in stop_words():
        return False
    if THAI_RE.search(token):
        consonants = sum(1 for ch in token if "\u0e01" <= ch <= "\u0e2e")
        return consonants >= 2 and (consonants >= 4 or token in thai_dictionary())
    if " " in token:  # an English phrase the titles write as one (``thai_compounds``): prime minister
        return all(is_keyword(part) for part in token.split(" "))
    return bool(LATIN_RE.match(token)) and any(ch.isalpha() for ch in token) and len(token) >= 2


def lang_of(token: str) -> str:
    return "th" if THAI_RE.search(token) else "en"


GENERAL_PER_MILLION = 300.0  # a Thai word this frequent in everyday Thai (TNC) names no matter: 476 words


@lru_cache(maxsize=1)
def everyday_thai() -> frozenset[str]:
    """The Thai words of everyday Thai: more than ``GENERAL_PER_MILLION`` per million words of the
    Thai National Corpus (PyThaiNLP's bundled ``tnc`` word frequencies): ปัญหา, ระบบ, รัฐบาล, อย่า.
    Words of a field (ไซเบอร์, ผู้เสียหาย, ภาคี) are far rarer there."""
    from pythainlp.corpus import tnc

    freqs = tnc.word_freqs()
    total = sum(f for _, f in freqs) or 1
    return frozenset(w for w, f in freqs if THAI_RE.search(w) and f * 1e6 / total > GENERAL_PER_MILLION)


GENERIC_SHARE = 0.10  # a word found in more than this share of the window's items names no matter
GENERIC_TOP = 5  # the keywords that lead a label (and make its name)
GENERIC_MIN_DOCS = 30  # in a smaller window every shared word is "common": no demotion
OWN_SHARE = 0.5  # a common word still leads the label of the class holding this share of its items


COMPOUND_DOCS = 3  # two Thai words side by side in at least this many items …
COMPOUND_BOND = 0.6  # … making up this share of the rarer word's occurrences are one word (ข่าว+ปลอม)
COMPOUND_PART = 10  # characters: a longer part is a whole word already (a ministry's name before "(ดีอี)")
# Latin letters spelled in Thai: the pieces of acronyms (ดีอี = DE, เอไอ = AI), never part of a compound word
SPELLED_LETTERS = frozenset({
    "เอ", "บี", "ซี", "ดี", "อี", "เอฟ", "จี", "เอช", "ไอ", "เจ", "เค", "แอล", "เอ็ม", "เอ็น", "โอ", "พี", "คิว", "อาร์",
    "เอส", "ที", "ยู", "วี", "ดับเบิลยู", "เอ็กซ์", "วาย", "แซด"})


def thai_compounds(docs: Sequence[Sequence[str]], written: Sequence[str]) -> dict[tuple[str, str], float]:
    """Pairs of adjacent Thai tokens that newmm split but the text uses as one word: ข่าว + ปลอม,
    บัญชี + ม้า. A pair is a compound when it appears in ``COMPOUND_DOCS`` items or more and makes up
    ``COMPOUND_BOND`` of the occurrences of its rarer word, at least one part is a keyword, and
    neither is a Thai function word (และ, ได้), a spelled Latin letter (the อี of ดีอี, which text
    puts before "เตือน" with a space between that newmm drops) or longer than ``COMPOUND_PART``
    characters. The joined word must also be written as one somewhere in ``written`` (the items'
    titles): the tokens lost the spaces of the text, and two words a space apart are not one.
    Each compound maps to its bond (its share of the rarer word's occurrences).

    English phrases are found the same way (prime + minister, mobile + banking): two Latin keywords
    side by side, bound as tightly, that the titles write with one space between them; they are
    joined with that space."""
    words: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    pair_docs: Counter[tuple[str, str]] = Counter()
    for toks in docs:
        words.update(toks)
        here = [(a, b) for a, b in pairwise(toks) if (THAI_RE.search(a) and THAI_RE.search(b))
                or (LATIN_RE.match(a) and LATIN_RE.match(b))]
        pairs.update(here)
        pair_docs.update(set(here))
    stop, function = stop_words(), thai_function_words() | SPELLED_LETTERS
    text = "\n".join(written)
    lower = text.lower()

    def bound(a: str, b: str, n: int) -> bool:
        return pair_docs[(a, b)] >= COMPOUND_DOCS and n >= COMPOUND_BOND * min(words[a], words[b])

    def thai(a: str, b: str) -> bool:
        return (bool(THAI_RE.search(a)) and (is_keyword(a) or is_keyword(b)) and a + b not in stop
                and a not in function and b not in function and max(len(a), len(b)) <= COMPOUND_PART
                and a + b in text)

    def english(a: str, b: str) -> bool:
        return not THAI_RE.search(a) and is_keyword(a) and is_keyword(b) and f"{a} {b}" in lower

    return {(a, b): n / min(words[a], words[b]) for (a, b), n in pairs.items()
            if bound(a, b, n) and (thai(a, b) or english(a, b))}


def merge_compounds(docs: Sequence[Sequence[str]], compounds: dict[tuple[str, str], float]) -> list[list[str]]:
    """``docs`` with each compound pair joined into one token, left to right, pairs only; of two
    overlapping compounds (เตือน+ข่าว, ข่าว+ปลอม) the one with the stronger bond is joined."""
    out = []
    for toks in docs:
        merged: list[str] = []
        k = 0
        while k < len(toks):
            bond = compounds.get((toks[k], toks[k + 1])) if k + 1 < len(toks) else None
            after = compounds.get((toks[k + 1], toks[k + 2])) if k + 2 < len(toks) else None
            if bond is not None and (after is None or bond >= after):
                glue = "" if THAI_RE.search(toks[k]) else " "  # Thai compounds are one word, English phrases two
                merged.append(toks[k] + glue + toks[k + 1])
                k += 2
            else:
                merged.append(toks[k])
                k += 1
        out.append(merged)
    return out


def with_compounds(class_tokens: Sequence[Sequence[Sequence[str]]], written: Sequence[str]) -> list[list[list[str]]]:
    """Every class's token lists with the window's Thai compounds kept whole (``thai_compounds``)."""
    compounds = thai_compounds([toks for docs in class_tokens for toks in docs], written)
    return [merge_compounds(docs, compounds) for docs in class_tokens]


def document_frequency(docs: Sequence[Sequence[str]]) -> Counter[str]:
    """In how many of ``docs`` (token lists) each word appears."""
    df: Counter[str] = Counter()
    for toks in docs:
        df.update(set(toks))
    return df


def generic_words(df: Counter[str], n_docs: int, share: float = GENERIC_SHARE) -> set[str]:
    """The words of the window too common to lead a label: in more than ``share`` of its ``n_docs`` items."""
    return {t for t, d in df.items() if d > share * n_docs}


def english_generic(docs: Sequence[Sequence[str]], share: float = GENERIC_SHARE) -> set[str]:
    """Latin words too common among the window's English items to lead a label (minister, ministry,
    prime in the English releases of Thai ministries), which the window's Thai majority hides from
    ``generic_words``: in more than ``share`` of the items written mostly in Latin words, when
    there are at least ``GENERIC_MIN_DOCS`` of those."""
    english = [toks for toks in docs if 2 * sum(1 for t in toks if THAI_RE.search(t)) < len(toks)]
    if len(english) < GENERIC_MIN_DOCS:
        return set()
    return {t for t in generic_words(document_frequency(english), len(english), share) if lang_of(t) == "en"}


def generic_share(keywords: Sequence[Sequence[str]], window_tokens: Sequence[Sequence[str]],
                  written: Sequence[str] = (), top: int = GENERIC_TOP) -> tuple[int, int]:
    """(generic, all) among the first ``top`` keywords of each label in ``keywords``, where generic
    means found in more than ``GENERIC_SHARE`` of the window's items (``window_tokens``, with their
    compounds joined as ``ctfidf_keywords`` joins them, given their titles ``written``)."""
    (window,) = with_compounds([window_tokens], written)
    generic = generic_words(document_frequency(window), len(window))
    slots = [k for kws in keywords for k in kws[:top]]
    return sum(1 for k in slots if k in generic), len(slots)


def ctfidf_keywords(class_tokens: Sequence[Sequence[Sequence[str]]], max_df: float = 0.5,
                    written: Sequence[str] = ()) -> list[dict[str, list[str]]]:
    """Keywords of each class. ``class_tokens[c]`` is the list of token lists of class ``c``'s items.

    Thai compounds that newmm split are joined first (``with_compounds``: ข่าวปลอม, not ข่าว and ปลอม),
    those written as one word in ``written`` (the items' titles; none without them).
    Returns ``{"th": [...], "en": [...], "all": [...]}`` per class, best first. Words found in more
    than ``GENERIC_SHARE`` of all the items (``generic_words``) come after the others, so they never
    lead a label while a word that names the matter is there; except in the class that holds at
    least ``OWN_SHARE`` of the items a word appears in (a common word that is this class's own).
    So do the words common among the English items alone (``english_generic``). Words of everyday
    Thai (``everyday_thai``) come after the others in every class. In both parts, the words that
    name a thing (``names_a_thing``) come before the words of action (จ่าย, แน่นอน, ว่าด้วย).
    """
    class_tokens = with_compounds(class_tokens, written)
    n_docs = sum(len(docs) for docs in class_tokens)
    df: Counter[str] = Counter()
    for docs in class_tokens:
        for toks in docs:
            df.update(set(toks))
    limit = max_df * n_docs if n_docs >= 10 else float("inf")
    keep = {t for t, d in df.items() if d <= limit and is_keyword(t)}
    generic = generic_words(df, n_docs) if n_docs >= GENERIC_MIN_DOCS else set()
    generic |= english_generic([toks for docs in class_tokens for toks in docs])
    everyday = everyday_thai()
    # sparse per-class counts: memory grows with distinct words per class, not classes × vocabulary
    counts: list[Counter[str]] = []
    spread: list[Counter[str]] = []  # in how many of the class's items a word appears
    for docs in class_tokens:
        cnt: Counter[str] = Counter()
        seen: Counter[str] = Counter()
        for toks in docs:
            kept = [t for t in toks if t in keep]
            cnt.update(kept)
            seen.update(set(kept))
        counts.append(cnt)
        spread.append(seen)
    freq: Counter[str] = Counter()
    for cnt in counts:
        freq.update(cnt)
    sizes = [sum(cnt.values()) for cnt in counts]
    avg = (sum(sizes) / len(sizes)) if sizes else 0.0
    avg = avg or 1.0
    out: list[dict[str, list[str]]] = []
    for cnt, seen, size, docs in zip(counts, spread, sizes, class_tokens, strict=True):
        scored = []
        for t, v in cnt.items():
            # a word from a single item (a name in one release) does not label a signal of three or more items
            if len(docs) >= 3 and seen[t] < 2:
                continue
            scored.append((-(v / max(size, 1)) * math.log(1.0 + avg / freq[t]), t))
        ranked = [t for _, t in sorted(scored)]  # best first; ties by word
        # Generic words of the window follow the words that name the matter, unless the class holds
        # most of their items (ข่าวปลอม in a week full of fake news is the fake-news signal's word);
        # so do the words of everyday Thai, always.
        common = {t for t in ranked if (t in generic and seen[t] < OWN_SHARE * df[t]) or t in everyday}
        # and within each part, the words that name a thing before the words of action
        ranked = (_things_first([t for t in ranked if t not in common])
                  + _things_first([t for t in ranked if t in common]))
        out.append({
            "th": [t for t in ranked if lang_of(t) == "th"][:TOP_LANG],
            "en": [t for t in ranked if lang_of(t) == "en"][:TOP_LANG],
            "all": ranked[:TOP_ALL],
        })
    return out


def _things_first(words: list[str], enough: int = max(TOP_ALL, TOP_LANG)) -> list[str]:
    """``words`` with those that name a thing (``names_a_thing``) before the words of action, each in
    their order, as far as a label shows them: the scan stops once ``enough`` Thai words that name a
    thing are found, since nothing after them can reach the first ``enough`` places, nor those of the
    Thai or English words alone; the rest follow in their order. (Tagging costs ~0.3 ms a word, and a
    large window's classes rank tens of thousands of words.)"""
    things: list[str] = []
    actions: list[str] = []
    found = 0
    for k, word in enumerate(words):
        if found >= enough:
            return things + words[k:] + actions
        if names_a_thing(word):
            things.append(word)
            found += lang_of(word) == "th"
        else:
            actions.append(word)
    return things + actions


def central_title(titles: Sequence[str], vectors: np.ndarray, mean: np.ndarray) -> str:
    """Title of the member closest to the signal's centroid, shortened to about ``TITLE_CHARS``."""
    return next(iter(central_titles(titles, vectors, mean, 1)), "")


def central_titles(titles: Sequence[str], vectors: np.ndarray, mean: np.ndarray, n: int) -> list[str]:
    """The titles of the ``n`` members closest to the centroid, closest first (ties in member order),
    each shortened to about ``TITLE_CHARS``."""
    if not len(titles):
        return []
    order = np.argsort(-(vectors @ mean), kind="stable")[:n]
    return [shorten(titles[int(k)]) for k in order]


NAME_CHARS = 60
NAME_TERMS = 3
# ORCHID's most common tags of the words a name is made of (universal tags): things, bodies, places; ""
# is a word the corpus never saw, which is mostly a new name or compound (ข่าวปลอม, มิจฉาชีพ, บีโอไอ)
NAME_TAGS = frozenset({"NOUN", "PROPN", ""})


@lru_cache(maxsize=65536)
def names_a_thing(word: str) -> bool:
    """Whether a keyword can lead a name: any Latin word, and a Thai word that the ORCHID corpus mostly
    tags as a noun (or never saw), by PyThaiNLP's bundled unigram tagger. Words ORCHID mostly uses as a
    verb, adjective, adverb or conjunction (จ่าย, แน่นอน, ร่วม, ว่าด้วย) say what is done, not what about."""
    if lang_of(word) != "th":
        return True
    from pythainlp.tag import pos_tag

    return pos_tag([word], engine="unigram", corpus="orchid_ud")[0][1] in NAME_TAGS


def signal_name(keywords: Sequence[str], titles: Sequence[str], limit: int = NAME_CHARS) -> str:
    """A short name of at most ``limit`` characters from a signal's best keywords, joined by `` · ``.

    Names and acronyms lead: a Latin keyword written in capitals or mixed case in the members'
    titles (AFNC, ThaID, TikTok) is shown as written there and put first; the other keywords keep
    their order (``ctfidf_keywords``: words that name a thing, then words of action, then common
    words). A two-letter Latin keyword that no title writes in capitals is left out.
    Empty when there are no keywords (the caller then falls back to the example).
    """
    written: dict[str, str] = {}
    for title in titles:
        for word in re.findall(r"[A-Za-z][A-Za-z0-9\-\.]*", title):
            if word.lower() not in written and word != word.lower():
                written[word.lower()] = word
    for k in keywords:  # an English phrase as the titles write it: Prime Minister
        if " " in k and k not in written:
            found = next((m.group(0) for t in titles if (m := re.search(re.escape(k), t, re.IGNORECASE))), None)
            if found is not None and found != found.lower():
                written[k] = found
    named = [written[k] for k in keywords if k in written and written[k][1:] != written[k][1:].lower()]
    # a two-letter Latin word names nothing unless the titles write it in capitals (AI, EU; not cc)
    plain = [k for k in keywords if not (lang_of(k) == "en" and len(k) <= 2 and k not in written)]
    terms = named + [written.get(k, k) for k in plain if written.get(k, k) not in named]
    name = ""
    for term in terms[:NAME_TERMS]:
        candidate = f"{name} · {term}" if name else term
        if len(candidate) > limit:
            break
        name = candidate
    return name or (shorten(terms[0], limit) if terms else "")


def name_and_example(keywords: dict[str, list[str]], titles: Sequence[str], vectors: np.ndarray,
                     mean: np.ndarray) -> tuple[str, str]:
    """A signal's (or trend's) name and example headline: the most central member's title is the
    example, and the name is made of the keyphrases (``signal_name``), else the example shortened."""
    example = central_title(titles, vectors, mean)
    return signal_name(keywords.get("all", []), titles) or shorten(example, NAME_CHARS), example


def shorten(title: str, limit: int = TITLE_CHARS) -> str:
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    cut = title[:limit]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" -–—:,;") + "…"


def majority_topics(member_topics: Sequence[Sequence[str]]) -> list[str]:
    """Topics carried by at least half of the members (at least the most common one)."""
    if not member_topics:
        return []
    counts: Counter[str] = Counter()
    for topics in member_topics:
        counts.update(set(topics))
    if not counts:
        return []
    half = math.ceil(len(member_topics) / 2)
    chosen = sorted((t for t, c in counts.items() if c >= half), key=lambda t: (-counts[t], t))
    return chosen or [min(counts, key=lambda t: (-counts[t], t))]


__all__ = ["central_title", "central_titles", "ctfidf_keywords", "majority_topics", "name_and_example", "signal_name",
           "stop_words"]
