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
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Iterator, NamedTuple, Sequence

from trendbot.models import StoredItem, short_hash, short_hasher
from trendbot.urls import KEY_KINDS, X_HOST, canonicalize_url, identity, key_kind

TITLE_SIMILARITY = 0.85   # token-set (Jaccard) similarity two titles need to merge
TITLE_MIN_TOKENS = 4      # shorter titles ("Image", "New paper") never merge on title alone
TITLE_DAYS = 3            # near-identical titles merge only this many days apart at most
MAX_LINKS = 8             # only the first links of an item count; a long roundup is about many things
BLOCK_LIMIT = 32          # a title block held by more items than this joins none of them
CROWD = 32                # a key held by more stored items than this is a crowd (see `assign`)
SUBSTITUTION_TOKENS = 13  # titles this long may match with one token different on each side
_LONGER = 7               # titles this long may match a title one token shorter (`_blocks`)

# Words that carry no identity in English titles; Korean particles stay attached to their
# word, so Korean titles keep all their tokens.
_STOPWORDS = frozenset("a an and are as at by for from in into is it of on or the to via vs with".split())
_TOKEN = re.compile(r"\w+")
# ASCII letters lowered, digits and "_" kept, anything else a space: `\w+` of ASCII by `split`
_ASCII_WORDS = bytes(c + 32 if 65 <= c <= 90 else c if 48 <= c <= 57 or 97 <= c <= 122 or c == 95 else 32
                     for c in range(256))
_X_PREFIX = re.compile(r"^(?:RT by @\w+|R to @\w+|Pinned):\s*")  # Nitter title prefixes (FORMATS.md §3.1)
_CONTRADICTING = ("arxiv:", "github:")  # a story holds at most one of each
_IDENTITIES = ("arxiv:", "tweet:", "github:")  # two items owning different ones never join by title
_NUMBERS = re.compile(r"\w*\d\w*")  # the tokens holding a digit, found in the tokens joined by spaces


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
    title's tokens (a tuple, in no particular order: a frozenset of seven words would cost six
    times the memory) and the tokens with digits."""

    __slots__ = ("own", "link", "tokens", "_numbers", "_arxiv", "_github", "_ids")

    def __init__(self, own: Iterable[str], link: Iterable[str], tokens: tuple[str, ...] = ()):
        self.own = tuple(own)                   # what the item is
        self.link = tuple(link)                 # what it links to
        self.tokens = tokens                    # normalized title tokens, each once
        # the rest is read only of the few items that meet another: computed when first asked
        self._numbers = self._arxiv = self._github = self._ids = None

    @property
    def numbers(self) -> tuple[str, ...]:
        """The tokens with digits, sorted: "gpt-4" is not "gpt-5"."""
        if self._numbers is None:
            self._numbers = tuple(sorted(_NUMBERS.findall(" ".join(self.tokens)))) if self.tokens else ()
        return self._numbers

    @property
    def arxiv(self) -> tuple[str, ...]:
        """What pins a story: every paper the item is or links (sorted, each once)..."""
        if self._arxiv is None:
            self._arxiv = _distinct([k for k in self.own + self.link if k.startswith("arxiv:")])
        return self._arxiv

    @property
    def github(self) -> tuple[str, ...]:
        """...and only the repository it *is*."""
        if self._github is None:
            self._github = _distinct([k for k in self.own if k.startswith("github:")])
        return self._github

    @property
    def ids(self) -> tuple[str, ...]:
        """The identities two matching titles may not contradict (two tweets, papers, repositories)."""
        if self._ids is None:
            self._ids = _distinct([k for k in self.own if k.startswith(_IDENTITIES)])
        return self._ids

    @property
    def all(self) -> tuple[str, ...]:
        return self.own + self.link if self.link else self.own


def _distinct(values: list[str]) -> tuple[str, ...]:
    """The values sorted, each once, as the tuple sets are compared by (a set of one paper
    would cost four times the memory, and most items hold none or one)."""
    if len(values) < 2:
        return tuple(values)
    return tuple(sorted(set(values)))


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
    return tuple(sorted(title_words(title)))


def title_words(title: str) -> tuple[str, ...]:
    """`title_tokens` in no particular order: what the merge keeps of every title (sorting and
    interning a hundred thousand titles' words would be half the cost of splitting them). Only a
    title of SUBSTITUTION_TOKENS tokens or more has its words interned: long titles hold most of
    a merge's words, and a feed that puts its text in its titles would otherwise keep a copy of
    every word of every entry."""
    text = title or ""
    if text.startswith(("RT by @", "R to @", "Pinned:")):
        text = _X_PREFIX.sub("", text)
    if text.isascii():  # `\w+` of ASCII text, five times as fast
        words = set(text.encode().translate(_ASCII_WORDS).decode().split())
    else:
        text = unicodedata.normalize("NFKC", text).lower()
        words = text.split()
        # words of letters and digits only (Hangul, accented Latin) are already `\w+`
        words = set(words if all(map(str.isalnum, words)) else _TOKEN.findall(text))
    if not words.isdisjoint(_STOPWORDS):  # (walks the title's few words, not the stop words)
        words -= words & _STOPWORDS
    words.discard("_")
    if len(words) >= SUBSTITUTION_TOKENS:
        return tuple(map(sys.intern, words))
    return tuple(words)


def title_similarity(a: Iterable[str], b: Iterable[str]) -> float:
    a, b = set(a), set(b)
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _blocks(tokens: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The blocks of a title (its tokens, in any order), each sorted: the token set, and for
    seven tokens or more the set less each one token.

    Two titles share one when their token sets are equal, one has one token more, or each has
    one token the other lacks — which covers every pair at TITLE_SIMILARITY for titles of up to
    twelve words (a longer pair differing in two words more is left apart: conservative). A
    title of four to six tokens needs only its own set: one token less or one different is
    already below TITLE_SIMILARITY (5/6 < 0.85), and one token more is found by the longer title.
    """
    if len(tokens) < TITLE_MIN_TOKENS:
        return []
    tokens = tuple(sorted(tokens))
    if len(tokens) < _LONGER:
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
    a paper linking another paper, or a post linking several papers, names no paper by link.

    A URL that names a paper or a repository is kept by its name alone: its `url:` key comes
    with the name wherever the URL is seen, so it would join nothing the name does not (and a
    name is always the stronger rule and anchor), while it would be a third of all keys."""
    mirrors = mirrors if isinstance(mirrors, tuple) else tuple(mirrors)
    full = identity(item.url, mirrors) if item.url else ()
    own = _by_name(full)
    original, links = item.original, item.links
    if original:
        more = _by_name(identity(original, mirrors))
        own = own + tuple([key for key in more if key not in own]) if own else more
    if not links or links == (original,):  # (a discussion linking only its article: its keys are own)
        return ItemKeys(own, (), title_words(item.title))
    # the item's own site: a site linking its own pages (related topics, profiles) says nothing new
    last = full[-1] if full and not original else ""
    if last.startswith("url:"):
        own_host = _host(last[4:])
    elif last.startswith("tweet:"):
        own_host = X_HOST
    else:
        own_host = _host(canonicalize_url(item.url, mirrors))
    own_site = (f"url:https://{own_host}/", f"url:http://{own_host}/")  # (a canonical URL has a path)
    per_link: list[tuple[str, ...]] = []
    foreign: list[str] = []  # the papers and repositories links name that the item is not
    for url in links[:MAX_LINKS]:
        keys = identity(url, mirrors)
        # a link with keys but no `url:` one is a post (`tweet:`), which is always kept
        if keys and not keys[-1].startswith(own_site):
            keys = _by_name(keys)
            per_link.append(keys)
            # (a link names at most one paper or repository, as its first key)
            if keys[0].startswith(_CONTRADICTING) and keys[0] not in own:
                foreign.append(keys[0])
    if foreign:
        per_link = _about_the_item(per_link, foreign, own)
    if len(per_link) == 1:
        link = [k for k in per_link[0] if k not in own]
    else:
        link = list(dict.fromkeys([k for keys in per_link for k in keys if k not in own]))
    return ItemKeys(own, link, title_words(item.title))


def _by_name(keys: tuple[str, ...]) -> tuple[str, ...]:
    """A URL's identity keys as the merge counts them: a name (`arxiv:`, `github:`) without the
    `url:` key that comes with it (`identity` gives two keys only as a name and its URL)."""
    return keys[:1] if len(keys) == 2 else keys


def _about_the_item(per_link: list[tuple[str, ...]], foreign: list[str], own: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The links less those about another paper (repository) than the item: all those naming
    one when the item is one, or when they name several."""
    if len(foreign) == 1:  # the common case: one name linked, kept unless the item is one of its kind
        kind = foreign[0][:foreign[0].index(":") + 1]
        if not any(key.startswith(kind) for key in own):
            return per_link
    for prefix in _CONTRADICTING:
        theirs = {k for k in foreign if k.startswith(prefix)}
        if not theirs:
            continue
        if len(theirs) == 1:
            for key in own:
                if key.startswith(prefix):
                    break
            else:
                continue  # the one paper (repository) the links name, and the item is none: kept
        # the whole link goes, its URL key too: it is about something else than the item
        per_link = [keys for keys in per_link if keys[0] not in theirs]
    return per_link


def _host(url: str) -> str:
    """The host of a canonical URL (`https://host/...`)."""
    return url[8:].partition("/")[0] if url.startswith("https://") else (url.split("/")[2] if url.count("/") >= 2 else "")


def titles_match(a: MergeItem, ka: ItemKeys, b: MergeItem, kb: ItemKeys) -> float:
    """The similarity if the two titles may merge, else 0.

    Conservative: different sources only (one source listing two near-identical titles means
    two things), at most TITLE_DAYS apart, same numbers ("GPT-4" is not "GPT-5"), and no
    contradicting own keys (two tweets, two papers, two repositories stay apart).
    """
    if a.source == b.source or abs((a.day - b.day).days) > TITLE_DAYS:
        return 0.0
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

    def __init__(self, members: list[int], arxiv: tuple[str, ...], github: tuple[str, ...]):
        self.members = members
        self.arxiv = arxiv      # the papers the story holds (at most one)
        self.github = github    # the repositories it is (at most one)


class _Partition:
    """Union-find over the items' numbers (their places in id order) that refuses a union
    putting two papers or two repositories together. Only items that were joined are in it
    (most items stay alone), and only stories of two items or more have a group."""

    def __init__(self, keys: list[ItemKeys]):
        self.keys = keys
        self.parent: dict[int, int] = {}         # a joined item -> its parent; roots are not in it
        self.groups: dict[int, _Group] = {}      # a root of two items or more -> its group

    def find(self, item: int) -> int:
        parent = self.parent
        root = item
        while root in parent:
            root = parent[root]
        while item != root:
            parent[item], item = root, parent[item]
        return root

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        groups, keys = self.groups, self.keys
        ga, gb = groups.get(ra), groups.get(rb)
        a_arxiv, a_github = (ga.arxiv, ga.github) if ga is not None else (keys[ra].arxiv, keys[ra].github)
        b_arxiv, b_github = (gb.arxiv, gb.github) if gb is not None else (keys[rb].arxiv, keys[rb].github)
        if (a_arxiv and b_arxiv and a_arxiv != b_arxiv) or (a_github and b_github and a_github != b_github):
            return False
        size_a = len(ga.members) if ga is not None else 1
        size_b = len(gb.members) if gb is not None else 1
        if size_a < size_b or (size_a == size_b and rb < ra):
            ra, rb, ga, gb = rb, ra, gb, ga
        self.parent[rb] = ra
        joining = gb.members if gb is not None else [rb]
        arxiv, github = a_arxiv or b_arxiv, a_github or b_github  # (equal when both hold one)
        if ga is None:
            groups[ra] = _Group([ra] + joining, arxiv, github)
        else:
            ga.members += joining
            ga.arxiv, ga.github = arxiv, github
        if gb is not None:
            del groups[rb]
        return True

    def stories(self, count: int) -> list[list[int]]:
        """Every story's members, sorted, the stories in the order of their first member."""
        found = [sorted(group.members) for group in self.groups.values()]
        joined = self.parent.keys() | self.groups.keys()
        found += [[n] for n in range(count) if n not in joined]
        found.sort()
        return found


_KIND_RANK = {kind: rank for rank, kind in enumerate(KEY_KINDS)}


def _key_order(key: str) -> tuple[int, str]:
    return (_KIND_RANK.get(key.partition(":")[0], len(KEY_KINDS)), key)


_LEAST_FIRST = ("arxiv:", "tweet:", "url:")  # when the least key is of these kinds, it is the strongest


def _strongest(keys: Sequence[str]) -> str:
    """`min(keys, key=_key_order)`, found as the least of the keys as strings: the kinds sort as
    their names but for a repository, which sorts before a post."""
    if len(keys) == 1:
        return keys[0]
    best = min(keys)
    return best if best.startswith(_LEAST_FIRST) else min(keys, key=_key_order)


def title_pairs(items: list[MergeItem], keys: dict[str, ItemKeys],
                dead: Iterable[str] = ()) -> list[tuple[float, str, str]]:
    """Every pair of items whose titles may merge, as (similarity, id, id) (`_title_pairs`)."""
    return [(sim, items[a].id, items[b].id) for sim, a, b in _title_pairs(items, [keys[i.id] for i in items], dead)]


def _title_pairs(items: list[MergeItem], keys: list[ItemKeys], dead: Iterable[str] = ()) -> list[tuple[float, int, int]]:
    """Every pair of items whose titles may merge, as (similarity, n, m): their places in
    `items`, `keys` the items' keys in that order.

    Two titles are candidates when they share a block (`_blocks`) that is live: held by at most
    BLOCK_LIMIT items and not named in `dead` (its `sig:` key, held by that many stored items).
    Each kind of match has its block: equal token sets their set, a title one token longer its
    set less that token (the shorter's set), two titles of SUBSTITUTION_TOKENS tokens or more
    with one token different the set they share. So the blocks counted are every title's set,
    the sets less one token that are some title's set, and, only from titles long enough to
    match by substitution, the sets less one token that are none: about one block per title
    instead of eight. (So two titles of 7 to 12 tokens with one set, a dead one, stay apart even
    where a set less one of their tokens is live: the title is echoed too widely to say anything.)

    A block is the sum of its tokens' hashes (a collision only adds a pair for `titles_match`
    to refuse); the index is built from flat lists and one count, and pairs are scored as they
    are found, only the matching ones kept.
    """
    tokens_of = [item_keys.tokens for item_keys in keys]
    sets = [sum(map(hash, tokens)) if len(tokens) >= TITLE_MIN_TOKENS else None for tokens in tokens_of]
    held = Counter(sets)  # (until the sets less one token are counted, its keys are the titles' sets)
    held.pop(None, None)
    # a title one token longer than another: its set less that token is the other's set
    extra = [(block, n) for n, tokens in enumerate(tokens_of) if _LONGER <= len(tokens) < SUBSTITUTION_TOKENS
             for total in [sets[n]] for h in map(hash, tokens) if (block := total - h) in held]
    held.update(block for block, _ in extra)
    # a title long enough to match by substitution (one token different on each side) counts
    # every set less one of its tokens, a title's set or not; they are made again for the buckets
    # rather than kept: a hundred thousand titles of a hundred words would keep ten million
    long = [n for n, tokens in enumerate(tokens_of) if len(tokens) >= SUBSTITUTION_TOKENS]
    held.update(total - h for n in long for total in [sets[n]] for h in map(hash, tokens_of[n]))
    live = {block for block, holders in held.items() if 1 < holders <= BLOCK_LIMIT}
    buckets: dict[int, list[int]] = {}
    for block, n in [(total, n) for n, total in enumerate(sets) if total in live] + \
            [pair for pair in extra if pair[0] in live] + \
            [(block, n) for n in long for total in [sets[n]] for h in map(hash, tokens_of[n])
             if (block := total - h) in live]:
        buckets.setdefault(block, []).append(n)
    dead = frozenset(dead)
    found: dict[tuple[int, int], float] = {}
    for block, holders in buckets.items():
        if dead and _signature_of(tokens_of[holders[0]], block) in dead:
            continue
        bucket = sorted(holders, key=lambda n: (items[n].day, items[n].id))
        for place, n in enumerate(bucket):
            a = items[n]
            for m in bucket[place + 1:]:
                b = items[m]
                if (b.day - a.day).days > TITLE_DAYS:
                    break
                pair = (n, m) if a.id < b.id else (m, n)
                if pair not in found and (similarity := titles_match(a, keys[n], b, keys[m])):
                    found[pair] = similarity
    return [(sim, a, b) for (a, b), sim in found.items()]


def _signature_of(tokens: tuple[str, ...], block: int) -> str:
    """The stored key (`sig:…`) of the block of these tokens whose hash is `block`."""
    for part in _blocks(tokens):
        if sum(map(hash, part)) == block:
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
    unique = {item.id: item for item in items}
    ids = sorted(unique)
    items = [unique[item_id] for item_id in ids]
    mirrors = tuple(mirrors)
    if keys is None:
        known = [keys_of(item, mirrors) for item in items]
    else:
        known = [keys.get(item_id) for item_id in ids]
        for n, item_keys in enumerate(known):
            if item_keys is None:
                known[n] = keys[ids[n]] = keys_of(items[n], mirrors)
    # items by number (their place in id order) from here on
    first: dict[str, int] = {}             # a key -> its first holder
    holders: dict[str, list[int]] = {}     # a key held by two items or more -> its holders
    for n, item_keys in enumerate(known):
        for key in item_keys.own + item_keys.link if item_keys.link else item_keys.own:
            held = first.setdefault(key, n)
            if held != n:
                shared = holders.get(key)
                if shared is None:
                    holders[key] = [held, n]
                else:
                    shared.append(n)
    del first
    union = _Partition(known)
    for key in sorted(holders, key=_key_order):
        first_holder, *rest = holders[key]
        refused = [other for other in rest if not union.union(first_holder, other)]
        for other in refused:
            # a contradiction with the first holder's story: `other` may still join another
            # holder's story, but only once every holder that can has joined the first's (none is
            # taken from it)
            for candidate in holders[key]:
                if candidate != other and union.union(candidate, other):
                    break
    title_partner: dict[int, int] = {}
    for _, a, b in sorted(_title_pairs(items, known, dead), key=lambda p: (-p[0], p[1], p[2])):
        if union.find(a) != union.find(b) and union.union(a, b):
            title_partner.setdefault(a, b)
            title_partner.setdefault(b, a)
    return _assign(union.stories(len(items)), ids, known, title_partner)


def _assign(stories: list[list[int]], ids: list[str], keys: list[ItemKeys],
            title_partner: dict[int, int]) -> dict[str, Assignment]:
    result: dict[str, Assignment] = {}
    used: set[str] = set()
    story_hash = short_hasher("story")
    for members in stories:
        first = members[0]
        own = keys[first].own if len(members) == 1 else [k for m in members for k in keys[m].own]
        anchor = _strongest(own) if own else f"item:{ids[first]}"
        story_id = "s" + story_hash(anchor)[:16]
        if story_id in used:  # two stories claim one anchor only when a contradiction split them
            story_id = "s" + short_hash("story", anchor, ids[first])[:16]
        used.add(story_id)
        if len(members) == 1:
            result[ids[first]] = Assignment(story_id, "alone")
            continue
        held: dict[str, int] = {}    # a key -> how many members hold it
        for member in members:
            for key in keys[member].all:
                held[key] = held.get(key, 0) + 1
        for member in members:
            shared = [k for k in keys[member].all if held[k] > 1]
            if shared:
                rule = _strongest(shared)
            elif member in title_partner:
                rule = f"title~{ids[title_partner[member]]}"
            else:
                rule = "title"
            result[ids[member]] = Assignment(story_id, rule)
    return result


def stored_keys(keys: ItemKeys) -> list[tuple[str, str]]:
    """An item's keys as the store keeps them: (key, role), title blocks as `sig:` keys."""
    pairs = [(k, "own") for k in keys.own] + [(k, "link") for k in keys.link]
    return pairs + [(f"sig:{t}", "title") for t in title_signatures(keys.tokens)]


def keys_from_stored(pairs: Iterable[tuple[str, str]], title: str) -> ItemKeys:
    """A stored item's keys, read back (only its title is tokenized again)."""
    pairs = list(pairs)
    return ItemKeys([k for k, role in pairs if role == "own"], [k for k, role in pairs if role == "link"],
                    title_words(title))


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
