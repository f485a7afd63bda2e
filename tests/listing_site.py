"""A fake Thai agency site on pytest-httpserver, built from ``tests/data/listings/`` (shared by the
html, fulltext and CLI tests)."""

from __future__ import annotations

import re
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

LISTINGS = Path(__file__).resolve().parent / "data" / "listings"
ARTICLE_IDS = ["87702", "87740", "87912", "87938", "88045"]
HTML_UTF8 = "text/html; charset=utf-8"


def host(server: HTTPServer) -> str:
    return f"{server.host}:{server.port}"


def serve_robots(server: HTTPServer) -> None:
    server.expect_request("/robots.txt").respond_with_data("", status=404)


def serve_site(server: HTTPServer) -> dict[str, bytes]:
    """Listing pages 1-2 (page 2 links back to page 1), five articles, robots.txt 404.

    Returns the article bodies by path; change an entry to change what the server sends."""
    serve_robots(server)
    for name, path in (("page1.html", "/listing/page1.html"), ("page2.html", "/th/news-list-2.html")):
        text = (LISTINGS / name).read_text(encoding="utf-8").replace("{{HOST}}", host(server))
        server.expect_request(path).respond_with_data(text, content_type=HTML_UTF8)
    pages = {f"/th/news/{aid}.html": (LISTINGS / f"article-{aid}.html").read_bytes() for aid in ARTICLE_IDS}

    def article(request: Request) -> Response:
        body = pages.get(request.path)
        if body is None:
            return Response("ไม่พบหน้า", status=404)
        return Response(body, content_type=HTML_UTF8)

    server.expect_request(re.compile(r"^/th/news/[^/]+$")).respond_with_handler(article)
    return pages


def requests_to(server: HTTPServer, path: str) -> int:
    return sum(1 for req, _ in server.log if req.path == path)


def article_requests(server: HTTPServer) -> int:
    return sum(1 for req, _ in server.log if req.path.startswith("/th/news/"))


def serve_endless_pages(server: HTTPServer) -> None:
    """/endless/N links to /endless/N+1 forever."""

    def handler(request: Request) -> Response:
        n = int(request.path.rsplit("/", 1)[1])
        body = (f'<html><body><ul><li class="n"><a href="/story/{n}">ข่าวลำดับที่ {n}</a> 1 ม.ค. 2567</li></ul>'
                f'<a class="next" href="/endless/{n + 1}">ถัดไป</a></body></html>')
        return Response(body, content_type=HTML_UTF8)

    server.expect_request(re.compile(r"^/endless/\d+$")).respond_with_handler(handler)
