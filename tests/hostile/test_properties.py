"""Property-based tests for the parsers that take strangers' text: arbitrary Unicode, surrogates
and control characters included. No crash, and the output invariants hold."""

from __future__ import annotations

from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.config.load import parse_config
from scanner.dates import parse_date
from scanner.errors import ConfigError
from scanner.models import RawItem
from scanner.normalize import SCRUB_RE, canonical_url, html_to_text, http_url, tokenize
from scanner.prepare import prepare_item

# Every code point, lone surrogates and controls included, leaning towards Thai and markup.
ANY = st.text(st.characters(codec=None, categories=None), max_size=300)
THAI = st.text(st.characters(min_codepoint=0x0E00, max_codepoint=0x0E7F), max_size=80)
MARKUP = st.lists(st.sampled_from(["<p>", "</p>", "<div>", "<br>", "<script>", "</script>", "&amp;", "&lt;",
                                   "<!--", "-->", "<b x='", "'>", "\ud800", "\x00", "ข่าว", " ", "\n", "&#0;"]),
                  max_size=60).map("".join)
TEXT = st.one_of(ANY, THAI, MARKUP, st.tuples(THAI, MARKUP, ANY).map("".join))
URLISH = st.tuples(st.sampled_from(["http://", "https://", "HTTP://", "javascript:", "", "//", "ftp://"]),
                   st.sampled_from(["example.org", "ข่าว.ไทย", "127.0.0.1:80", "[::1]", "a b", "x:99999", ""]),
                   st.text(max_size=40)).map("".join)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def clean(value: str) -> bool:
    value.encode("utf-8")  # raises on a lone surrogate
    return SCRUB_RE.search(value) is None


@FAST
@given(TEXT)
def test_html_to_text(value: str) -> None:
    out = html_to_text(value)
    assert clean(out) and "\n\n\n" not in out and out == out.strip()
    assert len(html_to_text(value, 50)) <= 50


@FAST
@given(st.one_of(URLISH, ANY))
def test_canonical_url(value: str) -> None:
    out = canonical_url(value)
    if out is not None:
        assert clean(out) and out.startswith(("http://", "https://")) and http_url(out) == out
        assert canonical_url(out) == out  # canonical is a fixed point


@FAST
@given(TEXT)
def test_tokenize(value: str) -> None:
    tokens = tokenize(value)
    for tok in tokens:
        assert tok and not any(ch.isspace() for ch in tok)
        tok.encode("utf-8")


@FAST
@given(st.one_of(TEXT, st.tuples(st.integers(-5000, 9999), st.sampled_from(["-", "/", " "]), THAI).map(
    lambda t: f"{t[0]}{t[1]}{t[2]}")))
def test_parse_date(value: str) -> None:
    out = parse_date(value, tz="Asia/Bangkok")
    assert out is None or (isinstance(out, datetime) and out.tzinfo is not None)


@FAST
@given(TEXT, TEXT, st.one_of(st.none(), URLISH), st.one_of(st.none(), ANY), st.dictionaries(ANY, TEXT, max_size=3))
def test_prepare_item(title: str, body: str, url: str | None, guid: str | None, extra: dict[str, str]) -> None:
    item = prepare_item(RawItem(url=url, title=title, content=body, guid=guid, author=guid, extra=dict(extra)), "s")
    if item is None:
        return
    for value in (item.title, item.summary, item.content, item.url or "", item.guid or "", item.author or "",
                  item.extra, item.tokens or ""):
        value.encode("utf-8")
    assert "\n" not in item.title and item.lang in ("th", "en", "und")


@FAST
@given(st.one_of(ANY, st.tuples(st.just("sources:\n  - "), ANY).map("".join),
                 st.tuples(st.just("settings:\n  "), ANY, st.just("\nsources: []\n")).map("".join)))
def test_config_loading_never_crashes(text: str) -> None:
    try:
        parse_config(text)
    except ConfigError as e:
        assert e.problems and all(p.startswith("sources.yaml:") for p in e.problems)
