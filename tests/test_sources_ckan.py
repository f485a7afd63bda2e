"""The ``ckan`` source kind against a local server answering like data.go.th's action API."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from werkzeug import Response

from scanner import collect
from scanner.cli import cli
from scanner.config import Config
from scanner.sources.ckan import api_url
from tests.listing_site import serve_robots, serve_site

CKAN = Path(__file__).resolve().parent / "data" / "ckan"
SEARCH = "/api/3/action/package_search"
SETTINGS = "settings:\n  per_host_delay: 0\n  timeout: 5\n  allow_hosts: [127.0.0.1, localhost]\n"


def ckan_source(server: HTTPServer, sid: str = "datagoth", prefix: str = "", extra: str = "") -> str:
    return f"""
  - id: {sid}
    kind: ckan
    url: {server.url_for(prefix or "/")}
    query: ทางรัฐ
    organization: dga{extra}
"""


def serve_search(server: HTTPServer, fixture: str = "package_search_dga.json", status: int = 200,
                 prefix: str = "", content_type: str = "application/json;charset=utf-8") -> None:
    server.expect_request(
        prefix + SEARCH,
        query_string={"q": "ทางรัฐ", "fq": "organization:dga", "rows": "50", "sort": "metadata_modified desc"},
    ).respond_with_data((CKAN / fixture).read_bytes(), status=status, content_type=content_type)


def test_datasets_become_items(httpserver: HTTPServer, make_config: Callable[[str], Config]) -> None:
    serve_robots(httpserver)
    serve_search(httpserver)
    config = make_config(SETTINGS + "sources:" + ckan_source(httpserver))
    result = collect.test_source(config, "datagoth")
    assert result.status == "ok", result.error
    base = httpserver.url_for("/").rstrip("/")
    assert [(i.title, i.url, i.guid, i.published, i.author) for i in result.items] == [
        ("จำนวนผู้ใช้งานแอปพลิเคชันทางรัฐ", f"{base}/dataset/thangrat-app-users",
         "5b8e7a7c-2d4f-4c1e-9a3e-1f0d2c3b4a5e", datetime(2024, 3, 23, 3, 15, 42, 123456, tzinfo=UTC),
         "สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน)"),
        ("บัญชีข้อมูลภาครัฐ: หน่วยงานที่ลงทะเบียน", f"{base}/dataset/government-data-catalog-agencies",
         "7d1f9e2a-3b4c-4d5e-8f60-718293a4b5c6", datetime(2024, 3, 20, 9, 45, 12, tzinfo=UTC),
         "สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน)"),
        ("Digital ID open API usage statistics", f"{base}/dataset/digital-id-open-api-usage",
         "0a0b0c0d-0e0f-4a1b-8c2d-3e4f5a6b7c8d", datetime(2024, 3, 18, 10, 0, tzinfo=UTC), None),
    ]
    first = result.items[0]
    assert first.summary == ("สถิติจำนวนผู้ใช้งานแอปพลิเคชัน ทางรัฐ รายเดือน จำแนกตามช่องทางการยืนยันตัวตน "
                             "(ThaID, ธนาคาร, เคาน์เตอร์บริการ)")
    assert first.content.split("\n")[1:] == [
        "Organisation: สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน)",
        "Tags: ทางรัฐ, รัฐบาลดิจิทัล, ThaID",
        "Resources (2):",
        "- ผู้ใช้งานทางรัฐ ปีงบประมาณ 2567 [CSV]",
        "- คำอธิบายชุดข้อมูล [PDF]",
    ]
    assert first.extra["organization"] == "dga"
    assert first.extra["metadata_created"] == "2023-06-14T02:11:05.482913"
    assert first.extra["resources"][0]["url"].endswith("/download/thangrat-2567.csv")
    assert result.items[2].extra["resources"] == [{"name": "(unnamed)", "format": "", "url": ""}]
    assert result.warnings == ["1 datasets skipped (no id or title, deleted or private)"]
    assert result.report["datasets"] == "57 match the search; 4 returned (rows=50); 3 items"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://data.go.th", "https://data.go.th/api/3/action/package_search"),
        ("https://data.go.th/", "https://data.go.th/api/3/action/package_search"),
        ("https://data.go.th/api/3/action/package_search", "https://data.go.th/api/3/action/package_search"),
        ("https://data.go.th/api/3", "https://data.go.th/api/3/action/package_search"),
        ("https://gdcatalog.go.th/ckan", "https://gdcatalog.go.th/ckan/api/3/action/package_search"),
    ],
)
def test_api_url_from_the_portal_base(given: str, expected: str) -> None:
    assert api_url(given) == expected


def test_portal_under_a_path_prefix(httpserver: HTTPServer, make_config: Callable[[str], Config]) -> None:
    serve_robots(httpserver)
    serve_search(httpserver, prefix="/ckan")
    config = make_config(SETTINGS + "sources:" + ckan_source(httpserver, prefix="/ckan/"))
    result = collect.test_source(config, "datagoth")
    assert result.items[0].url == httpserver.url_for("/ckan/dataset/thangrat-app-users")


@pytest.mark.parametrize(
    ("fixture", "status", "content_type", "message"),
    [
        ("error_search.json", 200, "application/json",
         "CKAN error (Search Query Error): Search Query is invalid: \"Invalid search parameters: ['organisation']\""),
        ("error_validation.json", 200, "application/json",
         "CKAN error (Validation Error): rows: ['Must be less than or equal to 1000']"),
        ("error_search.json", 409, "application/json",
         "HTTP 409 CONFLICT: CKAN rejected the search; check `query` (Solr syntax) or the organization 'dga' "
         "does not exist"),
        ("error_search.json", 404, "application/json",
         "HTTP 404 NOT FOUND: no CKAN action API here; set `url` to the portal's base address "
         "(for example https://data.go.th), not a dataset or search page"),
        ("README.md", 200, "text/plain",
         "the answer is not JSON (text/plain: Expecting value: line 1 column 1 (char 0)); is `url` a CKAN portal?"),
    ],
)
def test_ckan_errors_are_clear_per_source_failures(httpserver: HTTPServer, make_config: Callable[[str], Config],
                                                   fixture: str, status: int, content_type: str,
                                                   message: str) -> None:
    serve_robots(httpserver)
    serve_search(httpserver, fixture=fixture, status=status, content_type=content_type)
    config = make_config(SETTINGS + "sources:" + ckan_source(httpserver))
    result = collect.test_source(config, "datagoth")
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.endswith(message), result.error
    assert result.error.startswith(httpserver.url_for(SEARCH))


def test_html_instead_of_the_api(httpserver: HTTPServer, make_config: Callable[[str], Config]) -> None:
    serve_robots(httpserver)
    httpserver.expect_request(SEARCH).respond_with_data(
        "<!DOCTYPE html><html><body>ศูนย์กลางข้อมูลเปิดภาครัฐ</body></html>", content_type="text/html"
    )
    config = make_config(SETTINGS + "sources:" + ckan_source(httpserver))
    result = collect.test_source(config, "datagoth")
    assert result.error == (f"{httpserver.url_for(SEARCH)}: the server returned an HTML page, not CKAN JSON; "
                            "is `url` the base address of a CKAN portal?")


def test_fetch_cli_one_broken_source_fails_alone(httpserver: HTTPServer, write_config: Callable[[str], Path]) -> None:
    serve_site(httpserver)
    serve_search(httpserver)
    httpserver.expect_request("/broken" + SEARCH).respond_with_data(
        (CKAN / "error_search.json").read_bytes(), content_type="application/json"
    )
    httpserver.expect_request("/closed.html").respond_with_data(
        "<html><head><title>ปิดปรับปรุง</title></head><body><p>ปิดปรับปรุงระบบ</p></body></html>",
        content_type="text/html; charset=utf-8",
    )
    httpserver.expect_request("/huge.html").respond_with_data("<html>" + "ก" * 40_000 + "</html>",
                                                              content_type="text/html; charset=utf-8")
    path = write_config(SETTINGS + "  max_bytes: 100KB\nsources:" + ckan_source(httpserver)
                        + ckan_source(httpserver, sid="broken-ckan", prefix="/broken/") + f"""
  - id: dga-news
    kind: html
    url: {httpserver.url_for("/listing/page1.html")}
    item: div.news-item
    link: h3 a
    date: span.date
    fulltext: true
  - id: closed
    kind: html
    url: {httpserver.url_for("/closed.html")}
    item: div.news-item
  - id: huge
    kind: html
    url: {httpserver.url_for("/huge.html")}
    item: div.news-item
""")
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(path), "fetch", "--all"])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[-1] == "fetched 5 sources: 2 ok, 3 failed; 7 new items, 0 updated"
    failed = sorted(line.split(": FAILED: ")[0].strip() for line in lines if ": FAILED: " in line)
    assert failed == ["broken-ckan", "closed", "huge"]
    assert any(line.startswith("  huge: FAILED: ") and "over the 100,000-byte cap" in line for line in lines)
    assert any(line.startswith("  closed: FAILED: ") and "selector item='div.news-item' matched nothing" in line
               for line in lines)

    status = json.loads(runner.invoke(cli, ["--config", str(path), "status", "--format", "json"]).output)
    assert {r["source"]: (r["failures"], r["items"]) for r in status} == {
        "broken-ckan": (1, 0), "closed": (1, 0), "datagoth": (0, 3), "dga-news": (0, 4), "huge": (1, 0),
    }
    listed = runner.invoke(cli, ["--config", str(path), "items", "--source", "dga-news", "--format", "json"])
    items = json.loads(listed.output)
    assert [(i["published"], i["lang"], len(i["content"]) > 500) for i in items] == [
        ("2024-09-15T17:00:00+00:00", "th", True),
        ("2024-09-12T07:30:00+00:00", "th", True),
        ("2024-09-11T17:00:00+00:00", "th", True),
        ("2024-09-03T17:00:00+00:00", "th", True),  # no date in the listing: the article's Thai date
    ]
    search = runner.invoke(cli, ["--config", str(path), "items", "--search", "ทางรัฐ", "--format", "json"])
    assert [i["source_id"] for i in json.loads(search.output)] == ["datagoth"]

    again = runner.invoke(cli, ["--config", str(path), "fetch", "--source", "datagoth", "--source", "dga-news"])
    assert again.output.splitlines()[-1] == "fetched 2 sources: 2 ok, 0 failed; 0 new items, 0 updated"


def test_an_updated_dataset_updates_its_item(httpserver: HTTPServer, write_config: Callable[[str], Path]) -> None:
    serve_robots(httpserver)
    payload = json.loads((CKAN / "package_search_dga.json").read_text(encoding="utf-8"))
    state = {"body": json.dumps(payload, ensure_ascii=False)}
    httpserver.expect_request(SEARCH).respond_with_handler(
        lambda request: Response(state["body"], content_type="application/json")
    )
    path = write_config(SETTINGS + "sources:" + ckan_source(httpserver))
    runner = CliRunner()
    first = runner.invoke(cli, ["--config", str(path), "fetch", "--all"])
    assert first.output.splitlines()[-1] == "fetched 1 sources: 1 ok, 0 failed; 3 new items, 0 updated"
    dataset = payload["result"]["results"][1]
    dataset["metadata_modified"] = "2024-03-25T02:00:00.000000"
    dataset["resources"].append({"id": "new", "name": "รายชื่อหน่วยงาน ไตรมาส 2/2567", "format": "CSV",
                                 "url": "https://data.go.th/dataset/x/resource/new/download/q2.csv"})
    state["body"] = json.dumps(payload, ensure_ascii=False)
    second = runner.invoke(cli, ["--config", str(path), "fetch", "--all"])
    assert second.output.splitlines()[-1] == "fetched 1 sources: 1 ok, 0 failed; 0 new items, 1 updated"
    items = json.loads(runner.invoke(cli, ["--config", str(path), "items", "--search", "ไตรมาส 2/2567",
                                           "--format", "json"]).output)
    assert [i["title"] for i in items] == ["บัญชีข้อมูลภาครัฐ: หน่วยงานที่ลงทะเบียน"]
