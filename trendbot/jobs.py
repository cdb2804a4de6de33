"""The steps trendbot runs — load, fetch, digest, publish — as the CLI and the daemon both call
them. Nothing else orchestrates: the modules below each do one job and are handed what they
need (rows, kinds, `now`), so a step here reads as the list of what happens, in order.

`dry_run` is honoured here once for all: the story merge runs in a transaction that is rolled
back, the summarizer uses only its cache and calls no model, and nothing is written to the
store, `digests/` or the blog.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Callable

from trendbot import digest as digests
from trendbot import kinds, publish, schedule
from trendbot.config import Config, load_config
from trendbot.digest import Digest
from trendbot.stories import ensure_merged
from trendbot.store import Store
from trendbot.summarize import Summarizer

if TYPE_CHECKING:
    from trendbot.fetch import CycleReport, SourceOutcome

MERGE_LOOKBACK_DAYS = 3   # a digest merges the unmerged items of D and a few days around it


def load(config_path: str | None = None, db: str | None = None) -> Config:
    """trendbot.toml and every sources/*.toml, each source checked by its own kind."""
    return load_config(config_path, db, sources=kinds.load_sources)


def fetch(config: Config, store: Store, names: list[str] | None = None, day: date | None = None,
          now: datetime | None = None, on_done: Callable[[SourceOutcome], None] | None = None) -> CycleReport:
    """Fetch the named sources (else every enabled one), store and merge what they bring."""
    # the fetch machinery (httpx, the parsers) loads only for a fetch: a digest starts without it
    from trendbot.fetch import run_cycle

    return run_cycle(config, store, config.chosen(names), day, now, on_done)


def build_digest(config: Config, store: Store, day: date, now: datetime, *, dry_run: bool = False) -> Digest:
    """The section for `day`: leftover items merged into stories, the day's stories ranked,
    summarized and rendered."""
    registry = kinds.registry()
    with store.scratch() if dry_run else contextlib.nullcontext():
        rows, members = _day(config, store, day, now)
    settings = config.settings
    stories = digests.select(rows, members, day, settings.digest, registry)
    warnings = _summarize(config, store, stories, now, dry_run)
    result = digests.render_digest(day, stories, config.sources, store.states(), now, settings.digest, registry)
    result.warnings = warnings
    return result


def build_week(config: Config, store: Store, day: date, now: datetime, *, dry_run: bool = False) -> Digest:
    """The roll-up of the week holding `day` (weeks begin on `[blog] week_starts`): the week's
    top stories, each once, with the days they were on."""
    registry = kinds.registry()
    start = publish.week_start(config.settings.blog, day)
    week = [start + timedelta(days=n) for n in range(7)]
    with store.scratch() if dry_run else contextlib.nullcontext():
        _merge_around(config, store, week, now)
        days = [(one, *_rows(store, one)) for one in week]
    stories = digests.select_week(days, config.settings.digest, registry)
    warnings = _summarize(config, store, stories, now, dry_run)
    result = digests.render_week(start, stories, config.settings.digest, registry)
    result.warnings = warnings
    return result


def _day(config: Config, store: Store, day: date, now: datetime) -> tuple[list, list]:
    """A day's rows and their stories' members, once the items around it are merged."""
    _merge_around(config, store, [day], now)
    return _rows(store, day)


def _merge_around(config: Config, store: Store, days: list[date], now: datetime) -> None:
    """Merge the unmerged items of these days and of a few days around them, in one pass."""
    around = [days[0] + timedelta(days=n) for n in range(-MERGE_LOOKBACK_DAYS, (days[-1] - days[0]).days + 2)]
    ensure_merged(store, around, now, kinds.mirrors_of(config.sources))


def _rows(store: Store, day: date) -> tuple[list, list]:
    rows = store.items_of_day(day)
    return rows, store.story_members({row.story_id for row in rows if row.story_id})


def _summarize(config: Config, store: Store, stories: list, now: datetime, dry_run: bool) -> list[str]:
    """Fill in each story's line of summary; what a model wrote is cached (not in a dry run)."""
    summarizer = Summarizer(config.settings.summarizer, offline=dry_run)
    summarizer.cached = store.summaries(summarizer.keys(story.items + story.mentions for story in stories))
    for story, summary in zip(stories, summarizer.summarize(story.items + story.mentions for story in stories)):
        story.summary = summary
    if not dry_run:
        store.save_summaries(summarizer.written, now)
    return summarizer.warnings


@dataclass
class Published:
    """What publishing a day did, with the digest it published."""

    result: publish.PublishResult
    digest: Digest
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """A step failed: the post was left because its block cannot be merged, or every source failed."""
        return self.result.status == "conflict" or self.digest.all_failed


def publish_day(config: Config, store: Store, day: date, now: datetime, *, dry_run: bool = False,
                force: bool = False, commit: bool | None = None) -> Published:
    """Build the day's digest and publish it: into the blog post when `[blog] repo` is set, else
    to digests/D.md. A day with no story goes to digests/D.md only: no post receives a quiet or
    failed day, and none is created for one."""
    made = build_digest(config, store, day, now, dry_run=dry_run)
    quiet = f"{day}: {'every source failed' if made.all_failed else 'no story'}"
    return _publish(config, store, made, publish.day_slot(config.settings.blog, day), quiet, now,
                    dry_run=dry_run, force=force, commit=commit)


def fetch_and_publish(config: Config, store: Store, day: date, now: datetime) -> tuple[CycleReport, Published]:
    """What the daemon's publish, settle and catch-up runs do: fetch everything (a past day by
    date, where a kind can), then publish the day."""
    report = fetch(config, store, None, schedule.backfill_day(day, now, config.tz), now)
    return report, publish_day(config, store, day, now)


def publish_week(config: Config, store: Store, day: date, now: datetime, *, dry_run: bool = False,
                 force: bool = False, commit: bool | None = None) -> Published:
    """The week's roll-up into the week's post, under `[blog] week_heading` (created at the end
    of the post when missing), with a day's rules: its own block, merged with your edits; a week
    without a story goes to digests/ only."""
    made = build_week(config, store, day, now, dry_run=dry_run)
    return _publish(config, store, made, publish.week_slot(config.settings.blog, made.day),
                    f"week of {made.day}: no story", now, dry_run=dry_run, force=force, commit=commit)


def _publish(config: Config, store: Store, made: Digest, slot: publish.Slot, quiet: str, now: datetime, *,
             dry_run: bool, force: bool, commit: bool | None) -> Published:
    """A built section into its post (merged with the person's edits), or, when it holds no
    story, to digests/ only; the publication is recorded with the base of the next merge."""
    where = publish.target(config, slot.first_day)
    if made.quiet and where.in_blog:
        result = publish.publish_digest(config, slot.key, now, made.markdown, 0, dry_run)
        result.status = "quiet"
        result.message = f"{quiet}, so {publish.display_path(where.path)} is left as it is; {result.message}"
    else:
        previous = store.publication(slot.first_day, publish.record_path(where.path, slot)) if where.in_blog else None
        result = publish.publish_section(config, slot, made.markdown, len(made.stories), previous, now,
                                         dry_run=dry_run, force=force, commit=commit)
    if result.record is not None and not dry_run:
        store.record_publication(result.record)
    return Published(result, made, made.warnings)
