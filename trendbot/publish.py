"""Publishing: the day's section goes into the person's Jekyll post, and nothing else changes.

The steps of one publication, each owned by its module: which post and which heading
(`trendbot/posts.py`), where the block goes in the post's text and how an edited block is
merged (`trendbot/sections.py`, pure), writing the file atomically (`trendbot/files.py`), and the
commit of trendbot's own change (`trendbot/commit.py`, with git in `trendbot/gitops.py`).
`publish_section` takes the section's text and knows nothing of how it was made; what it returns
to remember (`PublishResult.record`) the caller stores. A post reached through a symbolic link,
or outside the blog repository, is never read or written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable, Mapping

from trendbot.blockmerge import report
from trendbot.commit import commit_own
from trendbot.config import BlogConfig, Config, display_path
from trendbot.errors import PublishError
from trendbot.files import Changed, read_text, snapshot, unified_diff, write_atomic
from trendbot.models import Publication
from trendbot.posts import (
    Slot,
    block_key,
    blog_repo,
    digest_path,
    front_matter_text,
    record_path,
    refusal,
    target,
    week_start,
)
from trendbot.sections import DeletedBlock, EditedBlock, OwnSection, block_hash, place_section


@dataclass
class PublishResult:
    """What publishing a day did. `status` is one of written, unchanged, conflict (the post left as
    it is, the section in digests/), own-section, deleted (the person deleted the block), dry-run,
    digest, quiet."""

    status: str
    path: Path | None
    message: str
    diff: str = ""
    stories: int = 0
    committed: str | None = None  # the blog commit's id when one was made
    record: Publication | None = None  # what to remember of this publication (none for a dry run)
    how: str = "inserted"  # the block inserted, or found and "replaced", "merged", "kept"
    failed: bool = False  # a step failed (the post refused, the commit or the push): exit 1


def publish_section(config: Config, slot: Slot, section: str, stories: int, previous: Publication | None,
                    now: datetime, *, bases_of: Callable[[str], Mapping[str, str]] | None = None,
                    remember: Callable[[str, str], None] | None = None, dry_run: bool = False,
                    force: bool = False, commit: bool | None = None, tries: int = 3) -> PublishResult:
    """A day's section or a week's roll-up into its blog post when `[blog] repo` is set, else
    to digests/. `previous` is the store's record of the last publication there; `bases_of(key)`
    gives the texts trendbot wrote into a block before, by the hash its begin marker names them
    with (the base of the merge). `remember(hash, text)` keeps trendbot's new text before the post
    is replaced, so that the post never names a text the store does not have. The result
    carries the record to keep (`record`); `dry_run` writes nothing and returns the diff."""
    blog = config.settings.blog
    where = target(config, slot.first_day)
    if not where.in_blog:
        return publish_digest(config, slot.key, now, section, stories, dry_run)
    repo = blog_repo(config)
    post, exists = where.path, where.exists
    shown, name = display_path(post), os.path.relpath(post, repo)
    if reason := refusal(repo, post):
        return refuse_link(config, slot, post, reason, section, stories, dry_run)
    fallback = digest_path(config, slot.key)

    def refuse(status: str, reason: str, diff: str = "", then: str = "") -> PublishResult:
        """The post left as it is, the section in digests/D.md instead."""
        verb = "would write" if dry_run else "wrote"
        if not dry_run:
            write_atomic(fallback, section)
        return PublishResult(status, post, f"{reason} and {verb} {display_path(fallback)}{then}", diff, stories)

    if not exists and not blog.create:
        return refuse("conflict", f"{shown}: there is no post for {slot.first_day} and [blog] create = false: made none")
    seen = snapshot(post) if exists else None
    old = read_text(post, repo) if exists else ""
    if exists and not post.stat().st_mode & 0o222:
        return refuse("conflict", f"{shown}: the post is read-only (its mode says so); left it as it is")
    start = old if exists else front_matter_text(blog, slot.first_day)
    place = dict(heading=slot.heading, days=slot.days, ends=slot.ends, position=slot.position or blog.position,
                 bases=bases_of(block_key(slot.key)) if bases_of else None, was_published=previous is not None)
    try:
        placed = place_section(start, slot.key, section, **place, force=force)
    except OwnSection as own:
        return refuse("own-section", f"{shown}: {own}; left it as it is")
    except DeletedBlock as deleted:
        return PublishResult("deleted", post, f"{shown}: {deleted}", "", stories)
    except EditedBlock as edited:
        forced = ""
        if edited.forceable and dry_run:
            forced = unified_diff(old, place_section(start, slot.key, section, **place, force=True).text, name, exists)
        return refuse("conflict", f"{shown}: {edited.reason}; left it as it is", forced,
                      " (--force overwrites it)" if edited.forceable else "")
    record = Publication(slot.first_day, record_path(post, slot), block_hash(placed.body), now)
    merged = f" ({report(placed.merged)})" if placed.merged and placed.merged.edited else ""
    if dry_run:
        diff = unified_diff(old, placed.text, name, exists)
        message = f"{shown}: would {'update' if exists else 'create'} {slot.what}{merged}" if diff else \
            f"{shown}: {slot.what} is already up to date{merged}"
        return PublishResult("dry-run", post, message, diff, stories)
    committing = blog.commit if commit is None else commit
    if exists and not placed.changed:
        result = PublishResult("unchanged", post, f"{shown}: {slot.what} is already up to date{merged}",
                               "", stories, record=record)
        return _commit(config, slot, repo, post, old, old, result, bases_of) if committing else result
    if remember is not None:
        remember(block_hash(placed.written), placed.written)
    try:
        write_atomic(post, placed.pieces, repo, expect=seen)
    except Changed:
        if tries > 1:  # saved by an editor meanwhile: merge again with what was saved
            return publish_section(config, slot, section, stories, previous, now, bases_of=bases_of, remember=remember,
                                   force=force, commit=commit, tries=tries - 1)
        return refuse("conflict", f"{shown}: changed while trendbot was writing it, three times; "
                                  "left it as you saved it")
    verb = "updated" if exists else "created"
    message = f"{shown}: {verb} with {slot.what} ({stories} stories){merged}"
    if not exists and (twin := same_week_post(post, blog, slot)):
        message += (f"; note: {display_path(twin)} already holds this week's days: a typo in [blog] post? "
                    f"(this run made a second post for the week)")
    result = PublishResult("written", post, message, "", stories, record=record, how=placed.how)
    return (_commit(config, slot, repo, post, old if exists else None, placed.text, result, bases_of)
            if committing else result)


def _commit(config: Config, slot: Slot, repo: Path, post: Path, before: str | None, after: str,
            result: PublishResult, bases_of: Callable[[str], Mapping[str, str]] | None) -> PublishResult:
    outcome = commit_own(config, slot, repo, post, before, after, bases_of)
    result.message += outcome.note
    result.committed, result.failed = outcome.committed, outcome.failed
    return result


def same_week_post(post: Path, blog: BlogConfig, slot: Slot) -> Path | None:
    """Another post in the new post's folder that is already this week's: named by one of the
    week's dates, or holding the day's heading."""
    if not blog.day_heading:
        return None  # a post a day: another post of the day may well be the person's own
    start = week_start(blog, slot.first_day)
    dates = {(start + timedelta(days=n)).isoformat() for n in range(7)}
    heading = f"\n{slot.heading.strip()}\n" if slot.heading else None
    for other in sorted(post.parent.glob("*.md")):
        if other == post or not other.is_file():
            continue
        if any(other.name.startswith(day) for day in dates):
            return other
        try:
            if heading and heading in "\n" + read_text(other, post.parent).replace("\r\n", "\n"):
                return other
        except PublishError:
            continue  # a link or an unreadable file is nobody's week
    return None


def refuse_link(config: Config, slot: Slot, post: Path, reason: str, section: str, stories: int,
                dry_run: bool) -> PublishResult:
    """A post trendbot must not read or write (a symbolic link, outside the repository): left
    alone, nothing followed or committed; the section goes to digests/ and the step failed."""
    fallback = digest_path(config, slot.key)
    if not dry_run:
        write_atomic(fallback, section)
    verb = "would write" if dry_run else "wrote"
    return PublishResult("refused", post, f"{reason}: left it alone and {verb} {display_path(fallback)}",
                         "", stories, failed=True)


def publish_digest(config: Config, key: date | str, now: datetime, markdown: str, stories: int,
                   dry_run: bool) -> PublishResult:
    """No blog configured (or nothing to put in a post): the section is digests/D.md."""
    path = digest_path(config, key)
    shown = display_path(path)
    old = read_text(path) if path.is_file() else ""
    diff = unified_diff(old, markdown, shown)
    what = block_key(key)
    if dry_run:
        return PublishResult("dry-run", path, f"{shown}: would write the {what} section" if diff
                             else f"{shown}: already up to date", diff, stories)
    write_atomic(path, markdown)
    record = Publication(key, str(path.resolve()), block_hash(markdown), now) if isinstance(key, date) else None
    return PublishResult("digest", path, f"wrote {shown} ({stories} stories)", diff, stories, record=record)
