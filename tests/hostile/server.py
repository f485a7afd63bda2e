"""A hostile web server on 127.0.0.1 with full control of the bytes on the wire.

pytest-httpserver answers like a well-behaved server; a hostile one sends headers one byte at a
time, lies in ``Retry-After``, redirects into the lab's network, or never stops. Each route is a
function that gets the request path and the raw socket and writes whatever it likes.

Used by ``tests/hostile`` and ``bench/hostile.py`` (which runs the same inputs against an older
checkout to show before and after).
"""

from __future__ import annotations

import gzip
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Route = Callable[[str, socket.socket], None]


def respond(body: bytes | str, status: str = "200 OK", content_type: str = "text/html; charset=utf-8",
            headers: dict[str, str] | None = None) -> Route:
    """A plain, honest response (the hostile part is in the body)."""
    data = body.encode("utf-8") if isinstance(body, str) else body

    def route(path: str, sock: socket.socket) -> None:
        head = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", f"Content-Length: {len(data)}",
                "Connection: close"]
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data)

    return route


def redirect(location: str, status: str = "302 Found") -> Route:
    return respond(b"", status=status, headers={"Location": location})


def drip(body: bytes, every: float, headers_too: bool = False, limit: float = 150.0) -> Route:
    """Send one byte every ``every`` seconds (the headers too, with ``headers_too``), for at most
    ``limit`` seconds: the slow-drip attack."""

    def route(path: str, sock: socket.socket) -> None:
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n").encode("latin-1")
        started = time.monotonic()
        if headers_too:
            data = head + body
        else:
            sock.sendall(head)
            data = body
        for i in range(len(data)):
            if time.monotonic() - started > limit:
                return
            sock.sendall(data[i:i + 1])
            time.sleep(every)

    return route


def gzip_bomb(size: int) -> Route:
    """``size`` zero bytes, gzip-compressed (about 1/1000 of that on the wire)."""
    blob = gzip.compress(b"\0" * size, compresslevel=9)
    return respond(blob, content_type="application/rss+xml", headers={"Content-Encoding": "gzip"})


def endless(chunk: bytes = b"<item>" * 1000, limit: float = 150.0) -> Route:
    """A body that never ends (no Content-Length, chunks until the client goes away)."""

    def route(path: str, sock: socket.socket) -> None:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n\r\n")
        started = time.monotonic()
        while time.monotonic() - started < limit:
            sock.sendall(chunk)

    return route


@dataclass
class HostileServer:
    """``with HostileServer() as srv: srv.routes["/feed"] = respond(...); srv.url("/feed")``."""

    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock: socket.socket = self.request
                sock.settimeout(10)
                data = b""
                try:
                    while b"\r\n\r\n" not in data and len(data) < 65536:
                        chunk = sock.recv(4096)
                        if not chunk:
                            return
                        data += chunk
                    line = data.split(b"\r\n", 1)[0].decode("latin-1")
                    path = line.split(" ")[1] if " " in line else "/"
                    server.hits.append(path)
                    route = server.routes.get(path) or server.routes.get(path.split("?", 1)[0])
                    if route is None:
                        respond(b"not here", status="404 Not Found")(path, sock)
                    else:
                        route(path, sock)
                except OSError:  # the client hung up: what a hostile server hopes for
                    pass

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def __enter__(self) -> HostileServer:
        self.routes.setdefault("/robots.txt", respond(b"User-agent: *\nAllow: /\n", content_type="text/plain"))
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
