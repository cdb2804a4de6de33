"""Where things are in a post's markdown: headings, a day's part of the post, trendbot's blocks.

Pure text in, text out. trendbot owns one block per day, between two marker comments (HTML
comments, which kramdown passes through and browsers do not show):

    <!-- trendbot:begin 2026-11-20 sha256:<hash of the text trendbot wrote> -->

    ### 데일리 트렌드
    ...
    <!-- trendbot:end 2026-11-20 -->

Writing a block changes that block and not one byte around it (front matter, the person's other
sections, CRLF line endings). A block the person edited is merged with trendbot's update
(`trendbot/blockmerge.py`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from trendbot.blockmerge import Merged, Unmergeable, merge_block
from trendbot.errors import PublishError
from trendbot.posts import block_key

HEADING_SEARCH_DAYS = 45  # how far from the day an existing day heading is looked for

# a block's key: the day (2026-11-20), or the week it rolls up (week-2026-11-14)
_BEGIN = re.compile(r"<!-- trendbot:begin ((?:week-)?\d{4}-\d{2}-\d{2}) sha256:([0-9a-f]{64}) -->[ \t]*")
_END = re.compile(r"<!-- trendbot:end ((?:week-)?\d{4}-\d{2}-\d{2}) -->[ \t]*")
_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


class EditedBlock(Exception):
    """The day's block is no longer what trendbot wrote; `forceable` if --force may replace it."""

    def __init__(self, reason: str, forceable: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.forceable = forceable


# -- the block ---------------------------------------------------------------------------------

def block_hash(body: str) -> str:
    """Hash of a block's text, blind to line endings and trailing spaces an editor may change."""
    lines = [line.rstrip() for line in re.split(r"\r?\n", body)]
    return hashlib.sha256("\n".join(lines).strip("\n").encode("utf-8")).hexdigest()


def block_body(section: str) -> str:
    # Blank lines inside the markers keep each comment a block of its own for kramdown
    # (without them the end marker is glued into the last paragraph).
    return "\n" + section.strip("\n") + "\n\n"


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
