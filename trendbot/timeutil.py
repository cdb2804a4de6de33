"""Durations and days: the two kinds of time a user writes in config and on the command line.

A day is a calendar day in the configured time zone (DESIGN.md, "Days"); these helpers take
`now` explicitly so that callers and tests decide what "today" is.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


MILLISECOND, SECOND, MINUTE = timedelta(milliseconds=1), timedelta(seconds=1), timedelta(minutes=1)
HOUR, DAY, YEAR = timedelta(hours=1), timedelta(days=1), timedelta(days=366)
MAX_DURATION = timedelta(days=3650)
# Days a user may name: a week's roll-up and the days around D stay far from date's limits.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9990, 12, 31)  # beyond this a duration is a typo, and datetimes overflow


def parse_duration(value: object) -> timedelta:
    """Read `30m`, `2h`, `1d`, `1h30m`, `500ms` or a number of seconds (at most ten years)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        if value > MAX_DURATION.total_seconds():
            raise ValueError(f'"{value}" is longer than {format_duration(MAX_DURATION)}')
        return timedelta(seconds=value)
    text = str(value).strip().lower() if isinstance(value, str) else None
    if text:
        pos, seconds = 0, 0.0
        for match in _DURATION.finditer(text):
            if match.start() != pos:
                break
            seconds += float(match.group(1)) * _UNITS[match.group(2)]
            pos = match.end()
        else:
            if pos == len(text):
                if seconds > MAX_DURATION.total_seconds():
                    raise ValueError(f'"{value}" is longer than {format_duration(MAX_DURATION)}')
                return timedelta(seconds=seconds)
    raise ValueError(f'"{value}" is not a duration (use 30m, 2h, 1d)')


def format_duration(delta: timedelta) -> str:
    total = delta.total_seconds()
    seconds = int(total)
    if seconds == total:
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if seconds and seconds % size == 0:
                return f"{seconds // size}{unit}"
    if 0 < total < 1:
        return f"{total * 1000:g}ms"
    return f"{total:g}s"


Duration = Annotated[
    timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)
]


def DurationIn(low: timedelta, high: timedelta) -> Any:  # noqa: N802 (a type, used as one)
    """A `Duration` that must lie in [low, high]; the error says the range in the user's units."""

    def check(value: timedelta) -> timedelta:
        if not low <= value <= high:
            raise ValueError(f'"{format_duration(value)}" is out of range ({format_duration(low)} to '
                             f'{format_duration(high)})')
        return value

    return Annotated[Duration, AfterValidator(check)]


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f'"{name}" is not a known time zone (e.g. Asia/Seoul, UTC)') from exc


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def parse_day(text: str, now: datetime, tz: ZoneInfo) -> date:
    """`YYYY-MM-DD`, `today` or `yesterday`, in the configured zone."""
    word = text.strip().lower()
    today = now.astimezone(tz).date()
    if word == "today":
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    try:
        day = date.fromisoformat(word)
    except ValueError:
        raise ValueError(f'"{text}" is not a day (use YYYY-MM-DD, today or yesterday)') from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f'"{text}" is out of range ({FIRST_DAY} to {LAST_DAY})')
    return day


def day_of(moment: datetime, tz: ZoneInfo) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(tz).date()


def iso(moment: datetime | None) -> str | None:
    """UTC ISO-8601 text as stored in SQLite, sortable as text."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def from_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# A time as trendbot writes it into a message: ISO 8601 with an offset (`…T21:12:10+00:00`) or
# x.py's `2026-12-01 21:12 UTC`.
_STAMP = re.compile(r"\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:[+-]\d\d:\d\d|Z| UTC\b)")


def local_time(moment: datetime, tz: ZoneInfo) -> str:
    """The one way a time is shown to the person: `2026-12-02 06:20 KST`, in the configured zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def shown_time(moment: datetime, now: datetime, tz: ZoneInfo) -> str:
    """`3 h ago`, `in 20 min`, `just now` within a day of `now`; further away, `local_time`."""
    seconds = (moment - now).total_seconds()
    span = abs(seconds)
    if span >= DAY.total_seconds():
        return local_time(moment, tz)
    minutes = round(span / 60)
    if minutes < 1:
        return "just now"
    amount = f"{minutes} min" if minutes < 60 else f"{round(span / 3600)} h"
    return f"in {amount}" if seconds > 0 else f"{amount} ago"


def local_times(text: str, tz: ZoneInfo) -> str:
    """`text` with every time written in it shown as `local_time` (a stored error says
    `next try after 2026-12-01T21:12:10+00:00`; the person reads it in their zone)."""
    def local(match: re.Match[str]) -> str:
        stamp = match.group(0).replace(" UTC", "+00:00").replace("Z", "+00:00").replace(" ", "T", 1)
        try:
            return local_time(datetime.fromisoformat(stamp), tz)
        except ValueError:
            return match.group(0)

    return _STAMP.sub(local, text)
