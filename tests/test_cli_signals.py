"""``scanner analyse``, ``scanner signals`` (list, show) and ``scanner export signals|items``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.analysis.analyse import analyse
from scanner.cli import cli
from scanner.clock import as_of_datetime
from scanner.config import load_config
from scanner.store import Store
from tests.signal_data import add_items

CONFIG = """
analysis:
  embedder: hashing
"""


@pytest.fixture
def analysed(store: Store, write_config: Callable[[str], Path]) -> tuple[Path, dict[str, list[int]]]:
    ids = {
        "opendata": add_items(store, [("opendata", "ข้อมูลเปิด ภาครัฐ", d) for d in ("2025-01-06", "2025-01-07",
                                                                                  "2025-01-14")]),
        "fraud": add_items(store, [("fraud", "มิจฉาชีพ บัญชีม้า", d) for d in ("2025-01-13", "2025-01-15")], start=10),
        "off": add_items(store, [("wifi", "อินเทอร์เน็ต หมู่บ้าน", "2025-01-08")], start=20, relevant=False),
    }
    path = write_config(CONFIG)
    result = analyse(load_config(path), store, as_of_datetime("2025-01-19"), relevance=False)
    assert result.lines == [
        "analyse 2025-W03 (window 12 weeks): 5 relevant of 6 items (stored relevance), 5 stories",
        "signals: 2 tracked; 2 born, 0 merged, 0 split; 0 items in no signal; 0 trends",
        "states: established 1, new 1",
    ]
    return path, ids


def invoke(path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(path), *args])
    return result.exit_code, result.output


def test_signals_table_lists_new_first(analysed: tuple[Path, dict[str, list[int]]]) -> None:
    path, _ = analysed
    code, out = invoke(path, "signals")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["id", "state", "items", "last_seen", "title", "keywords"]
    assert lines[2].split()[:4] == ["2", "new", "2", "2025-W03"]
    assert lines[3].split()[:4] == ["1", "established", "3", "2025-W03"]
    code, out = invoke(path, "signals", "--state", "new")
    assert code == 0
    assert [ln.split()[0] for ln in out.splitlines()[2:]] == ["2"]
    code, out = invoke(path, "signals", "--state", "fading")
    assert (code, out) == (0, "(none)\n")
    code, out = invoke(path, "signals", "--state", "hot")
    assert code == 2 and "'hot' is not one of" in out


def test_signals_json_has_the_public_fields(analysed: tuple[Path, dict[str, list[int]]]) -> None:
    path, ids = analysed
    code, out = invoke(path, "signals", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [s["id"] for s in data] == [2, 1]
    first = data[1]
    for key in ("id", "title", "keywords", "state", "topics", "tags", "first_seen", "weeks", "items"):
        assert key in first
    assert first["first_seen"] == "2025-W02" and first["topics"] == ["digital-id"]
    assert sorted(m["id"] for m in first["items"]) == ids["opendata"]
    assert all(m["url"].startswith("https://example.org/") for m in first["items"])
    assert [(w["week"], w["items"], w["stories"]) for w in first["weeks"]] == [("2025-W02", 2, 2),
                                                                             ("2025-W03", 1, 1)]


def test_signals_show(analysed: tuple[Path, dict[str, list[int]]], store: Store) -> None:
    path, ids = analysed
    with store.transaction() as conn:
        conn.execute("UPDATE signals SET custom_title = 'Open data portals' WHERE id = 1")
    code, out = invoke(path, "signals", "show", "1")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "signal 1: Open data portals"
    assert lines[1].startswith("  automatic name: ") and len(lines[1]) <= len("  automatic name: ") + 60
    assert lines[2] == "  example: ข้อมูลเปิด ภาครัฐ"
    assert lines[3] == "  state: established (active); first seen 2025-W02, last seen 2025-W03"
    assert lines[4].startswith("  keywords (th): ") and "แพลตฟอร์ม" in lines[4]
    assert "weekly history:" in lines and "events:" in lines
    members = lines[lines.index(f"members ({len(ids['opendata'])}):") + 3:][:3]
    assert [int(m.split()[0]) for m in members] == sorted(ids["opendata"], reverse=True)
    assert "2025-W03  born     {\"items\": 3, \"stories\": 3}" in out
    code, out = invoke(path, "signals", "show", "99")
    assert code == 2 and out == "Error: no signal with id 99 (list them with `scanner signals --all`)\n"


def test_export_signals_json_and_csv(analysed: tuple[Path, dict[str, list[int]]], tmp_path: Path) -> None:
    path, ids = analysed
    code, out = invoke(path, "export", "signals", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [s["id"] for s in data] == [1, 2]
    assert data[0]["example"] == "ข้อมูลเปิด ภาครัฐ" and data[0]["state"] == "established"
    assert data[0]["name"] == data[0]["title"] and " · " in data[0]["name"]
    code, out = invoke(path, "export", "signals", "--format", "csv", "-o", str(tmp_path / "s.csv"))
    assert (code, out) == (0, "")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "s.csv").read_text(encoding="utf-8"))))
    assert [r["id"] for r in rows] == ["1", "2"]
    assert rows[1]["item_ids"] == " ".join(str(i) for i in sorted(ids["fraud"], reverse=True))
    assert rows[0]["tags"] and rows[0]["keywords_en"]


def test_export_items_jsonl_and_csv(analysed: tuple[Path, dict[str, list[int]]]) -> None:
    path, ids = analysed
    code, out = invoke(path, "export", "items", "--format", "jsonl")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 6
    by_id = {r["id"]: r for r in rows}
    assert by_id[ids["off"][0]]["relevant"] is False and by_id[ids["off"][0]]["signal_id"] is None
    first = by_id[ids["opendata"][0]]
    assert {k: first[k] for k in ("url", "published", "lang", "relevance", "relevant", "signal_id")} == {
        "url": "https://example.org/news/0", "published": "2025-01-06T03:00:00+00:00", "lang": "th",
        "relevance": 1.0, "relevant": True, "signal_id": 1}
    code, out = invoke(path, "export", "items", "--format", "csv", "--relevant")
    assert code == 0
    table = list(csv.DictReader(io.StringIO(out)))
    assert len(table) == 5 and set(table[0]) >= {"id", "url", "title", "published", "lang", "relevance", "relevant",
                                                  "signal_id"}
    assert {r["signal_id"] for r in table} == {"1", "2"}


def test_analyse_command(write_config: Callable[[str], Path]) -> None:
    path = write_config(CONFIG)
    result = CliRunner().invoke(cli, ["--config", str(path), "analyse", "--as-of", "2025-01-19"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("analyse 2025-W03 (window 12 weeks): 0 relevant of 0 items (")  # (how relevance ran)
    assert lines[1:] == ["signals: 0 tracked; 0 born, 0 merged, 0 split; 0 items in no signal; 0 trends",
                         "states: none"]
    code, out = invoke(path, "analyse", "--as-of", "soon")
    assert code == 2 and "--as-of" in out
