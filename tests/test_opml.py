"""`scanner sources import FILE.opml` and `sources export --format opml`, with OPML files written the
way Feedly, Inoreader and NetNewsWire export them (tests/data/opml/)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from scanner.cli import cli
from scanner.config import load_config
from scanner.config.edit import NewSource, add_sources, feed_key, make_id, slug
from scanner.config.opml import parse_opml, read_opml
from scanner.errors import UsageError

OPML = Path(__file__).resolve().parent / "data" / "opml"

BASE = """\
# The lab's sources. This comment must survive an import byte for byte.
settings:
  per_host_delay: 2              # seconds between two requests to one site
  timezone: Asia/Bangkok

sources:
  # Prachatai: independent Thai news.
  - id: prachatai
    name: ประชาไท
    kind: rss
    url: https://prachatai.com/rss.xml
    language: th
    tags: [media]

  - id: blognone
    name: "Blognone"
    kind: rss
    url: https://www.blognone.com/atom.xml   # the Atom feed
    every: 3h

  - id: bangkok-post
    name: Bangkok Post — top stories
    kind: rss
    url: https://www.bangkokpost.com/rss/data/topstories.xml
    language: en
"""


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), "sources", *args], catch_exceptions=False)


@pytest.fixture
def base(write_config: Callable[[str], Path]) -> Path:
    return write_config(BASE)


# ----------------------------------------------------------------------------- reading OPML
def test_feedly_folders_become_tags_and_entities_are_decoded() -> None:
    feeds = read_opml(OPML / "feedly.opml")
    assert [(f.title, f.folders) for f in feeds] == [
        ("ประชาไท", ("Thai government",)),
        ("สำนักงานพัฒนารัฐบาลดิจิทัล (สพร.)", ("Thai government",)),
        ('ETDA & partners: "news"', ("Thai government",)),
        ("The Verge", ("Tech",)),
        ("Blognone", ("Tech",)),
    ]
    assert feeds[2].url == "https://www.etda.or.th/th/rss.xml?utm_source=feedly&utm_medium=rss"
    assert feeds[0].site == "https://prachatai.com" and feeds[0].line == 9


def test_inoreader_nested_folders_and_missing_titles() -> None:
    feeds = read_opml(OPML / "inoreader.opml")
    assert [(f.title, f.folders) for f in feeds] == [
        ("GOV.UK Government Digital Service", ("International", "Digital government")),
        ("e-Estonia", ("International", "Digital government")),  # text only: no title attribute
        ("", ("International",)),                                 # neither: the host is used later
        ("GOV.UK Government Digital Service", ("Thailand",)),
    ]


def test_netnewswire_category_attribute_and_empty_title_falls_back_to_text() -> None:
    feeds = read_opml(OPML / "netnewswire.opml")
    assert feeds[1].title == "ไทยรัฐออนไลน์" and feeds[1].folders == ("media", "Thai news")
    assert feeds[2].title == "Blognone (mobile)"
    assert feeds[3].url == "javascript:alert(1)"  # read as written; the import refuses it


@pytest.mark.parametrize(("data", "message"), [
    (b"<opml><body><outline xmlUrl='https://a.org/feed'></body></opml>", r"broken\.opml:1: not a valid OPML file"),
    (b"", r"broken\.opml:1: not a valid OPML file"),
    (b"<html><body><a href='/feed'>feed</a></body></html>",
     r"broken\.opml:1: not an OPML file: the document is <html>"),
    (b"<opml version='2.0'><head/></opml>", r"broken\.opml:1: not an OPML file: it has no <body>"),
])
def test_malformed_opml_is_an_error_naming_the_file(data: bytes, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_opml(data, "broken.opml")


def test_external_entities_are_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    data = (f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file://{secret}">]>'
            '<opml version="2.0"><body><outline text="&x;" xmlUrl="https://a.org/feed"/></body></opml>').encode()
    with pytest.raises(UsageError, match="external entity") as info:
        parse_opml(data)
    assert "TOP-SECRET" not in str(info.value)


# ----------------------------------------------------------------------------- ids and keys
def test_slugs_of_thai_english_and_empty_titles() -> None:
    assert slug("ไทยรัฐออนไลน์") == "thairat-onlai"
    assert slug("GOV.UK Government Digital Service") == "gov-uk-government-digital-service"
    assert slug("Café — Économie & Société") == "cafe-economie-societe"
    assert slug("📰📰") == ""
    assert make_id("", "https://www.govtech.com/rss", []) == "govtech-com"
    assert make_id("Bangkok Post", "https://x.org/", ["bangkok-post", "bangkok-post-2"]) == "bangkok-post-3"
    long = make_id("word " * 30, "https://x.org/", [])
    assert len(long) <= 40 and not long.endswith("-")


def test_feed_key_ignores_what_does_not_change_the_feed() -> None:
    same = ["https://prachatai.com/rss.xml", "https://prachatai.com/rss.xml/", "http://PRACHATAI.com/rss.xml",
            "https://prachatai.com:443/rss.xml?utm_source=feedly#top"]
    assert len({feed_key(u) for u in same}) == 1
    assert feed_key("https://prachatai.com/rss.xml?page=2") != feed_key(same[0])


# ----------------------------------------------------------------------------- import
FEEDLY_ADDED = """
  # --- imported from feedly.opml by `scanner sources import` ---
  # สำนักงานพัฒนารัฐบาลดิจิทัล (สพร.); site: https://www.dga.or.th/
  - id: samnakngan-phatna-ratban-dichithan-sop-r
    name: สำนักงานพัฒนารัฐบาลดิจิทัล (สพร.)
    kind: rss
    url: https://www.dga.or.th/feed/
    language: auto
    tags: [lab, thai-government]

  # ETDA & partners: "news"; site: https://www.etda.or.th/
  - id: etda-partners-news
    name: 'ETDA & partners: "news"'
    kind: rss
    url: https://www.etda.or.th/th/rss.xml
    language: auto
    tags: [lab, thai-government]

  # The Verge; site: https://www.theverge.com/
  - id: the-verge
    name: The Verge
    kind: rss
    url: https://www.theverge.com/rss/index.xml
    language: auto
    tags: [lab, tech]
"""


def test_feedly_import_appends_and_keeps_the_file_byte_for_byte(base: Path) -> None:
    result = run(base, "import", str(OPML / "feedly.opml"), "--tag", "Lab")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "added samnakngan-phatna-ratban-dichithan-sop-r: สำนักงานพัฒนารัฐบาลดิจิทัล (สพร.) "
        "<https://www.dga.or.th/feed/> [lab, thai-government]",
        'added etda-partners-news: ETDA & partners: "news" <https://www.etda.or.th/th/rss.xml> '
        "[lab, thai-government]",
        "added the-verge: The Verge <https://www.theverge.com/rss/index.xml> [lab, tech]",
        "skipped ประชาไท <https://prachatai.com/rss.xml/>: already in sources.yaml as prachatai",
        "skipped Blognone <http://www.blognone.com/atom.xml?utm_source=feedly>: already in sources.yaml as blognone",
        f"{base}: got 3 new sources, 2 skipped; it passes `scanner sources check`",
    ]
    assert base.read_text(encoding="utf-8") == BASE + FEEDLY_ADDED
    config = load_config(base)
    assert [s.id for s in config.sources][-3:] == ["samnakngan-phatna-ratban-dichithan-sop-r", "etda-partners-news",
                                                   "the-verge"]
    assert run(base, "check").exit_code == 0
    assert [p.name for p in base.parent.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_importing_the_same_file_again_adds_nothing(base: Path) -> None:
    run(base, "import", str(OPML / "feedly.opml"))
    before = base.read_bytes()
    result = run(base, "import", str(OPML / "feedly.opml"))
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == f"{base}: got 0 new sources, 5 skipped; not changed"
    assert "already in sources.yaml as the-verge" in result.output
    assert base.read_bytes() == before


def test_inoreader_feed_in_two_folders_is_one_source_with_both_tags(write_config: Callable[[str], Path]) -> None:
    path = write_config("sources:\n  - id: lab-notes\n    kind: rss\n    url: https://lab.example.org/feed\n")
    result = run(path, "import", str(OPML / "inoreader.opml"))
    assert result.exit_code == 0, result.output
    config = load_config(path)
    by_id = {s.id: s for s in config.sources}
    gds = by_id["gov-uk-government-digital-service"]
    assert gds.tags == ["international", "digital-government", "thailand"]
    assert by_id["e-estonia"].name == "e-Estonia"
    assert by_id["govtech-com"].name == "govtech.com"  # no title, no text: the host
    assert "skipped GOV.UK Government Digital Service <https://gds.blog.gov.uk/feed>: line 15: listed again in " \
           "inoreader.opml (its folders are added to gov-uk-government-digital-service's tags)" in result.output


def test_netnewswire_thai_title_id_collision_and_bad_address(base: Path) -> None:
    result = run(base, "import", str(OPML / "netnewswire.opml"))
    assert result.exit_code == 0, result.output
    config = load_config(base)
    new = {s.id: s for s in config.sources[3:]}
    assert list(new) == ["bangkok-post-2", "thairat-onlai", "blognone-mobile"]  # bangkok-post is taken
    assert new["thairat-onlai"].name == "ไทยรัฐออนไลน์" and new["thairat-onlai"].tags == ["media", "thai-news"]
    assert "skipped Open Government Partnership <javascript:alert(1)>: line 11: not an http(s) feed address" \
        in result.output


def test_malformed_opml_writes_nothing_and_names_the_file(base: Path, tmp_path: Path) -> None:
    bad = tmp_path / "export.opml"
    bad.write_text('<?xml version="1.0"?>\n<opml version="1.0">\n<body>\n<outline text="A" xmlUrl="https://a.org/f">'
                   "\n</body></opml>\n", encoding="utf-8")
    result = run(base, "import", str(bad))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {bad}:5: not a valid OPML file: ")
    assert "nothing was imported" in result.stderr
    assert base.read_text(encoding="utf-8") == BASE


def test_an_opml_without_feeds_is_an_error(base: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.opml"
    empty.write_text('<opml version="2.0"><head/><body><outline text="Folder"/></body></opml>', encoding="utf-8")
    result = run(base, "import", str(empty))
    assert result.exit_code == 2
    assert result.stderr == f"Error: {empty}: no feeds in this OPML file (no <outline> has an xmlUrl); nothing was " \
                            "imported\n"


def test_a_result_that_fails_validation_writes_nothing(base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scanner.config.opml.make_id", lambda title, url, taken: "Not A Slug")
    result = run(base, "import", str(OPML / "feedly.opml"))
    assert result.exit_code == 2
    assert "not a valid id" in result.stderr
    assert f"Error: {base}: not changed: the new entries would make it invalid" in result.stderr
    assert base.read_text(encoding="utf-8") == BASE


def test_an_invalid_sources_file_is_left_alone(write_config: Callable[[str], Path]) -> None:
    path = write_config("sources:\n  - id: a\n    kind: rss\n    url: not-a-url\n")
    before = path.read_bytes()
    result = run(path, "import", str(OPML / "feedly.opml"))
    assert result.exit_code == 2 and "sources[0].url" in result.stderr
    assert path.read_bytes() == before


def test_dry_run_prints_the_diff_and_writes_nothing(base: Path) -> None:
    result = run(base, "import", str(OPML / "feedly.opml"), "--dry-run")
    assert result.exit_code == 0
    assert "would add the-verge: The Verge" in result.output
    assert "+++ b/sources.yaml" in result.output and "+  - id: the-verge" in result.output
    assert result.output.splitlines()[-1] == f"{base}: would get 3 new sources, 2 skipped; it passes " \
                                             "`scanner sources check`"
    assert base.read_text(encoding="utf-8") == BASE


def test_import_creates_a_missing_sources_file(tmp_path: Path) -> None:
    path = tmp_path / "new.yaml"
    result = run(path, "import", str(OPML / "inoreader.opml"))
    assert result.exit_code == 0, result.output
    assert [s.id for s in load_config(path).sources] == ["gov-uk-government-digital-service", "e-estonia",
                                                         "govtech-com"]


def test_crlf_bom_and_flow_lists_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    original = "\ufeff# Windows editor\r\nsettings: {per_host_delay: 1}\r\nsources:\r\n- id: a\r\n  kind: rss\r\n" \
               "  url: https://a.org/feed   # A\r\n"
    path.write_bytes(original.encode("utf-8"))
    assert run(path, "import", str(OPML / "netnewswire.opml")).exit_code == 0
    text = path.read_bytes().decode("utf-8")
    assert text.startswith(original) and "\n" not in text.replace("\r\n", "")
    assert "\r\n- id: bangkok-post\r\n  name: Bangkok Post\r\n" in text  # the file's own indentation
    assert len(load_config(path).sources) == 4


def test_values_yaml_1_1_would_misread_are_quoted() -> None:
    edit = add_sources("sources:\n", [NewSource(id="on", url="https://a.org/f", name="yes", tags=("no", "1:20"))])
    assert '- id: "on"\n    name: "yes"\n' in edit.text and 'tags: ["no", "1:20"]' in edit.text
    assert edit.layout_kept


# ----------------------------------------------------------------------------- export
def test_export_is_opml_2_with_thai_escapes_and_sites(base: Path, tmp_path: Path) -> None:
    run(base, "import", str(OPML / "feedly.opml"))
    with base.open("a", encoding="utf-8") as f:
        f.write("  - id: notes\n    kind: file\n    path: .\n")
    result = run(base, "export", "--format", "opml")
    assert result.exit_code == 0, result.output
    assert result.output.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')
    assert 'text="ETDA &amp; partners: &quot;news&quot;"' in result.output
    root = ET.fromstring(result.output.encode("utf-8"))
    assert root.get("version") == "2.0" and root.findtext("head/title") == "scanner: sources.yaml"
    outlines = [o.attrib for o in root.iter("outline")]
    assert [o["text"] for o in outlines] == ["ประชาไท", "Blognone", "Bangkok Post — top stories",
                                             "สำนักงานพัฒนารัฐบาลดิจิทัล (สพร.)", 'ETDA & partners: "news"', "The Verge"]
    assert outlines[0] == {"type": "rss", "text": "ประชาไท", "title": "ประชาไท", "xmlUrl": "https://prachatai.com/rss.xml",
                           "language": "th", "category": "/media"}
    assert outlines[3]["htmlUrl"] == "https://www.dga.or.th/" and "htmlUrl" not in outlines[1]

    out = tmp_path / "lab.opml"
    assert run(base, "export", "-o", str(out)).output == f"{out}: 6 feeds\n"
    assert out.read_bytes().decode("utf-8") == result.output


def test_export_then_import_gives_the_same_feeds(base: Path, tmp_path: Path) -> None:
    out = tmp_path / "lab.opml"
    run(base, "export", "-o", str(out))
    fresh = tmp_path / "fresh.yaml"
    assert run(fresh, "import", str(out)).exit_code == 0
    again = load_config(fresh).sources
    assert [(s.name, s.url, s.language, s.tags) for s in again] == [  # type: ignore[union-attr]
        (s.name, s.url, s.language, s.tags) for s in load_config(base).sources]  # type: ignore[union-attr]
