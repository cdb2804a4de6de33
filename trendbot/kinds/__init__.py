"""Source kinds: what a kind is (`Kind`), what its fetch receives (`FetchContext`), and the
registry that finds every kind.

A kind is one module exporting `KIND = Kind(...)`: its config model, its fetch, and everything
the rest of trendbot needs to know about its items (how to label and rank them, which item of
a story leads, which hosts are its mirrors). Kinds are found through the entry-point group
`trendbot.kinds`; trendbot's own are registered there in its `pyproject.toml` exactly as a
third-party package registers one, so a new kind is one module plus one entry-point line and no
change to the core.

A kind never touches the store. Its fetch gets a `FetchContext`: the HTTP client, the
validators stored for conditional GET, the kind's `memory` from earlier runs (a dict it may
change, saved with the items in one transaction), the cycle's `now`, and the day asked for.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable, Iterator, Mapping, TypeVar
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from trendbot.config import SourceBase, all_problems, display_path, read_toml, validation_error
from trendbot.errors import ConfigError, FetchError, RetryLater
from trendbot.logs import SOURCE_LOGGER
from trendbot.models import Item, StoredItem, Validators
from trendbot.text import MESSAGE_CHARS, cut

if TYPE_CHECKING:  # only named in annotations: loading sources must not load httpx (start-up time)
    from trendbot.http import HttpClient, Response

ENTRY_POINT_GROUP = "trendbot.kinds"
WHOLE_AT_VV = " (-vv shows it whole)"
T = TypeVar("T")
log = logging.getLogger("trendbot.kinds")


def no_popularity(popularity: dict[str, int]) -> float:
    return 0.0


def source_name(item: StoredItem) -> list[str]:
    return [item.source]


@dataclass(frozen=True)
class Kind:
    """Everything kind-specific, in one place."""

    name: str
    config: type[SourceBase]                                   # the source file's keys (`kind` a Literal)
    fetch: Callable[[FetchContext, Any], Awaitable[list[Item]]]
    label: str = ""                                            # a mention link's text: "HF", "GN", "X"
    lead: int = 50                                             # lower leads a story: a paper page before a post
    popularity: Callable[[dict[str, int]], float] = no_popularity  # ranks an item within its source
    meta: Callable[[StoredItem], list[str]] = source_name      # labels after a line: "HF ▲118", "GN 12p 💬3"
    describe: Callable[[dict[str, Any], Any, datetime], list[str]] | None = None  # `trendbot sources` lines
    hosts: Callable[[Any], Iterable[str]] | None = None        # base URLs that serve this kind's items (mirrors)
    title_is_text: bool = False                                # the title is the text's start (a post)
    main_url: Callable[[StoredItem], str] | None = None        # the link when it leads, if not its url

    def mention_label(self, item: StoredItem) -> str:
        return self.label or item.source


class _Kinds(Mapping[str, Kind]):
    """Every installed kind by name. A kind's module is imported when the kind is first asked
    for, so a command pays only for the kinds its sources use."""

    def __init__(self, entries: Iterable[EntryPoint]):
        self._entries: dict[str, EntryPoint] = {}
        for entry in entries:
            self._entries.setdefault(entry.name, entry)
        self._loaded: dict[str, Kind | None] = {}

    def _load(self, name: str) -> Kind | None:
        if name not in self._loaded:
            entry = self._entries.get(name)
            self._loaded[name] = None if entry is None else _load_entry(entry)
        return self._loaded[name]

    def __getitem__(self, name: str) -> Kind:
        kind = self._load(name)
        if kind is None:
            raise KeyError(name)
        return kind

    def __iter__(self) -> Iterator[str]:
        return (name for name in list(self._entries) if self._load(name) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _load_entry(entry: EntryPoint) -> Kind | None:
    try:
        kind = entry.load()
    except Exception as exc:  # a broken plugin must not take trendbot down
        log.warning("kind %s (%s) cannot be loaded: %s: %s", entry.name, entry.value, type(exc).__name__, exc)
        return None
    if not isinstance(kind, Kind) or kind.name != entry.name:
        log.warning("kind %s (%s) is not a trendbot Kind named %r; ignored", entry.name, entry.value, entry.name)
        return None
    return kind


@functools.cache
def registry() -> Mapping[str, Kind]:
    """Every installed kind by name (the entry points read once per process)."""
    return _Kinds(entry_points(group=ENTRY_POINT_GROUP))


def get(name: str) -> Kind:
    return registry()[name]


# -- loading sources/*.toml --------------------------------------------------------------------


def load_source(path: Path) -> SourceBase:
    """One source file, validated by its kind's own model; errors name the file and the key."""
    data = read_toml(path)
    data.setdefault("name", path.stem)
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in registry():
        known = ", ".join(sorted(registry()))
        reason = "required key is missing" if kind is None else f'"{kind}" is not a known kind (use {known})'
        raise ConfigError(display_path(path), reason, "kind")
    try:
        return registry()[kind].config.model_validate(data)
    except ValidationError as exc:
        raise validation_error(path, exc) from None


def load_sources(directory: Path) -> list[SourceBase]:
    if not directory.exists():
        return []
    if not directory.is_dir():
        raise ConfigError(display_path(directory), "sources_dir is not a folder", "sources_dir")
    sources: list[SourceBase] = []
    seen: dict[str, Path] = {}
    problems: list[ConfigError] = []
    for path in sorted(directory.glob("*.toml")):
        try:
            source = load_source(path)
        except ConfigError as exc:  # every file is read: the user fixes them all in one go
            problems.append(exc)
            continue
        if source.name in seen:
            problems.append(ConfigError(display_path(path),
                                        f'"{source.name}" is already the name of {display_path(seen[source.name])}', "name"))
            continue
        seen[source.name] = path
        sources.append(source)
    if problems:
        raise all_problems(problems)
    return sources


def mirrors_of(sources: Iterable[SourceBase]) -> tuple[str, ...]:
    """Base URLs that serve some kind's items under that site's own paths (X's Nitter mirrors):
    a link on one of them is the item itself, for merging stories."""
    found: set[str] = set()
    for source in sources:
        kind = registry().get(source.kind)
        if kind is not None and kind.hosts is not None:
            found.update(kind.hosts(source))
    return tuple(sorted(found))


# -- what a fetch receives ---------------------------------------------------------------------


@dataclass
class FetchContext:
    """A kind's fetch sees the world through this: HTTP, stored validators and memory, the clock."""

    source: SourceBase
    http: HttpClient
    now: datetime
    tz: ZoneInfo
    day: date | None = None                                   # a past day asked for (backfill)
    stored_validators: dict[str, Validators] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)      # the kind's own, saved with the items
    parser: Callable[..., Awaitable[Any]] | None = None       # where pure parsers run (off the event loop)
    validators: dict[str, Validators] = field(default_factory=dict)  # new ones, saved with the items
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    last_url: str | None = None
    answers: int = 0          # documents received in full
    unchanged: int = 0        # "304 Not Modified" answers

    @property
    def not_modified(self) -> bool:
        """Every document asked for was unchanged since the last fetch."""
        return self.unchanged > 0 and self.answers == 0

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(SOURCE_LOGGER + self.source.name)

    async def get(self, url: str, *, conditional: bool = False, **kwargs) -> Response:
        """GET through the shared client; `conditional` sends back the stored validators.

        New validators are kept here and saved only together with the items, never before: a
        crash in between must not leave an ETag that would make the next fetch skip items never
        stored.
        """
        stored = self.stored_validators.get(url) if conditional else None
        self.last_url = url
        response = await self.http.get(url, validators=stored, **kwargs)
        if response.not_modified:
            self.unchanged += 1
        else:
            self.answers += 1
        if conditional and not response.not_modified:
            fresh = response.validators
            if fresh.etag or fresh.last_modified:
                self.validators[url] = fresh
        return response

    def refused(self, url: str) -> None:
        """Forget the validators of an answer the kind did not accept (an error page, a frozen
        mirror), so that the next fetch asks for the whole document again."""
        self.validators.pop(url, None)

    async def parse(self, parser: Callable[..., T], *args, **kwargs) -> T:
        """Run a pure parser off the event loop, so one large document does not hold up the
        requests of every other source."""
        if self.parser is not None:
            return await self.parser(parser, *args, **kwargs)
        import asyncio  # a fetch has it loaded already; reading source files does not need it

        return await asyncio.to_thread(parser, *args, **kwargs)

    def pace(self, base_url: str, interval: float) -> None:
        """At most one request every `interval` seconds to this site (a site's own politeness rule)."""
        self.http.set_host_interval(base_url, interval)

    def note(self, message: str) -> None:
        self.notes.append(self._brief(message))

    def warn(self, message: str) -> None:
        """Something is wrong but the fetch still counts (a broken document read in part):
        said after the source's line and kept in `trendbot sources` until the next fetch."""
        self.warnings.append(self._brief(message))

    def _brief(self, message: str) -> str:
        """A message as said: at most `MESSAGE_CHARS`; the whole of a longer one is in -vv's log."""
        self.log.debug("%s: %s", self.source.name, message)
        if len(message) <= MESSAGE_CHARS:
            return message
        return cut(message, MESSAGE_CHARS - len(WHOLE_AT_VV)) + WHOLE_AT_VV

    async def each(self, parts: Iterable[T], fetch_one: Callable[[T], Awaitable[list[Item]]],
                   name: Callable[[T], str] = str) -> list[Item]:
        """The items of every part of a source (a subreddit, an account, a language page), one
        part after the other. A part that fails is noted and the others are kept; the source
        fails only when every part failed, or at once when a server asks us to wait. An item
        met twice (a repost in two accounts) is kept once."""
        found: dict[str, Item] = {}
        failures: list[FetchError] = []
        parts = list(dict.fromkeys(parts))
        for part in parts:
            try:
                items = await fetch_one(part)
            except RetryLater:
                raise
            except FetchError as exc:
                failures.append(exc)
                self.note(f"{name(part)}: not read: {exc}")
                continue
            for item in items:
                found.setdefault(item.guid or item.url, item)
        if parts and len(failures) == len(parts):
            raise failures[0]
        return list(found.values())
