"""When things are due: pure decisions on data and `now`, used alike by `trendbot fetch`, the
daemon and `trendbot sources`, so that what the daemon does is what `trendbot sources` shows.

No clock is read here and nothing is done: every function takes `now` and stored state and
returns a decision, so each rule is tested without a network or a clock.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from trendbot.models import SourceState

# A jitter larger than a tenth of the interval would make a short `every` meaningless.
JITTER_SHARE = 0.1


def next_run(now: datetime, state: SourceState | None, every: timedelta) -> datetime:
    """When a source is next due: one interval after its last attempt, later if the server asked
    to be left alone until then (Retry-After), and never before `now` (an overdue or
    never-fetched source is due now)."""
    due = now
    if state and state.last_attempt_at:
        due = max(due, state.last_attempt_at + every)
    if state and state.next_fetch_after:
        due = max(due, state.next_fetch_after)
    return due


def held_back(now: datetime, state: SourceState | None, backfill: date | None) -> datetime | None:
    """Until when a fetch must leave the source alone because its server asked (429/503 with
    Retry-After), or None. A backfill of a past day asks for other documents and goes ahead."""
    if backfill is None and state and state.next_fetch_after and state.next_fetch_after > now:
        return state.next_fetch_after
    return None


def backfill_day(day: date, now: datetime, tz: ZoneInfo) -> date | None:
    """The day to fetch by date for a digest of `day`: None for today (a normal fetch reads the
    latest documents), the day itself for any other day (kinds that can, e.g. hf_papers, read
    that day's documents)."""
    return None if day == now.astimezone(tz).date() else day


def due_day(now: datetime, tz: ZoneInfo, at: time) -> date:
    """The latest day D whose local time `at` has passed at `now`.

    The publish job asks this rather than "today" so that a run delayed past midnight
    (misfire grace, a suspended laptop waking up) still publishes the day it was meant for.
    """
    local = now.astimezone(tz)
    today = local.date()
    if local >= datetime.combine(today, at, tzinfo=tz):
        return today
    return today - timedelta(days=1)


def next_at(now: datetime, tz: ZoneInfo, at: time, weekday: int | None = None) -> datetime:
    """The first local time `at` after `now`, on `weekday` (0 = Monday) when one is given: when
    a daily or weekly job runs next, as its cron trigger fires it."""
    local = now.astimezone(tz)
    for offset in range(8):
        candidate = datetime.combine(local.date() + timedelta(days=offset), at, tzinfo=tz)
        if candidate > local and (weekday is None or candidate.weekday() == weekday):
            return candidate
    raise AssertionError("a week always holds the weekday")  # pragma: no cover


def days_to_catch_up(now: datetime, tz: ZoneInfo, published: set[date], window: int,
                     publish_at: time) -> list[date]:
    """Days within the last `window` due days whose digest was never published, oldest first."""
    last_due = due_day(now, tz, publish_at)
    candidates = [last_due - timedelta(days=back) for back in range(window)]
    return sorted(day for day in candidates if day not in published)


def fetch_jitter(every: timedelta, jitter: timedelta) -> float | None:
    """Seconds of random delay for a source's fetch job, at most a tenth of its interval."""
    seconds = min(jitter.total_seconds(), every.total_seconds() * JITTER_SHARE)
    return seconds if seconds > 0 else None


def day_end(day: date, now: datetime, tz: ZoneInfo) -> datetime:
    """The moment a day's section speaks for: `now` while the day lasts, else the day's end, so
    that a past day's notes do not change because the clock moved."""
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    return min(now, end)


def stale_since(now: datetime, state: SourceState | None, stale_after: timedelta) -> datetime | None:
    """Since when a source has brought nothing new, when that is longer than `stale_after`, else
    None. Stale: its fetches keep succeeding (or answering "not modified") but no new item came
    for longer than `stale_after` (counted from its first success when none ever came), or its
    newest item is older than that (a frozen feed). A source that fails is not stale but
    failing, which its error says."""
    if state is None or state.last_success_at is None:
        return None
    marks = [mark for mark in (state.last_new_at, state.newest_item_at) if mark is not None]
    since = min(marks) if marks else None
    return since if since is not None and now - since > stale_after else None
