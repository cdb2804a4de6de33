"""`trendbot run`: the daemon most users start once and forget.

Thin wiring around the steps the CLI calls (`trendbot/jobs.py`), driven by APScheduler 3.x in
the configured time zone, with every "when" decided by `trendbot/schedule.py`:

- one interval job per enabled source at its `every` (plus a little jitter, so sources sharing
  a host do not fire in the same second), first run when the source is due, not one interval
  after start;
- a daily job at `[schedule] publish_at`: fetch, then publish the day;
- a settle job at `[schedule] settle_at`: fetch the previous day again (Hugging Face keeps
  adding papers and upvotes after midnight) and re-publish it, merged with the person's edits;
- a week job at `[schedule] week_at` on the week's last day (weeks as `[blog] week_starts`):
  publish the week's roll-up;
- on start, a catch-up job: every day within `catch_up_days` whose digest was never published
  (the machine was off at `publish_at`) is fetched by date and published, oldest first.

The jobs take `now` so a test can run "the 23:30 job" on any day.
"""

from __future__ import annotations

import logging
import signal
import threading
import time as monotonic_time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Iterator
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from trendbot import jobs, schedule
from trendbot.config import Config
from trendbot.errors import StoreBusy, TrendbotError
from trendbot.fetch import CycleReport
from trendbot.lock import DaemonLock
from trendbot.logs import about_source
from trendbot.models import SourceState
from trendbot.posts import WEEKDAYS
from trendbot.store import Store, is_busy
from trendbot.text import first_few
from trendbot.timeutil import format_duration, local_time, utcnow

log = logging.getLogger("trendbot.daemon")
REMIND_EVERY = timedelta(hours=1)  # a source failing all along is said again at most this often


# -- what to say about a failing source ------------------------------------------------------

@dataclass(frozen=True)
class Failing:
    """A source whose fetches fail: since when, how many in a row, when the log last said so."""

    since: datetime
    count: int
    said_at: datetime


def failure_news(failing: Failing | None, failed: bool, now: datetime) -> tuple[Failing | None, str | None]:
    """What the log says after a fetch, and the source's failing state after it: "failed" when a
    failure starts, "still failing" at most once every `REMIND_EVERY` while it lasts,
    "recovered" once when a fetch works again, and None (nothing new to say) otherwise."""
    if not failed:
        return None, "recovered" if failing else None
    if failing is None:
        return Failing(now, 1, now), "failed"
    failing = replace(failing, count=failing.count + 1)
    if now - failing.said_at >= REMIND_EVERY:
        return replace(failing, said_at=now), "still failing"
    return failing, None


# SIGHUP (the terminal closed, or `kill -HUP`) stops the daemon as SIGTERM does: the running job
# finishes, so a stop never cuts a publish between the post and its record. No reload.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
# At start, how long each try waits for another process to let go of the database: about five
# minutes in all, then exit 1 (a service manager's restart tries again later).
START_WAITS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 60.0, 60.0, 60.0)

# -- the jobs -------------------------------------------------------------------------------

class Daemon:
    """The scheduler's jobs and their wiring. `run()` is `trendbot run`."""

    def __init__(self, config: Config, start_waits: tuple[float, ...] = START_WAITS):
        self.config = config
        self.start_waits = start_waits
        self.schedule = config.settings.schedule
        # Publish, settle and catch-up all write the blog post: never two at once.
        self.publish_lock = threading.Lock()
        self.failing: dict[str, Failing] = {}  # only the fetch job of each source touches its entry

    @property
    def tz(self) -> ZoneInfo:
        return self.config.tz

    @contextmanager
    def store(self) -> Iterator[Store]:
        # One connection per job: jobs run on pool threads and SQLite connections are not
        # to be shared across concurrent transactions.
        with Store(self.config.db_path) as store:
            yield store

    def fetch_job(self, name: str, now: datetime | None = None) -> CycleReport | None:
        """Fetch one source. A failure is said when it starts, then at most once an hour with
        the count, and once when the source recovers (`failure_news`); the lines between are
        debug lines."""
        started = monotonic_time.monotonic()
        now = now or utcnow()
        with self._job(f"fetch:{name}", started), about_source(name):
            with self.store() as store:  # the job's own line says the outcome, once
                report = jobs.fetch(self.config, store, [name], None, now, on_done=self._diagnostics)
            outcome = report.outcomes[0]
            failing, news = self.failing.get(name), None
            if outcome.status != "skipped":  # a server's "come back later" neither starts nor ends one
                state, news = failure_news(failing, outcome.status == "failed", now)
                if state is None:
                    self.failing.pop(name, None)
                else:
                    self.failing[name] = state
            note = None
            if news == "still failing":
                note = f"still failing: {self.failing[name].count} fetches since {local_time(failing.since, self.tz)}"
            elif news == "recovered":
                note = f"recovered after {failing.count} failed fetch(es) since {local_time(failing.since, self.tz)}"
            fields = {"items": outcome.seen, "new": outcome.new, "updated": outcome.updated}
            level = None if news or outcome.status != "failed" else logging.DEBUG
            self._log_job(f"fetch:{name}", outcome.status, started, error=outcome.error and outcome.brief_error,
                          level=level, note=note, next_at=now + self.config.source(name).every, source=name, **fields)
            return report
        return None

    @staticmethod
    def _diagnostics(outcome) -> None:
        """A source's notes and warnings come with every fetch: they are for -v (the fetch
        module's logger, kept to warnings otherwise); `trendbot sources` keeps the warning."""
        for _, text in outcome.diagnostics():
            logging.getLogger("trendbot.fetch").info("%s", text, extra={"fields": {"source": outcome.name}})

    def publish_job(self, now: datetime | None = None) -> Any:
        """The daily run at `publish_at`: fetch everything, then publish the due day."""
        now = now or utcnow()
        day = schedule.due_day(now, self.tz, self.schedule.publish_at)
        return self._fetch_and_publish("publish", day, now)

    def settle_job(self, now: datetime | None = None) -> Any:
        """The morning run at `settle_at`: fetch the previous day again and re-publish it."""
        if self.schedule.settle_at is None:
            return None
        now = now or utcnow()
        day = schedule.due_day(now, self.tz, self.schedule.settle_at) - timedelta(days=1)
        return self._fetch_and_publish("settle", day, now)

    def week_job(self, now: datetime | None = None) -> Any:
        """The run at `week_at` on the week's last day: publish the week's roll-up."""
        if self.schedule.week_at is None:
            return None
        now = now or utcnow()
        day = schedule.due_day(now, self.tz, self.schedule.week_at)
        started = monotonic_time.monotonic()
        with self._job(f"week {day.isoformat()}", started), self.publish_lock:
            with self.store() as store:
                published = jobs.publish_week(self.config, store, day, now)
            result = published.result
            self._log_job(f"week {published.digest.name}", "failed" if published.failed else result.status, started,
                          stories=len(published.digest.stories), next_at=self.next_runs(now).get("week"),
                          path=str(result.path) if result.path else None, message=result.message)
            return result
        return None

    def catch_up_job(self, now: datetime | None = None) -> list[Any]:
        """On start: fetch (by date) and publish each never-published day in the window."""
        now = now or utcnow()
        window = self.schedule.catch_up_days
        if window <= 0:
            return []
        since = schedule.due_day(now, self.tz, self.schedule.publish_at) - timedelta(days=window - 1)
        with self.store() as store:
            published = store.published_days(since)
        days = schedule.days_to_catch_up(now, self.tz, published, window, self.schedule.publish_at)
        if days:
            log.info("catch-up: %d unpublished day(s): %s", len(days), first_few([d.isoformat() for d in days], 5),
                     extra={"fields": {"job": "catch-up", "days": [d.isoformat() for d in days]}})
        return [self._fetch_and_publish("catch-up", day, now) for day in days]

    def _fetch_and_publish(self, job: str, day: date, now: datetime) -> Any:
        """Fetch, publish, and one line that counts what was done: the stories published, the
        items the fetch brought and how many were new."""
        started = monotonic_time.monotonic()
        with self._job(f"{job} {day.isoformat()}", started), self.publish_lock:
            with jobs.failure_told(self.config, day), self.store() as store:
                report, published = jobs.fetch_and_publish(self.config, store, day, now)
            result = published.result
            self._log_job(
                f"{job} {day.isoformat()}", "failed" if published.failed else result.status, started,
                stories=len(published.digest.stories), fetched=sum(o.seen for o in report.outcomes), new=report.new,
                failed_sources=[o.name for o in report.failed], next_at=self.next_runs(now).get(job),
                path=str(result.path) if result.path else None, message=result.message,
            )
            return result
        return None

    def next_runs(self, now: datetime) -> dict[str, datetime]:
        """When each daily or weekly job runs next after `now`, as its cron trigger fires it."""
        config, tz = self.schedule, self.tz
        runs = {"publish": schedule.next_at(now, tz, config.publish_at)}
        if config.settle_at is not None:
            runs["settle"] = schedule.next_at(now, tz, config.settle_at)
        if config.week_at is not None:
            runs["week"] = schedule.next_at(now, tz, config.week_at, self.week_last_day)
        return runs

    @property
    def week_last_day(self) -> int:
        """The weekday (0 = Monday) a post's week ends on: the roll-up's day."""
        return (WEEKDAYS.index(self.config.settings.blog.week_starts) - 1) % 7

    @contextmanager
    def _job(self, job: str, started: float) -> Iterator[None]:
        """A job never takes the daemon down: its failure is one log line, the next run retries."""
        try:
            yield
        except TrendbotError as exc:
            self._log_job(job, "failed", started, error=str(exc))
        except Exception as exc:
            log.exception("%s: unexpected error", job)
            self._log_job(job, "failed", started, error=f"unexpected error: {type(exc).__name__}: {exc}")

    def _log_job(self, job: str, status: str, started: float, error: str | None = None, level: int | None = None,
                 note: str | None = None, next_at: datetime | None = None, **counts: Any) -> None:
        seconds = monotonic_time.monotonic() - started
        shown = " ".join(f"{key}={value}" for key, value in counts.items()
                         if value not in (None, [], "") and key not in ("message", "path", "source"))
        message = counts.get("message")
        text = f"{job}: {status} in {seconds:.1f}s" + (f" {shown}" if shown else "")
        if message:
            text += f" ({message})"
        if error:
            text += f": {error}"
        if note:
            text += f" ({note})" if error else f": {note}"
        if next_at is not None:
            text += f"; next {local_time(next_at, self.tz)}"
        if level is None:
            level = logging.WARNING if status == "failed" else logging.INFO
        fields = {"job": job, "status": status, "seconds": round(seconds, 3), "error": error, **counts}
        if note:
            fields["note"] = note
        if next_at is not None:
            fields["next"] = next_at.isoformat(timespec="seconds")
        log.log(level, "%s", text, extra={"fields": fields})

    # -- wiring ----------------------------------------------------------------------------

    def build_scheduler(self, now: datetime, states: dict[str, SourceState] | None = None,
                        catch_up: bool = True) -> BackgroundScheduler:
        """An unstarted scheduler holding every job; `now` decides the first fetch times."""
        config, tz = self.schedule, self.tz
        grace = max(1, int(config.misfire_grace.total_seconds()))
        # Given to every job rather than as job_defaults, so a test sees them on unstarted jobs.
        options = {"coalesce": True, "max_instances": 1, "misfire_grace_time": grace}
        scheduler = BackgroundScheduler(timezone=tz, job_defaults=options)
        states = states or {}
        for source in self.config.chosen(None):
            first = schedule.next_run(now, states.get(source.name), source.every)
            scheduler.add_job(
                self.fetch_job, IntervalTrigger(seconds=source.every.total_seconds(), start_date=first,
                                                timezone=tz, jitter=schedule.fetch_jitter(source.every, config.jitter)),
                args=[source.name], id=f"fetch:{source.name}", name=f"fetch {source.name}",
                next_run_time=first, **options,
            )
        at = config.publish_at
        scheduler.add_job(self.publish_job, CronTrigger(hour=at.hour, minute=at.minute, second=at.second,
                                                        timezone=tz),
                          id="publish", name="digest and publish", **options)
        if config.settle_at is not None:
            at = config.settle_at
            scheduler.add_job(self.settle_job, CronTrigger(hour=at.hour, minute=at.minute, second=at.second,
                                                           timezone=tz),
                              id="settle", name="settle the previous day", **options)
        if config.week_at is not None:
            at = config.week_at
            last = WEEKDAYS[self.week_last_day][:3]
            scheduler.add_job(self.week_job, CronTrigger(day_of_week=last, hour=at.hour, minute=at.minute,
                                                         second=at.second, timezone=tz),
                              id="week", name="publish the week's roll-up", **options)
        if catch_up and config.catch_up_days > 0:
            scheduler.add_job(self.catch_up_job, DateTrigger(run_date=now, timezone=tz),
                              id="catch-up", name="catch up unpublished days",
                              **{**options, "misfire_grace_time": None})
        return scheduler

    def run(self) -> int:
        """Hold the lock, run the scheduler until SIGTERM/SIGINT/SIGHUP, let the running job finish."""
        stop = threading.Event()

        def on_signal(signum: int, _frame) -> None:
            log.info("%s: stopping once the running job ends (send it again to abandon the job)",
                     signal.Signals(signum).name)
            for sig in STOP_SIGNALS:
                signal.signal(sig, signal.SIG_DFL)
            stop.set()

        # Handlers first: a SIGTERM that arrives while starting up still means a clean stop.
        previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
        try:
            with DaemonLock(self.config.db_path) as lock:
                states = self._open_at_start(stop)
                if states is None:  # stopped while waiting for the database
                    log.info("stopped", extra={"fields": {"event": "stopped"}})
                    return 0
                scheduler = self.build_scheduler(utcnow(), states)
                scheduler.start()
                self._log_start(scheduler, lock)
                try:
                    while not stop.wait(1.0):
                        pass
                finally:
                    scheduler.shutdown(wait=True)
                log.info("stopped", extra={"fields": {"event": "stopped"}})
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def _open_at_start(self, stop: threading.Event) -> dict[str, SourceState] | None:
        """Open the database (applying migrations once, before jobs race for it) and read the
        sources' states. Another process holding it is transient: try again, each try waiting
        longer, one line per try; after the last, StoreBusy (exit 1, which systemd restarts on).
        None: a stop signal came while waiting."""
        for attempt, wait in enumerate(self.start_waits, 1):
            try:
                with Store(self.config.db_path, busy_timeout=wait) as store:
                    return store.states()
            except Exception as exc:
                if not is_busy(exc):
                    raise
                error = exc if isinstance(exc, StoreBusy) else f"{self.config.db_path}: {exc}"
            if stop.is_set():
                return None
            if attempt < len(self.start_waits):
                following = self.start_waits[attempt]
                log.warning("start: %s; trying again, waiting up to %s (try %d of %d)", error,
                            format_duration(timedelta(seconds=following)), attempt + 1, len(self.start_waits),
                            extra={"fields": {"event": "database busy", "try": attempt + 1, "wait": following}})
        total = format_duration(timedelta(seconds=sum(self.start_waits)))
        raise StoreBusy(f"{error}; gave up after {len(self.start_waits)} tries in about {total}: "
                        f"the exit status is 1, so a service manager starts it again")

    def _log_start(self, scheduler: BackgroundScheduler, lock: DaemonLock, now: datetime | None = None) -> None:
        """Two lines: what runs (sources, catch-up, zone, lock), then when each daily or weekly
        job runs next, with its date and zone (`next publish: 2026-12-02 23:30 KST`)."""
        now = now or utcnow()
        sources = self.config.chosen(None)
        log.info(
            "started: %d source(s) (%s), catch-up %d day(s), zone %s, lock %s",
            len(sources), first_few([f"{s.name} every {format_duration(s.every)}" for s in sources]) or "none",
            self.schedule.catch_up_days, self.config.settings.timezone, lock.path,
            extra={"fields": {"event": "started", "sources": [s.name for s in sources]}},
        )
        runs = self.next_runs(now)
        shown = {job: local_time(at, self.tz) for job, at in runs.items()}
        if "week" in shown:
            shown["week"] = f"{runs['week']:%a} {shown['week']}"
        log.info("next publish: %s, settle: %s, week: %s", shown["publish"], shown.get("settle", "off"),
                 shown.get("week", "off"),
                 extra={"fields": {"event": "next", **{job: at.isoformat(timespec="seconds") for job, at in runs.items()}}})
        for job in scheduler.get_jobs():
            log.debug("next run of %s: %s", job.name, job.next_run_time)
