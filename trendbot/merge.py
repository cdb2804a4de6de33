"""Stories: the items that are the same thing, however many places mention it.

A paper listed on Hugging Face, tweeted by a curator and discussed on GeekNews is one story
with three mentions (DESIGN.md, "Items and stories"). Two items join when they share an
identity key (`trendbot/urls.py`: arXiv id, tweet id, GitHub repository, canonical URL) or,
within `TITLE_DAYS` days, have near-identical titles — but never when that would put two
different papers (arXiv ids) or two different GitHub repositories in one story.

The partition is a pure function of the set of items: edges are tried in a fixed order (keys by
strength, then title pairs by similarity), so the arrival order never changes the result, and
running the merge again changes nothing. Nothing here reads or writes the store: a merge is
three steps (`trendbot/stories.py`): the store reads the items and everything connected to
them in one go (`Store.merge_neighbourhood`, with the keys `batch_keys` computes), `assign`
decides, and the store saves the result in one transaction. Recomputing only the part of the
graph the new items touch gives the same result as merging everything from scratch, because
stories only ever form along those edges.

Its cost stays about linear whatever the items look like: a title block held by more than
`BLOCK_LIMIT` items says nothing (like a stop word, it would otherwise make every pair of those
items a candidate), and a new item whose only key is held by a crowd (a link a thousand feeds
serve) joins the crowd's story from a few facts, without the crowd being partitioned again.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import re
import sys
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Iterator, NamedTuple

from trendbot.models import StoredItem, short_hash
from trendbot.urls import KEY_KINDS, canonicalize_url, identity_keys, key_kind

TITLE_SIMILARITY = 0.85   # token-set (Jaccard) similarity two titles need to merge
TITLE_MIN_TOKENS = 4      # shorter titles ("Image", "New paper") never merge on title alone
TITLE_DAYS = 3            # near-identical titles merge only this many days apart at most
MAX_LINKS = 8             # only the first links of an item count; a long roundup is about many things
BLOCK_LIMIT = 32          # a title block held by more items than this joins none of them
CROWD = 32                # a key held by more stored items than this is a crowd (see `assign`)

# Words that carry no identity in English titles; Korean particles stay attached to their
# word, so Korean titles keep all their tokens.
_STOPWORDS = frozenset("a an and are as at by for from in into is it of on or the to via vs with".split())
_TOKEN = re.compile(r"\w+")
_X_PREFIX = re.compile(r"^(?:RT by @\w+|R to @\w+|Pinned):\s*")  # Nitter title prefixes (FORMATS.md §3.1)
_CONTRADICTING = ("arxiv:", "github:")  # a story holds at most one of each
_IDENTITIES = ("arxiv:", "tweet:", "github:")  # two items owning different ones never join by title
_NUMBERS = re.compile(r"\w*\d\w*")  # the tokens holding a digit, found in the tokens joined by spaces
_POSITION_BITS = 24                       # items in one partition: up to 16 million
_POSITION_MASK = (1 << _POSITION_BITS) - 1
_BLOCK_MASK = (1 << 40) - 1               # block hashes kept to 40 bits, with the position in 64


@dataclass(frozen=True)
class MergeItem:
    """What the merge needs of an item: where it is, what it links to, its title and day."""

    id: str
    source: str
    url: str
    title: str
    day: date
    links: tuple[str, ...] = ()
    original: str | None = None  # the article a discussion page is about (GeekNews topic)

    @classmethod
    def from_row(cls, row: StoredItem) -> MergeItem:
        return cls(row.id, row.source, row.url, row.title or "", row.day, tuple(row.links or ()), row.original_url)


class ItemKeys:
    """What the merge knows of an item, computed once: its own keys, the keys of its links, its
    title's tokens (a sorted tuple of interned strings: a frozenset of seven words would cost six
    times the memory) and the tokens with digits."""

    __slots__ = ("own", "link", "tokens", "_numbers", "_arxiv", "_github", "_ids")

    def __init__(self, own: Iterable[str], link: Iterable[str], tokens: tuple[str, ...] = ()):
        self.own = tuple(own)                   # what the item is
        self.link = tuple(link)                 # what it links to
        self.tokens = tokens                    # normalized title tokens, sorted
        # the rest is read only of the few items that meet another: computed when first asked
        self._numbers = self._arxiv = self._github = self._ids = None

    @property
    def numbers(self) -> frozenset[str]:
        """The tokens with digits: "gpt-4" is not "gpt-5"."""
        if self._numbers is None:
            self._numbers = _frozen(_NUMBERS.findall(" ".join(self.tokens)) if self.tokens else ())
        return self._numbers

    @property
    def arxiv(self) -> frozenset[str]:
        """What pins a story: every paper the item is or links..."""
        if self._arxiv is None:
            self._arxiv = _frozen([k for k in self.own + self.link if k.startswith("arxiv:")])
        return self._arxiv

    @property
    def github(self) -> frozenset[str]:
        """...and only the repository it *is*."""
        if self._github is None:
            self._github = _frozen([k for k in self.own if k.startswith("github:")])
        return self._github

    @property
    def ids(self) -> frozenset[str]:
        """The identities two matching titles may not contradict (two tweets, papers, repositories)."""
        if self._ids is None:
            self._ids = _frozen([k for k in self.own if k.startswith(_IDENTITIES)])
        return self._ids

    @property
    def all(self) -> tuple[str, ...]:
        return self.own + self.link


# The one shared empty set (most items hold no number, paper or repository: 100,000 empty sets
# would be 20 MB).
_EMPTY: frozenset = frozenset()


def _frozen(values: list[str] | tuple[str, ...]) -> frozenset[str]:
    return frozenset(values) if values else _EMPTY


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """A merge builds hundreds of thousands of small objects and no reference cycle: Python's
    cyclic collector would walk them all again and again as they are made (a third of the time
    of a large merge), so it waits until the merge is done."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def title_tokens(title: str) -> tuple[str, ...]:
    """The title's distinct words, normalized and sorted (stop words and Nitter's prefixes out)."""
    text = title or ""
    if text.startswith(("RT by @", "R to @", "Pinned:")):
        text = _X_PREFIX.sub("", text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    words = set(_TOKEN.findall(text.lower()))
    words -= _STOPWORDS
    words.discard("_")
    return tuple(sorted(map(sys.intern, words)))


def title_similarity(a: Iterable[str], b: Iterable[str]) -> float:
    a, b = set(a), set(b)
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _blocks(tokens: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The blocks of a title (its tokens, sorted): the token set, and for seven tokens or more
    the set less each one token.

    Two titles share one when their token sets are equal, one has one token more, or each has
    one token the other lacks — which covers every pair at TITLE_SIMILARITY for titles of up to
    twelve words (a longer pair differing in two words more is left apart: conservative). A
    title of four to six tokens needs only its own set: one token less or one different is
    already below TITLE_SIMILARITY (5/6 < 0.85), and one token more is found by the longer title.
    """
    if len(tokens) < TITLE_MIN_TOKENS:
        return []
    if len(tokens) < 7:
        return [tokens]
    return [tokens] + [tokens[:n] + tokens[n + 1:] for n in range(len(tokens))]


def _signature(block: tuple[str, ...]) -> str:
    return hashlib.blake2b("\x1f".join(block).encode(), digest_size=8).hexdigest()


def title_signatures(tokens: tuple[str, ...]) -> list[str]:
    """The blocks of a title as blocking keys stable across processes (they are stored as
    `sig:` keys), keeping the comparison to the few titles that are candidates, however common
    their words."""
    return sorted({_signature(block) for block in _blocks(tokens)})


def keys_of(item: MergeItem, mirrors: Iterable[str] = ()) -> ItemKeys:
    """The item's identity keys. Links add keys, but not ones that would contradict the item:
    a paper linking another paper, or a post linking several papers, names no paper by link."""
    mirrors = mirrors if isinstance(mirrors, tuple) else tuple(mirrors)
    own = identity_keys(item.url, mirrors) if item.url else []
    if item.original:
        own += [key for key in identity_keys(item.original, mirrors) if key not in own]
    link: list[str] = []
    if item.links:
        own_host = _host(own[-1][4:] if own and own[-1].startswith("url:") and not item.original else
                         canonicalize_url(item.url, mirrors))
        per_link: list[list[str]] = []
        for url in item.links[:MAX_LINKS]:
            keys = identity_keys(url, mirrors)
            # a site linking its own pages (related topics, profiles) says nothing new; a link
            # with keys but no `url:` one is a post (`tweet:`), which is always kept
            if keys and not (keys[-1].startswith("url:") and _host(keys[-1][4:]) == own_host):
                per_link.append(keys)
        pins = [k for keys in per_link for k in keys if k.startswith(_CONTRADICTING)]
        for prefix in _CONTRADICTING if pins else ():
            linked = {k for k in pins if k.startswith(prefix)}
            mine = {k for k in own if k.startswith(prefix)}
            if linked and (mine or len(linked) > 1):
                # the whole link goes, its URL key too: it is about something else than the item
                per_link = [keys for keys in per_link if all(not k.startswith(prefix) or k in mine for k in keys)]
        for keys in per_link:
            link += [k for k in keys if k not in own and k not in link]
    return ItemKeys(own, link, title_tokens(item.title))


def _host(url: str) -> str:
    return url.split("/")[2] if url.count("/") >= 2 else ""


def titles_match(a: MergeItem, ka: ItemKeys, b: MergeItem, kb: ItemKeys) -> float:
    """The similarity if the two titles may merge, else 0.

    Conservative: different sources only (one source listing two near-identical titles means
    two things), at most TITLE_DAYS apart, same numbers ("GPT-4" is not "GPT-5"), and no
    contradicting own keys (two tweets, two papers, two repositories stay apart).
    """
    if a.source == b.source or abs((a.day - b.day).days) > TITLE_DAYS:
        return 0.0
    if ka.tokens == kb.tokens:  # an echoed title: the common case of a match
        similarity = 1.0 if len(ka.tokens) >= TITLE_MIN_TOKENS else 0.0
    else:
        small, big = sorted((len(ka.tokens), len(kb.tokens)))
        if small < TITLE_MIN_TOKENS or small < TITLE_SIMILARITY * big:
            return 0.0
        similarity = title_similarity(ka.tokens, kb.tokens)
    if similarity < TITLE_SIMILARITY or ka.numbers != kb.numbers:
        return 0.0
    if ka.ids and kb.ids:
        for prefix in _IDENTITIES:
            mine = {k for k in ka.ids if k.startswith(prefix)}
            theirs = {k for k in kb.ids if k.startswith(prefix)}
            if mine and theirs and not mine & theirs:
                return 0.0
    return similarity


class _Group:
    __slots__ = ("members", "arxiv", "github")

    def __init__(self, member: str, keys: ItemKeys):
        self.members = [member]
        self.arxiv = keys.arxiv      # the papers the story holds (at most one)
        self.github = keys.github    # the repositories it is (at most one)


class _Partition:
    """Union-find that refuses a union putting two papers or two repositories together. Only
    items that were joined are in it (most items stay alone)."""

    def __init__(self, keys: dict[str, ItemKeys]):
        self.keys = keys
        self.parent: dict[str, str] = {}         # a joined item -> its parent; roots are not in it
        self.groups: dict[str, _Group] = {}      # a root that was ever met -> its group

    def find(self, item_id: str) -> str:
        parent = self.parent
        root = item_id
        while root in parent:
            root = parent[root]
        while item_id != root:
            parent[item_id], item_id = root, parent[item_id]
        return root

    def _group(self, root: str) -> _Group:
        group = self.groups.get(root)
        if group is None:
            group = self.groups[root] = _Group(root, self.keys[root])
        return group

    def union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        ga, gb = self._group(ra), self._group(rb)
        if (ga.arxiv and gb.arxiv and ga.arxiv != gb.arxiv) or (ga.github and gb.github and ga.github != gb.github):
            return False
        if len(ga.members) < len(gb.members) or (len(ga.members) == len(gb.members) and rb < ra):
            ra, rb, ga, gb = rb, ra, gb, ga
        self.parent[rb] = ra
        ga.members += gb.members
        ga.arxiv |= gb.arxiv
        ga.github |= gb.github
        del self.groups[rb]
        return True

    def stories(self, items: list[MergeItem]) -> list[list[str]]:
        """Every story's members, sorted, the stories in the order of their first member."""
        found = [sorted(group.members) for group in self.groups.values()]
        found += [[item.id] for item in items if item.id not in self.groups and item.id not in self.parent]
        found.sort(key=lambda members: members[0])
        return found


def _key_order(key: str) -> tuple[int, str]:
    kind = key_kind(key)
    return (KEY_KINDS.index(kind) if kind in KEY_KINDS else len(KEY_KINDS), key)


def title_pairs(items: list[MergeItem], keys: dict[str, ItemKeys],
                dead: Iterable[str] = ()) -> list[tuple[float, str, str]]:
    """Every pair of items whose titles may merge, as (similarity, id, id).

    The blocks of every title (`_blocks`) go into one sorted list of integers (block hash and
    item position in one number) instead of a dictionary of lists: at 100,000 titles that is
    eight hundred thousand small integers, not as many lists. A block's hash is the sum of its
    tokens' hashes, so the blocks of a title cost no tuple each. Items sharing a block are
    neighbours in it; a hash collision only adds a pair for `titles_match` to refuse. A block held by more than
    BLOCK_LIMIT items, or named in `dead` (its `sig:` key, held by that many stored items), is
    skipped; pairs are scored as they are found and only the matching ones kept.
    """
    dead = frozenset(dead)
    marks: list[int] = []
    for position, item in enumerate(items):
        tokens = keys[item.id].tokens
        if len(tokens) < TITLE_MIN_TOKENS:
            continue
        # a block's hash is the sum of its tokens' hashes: the title's sum, less one token's
        hashes = list(map(hash, tokens))
        total = sum(hashes)
        marks.append(((total & _BLOCK_MASK) << _POSITION_BITS) | position)
        if len(tokens) >= 7:
            marks.extend((((total - h) & _BLOCK_MASK) << _POSITION_BITS) | position for h in hashes)
    marks.sort()
    # the runs of one block: found in one pass that keeps only the marks equal to the one before
    runs: list[list[int]] = []
    for n in [n for n in range(1, len(marks)) if not (marks[n] ^ marks[n - 1]) >> _POSITION_BITS]:
        if runs and runs[-1][1] == n:
            runs[-1][1] = n + 1
        else:
            runs.append([n - 1, n + 1])
    found: dict[tuple[str, str], float] = {}
    for start, end in runs:
        if end - start > BLOCK_LIMIT:
            continue
        bucket = sorted((items[mark & _POSITION_MASK] for mark in marks[start:end]), key=lambda i: (i.day, i.id))
        if dead and _signature_of(keys[bucket[0].id].tokens, marks[start] >> _POSITION_BITS) in dead:
            continue
        for n, a in enumerate(bucket):
            for b in bucket[n + 1:]:
                if (b.day - a.day).days > TITLE_DAYS:
                    break
                pair = (a.id, b.id) if a.id < b.id else (b.id, a.id)
                if pair not in found and (similarity := titles_match(a, keys[a.id], b, keys[b.id])):
                    found[pair] = similarity
    return [(sim, a, b) for (a, b), sim in found.items()]


def _signature_of(tokens: tuple[str, ...], block: int) -> str:
    """The stored key (`sig:…`) of the block of these tokens whose hash is `block`."""
    for part in _blocks(tokens):
        if sum(map(hash, part)) & _BLOCK_MASK == block:
            return "sig:" + _signature(part)
    return ""


class Assignment(NamedTuple):
    story_id: str
    rule: str  # "alone", the shared key ("arxiv:2606.13392", "tweet:…", "url:…") or "title~ITEM_ID"


def partition(items: Iterable[MergeItem], mirrors: Iterable[str] = (),
              keys: dict[str, ItemKeys] | None = None, dead: Iterable[str] = ()) -> dict[str, Assignment]:
    """Group items into stories: item id -> story id and the rule that joined it. `keys` are
    the items' keys where already known; `dead` the title blocks (`sig:…`) that join nothing
    because more than BLOCK_LIMIT items hold them, counting items not given here."""
    with _collector_paused():
        return _partition(items, mirrors, keys, dead)


def _partition(items: Iterable[MergeItem], mirrors: Iterable[str], keys: dict[str, ItemKeys] | None,
               dead: Iterable[str]) -> dict[str, Assignment]:
    items = sorted({item.id: item for item in items}.values(), key=lambda i: i.id)
    mirrors = tuple(mirrors)
    keys = keys if keys is not None else {}
    for item in items:
        if item.id not in keys:
            keys[item.id] = keys_of(item, mirrors)
    holders: dict[str, list[str]] = {}
    for item in items:
        for key in keys[item.id].all:
            holders.setdefault(key, []).append(item.id)
    union = _Partition(keys)
    for key in sorted((k for k, ids in holders.items() if len(ids) > 1), key=_key_order):
        first, *rest = holders[key]
        refused = [other for other in rest if not union.union(first, other)]
        for other in refused:
            # a contradiction with `first`'s story: `other` may still join another holder's story,
            # but only once every holder that can has joined `first` (none is taken from it)
            for candidate in holders[key]:
                if candidate != other and union.union(candidate, other):
                    break
    title_partner: dict[str, str] = {}
    for sim, a, b in sorted(title_pairs(items, keys, dead), key=lambda p: (-p[0], p[1], p[2])):
        if union.find(a) != union.find(b) and union.union(a, b):
            title_partner.setdefault(a, b)
            title_partner.setdefault(b, a)
    return _assign(union.stories(items), keys, holders, title_partner)


def _assign(stories: list[list[str]], keys: dict[str, ItemKeys], holders: dict[str, list[str]],
            title_partner: dict[str, str]) -> dict[str, Assignment]:
    result: dict[str, Assignment] = {}
    used: set[str] = set()
    for members in stories:
        own = [k for m in members for k in keys[m].own]
        anchor = (own[0] if len(own) == 1 else min(own, key=_key_order)) if own else f"item:{members[0]}"
        story_id = "s" + short_hash("story", anchor)[:16]
        if story_id in used:  # two stories claim one anchor only when a contradiction split them
            story_id = "s" + short_hash("story", anchor, members[0])[:16]
        used.add(story_id)
        member_set = set(members)
        for member in members:
            rule = "alone"
            if len(members) > 1:
                shared = [k for k in keys[member].all
                          if sum(1 for h in holders.get(k, ()) if h in member_set) > 1]
                if shared:
                    rule = min(shared, key=_key_order)
                elif member in title_partner:
                    rule = f"title~{title_partner[member]}"
                else:
                    rule = "title"
            result[member] = Assignment(story_id, rule)
    return result


def stored_keys(keys: ItemKeys) -> list[tuple[str, str]]:
    """An item's keys as the store keeps them: (key, role), title blocks as `sig:` keys."""
    pairs = [(k, "own") for k in keys.own] + [(k, "link") for k in keys.link]
    return pairs + [(f"sig:{t}", "title") for t in title_signatures(keys.tokens)]


def keys_from_stored(pairs: Iterable[tuple[str, str]], title: str) -> ItemKeys:
    """A stored item's keys, read back (only its title is tokenized again)."""
    pairs = list(pairs)
    return ItemKeys([k for k, role in pairs if role == "own"], [k for k, role in pairs if role == "link"],
                    title_tokens(title))


def row_item(row: tuple, with_links: bool = True) -> MergeItem:
    """A merge item from a `Store.merge_rows` tuple (its links parsed only when they are needed:
    a stored item's keys are read, not recomputed)."""
    id_, source, url, title, day, links, original, _ = row
    return MergeItem(id_, source, url, title or "", date.fromisoformat(day),
                     tuple(json.loads(links or "[]")) if with_links else (),
                     original if isinstance(original, str) else None)


_CROWD_KINDS = ("arxiv", "tweet", "url")  # a crowd's key never pins a story against the newcomer


def batch_keys(rows: list[tuple], mirrors: Iterable[str], known: dict[str, ItemKeys]) -> dict[str, tuple[list[tuple[str, str]], str | None]]:
    """The keys of the items to merge, for `Store.merge_neighbourhood`: (key, role) pairs, and
    the one key of an item that has only one (what makes it a possible newcomer to a crowd).
    The keys are kept in `known` for `assign`."""
    mirrors = tuple(mirrors)
    found: dict[str, tuple[list[tuple[str, str]], str | None]] = {}
    for row in rows:
        keys = known[row[0]] = keys_of(row_item(row), mirrors)
        only = keys.all[0] if len(keys.all) == 1 and key_kind(keys.all[0]) in _CROWD_KINDS else None
        found[row[0]] = (stored_keys(keys), only)
    return found


def assign(hood, mirrors: Iterable[str], known: dict[str, ItemKeys]) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """Decide a neighbourhood read by `Store.merge_neighbourhood` (pure: the store is not in
    reach): item id -> (story id, rule) for everything it holds, and the new items left
    undecided, which must be read again in full (`full=`).

    The items read are partitioned exactly as `partition` would partition every item. A newcomer
    to a crowd (its only key held by more than CROWD stored items, no title shared with a live
    block) is not partitioned with the crowd: wherever the crowd is, such an item ends in the
    story of the key's first holder, with that key as its rule, and changes nobody else's story,
    rule or story id — provided another member of that story holds the key (nobody's rule
    changes), one holds it as its own when the newcomer does (the story's anchor stays), and
    the newcomer is not the story's first member (its id stays). Otherwise it is undecided.
    """
    items = [row_item(row, with_links=item_id in known) for item_id, row in sorted(hood.rows.items())]
    keys = {item.id: known[item.id] if item.id in known else keys_from_stored(hood.keys.get(item.id, ()), item.title)
            for item in items}
    stories = {i: (a.story_id, a.rule) for i, a in partition(items, mirrors, keys, hood.dead).items()}
    undecided: list[str] = []
    for item_id, (key, story, holders, owned, lowest) in sorted(hood.crowded.items()):
        own = key in known[item_id].own
        if story is not None and holders >= 2 and (owned or not own) and lowest is not None and item_id > lowest:
            stories[item_id] = (story, key)
        else:
            undecided.append(item_id)
    return stories, undecided
