"""Kind `x`: posts of chosen X accounts, read through Nitter mirrors and RSSHub, with failover.

X has no free feed, so posts are read through mirrors that come and go (FORMATS.md §3): many
answer 200 with an error page, an empty feed, xcancel's "not whitelisted" placeholder, or a
frozen cache weeks old. So a mirror's answer is judged before it is believed, and each endpoint
has a circuit breaker kept in the store (`source_kv`, key `endpoint:<base>`): endpoints are tried
in order of recorded health, and one that failed `failures_to_trip` times in a row is skipped
until its `cooldown` has passed, then tried once more.

Every post becomes one item keyed by its tweet id with the public link
`https://x.com/{author}/status/{id}`, whatever mirror served it, so the same post seen through
two mirrors is one row. Links the mirror rewrote onto itself are turned back into real targets.

An account whose every endpoint fails is noted and the other accounts' posts are still stored;
the source fails (exit 1) only when no account could be read at all.

The parsing and the breaker decisions are pure functions (bytes or data plus `now` in, data
out); `fetch` is the only part that does I/O.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, field_validator, model_validator

from trendbot.config import BaseUrl, SourceBase
from trendbot.errors import FetchError, RetryLater
from trendbot.feeds import entry_html, entry_time, read_feed, require_entries
from trendbot.kinds import FetchContext, Kind
from trendbot.models import Item
from trendbot.markup import parse_fragment, strip_html
from trendbot.text import clean, cut, first_few, is_placeholder, wordless_title
from trendbot.timeutil import HOUR, MAX_DURATION, YEAR, DurationIn, format_duration, from_iso, iso
from trendbot.urls import strip_tracking

TITLE_CHARS = 100
PUBLIC_HOST = "x.com"
# links to these are X's own pages whatever mirror served them (nitter.net: the first instance)
TWITTER_HOSTS = frozenset({"x.com", "twitter.com", "mobile.twitter.com", "mobile.x.com", "nitter.net"})
MEDIA_HOSTS = frozenset({"pbs.twimg.com", "video.twimg.com", "abs.twimg.com"})

# anywhere in the path: a mirror may live under a prefix (http://host/nitter/user/status/N)
_STATUS_IN_PATH = re.compile(r"/([A-Za-z0-9_]{1,15})/status(?:es)?/(\d+)")
_MEDIA_PATH = re.compile(r"(?:^|/)(?:pic|video|media)/")
_STATUS_ID = re.compile(r"/status(?:es)?/(\d+)")
_PINNED = re.compile(r"^Pinned:\s*")
# Nitter: "RT by @user: " since 2022, "RT: " before (rss.nimf getTitle)
_RETWEET = re.compile(r"^RT(?: by @([A-Za-z0-9_]+))?:\s*")
_REPLY = re.compile(r"^R to @([A-Za-z0-9_]+):\s*")
_URL_SCHEME = re.compile(r"\bhttps?://(?:www\.)?")
_ACCOUNT = re.compile(r"^[A-Za-z0-9_]{1,15}$")
# Nitter's <title> for a post that is only media (rss.nimf getTitle)
_MEDIA_TITLES = {"image": {"photo"}, "video": {"video"}, "gif": {"gif"}, "media": {"photo", "video"}}


class XSource(SourceBase):
    kind: Literal["x"]
    accounts: list[str] = Field(min_length=1, description="X accounts (screen names, with or without @)")
    mirrors: list[BaseUrl] = Field(default_factory=list, description="Nitter-compatible base URLs, preferred first")
    rsshub: list[BaseUrl] = Field(default_factory=list, description="RSSHub base URLs (self-hosted, with X credentials)")
    include_retweets: bool = False
    include_replies: bool = False
    stale_after: DurationIn(HOUR, MAX_DURATION) = Field(timedelta(days=30), description="a feed whose newest post is older is a stale mirror")
    failures_to_trip: int = Field(3, ge=1, description="consecutive failures after which an endpoint rests")
    cooldown: DurationIn(timedelta(0), YEAR) = Field(timedelta(hours=1), description="how long a tripped endpoint is skipped")

    @field_validator("accounts")
    @classmethod
    def _screen_names(cls, values: list[str]) -> list[str]:
        names = []
        for value in values:
            name = value.strip().lstrip("@")
            if not _ACCOUNT.match(name):
                raise ValueError(f'"{value}" is not an X screen name (letters, digits and _, at most 15)')
            if name.lower() not in {n.lower() for n in names}:
                names.append(name)
        return names

    @field_validator("mirrors", "rsshub")
    @classmethod
    def _distinct(cls, bases: list[str]) -> list[str]:
        return list(dict.fromkeys(bases))

    @model_validator(mode="after")
    def _has_endpoint(self) -> XSource:
        if self.enabled and not self.mirrors and not self.rsshub:
            raise ValueError("an enabled x source needs at least one address in `mirrors` or `rsshub`")
        return self


# -- endpoints and their health ------------------------------------------------------------

@dataclass(frozen=True)
class Endpoint:
    base: str
    flavor: Literal["nitter", "rsshub"]

    @property
    def key(self) -> str:
        return f"endpoint:{self.base}"

    def feed_url(self, account: str, source: XSource) -> str:
        if self.flavor == "rsshub":
            # routeParams of RSSHub's /twitter/user/:id/:routeParams? (lib/routes/twitter/user.ts)
            params = (f"includeRts={str(source.include_retweets).lower()}"
                      f"&includeReplies={str(source.include_replies).lower()}")
            return f"{self.base}/twitter/user/{account}/{params}"
        if source.include_replies:
            return f"{self.base}/{account}/with_replies/rss"
        return f"{self.base}/{account}/rss"


def endpoints_of(source: XSource) -> list[Endpoint]:
    return [Endpoint(b, "nitter") for b in source.mirrors] + [Endpoint(b, "rsshub") for b in source.rsshub]


@dataclass
class Health:
    """What the breaker remembers of one endpoint (stored as JSON in `source_kv`)."""

    failures: int = 0                 # consecutive
    last_ok: datetime | None = None
    last_failure: datetime | None = None
    last_reason: str | None = None
    cooldown_until: datetime | None = None

    @classmethod
    def from_json(cls, data: dict | None) -> Health:
        data = data or {}
        return cls(failures=int(data.get("failures") or 0), last_ok=from_iso(data.get("last_ok")),
                   last_failure=from_iso(data.get("last_failure")), last_reason=data.get("last_reason"),
                   cooldown_until=from_iso(data.get("cooldown_until")))

    def to_json(self) -> dict:
        data = asdict(self)
        for key in ("last_ok", "last_failure", "cooldown_until"):
            data[key] = iso(data[key])
        return data

    def resting(self, now: datetime) -> bool:
        return self.cooldown_until is not None and self.cooldown_until > now


def after_success(health: Health, now: datetime) -> Health:
    return Health(failures=0, last_ok=now, last_failure=health.last_failure,
                  last_reason=health.last_reason, cooldown_until=None)


def after_failure(health: Health, now: datetime, reason: str, failures_to_trip: int,
                  cooldown: timedelta, retry_after: datetime | None = None) -> Health:
    """Count a failure; trip the breaker at `failures_to_trip` (or when the mirror named a time)."""
    failures = health.failures + 1
    until = None
    if failures >= failures_to_trip:
        until = now + cooldown
    if retry_after is not None:
        until = max(until or retry_after, retry_after)
    return Health(failures=failures, last_ok=health.last_ok, last_failure=now, last_reason=reason,
                  cooldown_until=until)


def plan(endpoints: list[Endpoint], health: dict[str, Health], now: datetime) -> tuple[list[Endpoint], list[Endpoint]]:
    """(endpoints to try, healthiest first; endpoints resting in their cool-down)."""
    ready = [e for e in endpoints if not health[e.key].resting(now)]
    resting = [e for e in endpoints if health[e.key].resting(now)]
    order = {e: i for i, e in enumerate(endpoints)}
    ready.sort(key=lambda e: (health[e.key].failures, order[e]))
    return ready, resting


# -- parsing -------------------------------------------------------------------------------

@dataclass
class Timeline:
    """One feed document: its posts (retweets, replies and pinned included) and what it held."""

    posts: list[Item] = field(default_factory=list)
    entries: int = 0
    titles: list[str] = field(default_factory=list)
    warning: str | None = None  # the document was broken; `posts` is what could be read


def tweet_id(link: str, guid: str) -> str | None:
    """From `/status/N` in the link or the guid; newer Nitter guids are the bare id."""
    for value in (link, guid):
        match = _STATUS_ID.search(value or "")
        if match:
            return match.group(1)
    guid = (guid or "").strip()
    return guid if guid.isdigit() else None


def status_author(link: str) -> str | None:
    try:
        match = _STATUS_IN_PATH.search(urlsplit(link).path)
    except ValueError:
        return None
    return match.group(1) if match else None


def real_target(href: str, mirror_hosts: frozenset[str]) -> tuple[str, str | None]:
    """What a link in a post really points at: ("status"|"outbound", url) or ("internal"|"media", None).

    Nitter rewrites X links onto its own host, under any path prefix the mirror lives at:
    statuses and profiles are `{mirror}/user/...`, images `{mirror}/pic/...` (FORMATS.md §3.1).
    """
    try:
        parts = urlsplit(href.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return "internal", None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return "internal", None
    if host in MEDIA_HOSTS:
        return "media", None
    bare = host[4:] if host.startswith("www.") else host
    if host not in mirror_hosts and bare not in TWITTER_HOSTS:
        return "outbound", href.strip()
    match = _STATUS_IN_PATH.search(parts.path)
    if match:
        return "status", f"https://{PUBLIC_HOST}/{match.group(1)}/status/{match.group(2)}"
    if _MEDIA_PATH.search(parts.path):
        return "media", None
    return "internal", None  # a profile (@mention), a hashtag search, the mirror's own pages


@dataclass
class Post:
    """What one post's HTML holds, its links restored to their real targets."""

    own: str = ""                 # the post's own words
    text: str = ""                # with the quoted post and the card
    links: list[str] = field(default_factory=list)
    media: set[str] = field(default_factory=set)   # "photo", "video", "gif" (its own, not the quote's)
    alts: list[str] = field(default_factory=list)  # the media's alt texts
    card: str = ""                # the title of the linked card or article
    quote: str = ""               # the quoted post's text


def media_kind(src: str) -> str | None:
    """What an image or video address shows: "photo", "video" (a video's thumbnail), "gif", or
    None (a link card's image, an avatar). Nitter proxies X's media under `/pic/<quoted path>`,
    or `/pic/enc/<base64 path>`; RSSHub links `pbs.twimg.com` itself."""
    try:
        path = unquote(urlsplit(src.strip()).path)
    except ValueError:
        return None
    if "/pic/enc/" in path:
        encoded = path.split("/pic/enc/", 1)[1]
        try:
            path = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8", "replace")
        except (ValueError, binascii.Error):
            return None
    if "tweet_video" in path:
        return "gif"      # X plays a GIF as a looping video: tweet_video_thumb, tweet_video/….mp4
    if "video_thumb" in path or "video.twimg.com" in src:
        return "video"    # amplify_video_thumb, ext_tw_video_thumb
    if "card_img" in path or "profile_images" in path or "profile_banners" in path:
        return None
    return "photo" if re.search(r"(?:^|/)media/", path) else None


def card_block(tree) -> tuple[list, list, str]:
    """The link card, article or poll blocks the 2026 template appends after the post
    (`<hr/><b>Link</b><br><a href=…><img …><br><b>title</b></a><p>text</p><small>…</small>`):
    (their "Link" / "Article" / "Poll" markers, the nodes that follow them, the card's title)."""
    markers, nodes, titles = [], [], []
    for marker in tree.css("body > b"):
        if clean(marker.text()) not in ("Link", "Article", "Poll"):
            continue
        markers.append(marker)
        node = marker.next
        while node is not None and node.tag not in ("hr", "blockquote"):
            nodes.append(node)
            if node.tag == "a":
                titles += [clean(b.text()) for b in node.css("b")]
            node = node.next
    return markers, nodes, next((title for title in reversed(titles) if title), "")


def render_post(markup: str, mirror_hosts: frozenset[str], own_url: str) -> Post:
    """The post's own text, its text with any quoted post, its links (restored), and what it
    shows besides words: media, alt texts, a link card's title, the quoted post.

    Links shown as shortened URLs (`arxiv.org/abs/2406.0…`) or as mirror URLs read as their real
    target; mentions and hashtags keep their text; images, video and the post's link to itself
    (Nitter wraps a video thumbnail in it) are dropped.
    """
    post = Post()
    if not markup:
        return post
    tree = parse_fragment(markup)
    for node in tree.css("a[href]"):
        kind, target = real_target(node.attributes.get("href") or "", mirror_hosts)
        if target == own_url:
            node.decompose()
            continue
        if target and target not in post.links:
            post.links.append(target)
        label = clean(node.text())
        looks_like_url = " " not in label and not label.startswith(("@", "#")) and (
            "/" in label or label.startswith("http"))
        if target and looks_like_url:
            node.replace_with(strip_tracking(target) if kind == "outbound" else target)
    for node in tree.css("img, video"):
        if _inside(node, "blockquote"):
            continue  # the quoted post's media
        source = node.css_first("source")
        src = node.attributes.get("src") or node.attributes.get("poster") or (
            source.attributes.get("src") if source is not None else "") or ""
        kind = media_kind(src) or ("video" if node.tag == "video" else None)
        if kind:
            post.media.add(kind)
            post.alts.append(clean(node.attributes.get("alt")))
    for node in tree.css("img, video, source"):
        node.decompose()
    markers, card, post.card = card_block(tree)
    for node in markers:
        node.decompose()
    post.text = strip_html(_html(tree, markup))
    # the newer template puts a quoted post in <hr/><blockquote> after the post (rss.nimf, 2025-11)
    quote = tree.css_first("blockquote")
    if quote is not None:
        for node in quote.css("blockquote > b, footer"):
            node.decompose()
        post.quote = strip_html(quote.html)
    for node in card + tree.css("blockquote, hr"):
        node.decompose()
    post.own = strip_html(_html(tree, markup))
    return post


def _html(tree, markup: str) -> str:
    return tree.body.html if tree.body is not None else markup


def _inside(node, tag: str) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag == tag:
            return True
        parent = parent.parent
    return False


def parse_timeline(body: bytes, *, source: str, feed_url: str, account: str,
                   content_type: str | None = None) -> Timeline:
    """Every post of one Nitter or RSSHub user feed, as items. Pure.

    Raises `ParseError` when the body is not a feed (a mirror's HTML error page with status 200).
    """
    parsed = read_feed(body, url=feed_url, content_type=content_type,
                       what="feed (an HTML page or an error message instead of RSS)")
    # the feed names the mirror by its own configured hostname, not necessarily the address we used
    links = [feed_url, parsed.feed.get("link") or ""] + [e.get("link") or "" for e in parsed.entries]
    mirror_hosts = frozenset(h for h in (_hostname(u) for u in links) if h)
    timeline = Timeline(entries=len(parsed.entries))
    for entry in parsed.entries:
        feed_title = clean(entry.get("title"))
        timeline.titles.append(feed_title)
        link = (entry.get("link") or "").strip()
        guid = (entry.get("id") or "").strip()
        ident = tweet_id(link, guid)
        if not ident:
            continue
        creator = clean(entry.get("author")).lstrip("@")
        author = status_author(link) or (creator if _ACCOUNT.match(creator) else None) or account
        url = f"https://{PUBLIC_HOST}/{author}/status/{ident}"

        pinned = bool(_PINNED.match(feed_title))
        bare_title = _PINNED.sub("", feed_title)
        retweet = _RETWEET.match(bare_title)
        reply = _REPLY.match(bare_title)
        bare_title = _REPLY.sub("", _RETWEET.sub("", bare_title))
        extra: dict = {}
        if pinned:
            extra["pinned"] = True
        if retweet or author.lower() != account.lower():
            # a user feed holds other people's posts only as retweets (FORMATS.md §3.1)
            extra["retweeted_by"] = f"@{retweet.group(1) if retweet and retweet.group(1) else account}"
        if reply:
            extra["reply_to"] = f"@{reply.group(1)}"

        post = render_post(entry_html(entry)[0], mirror_hosts, url)
        title = cut(post_title(post, bare_title, author), TITLE_CHARS)
        timeline.posts.append(Item(
            source=source, kind="x", url=url, guid=ident, title=title, text=post.text,
            author=f"@{author}", published_at=entry_time(entry), links=post.links, extra=extra,
            raw={"feed": feed_url, "link": link, "guid": guid, "title": entry.get("title"),
                 "published": entry.get("published")},
        ))
    timeline.warning = require_entries(parsed, len(timeline.posts), feed_url)
    return timeline


def post_title(post: Post, feed_title: str, author: str) -> str:
    """The post's own text with real link targets (schemes dropped, as X shows them); Nitter's
    <title> has shortened, mirror-hosted links, "Image" for a bare photo and nothing after
    "RT by @user: " for a retweeted photo. A post without words is titled by what it holds."""
    title = _URL_SCHEME.sub("", post.own)
    if is_placeholder(title) and not is_placeholder(feed_title):
        title = feed_title  # since 2026-06 Nitter titles a card-only post with the card's title
    if not is_placeholder(title):
        return title
    media = post.media | _MEDIA_TITLES.get(feed_title.lower(), set())
    return wordless_title(f"@{author}", card=post.card, quote=post.quote,
                          alt=next((alt for alt in post.alts if alt), ""), media=media)


def _hostname(url: str) -> str | None:
    try:
        return (urlsplit(url).hostname or "").lower() or None
    except ValueError:
        return None


def problem_of(timeline: Timeline, now: datetime, stale_after: timedelta) -> str | None:
    """Why a parsed feed is not a good answer, or None when it is."""
    if timeline.entries == 0:
        return "empty feed (no posts at all)"
    if timeline.entries == 1 and "whitelisted" in timeline.titles[0].lower():
        # xcancel answers readers it has not whitelisted with one placeholder item (FORMATS.md §3.4)
        return "not whitelisted: the mirror sent its placeholder item instead of posts"
    dated = [p.published_at for p in timeline.posts if p.published_at and not p.extra.get("pinned")]
    if not dated:
        return "no dated posts in the feed"
    newest = max(dated)
    if now - newest > stale_after:
        return (f"stale: newest post is from {newest:%Y-%m-%d}, older than {format_duration(stale_after)} "
                f"(a frozen mirror cache)")
    return None


def wanted(post: Item, source: XSource) -> bool:
    if post.extra.get("retweeted_by") and not source.include_retweets:
        return False
    if post.extra.get("reply_to") and not source.include_replies:
        return False
    return True


# -- fetching ------------------------------------------------------------------------------

def load_health(memory: dict, endpoints: list[Endpoint]) -> dict[str, Health]:
    return {e.key: Health.from_json(memory.get(e.key)) for e in endpoints}


async def fetch_account(ctx: FetchContext, source: XSource, endpoints: list[Endpoint], health: dict[str, Health],
                        account: str) -> tuple[list[Item] | None, list[str]]:
    """The wanted posts of one account from the first good endpoint, or None and every reason.

    `health` is shared by the accounts fetched concurrently, so a mirror that trips while one
    account is read is skipped by the others from then on."""
    ready, resting = plan(endpoints, health, ctx.now)
    reasons = [f"{e.base}: resting until {health[e.key].cooldown_until:%Y-%m-%d %H:%M} UTC "
               f"after {health[e.key].failures} failures" for e in resting]
    for endpoint in ready:
        if health[endpoint.key].resting(ctx.now):
            reasons.append(f"{endpoint.base}: resting after {health[endpoint.key].failures} failures")
            continue
        url = endpoint.feed_url(account, source)
        retry_after = None
        try:
            response = await ctx.get(url, conditional=True)
            if response.not_modified:  # nothing new since the stored posts: a good answer
                health[endpoint.key] = after_success(health[endpoint.key], ctx.now)
                return [], reasons
            timeline = await ctx.parse(parse_timeline, response.body, source=source.name, feed_url=url,
                                       account=account, content_type=response.headers.get("content-type"))
            problem = problem_of(timeline, ctx.now, source.stale_after)
        except RetryLater as exc:
            problem, retry_after = exc.reason, exc.until
        except FetchError as exc:
            problem = exc.reason
        if problem:
            ctx.refused(url)
            health[endpoint.key] = after_failure(health[endpoint.key], ctx.now, problem,
                                                 source.failures_to_trip, source.cooldown, retry_after)
            ctx.log.info("%s: %s failed for @%s: %s", source.name, endpoint.base, account, problem)
            reasons.append(f"{endpoint.base}: {problem}")
            continue
        health[endpoint.key] = after_success(health[endpoint.key], ctx.now)
        if timeline.warning:
            ctx.warn(timeline.warning)
        return [post for post in timeline.posts if wanted(post, source)], reasons
    return None, reasons


async def fetch(ctx: FetchContext, source: XSource) -> list[Item]:
    endpoints = endpoints_of(source)
    if not endpoints:
        raise FetchError(f"sources/{source.name}.toml", "no `mirrors` or `rsshub` addresses configured")
    if ctx.day is not None:
        ctx.note("X mirrors serve only recent posts; --date cannot reach further back")
    health = load_health(ctx.memory, endpoints)
    try:
        # every account at once: the HTTP client keeps each mirror to `[http] per_host` requests
        results = await asyncio.gather(*(fetch_account(ctx, source, endpoints, health, account)
                                         for account in source.accounts))
    finally:
        # the breaker remembers every endpoint's answers, whatever becomes of the fetch
        ctx.memory.update({key: value.to_json() for key, value in health.items()})
    items: dict[str, Item] = {}
    failed: dict[str, list[str]] = {}
    for account, (posts, reasons) in zip(source.accounts, results):
        ctx.memory[f"account:{account}"] = {"at": iso(ctx.now), "ok": posts is not None, "reasons": reasons}
        if posts is None:
            failed[account] = reasons
            continue
        for post in posts:
            items.setdefault(post.guid, post)  # a retweet may also be in its author's own feed
    if failed and len(failed) == len(source.accounts):
        details = [f"@{a}: " + (", ".join(r) or "no endpoint") for a, r in failed.items()]
        detail = details[0] if len(details) == 1 else \
            f"{len(details)} accounts; {first_few(details, 1, '; ')}; trendbot sources lists each"
        raise FetchError(f"source {source.name}", f"no endpoint gave a good feed ({detail})")
    for account, reasons in failed.items():
        ctx.note(f"@{account} not fetched, every endpoint failed: " + "; ".join(reasons))
    return list(items.values())


def describe(memory: dict, source: XSource, now: datetime) -> list[str]:
    """Lines for `trendbot sources`: each endpoint's health, then accounts that failed last time."""
    lines = []
    for endpoint in endpoints_of(source):
        health = Health.from_json(memory.get(endpoint.key))
        ok = f"{health.last_ok:%Y-%m-%d %H:%M} UTC" if health.last_ok else "never"
        plural = "" if health.failures == 1 else "s"
        line = f"{endpoint.flavor} {endpoint.base}: last ok {ok}, {health.failures} failure{plural} in a row"
        if health.failures and health.last_reason:
            line += f" (last: {health.last_reason})"
        if health.resting(now):
            line += f", resting until {health.cooldown_until:%Y-%m-%d %H:%M} UTC"
        lines.append(line)
    for account in source.accounts:
        status = memory.get(f"account:{account}")
        if status and not status.get("ok"):
            lines.append(f"@{account}: not fetched at {status.get('at')}: " + "; ".join(status.get("reasons") or []))
    return lines


KIND = Kind(name="x", config=XSource, fetch=fetch, label="X", lead=70,
            popularity=lambda pop: pop.get("likes", 0), meta=lambda item: [f"X {item.author or ''}".strip()],
            describe=describe, hosts=lambda source: source.mirrors, title_is_text=True)
