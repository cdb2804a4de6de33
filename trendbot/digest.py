"""The day's digest, as pure functions: the day's items grouped into stories, ranked, turned
into lines and rendered. Nothing here reads a clock, the store or the network: `trendbot/jobs.py`
hands in the rows, the kinds, the summaries and `now`.

Score of a story on day D (documented in the README):

    score = max over its items on D of popularity(item) / max popularity of that source on D
            + 0.5 for every source beyond the first that mentions the story (D ± 1 day)
            + [taste] weight × taste(story)

where each kind says what an item's popularity is (HF upvotes, GeekNews points + comments, HN
points + comments, stars gained, likes; 0 for feeds) and taste(story), in (-1, 1), is what the
person's edits taught (`trendbot/taste.py`): 0 without verdicts, so `weight = 0` or no verdicts
leave the order as it was. Ties go to the more recent story, then the title. `[digest]
per_source` caps how many stories one source may lead (the source of the main link), `[digest]
limit` caps the section.

The item that leads a story is the one whose kind has the lowest `lead` (a paper's page before
the article a feed carried, before the GeekNews topic, before a post); the other items follow as
short mention links (`HF`, `GN`, `X`, `X2`, …) on the same line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Mapping

from trendbot.config import DigestConfig, SourceBase
from trendbot.kinds import Kind
from trendbot.models import SourceState, StoredItem, Verdict
from trendbot.render import Line, render_section, summary_beyond_title
from trendbot.schedule import stale_since
from trendbot.taste import Taste, person_title, story_features, strongest, verdict_rank
from trendbot.urls import strip_tracking

SOURCE_BONUS = 0.5
MENTION_DAYS = 1          # mentions this many days before or after D count for the story
UNKNOWN = Kind(name="", config=SourceBase, fetch=None)  # type: ignore[arg-type]  # a kind no longer installed


@dataclass
class Story:
    key: str
    items: list[StoredItem]                 # the story's items on D, main link first
    score: float = 0.0
    mentions: list[StoredItem] = field(default_factory=list)  # the story's items on days around D
    summary: str = ""
    popular: float = 0.0                    # the popularity part of the score (0 to 1)
    days: list[date] = field(default_factory=list)            # a week's roll-up: the days it was on
    taste: float = 0.0                      # the taste term of the score: weight × taste(story)
    own_title: str | None = None            # a week's roll-up: the person's own title (markdown)

    @property
    def lead(self) -> StoredItem:
        return self.items[0]

    @property
    def sources(self) -> list[str]:
        return sorted({item.source for item in self.items + self.mentions})

    @property
    def newest(self) -> datetime | None:
        times = [item.published_at for item in self.items if item.published_at]
        return max(times) if times else None


@dataclass
class Digest:
    day: date
    stories: list[Story]
    notes: list[str] = field(default_factory=list)
    markdown: str = ""
    warnings: list[str] = field(default_factory=list)  # for stderr, not the section (e.g. summarizer down)
    all_failed: bool = False                           # every source's last fetch failed
    week: bool = False                                 # the roll-up of the week starting on `day`

    @property
    def quiet(self) -> bool:
        return not self.stories

    @property
    def name(self) -> str:
        """The file's name in digests/ (and a block's key in a post)."""
        return f"week-{self.day.isoformat()}" if self.week else self.day.isoformat()


def kind_of(item: StoredItem, kinds: Mapping[str, Kind]) -> Kind:
    return kinds.get(item.kind, UNKNOWN)


def popularity(item: StoredItem, kinds: Mapping[str, Kind]) -> float:
    return float(kind_of(item, kinds).popularity(item.popularity) or 0)


def lead_order(item: StoredItem, kinds: Mapping[str, Kind]) -> tuple:
    published = item.published_at.timestamp() if item.published_at else float("inf")
    return (kind_of(item, kinds).lead, -popularity(item, kinds), published, item.id)


def group_stories(rows: list[StoredItem], members: list[StoredItem], day: date,
                  kinds: Mapping[str, Kind]) -> list[Story]:
    """The day's items grouped by story (an unmerged item is its own story), with the story's
    other items from the days around as mentions."""
    stories: dict[str, Story] = {}
    for row in rows:
        key = row.story_id or "item:" + row.id
        stories.setdefault(key, Story(key, [])).items.append(row)
    on_day = {row.id for row in rows}
    for member in members:
        story = stories.get(member.story_id or "")
        if story is None or member.id in on_day or abs((member.day - day).days) > MENTION_DAYS:
            continue
        story.mentions.append(member)
    for story in stories.values():
        story.items.sort(key=lambda item: lead_order(item, kinds))
        story.mentions.sort(key=lambda item: lead_order(item, kinds))
    return list(stories.values())


def score_stories(stories: list[Story], kinds: Mapping[str, Kind]) -> None:
    best: dict[str, float] = {}
    for story in stories:
        for item in story.items:
            best[item.source] = max(best.get(item.source, 0.0), popularity(item, kinds))
    for story in stories:
        story.popular = max((popularity(i, kinds) / best[i.source] if best[i.source] else 0.0) for i in story.items)
        story.score = story.popular + SOURCE_BONUS * (len(story.sources) - 1)


def add_taste(stories: list[Story], kinds: Mapping[str, Kind], taste: Taste | None, weight: float) -> None:
    """Add each story's taste term, weight × taste(story), to its score (nothing without a model)."""
    if taste is None or taste.empty or not weight:
        return
    for story in stories:
        story.taste = weight * taste.score(features_of(story, kinds))
        story.score += story.taste


def features_of(story: Story, kinds: Mapping[str, Kind]) -> list[str]:
    return story_features(story.items + story.mentions, main_url(story.lead, kinds))


def rank(stories: list[Story], limit: int, per_source: dict[str, int], kinds: Mapping[str, Kind],
         taste: Taste | None = None, weight: float = 0.0) -> list[Story]:
    score_stories(stories, kinds)
    add_taste(stories, kinds, taste, weight)
    ordered = sorted(stories, key=lambda s: (-s.score, -(s.newest.timestamp() if s.newest else 0),
                                             s.lead.title, s.key))
    chosen: list[Story] = []
    led: dict[str, int] = {}
    for story in ordered:
        source = story.lead.source
        if source in per_source and led.get(source, 0) >= per_source[source]:
            continue
        led[source] = led.get(source, 0) + 1
        chosen.append(story)
        if len(chosen) >= limit:
            break
    return chosen


def select(rows: list[StoredItem], members: list[StoredItem], day: date, settings: DigestConfig,
           kinds: Mapping[str, Kind], taste: Taste | None = None, weight: float = 0.0) -> list[Story]:
    """The day's stories, best first, as many as the section holds; an item its source took
    back (a withdrawn paper) is neither a story nor a mention."""
    return rank(group_stories(*_listed(rows, members), day, kinds), settings.limit, settings.per_source, kinds,
                taste, weight)


def main_url(item: StoredItem, kinds: Mapping[str, Kind]) -> str:
    chooser = kind_of(item, kinds).main_url
    return strip_tracking(chooser(item) if chooser else item.url)


def mention_links(story: Story, kinds: Mapping[str, Kind]) -> list[tuple[str, str]]:
    """(label, url) for every place the story was seen besides its main link: `HF`, `GN`, `X`
    (then `X2`, …). A lead whose main link is another page (an HN story's article) is itself
    the first mention."""
    lead_url = main_url(story.lead, kinds)
    seen = {lead_url}
    counts: dict[str, int] = {}
    links = []
    for item in story.items + story.mentions:
        url = strip_tracking(item.url)
        if url in seen:
            continue
        seen.add(url)
        label = kind_of(item, kinds).mention_label(item)
        counts[label] = counts.get(label, 0) + 1
        links.append((label if counts[label] == 1 else f"{label}{counts[label]}", url))
    return links


def story_line(story: Story, kinds: Mapping[str, Kind]) -> Line:
    lead = story.lead
    kind = kind_of(lead, kinds)
    summary = story.summary
    if kind.title_is_text:  # the title is the start of the post: do not say it twice
        summary = summary_beyond_title(lead.title, summary)
    meta = kind.meta(lead) if kind is not UNKNOWN else [lead.source]
    return Line(title=lead.title, url=main_url(lead, kinds), summary=summary, meta=meta,
                mentions=mention_links(story, kinds), own_title=story.own_title)


def source_notes(sources: list[SourceBase], states: Mapping[str, SourceState], now: datetime,
                 stale_after: timedelta, delivered: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """One short Korean note per enabled source whose last fetch failed (`수집 실패`) or that has
    brought nothing new for longer than its `stale_after` (`업데이트 없음 (N일)`), as of `now`
    (for a past day, its end: the note is the day's, not today's). A source that `delivered`
    items of the day gets none. The reasons stay in `trendbot sources` and the log: a reader of
    the blog needs only the fact."""
    notes = []
    for source in sources:
        if not source.enabled or source.name in delivered:
            continue
        state = states.get(source.name)
        if state is None or state.last_attempt_at is None:
            continue
        if state.last_error:
            notes.append(f"{source.name}: 수집 실패")
            continue
        since = stale_since(now, state, source.stale_after or stale_after)
        if since is not None:
            notes.append(f"{source.name}: 업데이트 없음 ({(now - since).days}일)")
    return notes


def all_sources_failed(sources: list[SourceBase], states: Mapping[str, SourceState]) -> bool:
    """Every enabled source that was fetched failed its last fetch (a total outage, not a quiet day)."""
    fetched = [states[s.name] for s in sources if s.enabled and s.name in states and states[s.name].last_attempt_at]
    return bool(fetched) and all(state.last_error for state in fetched)


def render_digest(day: date, stories: list[Story], sources: list[SourceBase], states: Mapping[str, SourceState],
                  as_of: datetime, settings: DigestConfig, kinds: Mapping[str, Kind],
                  delivered: frozenset[str] | set[str] = frozenset()) -> Digest:
    """The section for `day` from ranked stories whose summaries are filled in; the notes on
    failed and stale sources as of `as_of` (the day's end, or now while the day lasts)."""
    notes = source_notes(sources, states, as_of, settings.stale_after, delivered)
    failed = not stories and all_sources_failed(sources, states)
    lines = [story_line(story, kinds) for story in stories]
    markdown = render_section(day, lines, notes, settings.section_title, all_failed=failed)
    return Digest(day, stories, notes, markdown, all_failed=failed)


# -- the week's roll-up ----------------------------------------------------------------------

WEEK_DAY_BONUS = 0.5     # for every day beyond the first a story was on
WEEKDAY_LETTERS = "월화수목금토일"


def select_week(days: list[tuple[date, list[StoredItem], list[StoredItem]]], settings: DigestConfig,
                kinds: Mapping[str, Kind], taste: Taste | None = None, weight: float = 0.0,
                verdicts: list[Verdict] | None = None) -> list[Story]:
    """The week's top stories, each once: for every story, its best day's popularity, plus 0.5
    for every source beyond the first that carried it during the week and for every day beyond
    the first it was on, plus its taste term. Its line holds what the whole week brought (the
    paper page leads even if its best day was GeekNews'); `days` lists the days it appeared.

    The person's verdicts of the week's days come first: the stories they annotated (under their
    own title), then those they kept or moved up; a story they deleted (and kept on no day) is
    never in it."""
    seen: dict[str, Story] = {}
    sources: dict[str, set[str]] = {}
    items: dict[str, dict[str, StoredItem]] = {}
    for day, rows, members in days:
        stories = group_stories(*_listed(rows, members), day, kinds)
        score_stories(stories, kinds)
        for story in stories:
            sources.setdefault(story.key, set()).update(story.sources)
            items.setdefault(story.key, {}).update((item.id, item) for item in story.items)
            best = seen.get(story.key)
            if best is None or story.popular > best.popular:
                story.days = (best.days if best else []) + [day]
                seen[story.key] = story
            else:
                best.days.append(day)
    for key, story in seen.items():
        story.days.sort()
        story.items = sorted(items[key].values(), key=lambda item: lead_order(item, kinds))
        story.mentions = [item for item in story.mentions if item.id not in items[key]]
        story.score = (story.popular + SOURCE_BONUS * (len(sources[key]) - 1)
                       + WEEK_DAY_BONUS * (len(story.days) - 1))
    stories = list(seen.values())
    add_taste(stories, kinds, taste, weight)
    said = strongest(verdicts or [])
    group: dict[str, int | None] = {}
    for story in stories:
        # the line the person judged may have led with another of the story's items that day
        heard = [said[url] for url in dict.fromkeys(main_url(item, kinds) for item in [story.lead, *story.items])
                 if url in said]
        verdict = max(heard, key=verdict_rank) if heard else None
        group[story.key] = VERDICT_GROUP.get(verdict.verdict, 2) if verdict else 2
        if verdict and verdict.verdict == "annotated":
            story.own_title = person_title(verdict.line)
    ordered = sorted((s for s in stories if group[s.key] is not None),
                     key=lambda s: (group[s.key], -s.score, -(s.newest.timestamp() if s.newest else 0),
                                    s.lead.title, s.key))
    return ordered[: settings.week_limit]


VERDICT_GROUP = {"annotated": 0, "moved": 1, "kept": 1, "deleted": None}  # the roll-up's order; None: left out


def _listed(rows: list[StoredItem], members: list[StoredItem]) -> tuple[list[StoredItem], list[StoredItem]]:
    """The rows without what a source took back (a withdrawn paper): neither story nor mention."""
    return [row for row in rows if not row.withdrawn], [member for member in members if not member.withdrawn]


def days_label(days: list[date]) -> str:
    """`3일(토·월·화)`: how many days of the week a story was on, and which."""
    return f"{len(days)}일({'·'.join(WEEKDAY_LETTERS[day.weekday()] for day in days)})"


def render_week(start: date, stories: list[Story], settings: DigestConfig, kinds: Mapping[str, Kind]) -> Digest:
    """The `### 이번 주 트렌드` section of the week that starts on `start`."""
    lines = []
    for story in stories:
        line = story_line(story, kinds)
        line.meta = [days_label(story.days), *line.meta]
        lines.append(line)
    markdown = render_section(start, lines, [], settings.week_title, anchor=f"weekly-trends-{start.isoformat()}",
                              quiet=f"{start.isoformat()}: 이번 주에 모인 소식이 없습니다.")
    return Digest(start, stories, [], markdown, week=True)
