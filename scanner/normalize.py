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


CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # control characters and lone surrogates
SCRUB_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
MAX_DEPTH = 20  # nesting kept of a JSON value a source brings (``extra`` fields)


def scrub(value: str) -> str:
    """``value`` safe to store and print: no lone surrogates (SQLite and UTF-8 cannot hold them), no
    control characters except newline and tab. Everything else is kept as it was."""
    return SCRUB_RE.sub("", value)


def scrub_line(value: str | None) -> str | None:
    """A one-line field (guid, author, URL): ``scrub``, whitespace folded, ``None`` when empty."""
    if value is None:
        return None
    value = WS_RE.sub(" ", scrub(str(value)).replace("\n", " ").replace("\t", " ")).strip()
    return value or None


def scrub_json(value: object, depth: int = 0) -> object:
    """A JSON-able copy of ``value`` with every string (keys too) scrubbed; nesting deeper than
    ``MAX_DEPTH`` and values that are not JSON (objects, NaN) become their cleaned text."""
    if isinstance(value, str):
        return scrub(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if depth >= MAX_DEPTH:
        return scrub(str(value))[:1000]
    if isinstance(value, dict):
        return {scrub(str(k)): scrub_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub_json(v, depth + 1) for v in value]
    return scrub(str(value))


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
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
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


# Second-level labels under a country code that are registries, not sites (go.th, co.uk, com.au …).
REGISTRY_LABELS = frozenset({"ac", "co", "go", "in", "mi", "or", "net", "com", "org", "gov", "edu", "nic", "gob",
                             "gouv", "govt", "ne", "lg", "ed"})
# Hosting domains whose every subdomain is someone else's site.
SHARED_HOSTS = frozenset({"github.io", "gitlab.io", "blogspot.com", "wordpress.com", "medium.com", "substack.com",
                          "netlify.app", "vercel.app", "pages.dev", "web.app", "firebaseapp.com", "appspot.com",
                          "herokuapp.com", "azurewebsites.net", "cloudfront.net", "s3.amazonaws.com"})


def site_of(url: str | None) -> str:
    """The site a URL belongs to: its registrable domain (``www.dga.or.th`` → ``dga.or.th``,
    ``news.example.com`` → ``example.com``), or the address itself for an IP. Empty if no host."""
    try:
        host = (urlsplit(url or "").hostname or "").rstrip(".").lower()
    except ValueError:
        return ""
    if not host or ":" in host or host.replace(".", "").isdigit():
        return host
    labels = host.split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in REGISTRY_LABELS else 2
    if ".".join(labels[-keep:]) in SHARED_HOSTS or ".".join(labels[-3:]) in SHARED_HOSTS:
        keep += 1 if ".".join(labels[-keep:]) in SHARED_HOSTS else 2
    return ".".join(labels[-keep:])


def same_site(url: str | None, other: str | None) -> bool:
    """``url`` and ``other`` are on one site (``site_of``): how full text and next pages stay home."""
    site = site_of(url)
    return bool(site) and site == site_of(other)


BLOCK_TAGS = frozenset({"br", "p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "ul", "ol",
                        "blockquote", "section", "article", "pre", "dd", "dt", "hr"})
HIDDEN_TAGS = frozenset({"script", "style", "noscript", "template"})


def markup_chars(cap: int) -> int:
    """How much of a raw field to read for ``cap`` characters of text (tags and entities take room too)."""
    return cap * 4 + 4096


def capped_text(value: str, cap: int) -> str:
    """``clean_text`` of at most ``markup_chars(cap)`` characters of ``value``, cut to ``cap``: a
    hostile field costs its cap, never its length."""
    return clean_text(value[:markup_chars(cap)])[:cap]


def html_to_text(value: str | None, cap: int | None = None) -> str:
    """Plain text from an HTML fragment (feed summaries): tags removed, entities decoded, spaces folded.

    Linear in the input: one lxml parse and one walk over its elements (a line break after each
    block element); libxml2 stops nesting at 256 levels. With ``cap``, at most ``markup_chars(cap)``
    characters of markup are read and at most ``cap`` characters of text returned.
    """
    if not value:
        return ""
    if cap is not None:
        value = value[:markup_chars(cap)]
    value = scrub(value)
    if "<" in value and ">" in value:
        value = _markup_text(value)
    text = clean_text(html.unescape(value))
    return text[:cap] if cap is not None else text


def _markup_text(markup: str) -> str:
    from lxml import etree

    parser = etree.HTMLParser(recover=True, no_network=True, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(markup, parser)
    except (etree.ParserError, ValueError):
        return TAG_RE.sub(" ", markup)
    if root is None:
        return TAG_RE.sub(" ", markup)
    parts: list[str] = []
    hidden = 0
    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in HIDDEN_TAGS:
                hidden += 1
            elif not hidden and tag and el.text:
                parts.append(el.text)
        else:
            if tag in HIDDEN_TAGS:
                hidden -= 1
            if tag in BLOCK_TAGS:
                parts.append("\n")
            if not hidden and el.tail:
                parts.append(el.tail)
    return "".join(parts)


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
    """``th``, ``en`` or ``und`` (undetermined) by script. ``hint`` (th/en) wins when given.

    Thai when Thai letters are at least a fifth of the Thai and Latin letters, else English; ``und``
    when there are neither, or when letters of other scripts (Amharic, Georgian, Hebrew, Mongolian …)
    outnumber them two to one."""
    if hint in ("th", "en"):
        return hint
    sample = text[:4000]
    thai = len(THAI_RE.findall(sample))
    latin = len(LATIN_RE.findall(sample))
    known = thai + latin
    other = sum(1 for ch in sample if ch.isalpha()) - known
    if known == 0 or other > 2 * known:
        return "und"
    return "th" if thai >= 0.2 * known else "en"


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
    text = scrub(text).translate(THAI_DIGITS)
    word_tokenize = _thai_tokenizer()
    tokens = word_tokenize(text, engine="newmm", keep_whitespace=False)
    out = []
    for token in tokens:
        for tok in token.split():  # a token never holds a space (even U+00A0 after punctuation)
            tok = tok.strip(PUNCT)
            if tok and any(ch.isalnum() or THAI_RE.match(ch) for ch in tok):
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
