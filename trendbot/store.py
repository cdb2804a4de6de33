"""The SQLite store: the only module that holds SQL.

Items are keyed by a stable id (source + guid, else source + canonical URL), so a re-fetch
updates a row in place; a row is rewritten only when its content hash changes. An item's day is
fixed when it is first stored (see `first_day`): a feed that re-dates its items never moves them
to another day. Each source has a state row (last success, last error, next allowed fetch,
staleness), the validators of the URLs it fetches and its kind's memory, all written in the same
transaction as its items; every attempt, failed or not, is also a row of `fetch_history` (the
source's record, and what `down` / `back` messages are decided from). Schema changes are
numbered sqlite-utils migrations, never edited once released. Everything leaves the store as the
typed rows of `trendbot/models.py` (a fetch attempt as an `Attempt`, below).

Concurrency: WAL mode plus a busy timeout, and every write transaction starts with
`BEGIN IMMEDIATE` so that a cron `trendbot fetch` and the daemon queue for the write lock
instead of failing with "database is locked" on a lock upgrade. Turning a new file to WAL
is the one step SQLite does not queue (it answers "locked" at once when another process holds
the lock), so `use_wal` waits for it.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator
from zoneinfo import ZoneInfo

from trendbot.errors import StoreBusy, StoreError
from trendbot.models import EXCERPT_CHARS, Item, Publication, SourceState, StoredItem, Validators, Verdict
from trendbot.pause import pause_point
from trendbot.text import valid_unicode
from trendbot.timeutil import day_of, from_iso, iso
from trendbot.urls import canonicalize_url

BUSY_TIMEOUT_S = 60
SCHEMA_VERSION = 10  # the number of migrations in trendbot/migrations.py
BASES_KEPT = 30  # texts kept per block: a post names the last one, or one a few publishes back
CHUNK = 500  # values in one IN (...) list, well under SQLite's limit
TITLE_WEIGHT = 4.0  # in search, a word in the title counts four times one in the text
# A published time this far ahead of the fetch, or before this, is not believed (see first_day).
FUTURE_SLACK = timedelta(hours=1)
EARLIEST_BELIEVABLE = datetime(1995, 1, 1, tzinfo=timezone.utc)
ITEM_COLUMNS = ("id, source, kind, guid, url, canonical_url, title, text, summary, author, published_at, day, "
                "first_seen_at, updated_at, popularity, links, extra")
SELECTED = ", ".join("items." + column.strip() for column in ITEM_COLUMNS.split(","))

@dataclass
class Fetched:
    """One source's successful fetch, as the store saves it."""

    name: str
    kind: str
    items: list[Item]
    validators: dict[str, Validators] = field(default_factory=dict)
    memory: dict[str, Any] | None = None   # None: the kind's memory is left as it is
    warning: str | None = None
    not_modified: bool = False


@dataclass
class UpsertResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    ids: list[str] = field(default_factory=list)          # every item given, stored or not
    changed_ids: list[str] = field(default_factory=list)  # new or updated, for the story merge
    newest: datetime | None = None                        # the newest item's time among those stored


@dataclass(frozen=True)
class Attempt:
    """One fetch attempt of a source, as `fetch_history` keeps it."""

    id: int
    source: str
    at: datetime
    ok: bool
    new_items: int = 0
    error: str | None = None


def believable(published: datetime | None, now: datetime) -> datetime | None:
    """A published time to file an item by, or None: not later than the fetch (an hour's clock
    skew aside), not before 1995 (the epoch and 1900 are what broken feeds write)."""
    if published is None or published > now + FUTURE_SLACK or published < EARLIEST_BELIEVABLE:
        return None
    return published


def first_day(item: Item, now: datetime, tz: ZoneInfo) -> date:
    """The day an item is filed under when first stored, and keeps: the listing day a kind gives
    (Hugging Face's Daily Papers date), else the day of a believable published time, else the day
    it was first seen."""
    return item.day or day_of(believable(item.published_at, now) or now, tz)


def item_row(item: Item, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": item.key, "source": item.source, "kind": item.kind, "guid": item.guid,
        "url": item.url, "canonical_url": canonicalize_url(item.url), "title": item.title,
        "text": item.text, "excerpt": item.text[:EXCERPT_CHARS], "summary": item.summary, "author": item.author,
        "published_at": iso(item.published_at), "day": first_day(item, now, tz).isoformat(),
        "first_seen_at": iso(now), "updated_at": iso(now),
        "popularity": json.dumps(item.popularity, sort_keys=True),
        "links": json.dumps(item.links, ensure_ascii=False),
        # payloads keep what the site sent, made valid Unicode so that SQLite can store it
        "extra": valid_unicode(json.dumps(item.extra, ensure_ascii=False, sort_keys=True, default=str)),
        "raw": valid_unicode(json.dumps(item.raw, ensure_ascii=False, default=str)),
        "content_hash": item.content_hash(),
    }


def kept_details(item: Item, popularity: str | None, extra: str | None) -> Item:
    """`item` with what the stored row knew and this fetch did not read again: the counts and
    `extra` fields it lacks (a GeekNews topic's points and article). What it did read wins.
    Links are what the item says now: a post edited to drop its link leaves that story."""
    stored_popularity = json.loads(popularity) if popularity else {}
    stored_extra = json.loads(extra) if extra else {}
    if not (stored_popularity.keys() - item.popularity.keys() or stored_extra.keys() - item.extra.keys()):
        return item
    return item.model_copy(update={"popularity": {**stored_popularity, **item.popularity},
                                   "extra": {**stored_extra, **item.extra}})


def stored_item(row: tuple) -> StoredItem:
    """A row selected as ITEM_COLUMNS (+ story_id, merge_rule) as a typed item."""
    (id_, source, kind, guid, url, canonical, title, text, summary, author, published, day, first_seen,
     updated, popularity, links, extra, *story) = row
    return StoredItem(
        id=id_, source=source, kind=kind, guid=guid, url=url, canonical_url=canonical or "", title=title,
        text=text or "", summary=summary, author=author, published_at=from_iso(published),
        day=date.fromisoformat(day), first_seen_at=from_iso(first_seen), updated_at=from_iso(updated),
        popularity=json.loads(popularity) if popularity else {}, links=json.loads(links) if links else [],
        extra=json.loads(extra) if extra else {},
        story_id=story[0] if story else None, merge_rule=story[1] if len(story) > 1 else None,
    )


def source_state(row: dict) -> SourceState:
    return SourceState(
        name=row["name"], kind=row["kind"],
        last_attempt_at=from_iso(row["last_attempt_at"]), last_success_at=from_iso(row["last_success_at"]),
        last_error=row["last_error"], last_error_at=from_iso(row["last_error_at"]),
        next_fetch_after=from_iso(row["next_fetch_after"]),
        last_new=row["last_new"] or 0, last_updated=row["last_updated"] or 0,
        consecutive_failures=row["consecutive_failures"] or 0, last_warning=row.get("last_warning"),
        last_new_at=from_iso(row.get("last_new_at")), newest_item_at=from_iso(row.get("newest_item_at")),
        not_modified=bool(row.get("not_modified")),
    )


def is_disk_full(exc: sqlite3.Error, path: Path | None = None) -> bool:
    """SQLite says "database or disk is full", or only "disk I/O error" when the full disk stops
    it from creating its WAL files: then the file system itself is asked."""
    if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(exc):
        return True
    if path is not None and "disk I/O error" in str(exc):
        try:
            return shutil.disk_usage(path.parent).free == 0
        except OSError:
            return False
    return False


def describe_sqlite(exc: sqlite3.Error, path: Path | None = None) -> str:
    if is_disk_full(exc, path):
        return f"no space left on the device (SQLite: {exc})"
    return str(exc)


def use_wal(conn: sqlite3.Connection, timeout: float = BUSY_TIMEOUT_S) -> None:
    """Switch the database to WAL. Two processes opening a new file at once both try to switch
    it, and SQLite answers the loser "database is locked" without waiting (the busy handler is
    not called for a lock upgrade), so wait here until the winner is done."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def is_busy(exc: BaseException) -> bool:
    """Another process holds the database's lock: waiting (or trying later) is the cure."""
    if isinstance(exc, StoreBusy):
        return True
    if isinstance(exc, StoreError):  # a write that could not start: "nothing written: database is locked"
        return isinstance(exc.__context__, sqlite3.OperationalError) and is_busy(exc.__context__)
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.OperationalError) and code is not None and code & 0xFF in (
        sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


MergeKeys = tuple[list[tuple[str, str]], "str | None"]  # an item's (key, role) pairs, and its only key


@dataclass
class Neighbourhood:
    """What a story merge reads (`Store.merge_neighbourhood`): rows are `merge_rows` tuples."""

    batch: list[str]                                          # the items asked for
    batch_keys: dict[str, list[tuple[str, str]]]              # their keys as the merge computed them
    rows: dict[str, tuple] = field(default_factory=dict)      # every item to partition again
    keys: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # and its keys
    dead: set[str] = field(default_factory=set)               # title blocks that join nothing
    # new items in a crowd: id -> (the crowd's key, the first holder's story, holders of the key in
    # it (up to 2), whether one holds the key as its own, the story's first member)
    crowded: dict[str, tuple[str, str | None, int, bool, str | None]] = field(default_factory=dict)


class _Rollback(Exception):
    """Ends a scratch transaction."""


class Store:
    """A trendbot database. Applies outstanding migrations when opened."""

    def __init__(self, path: str | Path, busy_timeout: float = BUSY_TIMEOUT_S):
        self.path = Path(path)
        self._savepoints = 0
        if self.path.exists() and not self.path.is_file():
            what = "a folder" if self.path.is_dir() else "not a regular file"
            raise StoreError(f"{self.path}: cannot use as the database: it is {what}", exit_code=2)
        conn = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None,
                                   check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            # Before anything that writes (even the switch to WAL rewrites the header): a newer
            # trendbot's database is left byte for byte as it was.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"{self.path}: this database was made by a newer trendbot (schema version "
                                 f"{version}; this one knows up to {SCHEMA_VERSION}): upgrade trendbot to use it, "
                                 f"or give this one its own --db; the file was not changed", exit_code=2)
            use_wal(conn, busy_timeout)
            conn.execute("PRAGMA synchronous = NORMAL")
            self.conn = conn
            if version < SCHEMA_VERSION:
                # the schema code (and sqlite-utils) loads only for a database that is behind
                from trendbot import migrations

                with self.write():
                    pause_point("schema")
                    migrations.apply(conn)
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if is_busy(exc):
                raise StoreBusy(f"{self.path}: another process holds the database (waited {busy_timeout:g}s "
                                f"for it to let go)") from None
            if isinstance(exc, sqlite3.DatabaseError):
                raise StoreError(f"{self.path}: cannot open the database: {describe_sqlite(exc, self.path)}",
                                 exit_code=1 if is_disk_full(exc, self.path) else 2) from None
            if isinstance(exc, OSError):
                raise StoreError(f"{self.path}: cannot open the database: {exc.strerror or exc}", exit_code=2) from None
            raise

    @property
    def db(self) -> sqlite3.Connection:
        return self.conn

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the write lock up front (BEGIN IMMEDIATE); nested in
        another, a savepoint."""
        conn = self.conn
        if conn.in_transaction:
            self._savepoints += 1
            name = f"trendbot_{self._savepoints}"
            conn.execute(f"SAVEPOINT {name}")
            try:
                yield conn
            except BaseException:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
                raise
            conn.execute(f"RELEASE {name}")
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            # the database is intact (the transaction rolled back); say why nothing was written
            raise StoreError(f"{self.path}: nothing written: {describe_sqlite(exc)}") from None

    @contextlib.contextmanager
    def scratch(self) -> Iterator[Store]:
        """Everything written inside is rolled back at the end: `--dry-run` works on the real
        data and leaves the database exactly as it was."""
        try:
            with self.write():
                yield self
                raise _Rollback
        except _Rollback:
            pass

    def _rows(self, sql: str, args: Iterable = ()) -> Iterator[tuple]:
        return self.conn.execute(sql, list(args))

    def _dicts(self, sql: str, args: Iterable = ()) -> Iterator[dict]:
        cursor = self.conn.execute(sql, list(args))
        columns = [c[0] for c in cursor.description]
        for values in cursor:
            yield dict(zip(columns, values))

    def _chunked(self, sql: str, values: Iterable, extra: Iterable = ()) -> Iterator[tuple]:
        """Run `sql` (with `{marks}` for an IN list) over `values` in chunks SQLite accepts."""
        values = list(values)
        for start in range(0, len(values), CHUNK):
            chunk = values[start:start + CHUNK]
            yield from self._rows(sql.format(marks=",".join("?" * len(chunk))), [*chunk, *extra])

    # -- items -------------------------------------------------------------------------

    def upsert_items(self, items: Iterable[Item], now: datetime, tz: ZoneInfo) -> UpsertResult:
        """Insert new items, update changed ones in place (their day, first sighting and first
        published time stay), leave unchanged rows untouched. A fetch that did not read a detail
        again never erases it: a popularity count or an `extra` field the stored row has and the
        new item lacks (a GeekNews topic whose page was not re-read) is kept."""
        given: dict[str, Item] = {}
        rows: dict[str, dict] = {}
        for item in items:
            row = item_row(item, now, tz)
            rows[row["id"]], given[row["id"]] = row, item
        result = UpsertResult(ids=list(rows))
        if not rows:
            return result
        with self.write():
            existing = {key: content_hash for key, content_hash in
                        self._chunked("select id, content_hash from items where id in ({marks})", rows)}
            differing = [key for key in rows if key in existing and existing[key] != rows[key]["content_hash"]]
            for key, popularity, extra in self._chunked(
                    "select id, popularity, extra from items where id in ({marks})", differing):
                rows[key] = item_row(kept_details(given[key], popularity, extra), now, tz)
            new_rows, changed_rows = [], []
            for key, row in rows.items():
                if key not in existing:
                    new_rows.append(row)
                elif existing[key] != row["content_hash"]:
                    changed_rows.append({k: v for k, v in row.items()
                                         if k not in ("day", "first_seen_at", "published_at")})
            if new_rows:
                columns = list(new_rows[0])
                self.conn.executemany(
                    f"insert into items ({', '.join(columns)}) values ({', '.join('?' * len(columns))})",
                    [tuple(row[c] for c in columns) for row in new_rows])
            for row in changed_rows:
                columns = [c for c in row if c != "id"]
                self.conn.execute(f"update items set {', '.join(c + ' = ?' for c in columns)} where id = ?",
                                     [*(row[c] for c in columns), row["id"]])
            result.new, result.updated = len(new_rows), len(changed_rows)
            result.changed_ids = [row["id"] for row in new_rows + changed_rows]
            result.unchanged = len(rows) - result.new - result.updated
        times = [from_iso(row["published_at"]) or now for row in new_rows]
        result.newest = max(times) if times else None
        return result

    def _items(self, where: str, args: Iterable = (), order: str = "items.published_at, items.id",
               by_story: bool = False) -> list[StoredItem]:
        # by_story: driven by the story index (an inner join), never by a scan of every item
        source = ("story_items join items on items.id = story_items.item_id" if by_story else
                  "items left join story_items on story_items.item_id = items.id")
        sql = (f"select {SELECTED}, story_items.story_id, story_items.rule from {source} "
               f"where {where} order by {order}")
        return [stored_item(row) for row in self._rows(sql, args)]

    def items_of_day(self, day: date, source: str | None = None) -> list[StoredItem]:
        """The day's items, each with its story and merge rule (None before merging)."""
        if source:
            return self._items("items.day = ? and items.source = ?", [day.isoformat(), source])
        return self._items("items.day = ?", [day.isoformat()])

    def items_by_id(self, ids: Iterable[str]) -> list[StoredItem]:
        """Items with their story assignment, in id order."""
        ids = sorted(set(ids))
        found: list[StoredItem] = []
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            found += self._items(f"items.id in ({','.join('?' * len(chunk))})", chunk, order="items.id")
        return found

    def items_without_story(self, days: Iterable[date]) -> list[str]:
        sql = ("select items.id from items left join story_items on story_items.item_id = items.id "
               "where story_items.item_id is null and items.day in ({marks})")
        return [row[0] for row in self._chunked(sql, sorted({d.isoformat() for d in days}))]

    def merge_rows(self, ids: Iterable[str]) -> list[tuple]:
        """(id, source, url, title, day, links JSON, original URL, story id) of the given items:
        only what the story merge reads."""
        sql = ("select items.id, items.source, items.url, items.title, items.day, items.links, "
               "json_extract(items.extra, '$.original_url'), story_items.story_id from items "
               "left join story_items on story_items.item_id = items.id where items.id in ({marks})")
        return list(self._chunked(sql, sorted(set(ids))))

    def merge_neighbourhood(self, ids: Iterable[str], keys_for: Callable[[list[tuple]], dict[str, MergeKeys]],
                            *, window: int, block_limit: int, crowd: int, full: Iterable[str] = ()) -> Neighbourhood:
        """Everything a story merge of `ids` needs, in one read: the items, and the stored items
        connected to them (sharing a key, or a title block within `window` days), whole.

        `keys_for` gives the items' keys as the merge computes them ((key, role) pairs, and the one
        key of an item that holds only one); stored items bring their stored keys. A title block
        (`sig:…`) held by more than `block_limit` items joins nothing and is not followed, except
        when this merge makes it cross that line (its holders are then all read again). A new item
        whose only key is held by more than `crowd` stored items is not followed into that crowd:
        the facts deciding where it goes are read instead (`Neighbourhood.crowded`), unless the
        item is in `full`, or something else of the merge reaches the crowd anyway.
        """
        with self._snapshot():
            batch_rows = {row[0]: row for row in self.merge_rows(ids)}
            computed = keys_for(list(batch_rows.values()))
            new_keys = {item_id: pairs for item_id, (pairs, _) in computed.items()}
            hood = Neighbourhood(batch=sorted(batch_rows), batch_keys=new_keys)
            old_keys = list(self._chunked("select item_id, key from item_keys where item_id in ({marks})", batch_rows))
            bound = max(block_limit, crowd) + 1 + len(batch_rows)  # counting further changes no decision
            counts = self._key_counts({k for pairs in new_keys.values() for k, _ in pairs} | {k for _, k in old_keys},
                                      bound)
            after = dict(counts)
            for _, key in old_keys:
                after[key] -= 1
            holders_in_batch: dict[str, list[str]] = {}
            for item_id, pairs in new_keys.items():
                for key, _ in pairs:
                    after[key] = after.get(key, 0) + 1
                    holders_in_batch.setdefault(key, []).append(item_id)
            dead = {k for k, n in after.items() if k.startswith("sig:") and n > block_limit}
            crossing = {k for k in after if k.startswith("sig:") and (after[k] > block_limit) != (counts.get(k, 0) > block_limit)}
            full = set(full)
            leaves: dict[str, str] = {}
            for item_id, (pairs, only_key) in computed.items():
                if (only_key and item_id not in full and batch_rows[item_id][7] is None
                        and counts.get(only_key, 0) > crowd
                        and all(after[k] == 1 or k in dead for k, role in pairs if role == "title")):
                    leaves[item_id] = only_key
            seeds = (set(batch_rows) - set(leaves)) | set(self.story_member_ids({row[7] for row in batch_rows.values()}))
            seeds |= {item_id for item_id, _ in self._chunked(
                "select item_id, key from item_keys where key in ({marks})", crossing)}
            hood.dead = dead
            self._grow(hood, seeds, batch_rows, holders_in_batch, leaves, window, block_limit)
            for item_id, key in leaves.items():
                if item_id not in hood.rows:
                    hood.crowded[item_id] = (key, *self._crowd_facts(key, batch_rows))
        return hood

    def _key_counts(self, keys: Iterable[str], bound: int) -> dict[str, int]:
        """How many items hold each key, counted up to `bound` (a crowd is not counted in full)."""
        query = ("select value, (select count(*) from (select 1 from item_keys where key = wanted.value limit ?)) "
                 "from json_each(?) wanted")
        return {key: n for key, n in self.conn.execute(query, [bound, json.dumps(sorted(set(keys)))]) if n}

    def _grow(self, hood: Neighbourhood, seeds: set[str], batch_rows: dict[str, tuple],
              holders_in_batch: dict[str, list[str]], leaves: dict[str, str], window: int, block_limit: int) -> None:
        """The closure of `seeds` along keys and live title blocks (within `window` days of an
        item holding one), into `hood`; a crowded new item reached this way is merged in full."""
        seen_keys: set[str] = set()
        pending = set(seeds)
        while pending:
            fresh = sorted(pending - hood.rows.keys())
            pending = set()
            stored = [i for i in fresh if i not in batch_rows]
            for row in self.merge_rows(stored):
                hood.rows[row[0]] = row
            for item_id in fresh:
                if item_id in batch_rows:
                    hood.rows[item_id] = batch_rows[item_id]
                    hood.keys[item_id] = hood.batch_keys[item_id]
                    leaves.pop(item_id, None)
            for item_id, key, role in self._chunked("select item_id, key, role from item_keys where item_id in ({marks})",
                                                    stored):
                hood.keys.setdefault(item_id, []).append((key, role))
            frontier: dict[str, tuple[str, str]] = {}  # title block -> (earliest, latest day holding it)
            plain: set[str] = set()
            for item_id in fresh:
                day = hood.rows[item_id][4]
                for key, _ in hood.keys.get(item_id, ()):
                    if key in seen_keys or key in hood.dead:
                        continue
                    if key.startswith("sig:"):
                        low, high = frontier.get(key, (day, day))
                        frontier[key] = (min(low, day), max(high, day))
                    else:
                        plain.add(key)
            seen_keys |= plain | frontier.keys()
            counts = self._key_counts((k for k in frontier if k not in holders_in_batch), block_limit + 1)
            for key, n in counts.items():
                if n > block_limit:
                    hood.dead.add(key)
                    del frontier[key]
            for key in plain | frontier.keys():
                pending.update(holders_in_batch.get(key, ()))  # batch holders of a block: any day (few)
            for item_id, _ in self._chunked("select item_id, key from item_keys where key in ({marks})", plain):
                pending.add(item_id)
            reach = {key: ((date.fromisoformat(low) - timedelta(days=window)).isoformat(),
                           (date.fromisoformat(high) + timedelta(days=window)).isoformat())
                     for key, (low, high) in frontier.items()}
            for item_id, key, day in self._chunked(
                    "select item_keys.item_id, item_keys.key, items.day from item_keys join items on "
                    "items.id = item_keys.item_id where item_keys.key in ({marks})", frontier):
                if reach[key][0] <= day <= reach[key][1]:
                    pending.add(item_id)
            pending -= hood.rows.keys()

    _CROWD_FACTS = (
        "select first, story_items.story_id, "
        "(select count(*) from (select 1 from item_keys k join story_items t on t.item_id = k.item_id "
        " where k.key = :key and t.story_id = story_items.story_id limit 2)), "
        "exists(select 1 from item_keys k join story_items t on t.item_id = k.item_id "
        " where k.key = :key and k.role = 'own' and t.story_id = story_items.story_id), "
        "(select min(item_id) from story_items t where t.story_id = story_items.story_id) "
        "from (select min(item_id) first from item_keys where key = :key) "
        "left join story_items on story_items.item_id = first")

    def _crowd_facts(self, key: str, batch_rows: dict[str, tuple]) -> tuple[str | None, int, bool, str | None]:
        """Where a new item holding only `key` would go, for a crowded key: the story of the
        first stored holder, how many holders of the key that story has (up to 2), whether one
        holds it as its own, and the story's first member (one query, on migration 7's indexes)."""
        first, story, holders, owned, lowest = self.conn.execute(self._CROWD_FACTS, {"key": key}).fetchone()
        if first is None or story is None or first in batch_rows:
            return None, 0, False, None
        return story, holders, bool(owned), lowest

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Several reads that see one state of the database (inside a write, that write's)."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    def story_member_ids(self, story_ids: Iterable[str]) -> list[str]:
        return [row[0] for row in self._chunked("select item_id from story_items where story_id in ({marks})",
                                                sorted(set(story_ids) - {None}))]

    def story_members(self, story_ids: Iterable[str]) -> list[StoredItem]:
        """Every item of the given stories, whatever its day."""
        ids = sorted(set(story_ids) - {None})
        found: list[StoredItem] = []
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            found += self._items(f"story_items.story_id in ({','.join('?' * len(chunk))})", chunk, by_story=True)
        return found

    def save_merge(self, keys: dict[str, list[tuple[str, str]]], stories: dict[str, tuple[str, str]],
                   now: datetime) -> int:
        """Replace the identity keys of the items in `keys` and write story assignments
        (item id -> (story id, rule)); rows that already say the same are left alone.
        Returns how many assignments changed."""
        with self.write():
            if keys:
                for start in range(0, len(ids := sorted(keys)), CHUNK):
                    chunk = ids[start:start + CHUNK]
                    self.conn.execute(f"delete from item_keys where item_id in ({','.join('?' * len(chunk))})", chunk)
                self.conn.executemany(
                    "insert or ignore into item_keys (item_id, key, role) values (?, ?, ?)",
                    [(item_id, key, role) for item_id, pairs in keys.items() for key, role in pairs])
            current = {item_id: (story_id, rule) for item_id, story_id, rule in self._chunked(
                "select item_id, story_id, rule from story_items where item_id in ({marks})", sorted(stories))}
            changed = [(item_id, story_id, rule, iso(now)) for item_id, (story_id, rule) in stories.items()
                       if current.get(item_id) != (story_id, rule)]
            if changed:
                self.conn.executemany(
                    "insert into story_items (item_id, story_id, rule, updated_at) values (?, ?, ?, ?) "
                    "on conflict (item_id) do update set story_id = excluded.story_id, rule = excluded.rule, "
                    "updated_at = excluded.updated_at", changed)
        return len(changed)

    def summaries(self, keys: Iterable[str]) -> dict[str, str]:
        return dict(self._chunked("select hash, summary from summaries where hash in ({marks})", sorted(set(keys))))

    def save_summaries(self, written: dict[str, tuple[str, str, str]], now: datetime) -> None:
        """Cache summaries written by a model: hash -> (model, prompt version, summary)."""
        if not written:
            return
        with self.write():
            self.conn.executemany(
                "insert or replace into summaries (hash, model, prompt_version, summary, created_at) "
                "values (?, ?, ?, ?, ?)",
                [(key, model, version, summary, iso(now)) for key, (model, version, summary) in written.items()])

    def counts_by_source(self) -> dict[str, int]:
        return dict(self._rows("select source, count(*) from items group by source"))

    def search(self, query: str, limit: int = 20) -> list[StoredItem]:
        """Items whose title or text holds `query`'s words as substrings, best match first (BM25,
        titles weighted), or newest first when every word is shorter than three characters
        (quotes and FTS operators in the query are plain characters, so no query is an error).
        Words of three characters or more use the trigram index; shorter ones are looked for
        with LIKE."""
        words = [word for word in query.split() if word]
        if not words:
            return []
        long_words = [word for word in words if len(word) >= 3]
        short_words = [word for word in words if len(word) < 3]
        where, args = [], []
        for word in short_words:
            pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(items.title like ? escape '\\' or items.excerpt like ? escape '\\')")
            args += [pattern, pattern]
        try:
            if long_words:
                match = " ".join('"' + word.replace('"', '""') + '"' for word in long_words)
                ids = [row[0] for row in self._rows(
                    "select items.id from items_fts join items on items.rowid = items_fts.rowid "
                    "where items_fts match ? order by bm25(items_fts, ?, 1.0) limit ?", [match, TITLE_WEIGHT, max(limit * 5, 100)])]
                if not ids:
                    return []
                rank = {item_id: n for n, item_id in enumerate(ids)}
                where.append(f"items.id in ({','.join('?' * len(ids))})")
                args += ids
                found = self._items(" and ".join(where), args, order="items.day desc")
                return sorted(found, key=lambda item: rank[item.id])[:limit]
            return self._items(" and ".join(where), args, order="items.day desc, items.published_at desc")[:limit]
        except sqlite3.OperationalError as exc:
            raise StoreError(f"search failed: {exc}") from None

    # -- sources -----------------------------------------------------------------------

    def state(self, name: str) -> SourceState:
        rows = list(self._dicts("select * from source_state where name = ?", [name]))
        return source_state(rows[0]) if rows else SourceState(name=name)

    def states(self) -> dict[str, SourceState]:
        return {row["name"]: source_state(row) for row in self._dicts("select * from source_state")}

    def validators_of(self, source: str) -> dict[str, Validators]:
        return {url: Validators(etag, modified) for url, etag, modified in self._rows(
            "select url, etag, last_modified from http_validators where source = ?", [source])}

    def memory(self, source: str) -> dict[str, Any]:
        """What a source's kind remembered from earlier runs (e.g. the health of each X mirror)."""
        return {key: json.loads(value) for key, value in
                self._rows("select key, value from source_kv where source = ?", [source])}

    def _save_memory(self, source: str, memory: dict[str, Any] | None, now: datetime) -> None:
        if memory is None:
            return
        self.conn.execute("delete from source_kv where source = ?", [source])
        if memory:
            self.conn.executemany(
                "insert into source_kv (source, key, value, updated_at) values (?, ?, ?, ?)",
                [(source, key, json.dumps(value, default=str), iso(now)) for key, value in memory.items()])

    def save_fetches(self, fetched: list[Fetched], now: datetime, tz: ZoneInfo) -> list[UpsertResult]:
        """Successful fetches, each its items, then its validators, its kind's memory and its
        state, all in one transaction (the fetch cycle groups the sources that finish together:
        one commit instead of one each); each source is all or nothing.

        Validators are saved with the items they describe, never before: a crash in between
        must not leave an ETag that would make the next fetch skip items never stored."""
        results = []
        with self.write():
            states = self.states()
            for one in fetched:
                result = self.upsert_items(one.items, now, tz)
                pause_point(f"save:{one.name}")
                if one.validators:
                    self.conn.executemany(
                        "insert into http_validators (url, source, etag, last_modified, updated_at) "
                        "values (?, ?, ?, ?, ?) on conflict (url) do update set source = excluded.source, "
                        "etag = excluded.etag, last_modified = excluded.last_modified, updated_at = excluded.updated_at",
                        [(url, one.name, v.etag, v.last_modified, iso(now)) for url, v in one.validators.items()])
                self._save_memory(one.name, one.memory, now)
                self._save_success(one, result, states.get(one.name) or SourceState(one.name), now)
                self._record_attempt(one.name, now, True, result.new)
                results.append(result)
        return results

    def _save_success(self, one: Fetched, result: UpsertResult, previous: SourceState, now: datetime) -> None:
        newest = max(filter(None, (previous.newest_item_at, result.newest)), default=None)
        # counted from the first success, so a feed empty from the start turns stale too
        new_at = now if result.new or previous.last_success_at is None else previous.last_new_at
        self.conn.execute(
            "insert into source_state (name, kind, last_attempt_at, last_success_at, last_error, last_error_at, "
            "next_fetch_after, last_new, last_updated, consecutive_failures, last_warning, not_modified, "
            "last_new_at, newest_item_at) values (?, ?, ?, ?, null, null, null, ?, ?, 0, ?, ?, ?, ?) "
            "on conflict (name) do update set kind = excluded.kind, last_attempt_at = excluded.last_attempt_at, "
            "last_success_at = excluded.last_success_at, last_error = null, last_error_at = null, "
            "next_fetch_after = null, last_new = excluded.last_new, last_updated = excluded.last_updated, "
            "consecutive_failures = 0, last_warning = excluded.last_warning, not_modified = excluded.not_modified, "
            "last_new_at = excluded.last_new_at, newest_item_at = excluded.newest_item_at",
            [one.name, one.kind, iso(now), iso(now), result.new, result.updated, one.warning, int(one.not_modified),
             iso(new_at), iso(newest)])

    def save_failure(self, name: str, kind: str, error: str, now: datetime,
                     next_fetch_after: datetime | None = None, memory: dict[str, Any] | None = None) -> None:
        """Record a failed fetch; the kind's memory (e.g. which mirrors failed) is kept too."""
        with self.write():
            failures = self.state(name).consecutive_failures + 1
            self._save_memory(name, memory, now)
            self.conn.execute(
                "insert into source_state (name, kind, last_attempt_at, last_error, last_error_at, next_fetch_after, "
                "consecutive_failures) values (?, ?, ?, ?, ?, ?, ?) on conflict (name) do update set "
                "kind = excluded.kind, last_attempt_at = excluded.last_attempt_at, last_error = excluded.last_error, "
                "last_error_at = excluded.last_error_at, next_fetch_after = excluded.next_fetch_after, "
                "consecutive_failures = excluded.consecutive_failures",
                [name, kind, iso(now), error, iso(now), iso(next_fetch_after), failures])
            self._record_attempt(name, now, False, 0, error)

    # -- fetch history -----------------------------------------------------------------

    def _record_attempt(self, source: str, now: datetime, ok: bool, new_items: int, error: str | None = None) -> None:
        self.conn.execute("insert into fetch_history (source, at, ok, new_items, error) values (?, ?, ?, ?, ?)",
                          [source, iso(now), int(ok), new_items, error])

    def _attempts(self, where: str, args: Iterable) -> list[Attempt]:
        return [Attempt(id_, source, from_iso(at), bool(ok), new_items or 0, error) for id_, source, at, ok, new_items, error
                in self._rows(f"select id, source, at, ok, new_items, error from fetch_history where {where} order by id",
                              args)]

    def attempts(self, since: datetime) -> list[Attempt]:
        """Every source's attempts from `since` on, oldest first."""
        return self._attempts("at >= ?", [iso(since)])

    def outage_run(self, source: str) -> list[Attempt]:
        """The source's attempts after its last success before the latest attempt: the failures
        of the outage it is in (or has just left, when the latest attempt succeeded)."""
        return self._attempts(
            "source = ? and id > coalesce((select max(id) from fetch_history where source = ? and ok = 1 "
            "and id < (select max(id) from fetch_history where source = ?)), 0)", [source] * 3)

    def prune_history(self, before: datetime) -> int:
        """Forget the attempts made before `before` ([store] history); how many were removed."""
        with self.write():
            return self.conn.execute("delete from fetch_history where at < ?", [iso(before)]).rowcount

    # -- publications ------------------------------------------------------------------

    def record_publication(self, publication: Publication) -> None:
        with self.write():
            self.conn.execute(
                "insert or replace into publications (day, path, content_hash, published_at) values (?, ?, ?, ?)",
                [publication.day.isoformat(), publication.path, publication.content_hash,
                 iso(publication.published_at)])

    def publication(self, day: date, path: str | Path) -> Publication | None:
        """The record of day's last publication into `path`, if any."""
        for row in self._dicts("select * from publications where day = ? and path = ?", [day.isoformat(), str(path)]):
            return Publication(day=day, path=row["path"], content_hash=row["content_hash"],
                               published_at=from_iso(row["published_at"]))
        return None

    def block_bases(self, block: str) -> dict[str, str]:
        """The texts trendbot wrote into a block (`2026-11-20`, `week-2026-11-14`), by hash."""
        return dict(self.conn.execute("select hash, base from block_bases where block = ?", [block]))

    def save_block_base(self, block: str, content_hash: str, base: str, now: datetime) -> None:
        """Keep a text trendbot is about to write into a block, and the last few before it."""
        with self.write():
            self.conn.execute("insert or replace into block_bases (block, hash, base, written_at) values (?, ?, ?, ?)",
                              [block, content_hash, base, iso(now)])
            self.conn.execute("delete from block_bases where block = ? and hash not in (select hash from block_bases "
                              "where block = ? order by written_at desc limit ?)", [block, block, BASES_KEPT])

    def last_published_day(self) -> date | None:
        row = self.conn.execute("select max(day) from publications where path not like '%#week'").fetchone()
        return date.fromisoformat(row[0]) if row and row[0] else None

    def published_days(self, since: date) -> set[date]:
        rows = self.conn.execute("select distinct day from publications where day >= ? and path not like '%#week'",
                                 [since.isoformat()])
        return {date.fromisoformat(day) for (day,) in rows}

    # -- the person's verdicts ------------------------------------------------------------

    def save_verdicts(self, verdicts: Iterable[Verdict], now: datetime) -> int:
        """Record what the person did with each story line, one row per day and story: the
        same reading again changes nothing, a later reading of that day's block replaces it.
        Returns how many rows were new or changed."""
        rows = [(v.day.isoformat(), v.story, v.verdict, v.title, json.dumps(v.features, ensure_ascii=False),
                 v.line, iso(now)) for v in verdicts]
        if not rows:
            return 0
        with self.write():
            before = self.conn.total_changes
            self.conn.executemany(
                "insert into verdicts (day, story, verdict, title, features, line, recorded_at) "
                "values (?, ?, ?, ?, ?, ?, ?) on conflict (day, story) do update set verdict = excluded.verdict, "
                "title = excluded.title, features = excluded.features, line = excluded.line, "
                "recorded_at = excluded.recorded_at where verdict is not excluded.verdict "
                "or title is not excluded.title or features is not excluded.features or line is not excluded.line",
                rows)
            return self.conn.total_changes - before

    def verdicts(self, since: date | None = None, until: date | None = None) -> list[Verdict]:
        """The recorded verdicts (of the days from `since` to `until`, when given), by day."""
        sql = "select day, story, verdict, title, features, line, recorded_at from verdicts where day >= ? and day <= ?"
        args = [since.isoformat() if since else "", until.isoformat() if until else "9999"]
        return [Verdict(date.fromisoformat(day), story, verdict, title or "", json.loads(features or "[]"), line,
                        from_iso(recorded)) for day, story, verdict, title, features, line, recorded
                in self._rows(sql + " order by day, story", args)]

    def verdict_counts(self) -> dict[str, int]:
        return dict(self._rows("select verdict, count(*) from verdicts group by verdict"))

    def forget_verdicts(self) -> int:
        """Delete every verdict; how many there were."""
        with self.write():
            return self.conn.execute("delete from verdicts").rowcount

    def integrity_check(self) -> str:
        return self.conn.execute("pragma integrity_check").fetchone()[0]
