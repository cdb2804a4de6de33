"""Sources made of several documents (one page per language, one feed per account).

One part that cannot be read must not cost the others: it is noted and the rest is stored.
The source fails only when no part could be read, and at once when a server asks us to wait
(a 429 on one part will meet the next part too).
"""

from __future__ import annotations

from typing import Awaitable, Callable, Iterable, TypeVar

from trendbot.errors import FetchError, RetryLater
from trendbot.models import Item

T = TypeVar("T")


async def read_each(ctx, parts: Iterable[T], read: Callable[[T], Awaitable[list[Item]]],
                    name: Callable[[T], str] = str) -> list[Item]:
    """The items of every part that could be read, in order; each failed part becomes a note."""
    items: list[Item] = []
    failures: list[FetchError] = []
    read_ok = 0
    for part in parts:
        try:
            items += await read(part)
        except RetryLater:
            raise
        except FetchError as exc:
            failures.append(exc)
            ctx.log.warning("%s: %s", name(part), exc)
            ctx.note(f"{name(part)}: not read: {exc}")
            continue
        read_ok += 1
    if failures and not read_ok:
        raise failures[0]
    return items
