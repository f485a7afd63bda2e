"""Text and identity: canonical URLs, content hashes, HTML to text, language, Thai tokens."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = {
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid",
    "_ga", "_gl", "ref_src", "ref_url", "cmpid", "ocid", "spm",
}
THAI_RE = re.compile(r"[\u0E00-\u0E7F]")
LATIN_RE = re.compile(r"[A-Za-z]")
TAG_RE = re.compile(r"<[^>]+>")
WS_RE = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")
PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~“”‘’«»…–—•·"
THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def http_url(url: str | None) -> str | None:
    """``url`` without surrounding spaces if it is an absolute http(s) URL with a host, else ``None``.

    The one check for "a link we may store, fetch or print": no ``javascript:``, ``data:``,
    ``mailto:``, relative or schemeless links, no control characters, no space in the host, no bad
    port. A space in the path or query is kept (sites do link ``/news/ข่าว 123.html``; the HTTP
    client encodes it, and stored keys stay as they were).
    """
    if not url:
        return None
    url = url.strip()
    if CONTROL_RE.search(url):
        return None
    try:
        parts = urlsplit(url)
        if " " in parts.netloc:
            return None
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number in range
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def canonical_url(url: str | None) -> str | None:
    """Lower-case scheme and host, drop default ports, fragments and tracking parameters.

    Returns ``None`` for anything that is not an absolute http(s) URL (``http_url``).
    """
    checked = http_url(url)
    if checked is None:
        return None
    parts = urlsplit(checked)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS
    ]
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, urlencode(query, doseq=True), ""))


def html_to_text(value: str | None) -> str:
    """Plain text from an HTML fragment (feed summaries): tags removed, entities decoded, spaces folded."""
    if not value:
        return ""
    if "<" in value and ">" in value:
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(value, "lxml")
        for bad in soup(["script", "style", "noscript"]):
            bad.decompose()
        for br in soup.find_all(["br", "p", "div", "li", "h1", "h2", "h3", "h4", "tr"]):
            br.insert_after("\n")
        value = soup.get_text()
    return clean_text(html.unescape(value))


def clean_text(value: str | None) -> str:
    """NFC, no control characters, spaces folded, at most one blank line."""
    if not value:
        return ""
    value = unicodedata.normalize("NFC", value)
    value = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    lines = [WS_RE.sub(" ", line).strip() for line in value.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def content_hash(title: str, text: str) -> str:
    """sha256 of the normalised title and text; the same story under another URL hashes the same."""
    norm = WS_RE.sub(" ", f"{title}\n{text}".casefold()).strip()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def detect_lang(text: str, hint: str | None = None) -> str:
    """``th`` or ``en`` by script: Thai letters among letters. ``hint`` (th/en) wins when given."""
    if hint in ("th", "en"):
        return hint
    sample = text[:4000]
    thai = len(THAI_RE.findall(sample))
    latin = len(LATIN_RE.findall(sample))
    if thai == 0 and latin == 0:
        return "th"
    return "th" if thai >= 0.2 * (thai + latin) else "en"


@lru_cache(maxsize=1)
def _thai_tokenizer():  # type: ignore[no-untyped-def]
    from pythainlp.tokenize import word_tokenize

    return word_tokenize


def tokenize(text: str) -> list[str]:
    """Words of Thai (PyThaiNLP newmm) and other scripts; never splits Thai on whitespace.

    Punctuation and spaces are dropped; Thai digits become ASCII digits; Latin words are lower-cased.
    """
    if not text:
        return []
    text = text.translate(THAI_DIGITS)
    word_tokenize = _thai_tokenizer()
    tokens = word_tokenize(text, engine="newmm", keep_whitespace=False)
    out = []
    for tok in tokens:
        tok = tok.strip().strip(PUNCT)
        if not tok or not any(ch.isalnum() or THAI_RE.match(ch) for ch in tok):
            continue
        out.append(tok.lower())
    return out


@lru_cache(maxsize=1)
def _thai_words() -> frozenset[str]:
    from pythainlp.corpus import thai_words

    return frozenset(w for w in thai_words() if len(w) >= 3)


def _subwords(token: str, words: frozenset[str]) -> list[str]:
    """Dictionary words inside a long Thai compound token (``อาชญากรรมไซเบอร์`` → ``อาชญากรรม``,
    ``ไซเบอร์`` …), in order of position, so a search for a part finds the whole."""
    found = []
    n = len(token)
    for i in range(n):
        if not THAI_RE.match(token[i]):
            continue
        for j in range(min(n, i + 20), i + 2, -1):
            piece = token[i:j]
            if piece != token and piece in words:
                found.append(piece)
    return found


def search_tokens(text: str, tokens: list[str] | None = None) -> list[str]:
    """Tokens for the full-text index: the newmm tokens (pass them if already computed), then the
    dictionary words inside long Thai compounds. The extra words go at the end so they never sit
    between two words of a phrase."""
    words = _thai_words()
    base = tokenize(text) if tokens is None else tokens
    extra: list[str] = []
    for tok in base:
        if len(tok) >= 6 and THAI_RE.match(tok[0]):
            extra.extend(_subwords(tok, words))
    return base + extra


def join_tokens(title: Sequence[str], body: Sequence[str]) -> str:
    """How ``items.tokens`` stores an item's tokens: the title's, a newline, the body's (each space-joined).
    Splitting them again on whitespace only undoes the join: Thai text itself is never split so."""
    return " ".join(title) + "\n" + " ".join(body)


def split_tokens(stored: str | None) -> tuple[list[str], list[str]]:
    """``items.tokens`` back into (title tokens, body tokens)."""
    title, _, body = (stored or "").partition("\n")
    return title.split(), body.split()


def fts_query(query: str) -> str:
    """An FTS5 MATCH expression for a user's search. Every space-separated part must match; a part
    that is several words (a Thai run such as ``รัฐบาลดิจิทัล``) matches those words close together."""
    parts = []
    for chunk in query.split():
        toks = ['"' + t.replace('"', '""') + '"' for t in tokenize(chunk)]
        if len(toks) == 1:
            parts.append(toks[0])
        elif toks:
            parts.append(f"NEAR({' '.join(toks)}, 4)")
    return " AND ".join(parts)
