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
import re
import socket
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from urllib.parse import urlsplit

import httpx

from trendbot import USER_AGENT
from trendbot.config import HttpConfig
from trendbot.errors import FetchError, RetryLater
from trendbot.models import Validators
from trendbot.timeutil import utcnow
from trendbot.urls import without_secrets

log = logging.getLogger(__name__)

DEFAULT_RETRY_LATER = timedelta(minutes=15)
MAX_RETRY_LATER = timedelta(days=1)
MAX_RETRY_LATER_S = int(MAX_RETRY_LATER.total_seconds())
_DIGITS = re.compile(r"[0-9]+")
DECODED_CHUNK = 64 * 1024  # at most this much decompressed output per step of one layer
MAX_CODINGS = 2  # "gzip, gzip" is legal and seen; three layers are an attack, not a server


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
    """Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3).

    Whatever a server sends, the answer is a time between `now` and `now + MAX_RETRY_LATER`, or
    None when the value cannot be read (the caller then uses `DEFAULT_RETRY_LATER`): a delay of
    10^23 seconds or a date in the year 9999 is clamped, `²` or `soon` is not a number.
    """
    if not value:
        return None
    value = value.strip()
    if _DIGITS.fullmatch(value):
        seconds = min(int(value[:12]) if len(value) <= 12 else MAX_RETRY_LATER_S, MAX_RETRY_LATER_S)
        return now + timedelta(seconds=seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    try:
        delay = when - now
    except OverflowError:
        return now + MAX_RETRY_LATER
    return now + max(timedelta(0), min(delay, MAX_RETRY_LATER))


def describe_size(limit: int) -> str:
    return f"{limit / 1_000_000:g} MB" if limit >= 1_000_000 else f"{limit / 1000:g} kB"


class _Layer:
    """One `Content-Encoding` layer (gzip or deflate) undone a bounded step at a time, so a
    small compressed body can never turn into one huge buffer: each step yields at most
    `DECODED_CHUNK` bytes and the next layer, or the size cap, sees them at once."""

    def __init__(self, coding: str):
        self.coding = coding
        self.first = True
        self.zlib = zlib.decompressobj(zlib.MAX_WBITS | 16 if coding in ("gzip", "x-gzip") else zlib.MAX_WBITS)

    def steps(self, data: bytes):
        while True:
            try:
                out = self.zlib.decompress(data, DECODED_CHUNK)
            except zlib.error:
                if self.coding == "deflate" and self.first:
                    # "deflate" is zlib-wrapped by the RFC but raw in some servers' hands
                    self.first = False
                    self.zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise
            self.first = False
            data = self.zlib.unconsumed_tail
            if out:
                yield out
            if not data and len(out) < DECODED_CHUNK:
                return


class Decoder:
    """Every layer of a body's `Content-Encoding`, undone as the raw bytes arrive (the last
    coding applied is undone first); with no coding the bytes pass through."""

    def __init__(self, codings: list[str]):
        self.layers = [_Layer(coding) for coding in reversed(codings)]

    def feed(self, raw: bytes):
        pieces = iter([raw])
        for layer in self.layers:
            pieces = _through(layer, pieces)
        return pieces


def _through(layer: _Layer, pieces):
    for piece in pieces:
        yield from layer.steps(piece)


def content_codings(headers: httpx.Headers, url: str) -> list[str]:
    codings = [part.strip().lower() for value in headers.get_list("content-encoding")
               for part in value.split(",") if part.strip()]
    codings = [coding for coding in codings if coding != "identity"]
    unknown = [coding for coding in codings if coding not in ("gzip", "x-gzip", "deflate")]
    if unknown:
        raise FetchError(url, f"unsupported Content-Encoding {unknown[0]} (trendbot asks for gzip or deflate)")
    if len(codings) > MAX_CODINGS:
        raise FetchError(url, f"Content-Encoding stacks {len(codings)} layers (at most {MAX_CODINGS} are read)")
    return codings


def cause_of(exc: BaseException) -> BaseException | None:
    """The lowest error in an exception's chain (httpx wraps httpcore wraps the socket error)."""
    seen = 0
    while seen < 10 and (exc.__cause__ or exc.__context__) is not None:
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return exc


def retries_for(exc: Exception, configured: int) -> int:
    """How many times a transport error is worth retrying: a name that does not resolve never
    is, a refused connection once at most, anything else as configured."""
    cause = cause_of(exc)
    if isinstance(cause, socket.gaierror):
        return 0
    if isinstance(cause, ConnectionRefusedError):
        return min(configured, 1)
    return configured


@dataclass
class _HostGate:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last: float = float("-inf")


class HttpClient:
    """Async HTTP with trendbot's politeness and failure rules; use as `async with`."""

    def __init__(self, config: HttpConfig | None = None, now: datetime | None = None,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.config = config or HttpConfig()
        self.now = now or utcnow()  # the cycle's clock: Retry-After times count from it
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._gates: dict[str, _HostGate] = {}
        self._intervals: dict[str, float] = {}
        self._slots = asyncio.Semaphore(self.config.concurrency)
        self._host_slots: dict[str, asyncio.Semaphore] = {}

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

    def _per_host(self, host: str) -> asyncio.Semaphore:
        """At most `[http] per_host` requests in flight to one host: a source with many
        documents on one mirror (thirty X accounts) goes as fast as that host allows, without
        taking every slot from the other sources."""
        slots = self._host_slots.get(host)
        if slots is None:
            slots = self._host_slots[host] = asyncio.Semaphore(self.config.per_host)
        return slots

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
        """GET `url`; raise `FetchError` (or `RetryLater`) naming the URL and the reason.

        Each attempt has a total deadline (`[http] deadline`) covering connect, headers and
        body, however slowly the server drips them; the per-read `timeout` alone would let a
        server that sends a byte a second hold the run forever.
        """
        assert self._client is not None, "use HttpClient as an async context manager"
        request_headers = dict(headers or {})
        if validators and validators.etag:
            request_headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            request_headers["If-Modified-Since"] = validators.last_modified
        limit = max_bytes or self.config.max_bytes
        host = urlsplit(url).netloc
        deadline = self.config.deadline.total_seconds()
        allowed = self.config.retries
        attempt = 0
        while True:
            try:
                async with self._turn(host), self._per_host(host), self._slots:
                    async with asyncio.timeout(deadline):
                        response = await self._fetch(url, request_headers, limit)
            except TimeoutError:
                raise FetchError(url, f"no complete answer within {deadline:g}s ([http] deadline)") from None
            except httpx.TimeoutException:
                reason = f"timed out after {self.config.timeout.total_seconds():g}s"
            except httpx.TooManyRedirects:
                raise FetchError(url, "too many redirects") from None
            except (httpx.TransportError, zlib.error) as exc:
                reason = f"connection failed: {exc or type(exc).__name__}"
                if isinstance(exc, zlib.error):
                    reason = f"the compressed body is damaged: {exc}"
                allowed = min(allowed, retries_for(exc, self.config.retries))
            except httpx.InvalidURL as exc:
                raise FetchError(url, f"invalid URL: {exc}") from None
            else:
                status = response.status
                if status in (429, 503):
                    header = response.headers.get("retry-after")
                    until = parse_retry_after(header, self.now)
                    if header and until is None:
                        log.warning("%s: unreadable Retry-After %r; waiting %s", without_secrets(url), header[:40],
                                    DEFAULT_RETRY_LATER)
                    if until is not None or status == 429:
                        until = until or self.now + DEFAULT_RETRY_LATER
                        raise RetryLater(url, f"HTTP {status} {_phrase(status)}; next try after "
                                              f"{until.isoformat(timespec='seconds')}", until)
                if status < 400:
                    return response
                reason = f"HTTP {status} {_phrase(status)}"
                if status < 500:
                    raise FetchError(url, reason)
            if attempt >= allowed:
                raise FetchError(url, reason)
            delay = self.config.backoff.total_seconds() * (2 ** attempt)
            attempt += 1
            log.debug("retrying %s in %.2fs: %s", without_secrets(url), delay, reason)
            await asyncio.sleep(delay)

    async def _fetch(self, url: str, headers: dict[str, str], limit: int) -> Response:
        """One request (its line at -vv), the body read raw and decoded here under the size
        cap (httpx would decode each network chunk in one step, however much it expands)."""
        started = time.monotonic()
        try:
            return await self._read(url, headers, limit, started)
        except BaseException as exc:  # at -vv every request has its line, the ones that fail too
            reason = exc.reason if isinstance(exc, FetchError) else (str(exc) or type(exc).__name__)
            log.debug("GET %s failed after %.2fs: %s", without_secrets(url), time.monotonic() - started,
                      "stopped (deadline or interrupted)" if isinstance(exc, asyncio.CancelledError) else reason)
            raise

    async def _read(self, url: str, headers: dict[str, str], limit: int, started: float) -> Response:
        async with self._client.stream("GET", url, headers=headers) as response:
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise FetchError(url, f"response of {int(declared):,} bytes is over the {describe_size(limit)} cap")
            codings = content_codings(response.headers, url)
            decoder = Decoder(codings)
            chunks, size = [], 0
            async for raw in response.aiter_raw():
                for chunk in decoder.feed(raw):
                    size += len(chunk)
                    if size > limit:
                        raise FetchError(url, f"response is over the {describe_size(limit)} cap"
                                              + (" once decompressed" if codings else ""))
                    chunks.append(chunk)
        elapsed = time.monotonic() - started
        log.debug("GET %s %d %s bytes %.2fs", without_secrets(url), response.status_code, f"{size:,}", elapsed)
        return Response(str(response.url), response.status_code, response.headers, b"".join(chunks), elapsed)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
