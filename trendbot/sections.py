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
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Mapping

from trendbot.blockmerge import Merged, Unmergeable, merge_block, merge_without_base, story_addresses, story_id
from trendbot.posts import block_key

# a block's key: the day (2026-11-20), or the week it rolls up (week-2026-11-14)
_BEGIN = re.compile(r"<!-- trendbot:begin ((?:week-)?\d{4}-\d{2}-\d{2}) sha256:([0-9a-f]{64})"
                    r"(?: listed:((?:[0-9a-f]{6}(?:\.[0-9a-f]{6})*)?))? -->[ \t]*")
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


def render_block(day: date | str, body: str, listed: Iterable[str] = ()) -> str:
    """The block as trendbot writes it: the markers around `body` (see `block_body`). The begin
    marker carries the hash of `body` (it vouches for trendbot's own text, never for a merge
    with the person's) and the ids of the stories the block listed or the person deleted, so
    that a merge without the database still keeps every deletion."""
    return wrap_block(day, body, block_hash(body), listed)


def wrap_block(day: date | str, text: str, written_hash: str, listed: Iterable[str]) -> str:
    """`text` between the day's markers, the begin marker naming trendbot's own text by its hash."""
    key = block_key(day)
    return (f"<!-- trendbot:begin {key} sha256:{written_hash} listed:{'.'.join(sorted(listed))} -->\n{text}"
            f"<!-- trendbot:end {key} -->\n")


class _Line:
    """One line of the post, read off the text when asked (a 50 MB post has a million lines)."""

    __slots__ = ("start", "end", "_source")

    def __init__(self, start: int, end: int, source: str):
        self.start, self.end, self._source = start, end, source  # end: offset after the newline

    @property
    def text(self) -> str:
        """The line without its newline and a trailing \\r."""
        return self._source[self.start:self.end].rstrip("\n").removesuffix("\r")

    @property
    def blank(self) -> bool:
        return not self.text.strip()


class _Lines(Sequence):
    """The post's lines as their offsets: eight bytes a line, the line itself made when used."""

    def __init__(self, text: str):
        self.text = text
        starts = array("q", [0])
        at = text.find("\n")
        while at != -1:
            starts.append(at + 1)
            at = text.find("\n", at + 1)
        if starts[-1] != len(text):
            starts.append(len(text))
        self._starts = starts

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return _Line(self._starts[index], self._starts[index + 1], self.text)


def split_lines(text: str) -> _Lines:
    # Only \n ends a line here (str.splitlines would also split at U+2028 and friends).
    return _Lines(text)


@dataclass
class _Block:
    day: str
    recorded: str  # the hash of trendbot's own text, from the begin marker
    begin: int  # line indexes
    end: int | None
    listed: frozenset[str] | None = None  # None: a marker written before markers listed stories


def find_blocks(lines: _Lines) -> list[_Block]:
    blocks: list[_Block] = []
    open_block: _Block | None = None
    for index, line in enumerate(lines):
        if match := _BEGIN.fullmatch(line.text):
            listed = None if match.group(3) is None else frozenset(filter(None, match.group(3).split(".")))
            open_block = _Block(match.group(1), match.group(2), index, None, listed)
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


def heading_lines(lines: _Lines, blocks: list[_Block]) -> dict[int, tuple[int, str]]:
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


def front_matter_end(lines: _Lines) -> int:
    """Index of the first line after Jekyll's front matter (0 when there is none)."""
    if not lines or lines[0].text.lstrip("\ufeff").rstrip() != "---":
        return 0
    for index in range(1, len(lines)):
        if lines[index].text.rstrip() in ("---", "..."):
            return index + 1
    return 0


@dataclass
class Placed:
    """The post's new text, as the old one with `source[start:stop]` replaced by `insert` (a
    large post is written in pieces, never copied whole), and how the day's block got there."""

    source: str
    start: int
    stop: int
    insert: str
    how: str                    # "inserted", "replaced", "merged", "kept" (merged without a base)
    body: str                   # the block's text as it now stands in the post
    written: str = ""           # trendbot's own rendering of it (its hash goes in the begin marker)
    merged: Merged | None = None

    @property
    def changed(self) -> bool:
        return self.source[self.start:self.stop] != self.insert

    @property
    def pieces(self) -> tuple[tuple[str, int, int], str, tuple[str, int, int]]:
        """The new text as spans of the old one around the insert (see trendbot/files.py)."""
        return (self.source, 0, self.start), self.insert, (self.source, self.stop, len(self.source))

    @property
    def text(self) -> str:
        return self.source[:self.start] + self.insert + self.source[self.stop:]


class OwnSection(Exception):
    """The day already holds the person's own hand-written section with trendbot's title."""


class DeletedBlock(Exception):
    """The person deleted the day's block since trendbot wrote it: it stays deleted."""


def place_section(text: str, day: date | str, section: str, heading: str | None = None,
                  days: Mapping[str, date] | None = None, ends: Iterable[str] = (), *,
                  position: str = "first", bases: Mapping[str, str] | None = None, was_published: bool = False,
                  force: bool = False) -> Placed:
    """The post's text with the day's block written into it.

    An existing block for the day is brought up to date in place: replaced when it is still
    what trendbot wrote, else merged with the person's edits (`bases` maps a begin marker's
    hash to the text trendbot wrote with it, see trendbot/blockmerge.py). A missing one goes
    directly under the day's heading (`position = "first"`) or at the end of the day's part of
    the post (`"last"`), the heading itself created after the whole previous day if absent
    (`new_heading_at`: `days` maps the day headings near the day to their dates, `ends` are the
    week's headings). Without a heading the post is the day's section. Raises `OwnSection` when
    the day already has the person's own section with the same title, `DeletedBlock` when the
    person deleted the block trendbot published (unless `force`), and `EditedBlock` when the
    block cannot be read.
    """
    newline = "\r\n" if "\r\n" in text else "\n"
    body = block_body(section)
    lines = split_lines(text)
    blocks = find_blocks(lines)
    mine = [b for b in blocks if b.day == block_key(day)]
    if len(mine) > 1:
        raise EditedBlock(f"the post holds {len(mine)} blocks for {day}; keep one", forceable=False)
    if mine:
        return update_block(text, lines, mine[0], day, body, bases or {}, force, newline)
    if was_published and not force:
        raise DeletedBlock(f"you deleted the {day} block; it stays deleted (--force writes it back)")
    block = render_block(day, body, listed_ids(frozenset(), "", body)).replace("\n", newline)
    headings = heading_lines(lines, blocks)
    title = heading_key(section.strip().splitlines()[0].split(" {#")[0]) if section.strip() else None
    dates = {heading_key(name): when for name, when in (days or {}).items()}
    bounds = set(dates) | {heading_key(name) for name in ends}
    if heading is None:
        start, stop = front_matter_end(lines), len(lines)
        check_own_section(headings, start, stop, title, day)
        at = start if position == "first" else stop
        return Placed(text, *insert_at(text, lines, at, block, newline), "inserted", body, body)
    key = heading_key(heading)
    for index, found_heading in headings.items():
        if found_heading == key:
            stop = day_end(headings, index, len(lines), bounds)
            check_own_section(headings, index + 1, stop, title, day)
            at = index + 1 if position == "first" else stop
            return Placed(text, *insert_at(text, lines, at, block, newline), "inserted", body, body)
    content = heading.strip() + newline + newline + block
    at = new_heading_at(headings, len(lines), day, dates, bounds) if isinstance(day, date) else len(lines)
    return Placed(text, *insert_at(text, lines, at, content, newline), "inserted", body, body)


def listed_ids(listed: frozenset[str], mine: str, result: str, base: str = "") -> frozenset[str]:
    """What the begin marker lists after a write: the stories now in the block, and those the
    person has deleted (listed before, or in trendbot's last text, and not in their block)."""
    gone = (listed | {story_id(a) for a in story_addresses(base)}) - {story_id(a) for a in story_addresses(mine)}
    return frozenset(story_id(a) for a in story_addresses(result)) | gone


def update_block(text: str, lines: _Lines, found: _Block, day: date | str, body: str,
                 bases: Mapping[str, str], force: bool, newline: str) -> Placed:
    """The day's existing block replaced (still trendbot's own text, or `force`) or merged: with
    the text trendbot last wrote when it is known by the marker's hash, else conservatively."""
    if found.end is None:
        raise EditedBlock(f"the end marker of the {day} block is missing", forceable=False)
    begin, end = lines[found.begin], lines[found.end]
    current = text[begin.end:end.start].replace("\r\n", "\n")
    listed = found.listed if found.listed is not None else frozenset()
    merged = None
    base = ""
    if force:
        how, result, listed = "replaced", body, frozenset()
    elif block_hash(current) == found.recorded:
        # the block is exactly what trendbot wrote: the update, less the stories deleted before
        how, result = "replaced", merge_block(current, current, body, listed).text if listed else body
    else:
        base = bases.get(found.recorded)
        try:
            if base is not None:
                merged = merge_block(base, current, body, listed)
                how = "merged"
            else:
                merged = merge_without_base(current, body, found.listed)
                how, base = "kept", ""
        except Unmergeable as exc:
            raise EditedBlock(f"the {day} block cannot be merged: {exc.reason}") from None
        result = merged.text
    if found.listed is None and not force and merged is not None and merged.without_base:
        listed = frozenset(story_id(a) for a in story_addresses(body))  # whatever was missing stays out
    block = wrap_block(day, result, block_hash(body), listed_ids(listed, current, result, base)).replace("\n", newline)
    if end.end == len(text) and not text.endswith("\n"):
        block = block.removesuffix(newline)
    if result == current and not force:
        return Placed(text, 0, 0, "", how, result, body, merged)  # the block stays as the person left it
    return Placed(text, begin.start, end.end, block, how, result, body, merged)


def check_own_section(headings: dict[int, tuple[int, str]], start: int, stop: int,
                      title: tuple[int, str] | None, day: date | str) -> None:
    if title is not None and any(start <= index < stop and found == title for index, found in headings.items()):
        raise OwnSection(f"the {day} section already has your own {'#' * title[0]} {title[1]}")


def day_end(headings: dict[int, tuple[int, str]], index: int, count: int, bounds: set[tuple[int, str]]) -> int:
    """Index of the line that ends the day whose heading is at `index`: the next heading that is
    a day's or the week's, or one above the day's level (the person's own `## 부캠 강의` under
    `## 16일차` is part of the day)."""
    level = headings[index][0]
    return min((i for i, found in headings.items() if i > index and (found in bounds or found[0] < level)),
               default=count)


def new_heading_at(headings: dict[int, tuple[int, str]], count: int, day: date,
                   days: Mapping[tuple[int, str], date], bounds: set[tuple[int, str]]) -> int:
    """Where a missing day heading goes: after the whole previous day (the nearest earlier day
    heading, down to the next heading that is a day's or the week's, else the end of the post);
    with no earlier day, before the next day's heading, else before the week's heading, else at
    the end."""
    earlier = later = first_bound = None
    for index, found in sorted(headings.items()):
        if found in bounds and first_bound is None:
            first_bound = index
        if found not in days:
            continue
        if days[found] < day:
            earlier = index
        elif later is None and days[found] > day:
            later = index
    if earlier is not None:
        return day_end(headings, earlier, count, bounds)
    if later is not None:
        return later
    return first_bound if first_bound is not None else count


def insert_at(text: str, lines: _Lines, before: int, content: str, newline: str) -> tuple[int, int, str]:
    """Where to insert `content` (offset, offset, text) to put it after the last non-blank line
    before line `before`, blank-line separated."""
    last = next((i for i in range(before - 1, -1, -1) if not lines[i].blank), None)
    offset = lines[last].end if last is not None else int(text.startswith("\ufeff"))  # a BOM stays first
    prefix = ""
    if last is not None:
        if not text[:offset].endswith("\n"):
            prefix = newline
        prefix += newline
    following = last + 1 if last is not None else 0
    suffix = newline if following < len(lines) and not lines[following].blank else ""
    return offset, offset, prefix + content + suffix
