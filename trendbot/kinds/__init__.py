"""The registry of source kinds.

A kind is a config model (a pydantic class whose `kind` field is a Literal) plus an async
`fetch(ctx, source)` that returns items. Built-in kinds register themselves exactly as a
third-party kind would: `register(KIND_NAME, ConfigModel, fetch)`.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable

if TYPE_CHECKING:
    from trendbot.config import SourceBase
    from trendbot.fetch import FetchContext
    from trendbot.models import Item

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
BUILTIN = ("feed", "hf_papers", "geeknews", "x", "github_trending", "bluesky")


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
