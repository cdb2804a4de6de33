"""Kind `feed`: any RSS, Atom or JSON feed, read with feedparser.

`parse_feed` is pure (bytes in, items out) and tested from recorded files; `fetch` only does
the conditional GET around it.
"""

from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from typing import Literal, NamedTuple
from urllib.parse import urljoin

from pydantic import Field

from trendbot.config import HttpUrl, SourceBase
from trendbot.errors import ParseError
from trendbot.feeds import Document, entry_html, entry_time, entry_title, read_feed, require_entries
from trendbot.kinds import FetchContext, Kind
from trendbot.models import Item
from trendbot.markup import outbound_links, strip_html
from trendbot.text import clean
from trendbot.urls import is_http_url


class FeedSource(SourceBase):
    kind: Literal["feed"]
    url: HttpUrl = Field(description="the feed's address")
    max_items: int = Field(200, ge=1, description="entries read from one document")


def json_feed_entries(body: bytes, feed_url: str) -> list[dict] | None:
    """Entries of a JSON Feed (https://jsonfeed.org/version/1.1) in feedparser's entry shape,
    or None when the body is not JSON; feedparser 6 reads only XML feeds."""
    if not body.lstrip()[:1] == b"{":
        return None
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(feed_url, f"not a feed: invalid JSON ({exc})") from None
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith("https://jsonfeed.org/"):
        raise ParseError(feed_url, "not a feed: JSON without a jsonfeed.org version")
    entries = []
    for item in document.get("items") or []:
        if not isinstance(item, dict):
            continue
        when = None
        for key in ("date_published", "date_modified"):
            try:
                moment = datetime.fromisoformat(str(item.get(key) or "").replace("Z", "+00:00"))
            except ValueError:
                continue
            when = (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).utctimetuple()
            break
        authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        html_body = item.get("content_html") or html.escape(str(item.get("content_text") or item.get("summary") or ""))
        entries.append({
            "id": str(item.get("id") or ""), "link": str(item.get("url") or item.get("external_url") or ""),
            "title": str(item.get("title") or ""), "title_detail": {"type": "application/json"},
            "summary": html_body, "published_parsed": when,
            "author": ", ".join(str(a.get("name")) for a in authors if isinstance(a, dict) and a.get("name")),
        })
    return entries


class FeedItems(NamedTuple):
    items: list[Item]
    warning: str | None = None  # the document was broken; these items are what could be read


def parse_feed(body: bytes, *, source: str, feed_url: str, content_type: str | None = None,
               kind: str = "feed", max_items: int = 200) -> FeedItems:
    """Items of a feed document. Raises `ParseError` when the body is not a feed at all, or is a
    broken one from which no item could be read."""
    entries = json_feed_entries(body, feed_url)
    document = Document(entries) if entries is not None else read_feed(body, url=feed_url, content_type=content_type)
    items: list[Item] = []
    for entry in document.entries[:max_items]:
        link = (entry.get("link") or "").strip()
        guid = (entry.get("id") or "").strip() or None
        if not link and guid and is_http_url(guid):
            link = guid
        try:
            link = urljoin(feed_url, link) if link else ""
        except ValueError:
            continue
        if not is_http_url(link):
            continue
        markup, base = entry_html(entry)
        text = strip_html(markup)
        title = entry_title(entry) or clean(text)[:120]
        if not title:
            continue
        author = clean(entry.get("author")) or None
        items.append(Item(
            source=source, kind=kind, url=link, guid=guid, title=title, text=text, author=author,
            published_at=entry_time(entry), links=[u for u in outbound_links(markup, base or link) if u != link],
            raw={k: entry.get(k) for k in ("id", "link", "title", "published", "updated", "author") if entry.get(k)},
        ))
    return FeedItems(items, require_entries(document, len(items), feed_url))


async def fetch(ctx: FetchContext, source: FeedSource) -> list[Item]:
    response = await ctx.get(source.url, conditional=True)
    if response.not_modified:
        return []
    parsed = await ctx.parse(parse_feed, response.body, source=source.name, feed_url=source.url,
                             content_type=response.headers.get("content-type"), max_items=source.max_items)
    if parsed.warning:
        ctx.warn(parsed.warning)
    return parsed.items


KIND = Kind(name="feed", config=FeedSource, fetch=fetch, lead=20)
