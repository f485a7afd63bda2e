"""Render a ``Digest`` as self-contained HTML, Markdown and JSON.

HTML: Jinja2 with autoescape on, so every scraped string is escaped; links pass ``http_url`` first.
Markdown: a second environment whose ``finalize`` escapes every ``{{ }}`` output for Markdown (and
HTML, for renderers that allow inline HTML) unless a filter marked it as already safe.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import json
import logging
import re
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from scanner.digest import charts
from scanner.digest.model import Digest, IndexEntry, SignalCard, TrendCard
from scanner.digest.prose import pct
from scanner.normalize import http_url

logger = logging.getLogger(__name__)

MD_SPECIAL = re.compile(r"([\\`*_\[\]])")
MD_LINE_START = re.compile(r"^([#+\-=|])")
MD_LIST_NUMBER = re.compile(r"^(\d+)([.)])")
MD_HTML = re.compile(r"[<>]|&(?=#?\w+;)")  # what a Markdown renderer would read as HTML: tags and entities
STATE_COLOURS = {"weak": "#b35c00", "strong": "#0b6e4f", "established": "#35627a", "latent": "#6b6f76",
                 "new": "#6a3fa0", "fading": "#8a8f98"}


class MdSafe(str):
    """Text already safe for the Markdown output (escaped, or a checked URL)."""


def escape_md(value: Any) -> str:
    """Plain text as Markdown that renders as the same text: no links, emphasis, headings or inline HTML.

    Only what Markdown would act on is escaped, so the text stays readable as a plain-text e-mail:
    ``<``, ``>`` and an ``&`` that starts an entity go through ``html.escape`` (a bare ``&``, as in
    "R&D", stays), then Markdown's own punctuation gets a backslash.
    """
    text = " ".join(str(value).split())
    text = MD_HTML.sub(lambda m: html.escape(m.group(), quote=False), text)
    text = MD_SPECIAL.sub(r"\\\1", text)
    text = MD_LIST_NUMBER.sub(r"\1\\\2", text)
    return MD_LINE_START.sub(r"\\\1", text)


def _md_finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, MdSafe):
        return value
    if isinstance(value, (int, float)):
        return value
    return escape_md(value)


def md_url(url: str | None) -> MdSafe:
    """A checked http(s) URL for ``[text](url)``: characters that would end the link are encoded."""
    ok = http_url(url)
    if not ok:
        return MdSafe("")
    return MdSafe(quote(ok, safe=":/?#@!$&'*+,;=%-._~"))


def md_raw(text: str) -> MdSafe:
    return MdSafe(text)


@functools.cache
def _environments() -> tuple[Environment, Environment]:
    """The HTML environment (autoescape) and the Markdown one (every output through ``escape_md``)."""
    common = {"loader": PackageLoader("scanner", "templates"), "undefined": StrictUndefined,
              "trim_blocks": True, "lstrip_blocks": True, "keep_trailing_newline": True}
    html_env = Environment(autoescape=True, **common)  # type: ignore[arg-type]
    md_env = Environment(autoescape=False, finalize=_md_finalize, **common)  # type: ignore[arg-type]
    for env in (html_env, md_env):
        env.filters["pct"] = pct
        env.globals["STATE_COLOURS"] = STATE_COLOURS
    html_env.globals["sparkline"] = render_card_sparkline
    md_env.filters["url"] = md_url
    md_env.filters["raw"] = md_raw
    return html_env, md_env


def render_card_sparkline(card: SignalCard | TrendCard, weeks: list[str]) -> Markup:
    return charts.render_sparkline(card.sparkline, weeks, colour=STATE_COLOURS.get(card.state, "#0072B2"))


def render_chart_svgs(d: Digest) -> dict[str, Markup]:
    """The two keyword maps and the volume chart as inline SVG."""
    em, im, vol = d.charts["emergence"], d.charts["issue"], d.charts["volume"]
    return {
        "emergence": charts.render_quadrant_map(
            [charts.MapPoint(p["label"], p["tf"], p["dov_growth"], p["quadrant"]) for p in em["points"]], em["x"],
            "Term frequency this week (log scale)", "Visibility growth (DoV) per week", "Keyword Emergence Map",
            em["x_split"] or 1.0, em["y_split"] or 0.0),
        "issue": charts.render_quadrant_map(
            [charts.MapPoint(p["label"], p["df"], p["dod_growth"], p["quadrant"]) for p in im["points"]], im["x"],
            "Documents mentioning it this week (log scale)", "Diffusion growth (DoD) per week", "Keyword Issue Map",
            im["x_split"] or 1.0, im["y_split"] or 0.0),
        "volume": charts.render_volume_chart(vol["weeks"], vol["series"]),
    }


def render_html(d: Digest, title: str) -> str:
    """The self-contained HTML page (inline CSS and SVG; no scripts, fonts or images from elsewhere)."""
    html_env, _ = _environments()
    return html_env.get_template("digest.html.j2").render(d=d, svg=render_chart_svgs(d), site_title=title)


def render_markdown(d: Digest, title: str) -> str:
    _, md_env = _environments()
    return md_env.get_template("digest.md.j2").render(d=d, site_title=title)


def render_json(d: Digest) -> str:
    """The data behind the digest: stable key order, two-space indent, UTF-8 (Thai kept readable)."""
    return json.dumps(dataclasses.asdict(d), ensure_ascii=False, indent=2) + "\n"


def render_index(entries: list[IndexEntry], title: str) -> str:
    html_env, _ = _environments()
    return html_env.get_template("index.html.j2").render(entries=entries, site_title=title)
