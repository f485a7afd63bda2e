"""The polite HTTP client against a real local server."""

from __future__ import annotations

import itertools
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from scanner.errors import FetchError, HTTPStatusError, ResponseTooLargeError, RobotsDisallowedError
from scanner.http import HttpClient, decode_body

UA = "scanner-test/1.0 (contact: lab@example.org)"


def client(**kwargs: object) -> HttpClient:
    options: dict[str, object] = {"user_agent": UA, "timeout": 5.0, "per_host_delay": 0.0, "backoff": 0.01}
    options.update(kwargs)
    options.setdefault("allow_hosts", ("127.0.0.1", "localhost"))
    return HttpClient(**options)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def no_robots(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)


def test_user_agent_and_body(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed", headers={"User-Agent": UA}).respond_with_data("<rss/>")
    with client() as http:
        resp = http.get(httpserver.url_for("/feed"))
    assert resp.status == 200 and resp.content == b"<rss/>"


def test_conditional_get_returns_304(httpserver: HTTPServer) -> None:
    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response("<rss/>", headers={"ETag": '"v1"', "Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT"})

    httpserver.expect_request("/feed").respond_with_handler(handler)
    with client() as http:
        first = http.get(httpserver.url_for("/feed"))
        assert first.etag == '"v1"' and first.last_modified == "Wed, 01 Jan 2025 00:00:00 GMT"
        second = http.get(httpserver.url_for("/feed"), etag=first.etag, last_modified=first.last_modified)
    assert second.not_modified and second.content == b""
    sent = [r for r, _ in httpserver.log if r.path == "/feed"]
    assert sent[1].headers["If-Modified-Since"] == "Wed, 01 Jan 2025 00:00:00 GMT"


def test_robots_txt_disallow_is_obeyed_and_cached(httpserver: HTTPServer) -> None:
    httpserver.clear()
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /private\n")
    httpserver.expect_request("/public").respond_with_data("ok")
    with client() as http:
        with pytest.raises(RobotsDisallowedError, match=r"robots\.txt"):
            http.get(httpserver.url_for("/private/feed"))
        assert http.get(httpserver.url_for("/public")).content == b"ok"
    assert [r.path for r, _ in httpserver.log] == ["/robots.txt", "/public"]


def test_robots_5xx_means_do_not_fetch(httpserver: HTTPServer) -> None:
    httpserver.clear()
    httpserver.expect_request("/robots.txt").respond_with_data("oops", status=500)
    with client(retries=0) as http, pytest.raises(RobotsDisallowedError, match="HTTP 500"):
        http.get(httpserver.url_for("/feed"))


def test_429_then_success_honours_retry_after(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/feed").respond_with_data("slow down", status=429, headers={"Retry-After": "1"})
    httpserver.expect_request("/feed").respond_with_data("<rss/>")
    with client() as http:
        started = time.monotonic()
        resp = http.get(httpserver.url_for("/feed"))
        waited = time.monotonic() - started
    assert resp.status == 200 and resp.content == b"<rss/>"
    assert waited >= 0.9  # it waited as the server asked before retrying
    assert len([r for r, _ in httpserver.log if r.path == "/feed"]) == 2


def test_persistent_500_fails_after_retries(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data("down", status=503)
    with client(retries=2) as http, pytest.raises(HTTPStatusError) as exc:
        http.get(httpserver.url_for("/feed"))
    assert exc.value.status == 503
    assert len([r for r, _ in httpserver.log if r.path == "/feed"]) == 3


def test_404_is_an_http_status_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/missing").respond_with_data("gone", status=404)
    with client() as http, pytest.raises(HTTPStatusError, match="HTTP 404"):
        http.get(httpserver.url_for("/missing"))


def test_timeout(httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.5)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    with client(timeout=0.5, retries=0) as http, pytest.raises(FetchError, match="timed out"):
        http.get(httpserver.url_for("/slow"))


def test_oversized_body_is_cut_at_the_cap(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 300_000)

    def stream(request: Request) -> Response:
        return Response((b"y" * 65536 for _ in range(20)), direct_passthrough=True)  # no Content-Length

    httpserver.expect_request("/stream").respond_with_handler(stream)
    with client(max_bytes=100_000) as http:
        with pytest.raises(ResponseTooLargeError, match="100,000-byte cap"):
            http.get(httpserver.url_for("/big"))
        with pytest.raises(ResponseTooLargeError, match="stopped reading"):
            http.get(httpserver.url_for("/stream"))


def test_redirect_loop_is_stopped(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("", status=302, headers={"Location": "/a"})
    with client() as http, pytest.raises(FetchError, match="too many redirects"):
        http.get(httpserver.url_for("/a"))
    assert len(httpserver.log) < 15


def test_redirect_to_non_http_is_refused(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/r").respond_with_data("", status=301, headers={"Location": "ftp://example.org/x"})
    with client() as http, pytest.raises(FetchError, match="not http"):
        http.get(httpserver.url_for("/r"))


def test_redirect_is_followed(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/new"})
    httpserver.expect_request("/new").respond_with_data("moved")
    with client() as http:
        resp = http.get(httpserver.url_for("/old"))
    assert resp.content == b"moved" and resp.final_url == httpserver.url_for("/new")


def test_connection_refused_is_a_clear_error() -> None:
    with client(retries=0) as http, pytest.raises(FetchError, match="cannot connect"):
        http.get("http://127.0.0.1:9/feed")


def test_only_http_urls() -> None:
    with client() as http, pytest.raises(FetchError, match="only http"):
        http.get("file:///etc/passwd")


def test_per_host_delay_spaces_requests(httpserver: HTTPServer) -> None:
    stamps: list[float] = []

    def handler(request: Request) -> Response:
        stamps.append(time.monotonic())
        return Response("ok")

    httpserver.expect_request("/p").respond_with_handler(handler)
    with client(per_host_delay=0.3) as http:
        for _ in range(3):
            http.get(httpserver.url_for("/p"))
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert all(gap >= 0.25 for gap in gaps), gaps


def test_decode_body_thai_without_declaration() -> None:
    thai = "<html><body><p>รัฐบาลดิจิทัลเพื่อประชาชน ข่าวประชาสัมพันธ์ กระทรวงดิจิทัลเพื่อเศรษฐกิจและสังคม</p></body></html>"
    assert "รัฐบาลดิจิทัล" in decode_body(thai.encode("tis-620"))
    assert "รัฐบาลดิจิทัล" in decode_body(thai.encode("cp874"), "windows-874")
    assert "รัฐบาลดิจิทัล" in decode_body(thai.encode("utf-8"))
