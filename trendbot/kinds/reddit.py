"""Kind `reddit`: the top posts of the day in chosen subreddits, JSON first and RSS as a fallback.

For each subreddit trendbot asks `GET {base_url}/r/{sub}/top.json?t=day&limit=N`, a `Listing`
of `t3` posts with score and comment count. Reddit drastically limits clients with a generic
User-Agent and refuses some outright, so every request names trendbot in the format Reddit's
API rules ask for, `python:trendbot:v0.1.0 (by /u/<username>)`. When the JSON is refused (403,
429) or is not JSON (a block page), the subreddit's Atom feed `/r/{sub}/top/.rss?t=day` is read
instead: the same posts, without scores.

Each post becomes one item linked to its permalink, `https://www.reddit.com/r/{sub}/comments/…`,
whatever `base_url` served it. A link post's article (not Reddit's own image, video or gallery
hosts) is kept as `extra.original_url` and as an outbound link; arXiv, GitHub and Hugging Face
links in a text post's body are outbound links too, so the post joins the story of the paper,
repository or model it is about.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

from pydantic import Field, field_validator

from trendbot import PROJECT_URL, __version__
from trendbot.config import BaseUrl, SourceBase
from trendbot.errors import FetchError, ParseError, both_failed
from trendbot.kinds import FetchContext, Kind
from trendbot.feeds import entry_html, entry_time, entry_title, read_feed, require_entries
from trendbot.models import Item, StoredItem
from trendbot.markup import parse_fragment, strip_html
from trendbot.values import count
from trendbot.text import clean, compact_count
from trendbot.urls import is_http_url

PUBLIC_BASE = "https://www.reddit.com"
LABEL = "Reddit"
USER_AGENT = f"python:trendbot:v{__version__}"
_SUBREDDIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")
_PERMALINK = re.compile(r"^/r/([A-Za-z0-9_]+)/comments/([a-z0-9]+)(?:/|$)")
_TEXT_URL = re.compile(r"https?://[^\s<>()\[\]\"']+")
TEXT_LINK_HOSTS = frozenset({"arxiv.org", "github.com", "huggingface.co", "hf.co"})


class RedditSource(SourceBase):
    kind: Literal["reddit"]
    base_url: BaseUrl = Field(PUBLIC_BASE, description="where the listings and feeds are fetched from")
    subreddits: list[str] = Field(default_factory=lambda: ["MachineLearning", "LocalLLaMA"], min_length=1,
                                  description="subreddit names, without r/")
    period: Literal["hour", "day", "week", "month", "year", "all"] = Field(
        "day", description="the top posts of this period (`t`)")
    limit: int = Field(25, ge=1, le=100, description="posts asked for per subreddit (`limit`)")
    username: str = Field("", pattern=r"^[A-Za-z0-9_-]{0,20}$",
                          description="your Reddit username, named in the User-Agent as Reddit asks")

    @field_validator("subreddits")
    @classmethod
    def _names(cls, values: list[str]) -> list[str]:
        names = [value.strip().removeprefix("/").removeprefix("r/") for value in values]
        for name in names:
            if not _SUBREDDIT.match(name):
                raise ValueError(f'"{name}" is not a subreddit name')
        return list(dict.fromkeys(names))


def user_agent(source: RedditSource) -> str:
    """Reddit's format, `<platform>:<app ID>:<version> (by /u/<username>)`, with the project's
    address when no username is set."""
    return f"{USER_AGENT} (by /u/{source.username})" if source.username else f"{USER_AGENT} (+{PROJECT_URL})"


def listing_url(source: RedditSource, subreddit: str) -> str:
    return f"{source.base_url}/r/{subreddit}/top.json?{urlencode({'t': source.period, 'limit': source.limit})}"


def feed_url(source: RedditSource, subreddit: str) -> str:
    return f"{source.base_url}/r/{subreddit}/top/.rss?{urlencode({'t': source.period, 'limit': source.limit})}"


def on_reddit(url: str) -> bool:
    """Whether a link stays on Reddit (a post, a gallery, an image or video it hosts)."""
    host = (urlsplit(url).hostname or "").lower()
    return host in ("reddit.com", "redd.it") or host.endswith((".reddit.com", ".redd.it"))


def text_links(text: str) -> list[str]:
    """arXiv, GitHub and Hugging Face links written in a post's body, in order, without repeats."""
    found: list[str] = []
    for match in _TEXT_URL.finditer(text or ""):
        url = match.group().rstrip(".,;:!?*_~")
        host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
        if host in TEXT_LINK_HOSTS and url not in found:
            found.append(url)
    return found



def _author(value: Any) -> str | None:
    name = clean(value).removeprefix("/u/") if isinstance(value, str) else ""
    return name if name and name != "[deleted]" else None


def _item(*, source: str, permalink: str, guid: str, title: str, text: str, author: str | None,
          published_at: datetime | None, article: str | None, links: list[str], popularity: dict[str, int],
          extra: dict[str, Any], raw: Any) -> Item | None:
    """The item of a post read from either document; None without a post permalink or a title."""
    match = _PERMALINK.match(permalink)
    if not match or not title:
        return None
    extra = {"subreddit": match.group(1), **extra}
    if article:
        extra["original_url"] = article
    outbound = [article] if article else []
    outbound += [url for url in links if url not in outbound]
    return Item(source=source, kind="reddit", url=f"{PUBLIC_BASE}{permalink}", guid=guid or f"t3_{match.group(2)}",
                title=title, text=text, author=author, published_at=published_at, popularity=popularity,
                links=outbound, extra=extra, raw=raw)


def post_item(post: Any, *, source: str) -> Item | None:
    """One `t3` of a JSON listing. Without `raw_json=1` Reddit escapes `& < >` in text fields."""
    if not isinstance(post, dict) or not isinstance(post.get("permalink"), str):
        return None
    title = clean(html.unescape(post["title"])) if isinstance(post.get("title"), str) else ""
    body = html.unescape(post["selftext"]) if isinstance(post.get("selftext"), str) else ""
    target = post.get("url_overridden_by_dest") or (None if post.get("is_self") else post.get("url"))
    article = target.strip() if isinstance(target, str) and is_http_url(target) and not on_reddit(target) else None
    created = post.get("created_utc")
    published = (datetime.fromtimestamp(created, tz=timezone.utc)
                 if isinstance(created, (int, float)) and not isinstance(created, bool) else None)
    flair = post.get("link_flair_text")
    return _item(source=source, permalink=post["permalink"], guid=str(post.get("name") or ""), title=title,
                 text=clean(body), author=_author(post.get("author")), published_at=published, article=article,
                 links=text_links(body),
                 popularity={"score": (count(post.get("score")) or 0), "comments": (count(post.get("num_comments")) or 0)},
                 extra={"flair": flair} if isinstance(flair, str) and flair else {},
                 raw={k: post.get(k) for k in ("name", "title", "permalink", "url", "score", "num_comments")})


def parse_listing(body: bytes, *, source: str, url: str, limit: int = 100) -> list[Item]:
    """The posts of a `{"kind": "Listing", "data": {"children": [...]}}` answer, at most `limit`."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(url, f"not valid JSON: {exc}") from None
    listing = data.get("data") if isinstance(data, dict) and data.get("kind") == "Listing" else None
    if not isinstance(listing, dict) or not isinstance(listing.get("children"), list):
        raise ParseError(url, "expected a Reddit Listing of posts")
    children = listing["children"][:limit]
    items = [item for child in children
             if isinstance(child, dict) and child.get("kind") == "t3"
             and (item := post_item(child.get("data"), source=source))]
    if children and not items:
        raise ParseError(url, f"none of the {len(children)} children is a post with a permalink and a title")
    return items


def split_entry(markup: str) -> tuple[str, str | None]:
    """A feed entry's HTML as (the post's own text, the article it links to). Reddit appends
    "submitted by … [link] [comments]" to the text; the first link there that leaves Reddit is
    the article of a link post."""
    tree = parse_fragment(markup or "")
    body = tree.css_first("div.md")
    own = body.html if body is not None else ""
    if body is not None:
        body.decompose()
    for anchor in tree.css("a[href]"):
        href = (anchor.attributes.get("href") or "").strip()
        if is_http_url(href) and not on_reddit(href):
            return own, href
    return own, None


def parse_feed(body: bytes, *, source: str, url: str, limit: int = 100) -> list[Item]:
    """The posts of a subreddit's Atom feed, at most `limit`; the feed carries no scores."""
    parsed = read_feed(body, url=url)
    items = []
    for entry in parsed.entries[:limit]:
        own, article = split_entry(entry_html(entry)[0])
        body = strip_html(own)
        permalink = urlsplit((entry.get("link") or "").strip()).path
        item = _item(source=source, permalink=permalink, guid=(entry.get("id") or "").strip(),
                     title=entry_title(entry), text=body, author=_author(entry.get("author")),
                     published_at=entry_time(entry), article=article, links=text_links(own), popularity={},
                     extra={}, raw={k: entry.get(k) for k in ("id", "link", "title", "published") if entry.get(k)})
        if item:
            items.append(item)
    require_entries(parsed, len(items), url)
    return items


async def fetch_subreddit(ctx: FetchContext, source: RedditSource, subreddit: str) -> list[Item]:
    """One subreddit's top posts from the JSON listing, else from its feed."""
    headers = {"User-Agent": user_agent(source)}
    url = listing_url(source, subreddit)
    try:
        response = await ctx.get(url, conditional=True, headers=headers)
        if response.not_modified:
            return []
        return await ctx.parse(parse_listing, response.body, source=source.name, url=url, limit=source.limit)
    except FetchError as json_error:
        fallback = feed_url(source, subreddit)
        try:
            response = await ctx.get(fallback, conditional=True, headers=headers)
            items = [] if response.not_modified else await ctx.parse(
                parse_feed, response.body, source=source.name, url=fallback, limit=source.limit)
        except FetchError as feed_error:
            raise both_failed(json_error, feed_error, "RSS fallback") from None
        ctx.note(f"r/{subreddit}: {len(items)} posts from the RSS fallback (JSON: {json_error.reason})")
        return items


async def fetch(ctx: FetchContext, source: RedditSource) -> list[Item]:
    if ctx.day is not None:
        ctx.note(f"Reddit lists only the current top posts; --date {ctx.day} reads those")
    return await ctx.each(source.subreddits, lambda subreddit: fetch_subreddit(ctx, source, subreddit),
                          name=lambda subreddit: f"r/{subreddit}")


def popularity(pop: dict) -> int:
    return int(pop.get("score", 0)) + int(pop.get("comments", 0))


def meta(item: StoredItem) -> list[str]:
    """`r/LocalLLaMA ▲1.2k`; a post read from the feed has no score, which is not a score of 0."""
    label = f"r/{item.extra.get('subreddit') or '?'}"
    pop = item.popularity
    return [f"{label} ▲{compact_count(int(pop['score']))}" if "score" in pop else label]


KIND = Kind(name="reddit", config=RedditSource, fetch=fetch, label=LABEL, lead=60,
            popularity=popularity, meta=meta, main_url=lambda item: item.original_url or item.url)
