"""The day's digest: select the day's stories, rank them, summarize them, render the section.

Stories come from `trendbot/merge.py` (the store keeps each item's story). Score of a story on
day D (documented in the README):

    score = max over its items on D of popularity(item) / max popularity of that source on D
            + 0.5 for every source beyond the first that mentions the story (D ± 1 day)

where popularity is HF upvotes, GeekNews points + comments, X likes when a mirror shows them,
HN points + comments, Reddit score + comments, trending HF repositories' likes, GitHub stars
gained on the trending page, Bluesky likes + reposts, and 0 for sources that publish none (feeds,
X through RSS). Ties go to the more recent story,
then the title. `[digest] per_source` caps how many stories one source may lead (the source of
the main link), `[digest] limit` caps the section.

The main link of a story follows `LEAD_PREFERENCE`: the Hugging Face paper page for papers,
the article itself when a feed carried it, the repository for a trending repository, the
GeekNews topic for news (the Korean title and summary a reader wants, and the topic links its
original at the top), then the Hacker News and Reddit discussions, the post for X-only and
Bluesky-only stories. The other mentions follow as short links (`HF`, `GN`, `X`, `HN`, …) on the
same line.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from trendbot.config import Config
from trendbot.merge import ensure_merged, mirrors_of
from trendbot.render import Line, render_section, summary_beyond_title
from trendbot.store import SourceState, Store
from trendbot.summarize import Summarizer
from trendbot.urls import strip_tracking

SOURCE_BONUS = 0.5
MENTION_DAYS = 1          # mentions this many days before or after D count for the story
MERGE_LOOKBACK_DAYS = 3   # the digest merges unmerged items of D and a few days around it
LEAD_PREFERENCE = ("hf_papers", "hf_trending", "feed", "github_trending", "geeknews", "hackernews", "reddit",
                   "x", "bluesky")
# Kinds that say themselves how they rank and label an item (the Kind protocol to come).
KIND_MODULES = {name: importlib.import_module(f"trendbot.kinds.{name}")
                for name in ("hf_trending", "hackernews", "reddit", "github_trending", "bluesky")}
MENTION_LABELS = {"hf_papers": "HF", "geeknews": "GN", "x": "X"} | {k: m.LABEL for k, m in KIND_MODULES.items()}


@dataclass
class Story:
    key: str
    items: list[dict]                 # the story's items on D, main link first
    score: float = 0.0
    mentions: list[dict] = field(default_factory=list)  # the story's items on days around D
    summary: str = ""

    @property
    def lead(self) -> dict:
        return self.items[0]

    @property
    def sources(self) -> list[str]:
        return sorted({item["source"] for item in self.items + self.mentions})

    @property
    def newest(self) -> datetime | None:
        times = [item["published_at"] for item in self.items if item["published_at"]]
        return max(times) if times else None


@dataclass
class Digest:
    day: date
    stories: list[Story]
    notes: list[str] = field(default_factory=list)
    markdown: str = ""
    warnings: list[str] = field(default_factory=list)  # for stderr, not the section (e.g. summarizer down)


def popularity(item: dict) -> int:
    pop = item.get("popularity") or {}
    if item.get("kind") in KIND_MODULES:
        return KIND_MODULES[item["kind"]].popularity(pop)
    if "upvotes" in pop:
        return int(pop["upvotes"])
    return int(pop.get("points", 0)) + int(pop.get("comments", 0)) + int(pop.get("likes", 0))


def lead_order(item: dict) -> tuple:
    kind = item["kind"]
    preference = LEAD_PREFERENCE.index(kind) if kind in LEAD_PREFERENCE else LEAD_PREFERENCE.index("feed")
    published = item["published_at"].timestamp() if item.get("published_at") else float("inf")
    return (preference, -popularity(item), published, item["id"])


def group_stories(rows: list[dict], members: list[dict] | None = None, day: date | None = None) -> list[Story]:
    """The day's items grouped by story (an unmerged item is its own story), with the
    story's other items from the days around as mentions."""
    stories: dict[str, Story] = {}
    for row in rows:
        key = row.get("story_id") or "item:" + row["id"]
        stories.setdefault(key, Story(key, [])).items.append(row)
    on_day = {row["id"] for row in rows}
    for member in members or ():
        story = stories.get(member.get("story_id") or "")
        if story is None or member["id"] in on_day:
            continue
        if day and abs((date.fromisoformat(member["day"]) - day).days) > MENTION_DAYS:
            continue
        story.mentions.append(member)
    for story in stories.values():
        story.items.sort(key=lead_order)
        story.mentions.sort(key=lead_order)
    return list(stories.values())


def score_stories(stories: list[Story]) -> None:
    best: dict[str, int] = {}
    for story in stories:
        for item in story.items:
            best[item["source"]] = max(best.get(item["source"], 0), popularity(item))
    for story in stories:
        normalized = max((popularity(i) / best[i["source"]] if best[i["source"]] else 0.0) for i in story.items)
        story.score = normalized + SOURCE_BONUS * (len(story.sources) - 1)


def rank(stories: list[Story], limit: int, per_source: dict[str, int]) -> list[Story]:
    score_stories(stories)
    ordered = sorted(stories, key=lambda s: (-s.score, -(s.newest.timestamp() if s.newest else 0),
                                             s.lead["title"], s.key))
    chosen: list[Story] = []
    led: dict[str, int] = {}
    for story in ordered:
        source = story.lead["source"]
        if source in per_source and led.get(source, 0) >= per_source[source]:
            continue
        led[source] = led.get(source, 0) + 1
        chosen.append(story)
        if len(chosen) >= limit:
            break
    return chosen


def meta_labels(item: dict) -> list[str]:
    pop = item.get("popularity") or {}
    kind = item["kind"]
    if kind == "hf_papers":
        return [f"HF ▲{pop.get('upvotes', 0)}"]
    if kind == "geeknews":
        # no points when the topic page could not be read: say "GN", not a false "GN 0p"
        label = f"GN {pop['points']}p" if "points" in pop else "GN"
        if pop.get("comments"):
            label += f" 💬{pop['comments']}"
        return [label]
    if kind == "x":
        return [f"X {item.get('author') or ''}".strip()]
    if kind in KIND_MODULES:
        return KIND_MODULES[kind].meta(pop, item.get("extra") or {})
    return [item["source"]]


def mention_links(story: Story) -> list[tuple[str, str]]:
    """(label, url) for every item after the main link: `HF`, `GN`, `X` (then `X2`, …)."""
    seen = {strip_tracking(story.lead["url"])}
    counts: dict[str, int] = {}
    links = []
    for item in story.items[1:] + story.mentions:
        url = strip_tracking(item["url"])
        if url in seen:
            continue
        seen.add(url)
        label = MENTION_LABELS.get(item["kind"], item["source"])
        counts[label] = counts.get(label, 0) + 1
        links.append((label if counts[label] == 1 else f"{label}{counts[label]}", url))
    return links


def story_line(story: Story) -> Line:
    lead = story.lead
    summary = story.summary
    if lead["kind"] in ("x", "bluesky"):  # the title is the start of the post: do not say it twice
        summary = summary_beyond_title(lead["title"], summary)
    return Line(title=lead["title"], url=strip_tracking(lead["url"]), summary=summary,
                meta=meta_labels(lead), mentions=mention_links(story))


def source_notes(config: Config, states: dict[str, SourceState], now: datetime) -> list[str]:
    """One note per enabled source whose last fetch failed or that has not succeeded lately."""
    notes = []
    stale_after: timedelta = config.settings.digest.stale_after
    for source in config.sources:
        if not source.enabled:
            continue
        state = states.get(source.name)
        if state is None or state.last_attempt_at is None:
            continue
        if state.last_error:
            notes.append(f"{source.name}: 마지막 수집 실패 ({state.last_error})")
        elif state.last_success_at and now - state.last_success_at > stale_after:
            notes.append(f"{source.name}: {state.last_success_at:%Y-%m-%d} 이후 수집되지 않음")
    return notes


def build_digest(config: Config, store: Store, day: date, now: datetime) -> Digest:
    around = [day + timedelta(days=n) for n in range(-MERGE_LOOKBACK_DAYS, 2)]
    ensure_merged(store, around, now, mirrors_of(config))
    rows = store.items_of_day(day)
    members = store.story_members({row["story_id"] for row in rows if row.get("story_id")})
    settings = config.settings.digest
    stories = rank(group_stories(rows, members, day), settings.limit, settings.per_source)
    summarizer = Summarizer(config.settings.summarizer, store, now)
    for story, summary in zip(stories, summarizer.summarize(story.items + story.mentions for story in stories)):
        story.summary = summary
    notes = source_notes(config, store.states(), now)
    lines = [story_line(story) for story in stories]
    markdown = render_section(day, lines, notes, settings.section_title)
    return Digest(day, stories, notes, markdown, summarizer.warnings)
