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
from datetime import date, datetime
from pathlib import Path

from trendbot.blockmerge import report
from trendbot.commit import commit_own
from trendbot.config import Config, display_path
from trendbot.errors import PublishError
from trendbot.files import read_text, unified_diff, write_atomic
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
)
from trendbot.sections import (
    EditedBlock,
    OwnSection,
    block_body,
    block_hash,
    place_section,
)


@dataclass
class PublishResult:
    """What publishing a day did. `status` is one of written, unchanged, conflict, dry-run, digest."""

    status: str
    path: Path | None
    message: str
    diff: str = ""
    stories: int = 0
    committed: str | None = None  # the blog commit's id when one was made
    record: Publication | None = None  # what to remember of this publication (none for a dry run)
    failed: bool = False  # a step failed (the post refused, the commit or the push): exit 1


def publish_section(config: Config, slot: Slot, section: str, stories: int, previous: Publication | None,
                    now: datetime, *, dry_run: bool = False, force: bool = False,
                    commit: bool | None = None) -> PublishResult:
    """A day's section or a week's roll-up into its blog post when `[blog] repo` is set, else
    to digests/; `previous` is the store's record of the last publication there (with the base
    of the merge). The result carries the record to keep (`record`); `dry_run` writes nothing
    and returns the diff."""
    blog = config.settings.blog
    where = target(config, slot.first_day)
    if not where.in_blog:
        return publish_digest(config, slot.key, now, section, stories, dry_run)
    repo = blog_repo(config)
    post, exists = where.path, where.exists
    shown, name = display_path(post), os.path.relpath(post, repo)
    if reason := refusal(repo, post):
        return refuse(config, slot, post, reason, section, stories, dry_run)
    if not exists and not blog.create:
        raise PublishError(f"{shown}: no post for {slot.first_day} and [blog] create = false")
    old = read_text(post, repo) if exists else ""
    start = old if exists else front_matter_text(blog, slot.first_day)
    place = dict(heading=slot.heading, heading_of=slot.heading_of, position=slot.position or blog.position,
                 base=previous.base if previous else None, was_published=previous is not None)
    fallback = digest_path(config, slot.key)
    try:
        placed = place_section(start, slot.key, section, **place, force=force)
    except OwnSection as own:
        if not dry_run:
            write_atomic(fallback, section)
        verb = "would write" if dry_run else "wrote"
        return PublishResult("own-section", post, f"{shown}: {own}; left it as it is and {verb} "
                                                  f"{display_path(fallback)}", "", stories)
    except EditedBlock as edited:
        forced = ""
        if edited.forceable:
            forced = unified_diff(old, place_section(start, slot.key, section, **place, force=True).text, name, exists)
        if dry_run:
            message = f"{shown}: {edited.reason}; would leave it and write {display_path(fallback)}"
        else:
            write_atomic(fallback, section)
            message = f"{shown}: {edited.reason}; left it as it is and wrote {display_path(fallback)}"
        if edited.forceable:
            message += " (--force overwrites it)"
        return PublishResult("conflict", post, message, forced, stories)
    new = placed.text
    diff = unified_diff(old, new, name, exists)
    record = Publication(slot.first_day, record_path(post, slot), block_hash(placed.body), now, base=block_body(section))
    merged = f" ({report(placed.merged)})" if placed.merged and placed.merged.edited else ""
    if dry_run:
        message = f"{shown}: would {'update' if exists else 'create'} {slot.what}{merged}" if diff else \
            f"{shown}: {slot.what} is already up to date"
        return PublishResult("dry-run", post, message, diff, stories)
    committing = blog.commit if commit is None else commit
    if exists and new == old:
        result = PublishResult("unchanged", post, f"{shown}: {slot.what} is already up to date",
                               "", stories, record=record)
    else:
        write_atomic(post, new, repo)
        verb = "updated" if exists else "created"
        result = PublishResult("written", post, f"{shown}: {verb} with {slot.what} ({stories} stories){merged}",
                               diff, stories, record=record)
    if committing:
        outcome = commit_own(config, slot, repo, post, old if exists else None, new)
        result.message += outcome.note
        result.committed, result.failed = outcome.committed, outcome.failed
    return result


def refuse(config: Config, slot: Slot, post: Path, reason: str, section: str, stories: int,
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
