from __future__ import annotations

import pytest

from scanner.normalize import (
    canonical_url,
    clean_text,
    content_hash,
    detect_lang,
    fts_query,
    html_to_text,
    http_url,
    search_tokens,
    tokenize,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://WWW.ThaiGov.go.th/news/contents/details/87649?utm_source=fb&utm_medium=x#top",
         "https://www.thaigov.go.th/news/contents/details/87649"),
        ("http://example.org:80/a?b=1&fbclid=XYZ&gclid=1", "http://example.org/a?b=1"),
        ("https://example.org:8443/a", "https://example.org:8443/a"),
        ("https://example.org", "https://example.org/"),
        ("javascript:alert(1)", None),
        ("ftp://example.org/x", None),
        ("/relative/path", None),
        ("", None),
    ],
)
def test_canonical_url(url: str, expected: str | None) -> None:
    assert canonical_url(url) == expected


def test_tokenize_thai_uses_newmm_not_whitespace() -> None:
    tokens = tokenize("รัฐบาลดิจิทัลเปิดให้บริการ ThaID บนแอปทางรัฐ ปี ๒๕๖๗")
    assert tokens[:3] == ["รัฐบาล", "ดิจิทัล", "เปิด"] or tokens[:2] == ["รัฐบาล", "ดิจิทัล"]
    assert "thaid" in tokens and "2567" in tokens  # Latin lower-cased, Thai digits → ASCII
    assert "รัฐบาลดิจิทัลเปิดให้บริการ" not in tokens


def test_fts_query_splits_a_thai_run_into_near_words() -> None:
    assert fts_query("รัฐบาลดิจิทัล") == 'NEAR("รัฐบาล" "ดิจิทัล", 4)'
    assert fts_query('ThaID "x"') == '"thaid" AND "x"'


def test_content_hash_ignores_case_and_spacing_only() -> None:
    assert content_hash("Title", "Body  text") == content_hash("title", "body text")
    assert content_hash("Title", "Body text") != content_hash("Title", "Body texts")


def test_html_to_text_and_clean_text() -> None:
    assert html_to_text("<p>สวัสดี&nbsp;<b>ครับ</b></p><script>alert(1)</script><p>บรรทัดสอง</p>") == (
        "สวัสดี ครับ\nบรรทัดสอง"
    )
    assert clean_text("a\x00b\u200b  c\n\n\n\nd") == "ab c\n\nd"


def test_detect_lang() -> None:
    assert detect_lang("กระทรวงดิจิทัลเพื่อเศรษฐกิจและสังคม (ดีอี) เตือน scam") == "th"
    assert detect_lang("The cabinet approved the Digital ID bill") == "en"
    assert detect_lang("The cabinet approved", hint="th") == "th"


def test_search_tokens_add_words_inside_compounds() -> None:
    tokens = search_tokens("ปราบปรามอาชญากรรมไซเบอร์")
    assert "อาชญากรรมไซเบอร์" in tokens and "ไซเบอร์" in tokens and "อาชญากรรม" in tokens
    assert tokenize("ปราบปรามอาชญากรรมไซเบอร์") == ["ปราบปราม", "อาชญากรรมไซเบอร์"]


@pytest.mark.parametrize(("url", "ok"), [
    ("https://www.thaigov.go.th/news/1", True), ("http://a.b/c?d=1#e", True), ("HTTPS://X.ORG", True),
    ("javascript:alert(1)", False), (" javascript:alert(1)", False), ("data:text/html,hi", False),
    ("ftp://x.org/a", False), ("//evil.org/x", False), ("https://", False), ("https://a.b/\nx", False),
    ("vbscript:x", False), (None, False), ("", False), ("http://a.org:99999/", False),
    ("https://a b.org/", False), (" https://a.org/x ", True), ("mailto:lab@example.org", False),
    ("https://www.example.go.th/news/ข่าว 123.html?q=a b", True), ("https://a.org/\tx", False),
])
def test_http_url_allows_only_http_links(url: str | None, ok: bool) -> None:
    assert (http_url(url) is not None) is ok


def test_a_space_in_the_path_or_query_is_kept_and_keys_stay_as_they_were() -> None:
    assert http_url("https://www.example.go.th/news/ข่าว 123.html?q=a b") == \
        "https://www.example.go.th/news/ข่าว 123.html?q=a b"
    assert canonical_url("https://www.example.go.th/news/ข่าว 123.html?q=a b") == \
        "https://www.example.go.th/news/ข่าว 123.html?q=a+b"
