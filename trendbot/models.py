"""The data that crosses layers: an `Item` as a kind parses it, a `StoredItem` as the store hands
it back, a source's `SourceState`, HTTP `Validators`, a day's `Publication`.

Parsers build `Item`s from documents; the store keys them by `Item.key` so a re-fetch of the
same thing updates the row in place. Everything above the store reads typed rows, never dicts
by key, so a column's name and meaning live here once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from trendbot.text import clean, cut, valid_unicode
from trendbot.urls import canonicalize_url, safe_http_url

HASH_VERSION = "v2"
# The start of an item's text that `trendbot search` looks in, with the title (characters).
EXCERPT_CHARS = 300
# Longest text kept of each field (characters); a 1 MB title is an attack, not a title.
TEXT_LIMITS = {"title": 500, "text": 5000, "summary": 1000, "author": 200}


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def short_hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


def short_hasher(first: str) -> Callable[[str], str]:
    """`short_hash(first, part)` for many parts: the first part is hashed once (what a merge
    pays for 100,000 story ids is mostly setting up the hash)."""
    start = hashlib.sha256(f"{first}\x1f".encode())

    def hash_of(part: str) -> str:
        state = start.copy()
        state.update(part.encode())
        return state.hexdigest()[:20]

    return hash_of


class Item(BaseModel):
    """A normalized item. Text fields are plain text (no HTML), times are UTC."""

    model_config = ConfigDict(extra="forbid")

    source: str
    kind: str
    url: str = Field(description="public link written into the digest")
    guid: str | None = Field(None, description="the source's own stable id, if it has one")
    title: str
    text: str = ""
    summary: str | None = Field(None, description="a one-line summary the source itself gives")
    author: str | None = None
    published_at: datetime | None = None
    day: date | None = Field(None, description="the listing day, when the source defines one (HF)")
    popularity: dict[str, int] = Field(default_factory=dict)
    links: list[str] = Field(default_factory=list, description="outbound links, for merging")
    extra: dict[str, Any] = Field(default_factory=dict)
    raw: Any = None

    @field_validator("title", "text", "summary", "author")
    @classmethod
    def _text(cls, value: str | None, info) -> str | None:
        # the one cleaning step every item passes, whichever kind parsed it
        if value is None:
            return None
        return cut(clean(value), TEXT_LIMITS[info.field_name])

    @field_validator("url", "guid")
    @classmethod
    def _valid(cls, value: str | None) -> str | None:
        return valid_unicode(value).strip() if value else value

    @field_validator("links")
    @classmethod
    def _links(cls, values: list[str]) -> list[str]:
        return [link for link in (safe_http_url(value) for value in values) if link]

    @field_validator("published_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None:
            if value.tzinfo is None:
                value = value.replace(tzinfo=timezone.utc)
            value = value.astimezone(timezone.utc)
        return value

    @property
    def key(self) -> str:
        """Stable id: source plus guid, else source plus canonical URL."""
        ident = self.guid or canonicalize_url(self.url)
        return short_hash(self.source, ident)

    def content_hash(self) -> str:
        """Changes when anything a reader would see changes. The raw payload is left out, and so
        are the published time and the listing day: an item's day is fixed when it is first
        stored, so a feed that re-dates its items changes nothing."""
        fields = self.model_dump(mode="json", exclude={"raw", "published_at", "day"})
        return HASH_VERSION + ":" + hashlib.sha256(canonical_json(fields).encode()).hexdigest()[:24]


@dataclass(slots=True)
class StoredItem:
    """An item as stored: what the digest, the merge and the CLI read (no raw payload)."""

    id: str
    source: str
    kind: str
    url: str
    title: str
    day: date
    canonical_url: str = ""
    guid: str | None = None
    text: str = ""
    summary: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    first_seen_at: datetime | None = None
    updated_at: datetime | None = None
    popularity: dict[str, int] = field(default_factory=dict)
    links: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    story_id: str | None = None
    merge_rule: str | None = None

    @property
    def original_url(self) -> str | None:
        """The article a discussion page is about (a GeekNews topic, an HN story), if any."""
        value = self.extra.get("original_url")
        return value if isinstance(value, str) else None

    @property
    def withdrawn(self) -> bool:
        """The source took the item back (a withdrawn paper): it stays stored, never listed."""
        return bool(self.extra.get("withdrawn_at"))

    def to_json(self) -> dict[str, Any]:
        """The fields `items --json` and `search --json` print."""
        return {
            "id": self.id, "source": self.source, "kind": self.kind, "day": self.day.isoformat(),
            "title": self.title, "url": self.url, "canonical_url": self.canonical_url, "author": self.author,
            "published_at": _iso(self.published_at), "first_seen_at": _iso(self.first_seen_at),
            "updated_at": _iso(self.updated_at), "summary": self.summary, "popularity": self.popularity,
            "links": self.links, "story_id": self.story_id, "merge_rule": self.merge_rule,
            **{key: self.extra[key] for key in JSON_EXTRA if self.extra.get(key) not in (None, "", [])},
        }


# `extra` fields that `items --json` shows as fields of their own
JSON_EXTRA = ("original_url", "organization", "submitter", "thumbnail", "withdrawn_at")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@dataclass(slots=True)
class Validators:
    """What a server said about a document, sent back to ask "changed since?" (RFC 9110 §13.1)."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass
class SourceState:
    """What trendbot knows about a source's fetches, shown by `trendbot sources`."""

    name: str
    kind: str | None = None
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    next_fetch_after: datetime | None = None   # the server asked to be left alone until then
    last_new: int = 0
    last_updated: int = 0
    consecutive_failures: int = 0
    last_warning: str | None = None
    last_new_at: datetime | None = None        # the last fetch that brought a new item
    newest_item_at: datetime | None = None     # publication time of the newest item stored
    not_modified: bool = False                 # the last fetch was answered "not modified"


@dataclass
class Publication:
    """Where a day's section was last written, and what trendbot wrote there."""

    day: date
    path: str
    content_hash: str  # the hash of the block as trendbot left it in the post (its text merged with the person's)
    published_at: datetime | None = None


VERDICTS = ("deleted", "kept", "moved", "annotated")  # weakest "yes" to strongest, after "no"


@dataclass
class Verdict:
    """What the person did with one of trendbot's story lines on a day: `deleted` it, `kept` it
    as written, `moved` it up, or kept it with changes or notes (`annotated`, whose `line` is
    the person's line as they left it). `features` are the story's, as the taste model reads
    them, saved with the verdict so that it can be learned from when the items are gone."""

    day: date
    story: str                     # the address of the line's link
    verdict: str
    title: str = ""
    features: list[str] = field(default_factory=list)
    line: str | None = None
    recorded_at: datetime | None = None
