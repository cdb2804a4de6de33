"""Kind `feed`: any RSS, Atom or JSON feed, read with feedparser.

`parse_feed` is pure (bytes in, items out) and tested from recorded files; `fetch` only does
the conditional GET around it.
"""

from __future__ import annotations

import calendar
import html
import json
import re
from datetime import datetime, timezone
from typing import Literal
from urllib.parse import urljoin

import feedparser
from pydantic import Field
from selectolax.lexbor import LexborHTMLParser

from trendbot.config import HttpUrl, SourceBase
from trendbot.errors import ParseError
from trendbot.kinds import register
from trendbot.models import Item
from trendbot.text import clean, strip_html
from trendbot.urls import is_http_url


class FeedSource(SourceBase):
    kind: Literal["feed"]
    url: HttpUrl = Field(description="the feed's address")
    max_items: int = Field(200, ge=1, description="entries read from one document")


def entry_time(entry) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)
    return None


def outbound_links(markup: str, base: str) -> list[str]:
    """Absolute http(s) links found in an HTML fragment, in order, without repeats."""
    if not markup or "<a" not in markup.lower():
        return []
    found: list[str] = []
    for node in LexborHTMLParser(markup).css("a[href]"):
        href = urljoin(base, (node.attributes.get("href") or "").strip())
        if is_http_url(href) and href not in found:
            found.append(href)
    return found


_ENTITY = re.compile(r"&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);")


def entry_title(entry) -> str:
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


def entry_html(entry) -> str:
    for content in entry.get("content") or []:
        if content.get("value"):
            return content["value"]
    return entry.get("summary") or entry.get("description") or ""


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


def parse_feed(body: bytes, *, source: str, feed_url: str, content_type: str | None = None,
               kind: str = "feed", max_items: int = 200) -> list[Item]:
    """Items of a feed document. Raises `ParseError` when the body is not a feed at all."""
    headers = {"content-type": content_type} if content_type else {}
    entries = json_feed_entries(body, feed_url)
    if entries is None:
        parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False)
        if not parsed.get("version") and not parsed.entries:
            reason = parsed.get("bozo_exception") or "no RSS, Atom or JSON feed found"
            raise ParseError(feed_url, f"not a feed: {reason}")
        entries = parsed.entries
    items: list[Item] = []
    for entry in entries[:max_items]:
        link = (entry.get("link") or "").strip()
        guid = (entry.get("id") or "").strip() or None
        if not link and guid and is_http_url(guid):
            link = guid
        link = urljoin(feed_url, link) if link else ""
        if not is_http_url(link):
            continue
        markup = entry_html(entry)
        text = strip_html(markup)
        title = entry_title(entry) or clean(text)[:120]
        if not title:
            continue
        author = clean(entry.get("author")) or None
        items.append(Item(
            source=source, kind=kind, url=link, guid=guid, title=title, text=text, author=author,
            published_at=entry_time(entry), links=[u for u in outbound_links(markup, link) if u != link],
            raw={k: entry.get(k) for k in ("id", "link", "title", "published", "updated", "author") if entry.get(k)},
        ))
    return items


async def fetch(ctx, source: FeedSource) -> list[Item]:
    response = await ctx.get(source.url, conditional=True)
    if response.not_modified:
        ctx.log.info("%s: not modified", source.name)
        return []
    return await ctx.parse(parse_feed, response.body, source=source.name, feed_url=source.url,
                           content_type=response.headers.get("content-type"), max_items=source.max_items)


register("feed", FeedSource, fetch)
