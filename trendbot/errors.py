"""One error hierarchy, so the CLI can turn any failure into a message and an exit status.

Exit statuses follow DESIGN.md: 1 when a source or a step failed (everything else was still
stored), 2 for bad usage or bad configuration.
"""

from __future__ import annotations


class TrendbotError(Exception):
    """Base of every error trendbot raises on purpose."""

    exit_code = 1


class ConfigError(TrendbotError):
    """A configuration file is missing, unreadable or invalid; names the file and key."""

    exit_code = 2

    def __init__(self, path: object, message: str, key: str | None = None):
        self.path = str(path)
        self.key = key
        self.reason = message
        where = f"{self.path}: {key}: " if key else f"{self.path}: "
        super().__init__(where + message)


class UsageError(TrendbotError):
    exit_code = 2


class FetchError(TrendbotError):
    """A request or a parse failed; `url` names what was asked for."""

    def __init__(self, url: str, reason: str):
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")

    def __reduce__(self):
        # parsers run in worker processes: their errors travel back pickled, with every field
        return type(self), (self.url, self.reason)


class RetryLater(FetchError):
    """The server asked us to come back later (429/503 with Retry-After)."""

    def __init__(self, url: str, reason: str, until):
        super().__init__(url, reason)
        self.until = until

    def __reduce__(self):
        return type(self), (self.url, self.reason, self.until)


class ParseError(FetchError):
    """A document arrived but its shape was not understood."""


class StoreError(TrendbotError):
    """The database cannot be opened or written; exit 2 when it is the wrong file altogether."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


class StoreBusy(StoreError):
    """Another process held the database's lock for longer than we waited: transient (exit 1),
    so the daemon tries again and systemd restarts a daemon that gave up."""

    def __init__(self, message: str):
        super().__init__(message, exit_code=1)


class PublishError(TrendbotError):
    pass


class LockedError(TrendbotError):
    """Another trendbot daemon already holds the database."""

    exit_code = 2


def both_failed(first: FetchError, fallback: FetchError, what: str) -> FetchError:
    """One error for a request and the fallback tried after it, naming both URLs and reasons;
    a RetryLater only when both servers asked us to wait."""
    reason = f"{first.reason}; {what} {fallback.url}: {fallback.reason}"
    if isinstance(first, RetryLater) and isinstance(fallback, RetryLater):
        return RetryLater(first.url, reason, max(first.until, fallback.until))
    return FetchError(first.url, reason)
