"""Kind `github_trending`: the repositories on GitHub's trending page, with the stars they gained.

GitHub has no API for trending, so the HTML page is read: `/trending?since=daily` for all
languages, plus `/trending/{language}` for each configured language. The markup has changed over
the years and every shape seen in real captures is read:

- 2019-04: `ol.repo-list > li`, the name in `h3 > a`, forks under `/network/members`;
- 2019-06 to 2020: `article.Box-row`, the name in `h1.h3 > a`, star links like
  `/owner/repo/stargazers.repo`;
- 2023 onwards (captures of 2026): `article.Box-row`, the name in `h2.h3 > a`, forks under `/forks`.

Each row becomes one item linked to `https://github.com/owner/repo` whatever `base_url` served
it, so the story merge reads it as `github:owner/repo` and a paper whose code is that repository
joins it. Popularity is the stars gained in the page's period ("1,601 stars today"); total stars
and forks are kept too. The page gives no time, so an item's day is the day it was first seen.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import quote, urlencode

from pydantic import Field, field_validator

from trendbot.config import BaseUrl, SourceBase
from trendbot.errors import ParseError
from trendbot.kinds import FetchContext, Kind
from trendbot.markup import parse_page
from trendbot.models import Item, StoredItem
from trendbot.text import clean, compact_count

PUBLIC_BASE = "https://github.com"
LABEL = "GitHub"
# "1,601 stars today", "15,633 stars this week", "1 star today"
_GAINED = re.compile(r"([\d,]+)\s+stars?\s+(today|this week|this month)", re.I)
GAINED_KEYS = {"today": "stars_today", "this week": "stars_this_week", "this month": "stars_this_month"}
_REPO_PATH = re.compile(r"^/([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/([A-Za-z0-9._-]{1,100})/?$")
# GitHub's own words when a language has nothing trending; the page then has no rows at all
EMPTY_BOARD = "have any trending repositories"


class GithubTrendingSource(SourceBase):
    kind: Literal["github_trending"]
    base_url: BaseUrl = Field(PUBLIC_BASE, description="where the trending pages are fetched from")
    since: Literal["daily", "weekly", "monthly"] = Field("daily", description="the period whose gained stars rank the page")
    languages: list[str] = Field(default_factory=list,
                                 description='also read /trending/{language} for each, e.g. ["python", "jupyter-notebook"]')

    @field_validator("languages")
    @classmethod
    def _slugs(cls, values: list[str]) -> list[str]:
        slugs: list[str] = []
        for value in values:
            slug = value.strip().lower()
            if not slug or "/" in slug or "?" in slug:
                raise ValueError(f'"{value}" is not a language name as GitHub writes it in /trending/LANGUAGE')
            if slug not in slugs:
                slugs.append(slug)
        return slugs


def page_urls(source: GithubTrendingSource) -> list[str]:
    """The overall page first, then one page per language (`c++` is asked for as `c%2B%2B`)."""
    query = urlencode({"since": source.since})
    paths = ["/trending"] + [f"/trending/{quote(language, safe='')}" for language in source.languages]
    return [f"{source.base_url}{path}?{query}" for path in paths]


def _count(text: str) -> int | None:
    digits = clean(text).replace(",", "")
    return int(digits) if digits.isdigit() else None


def repo_of(row) -> tuple[str, str] | None:
    """(owner, name) from the row's heading link (`/owner/repo`)."""
    link = row.css_first("h1 a[href], h2 a[href], h3 a[href]")
    match = _REPO_PATH.match((link.attributes.get("href") or "").strip()) if link is not None else None
    return (match.group(1), match.group(2)) if match else None


def counts_of(row, owner: str, name: str) -> dict[str, int]:
    """Total stars and forks from the row's links to the repository's stargazers and forks."""
    counts: dict[str, int] = {}
    prefix = f"/{owner}/{name}/".lower()
    for link in row.css("a[href]"):
        href = (link.attributes.get("href") or "").lower()
        if not href.startswith(prefix):
            continue
        page = href[len(prefix):]
        key = "stars" if page.startswith("stargazers") else "forks" if page.startswith(("forks", "network/members")) else None
        value = _count(link.text(deep=True))
        if key and value is not None:
            counts.setdefault(key, value)
    return counts


def gained_of(row) -> tuple[str, int] | None:
    """(period, stars) from "1,601 stars today" (the row's right-floated span)."""
    for node in row.css("span.float-sm-right"):
        match = _GAINED.search(clean(node.text(deep=True)))
        if match:
            return match.group(2).lower(), int(match.group(1).replace(",", ""))
    return None


def repo_item(row, *, source: str, rank: int) -> Item | None:
    """One trending row as an item, or None when it names no repository."""
    repo = repo_of(row)
    if repo is None:
        return None
    owner, name = repo
    full_name = f"{owner}/{name}"
    paragraph = row.css_first("p")
    description = clean(paragraph.text(deep=True)) if paragraph is not None else ""
    popularity = counts_of(row, owner, name)
    extra: dict[str, Any] = {"repo": full_name, "rank": rank}
    gained = gained_of(row)
    if gained:
        period, stars = gained
        popularity[GAINED_KEYS[period]] = stars
        extra["period"] = period
    language = row.css_first('[itemprop="programmingLanguage"]')
    if language is not None and clean(language.text(deep=True)):
        extra["language"] = clean(language.text(deep=True))
    builders = [alt.lstrip("@") for img in row.css("img.avatar") if (alt := clean(img.attributes.get("alt")))]
    if builders:
        extra["built_by"] = builders
    return Item(
        source=source, kind="github_trending", url=f"{PUBLIC_BASE}/{full_name}", guid=full_name.lower(),
        title=full_name, text=description, summary=description or None, author=owner,
        popularity=popularity, extra=extra, raw={"repo": full_name, "rank": rank},
    )


def parse_trending(body: bytes, *, source: str, url: str) -> list[Item]:
    """Items of one trending page, in the page's order. Pure.

    A page without rows is GitHub's "no trending repositories" board only when it says so;
    anything else (a login wall, a challenge page, a new markup) is a `ParseError`.
    """
    tree = parse_page(body)
    rows = tree.css("article.Box-row") or tree.css("ol.repo-list > li")
    if not rows:
        page_text = clean(tree.body.text(deep=True)) if tree.body is not None else ""
        if EMPTY_BOARD in page_text.replace("’", "'"):
            return []
        raise ParseError(url, "no repositories in the page (no article.Box-row or ol.repo-list rows)")
    items = [item for rank, row in enumerate(rows, 1) if (item := repo_item(row, source=source, rank=rank))]
    if not items:
        raise ParseError(url, f"none of the {len(rows)} rows links to a repository")
    return items


async def fetch(ctx: FetchContext, source: GithubTrendingSource) -> list[Item]:
    """Every configured page; a repository on several pages is kept once, as the first page
    (all languages) ranks it."""

    async def read(url: str) -> list[Item]:
        response = await ctx.get(url, conditional=True)
        if response.not_modified:
            return []
        return await ctx.parse(parse_trending, response.body, source=source.name, url=url)

    return await ctx.each(page_urls(source), read)


def popularity(pop: dict) -> int:
    """Stars gained in the page's period: what the trending page itself ranks by."""
    return next((int(pop[key]) for key in GAINED_KEYS.values() if key in pop), 0)


def meta(item: StoredItem) -> list[str]:
    """`★ +1.6k` (stars gained), or the total `★ 55.7k` when the page showed no gain."""
    pop = item.popularity
    if any(key in pop for key in GAINED_KEYS.values()):
        return [f"★ +{compact_count(popularity(pop))}"]
    return [f"★ {compact_count(int(pop['stars']))}"] if "stars" in pop else [LABEL]


KIND = Kind(name="github_trending", config=GithubTrendingSource, fetch=fetch, label=LABEL, lead=30,
            popularity=popularity, meta=meta)
