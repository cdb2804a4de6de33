"""Kind `hf_papers`: Hugging Face Daily Papers for any date, with the listing page as a fallback.

The JSON API (`/api/daily_papers?date=D`) is the preferred path: it pages with its own `limit`
and `p`, and HF gives anonymous clients five times more API requests than page views
(FORMATS.md §1.5). When the API answers with an error or with JSON whose shape is not
understood, the listing page `/papers/date/D` is read instead: it embeds the same entries as
JSON in a Svelte hydration attribute (FORMATS.md §1.3).

An item's day is the Daily Papers date it was listed under, not its arXiv date, so
`trendbot digest --date D` shows the papers HF listed for D. The parse functions are pure
(bytes in, items out); `fetch` only chooses days, pages and falls back.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from typing import Any, Literal, NamedTuple
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from pydantic import Field

from trendbot.config import BaseUrl, SourceBase
from trendbot.errors import FetchError, ParseError, both_failed
from trendbot.kinds import FetchContext, Kind
from trendbot.models import Item, StoredItem
from trendbot.markup import parse_page
from trendbot.text import clean
from trendbot.urls import is_http_url
from trendbot.values import count, iso_time

PUBLIC_BASE = "https://huggingface.co"
MAX_PAGES = 20
KV_LAST_FETCH = "last_fetch"
_ARXIV_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


class HfPapersSource(SourceBase):
    kind: Literal["hf_papers"]
    base_url: BaseUrl = Field(PUBLIC_BASE, description="where the API and the papers pages are fetched from")
    days: int = Field(2, ge=1, le=14, description="days a cycle without --date fetches: today, yesterday, ...")
    page_size: int = Field(50, ge=5, le=100, description="papers asked for per API request (`limit`)")


class Listing(NamedTuple):
    """The items of one API page or listing page, and how many entries the document had
    (paging needs the raw count: an entry that was skipped still filled the page)."""

    items: list[Item]
    entries: int


def api_url(base_url: str, day: date, limit: int, page: int) -> str:
    query = urlencode({"date": day.isoformat(), "limit": limit, "p": page})
    return f"{base_url}/api/daily_papers?{query}"


def listing_url(base_url: str, day: date) -> str:
    return f"{base_url}/papers/date/{day.isoformat()}"


def days_to_fetch(now: datetime, tz: ZoneInfo, days: int, asked: date | None = None) -> list[date]:
    """The day asked for (backfill), else the last `days` days in the configured zone, oldest first."""
    if asked is not None:
        return [asked]
    today = now.astimezone(tz).date()
    return [today - timedelta(days=back) for back in reversed(range(days))]




def _text(*values: Any) -> str:
    """The first of `values` that is a non-blank string, whitespace-collapsed."""
    for value in values:
        if isinstance(value, str) and clean(value):
            return clean(value)
    return ""


def _name(user: Any) -> str | None:
    return _text(user.get("name")) or None if isinstance(user, dict) else None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _urls(value: Any) -> list[str]:
    return [url.strip() for url in value if isinstance(url, str) and is_http_url(url.strip())] \
        if isinstance(value, list) else []


def submitter(entry: dict, paper: dict) -> dict[str, str] | None:
    """Who put the paper on the list: the HF username (`submittedBy.name`, or `user` in
    `submittedOnDailyBy`) and the person's name (`fullname`), each from wherever the answer has
    it (an entry's `submittedBy` may lack the name its `paper.submittedOnDailyBy` holds)."""
    users = [_dict(entry.get("submittedBy")), _dict(paper.get("submittedOnDailyBy"))]
    username = next((name for user in users if (name := _text(user.get("user"), user.get("name")))), "")
    if not username:
        return None
    same = [user for user in users if _text(user.get("user"), user.get("name")) == username]
    fullname = next((name for user in same if (name := _text(user.get("fullname")))), "")
    return {"user": username, **({"fullname": fullname} if fullname else {})}


def organization(entry: dict, paper: dict) -> str | None:
    """The organization the paper is listed under, as its display name ("MIT", "Microsoft"),
    else its HF handle."""
    org = _dict(entry.get("organization")) or _dict(paper.get("organization"))
    return _text(org.get("fullname"), org.get("name")) or None


def withdrawn_at(paper: dict) -> str | None:
    """When the paper was withdrawn (`paper.withdrawnAt`), or None while it stands. Any value
    that is set counts, even one that is not a readable time."""
    value = paper.get("withdrawnAt")
    if value in (None, "", False):
        return None
    moment = iso_time(value)
    return moment.isoformat() if moment else str(value)


def paper_item(entry: Any, *, source: str, listed_on: date | None) -> Item | None:
    """One Daily Papers entry as an item, or None when it lacks an arXiv id or a title.

    Optional fields are absent rather than null in HF's answers (FORMATS.md §1.1), hence `.get`.
    Answers from 2024 lack `submittedOnDailyAt` (the day asked for is the listing day then),
    `ai_summary` and `githubRepo`, and their item `publishedAt` is the listing time.
    Counts go through `count`: clients generated from HF's spec send them as `12.0`.
    """
    if not isinstance(entry, dict) or not isinstance(entry.get("paper"), dict):
        return None
    paper = entry["paper"]
    arxiv_id = paper.get("id")
    if not isinstance(arxiv_id, str) or not _ARXIV_ID.match(arxiv_id):
        return None
    # arXiv titles keep their hard wraps ("…Comprehensive MCP\n  Use"); clean() collapses them.
    title = _text(paper.get("title"), entry.get("title"))
    if not title:
        return None
    abstract = _text(paper.get("summary"), entry.get("summary"))
    authors = [name for author in paper.get("authors") or [] if (name := _name(author))]
    listed_at = iso_time(paper.get("submittedOnDailyAt"))

    popularity = {"upvotes": count(paper.get("upvotes")) or 0}
    for key, value in (("comments", entry.get("numComments")), ("stars", paper.get("githubStars"))):
        if (number := count(value)) is not None:
            popularity[key] = number

    links = [f"https://arxiv.org/abs/{arxiv_id}"]
    extra: dict[str, Any] = {"arxiv_id": arxiv_id, "authors": authors}
    for key in ("githubRepo", "projectPage"):
        value = paper.get(key)
        if isinstance(value, str) and is_http_url(value.strip()):
            extra[key] = value.strip()
            if value.strip() not in links:
                links.append(value.strip())
    keywords = paper.get("ai_keywords")
    if isinstance(keywords, list):
        extra["ai_keywords"] = [word for word in map(_text, keywords) if word]
    ai_summary = _text(paper.get("ai_summary"))
    if ai_summary and _text(paper.get("ai_summary_model")):
        extra["ai_summary_model"] = _text(paper.get("ai_summary_model"))
    if person := submitter(entry, paper):
        extra["submitter"] = person
    if org := organization(entry, paper):
        extra["organization"] = org
    if _urls([entry.get("thumbnail")]):
        extra["thumbnail"] = _urls([entry.get("thumbnail")])[0]
    if media := _urls(entry.get("mediaUrls")) or _urls(paper.get("mediaUrls")):
        extra["media"] = media
    if withdrawn := withdrawn_at(paper):
        extra["withdrawn_at"] = withdrawn

    return Item(
        source=source, kind="hf_papers", url=f"{PUBLIC_BASE}/papers/{arxiv_id}", guid=arxiv_id,
        title=title, text=abstract, summary=ai_summary or None,
        author=(authors[0] + (" et al." if len(authors) > 1 else "")) if authors else None,
        published_at=iso_time(paper.get("publishedAt")) or iso_time(entry.get("publishedAt")),
        day=listed_at.date() if listed_at else listed_on,
        popularity=popularity, links=links, extra=extra, raw=entry,
    )


def parse_entries(entries: Any, *, source: str, listed_on: date | None, url: str) -> Listing:
    """Items of a list of Daily Papers entries; a list where no entry is understood is a
    shape change, not a quiet day."""
    if not isinstance(entries, list):
        raise ParseError(url, f"expected a list of papers, got {type(entries).__name__}")
    items = [item for entry in entries
             if (item := paper_item(entry, source=source, listed_on=listed_on)) is not None]
    if entries and not items:
        raise ParseError(url, f"none of the {len(entries)} entries has a paper id and title")
    return Listing(items, len(entries))


def parse_api_page(body: bytes, *, source: str, listed_on: date | None, url: str) -> Listing:
    """One page of `GET /api/daily_papers`: a bare JSON array (not wrapped in an object)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(url, f"not valid JSON: {exc}") from None
    return parse_entries(data, source=source, listed_on=listed_on, url=url)


def parse_listing_page(body: bytes, *, source: str, listed_on: date | None, url: str) -> Listing:
    """The listing page `/papers/date/D`: the entries are the `dailyPapers` of the JSON in
    `div[data-target="DailyPapers"]`'s `data-props` (the parser undoes the `&quot;` escaping)."""
    node = parse_page(body).css_first('div[data-target="DailyPapers"]')
    if node is None:
        raise ParseError(url, 'no div[data-target="DailyPapers"] in the page')
    props = node.attributes.get("data-props")
    try:
        data = json.loads(props or "")
    except ValueError as exc:
        raise ParseError(url, f"DailyPapers data-props is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or "dailyPapers" not in data:
        raise ParseError(url, "DailyPapers data-props has no dailyPapers")
    return parse_entries(data["dailyPapers"], source=source, listed_on=listed_on, url=url)


async def fetch_day_api(ctx, source: HfPapersSource, day: date) -> list[Item]:
    """Every page of the API for one day: keep asking while a page comes back full."""
    found: dict[str, Item] = {}
    for page in range(MAX_PAGES):
        url = api_url(source.base_url, day, source.page_size, page)
        response = await ctx.get(url)
        listing = await ctx.parse(parse_api_page, response.body, source=source.name, listed_on=day, url=url)
        before = len(found)
        found.update((item.guid, item) for item in listing.items)
        # A server that ignores `p` would hand back the same page forever.
        if listing.entries < source.page_size or len(found) == before:
            break
    else:
        ctx.note(f"{day}: stopped after {MAX_PAGES} API pages of {source.page_size}")
    return list(found.values())


async def fetch_day_html(ctx, source: HfPapersSource, day: date) -> list[Item]:
    url = listing_url(source.base_url, day)
    response = await ctx.get(url)
    listing = await ctx.parse(parse_listing_page, response.body, source=source.name, listed_on=day, url=url)
    return listing.items


async def fetch_day(ctx, source: HfPapersSource, day: date) -> tuple[list[Item], str]:
    """One day's papers and the path that gave them; raises when the API and the page both fail."""
    try:
        items = await fetch_day_api(ctx, source, day)
    except FetchError as api_error:
        try:
            items = await fetch_day_html(ctx, source, day)
        except FetchError as page_error:
            raise both_failed(api_error, page_error, "HTML fallback") from None
        ctx.warn(f"{day}: the API failed ({api_error.reason}); {len(items)} papers read from the "
                 f"HTML fallback {listing_url(source.base_url, day)}")
        return items, f"HTML fallback (API: {api_error.reason})"
    ctx.note(f"{day}: {len(items)} papers from the API")
    return items, "API"


async def fetch(ctx: FetchContext, source: HfPapersSource) -> list[Item]:
    """The papers of each day asked for. A day whose API and page both fail is noted and the
    other days are still stored (early in the Korean morning "today" may not exist yet on HF);
    the source fails only when no day could be read, or when HF asks us to wait."""
    paths: dict[str, str] = {}

    async def one(day: date) -> list[Item]:
        try:
            items, path = await fetch_day(ctx, source, day)
        except FetchError as exc:
            paths[day.isoformat()] = f"failed: {exc}"
            raise
        paths[day.isoformat()] = f"{path}, {len(items)} papers"
        return items

    try:
        return await ctx.each(days_to_fetch(ctx.now, ctx.tz, source.days, ctx.day), one, name=date.isoformat)
    finally:
        ctx.memory[KV_LAST_FETCH] = paths


def describe(memory: dict[str, Any], source: HfPapersSource, now: datetime) -> list[str]:
    """`trendbot sources`: which path the last fetch of each day took."""
    paths = memory.get(KV_LAST_FETCH) or {}
    return [f"{day}: {path}" for day, path in sorted(paths.items())]


def meta(item: StoredItem) -> list[str]:
    return [f"HF ▲{item.popularity.get('upvotes', 0)}"]


KIND = Kind(name="hf_papers", config=HfPapersSource, fetch=fetch, label="HF", lead=10,
            popularity=lambda pop: pop.get("upvotes", 0), meta=meta, describe=describe)
