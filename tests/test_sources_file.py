"""`file` sources: JSON Lines, JSON, CSV, folders, Thai Windows-874 CSV, bad rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from scanner.cli import cli
from scanner.clock import now_utc
from scanner.collect import fetch_source
from scanner.config import Config
from scanner.http import HttpClient
from scanner.models import SourceState
from scanner.sources import FetchContext
from scanner.store import Store


def fetch(config: Config, source_id: str):  # type: ignore[no-untyped-def]
    with HttpClient.from_settings(config.settings) as http:
        ctx = FetchContext(http=http, config=config, now=now_utc(), state=SourceState(source_id))
        return fetch_source(config.source(source_id), ctx)


def test_jsonl_folder_csv_and_bad_rows(tmp_path: Path, make_config: Callable[[str], Config],
                                       thaigov: list[dict[str, str]]) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    rows = [{"id": i["id"], "url": i["url"], "title": i["title"], "published": i["published"], "body": i["body"],
             "lang": i["lang"]} for i in thaigov[:3]]
    (notes / "press.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{not json\n", encoding="utf-8")
    # A focus-group note exported from Thai Excel: Windows-874, Thai dates in Buddhist Era.
    csv_text = ("id,title,date,notes,province\n"
                "fg-1,กลุ่มสนทนา ผู้สูงอายุ อ.แม่แจ่ม,23 มี.ค. 2568,ไม่มีสัญญาณอินเทอร์เน็ตที่บ้าน ใช้แอปทางรัฐไม่เป็น,เชียงใหม่\n"
                "fg-2,,,,\n")
    (notes / "focus.csv").write_bytes(csv_text.encode("cp874"))
    config = make_config("sources:\n  - id: notes\n    kind: file\n    path: notes\n    language: th\n")
    result = fetch(config, "notes")
    assert result.status == "ok"
    assert [i.title for i in result.items] == ["กลุ่มสนทนา ผู้สูงอายุ อ.แม่แจ่ม"] + [r["title"] for r in rows]
    fg = result.items[0]
    assert fg.content == "ไม่มีสัญญาณอินเทอร์เน็ตที่บ้าน ใช้แอปทางรัฐไม่เป็น"
    assert fg.published == datetime(2025, 3, 22, 17, 0, tzinfo=UTC)  # 23 Mar 2025 00:00 Bangkok
    assert fg.guid == "fg-1" and fg.extra == {"province": "เชียงใหม่"}
    assert result.warnings == [
        "focus.csv: not UTF-8, read as Thai Windows-874 (TIS-620)",
        "focus.csv:3: no title and no text; row skipped",
        "press.jsonl:4: not valid JSON (Expecting property name enclosed in double quotes); row skipped",
    ]


def test_jsonl_rows_keep_unicode_line_separators_in_their_text(tmp_path: Path,
                                                                make_config: Callable[[str], Config]) -> None:
    body = "ย่อหน้าแรก\u2028ย่อหน้าที่สอง\x85ต่อ\u2029จบ"
    rows = [{"id": "a", "title": "บันทึกสัมภาษณ์", "body": body, "published": "2025-03-01"},
            {"id": "b", "title": "บันทึกที่สอง", "body": "ข้อความ", "published": "2025-03-02"}]
    (tmp_path / "notes.jsonl").write_text("\r\n".join(json.dumps(r, ensure_ascii=False) for r in rows),
                                          encoding="utf-8")
    config = make_config("sources:\n  - id: notes\n    kind: file\n    path: notes.jsonl\n")
    result = fetch(config, "notes")
    assert result.warnings == [] and [i.guid for i in result.items] == ["a", "b"]
    assert "ย่อหน้าที่สอง" in result.items[0].content


def test_file_source_through_cli_twice_no_duplicates(tmp_path: Path, write_config: Callable[[str], Path],
                                                     thaigov: list[dict[str, str]]) -> None:
    archive = tmp_path / "archive.jsonl"
    archive.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in thaigov[:20]), encoding="utf-8")
    write_config("sources:\n  - id: archive\n    kind: file\n    path: archive.jsonl\n")
    runner = CliRunner()
    first = runner.invoke(cli, ["fetch"])
    assert first.exit_code == 0 and first.output.endswith("20 new items, 0 updated\n")
    second = runner.invoke(cli, ["fetch", "--all"])
    assert second.exit_code == 0 and second.output.endswith("0 new items, 0 updated\n")
    with Store.open(tmp_path / "signals.db") as store:
        assert store.count_items() == 20
        published = {r["published"] for r in store.query("SELECT published FROM items")}
    assert min(published) == "2024-08-31T17:00:00+00:00"


def test_empty_folder_is_ok_with_a_warning_and_a_deleted_one_fails(tmp_path: Path,
                                                                  make_config: Callable[[str], Config]) -> None:
    (tmp_path / "empty").mkdir()
    config = make_config("sources:\n  - id: empty\n    kind: file\n    path: empty\n")
    result = fetch(config, "empty")
    assert result.status == "ok" and result.items == []
    assert result.warnings == ["empty: the folder has no .jsonl, .json or .csv files yet"]
    (tmp_path / "empty").rmdir()
    result = fetch(config, "empty")
    assert result.status == "failed" and result.error == f"{tmp_path / 'empty'}: no such file or folder"
