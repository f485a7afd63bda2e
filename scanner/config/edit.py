"""Adding ``rss`` sources to ``sources.yaml`` without disturbing what is there.

- ids are slugs of the titles (Thai romanised with PyThaiNLP's Royal Institute rules), made unique
  with ``-2``, ``-3``…;
- a feed already in the file is found by its canonical URL (``feed_key``: also without the trailing
  slash and whatever the scheme);
- the file is edited round-trip with ruamel.yaml: comments, blank lines, quoting and order stay as
  they were, and the new entries are appended to ``sources:``, each with a comment above it;
- the result is validated exactly as ``scanner sources check`` does before anything is written, and
  written atomically (a temporary file in the same folder, then a rename).
"""

from __future__ import annotations

import io
import os
import re
import stat
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RuamelYAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from scanner.config.load import parse_config
from scanner.config.models import Config
from scanner.errors import ConfigError
from scanner.normalize import THAI_RE, canonical_url, scrub_line

ID_CHARS = 40  # an id made from a title stays short enough to type; SLUG_RE allows 64
MAX_ID = 64
# (mapping indent, sequence indent, dash offset) tried in turn until ruamel.yaml writes the file
# back byte for byte; the first is what `make demo` and the bundled sources.yaml use.
LAYOUTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (4, 2, 0), (3, 5, 3), (3, 3, 0))
STR_TAG = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class NewSource:
    """An ``rss`` entry to add, and the comment written above it."""

    id: str
    url: str
    name: str = ""
    language: str = "auto"
    tags: tuple[str, ...] = ()
    comment: str = ""

    def fields(self) -> dict[str, Any]:
        """The entry's fields in the order a person writes them."""
        out: dict[str, Any] = {"id": self.id}
        if self.name:
            out["name"] = self.name
        out.update({"kind": "rss", "url": self.url, "language": self.language})
        if self.tags:
            out["tags"] = list(self.tags)
        return out


@dataclass(frozen=True)
class Edit:
    """The new text of a sources file. ``layout_kept``: every byte outside the new entries is as it was
    (False only for a layout ruamel.yaml cannot reproduce; comments and order are kept even then)."""

    text: str
    layout_kept: bool


# ---------------------------------------------------------------------------------------- identity
def feed_key(url: str | None) -> str | None:
    """What makes two feed addresses the same feed: the canonical URL (``normalize.canonical_url``:
    tracking parameters, fragment, default port and case dropped) without a trailing slash, and
    whatever the scheme (feed readers often keep the ``http://`` a site has since left)."""
    canonical = canonical_url(url)
    if canonical is None:
        return None
    parts = urlsplit(canonical)
    return urlunsplit(("", parts.netloc, parts.path.rstrip("/") or "/", parts.query, ""))


def known_feeds(config: Config) -> dict[str, str]:
    """``feed_key`` → id of every source in ``config`` that reads from a URL."""
    known: dict[str, str] = {}
    for source in config.sources:
        urls = getattr(source, "url", None)
        for url in urls if isinstance(urls, list) else [urls]:
            key = feed_key(url)
            if key is not None:
                known.setdefault(key, source.id)
    return known


def slug(text: str) -> str:
    """A lower-case ASCII slug of at most ``ID_CHARS`` characters, cut between words; Thai words are
    romanised (``ข่าวประชาสัมพันธ์`` → ``khao-prachasamphan``). Empty when nothing is left."""
    if THAI_RE.search(text):
        text = _romanize(text)
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    out = ""
    for word in re.split(r"[^a-z0-9]+", plain):
        if not word:
            continue
        longer = f"{out}-{word}" if out else word[:ID_CHARS]
        if len(longer) > ID_CHARS:
            break
        out = longer
    return out


def _romanize(text: str) -> str:
    from pythainlp.tokenize import word_tokenize
    from pythainlp.transliterate import romanize

    words = word_tokenize(text, engine="newmm", keep_whitespace=False)
    return " ".join(romanize(w, engine="royin") if THAI_RE.search(w) else w for w in words)


def host_slug(url: str) -> str:
    """``https://www.dga.or.th/feed`` → ``dga-or-th``."""
    host = (urlsplit(url).hostname or "").lower()
    return slug(host.removeprefix("www."))


def make_id(title: str, url: str, taken: Iterable[str]) -> str:
    """An id for a feed: the slug of its title (else of its host), unique among ``taken``."""
    base = slug(title) or host_slug(url) or "feed"
    used = set(taken)
    if base not in used:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: MAX_ID - len(suffix)].rstrip("-_") + suffix
        if candidate not in used:
            return candidate
        n += 1


def make_tag(text: str) -> str:
    """A folder or category name as a tag in the file's style: ``Thai Gov`` → ``thai-gov`` (Thai stays Thai)."""
    words = (scrub_line(text) or "").replace(",", " ").strip(" /").lower().split()
    return "-".join(words)[:MAX_ID].strip("-")


# ---------------------------------------------------------------------------------------- editing
def _yaml(layout: tuple[int, int, int]) -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 1_000_000  # never fold a long URL or title onto a second line
    y.indent(mapping=layout[0], sequence=layout[1], offset=layout[2])
    return y


def _dump(y: YAML, doc: Any) -> str:
    out = io.StringIO()
    y.dump(doc, out)
    return out.getvalue()


def _round_trip(text: str) -> tuple[YAML, Any, bool]:
    """The document, with the first layout that writes ``text`` back unchanged (else the default)."""
    for layout in LAYOUTS:
        y = _yaml(layout)
        doc = y.load(text)
        if _dump(y, doc) == text:
            return y, doc, True
    y = _yaml(LAYOUTS[0])
    return y, y.load(text), False


def _scalar(value: str) -> str:
    """``value`` quoted when PyYAML, which reads the file, would not take it as a string: ruamel.yaml
    follows YAML 1.2, where ``yes``, ``on`` and ``1:20`` are plain text, and PyYAML YAML 1.1."""
    resolved = yaml.resolver.Resolver().resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return value if value and resolved == STR_TAG else DoubleQuotedScalarString(value)


def _entry(source: NewSource) -> CommentedMap:
    entry = CommentedMap()
    for key, value in source.fields().items():
        if isinstance(value, list):
            seq = CommentedSeq([_scalar(v) for v in value])
            seq.fa.set_flow_style()
            entry[key] = seq
        else:
            entry[key] = _scalar(value)
    return entry


def add_sources(text: str, new: Sequence[NewSource], heading: str = "") -> Edit:
    """``text`` (a sources file) with ``new`` appended to its ``sources:`` list, and a ``heading``
    comment above the first of them. Nothing else changes."""
    newline = "\r\n" if "\r\n" in text else "\n"
    body = text.replace("\r\n", "\n")
    if body and not body.endswith("\n"):
        body += "\n"
    try:
        y, doc, kept = _round_trip(body or "sources:\n")
    except RuamelYAMLError as e:  # rare: PyYAML accepted the file, ruamel.yaml does not
        raise ConfigError([f"the file cannot be edited round-trip: {str(e)[:300]}; add the entries by hand"]) from None
    if doc is None:
        doc = CommentedMap()
    sources = doc.get("sources")
    if not isinstance(sources, CommentedSeq):
        sources = CommentedSeq()
        doc["sources"] = sources
    sources.fa.set_block_style()
    indent = y.sequence_dash_offset
    for i, source in enumerate(new):
        sources.append(_entry(source))
        lines = [heading] if i == 0 and heading else []
        lines += [source.comment] if source.comment else []
        if lines:
            sources.yaml_set_comment_before_after_key(len(sources) - 1, before="\n" + "\n".join(lines),
                                                      indent=indent)
    out = _dump(y, doc)
    return Edit(out.replace("\n", newline) if newline != "\n" else out, kept)


def render_source(source: NewSource) -> str:
    """One entry as text ready to paste under ``sources:`` (with its comment)."""
    text = add_sources("sources:\n", [source]).text
    return text.split("\n", 1)[1].strip("\n")


def check_edit(text: str, path: Path) -> Config:
    """Validate the new text as ``scanner sources check`` would; a problem is a ``ConfigError`` that
    says the file was not changed."""
    try:
        return parse_config(text, path)
    except ConfigError as e:
        raise ConfigError([*e.problems, f"{path}: not changed: the new entries would make it invalid "
                                        "(the problems above are in the file as it would have been)"]) from None


def read_sources_text(path: Path) -> tuple[str, bool]:
    """The text of a sources file and whether it starts with a UTF-8 byte-order mark (kept on writing)."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig"), raw.startswith(b"\xef\xbb\xbf")
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: the file is not UTF-8: save it as UTF-8 (Thai text needs it)"]) from None


def write_atomically(path: Path, text: str, bom: bool = False) -> None:
    """Replace ``path`` (through a symlink, its target) with ``text`` in one rename: a reader sees the
    old file or the new one, never half of it. The file keeps its permissions."""
    target = path.resolve()
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if target.exists():
            os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
