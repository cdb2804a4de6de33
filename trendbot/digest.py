"""The day's digest: select the day's items, group them into stories, rank, summarize, render.

Score of a story on day D (documented in the README):

    score = max over its items of popularity(item) / max popularity of that source on D
            + 0.5 for every source beyond the first that mentions the story

where popularity is HF upvotes, GeekNews points + comments, and 0 for sources that publish
none (feeds, X through RSS). Ties go to the more recent story. `[digest] per_source` caps how
many stories one source may lead, `[digest] limit` caps the section.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from trendbot.config import Config
from trendbot.render import Line, render_section
from trendbot.store import SourceState, Store
from trendbot.text import first_sentence
from trendbot.urls import strip_tracking

SOURCE_BONUS = 0.5
SUMMARY_CHARS = 160


@dataclass
class Story:
    key: str
    items: list[dict]
    score: float = 0.0

    @property
    def lead(self) -> dict:
        return self.items[0]

    @property
    def sources(self) -> list[str]:
        return sorted({item["source"] for item in self.items})

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


def popularity(item: dict) -> int:
    pop = item.get("popularity") or {}
    if "upvotes" in pop:
        return int(pop["upvotes"])
    return int(pop.get("points", 0)) + int(pop.get("comments", 0))


def group_stories(rows: list[dict]) -> list[Story]:
    """Items that share a story id (or, before merging ran, a canonical URL) form one story."""
    stories: dict[str, Story] = {}
    for row in rows:
        key = row.get("story_id") or row["canonical_url"]
        stories.setdefault(key, Story(key, [])).items.append(row)
    return list(stories.values())


def score_stories(stories: list[Story]) -> None:
    best: dict[str, int] = {}
    for story in stories:
        for item in story.items:
            best[item["source"]] = max(best.get(item["source"], 0), popularity(item))
    for story in stories:
        normalized = max((popularity(i) / best[i["source"]] if best[i["source"]] else 0.0) for i in story.items)
        story.score = normalized + SOURCE_BONUS * (len(story.sources) - 1)
        story.items.sort(key=lambda i: (-popularity(i), i["source"]))


def rank(stories: list[Story], limit: int, per_source: dict[str, int]) -> list[Story]:
    score_stories(stories)
    ordered = sorted(stories, key=lambda s: (-s.score, -(s.newest.timestamp() if s.newest else 0),
                                             s.lead["title"]))
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
    return [item["source"]]


def summary_of(item: dict, limit: int = SUMMARY_CHARS) -> str:
    return first_sentence(item.get("summary") or item.get("text") or "", limit)


def story_line(story: Story) -> Line:
    lead = story.lead
    meta = meta_labels(lead)
    for item in story.items[1:]:
        for label in meta_labels(item):
            if label not in meta:
                meta.append(label)
    return Line(title=lead["title"], url=strip_tracking(lead["url"]), summary=summary_of(lead), meta=meta)


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
    rows = store.items_of_day(day)
    settings = config.settings.digest
    stories = rank(group_stories(rows), settings.limit, settings.per_source)
    notes = source_notes(config, store.states(), now)
    lines = [story_line(story) for story in stories]
    markdown = render_section(day, lines, notes, settings.section_title)
    return Digest(day, stories, notes, markdown)
