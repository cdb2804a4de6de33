"""One fetch cycle: every chosen source fetched concurrently, each stored as it finishes.

A source's failure is recorded in its state row and reported; it never stops the others.
A source the server asked us to leave alone (Retry-After) is skipped until that time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable, TypeVar
from zoneinfo import ZoneInfo

from trendbot import kinds
from trendbot.config import Config, SourceBase
from trendbot.errors import FetchError, RetryLater, TrendbotError
from trendbot.filters import wanted
from trendbot.http import HttpClient, Response, Validators
from trendbot.models import Item
from trendbot.store import Store
from trendbot.timeutil import format_duration, utcnow

log = logging.getLogger("trendbot.fetch")
T = TypeVar("T")


@dataclass
class FetchContext:
    """What a kind's fetcher gets: the HTTP client, the store, the clock, and the day asked for."""

    source: SourceBase
    http: HttpClient
    store: Store
    now: datetime
    tz: ZoneInfo
    day: date | None = None
    validators: dict[str, Validators] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    last_url: str | None = None

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(f"trendbot.source.{self.source.name}")

    async def get(self, url: str, *, conditional: bool = False, **kwargs) -> Response:
        """GET through the shared client; `conditional` sends back the stored validators.

        New validators are kept here and saved only together with the items (see
        `Store.save_fetch`).
        """
        stored = self.store.validators(url) if conditional else None
        self.last_url = url
        response = await self.http.get(url, validators=stored, **kwargs)
        if conditional and not response.not_modified:
            fresh = response.validators
            if fresh.etag or fresh.last_modified:
                self.validators[url] = fresh
        return response

    async def parse(self, parser: Callable[..., T], *args, **kwargs) -> T:
        """Run a pure parser in a worker thread, so one large document does not hold up the
        requests of every other source waiting on the event loop."""
        return await asyncio.to_thread(parser, *args, **kwargs)

    def note(self, message: str) -> None:
        self.notes.append(message)
        self.log.info("%s: %s", self.source.name, message)

    def warn(self, message: str) -> None:
        """Something is wrong but the fetch still counts (a broken document read in part):
        shown under the source's line and kept in `trendbot sources` until the next fetch."""
        self.warnings.append(message)
        self.log.warning("%s: %s", self.source.name, message)


@dataclass
class SourceOutcome:
    name: str
    kind: str
    status: str  # "ok", "failed", "skipped"
    new: int = 0
    updated: int = 0
    seen: int = 0
    error: str | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    changed_ids: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        if self.status == "ok":
            return (f"{self.name}: {self.seen} items ({self.new} new, {self.updated} updated) "
                    f"in {self.seconds:.1f}s") + "".join(f"\n  note: {note}" for note in self.notes) \
                + "".join(f"\n  warning: {warning}" for warning in self.warnings)
        if self.status == "skipped":
            return f"{self.name}: skipped, {self.error}"
        return f"{self.name}: FAILED: {self.error}"


@dataclass
class CycleReport:
    outcomes: list[SourceOutcome]

    @property
    def failed(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def new(self) -> int:
        return sum(o.new for o in self.outcomes)


def choose_sources(config: Config, names: list[str] | None) -> list[SourceBase]:
    if names:
        return [config.source(name) for name in names]
    return [source for source in config.sources if source.enabled]


async def fetch_source(source: SourceBase, http: HttpClient, store: Store, config: Config,
                       now: datetime, day: date | None) -> SourceOutcome:
    """One source, start to end. Whatever goes wrong in it (a server, a document, a bug in its
    kind, the store refusing its items) is this source's failure, recorded in its state row;
    it never reaches the other sources."""
    started = time.monotonic()
    state = store.state(source.name)
    if state.next_fetch_after and state.next_fetch_after > now and day is None:
        return SourceOutcome(source.name, source.kind, "skipped",
                             error=f"server asked to wait until {state.next_fetch_after.isoformat(timespec='seconds')}")
    ctx = FetchContext(source, http, store, now, config.tz, day)
    kind = kinds.get(source.kind)
    limit = config.settings.http.source_deadline
    until = None
    try:
        async with asyncio.timeout(limit.total_seconds()):
            items: list[Item] = await kind.fetch(ctx, source)
        if source.include or source.exclude:
            items = [item for item in items if wanted(source.include, source.exclude, item.title, item.text)]
        result = store.save_fetch(source.name, source.kind, items, ctx.validators, now, config.tz,
                                  warning="; ".join(ctx.warnings) or None)
    except RetryLater as exc:
        message, until = str(exc), exc.until
    except TimeoutError:
        last = f"; last request: {ctx.last_url}" if ctx.last_url else ""
        message = (f"source {source.name}: not finished within {format_duration(limit)} "
                   f"([http] source_deadline){last}")
    except TrendbotError as exc:
        message = str(exc) or type(exc).__name__
    except Exception as exc:  # a bug in one kind must not stop the others
        log.exception("%s: unexpected error", source.name)
        message = f"unexpected error: {type(exc).__name__}: {exc}"
    else:
        return SourceOutcome(source.name, source.kind, "ok", result.new, result.updated, len(items),
                             seconds=time.monotonic() - started, notes=ctx.notes,
                             changed_ids=result.changed_ids, warnings=ctx.warnings)
    store.save_failure(source.name, source.kind, message, now, until)
    return SourceOutcome(source.name, source.kind, "failed", error=message,
                         seconds=time.monotonic() - started, notes=ctx.notes)


def merge_stories(store: Store, config: Config, ids: list[str], now: datetime) -> None:
    """Join the cycle's new and changed items to their stories (trendbot/merge.py), once, after
    every source is stored: merging is CPU work that would otherwise hold up the requests still
    in flight. A merge failure is logged; the digest merges whatever is left over."""
    from trendbot.merge import merge_into_store, mirrors_of

    if not ids:
        return
    try:
        merge_into_store(store, ids, now, mirrors_of(config))
    except Exception:  # never lose a fetch over the merge
        log.exception("merging stories failed; the digest will merge the items left over")


async def run_cycle_async(config: Config, store: Store, names: list[str] | None = None,
                          day: date | None = None, now: datetime | None = None,
                          on_done: Callable[[SourceOutcome], None] | None = None,
                          transport=None) -> CycleReport:
    now = now or utcnow()
    sources = choose_sources(config, names)
    async with HttpClient(config.settings.http, transport=transport) as http:
        async def one(source: SourceBase) -> SourceOutcome:
            outcome = await fetch_source(source, http, store, config, now, day)
            # a caller with `on_done` shows the outcome itself; log it loudly only otherwise
            loud = outcome.status == "failed" and on_done is None
            (log.warning if loud else log.info)("%s", outcome.line())
            if on_done:
                on_done(outcome)
            return outcome

        outcomes = await asyncio.gather(*(one(source) for source in sources))
    merge_stories(store, config, [key for outcome in outcomes for key in outcome.changed_ids], now)
    return CycleReport(list(outcomes))


def run_cycle(config: Config, store: Store, names: list[str] | None = None, day: date | None = None,
              now: datetime | None = None, on_done: Callable[[SourceOutcome], None] | None = None) -> CycleReport:
    return asyncio.run(run_cycle_async(config, store, names, day, now, on_done))


__all__ = ["FetchContext", "SourceOutcome", "CycleReport", "run_cycle", "run_cycle_async", "FetchError"]
