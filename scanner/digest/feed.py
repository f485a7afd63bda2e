"""``index.html`` (every digest, newest first) and ``feed.xml`` (Atom) from the digests on disk.

Both are rebuilt from the ``YYYY-Www.json`` files in the reports folder, so they always match what
is there. Times come from the digests' weeks, never the wall clock: rebuilding gives the same bytes.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import fields
from pathlib import Path

from scanner.digest.model import IndexEntry, SignalHead
from scanner.digest.render import render_index
from scanner.normalize import http_url

logger = logging.getLogger(__name__)

WEEK_FILE = re.compile(r"^(\d{4}-W\d{2})\.json$")
ATOM = "http://www.w3.org/2005/Atom"


def list_digests(reports: Path) -> list[IndexEntry]:
    """Summaries of the digests in ``reports``, newest week first (unreadable files are skipped)."""
    out: list[IndexEntry] = []
    for path in sorted(reports.glob("*-W*.json"), reverse=True):
        m = WEEK_FILE.match(path.name)
        if not m:
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            logger.warning("skipping %s in the index: %s", path, e)
            continue
        week = m.group(1)
        stats = data.get("stats", {})
        out.append({
            "week": week, "period": data.get("period", ""), "end": data.get("end", ""),
            "start": data.get("start", ""), "href": f"{week}.html", "md": f"{week}.md", "json": f"{week}.json",
            "headline": " ".join(data.get("headline", [])[:1]), "sentences": data.get("headline", []),
            "top": _heads(data.get("top")), "item_count": stats.get("items", 0), "new": stats.get("new", 0),
            "weak": stats.get("weak", 0), "strong": stats.get("strong", 0),
        })
    return out


def _heads(top: object) -> list[SignalHead]:
    """The top signals as a digest's JSON lists them; anything else (an older or edited file) is left out."""
    names = [f.name for f in fields(SignalHead)]
    if not isinstance(top, list):
        return []
    return [SignalHead(**{k: t[k] for k in names}) for t in top if isinstance(t, dict) and all(k in t for k in names)]


def _link(base_url: str | None, name: str) -> str:
    base = http_url(base_url) if base_url else None
    return (base.rstrip("/") + "/" + name) if base else name


def site_link(base_url: str | None, name: str) -> str | None:
    """The address of ``name`` (``2025-W12.html#signal-3``) where reports/ is published, or ``None``
    when it is not (no ``digest.public_url``)."""
    return _link(base_url, name) if base_url and http_url(base_url) else None


def render_feed(entries: list[IndexEntry], title: str, base_url: str | None = None) -> str:
    """An Atom 1.0 feed with one entry per digest (at most 52)."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = title
    ET.SubElement(feed, f"{{{ATOM}}}id").text = _link(base_url, "feed.xml") if base_url else "urn:scanner:digests"
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = entries[0]["end"] if entries else "1970-01-01T00:00:00+00:00"
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=_link(base_url, "feed.xml"))
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=_link(base_url, "index.html"))
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = "scanner"
    ET.SubElement(feed, f"{{{ATOM}}}generator").text = "scanner"
    for e in entries[:52]:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}title").text = f"{title}: week {e['week']} ({e['period']})"
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"urn:scanner:digest:{e['week']}"
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = e["end"]
        ET.SubElement(entry, f"{{{ATOM}}}published").text = e["end"]
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=_link(base_url, e["href"]))
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = " ".join(e["sentences"])
        # HTML content as escaped text (type="html"): ElementTree escapes it, readers unescape and sanitise.
        lis = "".join(f"<li>{_text(t.title)} ({_text(t.state_label)})</li>" for t in e["top"])
        content = "".join(f"<p>{_text(s)}</p>" for s in e["sentences"]) + (f"<ol>{lis}</ol>" if lis else "")
        ET.SubElement(entry, f"{{{ATOM}}}content", type="html").text = content
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def _text(value: object) -> str:
    """``value`` as HTML element content (``&``, ``<``, ``>`` escaped; quotes only matter in attributes)."""
    return html.escape(str(value), quote=False)


def write_index_and_feed(reports: Path, title: str, base_url: str | None = None) -> list[Path]:
    """Rewrite ``index.html`` and ``feed.xml`` in ``reports``; return their paths."""
    entries = list_digests(reports)
    index, feed = reports / "index.html", reports / "feed.xml"
    write_text_atomic(index, render_index(entries, title))
    write_text_atomic(feed, render_feed(entries, title, base_url))
    return [index, feed]


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) so a reader never sees half a file and nothing planted can redirect it.

    The temporary file is new and unpredictable (``mkstemp`` in the same folder: it never follows
    a symlink someone left there), is flushed to disk, and then replaces ``path`` in one rename;
    a symlink at ``path`` itself is replaced, not followed. The file is readable by all (0644).
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; reports are meant to be read (and published)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
