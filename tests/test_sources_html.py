"""The ``html`` source kind against a real local HTTP server serving Thai listing pages."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from scanner import collect
from scanner.cli import cli
from scanner.config import Config
from scanner.errors import ConfigError
from tests.listing_site import LISTINGS, host, requests_to, serve_endless_pages, serve_robots, serve_site

BKK = ZoneInfo("Asia/Bangkok")
SETTINGS = """
settings:
  per_host_delay: 0
  timeout: 5
  allow_hosts: [127.0.0.1, localhost]
"""


# The real press-release titles the fixture listing carries (demo/data/thaigov_sample.jsonl).
TITLES = {
    "88045": "ดีอี จัดพิธีสักการะพระพรหม และพิธีเจริญพระพุทธมนต์ เนื่องในโอกาสวันคล้ายวันสถาปนากระทรวงดิจิทัลฯครบรอบ 8 ปี",
    "87938": "พม. ยกระดับทักษะดิจิทัลให้บุคลากร เชื่อมโยงข้อมูล ช่วยผู้ประสบปัญหาให้ครอบคลุม",
    "87912": "วธ.จับมือกระทรวงดิจิทัลเพื่อเศรษฐกิจและสังคมขับเคลื่อนนโยบายรัฐบาลดิจิทัล ชูใช้ระบบ e-Office "
             "ภายใต้คลาวด์กลางภาครัฐ",
    "87740": "ดีอี ร่วมประชุม UNESCAP ว่าด้วยการเปลี่ยนผ่านทางดิจิทัลในภูมิภาคเอเชีย – แปซิฟิก",
    "87702": "ดีอี ร่วมหารือทวิภาคี “ดิจิทัลโซลูชัน” รัฐบาล สาธารณรัฐคาซัคสถาน",
}


def bkk(*args: int) -> str:
    return datetime(*args, tzinfo=BKK).astimezone(UTC).isoformat()


def dga_source(server: HTTPServer, extra: str = "") -> str:
    return f"""
  - id: dga
    kind: html
    url: {server.url_for("/listing/page1.html")}
    item: div.news-item
    title: h3.news-title
    link: h3 a
    date: span.date
    summary: p.excerpt
    next_page: a.next
    max_pages: 5{extra}
"""


def test_listing_pages_give_every_item_once_with_resolved_links_and_thai_dates(
    httpserver: HTTPServer, make_config: Callable[[str], Config]
) -> None:
    serve_site(httpserver)
    config = make_config(SETTINGS + "sources:" + dga_source(httpserver))
    result = collect.test_source(config, "dga")
    h = host(httpserver)
    assert result.status == "ok", result.error
    got = [(i.url, i.title, i.published.isoformat() if i.published else None) for i in result.items]
    assert got == [
        (f"http://{h}/th/news/88045.html", TITLES["88045"], bkk(2024, 9, 16)),
        (f"http://{h}/th/news/87938.html", TITLES["87938"], bkk(2024, 9, 12)),
        (f"http://{h}/th/news/87912.html?utm_source=listing&utm_medium=web", TITLES["87912"],
         bkk(2024, 9, 12, 14, 30)),
        (f"http://{h}/th/news/87740.html#top", TITLES["87740"], None),
        (f"http://{h}/th/news/87702.html", TITLES["87702"], bkk(2024, 9, 3)),
    ]
    assert result.items[0].summary.startswith("นายประเสริฐ จันทรรวงทอง รองนายกรัฐมนตรี")
    assert result.warnings == ["1 entries skipped: their link is not http(s) (e.g. 'javascript:void(0)')"]
    # Page 2's "next" points back at page 1: each page was fetched exactly once.
    assert requests_to(httpserver, "/listing/page1.html") == 1
    assert requests_to(httpserver, "/th/news-list-2.html") == 1
    assert result.report["item"] == "'div.news-item' matched 7 entries on 2 page(s)"
    assert result.report["date"].startswith("'span.date' matched 4/7, understood 4/4; e.g. '๑๖ ก.ย. ๒๕๖๗' → ")
    assert result.report["next_page"] == (
        f"'a.next': page 2 → http://{h}/th/news-list-2.html; "
        f"stopped at http://{h}/listing/page1.html: already visited (a loop)"
    )
    assert result.report["items"] == "5 distinct items"


def test_default_selectors_find_link_title_and_a_date_in_the_entry_text(
    httpserver: HTTPServer, make_config: Callable[[str], Config]
) -> None:
    serve_site(httpserver)
    config = make_config(SETTINGS + f"""
sources:
  - id: dga
    kind: html
    url: {httpserver.url_for("/listing/page1.html")}
    item: div.news-item
""")
    result = collect.test_source(config, "dga")
    h = host(httpserver)
    got = [(i.url, i.title, i.published.isoformat() if i.published else None) for i in result.items]
    assert got == [
        # The first a[href] is an image link without text: the title comes from the heading.
        (f"http://{h}/th/news/88045.html", TITLES["88045"], bkk(2024, 9, 16)),
        (f"http://{h}/th/news/87938.html", TITLES["87938"], bkk(2024, 9, 12)),
        (f"http://{h}/th/news/87912.html?utm_source=listing&utm_medium=web", TITLES["87912"],
         bkk(2024, 9, 12, 14, 30)),
        (f"http://{h}/th/news/87740.html#top", TITLES["87740"], None),
    ]
    assert requests_to(httpserver, "/th/news-list-2.html") == 0  # no next_page: one page only


def test_tis620_page_without_declared_charset_decodes(httpserver: HTTPServer,
                                                      make_config: Callable[[str], Config]) -> None:
    serve_robots(httpserver)
    httpserver.expect_request("/dopa/news.php").respond_with_data(
        (LISTINGS / "tis620-list.html").read_bytes(), content_type="text/html"
    )
    config = make_config(SETTINGS + f"""
sources:
  - id: dopa
    kind: html
    url: {httpserver.url_for("/dopa/news.php")}
    item: tr.row
    date: td.date
""")
    result = collect.test_source(config, "dopa")
    assert result.status == "ok", result.error
    assert [(i.title, i.url, i.published) for i in result.items] == [
        ("กรมการปกครองเปิดให้บริการบัตรประจำตัวประชาชนดิจิทัลผ่านแอปพลิเคชัน ThaID ครบทุกอำเภอ",
         httpserver.url_for("/dopa/news_detail.php?id=1021"), datetime(2024, 3, 24, 17, 0, tzinfo=UTC)),
        ("ประชาสัมพันธ์การยืนยันตัวตนทางดิจิทัลสำหรับบริการภาครัฐ",
         httpserver.url_for("/dopa/news_detail.php?id=1019"), datetime(2024, 3, 21, 17, 0, tzinfo=UTC)),
        ("อบรมเจ้าหน้าที่ทะเบียนราษฎรเรื่องการคุ้มครองข้อมูลส่วนบุคคล",
         httpserver.url_for("/dopa/news_detail.php?id=1015"), datetime(2024, 3, 17, 17, 0, tzinfo=UTC)),
    ]


def test_tis620_page_served_as_latin1_decodes(httpserver: HTTPServer, make_config: Callable[[str], Config]) -> None:
    serve_robots(httpserver)
    httpserver.expect_request("/dopa/news.php").respond_with_data(
        (LISTINGS / "tis620-list.html").read_bytes(), content_type="text/html; charset=ISO-8859-1"
    )
    config = make_config(SETTINGS + f"""
sources:
  - id: dopa
    kind: html
    url: {httpserver.url_for("/dopa/news.php")}
    item: tr.row
""")
    result = collect.test_source(config, "dopa")
    assert result.items[0].title.startswith("กรมการปกครองเปิดให้บริการบัตรประจำตัวประชาชนดิจิทัล")


def test_item_selector_matching_nothing_fails_naming_it_and_showing_the_page(
    httpserver: HTTPServer, make_config: Callable[[str], Config]
) -> None:
    serve_robots(httpserver)
    httpserver.expect_request("/closed").respond_with_data(
        (LISTINGS / "not-a-listing.html").read_bytes(), content_type=HTML_TYPE
    )
    config = make_config(SETTINGS + f"""
sources:
  - id: closed
    kind: html
    url: {httpserver.url_for("/closed")}
    item: div.news-item
""")
    result = collect.test_source(config, "closed")
    assert result.status == "failed"
    assert result.error == (
        f"{httpserver.url_for('/closed')}: selector item='div.news-item' matched nothing; "
        "page title: 'ปิดปรับปรุงระบบชั่วคราว'; the page starts: 'ขออภัย เว็บไซต์ปิดปรับปรุงระบบชั่วคราว "
        "เว็บไซต์จะกลับมาให้บริการตามปกติในวันที่ 24 มี.ค. 2567 เวลา 06:00 น.'"
    )


HTML_TYPE = "text/html; charset=utf-8"


def test_field_selector_matching_nothing_fails_naming_it(httpserver: HTTPServer,
                                                         make_config: Callable[[str], Config]) -> None:
    serve_site(httpserver)
    config = make_config(SETTINGS + f"""
sources:
  - id: dga
    kind: html
    url: {httpserver.url_for("/listing/page1.html")}
    item: div.news-item
    date: span.published-on
""")
    result = collect.test_source(config, "dga")
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.startswith(
        f"{httpserver.url_for('/listing/page1.html')}: selector date='span.published-on' matched nothing inside "
        "any of the 5 entries of item='div.news-item' (first entry: 'ดีอี จัดพิธีสักการะพระพรหม"
    )
    assert "page title: 'ข่าวประชาสัมพันธ์ | สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน)'" in result.error


def test_endless_next_pages_stop_at_max_pages(httpserver: HTTPServer, make_config: Callable[[str], Config]) -> None:
    serve_robots(httpserver)
    serve_endless_pages(httpserver)
    config = make_config(SETTINGS + f"""
sources:
  - id: endless
    kind: html
    url: {httpserver.url_for("/endless/1")}
    item: li.n
    next_page: a.next
    max_pages: 3
""")
    result = collect.test_source(config, "endless")
    assert [i.title for i in result.items] == ["ข่าวลำดับที่ 1", "ข่าวลำดับที่ 2", "ข่าวลำดับที่ 3"]
    assert sum(1 for req, _ in httpserver.log if req.path.startswith("/endless/")) == 3
    assert result.report["next_page"] == (
        f"'a.next': page 2 → {httpserver.url_for('/endless/2')}; page 3 → {httpserver.url_for('/endless/3')}; "
        f"stopped after max_pages=3 (next would be {httpserver.url_for('/endless/4')})"
    )


def test_oversized_listing_fails_with_the_cap(httpserver: HTTPServer, make_config: Callable[[str], Config]) -> None:
    serve_robots(httpserver)
    big = "<html><body>" + '<div class="news-item"><a href="/x">ข่าว</a></div>' * 2000 + "</body></html>"
    httpserver.expect_request("/big").respond_with_data(big, content_type=HTML_TYPE)
    config = make_config(SETTINGS + "  max_bytes: 20KB\n" + f"""
sources:
  - id: big
    kind: html
    url: {httpserver.url_for("/big")}
    item: div.news-item
""")
    result = collect.test_source(config, "big")
    assert result.status == "failed"
    assert result.error is not None and "over the 20,000-byte cap (settings.max_bytes)" in result.error


def test_pdf_instead_of_a_listing_fails_clearly(httpserver: HTTPServer, make_config: Callable[[str], Config]) -> None:
    serve_robots(httpserver)
    httpserver.expect_request("/report.pdf").respond_with_data(b"%PDF-1.4 ...", content_type="application/pdf")
    config = make_config(SETTINGS + f"""
sources:
  - id: pdf
    kind: html
    url: {httpserver.url_for("/report.pdf")}
    item: div.news-item
""")
    result = collect.test_source(config, "pdf")
    assert result.error == (f"{httpserver.url_for('/report.pdf')}: not an HTML page (Content-Type application/pdf); "
                            "`url` must be a listing page")


def test_conditional_get_on_the_first_listing_page(httpserver: HTTPServer, write_config: Callable[[str], Path]) -> None:
    serve_robots(httpserver)
    page = (LISTINGS / "page2.html").read_bytes()

    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(page, content_type=HTML_TYPE, headers={"ETag": '"v1"'})

    httpserver.expect_request("/list").respond_with_handler(handler)
    path = write_config(SETTINGS + f"""
sources:
  - id: list
    kind: html
    url: {httpserver.url_for("/list")}
    item: div.news-item
""")
    runner = CliRunner()
    first = runner.invoke(cli, ["--config", str(path), "fetch", "--all"])
    second = runner.invoke(cli, ["--config", str(path), "fetch", "--all"])
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[-1] == "fetched 1 sources: 1 ok, 0 failed; 2 new items, 0 updated"
    assert second.exit_code == 0, second.output
    assert second.output.splitlines()[-1] == "fetched 1 sources: 1 ok, 0 failed; 0 new items, 0 updated"
    assert [r.headers.get("If-None-Match") for r, _ in httpserver.log if r.path == "/list"] == [None, '"v1"']


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("item", '"div[class="', "sources[0].item: 'div[class=' is not a valid CSS selector"),
        ("date", '"span..date"', "sources[0].date: 'span..date' is not a valid CSS selector"),
        ("max_pages", "0", "sources[0].max_pages: Input should be greater than or equal to 1"),
    ],
)
def test_bad_selectors_are_config_errors_with_line_numbers(
    make_config: Callable[[str], Config], field: str, value: str, message: str
) -> None:
    lines = {"item": "div.news-item", field: value}
    body = "\n".join(f"    {k}: {v}" for k, v in lines.items())
    with pytest.raises(ConfigError) as err:
        make_config(f"""
sources:
  - id: dga
    kind: html
    url: https://www.dga.or.th/th/news/
{body}
""")
    line = 5 if field == "item" else 6
    assert len(err.value.problems) == 1
    assert err.value.problems[0].split(": ", 1)[0].endswith(f"sources.yaml:{line}")
    assert message in err.value.problems[0]


def test_sources_test_cli_prints_what_each_selector_matched(httpserver: HTTPServer,
                                                           write_config: Callable[[str], Path]) -> None:
    serve_site(httpserver)
    path = write_config(SETTINGS + "sources:" + dga_source(httpserver))
    result = CliRunner().invoke(cli, ["--config", str(path), "sources", "test", "dga", "--limit", "2"])
    h = host(httpserver)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"page 1: http://{h}/listing/page1.html (5 entries, ")
    assert lines[1].startswith(f"page 2: http://{h}/th/news-list-2.html (2 entries, ")
    assert lines[2] == "item: 'div.news-item' matched 7 entries on 2 page(s)"
    assert lines[3] == (f"link: 'h3 a' matched 7/7; 1 non-http link(s) dropped, e.g. 'javascript:void(0)'; "
                        f"e.g. http://{h}/th/news/88045.html")
    assert lines[4] == f"title: 'h3.news-title' matched 6/7; e.g. {TITLES['88045'][:80]}"
    assert lines[5] == ("date: 'span.date' matched 4/7, understood 4/4; e.g. '๑๖ ก.ย. ๒๕๖๗' → "
                        "2024-09-15T17:00:00+00:00")
    assert lines[6].startswith("summary: 'p.excerpt' matched 6/7; e.g. นายประเสริฐ")
    assert lines[8] == "items: 5 distinct items"
    assert lines[9] == "dga: ok, HTTP 200, 5 items"
    assert lines[10] == "  warning: 1 entries skipped: their link is not http(s) (e.g. 'javascript:void(0)')"
    assert lines[11].startswith("- ดีอี จัดพิธีสักการะพระพรหม")
    assert lines[12] == "    date: 2024-09-16 00:00 +07"  # shown in the lab time zone
    assert lines[-1] == "… and 3 more"


def test_five_lines_of_yaml_to_full_text_thai_items(httpserver: HTTPServer,
                                                   write_config: Callable[[str], Path]) -> None:
    """The issue's 'done when': a site without a feed in five lines, checked, fetched, listed."""
    serve_site(httpserver)
    path = write_config(SETTINGS + f"""
sources:
  - id: dga
    kind: html
    url: {httpserver.url_for("/listing/page1.html")}
    item: div.news-item
    fulltext: true
""")
    runner = CliRunner()
    check = runner.invoke(cli, ["--config", str(path), "sources", "check"])
    assert check.output == f"{path}: OK, 1 sources (1 html), 1 enabled, 0 topics\n"
    tried = runner.invoke(cli, ["--config", str(path), "sources", "test", "dga"])
    assert tried.exit_code == 0, tried.output
    assert "dga: ok, HTTP 200, 4 items" in tried.output
    # The article's text (its headline dropped: it is the title), not the listing's teaser.
    assert "    text: วันที่ 16 กันยายน 2567 นายประเสริฐ จันทรรวงทอง รองนายกรัฐมนตรี" in tried.output
    fetched = runner.invoke(cli, ["--config", str(path), "fetch"])
    assert fetched.exit_code == 0, fetched.output
    assert fetched.output.splitlines()[-1] == "fetched 1 sources: 1 ok, 0 failed; 4 new items, 0 updated"
    table = runner.invoke(cli, ["--config", str(path), "items"]).output
    for aid in ("88045", "87938", "87912", "87740"):
        assert TITLES[aid][:50] in table
    items = json.loads(runner.invoke(cli, ["--config", str(path), "items", "--format", "json"]).output)
    assert [(i["title"], i["published"], i["date_missing"], i["author"]) for i in items] == [
        (TITLES["88045"], bkk(2024, 9, 16), 0, "กองสื่อสารองค์กร"),
        (TITLES["87912"], bkk(2024, 9, 12, 14, 30), 0, "กองสื่อสารองค์กร"),
        (TITLES["87938"], bkk(2024, 9, 12), 0, "กองสื่อสารองค์กร"),
        (TITLES["87740"], bkk(2024, 9, 4), 0, "กองสื่อสารองค์กร"),  # from the article page
    ]
    assert all(len(i["content"]) > 500 and i["lang"] == "th" for i in items)


@pytest.mark.parametrize(
    ("body", "declared", "expected"),
    [
        ("ข่าวประชาสัมพันธ์ กรมการปกครอง ThaID".encode("cp874") * 3, None, "ข่าวประชาสัมพันธ์ กรมการปกครอง ThaID" * 3),
        ("ข่าวประชาสัมพันธ์ กรมการปกครอง ThaID".encode("cp874") * 3, "ISO-8859-1",
         "ข่าวประชาสัมพันธ์ กรมการปกครอง ThaID" * 3),
        ("<p>รัฐบาลดิจิทัล</p>".encode(), "iso-8859-1", "<p>รัฐบาลดิจิทัล</p>"),
        ("Café crème brûlée à la carte".encode("latin-1"), "ISO-8859-1", "Café crème brûlée à la carte"),
        ("<p>รัฐบาลดิจิทัล</p>".encode("cp874"), "tis-620", "<p>รัฐบาลดิจิทัล</p>"),
    ],
)
def test_decode_body_thai_and_misdeclared_latin1(body: bytes, declared: str | None, expected: str) -> None:
    from scanner.http import decode_body

    assert decode_body(body, declared) == expected


def test_several_listing_urls_one_broken_gives_a_warning(httpserver: HTTPServer,
                                                         make_config: Callable[[str], Config]) -> None:
    serve_site(httpserver)
    httpserver.expect_request("/th/old-news.html").respond_with_data("ไม่พบหน้า", status=404)
    config = make_config(SETTINGS + f"""
sources:
  - id: dga
    kind: html
    url:
      - {httpserver.url_for("/th/old-news.html")}
      - {httpserver.url_for("/th/news-list-2.html")}
    item: div.news-item
    next_page: a.pager-next
""")
    result = collect.test_source(config, "dga")
    assert result.status == "ok"
    assert [i.url for i in result.items] == [httpserver.url_for("/th/news/87740.html"),
                                             httpserver.url_for("/th/news/87702.html")]
    assert result.warnings == [
        f"next_page 'a.pager-next' matched nothing on {httpserver.url_for('/th/news-list-2.html')}; "
        "only that page was read",
        f"{httpserver.url_for('/th/old-news.html')}: HTTP 404 NOT FOUND (other listing pages were read)",
    ]
    assert result.report["next_page"] == "'a.pager-next': no further page"
