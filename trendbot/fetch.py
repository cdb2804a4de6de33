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
import copy
import ctypes
import functools
import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable

from trendbot import kinds, schedule
from trendbot.config import Config, SourceBase
from trendbot.errors import RetryLater, TrendbotError
from trendbot.filters import sift
from trendbot.http import HttpClient
from trendbot.logs import about_source
from trendbot.stories import merge_into_store
from trendbot.models import Item, SourceState
from trendbot.store import Fetched, Store, UpsertResult
from trendbot.text import MESSAGE_CHARS, cut
from trendbot.timeutil import format_duration, utcnow

log = logging.getLogger("trendbot.fetch")
PARALLEL_FROM = 4  # sources in a cycle from which documents are parsed in worker processes
PR_SET_PDEATHSIG = 1  # prctl(2)
WHOLE_IN_SOURCES = " (trendbot sources shows it whole)"


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
    left_out: str = ""  # what the source's include / exclude removed: "3 left out by include"

    def line(self) -> str:
        """One line for the person running `trendbot fetch` (notes and warnings indented below)."""
        if self.status == "ok":
            counts = [] if self.left_out and not self.seen else [f"{self.new} new, {self.updated} updated"]
            counts += [self.left_out] if self.left_out else []
            what = "not modified" if self.not_modified and not self.seen else \
                f"{self.seen} items ({'; '.join(counts)})"
            return f"{self.name}: {what} in {self.seconds:.1f}s"
        if self.status == "skipped":
            return f"{self.name}: skipped, {self.error}"
        return f"{self.name}: FAILED: {self.brief_error}"

    @property
    def brief_error(self) -> str:
        """The error as a log line says it: at most a line's length (`trendbot sources` has it whole)."""
        error = self.error or ""
        if len(error) <= MESSAGE_CHARS:
            return error
        return cut(error, MESSAGE_CHARS - len(WHOLE_IN_SOURCES)) + WHOLE_IN_SOURCES

    def diagnostics(self) -> list[tuple[str, str]]:
        """The source's notes and warnings, ("note" | "warning", line), said on stderr."""
        return ([("note", f"{self.name}: note: {note}") for note in self.notes]
                + [("warning", f"{self.name}: warning: {warning}") for warning in self.warnings])


@dataclass
class CycleReport:
    outcomes: list[SourceOutcome]

    @property
    def failed(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def new(self) -> int:
        return sum(o.new for o in self.outcomes)


def _ready(_: int = 0) -> int:
    return os.getpid()


def _die_with_parent() -> None:
    """A worker ends when trendbot ends, however it ends (a SIGKILL leaves no orphans holding
    its pipes open): Linux's parent-death signal; elsewhere the pool's own shutdown does it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


class _Parsers:
    """Pure parsers in worker processes, one per core but one: feedparser and the HTML parser
    are CPU work that threads would run one at a time (the GIL), and the main process keeps a
    core for the network, the writes and the merge (parsing is about half of a cycle's CPU, so
    on two cores one worker is as fast as two and costs a process less memory). The workers are
    forked before the cycle starts any thread of its own, so none inherits a lock it holds."""

    def __init__(self, workers: int):
        self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                        initializer=_die_with_parent)
        list(self.pool.map(_ready, range(workers)))  # fork them all now

    async def run(self, parser, *args, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(self.pool, functools.partial(parser, *args, **kwargs))

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    @classmethod
    def for_cycle(cls, sources: int) -> _Parsers | None:
        """Worker processes when they pay: several sources, several cores, and the CLI's main
        thread (the daemon's jobs run in threads of a scheduler, where forking is no place)."""
        cores = os.cpu_count() or 1
        if sources < PARALLEL_FROM or cores < 2 or threading.current_thread() is not threading.main_thread():
            return None
        return cls(min(cores - 1, sources))


class _Writer:
    """The cycle's one writer: store writes and merges run in one thread, in order, off the
    event loop. Sources that finish while a write is under way are written together in the next
    transaction and merged together (one commit and one merge for many), each still all or
    nothing; a batch that fails is written again source by source, so one source's problem
    stays its own. A source that brought nothing at all (no item, no new validator, its kind's
    memory as it was: a "not modified") only moves its state's times: those rows are written
    once, together, when the cycle ends."""

    def __init__(self, store: Store, config: Config, now: datetime):
        self.store = store
        self.config = config
        self.now = now
        self.mirrors = kinds.mirrors_of(config.sources)
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trendbot-writer")
        self.lock = threading.Lock()
        self.pending: list[tuple[Fetched, asyncio.Future]] = []
        self.quiet: list[Fetched] = []

    async def run(self, work: Callable, *args, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(self.pool, lambda: work(*args, **kwargs))

    async def save(self, fetched: Fetched, unchanged: bool) -> UpsertResult:
        if unchanged:
            self.quiet.append(fetched)
            return UpsertResult()
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self.lock:
            self.pending.append((fetched, future))
        self.pool.submit(self._drain, loop)
        return await future

    def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        with self.lock:
            batch, self.pending = self.pending, []
        if batch:
            self._write(batch, loop)

    def _write(self, batch: list[tuple[Fetched, asyncio.Future]], loop: asyncio.AbstractEventLoop) -> None:
        try:
            results = self.store.save_fetches([fetched for fetched, _ in batch], self.now, self.config.tz)
        except Exception as exc:
            if len(batch) > 1:
                for one in batch:
                    self._write([one], loop)
            else:
                loop.call_soon_threadsafe(_settle, batch[0][1], None, exc)
            return
        self._merge([key for result in results for key in result.changed_ids])
        for (_, future), result in zip(batch, results):
            loop.call_soon_threadsafe(_settle, future, result, None)

    def _merge(self, ids: list[str]) -> None:
        if not ids:
            return
        try:
            merge_into_store(self.store, ids, self.now, self.mirrors)
        except Exception:  # never lose a fetch over the merge; the digest merges what is left
            log.exception("merging stories failed; the digest will merge the items left over")

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        if self.quiet:
            self.store.save_fetches(self.quiet, self.now, self.config.tz)


def _settle(future: asyncio.Future, result, error: BaseException | None) -> None:
    if future.done():  # the source was given up meanwhile
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


async def fetch_source(source: SourceBase, http: HttpClient, writer: _Writer, state: SourceState | None,
                       day: date | None, parsers: _Parsers | None = None) -> SourceOutcome:
    """One source, start to end. Whatever goes wrong in it (a server, a document, a bug in its
    kind, the store refusing its items) is this source's failure, recorded in its state row;
    it never reaches the other sources. Every log line written meanwhile is about it."""
    with about_source(source.name):
        return await _fetch_source(source, http, writer, state, day, parsers)


async def _fetch_source(source: SourceBase, http: HttpClient, writer: _Writer, state: SourceState | None,
                        day: date | None, parsers: _Parsers | None) -> SourceOutcome:
    started = time.monotonic()
    config, now, store = writer.config, writer.now, writer.store
    until = schedule.held_back(now, state, day)
    if until is not None:
        return SourceOutcome(source.name, source.kind, "skipped",
                             error=f"server asked to wait until {until.isoformat(timespec='seconds')}")
    kind = kinds.get(source.kind)
    remembered = await writer.run(store.memory, source.name)
    ctx = kinds.FetchContext(source, http, now, config.tz, day,
                             stored_validators=await writer.run(store.validators_of, source.name),
                             memory=copy.deepcopy(remembered), parser=parsers.run if parsers else None)
    limit = config.settings.http.source_deadline
    retry_until = None
    try:
        async with asyncio.timeout(limit.total_seconds()):
            items: list[Item] = await kind.fetch(ctx, source)
        sifted = sift(items, source.include, source.exclude)
        items = sifted.kept
        fetched = Fetched(source.name, source.kind, items, ctx.validators, ctx.memory,
                          "; ".join(ctx.warnings) or None, ctx.not_modified)
        unchanged = not items and not ctx.validators and not ctx.warnings and ctx.memory == remembered
        result = await writer.save(fetched, unchanged)
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
                             not_modified=ctx.not_modified, left_out=sifted.left_out())
    await writer.run(store.save_failure, source.name, source.kind, message, now, retry_until, ctx.memory)
    return SourceOutcome(source.name, source.kind, "failed", error=message,
                         seconds=time.monotonic() - started, notes=ctx.notes)


async def run_cycle_async(config: Config, store: Store, sources: list[SourceBase], day: date | None = None,
                          now: datetime | None = None,
                          on_done: Callable[[SourceOutcome], None] | None = None) -> CycleReport:
    now = now or utcnow()
    states = store.states()
    parsers = _Parsers.for_cycle(len(sources))
    writer = _Writer(store, config, now)
    try:
        async with HttpClient(config.settings.http, now=now) as http:
            async def one(source: SourceBase) -> SourceOutcome:
                outcome = await fetch_source(source, http, writer, states.get(source.name), day, parsers)
                if on_done:  # the caller shows the outcome: once, on its own stream
                    on_done(outcome)
                else:
                    (log.warning if outcome.status == "failed" else log.info)("%s", outcome.line())
                    for level, text in outcome.diagnostics():
                        (log.warning if level == "warning" else log.info)("%s", text)
                return outcome

            outcomes = await asyncio.gather(*(one(source) for source in sources))
    finally:
        writer.close()
        if parsers:
            parsers.close()
    return CycleReport(list(outcomes))


def run_cycle(config: Config, store: Store, sources: list[SourceBase], day: date | None = None,
              now: datetime | None = None, on_done: Callable[[SourceOutcome], None] | None = None) -> CycleReport:
    return asyncio.run(run_cycle_async(config, store, sources, day, now, on_done))
