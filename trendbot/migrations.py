"""The database schema as numbered sqlite-utils migrations, never edited once released.

Loaded only when a database is behind (`trendbot/store.py` compares `PRAGMA user_version` with
`SCHEMA_VERSION` first), so that an everyday command does not pay for sqlite-utils. sqlite-utils
imports numpy and pandas when they are installed, only to store their values; trendbot stores
none, so they are hidden while it loads (numpy alone would add 13 MB and 100 ms to the first run
of every new database, and to the parsing processes forked after it). Every
pending migration runs in the caller's one transaction, with the new user_version: a process
killed on the first open leaves an empty file that the next one completes.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
from typing import Iterator

from trendbot.models import EXCERPT_CHARS


@contextlib.contextmanager
def _hidden(*names: str) -> Iterator[None]:
    """Imports of these modules fail inside (unless already loaded); afterwards they work again."""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]


with _hidden("numpy", "pandas"):
    import sqlite_utils
    from sqlite_utils.migrations import Migrations

migrations = Migrations("trendbot")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db["items"].create(
        {
            "id": str, "source": str, "kind": str, "guid": str, "url": str, "canonical_url": str,
            "title": str, "text": str, "summary": str, "author": str,
            "published_at": str,   # UTC ISO-8601
            "day": str,            # YYYY-MM-DD in the configured zone, or the source's listing day
            "first_seen_at": str, "updated_at": str,
            "popularity": str, "links": str, "extra": str, "raw": str,   # JSON
            "content_hash": str,
        },
        pk="id",
        not_null={"source", "kind", "url", "title", "day"},
    )
    db["items"].create_index(["day", "source"], index_name="items_day_source")
    db["items"].create_index(["source", "published_at"], index_name="items_source_published")
    db["items"].create_index(["canonical_url"], index_name="items_canonical_url")
    db["items"].enable_fts(["title", "text"], create_triggers=True, tokenize="unicode61")
    db["source_state"].create(
        {
            "name": str, "kind": str, "last_attempt_at": str, "last_success_at": str,
            "last_error": str, "last_error_at": str, "next_fetch_after": str,
            "last_new": int, "last_updated": int, "consecutive_failures": int,
        },
        pk="name",
    )
    db["http_validators"].create(
        {"url": str, "source": str, "etag": str, "last_modified": str, "updated_at": str}, pk="url"
    )
    # Small per-source memory a kind keeps across runs (e.g. the health of each X mirror).
    db["source_kv"].create(
        {"source": str, "key": str, "value": str, "updated_at": str}, pk=("source", "key")
    )


@migrations()
def m002_stories(db: sqlite_utils.Database) -> None:
    # Identity keys per item (trendbot/urls.py, trendbot/merge.py): role "own" for what the item
    # is, "link" for what it links to, "title" for the title tokens that find near-duplicates.
    db["item_keys"].create({"item_id": str, "key": str, "role": str}, pk=("item_id", "key"))
    db["item_keys"].create_index(["key"], index_name="item_keys_key")
    # Which story each item belongs to, and the rule that joined it (e.g. "arxiv:2606.13392").
    db["story_items"].create({"item_id": str, "story_id": str, "rule": str, "updated_at": str}, pk="item_id")
    db["story_items"].create_index(["story_id"], index_name="story_items_story")
    # Summaries written by a language model, keyed by hash(prompt version, model, input text).
    db["summaries"].create(
        {"hash": str, "model": str, "prompt_version": str, "summary": str, "created_at": str}, pk="hash"
    )


@migrations()
def m003_publications(db: sqlite_utils.Database) -> None:
    # Where each day's section was last published (a post in the blog, or digests/D.md) and the
    # hash of the block trendbot wrote there; the daemon's catch-up asks which days are missing.
    db["publications"].create(
        {"day": str, "path": str, "content_hash": str, "published_at": str}, pk=("day", "path")
    )


@migrations()
def m004_source_warnings(db: sqlite_utils.Database) -> None:
    # A fetch that succeeded with a problem (a broken document read in part) says so here.
    db["source_state"].add_column("last_warning", str)


@migrations()
def m005_sticky_days_and_staleness(db: sqlite_utils.Database) -> None:
    # When a fetch last brought something new, the newest item's time, and whether the last
    # answer was "not modified": a source that answers but never changes is stale too.
    for column, kind in (("last_new_at", str), ("newest_item_at", str), ("not_modified", int)):
        db["source_state"].add_column(column, kind)


@migrations()
def m006_trigram_search_and_merge_base(db: sqlite_utils.Database) -> None:
    # Substring search for Korean and English alike: Korean attaches particles to words, so
    # whole-token matching misses most queries ("하이퍼클로바" in "하이퍼클로바X는").
    # Indexed: the title and the text's first EXCERPT_CHARS characters (the lead a search is about;
    # a trigram index of whole texts would cost more than the rest of a fetch's writes).
    db["items"].disable_fts()
    db["items"].add_column("excerpt", str)
    db.execute(f"update items set excerpt = substr(text, 1, {EXCERPT_CHARS})")
    db["items"].enable_fts(["title", "excerpt"], create_triggers=True, tokenize="trigram")
    # What trendbot last rendered for a day: the base of the three-way merge with the person's edits.
    db["publications"].add_column("base", str)


@migrations()
def m007_fetch_history(db: sqlite_utils.Database) -> None:
    # Every fetch attempt of every source, kept `[store] history`: `trendbot sources --days`
    # shows each source's record, and the `down` / `back` messages are decided from it. The id
    # orders attempts as they were saved, whatever the clocks of the processes that made them.
    db["fetch_history"].create(
        {"id": int, "source": str, "at": str, "ok": int, "new_items": int, "error": str}, pk="id",
        not_null={"source", "at", "ok"},
    )
    # both hold the ids in order: a source's latest attempt, its last success and the attempts
    # after it are one seek each, however long the history
    db["fetch_history"].create_index(["source"], index_name="fetch_history_source")
    db["fetch_history"].create_index(["source", "ok"], index_name="fetch_history_source_ok")
    db["fetch_history"].create_index(["at"], index_name="fetch_history_at")


@migrations()
def m008_verdicts(db: sqlite_utils.Database) -> None:
    # What the person did with each of trendbot's story lines, per day (trendbot/taste.py): one
    # row per day and story, the story known by the address of its line's link. The features
    # are the story's as the taste model reads them (JSON), kept so a verdict outlives its items.
    db["verdicts"].create(
        {"day": str, "story": str, "verdict": str, "title": str, "features": str, "line": str,
         "recorded_at": str},
        pk=("day", "story"), not_null={"verdict"},
    )


@migrations()
def m009_block_bases(db: sqlite_utils.Database) -> None:
    # Every text trendbot wrote into a block, by the hash its begin marker names it with: the
    # base of the next merge is the one the post names, so a record that lags behind the post
    # (a crash between the two, a locked database) never makes trendbot's lines look like the
    # person's. Kept here before the post is replaced.
    db["block_bases"].create({"block": str, "hash": str, "base": str, "written_at": str}, pk=("block", "hash"))
    rows = db.execute("select day, path, base, published_at from publications where base is not null").fetchall()
    for day, path, base, written_at in rows:
        block = f"week-{day}" if path.endswith("#week") else day
        lines = [line.rstrip() for line in base.replace("\r\n", "\n").split("\n")]
        digest = hashlib.sha256("\n".join(lines).strip("\n").encode("utf-8")).hexdigest()  # as the marker's hash
        db["block_bases"].insert({"block": block, "hash": digest, "base": base, "written_at": written_at},
                                 replace=True)


@migrations()
def m010_merge_lookups(db: sqlite_utils.Database) -> None:
    # A story merge asks a crowd's key for its first holder and a story for its first member:
    # with these, at once, however many items a thousand feeds serving one link have made.
    db["item_keys"].create_index(["key", "item_id"], index_name="item_keys_key_item")
    db["story_items"].create_index(["story_id", "item_id"], index_name="story_items_story_item")


def apply(conn) -> int:
    """Apply what is pending on this connection (inside the caller's transaction); the version."""
    db = sqlite_utils.Database(conn)
    migrations.apply(db)
    version = len(migrations._migrations)
    conn.execute(f"PRAGMA user_version = {version}")
    return version
