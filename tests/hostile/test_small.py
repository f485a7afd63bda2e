"""Found 8: the smaller ones. Limit: what is written or stored."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import pytest

from scanner.config import load_config
from scanner.digest.feed import write_text_atomic
from scanner.errors import ConfigError
from scanner.models import RawItem
from scanner.normalize import detect_lang
from scanner.prepare import prepare_item
from tests.hostile import payloads
from tests.hostile.server import HostileServer, respond


def test_a_planted_symlink_does_not_redirect_a_report_write(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "index.html.tmp").symlink_to(victim)  # the old fixed temporary name
    (reports / "feed.xml").symlink_to(victim)  # and the target itself
    write_text_atomic(reports / "index.html", "<p>new</p>")
    write_text_atomic(reports / "feed.xml", "<feed/>")
    assert victim.read_text(encoding="utf-8") == "keep me"
    assert (reports / "index.html").read_text(encoding="utf-8") == "<p>new</p>"
    assert not (reports / "feed.xml").is_symlink() and (reports / "feed.xml").read_text() == "<feed/>"
    assert oct((reports / "index.html").stat().st_mode & 0o777) == "0o644"
    assert sorted(p.name for p in reports.iterdir()) == ["feed.xml", "index.html", "index.html.tmp"]


@pytest.mark.parametrize("field", ["sender", "recipients"])
def test_crlf_in_email_addresses_is_refused_at_the_door(tmp_path: Path, field: str) -> None:
    bad = '"lab@example.org\\r\\nBcc: everyone@example.org"'
    sender = bad if field == "sender" else "lab@example.org"
    recipients = f"[{bad}]" if field == "recipients" else "[a@example.org]"
    path = tmp_path / "sources.yaml"
    path.write_text(f"sources: []\ndigest:\n  email:\n    host: smtp.example.org\n    sender: {sender}\n"
                    f"    recipients: {recipients}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"sources.yaml:\d+: digest.email.{field}.*one line"):
        load_config(path)


def test_a_year_9999_date_is_clamped_to_the_fetch_and_flagged(srv: HostileServer, fetch_all) -> None:
    items = payloads.plain_items(2, srv.url("/n"))
    items[0]["pubDate"] = "Fri, 31 Dec 9999 23:59:59 +0000"
    srv.routes["/feed"] = respond(payloads.rss(items), content_type="application/rss+xml")
    run, store, _ = fetch_all(f'- {{id: f, kind: rss, url: "{srv.url("/feed")}"}}')
    rows = {r["url"][-1]: r for r in store.query("SELECT url, published, extra FROM items")}
    assert rows["1"]["published"].startswith("2025-01-06T12:00")  # the fetch time
    assert '"published_claimed": "9999-12-31' in rows["1"]["extra"]
    assert rows["2"]["published"].startswith("2025-01-06T02:00")
    assert any("more than a day ahead" in w for w in run.results[0].warnings)


@pytest.mark.parametrize(("text", "lang"), [
    ("ሰላም ለዓለም የኢትዮጵያ መንግሥት", "und"),  # Amharic
    ("გამარჯობა საქართველოს მთავრობა", "und"),  # Georgian
    ("שלום עולם ממשלת ישראל", "und"),  # Hebrew
    ("Сайн байна уу Монгол улсын засгийн газар", "und"),  # Mongolian (Cyrillic)
    ("ᠮᠣᠩᠭᠣᠯ ᠤᠯᠤᠰ", "und"),  # Mongolian script
    ("12345 !!!", "und"),
    ("รัฐบาลดิจิทัล digital government", "th"),
    ("Digital government in Thailand", "en"),
])
def test_unknown_scripts_get_und(text: str, lang: str) -> None:
    assert detect_lang(text) == lang
    item = prepare_item(RawItem(url=None, title=text, content=text), "s")
    assert item is not None and item.lang == lang


def test_a_file_source_does_not_follow_symlinks_out_of_its_folder(tmp_path: Path, fetch_all) -> None:
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "passwords.jsonl").write_text('{"id": "s", "title": "รหัสผ่าน", "body": "ลับมาก"}\n', encoding="utf-8")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "ok.jsonl").write_text('{"id": "ok", "title": "บันทึก", "body": "ข้อความ"}\n', encoding="utf-8")
    (notes / "link.jsonl").symlink_to(outside / "passwords.jsonl")
    (notes / "dir").symlink_to(outside, target_is_directory=True)
    run, store, _ = fetch_all(f"- {{id: notes, kind: file, path: {notes}}}")
    assert [r["guid"] for r in store.query("SELECT guid FROM items")] == ["ok"]
    assert any("symbolic links not followed" in w for w in run.results[0].warnings)


def test_urllib3_is_new_enough_for_its_decompression_bomb_protection() -> None:
    major, minor = (int(x) for x in importlib.metadata.version("urllib3").split(".")[:2])
    assert (major, minor) >= (2, 6)
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    req = next(r for r in pyproject["project"]["dependencies"] if r.startswith("urllib3"))
    assert req == "urllib3>=2.6"


def test_a_gzip_bomb_ends_at_the_byte_cap(srv: HostileServer, fetch_all) -> None:
    from tests.hostile.server import gzip_bomb

    srv.routes["/bomb"] = gzip_bomb(200_000_000)
    run, _, _ = fetch_all(f'- {{id: bomb, kind: rss, url: "{srv.url("/bomb")}"}}', settings="max_bytes: 5MB")
    assert run.results[0].status == "failed" and "byte cap" in (run.results[0].error or "")


