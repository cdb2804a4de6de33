"""RSS and Atom documents read once, the same way for every kind that reads them (feeds,
GeekNews's Atom feed, Nitter and RSSHub timelines).

feedparser is forgiving: it reads what it can of a broken document and says so in `bozo`. That is
right for a feed cut short after twenty good entries, wrong for `<rss><channel><item><title>x`,
which would otherwise count as a successful fetch of nothing. So a document that is not
well-formed carries its `problem` (the parser's reason and line): the kind fails the source when
nothing could be read from it (`require_entries`), and stores what was read with a warning when
something could.

feedparser runs with `sanitize_html` and `resolve_relative_uris` off: trendbot reduces HTML to
text itself and resolves the links it keeps against each content's own base (`xml:base` is still
applied to entry links by feedparser), so that work would be thrown away.
"""

from __future__ import annotations

import calendar
import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from trendbot.errors import ParseError
from trendbot.markup import strip_html
from trendbot.text import clean

_ENTITY = re.compile(r"&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);")
# feedparser's bozo exceptions that say nothing about the document being broken
_HARMLESS = ("CharacterEncodingOverride", "NonXMLContentType")


@dataclass
class Document:
    """A parsed feed: its entries, the feed-level fields, and why it is not well-formed, if so."""

    entries: list[Any]
    feed: dict = field(default_factory=dict)
    version: str = ""
    problem: str | None = None


def read_feed(body: bytes, *, url: str, content_type: str | None = None, what: str = "feed") -> Document:
    """Parse an RSS or Atom document; raise `ParseError` when it is no feed at all."""
    import feedparser  # loaded by the first parse, not by every command that reads source files

    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    problem = malformed(parsed)
    if not parsed.get("version") and not parsed.entries:
        raise ParseError(url, f"not a {what}: {problem or 'no RSS or Atom document found'}")
    return Document(list(parsed.entries), dict(parsed.get("feed") or {}), parsed.get("version") or "", problem)


def malformed(parsed: Any) -> str | None:
    """Why feedparser found the document broken ("line 3, column 9: mismatched tag"), or None."""
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    if exc is None or type(exc).__name__ in _HARMLESS:
        return None
    reason = getattr(exc, "getMessage", lambda: str(exc))() or type(exc).__name__
    line = getattr(exc, "getLineNumber", lambda: None)()
    column = getattr(exc, "getColumnNumber", lambda: None)()
    where = f"line {line}, column {column}: " if line else ""
    return f"not well-formed XML ({where}{reason})"


def require_entries(document: Document, read: int, url: str) -> str | None:
    """Fail a broken document nothing could be read from; else return the warning to show."""
    if document.problem and not read:
        raise ParseError(url, f"{document.problem}; no entry could be read")
    if document.problem:
        return f"{url}: {document.problem}; kept the {read} entries that could be read"
    return None


def entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def entry_title(entry: Any) -> str:
    """The title as text. HTML titles lose their tags; plain-text titles keep `<` and `>` but get
    entities decoded once, because many feeds (GeekNews among them) escape twice, leaving
    `Tools &amp; Best Practices` after XML parsing."""
    title = entry.get("title") or ""
    kind = (entry.get("title_detail") or {}).get("type")
    if kind == "text/html":
        return strip_html(title)
    if kind == "text/plain" and _ENTITY.search(title):
        return clean(html.unescape(title))
    return clean(title)  # a JSON Feed title is exactly its text


def entry_html(entry: Any) -> tuple[str, str | None]:
    """The entry's richest HTML body and the base its relative links resolve against."""
    for content in entry.get("content") or []:
        if content.get("value"):
            return content["value"], content.get("base")
    detail = entry.get("summary_detail") or {}
    return entry.get("summary") or entry.get("description") or "", detail.get("base")
