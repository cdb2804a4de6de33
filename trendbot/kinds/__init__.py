"""The registry of source kinds.

A kind is a config model (a pydantic class whose `kind` field is a Literal) plus an async
`fetch(ctx, source)` that returns items. Built-in kinds register themselves exactly as a
third-party kind would: `register(KIND_NAME, ConfigModel, fetch)`.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable, TypeVar

if TYPE_CHECKING:
    from trendbot.config import SourceBase
    from trendbot.fetch import FetchContext
    from trendbot.models import Item

T = TypeVar("T")
Fetcher = Callable[["FetchContext", "SourceBase"], Awaitable[list["Item"]]]
# describe(store, source) -> lines that `trendbot sources` prints under the source (optional)
Describer = Callable[[Any, "SourceBase"], list[str]]


@dataclass(frozen=True)
class Kind:
    name: str
    config: type
    fetch: Fetcher
    describe: Describer | None = None


_KINDS: dict[str, Kind] = {}
BUILTIN = ("feed", "hf_papers", "geeknews", "x", "hf_trending", "hackernews", "reddit", "github_trending",
           "bluesky")


def register(name: str, config: type, fetch: Fetcher, describe: Describer | None = None) -> None:
    _KINDS[name] = Kind(name, config, fetch, describe)


def load_builtins() -> None:
    for name in BUILTIN:
        module = f"trendbot.kinds.{name}"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)


def all_kinds() -> dict[str, Kind]:
    load_builtins()
    return dict(_KINDS)


def get(name: str) -> Kind:
    return all_kinds()[name]


async def fetch_parts(ctx, parts: Iterable[T], fetch_one: Callable[[T], Awaitable[list["Item"]]]) -> list["Item"]:
    """The items of every part of a source (a subreddit, a list), one part after the other.

    A part that fails is noted and the others are kept; the source fails only when every part
    failed, or at once when a server asks us to wait. An item met twice is kept once (by guid).
    """
    from trendbot.errors import FetchError, RetryLater

    found: dict[str, "Item"] = {}
    failures: list[FetchError] = []
    parts = list(dict.fromkeys(parts))
    for part in parts:
        try:
            items = await fetch_one(part)
        except RetryLater:
            raise
        except FetchError as exc:
            failures.append(exc)
            continue
        found.update((item.guid or item.url, item) for item in items)
    if parts and len(failures) == len(parts):
        raise failures[0]
    for failure in failures:
        ctx.log.warning("%s: %s", ctx.source.name, failure)
        ctx.note(f"not read: {failure}")
    return list(found.values())
