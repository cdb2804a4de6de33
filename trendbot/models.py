"""The item: one thing seen at one place, as every source kind hands it to the store.

Parsers build `Item`s from documents; the store keys them by `Item.key` so a re-fetch of the
same thing updates the row in place (DESIGN.md, "Items and stories").
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from trendbot.text import clean, cut, valid_unicode
from trendbot.urls import canonicalize_url, safe_http_url

HASH_VERSION = "v1"
# Longest text kept of each field (characters); a 1 MB title is an attack, not a title.
TEXT_LIMITS = {"title": 500, "text": 5000, "summary": 1000, "author": 200}


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def short_hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


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
        """Changes when anything a reader would see changes; raw payload excluded."""
        fields = self.model_dump(mode="json", exclude={"raw"})
        return HASH_VERSION + ":" + hashlib.sha256(canonical_json(fields).encode()).hexdigest()[:24]
