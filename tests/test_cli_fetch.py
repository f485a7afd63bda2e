"""`scanner fetch`, `items`, `status`, `run` and `sources …` through click's CliRunner, against real
local HTTP servers and a real SQLite file."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from scanner.cli import cli
from scanner.demo import FeedServer, published_at
from scanner.store import Store


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def fifty_feeds(thaigov: list[dict[str, Any]]) -> Iterator[FeedServer]:
    items = thaigov[:500]
    feeds = {f"feed-{n:02d}": (f"Feed {n}", "rss", sorted(items[n::50], key=published_at)) for n in range(50)}
    server = FeedServer(feeds, window=100).start()
    yield server
    server.stop()


def feeds_config(server: FeedServer, extra: str = "") -> str:
    lines = ["settings:", "  per_host_delay: 0", "  allow_hosts: [127.0.0.1, localhost]", "sources:"]
    for fid in server.feeds:
        lines += [f"  - id: {fid}", "    kind: rss", f"    url: {server.url(fid)}", "    every: 1h"]
    return "\n".join(lines) + "\n" + extra


def test_fifty_feeds_stored_exactly_once_then_conditional(
    fifty_feeds: FeedServer, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    write_config(feeds_config(fifty_feeds))
    first = run("fetch")
    assert first.exit_code == 0, first.output
    assert first.output.strip().splitlines()[-1] == "fetched 50 sources: 50 ok, 0 failed; 500 new items, 0 updated"
    with Store.open(tmp_path / "signals.db") as store:
        urls = [r["url"] for r in store.query("SELECT url FROM items")]
    assert len(urls) == 500 and len(set(urls)) == 500
    # Nothing is due an hour later yet; --all fetches anyway, with conditional requests.
    assert run("fetch").output.strip() == "no sources are due (use --all to fetch every source now)"
    fifty_feeds.requests.clear()
    second = run("fetch", "--all")
    assert second.exit_code == 0
    assert second.output.strip().splitlines()[-1] == "fetched 50 sources: 50 ok, 0 failed; 0 new items, 0 updated"
    assert sorted(status for _, status in fifty_feeds.requests) == [304] * 50
    with Store.open(tmp_path / "signals.db") as store:
        assert store.count_items() == 500
        statuses = {r["status"] for r in store.query("SELECT status FROM fetches WHERE id > 50")}
    assert statuses == {"not_modified"}


def test_exit_codes_some_and_all_failed(fifty_feeds: FeedServer, write_config: Callable[[str], Path]) -> None:
    dead = "  - id: dead\n    kind: rss\n    url: http://127.0.0.1:9/feed.xml\n"
    write_config(f"settings:\n  per_host_delay: 0\n  allow_hosts: [127.0.0.1]\nsources:\n  - id: ok\n    kind: rss\n"
                 f"    url: {fifty_feeds.url('feed-01')}\n{dead}")
    result = run("fetch")
    assert result.exit_code == 1
    assert "dead: FAILED: http://127.0.0.1:9/feed.xml: cannot connect: connection refused" in result.output
    assert result.output.strip().splitlines()[-1] == "fetched 2 sources: 1 ok, 1 failed; 10 new items, 0 updated"
    write_config(f"sources:\n{dead}")
    assert run("fetch", "--all").exit_code == 3


def test_config_error_exit_code_2_and_nothing_written(write_config: Callable[[str], Path], tmp_path: Path) -> None:
    write_config("sources:\n  - id: x\n    kind: rss\n    url: not-a-url\n")
    result = run("fetch")
    assert result.exit_code == 2
    assert "Error: sources.yaml:4: sources[0].url: 'not-a-url' is not a valid http(s) URL" in result.output
    assert not (tmp_path / "signals.db").exists()
    assert run("fetch", "--source", "nope").exit_code == 2


def test_unknown_source_id(fifty_feeds: FeedServer, write_config: Callable[[str], Path]) -> None:
    write_config(feeds_config(fifty_feeds))
    result = run("fetch", "--source", "feed-99")
    assert result.exit_code == 2 and "no source with id 'feed-99'" in result.output


def test_sources_check_list_schema(fifty_feeds: FeedServer, write_config: Callable[[str], Path],
                                   tmp_path: Path) -> None:
    write_config(feeds_config(fifty_feeds))
    check = run("sources", "check")
    assert check.exit_code == 0
    assert check.output == "sources.yaml: OK, 50 sources (50 rss), 50 enabled, 0 topics\n"
    listing = json.loads(run("sources", "list", "--format", "json").output)
    assert listing[0] == {"id": "feed-00", "kind": "rss", "language": "auto", "every": "1h", "enabled": True,
                          "tags": "", "where": fifty_feeds.url("feed-00")}
    schema = json.loads(run("sources", "schema").output)
    assert schema["title"] == "scanner sources.yaml"
    assert "sources" in schema["properties"]


def test_sources_test_stores_nothing(fifty_feeds: FeedServer, write_config: Callable[[str], Path],
                                     tmp_path: Path) -> None:
    write_config(feeds_config(fifty_feeds))
    result = run("sources", "test", "feed-03", "--limit", "2")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "feed-03: ok, HTTP 200, 10 items"
    assert lines[1].startswith("- ") and lines[2].startswith("    date: 20")
    assert lines[-1] == "… and 8 more"
    assert not (tmp_path / "signals.db").exists()


def test_items_search_formats_and_status(fifty_feeds: FeedServer, write_config: Callable[[str], Path],
                                         thaigov: list[dict[str, Any]]) -> None:
    write_config(feeds_config(fifty_feeds))
    run("fetch")
    found = json.loads(run("items", "--search", "ไซเบอร์", "--format", "json", "--limit", "0").output)
    expected = {i["url"] for i in thaigov[:500] if "ไซเบอร์" in i["title"] + i["body"]}
    assert {f["url"] for f in found} == expected
    only = json.loads(run("items", "--source", "feed-07", "--format", "json", "--limit", "0").output)
    assert len(only) == 10 and {o["source_id"] for o in only} == {"feed-07"}
    since = json.loads(run("items", "--since", "2024-12-01", "--format", "json", "--limit", "0").output)
    expected_since = {i["url"] for i in thaigov[:500] if i["published"] >= "2024-12-01"}
    assert {o["url"] for o in since} == expected_since and all(
        o["published"] >= "2024-11-30T17:00:00+00:00" for o in since)
    csv_out = run("items", "--format", "csv", "--limit", "3").output.splitlines()
    assert csv_out[0].startswith("id,source_id,url,title,published") and len(csv_out) >= 4
    status = run("status").output.splitlines()
    assert status[0].split() == ["source", "kind", "every", "last_success", "failures", "items", "next_due",
                                 "last_error"]
    assert len(status) == 54 and status[2].split()[:3] == ["feed-00", "rss", "1h"]
    assert status[52:] == ["", "scheduler: never started on this database (`scanner schedule` writes a heartbeat; "
                           "`scanner run --once` from cron does not: check last_success above)"]


def test_run_once_fetches_due_sources(fifty_feeds: FeedServer, write_config: Callable[[str], Path]) -> None:
    write_config(feeds_config(fifty_feeds))
    result = run("run", "--once", "--as-of", "2025-04-01")
    assert result.exit_code == 0
    assert "fetch: 50 sources due, 50 ok, 0 failed; 500 new items, 0 updated" in result.output
    assert run("run").exit_code == 2


def test_status_only_reads(fifty_feeds: FeedServer, write_config: Callable[[str], Path], tmp_path: Path) -> None:
    path = write_config(feeds_config(fifty_feeds))
    db = tmp_path / "signals.db"
    first = run("status", "--format", "json")
    assert first.exit_code == 0 and not db.exists()  # no database yet: reported, not created
    assert {r["next_due"] for r in json.loads(first.output.split("\n\n")[0])} == {"now"}
    run("fetch", "--source", "feed-00")
    path.write_text(feeds_config(fifty_feeds).replace("every: 1h", "every: 2h"), encoding="utf-8")
    with Store.open(db) as store:
        before = store.query("SELECT * FROM sources ORDER BY id")
    rows = json.loads(run("status", "--format", "json").output.split("\n\n")[0])
    assert rows[0]["source"] == "feed-00" and rows[0]["every"] == 7200 and rows[0]["next_due"] != "now"
    assert rows[1]["next_due"] == "now"
    with Store.open(db) as store:
        assert store.query("SELECT * FROM sources ORDER BY id") == before  # the edited file was not synced


@pytest.mark.parametrize("command", [["fetch"], ["run", "--once"], ["analyse"], ["digest"]])
@pytest.mark.parametrize("bad", ["soon", "2025-02-30", "25/03/2568"])
def test_a_bad_as_of_is_a_usage_error_in_every_command(write_config: Callable[[str], Path], tmp_path: Path,
                                                       command: list[str], bad: str) -> None:
    write_config("sources: []\n")
    result = CliRunner().invoke(cli, [*command, "--as-of", bad])
    assert result.exit_code == 2
    assert f"Error: Invalid value for '--as-of': {bad!r} is not a date: write YYYY-MM-DD" in result.output
    assert not (tmp_path / "signals.db").exists()
