"""The only network seam: a polite HTTP client.

- one ``requests`` session with the configured user agent and (connect, read) timeouts;
- retries with exponential backoff on connection errors, 429 and 5xx, honouring ``Retry-After`` (capped);
- bodies streamed and cut at ``max_bytes``;
- a total time budget per source (``Deadline``, ``settings.source_budget``; five times ``timeout``
  for a request made without one), enforced by a watchdog on the socket, so slow headers or a
  dripping body end on time; ``Retry-After`` and back-off waits are capped, and fail at once when
  they would overrun;
- connections only to public addresses, checked on every hop after resolving the name, except the
  hosts in ``settings.allow_hosts`` (``scanner.netguard``);
- redirects limited and only to http/https;
- robots.txt obeyed and cached per host (RFC 9309: 4xx = allow all, 5xx = disallow for now),
  with its ``Crawl-delay`` honoured;
- a minimum delay between requests to the same host, across threads;
- conditional GET: ``If-None-Match`` / ``If-Modified-Since``; a 304 is a cheap success.

Fetching returns bytes; parsing is the source kinds' job.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit
from urllib.robotparser import RobotFileParser

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader, MaxRetryError, ResponseError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from scanner.config import Settings
from scanner.errors import (
    BudgetExceededError,
    FetchError,
    HTTPStatusError,
    RefusedURLError,
    ResponseTooLargeError,
    RobotsDisallowedError,
)
from scanner.netguard import (
    Deadline,
    GuardedHTTPConnectionPool,
    GuardedHTTPSConnectionPool,
    current_deadline,
    guarded,
)
from scanner.normalize import http_url

logger = logging.getLogger(__name__)

RETRY_STATUSES = (429, 500, 502, 503, 504)
# Answers that say a request was not processed, so even a request that creates something is safe to
# send again: too many requests, and the server unavailable. After a 500, 502 or 504 it may have been.
NOT_PROCESSED_STATUSES = (429, 503)
MAX_RETRY_AFTER = 60.0
ROBOTS_TTL = 24 * 3600.0


class _CappedRetry(Retry):
    """urllib3 ``Retry`` whose waits are capped, so a hostile server cannot park a worker: ``Retry-After``
    at ``MAX_RETRY_AFTER``, and any wait that would end after the request's budget fails at once."""

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        try:
            value = super().get_retry_after(response)
        except (ValueError, OverflowError, InvalidHeader):  # a 5,000-digit Retry-After: taken as the cap
            value = MAX_RETRY_AFTER
        if value is None:
            return None
        value = min(value, MAX_RETRY_AFTER)
        current_deadline().allows_wait(value, f"Retry-After: {str(response.headers.get('Retry-After'))[:24]}")
        return value

    def increment(self, method: str | None = None, url: str | None = None, response: BaseHTTPResponse | None = None,
                  error: Exception | None = None, _pool: Any = None, _stacktrace: Any = None) -> _CappedRetry:
        """As urllib3's, but out of retries when the back-off before the next try would end after the
        budget: the last answer (an HTTP 500, a refused connection) is then what the caller sees."""
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        if new.get_backoff_time() >= current_deadline().left():
            reason = error or ResponseError(f"too many {response.status if response else 'failed'} answers")
            raise MaxRetryError(_pool, url or "", reason) from reason
        return new


class _GuardedAdapter(HTTPAdapter):
    """requests' adapter with connection pools whose connections follow ``scanner.netguard``."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": GuardedHTTPConnectionPool,
                                                   "https": GuardedHTTPSConnectionPool}


@dataclass
class HttpResponse:
    """A fetched response. ``content`` is the (decompressed) body, at most ``max_bytes`` long."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    content: bytes = b""
    elapsed: float = 0.0
    history: list[str] = field(default_factory=list)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers.items():
            if k.lower() == name:
                return v
        return None

    @property
    def etag(self) -> str | None:
        return self.header("etag")

    @property
    def last_modified(self) -> str | None:
        return self.header("last-modified")

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").lower()

    @property
    def charset(self) -> str | None:
        """The charset the HTTP ``Content-Type`` declares, if any."""
        for part in self.content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.strip() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return None

    def text(self) -> str:
        """The body as text: declared charset, else BOM/meta, else detection (TIS-620 included)."""
        return decode_body(self.content, self.charset)


def decode_body(content: bytes, declared: str | None = None) -> str:
    """Decode HTML/XML bytes. Tries the declared charset, then what the document says, then detection.

    Thai pages often declare nothing and are TIS-620 / Windows-874: ``UnicodeDammit`` with
    charset_normalizer finds them; as a last resort cp874 is tried before a lossy UTF-8.
    Many old Thai servers send ``charset=ISO-8859-1`` (a server default) for TIS-620 pages: a
    Latin-1 family charset is treated as a weak hint when the bytes look Thai or are valid UTF-8.
    """
    from bs4 import UnicodeDammit

    weak = declared is not None and declared.strip().lower().replace("_", "-") in LATIN1_NAMES
    if weak and (_looks_thai(content) or _is_utf8_text(content)):
        declared = None
    candidates = [declared] if declared else []
    dammit = UnicodeDammit(content, known_definite_encodings=candidates, is_html=True)
    if dammit.unicode_markup is not None and dammit.original_encoding:
        enc = dammit.original_encoding.lower()
        if enc in LATIN1_NAMES and not declared and _looks_thai(content):
            try:
                return content.decode("cp874")
            except UnicodeDecodeError:
                pass
        return dammit.unicode_markup
    for enc in ("utf-8", "cp874"):
        try:
            return content.decode(enc)
        except UnicodeDecodeError:
            continue
    return content.decode("utf-8", errors="replace")


LATIN1_NAMES = frozenset({"windows-1252", "cp1252", "iso-8859-1", "latin-1", "latin1", "iso8859-1", "ascii",
                          "us-ascii"})


def _is_utf8_text(content: bytes) -> bool:
    """Non-ASCII bytes that decode as UTF-8 (Latin-1 text almost never does)."""
    sample = content[:20000]
    if sample.isascii():
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start >= len(sample) - 4 and len(sample) == 20000
    return True


def _looks_thai(content: bytes) -> bool:
    """Bytes whose high half is mostly in TIS-620's Thai range (0xA1-0xFB), and that are not UTF-8."""
    sample = content[:20000]
    try:
        sample.decode("utf-8")
        return False
    except UnicodeDecodeError as e:
        if e.start >= len(sample) - 4:  # cut inside a UTF-8 sequence at the sample's end
            return False
    high = sum(1 for b in sample if b >= 0x80)
    thai_like = sum(1 for b in sample if 0xA1 <= b <= 0xFB)
    return thai_like > 20 and thai_like > 0.3 * max(1, high)


class HttpClient:
    """A polite, thread-safe HTTP client. One per run; share it between source workers."""

    def __init__(
        self,
        user_agent: str,
        timeout: float = 20.0,
        max_bytes: int = 20_000_000,
        per_host_delay: float = 1.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_redirects: int = 5,
        obey_robots: bool = True,
        allow_hosts: tuple[str, ...] = (),
    ) -> None:
        self.user_agent = user_agent
        self.backoff = backoff
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.per_host_delay = per_host_delay
        self.obey_robots = obey_robots
        self.allow_hosts = allow_hosts
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.session.headers["Accept-Encoding"] = "gzip, deflate"
        self.session.max_redirects = max_redirects
        retry = _CappedRetry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            redirect=max_redirects,
            backoff_factor=backoff,
            backoff_max=30,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
            raise_on_status=False,
            raise_on_redirect=False,
        )
        adapter = _GuardedAdapter(max_retries=retry, pool_connections=16, pool_maxsize=16)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._lock = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}
        self._host_last: dict[str, float] = {}
        self._robots: dict[str, tuple[float, RobotFileParser | None, str | None]] = {}

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> HttpClient:
        return cls(
            user_agent=settings.user_agent,
            timeout=settings.timeout,
            max_bytes=settings.max_bytes,
            per_host_delay=settings.per_host_delay,
            allow_hosts=tuple(settings.allow_hosts),
            **kwargs,
        )

    def close(self) -> None:
        self.session.close()

    def post_json(self, url: str, body: bytes, *, label: str, retries: int = 3, secret: bool = False,
                  deadline: Deadline | None = None) -> HttpResponse:
        """POST ``body`` to a webhook: ``send_json`` with method POST."""
        return self.send_json("POST", url, body, label=label, retries=retries, secret=secret, deadline=deadline)

    def send_json(self, method: str, url: str, body: bytes | None, *, label: str, retries: int = 3,
                  secret: bool = False, deadline: Deadline | None = None, headers: dict[str, str] | None = None,
                  secrets: tuple[str, ...] = (), creates: bool = False) -> HttpResponse:
        """Send ``body`` (UTF-8 JSON; ``None`` for a GET) to ``url`` with ``method`` (POST, PUT or GET)
        and extra ``headers`` within ``deadline`` (default: five times ``timeout``); raise
        ``FetchError`` (or a subclass; ``HTTPStatusError`` carries the start of the error body) on any
        failure.

        The address policy (``settings.allow_hosts``), timeouts and back-off are those of ``get``;
        429, 5xx and lost connections are retried up to ``retries`` times (a webhook may then see a
        message twice, which beats not at all). robots.txt and the per-host delay do not apply (this
        is not crawling) and redirects are not followed. Error messages name ``label``, never the URL;
        with ``secret`` the URL is also kept out of urllib3's log lines. ``secrets`` (an API token sent
        in ``headers``) are cut out of every message and log line.

        ``creates``: the request makes a new record each time it is processed (FTSS's ``POST
        /signals``), so it is sent again only when it cannot have been processed: a connection that
        never opened, or an answer in ``NOT_PROCESSED_STATUSES``; never after a read timeout or
        another 5xx, where a second copy could be made.
        """
        if http_url(url) is None:
            raise FetchError(f"{label}: the webhook address is not an http(s) URL")
        deadline = deadline or Deadline.after(5 * self.timeout)
        hidden = (_secret_forms(url) if secret else []) + [s for s in secrets if s]
        _REDACT.secrets.update(hidden)
        session = requests.Session()
        session.headers.update({"User-Agent": self.user_agent, "Content-Type": "application/json; charset=utf-8",
                                "Accept": "application/json", **(headers or {})})
        adapter = _GuardedAdapter(max_retries=_CappedRetry(
            total=retries, connect=retries, read=0 if creates else retries, status=retries, other=0, redirect=0,
            backoff_factor=self.backoff, backoff_max=30,
            status_forcelist=NOT_PROCESSED_STATUSES if creates else RETRY_STATUSES,
            allowed_methods=frozenset({"POST", "PUT", "GET"}), respect_retry_after_header=True, raise_on_status=False,
            raise_on_redirect=False))
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        started = time.monotonic()
        try:
            with guarded(self.allow_hosts, deadline, label) as active:
                try:
                    return self._post(session, url, body, label, started, method, hidden)
                except FetchError:
                    if not active.expired:
                        raise
                except Exception as e:  # whatever the libraries raise: this delivery failed
                    if not active.expired:
                        raise FetchError(f"{label}: unexpected {e.__class__.__name__} while posting: "
                                         f"{_redact(str(e), [url, *_secret_forms(url), *hidden])[:200]}") from None
            raise deadline.spent(label)
        finally:
            session.close()
            _REDACT.secrets.difference_update(hidden)

    def _post(self, session: requests.Session, url: str, body: bytes | None, label: str, started: float,
              method: str = "POST", hidden: list[str] | None = None) -> HttpResponse:
        forms = [url, *_secret_forms(url), *(hidden or [])]
        try:
            resp = session.request(method, url, data=body, timeout=(min(self.timeout, 10.0), self.timeout),
                                   allow_redirects=False, stream=True)
        except requests.RequestException as e:
            raise _transport_error(label, e, self.timeout, forms) from None
        try:
            content = resp.raw.read(65536, decode_content=True) or b""
            text = " ".join(content.decode("utf-8", "replace").split())[:200]
            if 300 <= resp.status_code < 400:
                raise HTTPStatusError(f"{label}: the webhook answered a redirect (HTTP {resp.status_code}), which "
                                      "is not followed: check the address", resp.status_code)
            if resp.status_code >= 400:
                detail = f": {_redact(text, forms)}" if text else ""
                raise HTTPStatusError(f"{label}: HTTP {resp.status_code} {resp.reason or ''}".rstrip() + detail,
                                      resp.status_code, _redact(content.decode("utf-8", "replace"), forms).encode())
            return self._response(label, resp, content, started)
        finally:
            resp.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ public
    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
        params: dict[str, Any] | None = None,
        deadline: Deadline | None = None,
    ) -> HttpResponse:
        """GET ``url`` politely within ``deadline`` (the source's budget; without one, five times
        ``timeout``, the default budget). Raises ``FetchError`` (or a subclass) on any failure; 304
        is returned."""
        if http_url(url) is None:
            raise FetchError(f"{url}: only http:// and https:// URLs can be fetched")
        deadline = deadline or Deadline.after(5 * self.timeout)
        if self.obey_robots:
            self._check_robots(url, deadline)
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        self._wait_for_host(urlsplit(url), deadline)
        return self._request(url, headers, params, deadline)

    # ------------------------------------------------------------------ internals
    def _request(self, url: str, headers: dict[str, str], params: dict[str, Any] | None,
                 deadline: Deadline) -> HttpResponse:
        """One request (its redirects, retries and body) under the address policy and ``deadline``."""
        started = time.monotonic()
        with guarded(self.allow_hosts, deadline, url) as active:
            try:
                return self._send(url, headers, params, started)
            except RefusedURLError:
                raise
            except FetchError:  # a wait refused in advance says why itself; a cut read is named below
                if not active.expired:
                    raise
            except Exception as e:  # whatever a hostile answer makes the libraries raise: this URL failed
                if not active.expired:
                    raise FetchError(f"{url}: unexpected {e.__class__.__name__} while fetching: "
                                     f"{str(e)[:200]}") from None
        raise deadline.spent(url)

    def _send(self, url: str, headers: dict[str, str], params: dict[str, Any] | None,
              started: float) -> HttpResponse:
        connect_timeout = min(self.timeout, 10.0)
        try:
            resp = self.session.get(
                url, headers=headers, params=params, timeout=(connect_timeout, self.timeout), stream=True
            )
        except requests.TooManyRedirects:
            raise FetchError(f"{url}: too many redirects (a redirect loop?)") from None
        except requests.exceptions.InvalidSchema as e:
            raise FetchError(f"{url}: redirected to a URL that is not http(s): {e}") from None
        except requests.RequestException as e:
            raise _transport_error(url, e, self.timeout) from None
        try:
            for r in [*resp.history, resp]:
                if http_url(r.url) is None:
                    raise FetchError(f"{url}: redirected to a URL that is not http(s): {r.url}")
            if resp.status_code == 304:
                return self._response(url, resp, b"", started)
            if resp.status_code >= 400:
                raise HTTPStatusError(f"{url}: HTTP {resp.status_code} {resp.reason or ''}".strip(), resp.status_code)
            declared = _length(resp.headers.get("Content-Length"))
            if declared is not None and declared > self.max_bytes:
                raise ResponseTooLargeError(
                    f"{url}: response is {declared:,} bytes, over the {self.max_bytes:,}-byte cap "
                    "(settings.max_bytes)"
                )
            chunks: list[bytes] = []
            size = 0
            try:
                for chunk in resp.iter_content(chunk_size=65536):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise ResponseTooLargeError(
                            f"{url}: response is over the {self.max_bytes:,}-byte cap (settings.max_bytes); "
                            "stopped reading"
                        )
                    chunks.append(chunk)
            except requests.RequestException as e:
                raise FetchError(f"{url}: connection broke while reading: {_reason(e)}") from None
            if current_deadline().left() <= 0:  # the watchdog ended the body early: it is not whole
                raise current_deadline().spent(url)
            return self._response(url, resp, b"".join(chunks), started)
        finally:
            resp.close()

    @staticmethod
    def _response(url: str, resp: requests.Response, body: bytes, started: float) -> HttpResponse:
        return HttpResponse(
            url=url,
            final_url=resp.url,
            status=resp.status_code,
            headers=dict(resp.headers),
            content=body,
            elapsed=time.monotonic() - started,
            history=[r.url for r in resp.history],
        )

    def _host_key(self, parts: SplitResult) -> str:
        return f"{parts.scheme}://{parts.netloc.lower()}"

    def _wait_for_host(self, parts: SplitResult, deadline: Deadline) -> None:
        key = self._host_key(parts)
        with self._lock:
            lock = self._host_locks.setdefault(key, threading.Lock())
        delay = max(self.per_host_delay, self._crawl_delay(key))
        # Reserve this request's slot under the lock, then sleep outside it: a source waiting for
        # its turn never holds up another source's check of its own budget.
        _acquire(lock, deadline, f"{parts.netloc}: waiting for the turn to request this host")
        try:
            now = time.monotonic()
            last = self._host_last.get(key)
            wait = 0.0 if last is None else last + delay - now
            if wait > 0:
                deadline.allows_wait(wait, f"{parts.netloc}: the delay between requests to one host")
            self._host_last[key] = now + max(0.0, wait)
        finally:
            lock.release()
        if wait > 0:
            time.sleep(wait)

    def _crawl_delay(self, key: str) -> float:
        entry = self._robots.get(key)
        if not entry or entry[1] is None:
            return 0.0
        try:
            delay = entry[1].crawl_delay(self.user_agent)
        except (AttributeError, TypeError, ValueError):
            return 0.0
        return min(float(delay), 60.0) if delay else 0.0

    def _check_robots(self, url: str, deadline: Deadline) -> None:
        parts = urlsplit(url)
        key = self._host_key(parts)
        with self._lock:
            lock = self._host_locks.setdefault("robots:" + key, threading.Lock())
        _acquire(lock, deadline, f"{url}: waiting for robots.txt")
        try:
            entry = self._robots.get(key)
            if entry is None or time.monotonic() - entry[0] > ROBOTS_TTL:
                entry = self._load_robots(key, deadline)  # a spent budget raises: asked again next time
                self._robots[key] = entry
        finally:
            lock.release()
        _, parser, problem = entry
        if problem:
            raise RobotsDisallowedError(f"{url}: {problem}")
        if parser is not None and not parser.can_fetch(self.user_agent, url):
            raise RobotsDisallowedError(f"{url}: robots.txt of {parts.netloc} disallows this URL for our user agent")

    def _load_robots(self, key: str, deadline: Deadline) -> tuple[float, RobotFileParser | None, str | None]:
        robots_url = key + "/robots.txt"
        self._wait_for_host(urlsplit(robots_url), deadline)
        try:
            resp = self._request(robots_url, {}, None, deadline)
        except (RefusedURLError, BudgetExceededError):
            raise
        except HTTPStatusError as e:
            if 400 <= e.status < 500:
                return (time.monotonic(), None, None)  # no robots.txt: everything allowed
            return (time.monotonic(), None, f"robots.txt answered HTTP {e.status}; not fetching until it recovers")
        except FetchError as e:
            logger.info("robots.txt unreachable for %s: %s", key, e)
            return (time.monotonic(), None, None)
        parser = RobotFileParser(robots_url)
        parser.parse(decode_body(resp.content, resp.charset).splitlines())
        return (time.monotonic(), parser, None)


class _RedactFilter(logging.Filter):
    """Keeps secret webhook URLs (``post_json(secret=True)``, while it runs) out of urllib3's log lines."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            hidden = _redact(message, list(self.secrets))
            if hidden != message:
                record.msg, record.args = hidden, None
        return True


_REDACT = _RedactFilter()
for _name in ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.connection"):
    logging.getLogger(_name).addFilter(_REDACT)


def _secret_forms(url: str) -> list[str]:
    """The ways a URL shows up in messages: as given, as requests sends it, and its path with the query."""
    prepared = requests.Request("POST", url).prepare()
    forms = {url, prepared.url or url, prepared.path_url, urlsplit(url).query}
    return [f for f in forms if len(f) >= 8]


def _transport_error(label: str, e: requests.RequestException, timeout: float,
                     secrets: list[str] | None = None) -> FetchError:
    """What a request that got no answer says (fetches and posts alike), with ``secrets`` cut out."""
    hidden = secrets or []
    if isinstance(e, requests.exceptions.RetryError):
        return FetchError(f"{label}: gave up after retries: {_redact(_reason(e), hidden)}")
    if isinstance(e, requests.Timeout):
        return FetchError(f"{label}: timed out after {timeout:g}s")
    if isinstance(e, requests.ConnectionError):
        return FetchError(f"{label}: cannot connect: {_redact(_reason(e), hidden)}")
    return FetchError(f"{label}: request failed: {_redact(str(e), hidden)}")


def _redact(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 8:
            text = text.replace(secret, "…")
    return text


def _acquire(lock: threading.Lock, deadline: Deadline, what: str) -> None:
    """Take ``lock``, waiting at most until ``deadline`` (another source may hold it for long)."""
    left = deadline.left()
    if not lock.acquire(timeout=max(0.0, left) if math.isfinite(left) else -1):
        raise deadline.spent(what)


def _length(value: str | None) -> int | None:
    """A ``Content-Length`` as a number, or ``None`` when it is missing or not a plain number."""
    if value is None or not re.fullmatch(r"[0-9]{1,20}", value.strip()):
        return None
    return int(value.strip())


def _reason(exc: Exception) -> str:
    """The innermost useful message of a requests/urllib3 exception chain."""
    text = str(exc)
    for marker in ("NewConnectionError", "NameResolutionError", "ConnectTimeoutError", "ReadTimeoutError"):
        if marker in text:
            if "Name or service not known" in text or "NameResolution" in text or "nodename" in text:
                return "host name not found (DNS)"
            if "Connection refused" in text:
                return "connection refused"
            if "Timeout" in marker:
                return "timed out"
    if "Connection refused" in text:
        return "connection refused"
    if "too many 5" in text.lower() or "too many 429" in text.lower():
        return "the server kept answering with errors"
    return text[:300]
