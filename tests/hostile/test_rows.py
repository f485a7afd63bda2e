"""Found 6: one bad row or file must not fail the whole source. Limit: what is still stored, and
each skipped row reported with its line number."""

from __future__ import annotations

from pathlib import Path

from tests.hostile import payloads
from tests.hostile.server import HostileServer, respond


def file_source(tmp_path: Path, files: dict[str, bytes | str]) -> str:
    folder = tmp_path / "notes"
    folder.mkdir(exist_ok=True)
    for name, data in files.items():
        path = folder / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return f"- {{id: notes, kind: file, path: {folder}}}"


GOOD = '{"id": "ok", "title": "บันทึกการสนทนากลุ่ม", "body": "ชาวบ้านอยากใช้บริการออนไลน์"}'


def test_json_nested_a_hundred_thousand_deep_skips_that_row(tmp_path: Path, fetch_all) -> None:
    run, _store, _ = fetch_all(file_source(tmp_path, {"a.jsonl": payloads.deep_json_row() + "\n" + GOOD + "\n"}))
    result = run.results[0]
    assert result.status == "ok" and result.items_new == 1
    assert any("a.jsonl:1:" in w and "nested too deeply" in w for w in result.warnings)


def test_a_csv_field_over_131072_characters(tmp_path: Path, fetch_all) -> None:
    huge = "ก" * 150_000
    csv = f"id,title,body\nlong,บันทึกยาว,{huge}\nshort,บันทึกสั้น,ข้อความ\n"
    run, store, _ = fetch_all(file_source(tmp_path, {"a.csv": csv}))
    assert run.results[0].status == "ok"
    bodies = {r["guid"]: len(r["content"]) for r in store.query("SELECT guid, content FROM items")}
    assert bodies == {"long": 150_000, "short": len("ข้อความ")}  # a long note is one field, not an error


def test_a_csv_field_over_the_body_cap_is_skipped_with_its_line(tmp_path: Path, fetch_all) -> None:
    huge = "ก" * 1_100_000
    csv = f"id,title,body\nshort,บันทึกสั้น,ข้อความ\nlong,บันทึกยาว,{huge}\nlast,บันทึกท้าย,ข้อความ\n"
    run, store, _ = fetch_all(file_source(tmp_path, {"a.csv": csv}), settings="max_body_chars: 200000")
    result = run.results[0]
    assert sorted(r["guid"] for r in store.query("SELECT guid FROM items")) == ["last", "short"]
    assert any("a.csv:3:" in w and "row skipped" in w for w in result.warnings)


def test_an_undecodable_file_in_a_folder_skips_that_file(tmp_path: Path, fetch_all) -> None:
    run, _store, _ = fetch_all(file_source(tmp_path, {"bad.jsonl": b"\x81\x82\xff\xfe\x00\xc0" * 10,
                                                     "good.jsonl": GOOD + "\n"}))
    result = run.results[0]
    assert result.status == "ok" and result.items_new == 1
    assert any("bad.jsonl" in w and "skipped" in w for w in result.warnings)


def test_u2028_inside_a_jsonl_string_stays_one_row(tmp_path: Path, fetch_all) -> None:
    row = '{"id": "sep", "title": "บรรทัด\u2028แยก", "body": "ข้อความ\u0085ต่อ\u2029จบ"}'
    run, _store, _ = fetch_all(file_source(tmp_path, {"a.jsonl": row + "\n" + GOOD + "\n"}))
    assert run.results[0].items_new == 2 and not run.results[0].warnings


def test_a_ckan_record_with_tags_5_skips_that_record(srv: HostileServer, fetch_all) -> None:
    answer = payloads.ckan_answer([payloads.ckan_dataset(1), payloads.ckan_dataset(2, tags=5),
                                   payloads.ckan_dataset(3, resources="x", organization=[1])])
    srv.routes["/api/3/action/package_search"] = respond(answer, content_type="application/json")
    run, _store, _ = fetch_all(f'- {{id: portal, kind: ckan, url: "{srv.url("")}"}}')
    result = run.results[0]
    assert result.status == "ok" and result.items_new >= 2
    assert result.items_new + sum("malformed" in w for w in result.warnings) == 3
