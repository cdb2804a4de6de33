"""Kind `hackernews`: Hacker News stories through the Algolia HN Search API.

`GET {base_url}/api/v1/search?tags=front_page&hitsPerPage=N` answers the stories on the front
page now, with points and comment counts; other `tags` (`story`, `show_hn`, `ask_hn`) read the
stories posted within `within` before now, and `--date D` reads the stories posted on day D in
the configured time zone (`numericFilters=created_at_i>=…,created_at_i<…`), so past days can be
backfilled. `sort = "date"` asks `/search_by_date` (newest first) instead of `/search` (most
points first).

Each story becomes one item linked to its discussion, `https://news.ycombinator.com/item?id=N`,
whatever `base_url` served it; the article it is about (absent for Ask HN) is kept as
`extra.original_url` and as an outbound link, so the same article on GeekNews, a feed or Reddit
joins its story. Links in a text post (`story_text`) are outbound links too.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from pydantic import Field

from trendbot.config import BaseUrl, SourceBase
from trendbot.errors import ParseError
from trendbot.kinds import FetchContext, Kind
from trendbot.markup import outbound_links, strip_html
from trendbot.models import Item, StoredItem
from trendbot.values import count, iso_time
from trendbot.text import clean, compact_count
from trendbot.timeutil import Duration
from trendbot.urls import is_http_url

PUBLIC_BASE = "https://hn.algolia.com"
DISCUSSION = "https://news.ycombinator.com/item?id={}"
LABEL = "HN"
SHOWN_TAGS = ("front_page", "show_hn", "ask_hn", "poll")


class HackerNewsSource(SourceBase):
    kind: Literal["hackernews"]
    base_url: BaseUrl = Field(PUBLIC_BASE, description="where the Algolia HN Search API is fetched from")
    tags: str = Field("front_page", min_length=1,
                      description="Algolia tags: front_page (the front page now), story, show_hn, ask_hn, …")
    query: str = Field("", description="words the stories must match (Algolia full-text query); empty for all")
    sort: Literal["points", "date"] = Field("points", description="points: /search; date: /search_by_date")
    min_points: int = Field(0, ge=0, description="only stories with at least this many points")
    within: Duration = Field(timedelta(days=1), description="for tags other than front_page: stories this recent")
    limit: int = Field(50, ge=1, le=1000, description="stories asked for (`hitsPerPage`)")


def day_window(day: date, tz: ZoneInfo) -> tuple[int, int]:
    """Unix seconds of the start of `day` and of the next day, in the configured zone."""
    start = datetime.combine(day, time(0), tz)
    return int(start.timestamp()), int((start + timedelta(days=1)).timestamp())


def search_url(source: HackerNewsSource, now: datetime, tz: ZoneInfo, day: date | None = None) -> str:
    """The one request a fetch makes. The front page exists only now: a past day, or a window,
    is asked of all stories instead."""
    tags, filters = source.tags, []
    if day is not None:
        start, end = day_window(day, tz)
        tags = "story" if tags == "front_page" else tags
        filters += [f"created_at_i>={start}", f"created_at_i<{end}"]
    elif tags != "front_page":
        filters.append(f"created_at_i>={int((now - source.within).timestamp())}")
    if source.min_points:
        filters.append(f"points>={source.min_points}")
    params = {"tags": tags}
    if source.query:
        params["query"] = source.query
    if filters:
        params["numericFilters"] = ",".join(filters)
    params["hitsPerPage"] = str(source.limit)
    endpoint = "search" if source.sort == "points" else "search_by_date"
    return f"{source.base_url}/api/v1/{endpoint}?{urlencode(params)}"



def _time(hit: dict) -> datetime | None:
    moment = iso_time(hit.get("created_at"))
    if moment is not None:
        return moment
    seconds = hit.get("created_at_i")
    if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds > 0:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    return None


def story_item(hit: Any, *, source: str) -> Item | None:
    """One search hit as an item, or None for what is not a story with an id and a title (a
    comment, when `tags` asks for those too)."""
    if not isinstance(hit, dict) or "story" not in (hit.get("_tags") or ()):
        return None
    story_id = str(hit.get("objectID") or "").strip()
    title = clean(hit.get("title") if isinstance(hit.get("title"), str) else "")
    if not story_id.isdigit() or not title:
        return None
    discussion = DISCUSSION.format(story_id)
    article = hit["url"].strip() if isinstance(hit.get("url"), str) and is_http_url(hit["url"]) else None
    markup = hit.get("story_text") if isinstance(hit.get("story_text"), str) else ""
    links = [article] if article else []
    links += [url for url in outbound_links(markup, discussion) if url not in links]
    extra: dict[str, Any] = {"hn_id": int(story_id),
                             "hn_tags": [tag for tag in hit.get("_tags") or () if tag in SHOWN_TAGS]}
    if article:
        extra["original_url"] = article
    author = hit.get("author") if isinstance(hit.get("author"), str) else None
    return Item(
        source=source, kind="hackernews", url=discussion, guid=story_id, title=title,
        text=strip_html(markup), author=clean(author) or None, published_at=_time(hit),
        popularity={"points": (count(hit.get("points")) or 0), "comments": (count(hit.get("num_comments")) or 0)},
        links=links, extra=extra,
        raw={k: hit.get(k) for k in ("objectID", "title", "url", "created_at", "points", "num_comments")},
    )


def parse_search(body: bytes, *, source: str, url: str, limit: int = 1000) -> list[Item]:
    """The stories of one search answer, `{"hits": [...], "nbHits": …}`, at most `limit`."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(url, f"not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("hits"), list):
        raise ParseError(url, "expected an Algolia answer with a list of hits")
    hits = data["hits"][:limit]
    items = [item for hit in hits if (item := story_item(hit, source=source))]
    if hits and not items:
        raise ParseError(url, f"none of the {len(hits)} hits is a story with an id and a title")
    return items


async def fetch(ctx: FetchContext, source: HackerNewsSource) -> list[Item]:
    url = search_url(source, ctx.now, ctx.tz, ctx.day)
    response = await ctx.get(url, conditional=True)
    if response.not_modified:
        return []
    return await ctx.parse(parse_search, response.body, source=source.name, url=url, limit=source.limit)


def popularity(pop: dict) -> int:
    return int(pop.get("points", 0)) + int(pop.get("comments", 0))


def meta(item: StoredItem) -> list[str]:
    pop = item.popularity
    label = f"{LABEL} {compact_count(int(pop.get('points', 0)))}p"
    if pop.get("comments"):
        label += f" 💬{compact_count(int(pop['comments']))}"
    return [label]


KIND = Kind(name="hackernews", config=HackerNewsSource, fetch=fetch, label=LABEL, lead=50,
            popularity=popularity, meta=meta, main_url=lambda item: item.original_url or item.url)
