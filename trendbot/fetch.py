"""One fetch cycle: every chosen source fetched concurrently, each stored and merged into its
stories as soon as it finishes.

A source's failure is recorded in its state row and reported; it never stops the others. A
source whose server asked to be left alone (Retry-After) is skipped until then. The event loop
only waits on the network: parsers run off it (`FetchContext.parse`), and every write to the
store, with the story merge that follows it, runs in one writer thread, one source after the
other, so a slow disk or a large merge never holds up the requests still in flight.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable

from trendbot import kinds, schedule
from trendbot.config import Config, SourceBase
from trendbot.errors import RetryLater, TrendbotError
from trendbot.filters import wanted
from trendbot.http import HttpClient
from trendbot.merge import merge_into_store
from trendbot.models import Item, SourceState
from trendbot.store import Store, UpsertResult
from trendbot.timeutil import format_duration, utcnow

log = logging.getLogger("trendbot.fetch")


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
    warnings: list[str] = field(default_factory=list)
    not_modified: bool = False

    def line(self) -> str:
        """One line for the person running `trendbot fetch` (notes and warnings indented below)."""
        if self.status == "ok":
            what = "not modified" if self.not_modified and not self.seen else \
                f"{self.seen} items ({self.new} new, {self.updated} updated)"
            return (f"{self.name}: {what} in {self.seconds:.1f}s"
                    + "".join(f"\n  note: {note}" for note in self.notes)
                    + "".join(f"\n  warning: {warning}" for warning in self.warnings))
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
    """The sources named (a disabled one may be named), else every enabled source."""
    if names:
        return [config.source(name) for name in names]
    return [source for source in config.sources if source.enabled]


class _Writer:
    """The cycle's one writer: store writes and merges run here in order, off the event loop."""

    def __init__(self, store: Store, config: Config, now: datetime):
        self.store = store
        self.config = config
        self.now = now
        self.mirrors = kinds.mirrors_of(config.sources)
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trendbot-writer")

    async def run(self, work: Callable, *args, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(self.pool, lambda: work(*args, **kwargs))

    def save(self, source: SourceBase, items: list[Item], ctx: kinds.FetchContext) -> UpsertResult:
        result = self.store.save_fetch(source.name, source.kind, items, ctx.validators, self.now, self.config.tz,
                                       memory=ctx.memory, warning="; ".join(ctx.warnings) or None,
                                       not_modified=ctx.not_modified)
        if result.changed_ids:
            try:
                merge_into_store(self.store, result.changed_ids, self.now, self.mirrors)
            except TrendbotError:
                raise
            except Exception:  # never lose a fetch over the merge; the digest merges what is left
                log.exception("%s: merging stories failed; the digest will merge the items left over", source.name)
        return result

    def close(self) -> None:
        self.pool.shutdown(wait=True)


async def fetch_source(source: SourceBase, http: HttpClient, writer: _Writer, state: SourceState | None,
                       day: date | None) -> SourceOutcome:
    """One source, start to end. Whatever goes wrong in it (a server, a document, a bug in its
    kind, the store refusing its items) is this source's failure, recorded in its state row;
    it never reaches the other sources."""
    started = time.monotonic()
    config, now, store = writer.config, writer.now, writer.store
    until = schedule.held_back(now, state, day)
    if until is not None:
        return SourceOutcome(source.name, source.kind, "skipped",
                             error=f"server asked to wait until {until.isoformat(timespec='seconds')}")
    kind = kinds.get(source.kind)
    ctx = kinds.FetchContext(source, http, now, config.tz, day,
                             stored_validators=await writer.run(store.validators_of, source.name),
                             memory=await writer.run(store.memory, source.name))
    limit = config.settings.http.source_deadline
    retry_until = None
    try:
        async with asyncio.timeout(limit.total_seconds()):
            items: list[Item] = await kind.fetch(ctx, source)
        if source.include or source.exclude:
            items = [item for item in items if wanted(source.include, source.exclude, item.title, item.text)]
        result = await writer.run(writer.save, source, items, ctx)
    except RetryLater as exc:
        message, retry_until = str(exc), exc.until
    except TimeoutError:
        last = f"; last request: {ctx.last_url}" if ctx.last_url else ""
        message = f"source {source.name}: not finished within {format_duration(limit)} ([http] source_deadline){last}"
    except TrendbotError as exc:
        message = str(exc) or type(exc).__name__
    except Exception as exc:  # a bug in one kind must not stop the others
        log.exception("%s: unexpected error", source.name)
        message = f"unexpected error: {type(exc).__name__}: {exc}"
    else:
        return SourceOutcome(source.name, source.kind, "ok", result.new, result.updated, len(items),
                             seconds=time.monotonic() - started, notes=ctx.notes, warnings=ctx.warnings,
                             not_modified=ctx.not_modified)
    await writer.run(store.save_failure, source.name, source.kind, message, now, retry_until, ctx.memory)
    return SourceOutcome(source.name, source.kind, "failed", error=message,
                         seconds=time.monotonic() - started, notes=ctx.notes)


async def run_cycle_async(config: Config, store: Store, sources: list[SourceBase], day: date | None = None,
                          now: datetime | None = None,
                          on_done: Callable[[SourceOutcome], None] | None = None) -> CycleReport:
    now = now or utcnow()
    states = store.states()
    writer = _Writer(store, config, now)
    try:
        async with HttpClient(config.settings.http, now=now) as http:
            async def one(source: SourceBase) -> SourceOutcome:
                outcome = await fetch_source(source, http, writer, states.get(source.name), day)
                # a caller with `on_done` shows the outcome itself; log it loudly only otherwise
                loud = outcome.status == "failed" and on_done is None
                (log.warning if loud else log.info)("%s", outcome.line())
                if on_done:
                    on_done(outcome)
                return outcome

            outcomes = await asyncio.gather(*(one(source) for source in sources))
    finally:
        writer.close()
    return CycleReport(list(outcomes))


def run_cycle(config: Config, store: Store, sources: list[SourceBase], day: date | None = None,
              now: datetime | None = None, on_done: Callable[[SourceOutcome], None] | None = None) -> CycleReport:
    return asyncio.run(run_cycle_async(config, store, sources, day, now, on_done))
