"""Messages to the person, through apprise: trendbot runs unattended, so it says when the day is
out, when a source has been down for a while and when it is back, and when a publish failed.

What to send is decided by pure functions of what happened (a publish's result, a source's
attempts from `fetch_history`, `now`), with no state of their own: a source is `down` at the
one attempt where its failures have lasted `[notify] down_after`, and `back` at the success
that ends such an outage, so each is sent once however many processes fetch. `published` is
sent when a day's section is first written into a post (or digests/D.md): the store had no
publication of that day there before.

Sending never changes what trendbot did: each URL gets its message within the HTTP deadline
or is given up, with one warning naming the service by its scheme and host. The URLs hold
tokens, so nothing here shows one: a service is named by its scheme and host (only when the
host is a host name, not a bot token or a topic), and what apprise says about a failure is
scrubbed of every part of the URL before it is shown. apprise (and
its hundred services) is imported only when a message is sent.

The same attempts make each source's record in `trendbot sources --days N`: per day, how
often it was fetched, how often that failed, and what it brought.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Iterable
from urllib.parse import unquote, urlsplit

from trendbot.errors import ConfigError
from trendbot.timeutil import day_of, format_duration

if TYPE_CHECKING:
    from trendbot.config import HttpConfig, NotifyConfig
    from trendbot.store import Attempt

log = logging.getLogger("trendbot.notify")
TITLES_SHOWN = 3      # stories named in a `published` message
ERROR_CHARS = 200     # the last error of a `down` message, in one short line
_POST_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})-(.+)\.(?:md|markdown|html)$")


@dataclass(frozen=True)
class Message:
    event: str            # published, down, back, failed, test
    title: str
    body: str


@dataclass(frozen=True)
class Delivery:
    """How sending to one URL went, with the URL shown only as its service."""

    service: str
    ok: bool
    reason: str | None = None


# -- what to send ------------------------------------------------------------------------------

def page_url(blog_url: str | None, post: str | None) -> str | None:
    """The post's page under Jekyll's default permalink (`/YYYY/MM/DD/slug.html`), when the
    blog's address is known and the post is a dated `_posts/` file."""
    if not blog_url or not post:
        return None
    found = _POST_NAME.match(PurePosixPath(post).name)
    if not found or "_posts" not in PurePosixPath(post).parts:
        return None
    year, month, day, slug = found.groups()
    return f"{blog_url.rstrip('/')}/{year}/{month}/{day}/{slug}.html"


def published(day: date, where: str, stories: int, titles: Iterable[str], page: str | None = None) -> Message:
    shown = list(titles)[:TITLES_SHOWN]
    lines = [f"{day.isoformat()}: {stories} {'story' if stories == 1 else 'stories'} in {where}"]
    if page:
        lines.append(page)
    lines += [f"- {title}" for title in shown]
    return Message("published", f"trendbot: {day.isoformat()} is published", "\n".join(lines))


def first_written(status: str, had_publication: bool, stories: int, how: str = "inserted") -> bool:
    """A day's section was written for the first time where it went: a post written (or
    digests/D.md) with stories, where the store knew no publication of that day before and
    the block was inserted, not found there already (`how`: a new database, an evicted
    Actions cache, publishing into a post that holds the day). A merge, a no-op, a quiet day
    and a conflict are not."""
    return status in ("written", "digest") and not had_publication and stories > 0 and how == "inserted"


def failed(day: date, reason: str) -> Message:
    return Message("failed", f"trendbot: publishing {day.isoformat()} failed", f"{day.isoformat()}: {one_line(reason)}")


def one_line(text: str, limit: int = ERROR_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def outage(run: list[Attempt], down_after: timedelta) -> str | None:
    """"down", "back" or None for a source whose latest attempt is `run[-1]`, given the
    attempts since its last success before that one (`Store.outage_run`). Down: the first
    attempt at which every attempt has failed for `down_after` (measured from the first
    failure). Back: a success after failures that had lasted that long."""
    if not run:
        return None
    latest, failures = run[-1], [attempt for attempt in run if not attempt.ok]
    if not failures:
        return None
    start = failures[0].at
    if latest.ok:
        return "back" if failures[-1].at - start >= down_after else None
    before = run[-2].at if len(run) > 1 else None
    if latest.at - start >= down_after and (before is None or before - start < down_after):
        return "down"
    return None


def down(source: str, run: list[Attempt], tz) -> Message:
    failures = [attempt for attempt in run if not attempt.ok]
    since = failures[0].at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    error = one_line(failures[-1].error or "no error recorded")
    return Message("down", f"trendbot: {source} is down",
                   f"{source} has failed every attempt since {since} ({len(failures)} attempts): {error}")


def back(source: str, run: list[Attempt]) -> Message:
    failures = [attempt for attempt in run if not attempt.ok]
    lasted = format_duration(run[-1].at - failures[0].at)
    return Message("back", f"trendbot: {source} is back",
                   f"{source} answers again after {lasted} of failures ({len(failures)} attempts)")


def test_message(now: datetime) -> Message:
    return Message("test", "trendbot: test message",
                   f"trendbot can reach you here ({now.isoformat(timespec='seconds')}).")


# -- the URLs, never shown ---------------------------------------------------------------------

def urls_of(settings: NotifyConfig, environ: dict[str, str] | None = None, where: str = "trendbot.toml") -> list[str]:
    """The configured URLs, those in `urls_env` after them (`where`: the config file, for an error)."""
    urls = [url.get_secret_value() for url in settings.urls]
    if settings.urls_env:
        value = (os.environ if environ is None else environ).get(settings.urls_env, "")
        if not value.strip() and not urls:
            raise ConfigError(where, f"${settings.urls_env} is not set (or empty): no URL to send to",
                              "notify.urls_env")
        urls += value.split()
    return urls


def service_of(url: str) -> str:
    """The URL's scheme and host, as a warning may name them; a host that is not a host name
    (a Telegram bot token, an ntfy topic) is not shown."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        host, port = "", None
    scheme = url.split("://", 1)[0].lower() if "://" in url else "?"
    if host and _is_host_name(host):
        return f"{scheme}://{host}" + (f":{port}" if port else "")
    return f"{scheme}://…"


def _is_host_name(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return host == "localhost" or ("." in host and bool(re.fullmatch(r"[a-z0-9.-]+", host)))


def scrub(text: str, url: str) -> str:
    """`text` without any part of `url` but what `service_of` shows."""
    shown = service_of(url)
    pieces = {url, unquote(url)}
    for piece in re.split(r"[/:@?&=#,;+]+", url.split("://", 1)[-1]):
        for form in (piece, unquote(piece)):
            if len(form) >= 3 and form not in shown:
                pieces.add(form)
    for piece in sorted(pieces, key=len, reverse=True):
        text = text.replace(piece, "****")
    return text


# -- sending -----------------------------------------------------------------------------------

class _Captured(logging.Handler):
    """apprise's warnings about the send running in this thread (apprise logs, it does not
    raise); kept off every other handler, since its debug lines hold URLs."""

    local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        lines = getattr(self.local, "lines", None)
        if lines is not None:
            lines.append(record.getMessage())


_CAPTURED = _Captured(logging.WARNING)


def _apprise():
    import apprise

    logger = logging.getLogger("apprise")
    if _CAPTURED not in logger.handlers:
        logger.handlers[:] = [_CAPTURED]
        logger.setLevel(logging.WARNING)
        logger.propagate = False
        # only apprise's services use requests (trendbot's own HTTP is httpx): a retry warning
        # of urllib3 names the request's path, which holds a Telegram bot's token
        quiet = logging.getLogger("urllib3")
        quiet.addHandler(logging.NullHandler())
        quiet.propagate = False
    return apprise


def send_one(url: str, message: Message, http: HttpConfig) -> Delivery:
    """One message to one URL, given up after `[http] deadline`; never raises."""
    service = service_of(url)
    outcome: list[Delivery] = []

    def attempt() -> None:
        _Captured.local.lines = lines = []
        try:
            apprise = _apprise()
            asset = apprise.AppriseAsset(storage_mode="memory")
            plugin = apprise.Apprise.instantiate(url, asset=asset)
            if plugin is None:
                outcome.append(Delivery(service, False, "apprise does not understand this URL"))
                return
            plugin.socket_connect_timeout = http.connect_timeout.total_seconds()
            plugin.socket_read_timeout = http.timeout.total_seconds()
            ok = bool(plugin.notify(body=message.body, title=message.title))
            reason = None if ok else scrub(one_line(" ".join(lines) or "the service refused it"), url)
            outcome.append(Delivery(service, ok, reason))
        except Exception as exc:  # a message must never change what trendbot did
            outcome.append(Delivery(service, False, scrub(one_line(f"{type(exc).__name__}: {exc}"), url)))

    worker = threading.Thread(target=attempt, name="trendbot-notify", daemon=True)
    worker.start()
    worker.join(http.deadline.total_seconds())
    if not outcome:
        return Delivery(service, False, f"no answer within {format_duration(http.deadline)} ([http] deadline)")
    return outcome[0]


def send(settings: NotifyConfig, http: HttpConfig, message: Message) -> list[Delivery]:
    """`message` to every URL, if its event is one of `[notify] on`; one warning per URL it
    could not reach. Never raises."""
    if not settings.configured or message.event not in settings.on:
        return []
    try:
        urls = urls_of(settings)
    except ConfigError as exc:
        log.warning("notify: %s message not sent: %s", message.event, exc.reason)
        return []
    deliveries = [send_one(url, message, http) for url in urls]
    for delivery in deliveries:
        if not delivery.ok:
            log.warning("notify: %s message not sent to %s: %s", message.event, delivery.service, delivery.reason,
                        extra={"fields": {"service": delivery.service, "event": message.event}})
    return deliveries


# -- a source's record (`trendbot sources --days`) ---------------------------------------------

BARS = "▁▂▃▄▅▆▇█"
NO_ATTEMPT = "·"


def window_start(days: int, now: datetime, tz) -> datetime:
    """The start of the first of the last `days` days (today included), in the zone."""
    first = day_of(now, tz) - timedelta(days=days - 1)
    return datetime.combine(first, time(0), tz)


def daily(attempts: Iterable[Attempt], names: Iterable[str], days: int, now: datetime, tz) -> dict[str, list[dict]]:
    """For each named source, one row for each of the last `days` days, oldest first: attempts,
    failures and new items (a day without an attempt is all zeros)."""
    today = day_of(now, tz)
    span = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    counts: dict[str, dict[date, list[int]]] = {name: {} for name in names}
    for attempt in attempts:
        day = day_of(attempt.at, tz)
        if attempt.source in counts and span[0] <= day <= today:
            row = counts[attempt.source].setdefault(day, [0, 0, 0])
            row[0] += 1
            row[1] += not attempt.ok
            row[2] += attempt.new_items
    return {name: [dict(zip(("day", "attempts", "failures", "new_items"), (day.isoformat(), *by_day.get(day, (0, 0, 0)))))
                   for day in span] for name, by_day in counts.items()}


def sparkline(history: list[dict]) -> str:
    """New items per day as bars, `·` for a day without an attempt."""
    top = max((row["new_items"] for row in history), default=0)
    return "".join(NO_ATTEMPT if not row["attempts"] else
                   BARS[0] if not row["new_items"] else BARS[max(1, -(-row["new_items"] * (len(BARS) - 1) // top))]
                   for row in history)


def summary(history: list[dict]) -> str:
    """`48 attempts, 3 failed (94% ok)` over the rows."""
    attempts = sum(row["attempts"] for row in history)
    failures = sum(row["failures"] for row in history)
    if not attempts:
        return "no attempt"
    rate = 100 * (attempts - failures) // attempts
    return f"{attempts} attempt{'s' if attempts != 1 else ''}, {failures} failed ({rate}% ok)"


def failing_since(run: list[Attempt]) -> datetime | None:
    """When the outage the source is in began (its latest attempt failed), else None."""
    if not run or run[-1].ok:
        return None
    return next(attempt.at for attempt in run if not attempt.ok)
