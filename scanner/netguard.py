"""What the HTTP client may connect to, and for how long: the address policy and the time budget.

- **Addresses.** Every connection, on every redirect hop, resolves the host itself, refuses
  loopback, private, link-local, multicast, reserved and unspecified addresses (a feed must not
  steer the scanner into the lab's own network), and connects to the very address it checked, so a
  second DNS answer cannot swap in another one (DNS rebinding). ``settings.allow_hosts`` lists the
  ``host`` or ``host:port`` names that may be fetched although they resolve to such addresses
  (tests and the demo allow ``127.0.0.1``). Numeric forms such as ``2130706433`` or ``[::ffff:7f00:1]``
  resolve to what they mean and are refused the same way.
- **Time.** A ``Deadline`` is a source's total budget (``settings.source_budget``). While a request
  runs under one, a watchdog shuts its socket down when the budget ends, so neither slow headers nor
  a body that drips one byte at a time can hold a worker past it; new connections get at most the
  time left as their timeout; waits (politeness delay, ``Retry-After``, back-off) that would end
  after the budget fail at once instead of sleeping.

The policy reaches urllib3's connections through a thread-local set for the duration of one
request (``guarded``): requests and urllib3 run a request on the calling thread.
"""

from __future__ import annotations

import ipaddress
import math
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection

from scanner.errors import BudgetExceededError, RefusedURLError


@dataclass
class Deadline:
    """A total time budget, on the monotonic clock. ``Deadline.none()`` never ends."""

    at: float
    seconds: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds, seconds)

    @classmethod
    def none(cls) -> Deadline:
        return cls(math.inf, math.inf)

    def left(self) -> float:
        return self.at - time.monotonic()

    def spent(self, what: str) -> BudgetExceededError:
        """The error for ``what`` stopped at this budget."""
        return BudgetExceededError(f"{what}: the source's time budget of {self.seconds:g}s is spent "
                                   "(settings.source_budget)")

    def check(self, what: str) -> None:
        """Raise ``BudgetExceededError`` naming ``what`` when the budget is spent."""
        if self.left() <= 0:
            raise self.spent(what)

    def allows_wait(self, seconds: float, what: str) -> None:
        """Raise when waiting ``seconds`` would end after the budget (instead of sleeping in vain)."""
        if seconds >= self.left():
            raise BudgetExceededError(f"{what}: waiting {seconds:g}s would overrun the source's time budget of "
                                      f"{self.seconds:g}s (settings.source_budget)")


def internal_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """An address a fetch must not reach unless its host is allowed: not a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback
            or ip.is_link_local or ip.is_private)


def allow_entry(entry: str) -> tuple[str, int | None]:
    """An ``allow_hosts`` entry as ``(host, port or None)``: ``name``, ``name:port``, ``1.2.3.4``,
    ``::1`` or ``[::1]:8080``. Raises ``ValueError`` for anything else (checked at config load)."""
    text = entry.strip().lower()
    host, port, has_port = text, "", False
    if text.startswith("["):
        host, closed, rest = text[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            raise ValueError(f"{entry!r} is not host or host:port (an IPv6 address with a port is [addr]:port)")
        port, has_port = rest[1:], bool(rest)
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
        has_port = True
    host = host.rstrip(".")
    if not host or any(c.isspace() or c in "/@?#[]" for c in host):
        raise ValueError(f"{entry!r} is not a host name or address (write host or host:port, no scheme or path)")
    if has_port and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"{entry!r}: the port must be a number from 1 to 65535")
    return host, int(port) if has_port else None


def host_allowed(host: str, port: int | None, allow_hosts: Sequence[str]) -> bool:
    """``host`` (and ``port``) matches an entry of ``settings.allow_hosts``."""
    host = host.lower().strip("[]").rstrip(".")
    for entry in allow_hosts:
        name, entry_port = allow_entry(entry)
        if name == host and (entry_port is None or entry_port == port):
            return True
    return False


@dataclass
class _Active:
    """What the request running on this thread may do: allowed hosts, budget, its open connections."""

    allow_hosts: Sequence[str]
    deadline: Deadline
    lock: threading.Lock = field(default_factory=threading.Lock)  # ``socks`` and ``expired`` change together
    # The sockets it opened or reused (kept here: http.client drops a connection's reference to its
    # socket once a "Connection: close" response owns it).
    socks: list[socket.socket] = field(default_factory=list)
    expired: bool = False


_local = threading.local()


def _active() -> _Active | None:
    return getattr(_local, "active", None)


def current_deadline() -> Deadline:
    """The budget of the request running on this thread (``Deadline.none()`` outside one)."""
    active = _active()
    return active.deadline if active else Deadline.none()


@contextmanager
def guarded(allow_hosts: Sequence[str], deadline: Deadline, what: str) -> Iterator[_Active]:
    """Run one request (all its redirect hops and its body) under the address policy and ``deadline``."""
    deadline.check(what)
    active = _Active(allow_hosts, deadline)
    previous = _active()
    _local.active = active
    timer: threading.Timer | None = None
    if math.isfinite(deadline.at):
        timer = threading.Timer(max(0.0, deadline.left()), _expire, args=[active])
        timer.daemon = True
        timer.start()
    try:
        yield active
    finally:
        if timer is not None:
            timer.cancel()
        _local.active = previous


def _expire(active: _Active) -> None:
    """The budget ended: unblock whatever the request is reading by shutting its sockets down."""
    with active.lock:
        active.expired = True
        socks = list(active.socks)
    for sock in socks:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _watch(active: _Active | None, sock: socket.socket, host: str) -> None:
    """Put ``sock`` under the request's watchdog; if the budget ran out meanwhile, close it and raise."""
    if active is None:
        return
    with active.lock:
        expired = active.expired
        if not expired:
            active.socks.append(sock)
    if expired:
        sock.close()
        raise active.deadline.spent(host)


def _resolve(host: str, port: int, active: _Active | None) -> list[tuple[Any, ...]]:
    """``getaddrinfo``, but given up when the budget ends (a hostile name server can be slow too)."""
    if active is None or not math.isfinite(active.deadline.at):
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    box: dict[str, Any] = {}

    def lookup() -> None:
        try:
            box["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except BaseException as e:  # handed to the waiting thread
            box["error"] = e

    worker = threading.Thread(target=lookup, name="dns", daemon=True)
    worker.start()
    worker.join(max(0.0, active.deadline.left()))
    if worker.is_alive():
        raise active.deadline.spent(f"{host}: the name lookup")
    if "error" in box:
        raise box["error"]
    return list(box["infos"])


def _resolve_checked(host: str, port: int, allow_hosts: Sequence[str],
                     active: _Active | None = None) -> list[tuple[int, tuple[str, int]]]:
    """``(family, sockaddr)`` of ``host`` that may be connected to; raises ``RefusedURLError`` if none."""
    infos = _resolve(host, port, active)
    found = [(int(family), (str(sockaddr[0]), int(sockaddr[1]))) for family, _, _, _, sockaddr in infos]
    if host_allowed(host, port, allow_hosts):
        return found
    ok: list[tuple[int, tuple[str, int]]] = []
    refused: list[tuple[int, tuple[str, int]]] = []
    for family, sockaddr in found:
        ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        (refused if internal_address(ip) else ok).append((family, sockaddr))
    if not ok:
        shown = refused[0][1][0] if refused else "nothing"
        raise RefusedURLError(
            f"{host}: resolves to {shown}, an internal address (loopback, private, link-local, multicast or "
            f"reserved); not fetched. If this host is really wanted, list {host!r} in settings.allow_hosts")
    return ok


def _still_in_time(active: _Active | None, host: str) -> None:
    """No new connection or request once the budget is spent: urllib3 would otherwise retry the
    read the watchdog cut, on a fresh connection, with a fresh timeout."""
    if active is not None and (active.expired or active.deadline.left() <= 0):
        active.expired = True
        raise active.deadline.spent(host)


class GuardedHTTPConnection(HTTPConnection):
    """An urllib3 connection that applies the thread's address policy and budget (see module doc)."""

    def _new_conn(self) -> socket.socket:
        active = _active()
        _still_in_time(active, self.host)
        allow: Sequence[str] = active.allow_hosts if active else ()
        try:
            addresses = _resolve_checked(self._dns_host, self.port, allow, active)
        except socket.gaierror as e:
            raise NameResolutionError(self.host, self, e) from e
        _still_in_time(active, self.host)
        timeout = self.timeout
        if active is not None and math.isfinite(active.deadline.at):
            left = max(0.001, active.deadline.left())  # computed after the lookup: what is really left
            timeout = left if not isinstance(timeout, (int, float)) else min(float(timeout), left)
        last: OSError | None = None
        for _family, sockaddr in addresses:
            try:
                sock = connection.create_connection(sockaddr, timeout, source_address=self.source_address,
                                                    socket_options=self.socket_options)
            except TimeoutError as e:
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out. (connect timeout="
                                                f"{timeout})") from e
            except OSError as e:
                last = e
                continue
            _watch(active, sock, self.host)
            return sock
        raise NewConnectionError(self, f"Failed to establish a new connection: {last}")

    def request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        # A pooled (kept-alive) connection made by an earlier request joins this request's watch.
        active = _active()
        _still_in_time(active, self.host)
        if active is not None and self.sock is not None and self.sock not in active.socks:
            _watch(active, self.sock, self.host)
        return super().request(*args, **kwargs)


class GuardedHTTPSConnection(GuardedHTTPConnection, HTTPSConnection):
    """HTTPS with the same policy: TLS still checks the certificate against the host name."""


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection
