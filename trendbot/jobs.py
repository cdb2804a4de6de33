"""The steps trendbot runs — load, fetch, digest, publish — as the CLI and the daemon both call
them. Nothing else orchestrates: the modules below each do one job and are handed what they
need (rows, kinds, `now`), so a step here reads as the list of what happens, in order.

Before a publish ranks (a day, a settle, a week's roll-up), `learn_taste` reads the person's
edits of trendbot's blocks in the blog's recent posts and records their verdicts; the ranking
then adds the taste learned from every verdict stored (`trendbot/taste.py`).

`dry_run` is honoured here once for all: the story merge runs in a transaction that is rolled
back, the summarizer uses only its cache and calls no model, and nothing is written to the
store, `digests/` or the blog.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from trendbot import digest as digests
from trendbot import files, kinds, posts, publish, schedule, sections, taste
from trendbot.config import Config, load_config
from trendbot.digest import Digest
from trendbot.errors import PublishError, TrendbotError
from trendbot.models import Verdict
from trendbot.stories import ensure_merged
from trendbot.store import Store
from trendbot.summarize import Summarizer
from trendbot.timeutil import day_of, utcnow

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

    now = now or utcnow()
    report = run_cycle(config, store, config.chosen(names), day, now, on_done)
    _after_fetch(config, store, report, now)
    return report


def _after_fetch(config: Config, store: Store, report: CycleReport, now: datetime) -> None:
    """Forget attempts older than `[store] history`; tell of a source down or back (`[notify]`)."""
    store.prune_history(now - config.settings.store.history)
    settings = config.settings.notify
    if not settings.configured:
        return
    from trendbot import notify

    for outcome in report.outcomes:
        if outcome.status != "skipped":
            run = store.outage_run(outcome.name)
            change = notify.outage(run, settings.down_after)
            if change:
                message = notify.down(outcome.name, run, config.tz) if change == "down" else notify.back(outcome.name, run)
                notify.send(settings, config.settings.http, message)


def build_digest(config: Config, store: Store, day: date, now: datetime, *, dry_run: bool = False) -> Digest:
    """The section for `day`: leftover items merged into stories, the day's stories ranked,
    summarized and rendered."""
    registry = kinds.registry()
    with store.scratch() if dry_run else contextlib.nullcontext():
        rows, members = _day(config, store, day, now)
    settings = config.settings
    stories = digests.select(rows, members, day, settings.digest, registry, *_taste(config, store))
    warnings = _summarize(config, store, stories, now, dry_run)
    result = digests.render_digest(day, stories, config.sources, store.states(), schedule.day_end(day, now, config.tz),
                                   settings.digest, registry, delivered={row.source for row in rows})
    result.warnings = warnings
    return result


def build_week(config: Config, store: Store, day: date, now: datetime, *, dry_run: bool = False) -> Digest:
    """The roll-up of the week holding `day` (weeks begin on `[blog] week_starts`): the week's
    top stories, each once, with the days they were on."""
    registry = kinds.registry()
    start = posts.week_start(config.settings.blog, day)
    week = [start + timedelta(days=n) for n in range(7)]
    with store.scratch() if dry_run else contextlib.nullcontext():
        _merge_around(config, store, week, now)
        days = [(one, *_rows(store, one)) for one in week]
    stories = digests.select_week(days, config.settings.digest, registry, *_taste(config, store),
                                  verdicts=store.verdicts(start, week[-1]))
    warnings = _summarize(config, store, stories, now, dry_run)
    result = digests.render_week(start, stories, config.settings.digest, registry)
    result.warnings = warnings
    return result


def _taste(config: Config, store: Store) -> tuple[taste.Taste | None, float]:
    """The model learned from every stored verdict, and its weight (no model at weight 0)."""
    weight = config.settings.taste.weight
    return (taste.learn(store.verdicts()) if weight else None), weight


def taste_terms(config: Config, store: Store, day: date) -> dict[str, float]:
    """Each of the day's items' story's taste term (weight × taste), by item id, for `items --json`."""
    registry = kinds.registry()
    model, weight = _taste(config, store)
    rows, members = _rows(store, day)
    stories = digests.group_stories(rows, members, day, registry)
    digests.add_taste(stories, registry, model, weight)
    return {item.id: story.taste for story in stories for item in story.items}


@dataclass
class Learned:
    """What reading the blog's posts for the person's edits found."""

    posts: int = 0
    blocks: int = 0        # trendbot's day blocks with a stored base, read
    verdicts: int = 0      # verdicts read from them
    recorded: int = 0      # of which new or changed in the store
    warnings: list[str] = field(default_factory=list)


def learn_taste(config: Config, store: Store, now: datetime) -> Learned:
    """Record the person's verdicts from every trendbot day block of the blog's posts of the last
    `[taste] lookback`, each read against the base stored with its publication. Reads the posts
    and writes only to the store."""
    learned = Learned()
    if config.settings.blog.repo is None:
        return learned
    since = day_of(now, config.tz) - config.settings.taste.lookback
    registry = kinds.registry()
    verdicts: list[Verdict] = []
    try:
        blog_posts = _posts(config)
    except PublishError as exc:  # no blog folder yet: the publish says so itself
        learned.warnings.append(str(exc))
        return learned
    for post in blog_posts:
        try:
            text = files.read_text(post)
        except PublishError as exc:
            learned.warnings.append(str(exc))
            continue
        learned.posts += 1
        for day, body, written in _day_blocks(text):
            if day < since:
                continue
            base = store.block_bases(day.isoformat()).get(written)  # what trendbot rendered there
            left = store.publication(day, posts.record_path(post, posts.Slot(day, day, None)))
            if base is None or (left is not None and left.content_hash == sections.block_hash(body)):
                continue  # as trendbot left it: the lines a merge just added have not been read yet
            learned.blocks += 1
            verdicts += _verdicts_of(store, day, base, body, registry)
    learned.verdicts = len(verdicts)
    learned.recorded = store.save_verdicts(verdicts, now)
    return learned


def _posts(config: Config) -> list[Path]:
    """The blog's posts: the Markdown files under the folder of `[blog] post`'s template (the
    part of its path before any field or glob)."""
    repo = posts.blog_repo(config)
    fixed = []
    for part in Path(config.settings.blog.post).parts[:-1]:
        if re.search(r"[{}*?\[]", part):
            break
        fixed.append(part)
    folder = repo.joinpath(*fixed)
    return sorted(path for pattern in ("*.md", "*.markdown") for path in folder.rglob(pattern) if path.is_file())


def _day_blocks(text: str) -> list[tuple[date, str, str]]:
    """Each complete day block of a post (not a week's roll-up) that is not trendbot's own
    rendering as it is: its day, its text as the merge reads it, and the hash of trendbot's own
    text its begin marker names."""
    lines = sections.split_lines(text)
    found = []
    for block in sections.find_blocks(lines):
        if block.end is None or block.day.startswith("week-"):
            continue
        body = text[lines[block.begin].end:lines[block.end].start].replace("\r\n", "\n")
        if sections.block_hash(body) != block.recorded:
            found.append((date.fromisoformat(block.day), body, block.recorded))
    return found


def _verdicts_of(store: Store, day: date, base: str, mine: str, registry) -> list[Verdict]:
    """The verdicts of one block, each with its story's features (from the day's stored items,
    else from the line trendbot wrote)."""
    read = taste.read_verdicts(base, mine)
    if not read:
        return []
    rows, members = _rows(store, day)
    stories = {}
    for story in digests.group_stories(rows, members, day, registry):
        for item in story.items:
            stories.setdefault(digests.main_url(item, registry), story)
        stories[digests.main_url(story.lead, registry)] = story
    written = taste.line_titles(base)
    found = []
    for one in read:
        story = stories.get(one.story)
        if story is not None:
            title, features = story.lead.title, digests.features_of(story, registry)
        else:
            title = written.get(one.story, "")
            features = taste.story_features([], one.story) + taste.title_features(title)
        found.append(Verdict(day, one.story, one.verdict, title, features, one.line))
    return found


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
        """A step failed: the post was left because its block cannot be merged or it may not be
        touched, its commit or push failed, or every source failed."""
        return self.result.status == "conflict" or self.result.failed or self.digest.all_failed


@contextlib.contextmanager
def failure_told(config: Config, day: date, dry_run: bool = False) -> Iterator[None]:
    """A publish of `day` that raises sends one `failed` message (`[notify]`), then raises on."""
    try:
        yield
    except Exception as exc:
        if not dry_run and config.settings.notify.configured and not getattr(exc, "trendbot_told", False):
            from trendbot import notify

            exc.trendbot_told = True
            notify.send(config.settings.notify, config.settings.http, notify.failed(day, str(exc) or type(exc).__name__))
        raise


def _failure_told_of_day(publish_one: Callable) -> Callable:
    @functools.wraps(publish_one)
    def wrapper(config: Config, store: Store, day: date, now: datetime, **options) -> Published:
        with failure_told(config, day, options.get("dry_run", False)):
            return publish_one(config, store, day, now, **options)
    return wrapper


@_failure_told_of_day
def publish_day(config: Config, store: Store, day: date, now: datetime, *, dry_run: bool = False,
                force: bool = False, commit: bool | None = None) -> Published:
    """Build the day's digest and publish it: into the blog post when `[blog] repo` is set, else
    to digests/D.md. A day with no story goes to digests/D.md only: no post receives a quiet or
    failed day, and none is created for one."""
    if not dry_run:
        learn_taste(config, store, now)
    made = build_digest(config, store, day, now, dry_run=dry_run)
    quiet = f"{day}: {'every source failed' if made.all_failed else 'no story'}"
    return _publish(config, store, made, posts.day_slot(config.settings.blog, day), quiet, now,
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
    if not dry_run:
        learn_taste(config, store, now)
    made = build_week(config, store, day, now, dry_run=dry_run)
    return _publish(config, store, made, posts.week_slot(config.settings.blog, made.day),
                    f"week of {made.day}: no story", now, dry_run=dry_run, force=force, commit=commit)


def _publish(config: Config, store: Store, made: Digest, slot: posts.Slot, quiet: str, now: datetime, *,
             dry_run: bool, force: bool, commit: bool | None) -> Published:
    """A built section into its post (merged with the person's edits), or, when it holds no
    story, to digests/ only; the publication is recorded with the base of the next merge."""
    where = posts.target(config, slot.first_day)
    if made.quiet and where.in_blog:
        result = publish.publish_digest(config, slot.key, now, made.markdown, 0, dry_run)
        result.status = "quiet"
        result.message = f"{quiet}, so {posts.display_path(where.path)} is left as it is; {result.message}"
    else:
        previous = store.publication(slot.first_day, posts.record_path(where.path, slot)) if where.in_blog else None
        block = posts.block_key(slot.key)
        result = publish.publish_section(
            config, slot, made.markdown, len(made.stories), previous, now, bases_of=store.block_bases,
            remember=lambda content_hash, text: store.save_block_base(block, content_hash, text, now),
            dry_run=dry_run, force=force, commit=commit)
    had = result.record is not None and store.publication(result.record.day, result.record.path) is not None
    if result.record is not None and not dry_run:
        _record(store, result)
    published = Published(result, made, made.warnings)
    if not dry_run and isinstance(slot.key, date):
        _tell_published(config, slot.key, published, had)
    return published


def _record(store: Store, result: publish.PublishResult) -> None:
    """Record the publication; a post already written says so when the record fails (the next
    run still knows trendbot's text by the hash its begin marker names)."""
    try:
        store.record_publication(result.record)
    except TrendbotError as exc:
        if result.status != "written":
            raise
        raise PublishError(f"{result.message}, but the database could not record it ({exc}); the next publish "
                           "still knows trendbot's text by its begin marker") from None


def _tell_published(config: Config, day: date, published: Published, had: bool) -> None:
    """The `published` message when the day's section was first written, `failed` when it could not be."""
    settings = config.settings.notify
    if not settings.configured:
        return
    from trendbot import notify

    result, stories = published.result, published.digest.stories
    if published.failed:
        reason = "every source failed" if published.digest.all_failed else result.message
        notify.send(settings, config.settings.http, notify.failed(day, reason))
    elif result.path is not None and notify.first_written(result.status, had, len(stories), result.how):
        where = posts.display_path(result.path)
        blog = config.settings.blog
        if result.status == "written" and blog.repo:
            where = os.path.relpath(result.path, posts.blog_repo(config))
        page = notify.page_url(blog.url, where) if result.status == "written" else None
        notify.send(settings, config.settings.http,
                    notify.published(day, where, len(stories), [story.lead.title for story in stories], page))
