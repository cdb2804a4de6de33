"""Publishing: the day's section goes into the person's Jekyll post, and nothing else changes.

The post belongs to the person. trendbot owns one block per day, between two marker comments
(HTML comments, which kramdown passes through and browsers do not show):

    <!-- trendbot:begin 2026-11-20 sha256:<hash of the text trendbot wrote> -->

    ### 데일리 트렌드
    ...
    <!-- trendbot:end 2026-11-20 -->

Re-publishing changes the text of that block and not one byte around it (front matter, the
person's other sections, CRLF line endings). The person prunes and annotates the list: once the
text in the block no longer matches the hash, trendbot's update is merged into their edits
(`trendbot/blockmerge.py`, with the base kept in the publication record); only a block that
cannot be read as lines of stories is left alone, the new version going to `digests/D.md`
(`--force` overrides). A block that trendbot published and the person then deleted is not put
back either.

`place_section` is the pure part (text in, text out); `publish_section` adds the blog's files
and git. It takes the section's text and knows nothing of how it was made; what it returns to
remember (`PublishResult.record`) the caller stores.
"""

from __future__ import annotations

import difflib
import errno
import fnmatch
import glob
import hashlib
import json
import os
import re
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from trendbot.config import BlogConfig, Config, display_path
from trendbot.blockmerge import Merged, Unmergeable, merge_block, report
from trendbot.errors import PublishError
from trendbot.pause import pause_point
from trendbot.models import Publication

HEADING_SEARCH_DAYS = 45  # how far from the day an existing day heading is looked for

# a block's key: the day (2026-11-20), or the week it rolls up (week-2026-11-14)
_BEGIN = re.compile(r"<!-- trendbot:begin ((?:week-)?\d{4}-\d{2}-\d{2}) sha256:([0-9a-f]{64}) -->[ \t]*")
_END = re.compile(r"<!-- trendbot:end ((?:week-)?\d{4}-\d{2}-\d{2}) -->[ \t]*")
_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_GLOB = re.compile(r"[*?\[]")
_BARE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


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


class EditedBlock(Exception):
    """The day's block is no longer what trendbot wrote; `forceable` if --force may replace it."""

    def __init__(self, reason: str, forceable: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.forceable = forceable


# -- the day's fields and templates ------------------------------------------------------------

def weekday_number(first: date, day: date) -> int:
    """Day N of a course that runs on weekdays: `first` is day 1, weekends are not counted."""
    days = (day - first).days + 1
    full_weeks, rest = divmod(days, 7)
    return full_weeks * 5 + sum(1 for i in range(rest) if (first.weekday() + i) % 7 < 5)


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def week_start(blog: BlogConfig, day: date) -> date:
    """The first day of `day`'s week, the week starting on `[blog] week_starts` (a person whose
    weekly post opens with the weekend has weeks from Saturday to Friday)."""
    return day - timedelta(days=(day.weekday() - WEEKDAYS.index(blog.week_starts)) % 7)


def day_fields(blog: BlogConfig, day: date) -> dict[str, Any]:
    start = week_start(blog, day)
    fields: dict[str, Any] = {"date": day, "week_start": start, "week_end": start + timedelta(days=6)}
    if blog.first_day is not None:
        first_week = week_start(blog, blog.first_day)
        if start >= first_week:
            fields["week_index"] = (start - first_week).days // 7 + 1
        if day >= blog.first_day:
            fields["day_index"] = weekday_number(blog.first_day, day)
    return fields


def fill(template: str, blog: BlogConfig, day: date) -> str:
    try:
        return template.format(**day_fields(blog, day))
    except KeyError as exc:
        raise PublishError(f'[blog] template "{template}": {{{exc.args[0]}}} is not defined for {day} '
                           f"(before first_day {blog.first_day})") from None


def day_heading(blog: BlogConfig, day: date) -> str | None:
    """The heading the day's block sits under, or None when posts have no day headings."""
    if blog.day_heading is None:
        return None
    weekend = {5: "saturday", 6: "sunday"}.get(day.weekday())
    template = blog.weekend_headings.get(weekend, blog.day_heading) if weekend else blog.day_heading
    return fill(template, blog, day)


def front_matter_text(blog: BlogConfig, day: date) -> str:
    lines = ["---"]
    for key, value in blog.front_matter.items():
        name = key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)
        lines.append(f"{name}: {yaml_value(value, blog, day)}")
    return "\n".join(lines + ["---", ""])


def yaml_value(value: Any, blog: BlogConfig, day: date) -> str:
    """A TOML value as YAML; strings double-quoted (JSON's escapes are YAML's too)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(fill(value, blog, day), ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(yaml_value(v, blog, day) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {yaml_value(v, blog, day)}"
                               for k, v in value.items()) + "}"
    return json.dumps(str(value), ensure_ascii=False)


# -- the block ---------------------------------------------------------------------------------

def block_hash(body: str) -> str:
    """Hash of a block's text, blind to line endings and trailing spaces an editor may change."""
    lines = [line.rstrip() for line in re.split(r"\r?\n", body)]
    return hashlib.sha256("\n".join(lines).strip("\n").encode("utf-8")).hexdigest()


def block_body(section: str) -> str:
    # Blank lines inside the markers keep each comment a block of its own for kramdown
    # (without them the end marker is glued into the last paragraph).
    return "\n" + section.strip("\n") + "\n\n"


def block_key(day: date | str) -> str:
    """A day's block is keyed by the day; a week's roll-up by `week-` and the week's first day."""
    return day if isinstance(day, str) else day.isoformat()


def render_block(day: date | str, body: str) -> str:
    """The block as it stands in the post: the markers around `body` (see `block_body`)."""
    key = block_key(day)
    return f"<!-- trendbot:begin {key} sha256:{block_hash(body)} -->\n{body}<!-- trendbot:end {key} -->\n"


@dataclass
class _Line:
    start: int
    end: int  # offset after the line's newline
    text: str  # without the newline and a trailing \r

    @property
    def blank(self) -> bool:
        return not self.text.strip()


def split_lines(text: str) -> list[_Line]:
    # Only \n ends a line here (str.splitlines would also split at U+2028 and friends).
    return [_Line(m.start(), m.end(), m.group().rstrip("\n").removesuffix("\r"))
            for m in re.finditer(r"[^\n]*\n|[^\n]+\Z", text)]


@dataclass
class _Block:
    day: str
    recorded: str
    begin: int  # line indexes
    end: int | None


def find_blocks(lines: list[_Line]) -> list[_Block]:
    blocks: list[_Block] = []
    open_block: _Block | None = None
    for index, line in enumerate(lines):
        if match := _BEGIN.fullmatch(line.text):
            open_block = _Block(match.group(1), match.group(2), index, None)
            blocks.append(open_block)
        elif (match := _END.fullmatch(line.text)) and open_block and open_block.day == match.group(1):
            open_block.end = index
            open_block = None
    return blocks


def parse_heading(text: str) -> tuple[int, str] | None:
    match = _ATX.fullmatch(text)
    if not match:
        return None
    return len(match.group(1)), " ".join((match.group(2) or "").split())


def heading_key(heading: str) -> tuple[int, str]:
    """(level, text) of a rendered day heading; a non-heading template is matched as a line."""
    return parse_heading(heading.strip()) or (6, " ".join(heading.split()))


def heading_lines(lines: list[_Line], blocks: list[_Block]) -> dict[int, tuple[int, str]]:
    """Line index -> (level, text) of every heading outside front matter, code fences and
    trendbot's blocks (the section title inside a block is never a day heading)."""
    inside = {i for b in blocks for i in range(b.begin, (b.end if b.end is not None else b.begin) + 1)}
    start = front_matter_end(lines)
    headings: dict[int, tuple[int, str]] = {}
    fence: str | None = None
    for index in range(start, len(lines)):
        text = lines[index].text
        if fence:
            if text.strip().startswith(fence[0] * len(fence)) and not text.strip().strip(fence[0]):
                fence = None
            continue
        if match := _FENCE.match(text):
            fence = match.group(1)
            continue
        if index not in inside and (heading := parse_heading(text)):
            headings[index] = heading
    return headings


def front_matter_end(lines: list[_Line]) -> int:
    """Index of the first line after Jekyll's front matter (0 when there is none)."""
    if not lines or lines[0].text.lstrip("\ufeff").rstrip() != "---":
        return 0
    for index in range(1, len(lines)):
        if lines[index].text.rstrip() in ("---", "..."):
            return index + 1
    return 0


@dataclass
class Placed:
    """The post's new text and how the day's block got there."""

    text: str
    how: str                    # "inserted", "replaced", "merged"
    body: str                   # the block's text as written (its hash goes in the begin marker)
    merged: Merged | None = None


class OwnSection(Exception):
    """The day already holds the person's own hand-written section with trendbot's title."""


def place_section(text: str, day: date | str, section: str, heading: str | None = None,
                  heading_of: Callable[[date], str | None] | None = None, *, position: str = "first",
                  base: str | None = None, was_published: bool = False, force: bool = False) -> Placed:
    """The post's text with the day's block written into it.

    An existing block for the day is brought up to date in place: replaced when it is still
    what trendbot wrote, else merged with the person's edits (`base` is what trendbot last
    wrote there, see trendbot/blockmerge.py). A missing one goes directly under the day's
    heading (`position = "first"`) or at the end of the day's section (`"last"`), the heading
    itself created in date order among the other day headings (`heading_of(d)` names the
    heading of day d) if absent; without day headings, the post is the day's section. Raises
    `OwnSection` when that section already has the person's own section with the same title,
    and `EditedBlock` when the block cannot be read or was removed by hand, unless `force`.
    """
    newline = "\r\n" if "\r\n" in text else "\n"
    body = block_body(section)
    lines = split_lines(text)
    blocks = find_blocks(lines)
    mine = [b for b in blocks if b.day == block_key(day)]
    if len(mine) > 1:
        raise EditedBlock(f"the post holds {len(mine)} blocks for {day}; keep one", forceable=False)
    if mine:
        return update_block(text, lines, mine[0], day, body, base, force, newline)
    if was_published and not force:
        raise EditedBlock(f"the {day} block was removed by hand since trendbot wrote it")
    block = render_block(day, body).replace("\n", newline)
    headings = heading_lines(lines, blocks)
    title = heading_key(section.strip().splitlines()[0].split(" {#")[0]) if section.strip() else None
    if heading is None:
        start, stop = front_matter_end(lines), len(lines)
        check_own_section(headings, start, stop, title, day)
        at = start if position == "first" else stop
        return Placed(insert_at(text, lines, at, block, newline), "inserted", body)
    key = heading_key(heading)
    for index, found_heading in headings.items():
        if found_heading == key:
            stop = section_end(headings, index, len(lines))
            check_own_section(headings, index + 1, stop, title, day)
            at = index + 1 if position == "first" else stop
            return Placed(insert_at(text, lines, at, block, newline), "inserted", body)
    content = heading.strip() + newline + newline + block
    earlier, later = neighbours(headings, key[0], day, heading_of)
    if earlier is not None:
        at = section_end(headings, earlier, len(lines))
    else:
        at = later if later is not None else len(lines)
    return Placed(insert_at(text, lines, at, content, newline), "inserted", body)


def update_block(text: str, lines: list[_Line], found: _Block, day: date | str, body: str, base: str | None,
                 force: bool, newline: str) -> Placed:
    """The day's existing block replaced (still trendbot's, or `force`) or merged."""
    if found.end is None:
        raise EditedBlock(f"the end marker of the {day} block is missing", forceable=False)
    begin, end = lines[found.begin], lines[found.end]
    current = text[begin.end:end.start].replace("\r\n", "\n")
    untouched = block_hash(current) == found.recorded
    merged = None
    if force:
        how = "replaced"
    elif base is None and untouched:
        how = "replaced"  # no record of trendbot's last text, but the block is exactly that text
    elif base is None:
        raise EditedBlock(f"the {day} block was edited by hand and the database has no record of what "
                          f"trendbot wrote there to merge with")
    else:
        try:
            merged = merge_block(base, current, body)
        except Unmergeable as exc:
            raise EditedBlock(f"the {day} block cannot be merged: {exc.reason}") from None
        body, how = merged.text, "merged"
    block = render_block(day, body).replace("\n", newline)
    if end.end == len(text) and not text.endswith("\n"):
        block = block.removesuffix(newline)
    return Placed(text[:begin.start] + block + text[end.end:], how, body, merged)


def check_own_section(headings: dict[int, tuple[int, str]], start: int, stop: int,
                      title: tuple[int, str] | None, day: date | str) -> None:
    if title is not None and any(start <= index < stop and found == title for index, found in headings.items()):
        raise OwnSection(f"the {day} section already has your own {'#' * title[0]} {title[1]}")


def section_end(headings: dict[int, tuple[int, str]], index: int, count: int) -> int:
    """Index of the line that ends the section of the heading at `index`."""
    level = headings[index][0]
    return min((i for i, (lvl, _) in headings.items() if i > index and lvl <= level), default=count)


def neighbours(headings: dict[int, tuple[int, str]], level: int, day: date,
               heading_of: Callable[[date], str | None] | None) -> tuple[int | None, int | None]:
    """Line indexes of the nearest day heading before the day and after it, in the post."""
    if heading_of is None:
        return None, None
    dates: dict[tuple[int, str], date] = {}
    for offset in sorted(range(-HEADING_SEARCH_DAYS, HEADING_SEARCH_DAYS + 1), key=abs):
        other = day + timedelta(days=offset)
        try:
            name = heading_of(other)
        except PublishError:
            continue  # e.g. before first_day
        if name and offset:
            dates.setdefault(heading_key(name), other)  # "## 토요일" recurs: the nearest one wins
    earlier = later = None
    for index, found in sorted(headings.items()):
        if found[0] != level or found not in dates:
            continue
        if dates[found] < day:
            earlier = index
        elif later is None:
            later = index
    return earlier, later


def insert_at(text: str, lines: list[_Line], before: int, content: str, newline: str) -> str:
    """Insert `content` after the last non-blank line before line `before`, blank-line separated."""
    last = next((i for i in range(before - 1, -1, -1) if not lines[i].blank), None)
    offset = lines[last].end if last is not None else 0
    prefix = ""
    if last is not None:
        if not text[:offset].endswith("\n"):
            prefix = newline
        prefix += newline
    following = last + 1 if last is not None else 0
    suffix = newline if following < len(lines) and not lines[following].blank else ""
    return text[:offset] + prefix + content + suffix + text[offset:]


# -- files, git and the store -------------------------------------------------------------------

def digest_path(config: Config, day: date | str) -> Path:
    """digests/D.md for a day, digests/week-D.md for a week's roll-up."""
    return config.digests_dir / f"{block_key(day)}.md"


def blog_repo(config: Config) -> Path:
    blog = config.settings.blog
    assert blog.repo is not None
    repo = config.resolve(blog.repo)
    if not repo.is_dir():
        raise PublishError(f"{display_path(repo)}: [blog] repo is not a folder")
    return repo


def find_post(config: Config, day: date) -> tuple[Path, bool]:
    """The day's post and whether it exists; a glob must match at most one file."""
    blog = config.settings.blog
    repo = blog_repo(config)
    pattern = fill(blog.post, blog, day)
    if not _GLOB.search(pattern):
        path = repo / pattern
        return path, path.is_file()
    matches = sorted(path for path in repo.glob(pattern) if path.is_file())
    if len(matches) > 1:
        names = ", ".join(display_path(path) for path in matches)
        raise PublishError(f'{display_path(repo)}: [blog] post "{pattern}" matches several posts: {names}')
    if matches:
        return matches[0], True
    new = fill(blog.new_post, blog, day) if blog.new_post else pattern
    if not fnmatch.fnmatchcase(new, pattern):
        raise PublishError(f'[blog] new_post "{new}" does not match post "{pattern}": '
                           "the next run would not find the post it created")
    return repo / new, False


def read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PublishError(f"{display_path(path)}: cannot read: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PublishError(f"{display_path(path)}: not UTF-8 (byte {exc.start}); left as it is") from None


def remove_stale_temporaries(path: Path) -> None:
    """Delete the temporary files a killed trendbot left beside `path` (`.NAME.PID.*.tmp` whose
    process is gone); a live process's file is left to it."""
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = leftover.name[len(path.name) + 2:].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            leftover.unlink(missing_ok=True)
        except OSError:
            pass


def write_atomic(path: Path, text: str) -> None:
    """Temporary file in the same folder, fsync, rename: a reader sees the old or the new file.
    A failure (a full disk, a read-only folder) leaves the old file and says which file."""
    try:
        _write_atomic(path, text)
    except OSError as exc:
        reason = "no space left on the device" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise PublishError(f"{display_path(path)}: not written ({reason}); the file is as it was") from None


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    try:
        info = path.stat()
        mode = info.st_mode & 0o7777
    except FileNotFoundError:
        info = None
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    if info is not None and not stat.S_ISREG(info.st_mode):
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "it is a folder")
        # a device or a pipe (`--out /dev/stdout`, a FIFO): written to, never replaced by a file
        with open(path, "wb") as handle:
            handle.write(data)
        return
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data[: len(data) // 2])
            handle.flush()
            pause_point("tmp-partial")
            handle.write(data[len(data) // 2:])
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        pause_point("tmp-written")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    pause_point("renamed")
    try:
        folder = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(folder)
    except OSError:
        pass
    finally:
        os.close(folder)


def unified_diff(old: str, new: str, name: str, exists: bool = True) -> str:
    """A diff `git apply` takes from the blog repository's folder: paths `a/NAME` and `b/NAME`
    relative to it, `/dev/null` for a post that does not exist yet."""
    def lines(text: str) -> list[str]:
        return re.findall(r"[^\n]*\n|[^\n]+\Z", text)

    out = []
    for line in difflib.unified_diff(lines(old), lines(new), f"a/{name}" if exists else "/dev/null", f"b/{name}"):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PublishError(f"{display_path(repo)}: git {args[0]} failed: {exc}") from None
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()
        raise PublishError(f"{display_path(repo)}: git {args[0]} failed: {reason[-1] if reason else done.returncode}")
    return done.stdout


def git_changes(repo: Path, post: Path) -> str:
    """What git says of the post that is not committed ("" when it is as committed, or when the
    folder is no git repository)."""
    try:
        return git(repo, "status", "--porcelain", "--", os.path.relpath(post, repo)).strip()
    except PublishError:
        return ""


def commit_post(repo: Path, post: Path, message: str) -> str | None:
    """Commit the post alone (the person's other staged work stays staged); its id, or None
    when git sees no change in the post."""
    relative = os.path.relpath(post, repo)
    if not git_changes(repo, post):
        return None
    git(repo, "add", "--", relative)
    git(repo, "commit", "--quiet", "-m", message, "--", relative)
    return git(repo, "rev-parse", "--short", "HEAD").strip()


@dataclass
class Target:
    """Where a day's section goes: the blog post (found or to be created), else digests/D.md."""

    path: Path
    exists: bool
    in_blog: bool


def target(config: Config, day: date) -> Target:
    if config.settings.blog.repo is None:
        path = digest_path(config, day)
        return Target(path, path.is_file(), False)
    post, exists = find_post(config, day)
    return Target(post, exists, True)


@dataclass
class Slot:
    """Where a section goes in a post: its block's key (a day, or a week), the heading it sits
    under, and how to find the other day headings around it."""

    key: date | str
    first_day: date                      # the day whose fields fill the templates
    heading: str | None
    heading_of: Callable[[date], str | None] | None = None
    what: str = ""                       # "the 2026-11-20 section", for messages
    position: str | None = None          # else `[blog] position`

    def __post_init__(self) -> None:
        self.what = self.what or f"the {block_key(self.key)} section"


def day_slot(blog: BlogConfig, day: date) -> Slot:
    return Slot(day, day, day_heading(blog, day), lambda d: day_heading(blog, d))


def week_slot(blog: BlogConfig, start: date) -> Slot:
    """A week's roll-up: under `[blog] week_heading` (created at the end of the post when it is
    missing), or at the end of the post without one."""
    heading = fill(blog.week_heading, blog, start) if blog.week_heading else None
    return Slot(f"week-{start.isoformat()}", start, heading, None, f"the roll-up of the week of {start}",
                position=None if heading else "last")


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
    if not exists and not blog.create:
        raise PublishError(f"{shown}: no post for {slot.first_day} and [blog] create = false")
    old = read_text(post) if exists else ""
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
    if exists and new == old:
        return PublishResult("unchanged", post, f"{shown}: {slot.what} is already up to date",
                             "", stories, record=record)
    theirs = exists and bool(git_changes(repo, post))  # the person's edits not yet committed
    write_atomic(post, new)
    verb = "updated" if exists else "created"
    message = f"{shown}: {verb} with {slot.what} ({stories} stories){merged}"
    committed = None
    if blog.commit if commit is None else commit:
        if theirs:
            message += "; not committed: the post has changes of yours that are not committed (commit them, then publish again)"
        else:
            committed = commit_post(repo, post, fill(blog.commit_message, blog, slot.first_day))
            if committed:
                message += f", committed {committed}"
    return PublishResult("written", post, message, diff, stories, committed, record=record)


def record_path(post: Path, slot: Slot) -> str:
    """The post's path as the publications table keeps it; a week's roll-up is recorded apart
    from the day it starts on (the same post holds both blocks)."""
    return str(post.resolve()) + ("#week" if isinstance(slot.key, str) else "")


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
