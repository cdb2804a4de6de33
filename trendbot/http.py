"""The one place that talks HTTP.

Owns an `httpx.AsyncClient` with explicit timeouts and an identifying User-Agent, and applies
the rules every source gets for free: conditional GET (RFC 9110 §13.1: ETag/If-None-Match,
Last-Modified/If-Modified-Since; a 304 is a normal outcome), `Retry-After` on 429/503
(RFC 9110 §10.2.3) turned into a time the source may be fetched again instead of a sleep,
bounded retries with backoff on connection errors and 5xx, a streamed size cap, and a minimum
interval between requests to one host.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Callable
from urllib.parse import urlsplit

import httpx

from trendbot import USER_AGENT
from trendbot.config import HttpConfig
from trendbot.errors import FetchError, RetryLater
from trendbot.timeutil import utcnow

log = logging.getLogger(__name__)

DEFAULT_RETRY_LATER = timedelta(minutes=15)
MAX_RETRY_LATER = timedelta(days=1)


@dataclass
class Validators:
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class Response:
    url: str
    status: int
    headers: httpx.Headers
    body: bytes = b""
    elapsed: float = 0.0

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def validators(self) -> Validators:
        return Validators(self.headers.get("etag"), self.headers.get("last-modified"))

    def text(self) -> str:
        charset = "utf-8"
        for part in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        delay = timedelta(seconds=int(value))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        delay = when - now
    delay = max(timedelta(0), min(delay, MAX_RETRY_LATER))
    return now + delay


def describe_size(limit: int) -> str:
    return f"{limit / 1_000_000:g} MB" if limit >= 1_000_000 else f"{limit / 1000:g} kB"


@dataclass
class _HostGate:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last: float = float("-inf")


class HttpClient:
    """Async HTTP with trendbot's politeness and failure rules; use as `async with`."""

    def __init__(self, config: HttpConfig | None = None, now: Callable[[], datetime] = utcnow,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.config = config or HttpConfig()
        self.now = now
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._gates: dict[str, _HostGate] = {}
        self._intervals: dict[str, float] = {}
        self._slots = asyncio.Semaphore(self.config.concurrency)
        self.requests = 0

    async def __aenter__(self) -> HttpClient:
        cfg = self.config
        timeout = httpx.Timeout(cfg.timeout.total_seconds(), connect=cfg.connect_timeout.total_seconds())
        self._client = httpx.AsyncClient(
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
            follow_redirects=True,
            max_redirects=5,
            transport=self._transport,
            limits=httpx.Limits(max_connections=cfg.concurrency * 2, max_keepalive_connections=cfg.concurrency),
        )
        return self

    async def __aexit__(self, *exc) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def set_host_interval(self, url_or_host: str, seconds: float) -> None:
        """At most one request every `seconds` to this host (e.g. GeekNews asks for 1/s)."""
        host = urlsplit(url_or_host).netloc or url_or_host
        self._intervals[host] = max(seconds, self._intervals.get(host, 0.0))

    @contextlib.asynccontextmanager
    async def _turn(self, host: str):
        """Requests to a host with an interval go one at a time, each starting `interval` after
        the previous answer ended, so the server never sees two closer than that."""
        interval = self._intervals.get(host, self.config.host_interval.total_seconds())
        if interval <= 0:
            yield
            return
        gate = self._gates.setdefault(host, _HostGate())
        async with gate.lock:
            wait = gate.last + interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                gate.last = time.monotonic()

    async def get(self, url: str, *, validators: Validators | None = None,
                  headers: dict[str, str] | None = None, max_bytes: int | None = None) -> Response:
        """GET `url`; raise `FetchError` (or `RetryLater`) naming the URL and the reason."""
        assert self._client is not None, "use HttpClient as an async context manager"
        request_headers = dict(headers or {})
        if validators and validators.etag:
            request_headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            request_headers["If-Modified-Since"] = validators.last_modified
        limit = max_bytes or self.config.max_bytes
        host = urlsplit(url).netloc
        attempts = self.config.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                async with self._turn(host), self._slots:
                    response = await self._fetch(url, request_headers, limit)
            except httpx.TimeoutException:
                reason = f"timed out after {self.config.timeout.total_seconds():g}s"
            except httpx.TooManyRedirects:
                raise FetchError(url, "too many redirects") from None
            except (httpx.TransportError, httpx.DecodingError) as exc:
                reason = f"connection failed: {exc or type(exc).__name__}"
            except httpx.InvalidURL as exc:
                raise FetchError(url, f"invalid URL: {exc}") from None
            else:
                status = response.status
                if status in (429, 503):
                    until = parse_retry_after(response.headers.get("retry-after"), self.now())
                    if until is not None or status == 429:
                        until = until or self.now() + DEFAULT_RETRY_LATER
                        raise RetryLater(url, f"HTTP {status} {_phrase(status)}; next try after "
                                              f"{until.isoformat(timespec='seconds')}", until)
                if status < 400:
                    return response
                reason = f"HTTP {status} {_phrase(status)}"
                if status < 500:
                    raise FetchError(url, reason)
            if last:
                raise FetchError(url, reason)
            delay = self.config.backoff.total_seconds() * (2 ** attempt)
            log.debug("retrying %s in %.2fs: %s", url, delay, reason)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _fetch(self, url: str, headers: dict[str, str], limit: int) -> Response:
        started = time.monotonic()
        self.requests += 1
        async with self._client.stream("GET", url, headers=headers) as response:
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise FetchError(url, f"response of {int(declared):,} bytes is over the {describe_size(limit)} cap")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise FetchError(url, f"response is over the {describe_size(limit)} cap")
                chunks.append(chunk)
        return Response(str(response.url), response.status_code, response.headers, b"".join(chunks),
                        time.monotonic() - started)


def _phrase(status: int) -> str:
    try:
        from http import HTTPStatus

        return HTTPStatus(status).phrase
    except ValueError:
        return ""
