"""Which source a log line is about, whichever module writes it.

A source's fetch runs in its own asyncio task (and the daemon's fetch job in its own thread),
so a context variable set there reaches every line written on its behalf: the kind's notes, the
HTTP module's request lines, the failure. `--json-logs` writes it as `"source": NAME`.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

SOURCE_LOGGER = "trendbot.source."
_current: ContextVar[str | None] = ContextVar("trendbot_source", default=None)


@contextmanager
def about_source(name: str) -> Iterator[None]:
    token = _current.set(name)
    try:
        yield
    finally:
        _current.reset(token)


def source_of(record: logging.LogRecord) -> str | None:
    """The source a record is about: named in its fields, else its logger
    (`trendbot.source.NAME`), else the fetch it was written in."""
    fields = getattr(record, "fields", None) or {}
    if fields.get("source"):
        return fields["source"]
    if record.name.startswith(SOURCE_LOGGER):
        return record.name[len(SOURCE_LOGGER):]
    return _current.get()
