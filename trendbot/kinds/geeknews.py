"""Kind `geeknews`: GeekNews (news.hada.io) topics with points, comments and the original link.

The site's feed (`/rss/news`, Atom despite the path) names new topics and carries a truncated
Korean summary, but no points, no comment count and not the article the topic is about. Each
topic is therefore enriched from its markdown view (`/topic/{id}.md`, the cheapest document
that has all three) or, when that fails or changes shape, from the topic page's HTML.

Politeness (FORMATS.md §2.5): at most one request per `request_interval` to the site, a
conditional GET on the feed, and a topic's page is fetched again only once its data is older
than `refresh_after`. What each topic's enrichment found, and when, is remembered in the
source's key-value memory so a fresh topic keeps its points without a request. Enrichment
failing for a topic keeps the topic with what the feed (or an earlier enrichment) gave.

The parse functions are pure (bytes in, data out) and tested from recorded documents; `fetch`
only does the requests around them.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple
from urllib.parse import urljoin, urlsplit

from pydantic import Field

from trendbot.config import BaseUrl, SourceBase
from trendbot.errors import FetchError, ParseError, RetryLater
from trendbot.feeds import entry_html, entry_time, entry_title, read_feed, require_entries
from trendbot.kinds import FetchContext, Kind
from trendbot.models import Item, StoredItem
from trendbot.markup import parse_fragment, parse_page, strip_html
from trendbot.text import clean, cut, first_few, first_sentence
from trendbot.timeutil import HOUR, YEAR, DurationIn, format_duration, from_iso, iso
from trendbot.urls import is_http_url

KIND_NAME = "geeknews"
PUBLIC_BASE = "https://news.hada.io"
MEMORY_KEY = "topics"
TEXT_CHARS = 2000


class GeekNewsSource(SourceBase):
    kind: Literal["geeknews"]
    base_url: BaseUrl = Field(PUBLIC_BASE, description="where the feed and topic pages are fetched from")
    request_interval: DurationIn(timedelta(0), HOUR) = Field(timedelta(seconds=1), description="at most one request per this to the site")
    refresh_after: DurationIn(timedelta(0), YEAR) = Field(timedelta(hours=3), description="a topic's points are re-fetched after this")
    max_enrich: int = Field(20, ge=0, description="topic pages fetched in one cycle")


# -- documents -------------------------------------------------------------------------------


@dataclass
class FeedTopic:
    """One feed entry: what GeekNews says about a topic before it is enriched."""

    id: int
    title: str
    author: str | None
    published_at: datetime | None
    summary_html: str


@dataclass
class TopicDetails:
    """What a topic's own page adds to the feed; None where the page did not say."""

    points: int | None = None
    comments: int | None = None
    original_url: str | None = None
    summary: str | None = None   # the first sentence of GeekNews's Korean summary
    text: str | None = None      # the summary as plain text, when fuller than the feed's
    via: str = ""                # "markdown" or "html"


_TOPIC_ID = re.compile(r"[?&]id=(\d+)")


def topic_id_of(url: str) -> int | None:
    match = _TOPIC_ID.search(url or "")
    return int(match.group(1)) if match else None


def topic_url(topic_id: int) -> str:
    """The public link written into the digest, whatever `base_url` served the topic."""
    return f"{PUBLIC_BASE}/topic?id={topic_id}"


class FeedTopics(NamedTuple):
    topics: list[FeedTopic]
    warning: str | None = None


def parse_feed_topics(body: bytes, *, feed_url: str, content_type: str | None = None) -> FeedTopics:
    """Topics of the `/rss/news` Atom feed, newest first as the feed lists them."""
    document = read_feed(body, url=feed_url, content_type=content_type, what="GeekNews feed")
    topics: list[FeedTopic] = []
    for entry in document.entries:
        topic_id = topic_id_of(entry.get("link") or "") or topic_id_of(entry.get("id") or "")
        title = entry_title(entry)  # decodes the entities GeekNews leaves in its CDATA titles
        if topic_id is None or not title:
            continue
        topics.append(FeedTopic(topic_id, title, clean(entry.get("author")) or None,
                                entry_time(entry), entry_html(entry)[0]))
    return FeedTopics(topics, require_entries(document, len(topics), feed_url))


def first_block_html(markup: str) -> str:
    """Plain text of the first non-empty list item or paragraph of an HTML summary."""
    if not markup:
        return ""
    tree = parse_fragment(markup)
    for node in tree.css("li, p"):
        text = clean(node.text(deep=True, separator=""))
        if text:
            return text
    return strip_html(markup)


def is_external(url: str | None) -> bool:
    """An article link, not a link back to GeekNews itself (Ask/Show posts link to the topic)."""
    if not url or not is_http_url(url):
        return False
    host = (urlsplit(url).hostname or "").lower()
    return not (host == "news.hada.io" or host.endswith(".news.hada.io"))


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]+)[^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|`)(.+?)\1")
_MD_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def markdown_text(markdown: str) -> str:
    """Plain text of a small markdown fragment: links keep their text, emphasis its words."""
    text = _MD_LINK.sub(lambda m: m.group(1), markdown)
    text = _MD_EMPHASIS.sub(lambda m: m.group(2), text)
    return clean(text)


def markdown_blocks(markdown: str) -> list[str]:
    """Paragraphs and list items of a markdown fragment, each as plain text."""
    blocks, current = [], []
    for line in markdown.splitlines():
        if not line.strip() or _MD_BULLET.match(line) or line.lstrip().startswith("#"):
            if current:
                blocks.append(markdown_text(" ".join(current)))
            current = []
            line = _MD_BULLET.sub("", line).lstrip("# ").strip()
        if line.strip():
            current.append(line.strip())
    if current:
        blocks.append(markdown_text(" ".join(current)))
    return [block for block in blocks if block]


def markdown_sections(markdown: str) -> tuple[str, dict[str, str]]:
    """The `# title` and the body of every `## Section` of a topic's markdown view."""
    title, sections, name, lines = "", {}, None, []
    for line in markdown.splitlines():
        if line.startswith("# ") and not title and name is None:
            title = line[2:].strip()
        elif line.startswith("## "):
            if name is not None:
                sections[name] = "\n".join(lines)
            name, lines = line[3:].strip().lower(), []
        elif name is not None:
            lines.append(line)
    if name is not None:
        sections[name] = "\n".join(lines)
    return title, sections


_METADATA = re.compile(r"^\s*-\s*([A-Za-z ]+?)\s*:\s*(.*?)\s*$")


def _count(value: str | None) -> int | None:
    digits = re.sub(r"[,\s]", "", value or "")
    return int(digits) if digits.isdigit() else None


def parse_topic_markdown(body: bytes, *, url: str) -> TopicDetails:
    """Points, comments, original link and summary from `/topic/{id}.md` (FORMATS.md §2.3).

    Only the `## Metadata` bullets count: comments further down carry `- Points:` too.
    Raises `ParseError` when there is no metadata with points or comments (a changed format, or
    a browser-verification page served instead).
    """
    _, sections = markdown_sections(body.decode("utf-8", errors="replace"))
    metadata: dict[str, str] = {}
    for line in sections.get("metadata", "").splitlines():
        match = _METADATA.match(line)
        if match:
            metadata[match.group(1).strip().lower()] = match.group(2)
    points, comments = _count(metadata.get("points")), _count(metadata.get("comments"))
    if points is None and comments is None:
        raise ParseError(url, "not a GeekNews topic in markdown (no Points or Comments under ## Metadata)")
    original = None
    link = _MD_LINK.search(metadata.get("original source", ""))
    if link and is_external(link.group(2)):
        original = link.group(2)
    blocks = markdown_blocks(sections.get("summary", ""))
    return TopicDetails(
        points=points, comments=comments, original_url=original,
        summary=first_sentence(blocks[0]) if blocks else None,
        text=cut(" ".join(blocks), TEXT_CHARS) if blocks else None, via="markdown",
    )


def _discussion_posting(tree) -> dict:
    for node in tree.css('script[type="application/ld+json"]'):
        try:
            data = json.loads(node.text(deep=True))
        except ValueError:
            continue
        candidates = data if isinstance(data, list) else data.get("@graph", [data]) if isinstance(data, dict) else []
        for candidate in candidates:
            if isinstance(candidate, dict) and candidate.get("@type") == "DiscussionForumPosting":
                return candidate
    return {}


def parse_topic_page(body: bytes, *, topic_id: int, url: str) -> TopicDetails:
    """Points, comments, original link and summary from the topic page's HTML (FORMATS.md §2.2).

    The ld+json `DiscussionForumPosting` is the most stable part; points exist only in
    `span#tp{id}`. Raises `ParseError` when none of them is found.
    """
    tree = parse_page(body)
    posting = _discussion_posting(tree)
    points_node = tree.css_first(f"span#tp{topic_id}")
    points = _count(points_node.text()) if points_node else None

    comments = posting.get("commentCount")
    comments = comments if isinstance(comments, int) else None
    if comments is None:
        counter = tree.css_first("[data-topic-comment-count]")
        if counter is not None:
            comments = _count(counter.attributes.get("data-topic-comment-count"))
    if comments is None:
        link = tree.css_first("a#topic-comment-link")
        match = re.search(r"댓글\s*([\d,]+)\s*개", link.text() if link else "")
        comments = _count(match.group(1)) if match else None

    shared = posting.get("sharedContent")
    original = shared.get("url") if isinstance(shared, dict) else None
    if not is_external(original):
        anchor = tree.css_first("div.topictitle a[href]")
        href = (anchor.attributes.get("href") or "").strip() if anchor else ""
        original = urljoin(topic_url(topic_id), href) if href else None
    if not is_external(original):
        original = None

    if points is None and comments is None and original is None:
        raise ParseError(url, "not a GeekNews topic page (no points, comment count or article link found)")
    contents = tree.css_first("#topic_contents")
    summary = first_block_html(contents.html or "") if contents is not None else ""
    return TopicDetails(points=points, comments=comments, original_url=original,
                        summary=first_sentence(summary) or None, via="html")


# -- items -----------------------------------------------------------------------------------


def topic_item(source: str, topic: FeedTopic, details: TopicDetails | None) -> Item:
    """The item for a topic: the feed's fields, plus whatever enrichment found."""
    details = details or TopicDetails()
    text = details.text or strip_html(topic.summary_html)
    if text == topic.title:  # some entries' content is just the title again (e.g. topic 34442)
        text = ""
    summary = details.summary or first_sentence(first_block_html(topic.summary_html)) or None
    if summary == topic.title:
        summary = None
    popularity = {key: value for key, value in (("points", details.points), ("comments", details.comments))
                  if value is not None}
    extra: dict[str, Any] = {"topic_id": topic.id}
    if details.original_url:
        extra["original_url"] = details.original_url
    return Item(
        source=source, kind=KIND_NAME, url=topic_url(topic.id), guid=str(topic.id),
        title=topic.title, text=text, summary=summary, author=topic.author,
        published_at=topic.published_at, popularity=popularity,
        links=[details.original_url] if details.original_url else [], extra=extra,
        raw={"id": topic.id, "title": topic.title, "author": topic.author,
             "published": iso(topic.published_at), "enriched_via": details.via or None},
    )


def topics_due(topic_ids: list[int], memory: dict[int, dict], now: datetime,
               refresh_after: timedelta, limit: int) -> list[int]:
    """Which topics to enrich this cycle, in order: never enriched first (newest first, as the
    feed lists them), then those whose data is oldest; a topic fetched within `refresh_after`
    is left alone. At most `limit`."""
    never, stale = [], []
    for topic_id in topic_ids:
        remembered = memory.get(topic_id)
        fetched_at = from_iso(remembered.get("at")) if remembered else None
        if fetched_at is None:
            never.append(topic_id)
        elif now - fetched_at >= refresh_after:
            stale.append((fetched_at, topic_id))
    return (never + [topic_id for _, topic_id in sorted(stale)])[:limit]


def remembered_details(entry: dict | None) -> TopicDetails | None:
    if not entry:
        return None
    fields = {key: entry.get(key) for key in TopicDetails.__dataclass_fields__ if key in entry}
    return TopicDetails(**fields)


# -- fetching --------------------------------------------------------------------------------


async def enrich(ctx: FetchContext, base_url: str, topic_id: int) -> TopicDetails:
    """The topic's details from its markdown view, else from its HTML page."""
    markdown_url = f"{base_url}/topic/{topic_id}.md"
    try:
        response = await ctx.get(markdown_url)
        return await ctx.parse(parse_topic_markdown, response.body, url=markdown_url)
    except RetryLater:
        raise
    except FetchError as exc:
        first_failure = exc
        ctx.log.info("%s; reading the topic page instead", exc)
    page_url = f"{base_url}/topic?id={topic_id}"
    try:
        response = await ctx.get(page_url)
        return await ctx.parse(parse_topic_page, response.body, topic_id=topic_id, url=page_url)
    except RetryLater:
        raise
    except FetchError as exc:
        raise FetchError(page_url, f"{exc.reason} (and {markdown_url}: {first_failure.reason})") from None


async def fetch(ctx: FetchContext, source: GeekNewsSource) -> list[Item]:
    ctx.pace(source.base_url, source.request_interval.total_seconds())
    feed_url = f"{source.base_url}/rss/news"
    response = await ctx.get(feed_url, conditional=True)
    if response.not_modified:
        return []
    topics, warning = await ctx.parse(parse_feed_topics, response.body, feed_url=feed_url,
                                      content_type=response.headers.get("content-type"))
    if warning:
        ctx.warn(warning)
    if ctx.day is not None and not any(t.published_at and t.published_at.astimezone(ctx.tz).date() == ctx.day
                                       for t in topics):
        ctx.note(f"the feed holds only the latest {len(topics)} topics; none is from {ctx.day}")

    memory = {int(key): value for key, value in (ctx.memory.get(MEMORY_KEY) or {}).items()}
    due = topics_due([t.id for t in topics], memory, ctx.now, source.refresh_after, source.max_enrich)
    failures: list[tuple[int, str]] = []
    for position, topic_id in enumerate(due):
        try:
            details = await enrich(ctx, source.base_url, topic_id)
        except RetryLater as exc:
            failures.append((topic_id, exc.reason))
            left = len(due) - position - 1
            ctx.note(f"the site asked to slow down; {left} more topic(s) left for the next cycle")
            break
        except FetchError as exc:
            failures.append((topic_id, exc.reason))
            ctx.log.info("%s: topic %d kept with the feed's data only: %s", source.name, topic_id, exc)
            continue
        memory[topic_id] = {**asdict(details), "at": iso(ctx.now)}
    if failures:
        # a line per topic would be a page: the first few and one reason, the rest at -v
        first = failures[0][1].split(" (and ", 1)[0]
        ctx.warn(f"{len(failures)} topic(s) kept with the feed's data only: "
                 f"{first_few([str(topic_id) for topic_id, _ in failures])} ({cut(first, 90)}; -v lists each)")

    in_feed = {t.id for t in topics}
    ctx.memory[MEMORY_KEY] = {str(key): value for key, value in memory.items() if key in in_feed}
    return [topic_item(source.name, topic, remembered_details(memory.get(topic.id))) for topic in topics]


def describe(memory: dict[str, Any], source: GeekNewsSource, now: datetime) -> list[str]:
    topics = memory.get(MEMORY_KEY) or {}
    with_points = sum(1 for entry in topics.values() if entry.get("points") is not None)
    return [f"{with_points} of the feed's topics have points (refreshed after {format_duration(source.refresh_after)})"]


def meta(item: StoredItem) -> list[str]:
    """`GN 12p 💬3`; no points when the topic page could not be read: `GN`, not a false `GN 0p`."""
    pop = item.popularity
    label = f"GN {pop['points']}p" if "points" in pop else "GN"
    if pop.get("comments"):
        label += f" 💬{pop['comments']}"
    return [label]


KIND = Kind(name=KIND_NAME, config=GeekNewsSource, fetch=fetch, label="GN", lead=40,
            popularity=lambda pop: pop.get("points", 0) + pop.get("comments", 0), meta=meta, describe=describe)
