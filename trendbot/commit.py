"""Whether and what trendbot commits into the person's blog repository after writing a post.

Only trendbot's own change is ever committed. trendbot tells its own change from the person's
without remembering anything: the post as committed (`HEAD`), with every block of trendbot's in
the post written into it again the way trendbot writes one, must give the post exactly. A block
that still hashes to its begin marker is trendbot's text; any other difference (a line of the
person's, an edited block, a deleted one) is the person's, and then nothing is committed. So a
write an earlier run could not commit (a failing hook, a lock, no `user.name`, a merge in
progress) is trendbot's, not "changes of yours", and is committed by the next publish once git
works again. trendbot never stages into a merge, a rebase or a cherry-pick in progress, and
commits only on a branch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Mapping

from trendbot.blockmerge import Unmergeable, merge_block
from trendbot.config import Config, display_path
from trendbot.errors import PublishError
from trendbot.files import read_text
from trendbot.gitops import Git
from trendbot.posts import Slot, block_key, day_slot, fill, front_matter_text, week_slot
from trendbot.sections import (
    EditedBlock,
    OwnSection,
    block_hash,
    find_blocks,
    place_section,
    split_lines,
)


@dataclass
class Outcome:
    """What the commit step adds to a publication's line, and whether it failed (exit 1)."""

    note: str = ""
    committed: str | None = None
    failed: bool = False


def commit_own(config: Config, slot: Slot, repo: Path, post: Path, before: str | None, after: str,
               bases_of: Callable[[str], Mapping[str, str]] | None = None) -> Outcome:
    """Commit the post when its difference from HEAD is trendbot's alone; `before` is the post as
    it was when trendbot read it (None when it did not exist), `after` as it is now."""
    blog = config.settings.blog
    git = Git(repo, blog.git_timeout)
    shown, name = display_path(repo), os.path.relpath(post, repo)
    try:
        if git.git_dir() is None:
            return Outcome(f"; not committed: {shown} is not a git repository", failed=True)
        head, staged = (text_of(blob) for blob in git.versions(name))
        if after == head or (before == after and head is not None and committed_block(slot, head, after)):
            return Outcome()  # nothing of trendbot's to commit (what differs, if anything, is yours)
        if busy := git.in_progress():
            return Outcome(f"; not committed: {busy} is in progress in {shown}, and trendbot does not stage into "
                           "it (the next publish commits the post once it is finished)")
        branch = git.branch()
        if branch is None:
            return Outcome(f"; not committed: HEAD is detached in {shown} and trendbot commits only on a branch "
                           "(check one out, then publish again)", failed=True)
        if not own_change(config, slot, head, staged, before, after, bases_of):
            return Outcome("; not committed: the post has changes of yours that are not committed "
                           "(commit them, then publish again)")
        if read_text(post, repo) != after:
            return Outcome("; not committed: the post changed while trendbot was publishing (yours: commit it, "
                           "then publish again)")
        committed = git.commit(name, fill(blog.commit_message, blog, slot.first_day))
    except PublishError as exc:
        return Outcome(f"; not committed: {exc} (nothing of it is staged; the next publish commits it)", failed=True)
    outcome = Outcome(f", committed {committed}" if before != after else
                      f"; committed {committed}, trendbot's change that an earlier run could not commit", committed)
    if blog.push:
        try:
            outcome.note += f", pushed to {git.push(branch)}"
        except PublishError as exc:
            outcome.note += f"; not pushed: {exc} (the commit is kept in {shown})"
            outcome.failed = True
    return outcome


def text_of(blob: bytes | None) -> str | None:
    return None if blob is None else blob.decode("utf-8", "replace")


def committed_block(slot: Slot, head: str, text: str) -> bool:
    """Whether the slot's block in `text` is in HEAD as it is."""
    lines = split_lines(text)
    mine = [b for b in find_blocks(lines) if b.day == block_key(slot.key) and b.end is not None]
    return bool(mine) and text[lines[mine[0].begin].start:lines[mine[0].end].end] in head


def own_change(config: Config, slot: Slot, head: str | None, staged: str | None, before: str | None,
               after: str, bases_of: Callable[[str], Mapping[str, str]] | None = None) -> bool:
    """Whether all that differs between HEAD and the post is trendbot's: the post as trendbot
    found it is HEAD with trendbot's blocks written in (or the post trendbot created), and the
    index holds nothing of the person's for it."""
    if staged not in (head, before, after):
        return False
    if before is None:
        return head is None  # created now; a post you deleted and did not commit is yours
    if head is not None:
        return rewritten(config, slot, head, before, bases_of) == before
    # a post not in git yet that trendbot created: its front matter, then its blocks
    keys = {block.day for block in find_blocks(split_lines(before))} | {block_key(slot.key)}
    return any(rewritten(config, slot, front_matter_text(config.settings.blog, slot_of(config, key).first_day),
                         before) == before for key in keys)


def rewritten(config: Config, slot: Slot, base: str, text: str,
              bases_of: Callable[[str], Mapping[str, str]] | None = None) -> str | None:
    """`base` with every block of `text` that `base` lacks written into it as it stands in
    `text`; None when one of them is not trendbot's writing (`trendbots`) or its end marker is
    gone."""
    blog = config.settings.blog
    lines = split_lines(text)
    for block in find_blocks(lines):
        if block.end is None:
            return None
        whole = text[lines[block.begin].start:lines[block.end].end]
        if whole in base:
            continue
        body = text[lines[block.begin].end:lines[block.end].start].replace("\r\n", "\n")
        old = _block_in(base, block.day)
        if not trendbots(block, body, old, bases_of):
            return None
        if old is not None:
            base = base[:old[0]] + whole + base[old[1]:]
            continue
        where = slot if block_key(slot.key) == block.day else slot_of(config, block.day)
        try:
            placed = place_section(base, where.key, body, where.heading, where.days, where.ends,
                                   position=where.position or blog.position, force=True)
        except (EditedBlock, OwnSection):
            return None
        base = placed.source[:placed.start] + placed.insert.replace(_block_in_text(placed.insert), whole, 1) \
            + placed.source[placed.stop:]
    return base


def _block_in(text: str, key: str) -> tuple[int, int, str, str, frozenset[str] | None] | None:
    """Where the block `key` is in `text` (start, end), its body and its marker's hash and ids."""
    lines = split_lines(text)
    for block in find_blocks(lines):
        if block.day == key and block.end is not None:
            body = text[lines[block.begin].end:lines[block.end].start].replace("\r\n", "\n")
            return lines[block.begin].start, lines[block.end].end, body, block.recorded, block.listed
    return None


def _block_in_text(text: str) -> str:
    lines = split_lines(text)
    block = find_blocks(lines)[0]
    return text[lines[block.begin].start:lines[block.end].end]


def trendbots(block, body: str, old: tuple | None, bases_of: Callable[[str], Mapping[str, str]] | None) -> bool:
    """Whether trendbot wrote this block as it is: its own rendering (the marker's hash), or its
    update merged into the block as committed (`old`), with nothing else of the person's."""
    if block_hash(body) == block.recorded:
        return True
    if old is None or bases_of is None:
        return False
    bases = bases_of(block.day)
    _, _, old_body, old_hash, old_listed = old
    old_base = bases.get(old_hash, old_body if block_hash(old_body) == old_hash else None)
    rendering = bases.get(block.recorded)
    if old_base is None or rendering is None:
        return False
    try:
        return merge_block(old_base, old_body, rendering, old_listed or frozenset()).text == body
    except Unmergeable:
        return False


def slot_of(config: Config, key: str) -> Slot:
    blog = config.settings.blog
    if key.startswith("week-"):
        return week_slot(blog, date.fromisoformat(key.removeprefix("week-")))
    return day_slot(blog, date.fromisoformat(key))
