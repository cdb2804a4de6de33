"""The story merge against the store, in three steps: read, decide, save.

`Store.merge_neighbourhood` reads the items to merge and everything connected to them in one
go; `merge.assign` decides with no store in reach (the same pure partition serves a fetch, a
digest and a from-scratch `merge.partition` of every item); `Store.save_merge` writes the keys
and the assignments in one transaction. Only a newcomer to a crowd whose facts do not settle it
(`merge.assign`) sends the merge back for a second, full read.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Iterable

from trendbot import merge
from trendbot.store import Store


def merge_into_store(store: Store, ids: Iterable[str], now: datetime, mirrors: Iterable[str] = ()) -> int:
    """Merge new or changed items into the stored stories; returns how many assignments changed."""
    ids = sorted(set(ids))
    if not ids:
        return 0
    mirrors = tuple(mirrors)
    known: dict[str, merge.ItemKeys] = {}

    def read(full: Iterable[str] = ()):
        return store.merge_neighbourhood(ids, lambda rows: merge.batch_keys(rows, mirrors, known),
                                         window=merge.TITLE_DAYS, block_limit=merge.BLOCK_LIMIT,
                                         crowd=merge.CROWD, full=full)

    hood = read()
    stories, undecided = merge.assign(hood, mirrors, known)
    if undecided:
        hood = read(full=undecided)
        stories, undecided = merge.assign(hood, mirrors, known)
    return store.save_merge(hood.batch_keys, stories, now)


def ensure_merged(store: Store, days: Iterable[date], now: datetime, mirrors: Iterable[str] = ()) -> int:
    """Merge the items of `days` that no merge has seen (e.g. stored before stories existed)."""
    return merge_into_store(store, store.items_without_story(days), now, mirrors)
