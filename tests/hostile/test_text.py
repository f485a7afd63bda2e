"""Found 4: quadratic text work. Each case states its limit: wall time, and peak memory for the
50 MB file (measured in its own process)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from scanner.normalize import html_to_text
from scanner.store import Store
from tests.hostile import payloads
from tests.hostile.server import HostileServer, respond

ROOT = Path(__file__).resolve().parents[2]


def served(srv: HostileServer, path: str, body: bytes) -> str:
    srv.routes[path] = respond(body, content_type="application/rss+xml")
    return srv.url(path)


def test_forty_thousand_paragraphs_are_linear() -> None:
    """Limit: 5 s (before: 54 s for 320 KB)."""
    started = time.monotonic()
    text = html_to_text(payloads.many_paragraphs(40_000))
    assert time.monotonic() - started < 5
    assert text.count("ข่าว") == 40_000 and text.count("\n") == 39_999


def test_nested_escaped_divs_in_a_description(srv: HostileServer, fetch_all) -> None:
    """Limit: 20 s (before: more than 300 s of CPU)."""
    description = payloads.nested_divs_escaped()
    body = payloads.rss([{"title": "ลึก", "link": "http://example.org/n", "description": description}])
    url = served(srv, "/nested", body)
    started = time.monotonic()
    run, _store, _ = fetch_all(f'- {{id: nested, kind: rss, url: "{url}"}}')
    assert time.monotonic() - started < 20
    assert run.results[0].status == "ok" and run.results[0].items_new == 1


def test_a_hundred_thousand_categories(srv: HostileServer, fetch_all) -> None:
    """Limit: 30 s, and ``settings.max_tags`` tags kept (before: 285 s in feedparser's de-duplication)."""
    url = served(srv, "/cats", payloads.many_categories(100_000))
    started = time.monotonic()
    run, store, _ = fetch_all(f'- {{id: cats, kind: rss, url: "{url}"}}', settings="max_tags: 20")
    assert time.monotonic() - started < 30
    assert run.results[0].status == "ok"
    extra = store.query("SELECT extra FROM items")[0]["extra"]
    assert extra.count('"c') == 20


def test_a_one_megabyte_thai_title_is_cut_before_tokenising(srv: HostileServer, fetch_all) -> None:
    """Limit: 10 s, and the title kept at ``settings.max_title_chars`` (before: 71 s)."""
    url = served(srv, "/title", payloads.huge_thai_title(1_000_000))
    started = time.monotonic()
    _run, store, _ = fetch_all(f'- {{id: title, kind: rss, url: "{url}"}}', settings="max_title_chars: 500")
    assert time.monotonic() - started < 10
    row = store.query("SELECT title, tokens FROM items")[0]
    assert len(row["title"]) == 500
    assert 0 < len(row["tokens"].split("\n")[0].split()) < 500  # the title was tokenised, within its cap


def test_a_fifty_megabyte_jsonl_body(tmp_path: Path) -> None:
    """Limit: 60 s and 1.2 GB peak memory in its own process, and both rows stored (before: 9
    minutes and 2.2 GB)."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "big.jsonl").write_bytes(payloads.jsonl_huge_body(50))
    (tmp_path / "sources.yaml").write_text("sources:\n  - {id: notes, kind: file, path: notes}\n", encoding="utf-8")
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "scanner", "--config", str(tmp_path / "sources.yaml"),
                             "fetch", "--all"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    with proc.stdout:
        output = proc.stdout.read()
    _, code, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(code)
    elapsed = time.monotonic() - started
    assert os.waitstatus_to_exitcode(code) == 0, output.decode()
    assert elapsed < 60
    assert usage.ru_maxrss * 1024 < 1_200_000_000
    with Store.open(tmp_path / "signals.db") as store:
        rows = store.query("SELECT guid, length(content) AS n FROM items ORDER BY guid")
    assert [r["guid"] for r in rows] == ["big", "ok"]
    assert rows[0]["n"] == 200_000  # settings.max_body_chars


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "lollollollollollollollollollol">'
                  + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
                  + ']><rss version="2.0"><channel><title>t</title><item><title>ข่าว &j;</title>'
                  '<link>http://example.org/x</link><description>d</description></item></channel></rss>')
XXE = ('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><rss version="2.0">'
       '<channel><title>t</title><item><title>ข่าว &xxe;</title><link>http://example.org/y</link>'
       '<description>d &xxe;</description></item></channel></rss>')


def test_entity_expansion_and_external_entities_expand_nothing(srv: HostileServer, fetch_all) -> None:
    """Limit: 10 s, nothing expanded, no local file read."""
    laughs, xxe = served(srv, "/laughs", BILLION_LAUGHS.encode()), served(srv, "/xxe", XXE.encode())
    started = time.monotonic()
    _run, store, _ = fetch_all(f"""
        - {{id: laughs, kind: rss, url: "{laughs}"}}
        - {{id: xxe, kind: rss, url: "{xxe}"}}
    """)
    assert time.monotonic() - started < 10
    for row in store.query("SELECT title, summary, content FROM items"):
        text = " ".join(row.values())
        assert "lollollol" not in text and "root:" not in text
