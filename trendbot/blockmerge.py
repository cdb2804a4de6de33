"""Three-way merge of a day's block: trendbot's update goes into the list the person annotated.

The person reads trendbot's list the evening it is written and makes it theirs: a title
rewritten in Korean, a remark, a sub-bullet with a question, an image, a deleted line, a line
moved to the top. The next morning trendbot has fresher upvotes and new papers for that day.
Replacing the block would throw the person's words away and refusing to touch it freezes
the day, so the update is merged the way a careful person would merge it by hand, from three
texts (all "\\n"-separated; the caller deals with CRLF):

- base: what trendbot last wrote into the block;
- mine: the block as it is now in the post;
- theirs: trendbot's new rendering.

How a block is read. A story line is a list item that starts at the first column (`-`, `*`,
`+` or `1.`) outside a code fence. Its story is the address of its first link, the `URL` of
the first `](URL)` (a line without a link is known by its text; a copy of a line is a line of
the person's), so a rewritten title still names the same story and nothing is added that a
reader would see. Where two stories lead with the same address (two Hacker News threads of
one article), each is known by that address and the addresses of its other links, never by
its rank, so the person's note stays with its story when the ranking changes. Every line after a story line, up to the next one, hangs under it: the
person's sub-bullets, remarks, paragraphs, images, blank lines. The lines before the first
story line are the head (trendbot's heading); the blank lines at the end, with trendbot's
notes (what base has after its last story line) if they still close the block, are the tail.

The rules:

- A line the person has not changed (the same as in base, trailing whitespace aside) takes
  theirs' rendering of it; a line the person changed is kept byte for byte, even if trendbot's
  version changed too.
- What the person added stays where it is, under the line above it; a line the person deleted
  stays deleted. The person's order is kept: a line out of base's order (the fewest lines that
  explain the person's order as moves) stays where the person put it, and so does a line with
  anything under it. Only the untouched lines between those follow theirs' new ranking, among
  themselves, so that an untouched block becomes exactly theirs.
- A new story (in theirs, neither in base nor already in mine) goes in at its rank among the
  lines that are still trendbot's (unchanged and in base's order): in the gap between them
  that puts the fewest on the wrong side of it, below what hangs under the line above. With
  no such line it goes at the end of the list.
- A story theirs no longer has is removed only if its line is unchanged and nothing hangs
  under it (not even a blank line), and never when that would leave a block the next merge
  could not read.
- The head and the tail are trendbot's: replaced by theirs when they are as base had them,
  kept when the person changed them (text written after trendbot's notes makes them the
  person's too).

So merge(base, base, theirs) == theirs, merge(base, mine, base) == mine, and merging the same
theirs again changes nothing: merge(theirs, merged, theirs) == merged.

`listed` (the ids of `story_id`) names the stories trendbot has put into the block before and
the person may since have deleted: a story of theirs listed there and absent from mine was
deleted and never comes back, even after trendbot's rendering dropped it for a while.

Without a base (the database that kept it is gone), `merge_without_base` is the conservative
merge: every line of mine stays byte for byte and in its order, nothing is refreshed or
removed, and only the stories that are neither in mine nor listed are added, at the end of
the list.

A block is not merged (`Unmergeable`) when a code fence in it is never closed (trendbot could
not tell the person's code from the list) or when it has no list item left at all but still
names one of base's stories: the list was turned into something else (a table, a quote, an
indented list) and any merge would be a guess. A block the person emptied, or whose stories
they all deleted while writing their own text, is merged: the deletions are kept and only new
stories are added.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace

from trendbot.errors import PublishError

_ITEM = re.compile(r"(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
_FENCE = re.compile(r"[ \t]*(`{3,}|~{3,})(.*)")
_LINK = re.compile(r"\]\(\s*<?([^\s)>]+)")
_ADDRESS = re.compile(r"https?://[^\s()<>\[\]\"'|`]+")


class Unmergeable(PublishError):
    """The block the person left cannot be read as lines of stories; `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Merged:
    """The merged block and what the merge did, for a one-line report (`report`)."""

    text: str
    edited: bool  # mine differs from base: the person's edits took part
    kept: int = 0  # trendbot's lines (story lines, heading) the person rewrote, kept as they wrote them
    deleted: int = 0  # stories the person deleted that theirs still lists, kept deleted
    notes: int = 0  # non-blank lines the person wrote under and between story lines, kept
    moved: int = 0  # unchanged lines the person moved, kept where they put them
    held: int = 0  # stories theirs dropped, kept because the person edited or annotated them
    refreshed: int = 0  # lines that now read as theirs renders them
    added: int = 0  # new stories
    removed: int = 0  # stories theirs dropped, removed
    without_base: bool = False  # merged conservatively: no record of trendbot's last text


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def report(merged: Merged) -> str:
    """One line on what the merge kept and changed, e.g. `merged with your edits: 2 lines kept
    as you wrote them, 1 deletion kept, 3 notes kept; 5 lines refreshed; 1 story added`;
    empty when nothing of the person's was involved (then it was a plain update)."""
    if not merged.edited:
        return ""
    if merged.without_base:
        added = f", {_count(merged.added, 'story added', 'stories added')}" if merged.added else ""
        return ("no record of trendbot's last version of this block (a new database?): your block kept "
                f"as it is, nothing refreshed{added}")
    yours = [text for n, text in [
        (merged.kept, _count(merged.kept, "line kept as you wrote it", "lines kept as you wrote them")),
        (merged.deleted, _count(merged.deleted, "deletion kept", "deletions kept")),
        (merged.notes, _count(merged.notes, "note kept", "notes kept")),
        (merged.moved, _count(merged.moved, "line kept where you moved it", "lines kept where you moved them")),
        (merged.held, _count(merged.held, "story no longer listed kept for your edits",
                             "stories no longer listed kept for your edits")),
    ] if n]
    ours = [text for n, text in [
        (merged.refreshed, _count(merged.refreshed, "line refreshed", "lines refreshed")),
        (merged.added, _count(merged.added, "story added", "stories added")),
        (merged.removed, _count(merged.removed, "story removed", "stories removed")),
    ] if n]
    return "; ".join(["merged with your edits: " + (", ".join(yours) or "your spacing kept")] + ours)


Key = tuple  # (address,), or (address, other addresses[, copy number]) where the address repeats


@dataclass
class _Item:
    line: str
    extra: list[str] = field(default_factory=list)  # the lines hanging under it
    address: str = ""  # the first link's target, else the line's text
    key: Key = ("",)


def story_id(address: str) -> str:
    """A short id of a story's address, as the begin marker lists it."""
    return hashlib.sha256(address.encode("utf-8")).hexdigest()[:6]


@dataclass
class _Block:
    head: list[str]
    items: list[_Item]
    tail: list[str]


def _addresses(line: str) -> list[str]:
    """The targets of the line's links, in order (a `]` escaped with a backslash opens none)."""
    found: list[str] = []
    match = _LINK.search(line)
    while match is not None:
        before = line[:match.start()]
        if (len(before) - len(before.rstrip("\\"))) % 2 == 0:
            found.append(match.group(1))
            match = _LINK.search(line, match.end())
            continue
        # the next `](` may lie inside this match (a title ending in an escaped `]`: `[a\](](url)`)
        match = _LINK.search(line, match.start() + 1)
    return found


def _address(line: str) -> str | None:
    """The target of the line's first link."""
    return next(iter(_addresses(line)), None)


def _closes(line: str, fence: str) -> bool:
    text = line.strip()
    return text.startswith(fence) and not text.strip(fence[0])


def _notes(lines: list[str]) -> list[str]:
    """trendbot's notes in one of its renderings: the non-blank lines after the last story."""
    last = max((i for i, line in enumerate(lines) if _ITEM.match(line)), default=None)
    return [] if last is None else [line for line in lines[last + 1:] if line.strip()]


def _tail_start(lines: list[str], notes: list[str]) -> int:
    """Where the tail begins: the trailing blank lines, and before them the notes if the
    block still ends with them."""
    wanted = [note.rstrip() for note in notes]
    start = len(lines)
    while start:
        text = lines[start - 1].rstrip()
        if text and not (wanted and text == wanted[-1]):
            break
        if text:
            wanted.pop()
        start -= 1
    if wanted:
        start = len(lines)
        while start and not lines[start - 1].strip():
            start -= 1
    return start


def _read(lines: list[str], notes: list[str]) -> _Block:
    end = _tail_start(lines, notes)
    head: list[str] = []
    items: list[_Item] = []
    fence = ""
    for line in lines[:end]:
        if fence:
            if _closes(line, fence):
                fence = ""
        elif (match := _FENCE.match(line)) and not (match.group(1)[0] == "`" and "`" in match.group(2)):
            fence = match.group(1)
        elif _ITEM.match(line):
            items.append(_Item(line))
            continue
        (items[-1].extra if items else head).append(line)
    if fence:
        raise Unmergeable(f"a code block ({fence}) in it is never closed")
    for item in items:
        item.address = _address(item.line) or "\0" + item.line.rstrip()
        item.key = (item.address,)
    return _Block(head, items, lines[end:])


def _key_items(*blocks: _Block) -> None:
    """Give every story line its key. An address that leads several lines in any of the blocks
    is not enough: those lines are told apart by their other links, then by copy number (a
    line the person copied is a line of its own)."""
    shared = set()
    for block in blocks:
        seen: set[str] = set()
        for item in block.items:
            if item.address in seen:
                shared.add(item.address)
            seen.add(item.address)
    for block in blocks:
        copies: dict[Key, int] = {}
        for item in block.items:
            key: Key = (item.address,)
            if item.address in shared:
                key = (item.address, *_addresses(item.line)[1:])
            copies[key] = copies.get(key, 0) + 1
            item.key = key if copies[key] == 1 else (*key, copies[key])


def story_addresses(text: str) -> list[str]:
    """The addresses of a block's story lines, in order (an unreadable block names none)."""
    lines = text.split("\n")
    try:
        return [item.address for item in _read(lines, _notes(lines)).items]
    except Unmergeable:
        return []


def _unreadable(base: _Block, mine: _Block) -> bool:
    """No list item is left, yet base's stories are still named: the list became a table,
    a quote or an indented list that cannot be merged line by line."""
    if mine.items:
        return False
    stories = {item.key[0] for item in base.items}
    text = "\n".join(mine.head + mine.tail)
    return any(address in stories for address in _ADDRESS.findall(text))


def _same(a: list[str], b: list[str]) -> bool:
    return len(a) == len(b) and all(x.rstrip() == y.rstrip() for x, y in zip(a, b))


def _filled(lines: list[str]) -> list[str]:
    return [line.rstrip() for line in lines if line.strip()]


def in_order(keys: list[Key], order: list[Key]) -> set[Key]:
    """The keys that keep `order`: a longest increasing run of their ranks (the rest moved)."""
    rank = {key: i for i, key in enumerate(order)}
    best: list[list[Key]] = []  # best[i]: the longest increasing run ending at keys[i]
    for i, key in enumerate(keys):
        runs = [best[j] for j in range(i) if rank[keys[j]] < rank[key]]
        best.append(max(runs, key=len, default=[]) + [key])
    return set(max(best, key=len, default=[]))


@dataclass
class _Entry:
    line: str
    extra: list[str]
    key: Key
    free: bool = False  # trendbot's, in place, nothing under it: follows theirs' ranking
    anchor: bool = False  # trendbot's and in place: new stories are ranked against it
    before: list[str] = field(default_factory=list)  # new stories just above it
    after: list[str] = field(default_factory=list)  # new stories just below it


def _part(mine: list[str], base: list[str], theirs: list[str]) -> list[str]:
    return theirs if _same(mine, base) and theirs != base else mine


def _needs_blank(out: list[str]) -> bool:
    """A story line right after these lines would be swallowed by a paragraph, a table or an
    HTML block of the person's that stands outside the list."""
    if not out or not out[-1].strip():
        return False
    start = len(out) - 1
    while start and out[start - 1].strip():
        start -= 1
    return not (_ITEM.match(out[start]) or out[start][:1] in " \t")


_NOT_A_LIST = "it no longer holds a list of stories (a table, a quote or an indented list?)"


def merge_block(base: str, mine: str, theirs: str, listed: frozenset[str] = frozenset()) -> Merged:
    """The block with theirs' update merged into the person's edits (see the module's rules).

    Raises `Unmergeable` when mine cannot be read as lines of stories; then nothing is merged.
    """
    base_lines, mine_lines, theirs_lines = base.split("\n"), mine.split("\n"), theirs.split("\n")
    old = _read(base_lines, _notes(base_lines))
    new = _read(theirs_lines, _notes(theirs_lines))
    now = _read(mine_lines, _notes(base_lines))
    _key_items(old, new, now)
    if _unreadable(old, now):
        raise Unmergeable(_NOT_A_LIST)
    merged = _merge(old, now, new, remove=True, listed=listed)
    result = _read(merged.text.split("\n"), _notes(theirs_lines))
    _key_items(result)
    if _unreadable(new, result):
        # Removing the stories theirs dropped would leave only text naming theirs' stories,
        # which the next merge could not read: keep those lines instead.
        merged = _merge(old, now, new, remove=False, listed=listed)
    edited = [line.rstrip() for line in mine_lines] != [line.rstrip() for line in base_lines]
    return replace(merged, edited=edited)


def _trendbot_notes(lines: list[str]) -> list[str]:
    """The notes trendbot closed a block with (`<small>※ …</small>`), where they still close it."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start and lines[start - 1].lstrip().startswith("<small>※"):
        start -= 1
    return lines[start:end]


def merge_without_base(mine: str, theirs: str, listed: frozenset[str] | None) -> Merged:
    """The conservative merge, for a block that differs from what trendbot wrote when nothing
    says what trendbot wrote: mine as it is, plus theirs' stories that are neither in it nor
    `listed` (None: nothing says which stories the person deleted, so none is added)."""
    mine_lines, theirs_lines = mine.split("\n"), theirs.split("\n")
    now = _read(mine_lines, _trendbot_notes(mine_lines))
    new = _read(theirs_lines, _notes(theirs_lines))
    if _unreadable(new, now):
        raise Unmergeable(_NOT_A_LIST)
    present = {item.address for item in now.items}
    missing = [item for item in new.items if item.address not in present]
    added = [item.line for item in missing if listed is not None and story_id(item.address) not in listed]
    if not added:
        return Merged(mine, True, deleted=len(missing), without_base=True)
    out = now.head + [line for item in now.items for line in [item.line, *item.extra]]
    while out and not out[-1].strip() and now.items:
        out.pop()  # the new lines join the list, above the blank lines that close it
    trailing = len(now.head) + sum(1 + len(item.extra) for item in now.items) - len(out)
    if _needs_blank(out):
        out.append("")
    out += added + [""] * trailing + now.tail
    return Merged("\n".join(out), True, deleted=len(missing) - len(added), added=len(added), without_base=True)


def _merge(old: _Block, now: _Block, new: _Block, remove: bool, listed: frozenset[str] = frozenset()) -> Merged:
    counts = dict.fromkeys(["kept", "deleted", "notes", "moved", "held", "refreshed", "added", "removed"], 0)
    rank = {item.key: i for i, item in enumerate(new.items)}
    entries = _entries(old, now, new, remove, counts)
    _follow_ranking(entries, rank)
    at_end = _place_new(entries, old, now, new, rank, counts, listed)
    head = _part(now.head, old.head, new.head)
    tail = _part(now.tail, old.tail, new.tail)
    for mine_part, base_part, part in ((now.head, old.head, head), (now.tail, old.tail, tail)):
        counts["kept"] += len(set(_filled(mine_part)) - set(_filled(base_part)))
        counts["refreshed"] += _filled(part) != _filled(mine_part)
    out = list(head)

    def put(stories: list[str]) -> None:
        if stories and _needs_blank(out):
            out.append("")
        out.extend(stories)

    for entry in entries:
        put(entry.before)
        out.append(entry.line)
        out.extend(entry.extra)
        put(entry.after)
    put(at_end)
    out.extend(tail)
    return Merged("\n".join(out), True, **counts)


def _entries(old: _Block, now: _Block, new: _Block, remove: bool, counts: dict[str, int]) -> list[_Entry]:
    """The person's lines in the person's order: unchanged story lines refreshed, changed and
    added ones as they are, untouched lines of stories theirs dropped left out."""
    before = {item.key: item.line for item in old.items}
    after = {item.key: item.line for item in new.items}
    in_place = in_order([item.key for item in now.items if item.key in before], [item.key for item in old.items])
    trendbots = set(_filled(old.head + [item.line for item in old.items] + old.tail))
    entries: list[_Entry] = []
    for item in now.items:
        own = item.key not in before
        written = _filled(([item.line] if own else []) + item.extra)
        counts["notes"] += len([line for line in written if line not in trendbots])
        if own:
            entries.append(_Entry(item.line, item.extra, item.key))
            continue
        listed = item.key in after
        if item.line.rstrip() != before[item.key].rstrip():
            counts["kept"] += 1
            counts["held"] += not listed
            entries.append(_Entry(item.line, item.extra, item.key))
            continue
        if not listed and remove and not item.extra:
            counts["removed"] += 1
            continue
        counts["moved"] += item.key not in in_place
        if not listed:
            counts["held"] += bool(item.extra)
            entries.append(_Entry(item.line, item.extra, item.key))
            continue
        line = after[item.key] if after[item.key] != before[item.key] else item.line
        counts["refreshed"] += line != item.line
        placed = item.key in in_place
        entries.append(_Entry(line, item.extra, item.key, free=placed and not item.extra, anchor=placed))
    present = {item.key for item in now.items}
    counts["deleted"] = sum(1 for key in before if key in after and key not in present)
    return entries


def _follow_ranking(entries: list[_Entry], rank: dict[Key, int]) -> None:
    """Each run of free lines between the person's fixed ones takes theirs' order."""
    start = 0
    while start < len(entries):
        end = start
        while end < len(entries) and entries[end].free:
            end += 1
        entries[start:end] = sorted(entries[start:end], key=lambda entry: rank[entry.key])
        start = end + 1


def _place_new(entries: list[_Entry], old: _Block, now: _Block, new: _Block,
               rank: dict[Key, int], counts: dict[str, int], listed: frozenset[str]) -> list[str]:
    """Put each new story beside the anchors in the gap that puts the fewest of them on the
    wrong side of its rank; the stories for the end of the list when there is no anchor. A
    story `listed` before and not in mine was deleted by the person: it stays out."""
    known = {item.key for item in old.items} | {item.key for item in now.items}
    present = {item.address for item in now.items}
    anchors = [entry for entry in entries if entry.anchor]
    at_end: list[str] = []
    for item in new.items:
        if item.key in known:
            continue
        if item.address not in present and story_id(item.address) in listed:
            counts["deleted"] += 1
            continue
        counts["added"] += 1
        if not anchors:
            at_end.append(item.line)
            continue
        place = rank[item.key]
        cost = sum(1 for anchor in anchors if rank[anchor.key] < place)
        best, gap = cost, -1
        for index, anchor in enumerate(anchors):
            cost += 1 if rank[anchor.key] > place else -1
            if cost < best:
                best, gap = cost, index
        (anchors[0].before if gap < 0 else anchors[gap].after).append(item.line)
    return at_end


@dataclass(frozen=True)
class StoryLine:
    """A story line of a block as the merge reads it: its key (the address of its first link,
    and which copy of it), the line, and what hangs under it."""

    key: Key
    line: str
    extra: tuple[str, ...]


def story_lines(block: str, base: str | None = None) -> list[StoryLine]:
    """The story lines of `block` ("\\n"-separated), read as `merge_block` reads them; `base`
    (what trendbot wrote there) says which closing notes are trendbot's. Raises `Unmergeable`
    when a code fence in it is never closed."""
    notes = _notes((block if base is None else base).split("\n"))
    return [StoryLine(item.key, item.line, tuple(item.extra)) for item in _read(block.split("\n"), notes).items]
