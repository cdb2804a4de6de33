"""Kind `bluesky`: posts of chosen Bluesky accounts, read from the public AppView without a login.

Each account's feed is `GET {base_url}/xrpc/app.bsky.feed.getAuthorFeed?actor=HANDLE&filter=
posts_no_replies&limit=N`, followed through `cursor` for at most `max_pages` pages. An answer
holds the account's own posts and its reposts of other people's posts (an entry whose `reason`
is `app.bsky.feed.defs#reasonRepost`); reposts are kept only with `include_reposts`.

Every post becomes one item linked to `https://bsky.app/profile/{handle}/post/{rkey}` (the rkey
is the last segment of the post's `at://` URI, which is also its stable id), whatever AppView
served it. The post text shows links shortened ("arxiv.org/abs/2606.1…"); the full targets are
in the record's link facets and its external embed (the link card), and those become the item's
outbound links, so a post linking a paper joins the paper's story. Popularity is likes plus
reposts; reply and quote counts are kept too.

An account that cannot be read is noted and the others are still stored; the source fails only
when no account could be read.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal, NamedTuple
from urllib.parse import urlencode

from pydantic import Field, field_validator

from trendbot.config import BaseUrl, SourceBase
from trendbot.errors import ParseError
from trendbot.kinds import FetchContext, Kind
from trendbot.models import Item, StoredItem
from trendbot.values import count, iso_time
from trendbot.text import clean, cut, compact_count, wordless_title
from trendbot.urls import is_http_url

PUBLIC_BASE = "https://public.api.bsky.app"
APP_BASE = "https://bsky.app"
LABEL = "Bluesky"
TITLE_CHARS = 100
REPOST = "app.bsky.feed.defs#reasonRepost"
LINK_FACET = "app.bsky.richtext.facet#link"

_URL_SCHEME = re.compile(r"\bhttps?://(?:www\.)?")
_AT_POST = re.compile(r"^at://([^/]+)/app\.bsky\.feed\.post/([A-Za-z0-9._:~-]{1,512})$")
_HANDLE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
_DID = re.compile(r"^did:(?:plc|web):[A-Za-z0-9._:%-]+$")


class BlueskySource(SourceBase):
    kind: Literal["bluesky"]
    base_url: BaseUrl = Field(PUBLIC_BASE, description="the AppView answering app.bsky.feed.getAuthorFeed (no login needed)")
    accounts: list[str] = Field(min_length=1, description="handles (karpathy.bsky.social) or DIDs, with or without @")
    include_reposts: bool = Field(False, description="keep the accounts' reposts of other people's posts")
    limit: int = Field(30, ge=1, le=100, description="posts asked for per request (the API's `limit`)")
    max_pages: int = Field(1, ge=1, le=10, description="pages read per account per fetch, following `cursor`")

    @field_validator("accounts")
    @classmethod
    def _actors(cls, values: list[str]) -> list[str]:
        actors: list[str] = []
        for value in values:
            actor = value.strip().lstrip("@")
            actor = actor if actor.startswith("did:") else actor.lower()
            if not (_HANDLE.match(actor) or _DID.match(actor)):
                raise ValueError(f'"{value}" is not a Bluesky handle (name.bsky.social) or DID (did:plc:…)')
            if actor not in actors:
                actors.append(actor)
        return actors


class FeedPage(NamedTuple):
    """The items of one getAuthorFeed answer, its `cursor`, and how many entries it had."""

    items: list[Item]
    cursor: str | None
    entries: int


def feed_url(base_url: str, actor: str, limit: int, cursor: str | None = None) -> str:
    params = {"actor": actor, "filter": "posts_no_replies", "limit": limit}
    if cursor:
        params["cursor"] = cursor
    return f"{base_url}/xrpc/app.bsky.feed.getAuthorFeed?{urlencode(params)}"




def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def link_facets(record: dict) -> list[tuple[int, int, str]]:
    """(byteStart, byteEnd, uri) of every link facet of a post record."""
    found = []
    for facet in _list(record.get("facets")):
        index = _dict(_dict(facet).get("index"))
        for feature in _list(_dict(facet).get("features")):
            feature = _dict(feature)
            uri = feature.get("uri")
            if feature.get("$type") == LINK_FACET and isinstance(uri, str) and is_http_url(uri):
                found.append((index.get("byteStart"), index.get("byteEnd"), uri.strip()))
    return found


def expanded_text(record: dict) -> str:
    """The post text with each shortened link ("arxiv.org/abs/2606.1…") replaced by its full target.

    Facet offsets count UTF-8 bytes, not characters; a facet whose range does not fit the text
    is left as it is.
    """
    text = record.get("text") if isinstance(record.get("text"), str) else ""
    data = text.encode("utf-8")
    spans = sorted(((s, e, u) for s, e, u in link_facets(record)
                    if isinstance(s, int) and isinstance(e, int) and 0 <= s < e <= len(data)),
                   key=lambda span: span[:2], reverse=True)
    last = len(data) + 1
    for start, end, uri in spans:
        if end <= last:  # overlapping facets: keep the later one only
            data = data[:start] + uri.encode("utf-8") + data[end:]
            last = start
    return clean(data.decode("utf-8", errors="replace"))


def embed_kind(embed: dict) -> str | None:
    """The embed's kind from its `$type` (`app.bsky.embed.images#view` is "images"): images,
    video, external (a link card), record (a quote) or recordWithMedia."""
    kind = embed.get("$type")
    if not isinstance(kind, str) or not kind.startswith("app.bsky.embed."):
        return None
    return kind.removeprefix("app.bsky.embed.").split("#", 1)[0]


def embed_parts(embed: dict) -> list[dict]:
    """The embed, plus the media and the quoted record of a quote with media (`recordWithMedia`)."""
    parts = [embed] if embed else []
    if embed_kind(embed) == "recordWithMedia":
        parts += [part for part in (_dict(embed.get("media")), _dict(embed.get("record"))) if part]
    return parts


def outbound_links(post: dict, record: dict) -> list[str]:
    """Link facets first, then the link card (the hydrated view, else the record's own embed)."""
    links = [uri for _, _, uri in link_facets(record)]
    for embed in (_dict(post.get("embed")), _dict(record.get("embed"))):
        for part in embed_parts(embed):
            uri = _dict(part.get("external")).get("uri")
            if isinstance(uri, str) and is_http_url(uri.strip()):
                links.append(uri.strip())
    return list(dict.fromkeys(links))


def embed_title(post: dict, handle: str) -> str:
    """The title of a post without text, from what its embed holds: the link card's title, the
    quoted post, the image or video description, else "@handle의 사진" / "동영상" / "게시물"."""
    embed = _dict(post.get("embed")) or _dict(_dict(post.get("record")).get("embed"))
    parts = embed_parts(embed)
    cards = [clean(_dict(part.get("external")).get("title")) for part in parts]
    quotes = [clean(_dict(_dict(part.get("record")).get("value")).get("text"))
              for part in parts if embed_kind(part) == "record"]
    alts = [clean(_dict(image).get("alt")) for part in parts for image in _list(part.get("images"))]
    alts += [clean(part.get("alt")) for part in parts]
    kinds = {embed_kind(part) for part in parts}
    media = {kind for kind, shown in (("photo", "images"), ("video", "video")) if shown in kinds}
    return wordless_title(f"@{handle}", card=_first(cards), quote=_first(quotes), alt=_first(alts), media=media)


def _first(texts: list[str]) -> str:
    return next((text for text in texts if text), "")


def post_item(entry: Any, *, source: str, include_reposts: bool) -> Item | None:
    """One feed entry as an item; None for a repost when they are not wanted, or for an entry
    without a post's `at://` URI and record."""
    entry = _dict(entry)
    post = _dict(entry.get("post"))
    reason = _dict(entry.get("reason"))
    reposted = reason.get("$type") == REPOST
    if reposted and not include_reposts:
        return None
    match = _AT_POST.match(str(post.get("uri") or ""))
    record = _dict(post.get("record"))
    if not match or not record:
        return None
    author = _dict(post.get("author"))
    handle = str(author.get("handle") or "").lower()
    did = str(author.get("did") or match.group(1))
    # an account whose handle no longer resolves is shown as "handle.invalid"; its DID still links
    profile = handle if handle and handle != "handle.invalid" else did
    rkey = match.group(2)
    text = expanded_text(record)
    title = cut(_URL_SCHEME.sub("", text), TITLE_CHARS) if text else cut(embed_title(post, profile), TITLE_CHARS)
    popularity = {"likes": (count(post.get("likeCount")) or 0), "reposts": (count(post.get("repostCount")) or 0),
                  "replies": (count(post.get("replyCount")) or 0), "quotes": (count(post.get("quoteCount")) or 0)}
    extra: dict[str, Any] = {"handle": profile, "did": did}
    if clean(author.get("displayName")):
        extra["display_name"] = clean(author.get("displayName"))
    kind = embed_kind(_dict(post.get("embed")) or _dict(record.get("embed")))
    if kind:
        extra["embed"] = kind
    if _dict(record.get("reply")):
        extra["reply"] = True
    if reposted:
        by = _dict(reason.get("by"))
        extra["reposted_by"] = f"@{by.get('handle') or by.get('did') or '?'}"
    return Item(
        source=source, kind="bluesky", url=f"{APP_BASE}/profile/{profile}/post/{rkey}", guid=match.group(0),
        title=title, text=text, author=f"@{profile}",
        published_at=iso_time(record.get("createdAt")) or iso_time(post.get("indexedAt")),
        popularity=popularity, links=outbound_links(post, record), extra=extra,
        raw={"uri": match.group(0), "cid": post.get("cid"), "createdAt": record.get("createdAt"),
             "indexedAt": post.get("indexedAt"), "reason": reason.get("$type")},
    )


def parse_author_feed(body: bytes, *, source: str, url: str, include_reposts: bool = False) -> FeedPage:
    """One `app.bsky.feed.getAuthorFeed` answer: `{"feed": [...], "cursor": "..."}`. Pure.

    Raises `ParseError` for a body that is not that object (an HTML page, an XRPC error object);
    an empty `feed` is an account with nothing (more) to show.
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(url, f"not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("feed"), list):
        if isinstance(data, dict) and data.get("error"):
            raise ParseError(url, f"XRPC error {data.get('error')}: {data.get('message') or ''}".rstrip(": "))
        raise ParseError(url, "expected an object with a feed list")
    entries = data["feed"]
    items = [item for entry in entries if (item := post_item(entry, source=source, include_reposts=include_reposts))]
    if entries and not items and not any(_dict(_dict(e).get("reason")).get("$type") == REPOST for e in entries):
        raise ParseError(url, f"none of the {len(entries)} entries is a post with an at:// URI and a record")
    cursor = data.get("cursor")
    return FeedPage(items, cursor if isinstance(cursor, str) and cursor else None, len(entries))


async def fetch_account(ctx, source: BlueskySource, actor: str) -> list[Item]:
    """One account's posts, page after page while the answer names a next `cursor`."""
    items: list[Item] = []
    cursor: str | None = None
    for _ in range(source.max_pages):
        url = feed_url(source.base_url, actor, source.limit, cursor)
        response = await ctx.get(url)
        page = await ctx.parse(parse_author_feed, response.body, source=source.name, url=url,
                               include_reposts=source.include_reposts)
        items += page.items
        if not page.cursor or not page.entries or page.cursor == cursor:
            break
        cursor = page.cursor
    return items


async def fetch(ctx: FetchContext, source: BlueskySource) -> list[Item]:
    """Every account's posts; a post two accounts show (one reposting the other) is kept once."""
    return await ctx.each(source.accounts, lambda actor: fetch_account(ctx, source, actor),
                          name=lambda actor: f"@{actor}")


def popularity(pop: dict) -> int:
    """Likes plus reposts: how far the post travelled."""
    return int(pop.get("likes", 0)) + int(pop.get("reposts", 0))


def meta(item: StoredItem) -> list[str]:
    """`🦋 ♥210`."""
    return [f"🦋 ♥{compact_count(int(item.popularity.get('likes', 0)))}"]


KIND = Kind(name="bluesky", config=BlueskySource, fetch=fetch, label=LABEL, lead=80,
            popularity=popularity, meta=meta, title_is_text=True)
