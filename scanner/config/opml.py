"""Feed lists in and out of ``sources.yaml`` the way feed readers share them: OPML.

``import_opml`` appends the feeds of an OPML file (Feedly, Inoreader, NetNewsWire, Thunderbird …)
as ``rss`` sources; ``export_opml`` writes the ``rss`` sources as OPML 2.0 for a feed reader.
Folders (nested outlines) and ``category`` attributes become tags; the site's address
(``htmlUrl``) is kept in the comment above the entry, where the export finds it again.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml
from lxml import etree

from scanner.config.edit import (
    NewSource,
    add_sources,
    check_edit,
    feed_key,
    known_feeds,
    make_id,
    make_tag,
    read_sources_text,
    write_atomically,
)
from scanner.config.load import load_config
from scanner.config.models import Config, RssSource
from scanner.errors import UsageError
from scanner.normalize import TRACKING_PARAMS, canonical_url, http_url, scrub, scrub_line

logger = logging.getLogger(__name__)

MAX_OPML_BYTES = 10_000_000  # a reader's export of 10,000 feeds is about 2 MB
SITE_RE = re.compile(r"\bsite: (https?://\S+)")


@dataclass(frozen=True)
class OpmlFeed:
    """One ``<outline xmlUrl=…>``: the feed, its title (``title``, else ``text``), the site
    (``htmlUrl``), and the folders it sits in (enclosing outlines, then its ``category`` parts)."""

    url: str
    title: str = ""
    site: str | None = None
    language: str | None = None
    folders: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class SkippedFeed:
    url: str
    title: str
    reason: str


@dataclass
class ImportReport:
    """What ``import_opml`` did: the sources added (or that would be, with ``dry_run``) and the
    feeds left out, each with its reason."""

    config_path: Path
    opml_path: Path
    added: list[NewSource] = field(default_factory=list)
    skipped: list[SkippedFeed] = field(default_factory=list)
    written: bool = False
    layout_kept: bool = True
    diff: str = ""


# ---------------------------------------------------------------------------------------- reading
def parse_opml(data: bytes, name: str = "feeds.opml") -> list[OpmlFeed]:
    """The feeds of an OPML document, in document order. Raises ``UsageError`` naming ``name`` (and
    the line) when it is not OPML. No DTD, entity or network access: a file from anywhere is safe."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        line = e.position[0] if e.position else 1
        raise UsageError(f"{name}:{line}: not a valid OPML file: {e.msg}. Export the subscriptions from the "
                         "feed reader again (as OPML), or fix the XML; nothing was imported") from None
    if root is None or not isinstance(root.tag, str) or etree.QName(root).localname.lower() != "opml":
        got = etree.QName(root).localname if root is not None and isinstance(root.tag, str) else "nothing"
        raise UsageError(f"{name}:1: not an OPML file: the document is <{got}>, an OPML export starts with "
                         "<opml>; nothing was imported")
    body = next((el for el in root if isinstance(el.tag, str) and el.tag.lower() == "body"), None)
    if body is None:
        raise UsageError(f"{name}:{root.sourceline or 1}: not an OPML file: it has no <body> with the feeds; "
                         "nothing was imported")
    feeds: list[OpmlFeed] = []
    _walk(body, (), feeds)
    return feeds


def _walk(parent: Any, folders: tuple[str, ...], out: list[OpmlFeed]) -> None:
    for el in parent:
        if not isinstance(el.tag, str) or el.tag.lower() != "outline":
            continue
        attrs = {str(k).lower(): str(v) for k, v in el.attrib.items()}
        title = scrub_line(attrs.get("title")) or scrub_line(attrs.get("text")) or ""
        url = scrub_line(attrs.get("xmlurl"))
        if url:
            out.append(OpmlFeed(url=url, title=title, site=http_url(scrub_line(attrs.get("htmlurl"))),
                                language=scrub_line(attrs.get("language")),
                                folders=(*folders, *_categories(attrs.get("category"))),
                                line=el.sourceline or 0))
        _walk(el, (*folders, title) if title and not url else folders, out)


def _categories(value: str | None) -> list[str]:
    """OPML's ``category``: comma-separated, slash-delimited paths (``/Tech/AI,/Thailand``)."""
    return [part for path in (value or "").split(",") for part in path.split("/") if part.strip()]


def read_opml(path: Path) -> list[OpmlFeed]:
    """``parse_opml`` of a file, with its name in every error."""
    try:
        size = path.stat().st_size
        if size > MAX_OPML_BYTES:
            raise UsageError(f"{path}: {size:,} bytes is too large for an OPML list of feeds "
                             f"(at most {MAX_OPML_BYTES:,}); nothing was imported")
        data = path.read_bytes()
    except OSError as e:
        raise UsageError(f"{path}: cannot read: {e.strerror or e}") from None
    return parse_opml(data, str(path))


# ---------------------------------------------------------------------------------------- import
def _language(value: str | None) -> str:
    code = (value or "").lower()
    return "th" if code.startswith("th") else "en" if code.startswith("en") else "auto"


def plan_import(config: Config, feeds: Sequence[OpmlFeed], tags: Sequence[str] = (),
                source_name: str = "the OPML file") -> tuple[list[NewSource], list[SkippedFeed]]:
    """The sources to add for ``feeds`` and the feeds left out: not http(s), already in ``config``
    (by ``feed_key``), or listed twice (a feed in two folders: one source with both folders' tags)."""
    known = known_feeds(config)
    fname = config.path.name if config.path else "sources.yaml"
    taken = {s.id for s in config.sources}
    added: list[NewSource] = []
    index: dict[str, int] = {}
    skipped: list[SkippedFeed] = []
    for feed in feeds:
        url = http_url(feed.url)
        key = feed_key(url)
        if url is None or key is None:
            skipped.append(SkippedFeed(feed.url, feed.title, f"line {feed.line}: not an http(s) feed address"))
            continue
        if key in known:
            skipped.append(SkippedFeed(url, feed.title, f"already in {fname} as {known[key]}"))
            continue
        feed_tags = _unique([*tags, *(make_tag(f) for f in feed.folders)])
        if key in index:
            first = added[index[key]]
            added[index[key]] = replace(first, tags=tuple(_unique([*first.tags, *feed_tags])))
            skipped.append(SkippedFeed(url, feed.title, f"line {feed.line}: listed again in {source_name} "
                                                        f"(its folders are added to {first.id}'s tags)"))
            continue
        host = (urlsplit(url).hostname or "").removeprefix("www.")
        name = feed.title or host
        sid = make_id(feed.title, url, taken)
        taken.add(sid)
        comment = name + (f"; site: {feed.site}" if feed.site else "")
        index[key] = len(added)
        added.append(NewSource(id=sid, url=_untracked(url), name=name, language=_language(feed.language),
                               tags=tuple(feed_tags), comment=comment))
    return added, skipped


def _untracked(url: str) -> str:
    """``url`` without ``utm_*`` and other tracking parameters a reader added (else exactly as written)."""
    keys = [k.lower() for k, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)]
    tracked = any(k.startswith("utm_") or k in TRACKING_PARAMS for k in keys)
    return (canonical_url(url) or url) if tracked else url


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def import_opml(config_path: Path, opml_path: Path, tags: Sequence[str] = (), dry_run: bool = False) -> ImportReport:
    """Append the feeds of ``opml_path`` to the sources file at ``config_path`` (created when it does
    not exist). The result is validated as ``scanner sources check`` does before it is written; on
    any problem nothing is written."""
    extra = [make_tag(t) for t in tags]
    if any(not t for t in extra):
        raise UsageError(f"--tag {tags[extra.index('')]!r}: a tag needs at least one letter or digit")
    feeds = read_opml(opml_path)
    if not feeds:
        raise UsageError(f"{opml_path}: no feeds in this OPML file (no <outline> has an xmlUrl); nothing was imported")
    exists = config_path.exists()
    config = load_config(config_path) if exists else Config(path=config_path.resolve())
    text, bom = read_sources_text(config_path) if exists else ("", False)
    added, skipped = plan_import(config, feeds, extra, opml_path.name)
    report = ImportReport(config_path, opml_path, added, skipped)
    if not added:
        return report
    edit = add_sources(text, added, heading=f"--- imported from {opml_path.name} by `scanner sources import` ---")
    check_edit(edit.text, config_path)
    report.layout_kept = edit.layout_kept
    report.diff = _diff(text, edit.text, config_path.name)
    if not dry_run:
        write_atomically(config_path, edit.text, bom)
        report.written = True
    return report


def _diff(old: str, new: str, name: str) -> str:
    import difflib

    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"a/{name}", f"b/{name}"))


# ---------------------------------------------------------------------------------------- export
def site_comments(text: str) -> dict[str, str]:
    """id → site address, from ``site: URL`` in the comment lines right above a source's entry
    (what ``import_opml`` and ``scanner sources discover`` write)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines = text.splitlines()
    sites: dict[str, str] = {}
    if not isinstance(node, yaml.MappingNode):
        return sites
    for key, value in node.value:
        if key.value != "sources" or not isinstance(value, yaml.SequenceNode):
            continue
        for item in value.value:
            if not isinstance(item, yaml.MappingNode):
                continue
            sid = next((v.value for k, v in item.value if k.value == "id" and isinstance(v, yaml.ScalarNode)), None)
            n = item.start_mark.line - 1
            while sid and n >= 0 and lines[n].lstrip().startswith("#"):
                m = SITE_RE.search(lines[n])
                if m and http_url(m.group(1)):
                    sites[str(sid)] = m.group(1)
                    break
                n -= 1
    return sites


def render_opml(config: Config, sites: dict[str, str] | None = None, title: str = "scanner: sources.yaml",
                now: datetime | None = None) -> str:
    """The ``rss`` sources of ``config`` as an OPML 2.0 document (UTF-8; tags as ``category``)."""
    sites = sites or {}
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = scrub(title)
    ET.SubElement(head, "dateCreated").text = format_datetime(now or datetime.now(UTC), usegmt=True)
    ET.SubElement(head, "docs").text = "https://opml.org/spec2.opml"
    body = ET.SubElement(root, "body")
    for source in config.sources:
        if not isinstance(source, RssSource):
            continue
        name = scrub_line(source.display_name) or source.id
        attrs = {"type": "rss", "text": name, "title": name, "xmlUrl": scrub(source.url)}
        if source.id in sites:
            attrs["htmlUrl"] = sites[source.id]
        if source.language != "auto":
            attrs["language"] = source.language
        categories = [make_tag(t) for t in source.tags]
        if any(categories):
            attrs["category"] = ",".join(f"/{c}" for c in categories if c)
        ET.SubElement(body, "outline", attrs)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def export_opml(config_path: Path) -> str:
    """``render_opml`` of the sources file at ``config_path``, with the sites its comments name."""
    config = load_config(config_path)
    text, _ = read_sources_text(config_path)
    return render_opml(config, site_comments(text), title=f"scanner: {config_path.name}")
