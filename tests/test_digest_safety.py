"""Scraped text is untrusted: the digest escapes it everywhere and emits only http(s) links."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from scanner.clock import as_of_datetime
from scanner.digest import write_digest
from scanner.digest.render import escape_md
from scanner.store import Store
from tests import digest_fixtures as fx

ALLOWED_LOCAL = (".html", ".md", ".json", "feed.xml")


class LiveParts(HTMLParser):
    """Collects what a browser would act on: elements, event-handler attributes and link targets."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.handlers: list[tuple[str, str]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append((tag, name))
            if name in ("href", "src", "action", "formaction", "xlink:href", "data"):
                self.links.append(value or "")


def parse(html: str) -> LiveParts:
    p = LiveParts()
    p.feed(html)
    return p


def hostile_digest(store: Store, tmp_path: Path) -> list[Path]:
    config = fx.write_config(tmp_path)
    fx.insert_sources(store)
    fx.add_hostile_item(store, "2025-W12")
    return write_digest(config, store, "2025-W12", as_of_datetime("2025-04-01")).paths


def test_html_digest_has_no_live_script_handlers_or_bad_links(store: Store, tmp_path: Path) -> None:
    html_path, _md_path, _json_path = hostile_digest(store, tmp_path)[:3]
    html = html_path.read_text(encoding="utf-8")
    live = parse(html)
    assert "script" not in live.tags and "iframe" not in live.tags and "img" not in live.tags
    assert live.tags.count("svg") == 3 + html.count('<svg class="spark"')  # only the page's own charts
    assert live.handlers == []
    for link in live.links:
        assert link.startswith(("https://", "http://", "#")) or link.endswith(ALLOWED_LOCAL), link
    lowered = html.lower()
    for bad in ("<script", "javascript:alert(document", 'href="data:', "href=\"javascript", "onerror=\"alert"):
        assert bad not in lowered
    # The hostile text is still shown, escaped, so the analyst sees what was scraped.
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=&#34;alert(1)&#34;&gt; ข่าวปลอม" in html
    # The four items are listed without links (none of their URLs is http or https).
    card = html.split('class="card" id="signal-1"', 1)[1].split("</article>", 1)[0]
    assert card.count("<li>") == 4 and "<a href=\"http" not in card


def test_markdown_and_json_keep_hostile_text_inert(store: Store, tmp_path: Path) -> None:
    _, md_path, json_path = hostile_digest(store, tmp_path)[:3]
    md = md_path.read_text(encoding="utf-8")
    assert "<script" not in md.lower() and "<img" not in md.lower() and "<svg" not in md.lower()
    assert "](javascript" not in md.lower() and "](data:" not in md.lower() and "](vbscript" not in md.lower()
    assert '&lt;script&gt;alert("x")&lt;/script&gt;&lt;img src=x onerror="alert(1)"&gt; ข่าวปลอม' in md
    data = json.loads(json_path.read_text(encoding="utf-8"))
    card = data["sections"][1]["signals"][0]
    assert card["title"] == fx.HOSTILE_TITLE  # the data keeps the raw text; renderers escape it
    assert [i["url"] for i in card["items"]] == [None, None, None, None]


def test_feed_and_index_escape_titles(store: Store, tmp_path: Path) -> None:
    paths = hostile_digest(store, tmp_path)
    index, feed = paths[3].read_text(encoding="utf-8"), paths[4].read_text(encoding="utf-8")
    assert parse(index).handlers == [] and "script" not in parse(index).tags
    assert "<script" not in feed and "&lt;script" in feed


@pytest.mark.parametrize(("text", "markdown"), [
    ("R&D (AI) +5% ข่าวปลอม!", "R&D (AI) +5% ข่าวปลอม!"),  # readable as plain text: nothing needless escaped
    ("&lt;b&gt;", "&amp;lt;b&amp;gt;"),
    ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
    ("[click](javascript:alert(1))", "\\[click\\](javascript:alert(1))"),
    ("*bold* _it_ `code`", "\\*bold\\* \\_it\\_ \\`code\\`"),
    ("# not a heading", "\\# not a heading"),
    ("2568. not a list", "2568\\. not a list"),
    ("line\nbreak", "line break"),
])
def test_markdown_escaping(text: str, markdown: str) -> None:
    assert escape_md(text) == markdown
