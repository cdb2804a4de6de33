"""The SQLite store: the only module that holds SQL.

Items are keyed by a stable id (source + guid, else source + canonical URL), so a re-fetch
updates a row in place; a row is rewritten only when its content hash changes. Each source has
a state row (last success, last error, next allowed fetch) and each URL its HTTP validators.
Schema changes are numbered sqlite-utils migrations, never edited once released.

Concurrency: WAL mode plus a busy timeout, and every write transaction starts with
`BEGIN IMMEDIATE` so that a cron `trendbot fetch` and the daemon queue for the write lock
instead of failing with "database is locked" on a lock upgrade.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Iterator
from zoneinfo import ZoneInfo

import sqlite_utils
from sqlite_utils.migrations import Migrations

from trendbot.errors import StoreError
from trendbot.pause import pause_point
from trendbot.http import Validators
from trendbot.models import Item
from trendbot.text import valid_unicode
from trendbot.timeutil import day_of, from_iso, iso
from trendbot.urls import canonicalize_url

BUSY_TIMEOUT_S = 60
JSON_COLUMNS = ("popularity", "links", "extra", "raw")

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


@dataclass
class UpsertResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    ids: list[str] = field(default_factory=list)
    changed_ids: list[str] = field(default_factory=list)  # new or updated, for the story merge


@dataclass
class SourceState:
    name: str
    kind: str | None = None
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    next_fetch_after: datetime | None = None
    last_new: int = 0
    last_updated: int = 0
    consecutive_failures: int = 0
    last_warning: str | None = None

    @classmethod
    def from_row(cls, row: dict) -> SourceState:
        return cls(
            name=row["name"], kind=row["kind"],
            last_attempt_at=from_iso(row["last_attempt_at"]), last_success_at=from_iso(row["last_success_at"]),
            last_error=row["last_error"], last_error_at=from_iso(row["last_error_at"]),
            next_fetch_after=from_iso(row["next_fetch_after"]),
            last_new=row["last_new"] or 0, last_updated=row["last_updated"] or 0,
            consecutive_failures=row["consecutive_failures"] or 0, last_warning=row.get("last_warning"),
        )


def item_row(item: Item, now: datetime, tz: ZoneInfo, first_seen: datetime | None = None) -> dict[str, Any]:
    """The row of an item seen at `now`; an item with neither a listing day nor a published time
    belongs to the day it was first seen (`first_seen`, when it is already stored)."""
    day = item.day or day_of(item.published_at or first_seen or now, tz)
    return {
        "id": item.key, "source": item.source, "kind": item.kind, "guid": item.guid,
        "url": item.url, "canonical_url": canonicalize_url(item.url), "title": item.title,
        "text": item.text, "summary": item.summary, "author": item.author,
        "published_at": iso(item.published_at), "day": day.isoformat(),
        "first_seen_at": iso(now), "updated_at": iso(now),
        "popularity": json.dumps(item.popularity, sort_keys=True),
        "links": json.dumps(item.links, ensure_ascii=False),
        # payloads keep what the site sent, made valid Unicode so that SQLite can store it
        "extra": valid_unicode(json.dumps(item.extra, ensure_ascii=False, sort_keys=True, default=str)),
        "raw": valid_unicode(json.dumps(item.raw, ensure_ascii=False, default=str)),
        # the day depends on the configured zone too, so a zone change re-files the item
        "content_hash": f"{item.content_hash()}:{day.isoformat()}",
    }


def decode_row(row: dict) -> dict:
    row = dict(row)
    for column in JSON_COLUMNS:
        if column in row and isinstance(row[column], str):
            row[column] = json.loads(row[column])
    for column in ("published_at", "first_seen_at", "updated_at"):
        if column in row:
            row[column] = from_iso(row[column])
    return row


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


class Store:
    """A trendbot database. Applies outstanding migrations when opened."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_file():
            what = "a folder" if self.path.is_dir() else "not a regular file"
            raise StoreError(f"{self.path}: cannot use as the database: it is {what}", exit_code=2)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                   check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            self.db = sqlite_utils.Database(conn)
            # the schema appears whole or not at all: every migration runs in one transaction,
            # so a process killed on the first open leaves an empty file the next one completes
            if migrations.pending(self.db):
                with self.write():
                    pause_point("schema")
                    migrations.apply(self.db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the database: {describe_sqlite(exc, self.path)}",
                             exit_code=1 if is_disk_full(exc, self.path) else 2) from None
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot open the database: {exc.strerror or exc}", exit_code=2) from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """One write transaction, taking the write lock up front (BEGIN IMMEDIATE)."""
        conn = self.db.conn
        if conn.in_transaction:
            with self.db.atomic():
                yield self.db
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            # the database is intact (the transaction rolled back); say why nothing was written
            raise StoreError(f"{self.path}: nothing written: {describe_sqlite(exc, self.path)}") from None

    # -- items -------------------------------------------------------------------------

    def upsert_items(self, items: Iterable[Item], now: datetime, tz: ZoneInfo) -> UpsertResult:
        """Insert new items, update changed ones in place, leave unchanged rows untouched."""
        rows: dict[str, dict] = {}
        undated: dict[str, Item] = {}
        for item in items:
            row = item_row(item, now, tz)
            rows[row["id"]] = row
            if item.published_at is None:
                undated[row["id"]] = item
            else:
                undated.pop(row["id"], None)
        result = UpsertResult(ids=list(rows))
        if not rows:
            return result
        with self.write():
            existing: dict[str, str] = {}
            first_seen: dict[str, datetime | None] = {}
            ids = list(rows)
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for key, content_hash, seen in self.db.execute(
                        f"select id, content_hash, first_seen_at from items where id in ({marks})", chunk):
                    existing[key], first_seen[key] = content_hash, from_iso(seen)
            new_rows, changed_rows = [], []
            for key, row in rows.items():
                if key in existing and key in undated:
                    row = rows[key] = item_row(undated[key], now, tz, first_seen[key])
                if key not in existing:
                    new_rows.append(row)
                elif existing[key] != row["content_hash"]:
                    row = dict(row)
                    del row["first_seen_at"]
                    changed_rows.append(row)
            if new_rows:
                self.db["items"].insert_all(new_rows)
            if changed_rows:
                self.db["items"].upsert_all(changed_rows, pk="id")
            result.new, result.updated = len(new_rows), len(changed_rows)
            result.changed_ids = [row["id"] for row in new_rows + changed_rows]
            result.unchanged = len(rows) - result.new - result.updated
        return result

    def items_of_day(self, day: date, source: str | None = None) -> list[dict]:
        """The day's items, each with its `story_id` and `merge_rule` (None before merging)."""
        where, args = "items.day = ?", [day.isoformat()]
        if source:
            where += " and items.source = ?"
            args.append(source)
        sql = ("select items.*, story_items.story_id, story_items.rule as merge_rule from items "
               f"left join story_items on story_items.item_id = items.id where {where} "
               "order by items.published_at, items.id")
        return [decode_row(row) for row in self._dicts(sql, args)]

    def _dicts(self, sql: str, args: Iterable = ()) -> Iterator[dict]:
        cursor = self.db.execute(sql, list(args))
        columns = [c[0] for c in cursor.description]
        for values in cursor:
            yield dict(zip(columns, values))

    def _chunked(self, sql: str, values: list, extra: Iterable = ()) -> Iterator[dict]:
        """Run `sql` (with `{marks}` for an IN list) over `values` in chunks SQLite accepts."""
        for start in range(0, len(values), 500):
            chunk = values[start:start + 500]
            yield from self._dicts(sql.format(marks=",".join("?" * len(chunk))), [*chunk, *extra])

    # -- stories -----------------------------------------------------------------------

    def items_by_id(self, ids: Iterable[str]) -> list[dict]:
        """Items (decoded) with their story assignment, in id order."""
        sql = ("select items.*, story_items.story_id, story_items.rule as merge_rule from items "
               "left join story_items on story_items.item_id = items.id where items.id in ({marks})")
        rows = [decode_row(row) for row in self._chunked(sql, sorted(set(ids)))]
        return sorted(rows, key=lambda row: row["id"])

    def item_keys(self, ids: Iterable[str]) -> list[dict]:
        """Rows (item_id, key, role) of the given items."""
        return list(self._chunked("select item_id, key, role from item_keys where item_id in ({marks})",
                                  sorted(set(ids))))

    def items_with_keys(self, keys: Iterable[str]) -> list[dict]:
        """Rows (item_id, key, role, day) of every item holding one of `keys`."""
        sql = ("select item_keys.item_id, item_keys.key, item_keys.role, items.day from item_keys "
               "join items on items.id = item_keys.item_id where item_keys.key in ({marks})")
        return list(self._chunked(sql, sorted(set(keys))))

    def items_without_story(self, days: Iterable[date]) -> list[str]:
        sql = ("select items.id from items left join story_items on story_items.item_id = items.id "
               "where story_items.item_id is null and items.day in ({marks})")
        return [row["id"] for row in self._chunked(sql, sorted({d.isoformat() for d in days}))]

    def story_members(self, story_ids: Iterable[str]) -> list[dict]:
        """Every item (decoded) of the given stories, whatever its day."""
        sql = ("select items.*, story_items.story_id, story_items.rule as merge_rule from story_items "
               "join items on items.id = story_items.item_id where story_items.story_id in ({marks})")
        return [decode_row(row) for row in self._chunked(sql, sorted(set(story_ids)))]

    def save_merge(self, keys: dict[str, list[tuple[str, str]]], stories: dict[str, tuple[str, str]],
                   now: datetime) -> int:
        """Replace the identity keys of the items in `keys` and write story assignments
        (item id -> (story id, rule)); rows that already say the same are left alone.
        Returns how many assignments changed."""
        with self.write():
            if keys:
                for start in range(0, len(ids := sorted(keys)), 500):
                    chunk = ids[start:start + 500]
                    self.db.execute(f"delete from item_keys where item_id in ({','.join('?' * len(chunk))})", chunk)
                self.db["item_keys"].insert_all(
                    ({"item_id": item_id, "key": key, "role": role}
                     for item_id, pairs in keys.items() for key, role in pairs),
                    batch_size=1000, ignore=True,
                )
            current = {row["item_id"]: (row["story_id"], row["rule"]) for row in self._chunked(
                "select item_id, story_id, rule from story_items where item_id in ({marks})", sorted(stories))}
            changed = [{"item_id": item_id, "story_id": story_id, "rule": rule, "updated_at": iso(now)}
                       for item_id, (story_id, rule) in stories.items()
                       if current.get(item_id) != (story_id, rule)]
            if changed:
                self.db["story_items"].upsert_all(changed, pk="item_id", batch_size=1000)
        return len(changed)

    def get_summary(self, key: str) -> str | None:
        row = self.db.execute("select summary from summaries where hash = ?", [key]).fetchone()
        return row[0] if row else None

    def save_summary(self, key: str, model: str, prompt_version: str, summary: str, now: datetime) -> None:
        with self.write():
            self.db["summaries"].upsert(
                {"hash": key, "model": model, "prompt_version": prompt_version, "summary": summary,
                 "created_at": iso(now)}, pk="hash")

    def item(self, key: str) -> dict | None:
        rows = list(self.db["items"].rows_where("id = ?", [key]))
        return decode_row(rows[0]) if rows else None

    def count_items(self, source: str | None = None) -> int:
        if source is None:
            return self.db["items"].count
        return self.db.execute("select count(*) from items where source = ?", [source]).fetchone()[0]

    def counts_by_source(self) -> dict[str, int]:
        return dict(self.db.execute("select source, count(*) from items group by source").fetchall())

    def search(self, query: str, limit: int = 20) -> list[dict]:
        """Items whose title or text holds every word of `query`; quotes and FTS operators in
        the query are read as plain characters, so no query is a syntax error."""
        words = [w.replace('"', '""') for w in query.split()]
        match = " ".join(f'"{w}"' for w in words if w.strip('"'))
        if not match:
            return []
        sql = ("select items.id, items.source, items.day, items.title, items.url from items_fts "
               "join items on items.rowid = items_fts.rowid where items_fts match ? "
               "order by items_fts.rank limit ?")
        try:
            return list(self._dicts(sql, [match, limit]))
        except sqlite3.OperationalError as exc:
            raise StoreError(f"search failed: {exc}") from None

    # -- sources -----------------------------------------------------------------------

    def state(self, name: str) -> SourceState:
        rows = list(self.db["source_state"].rows_where("name = ?", [name]))
        return SourceState.from_row(rows[0]) if rows else SourceState(name=name)

    def states(self) -> dict[str, SourceState]:
        return {row["name"]: SourceState.from_row(row) for row in self.db["source_state"].rows}

    def validators(self, url: str) -> Validators:
        rows = list(self.db["http_validators"].rows_where("url = ?", [url]))
        return Validators(rows[0]["etag"], rows[0]["last_modified"]) if rows else Validators()

    def save_fetch(self, name: str, kind: str, items: list[Item], validators: dict[str, Validators],
                   now: datetime, tz: ZoneInfo, warning: str | None = None) -> UpsertResult:
        """Store a successful fetch: items, then validators and state, in one transaction.

        Validators are saved with the items they describe, never before: a crash in between
        must not leave an ETag that would make the next fetch skip items never stored.
        """
        with self.write():
            result = self.upsert_items(items, now, tz)
            pause_point(f"save:{name}")
            if validators:
                self.db["http_validators"].upsert_all(
                    [{"url": url, "source": name, "etag": v.etag, "last_modified": v.last_modified,
                      "updated_at": iso(now)} for url, v in validators.items()],
                    pk="url",
                )
            self.db["source_state"].upsert(
                {"name": name, "kind": kind, "last_attempt_at": iso(now), "last_success_at": iso(now),
                 "last_error": None, "last_error_at": None, "next_fetch_after": None,
                 "last_new": result.new, "last_updated": result.updated, "consecutive_failures": 0,
                 "last_warning": warning},
                pk="name",
            )
        return result

    def save_failure(self, name: str, kind: str, error: str, now: datetime,
                     next_fetch_after: datetime | None = None) -> None:
        with self.write():
            failures = self.state(name).consecutive_failures + 1
            self.db["source_state"].upsert(
                {"name": name, "kind": kind, "last_attempt_at": iso(now), "last_error": error,
                 "last_error_at": iso(now), "next_fetch_after": iso(next_fetch_after),
                 "consecutive_failures": failures},
                pk="name",
            )

    def get_kv(self, source: str, key: str, default: Any = None) -> Any:
        row = self.db.execute("select value from source_kv where source = ? and key = ?", [source, key]).fetchone()
        return json.loads(row[0]) if row else default

    def kv_items(self, source: str) -> dict[str, Any]:
        return {key: json.loads(value) for key, value in
                self.db.execute("select key, value from source_kv where source = ?", [source])}

    def set_kv(self, source: str, key: str, value: Any, now: datetime) -> None:
        with self.write():
            self.db["source_kv"].upsert(
                {"source": source, "key": key, "value": json.dumps(value, default=str), "updated_at": iso(now)},
                pk=("source", "key"),
            )

    # -- publications ------------------------------------------------------------------

    def record_publication(self, day: date, path: str | Path, content_hash: str, now: datetime) -> None:
        with self.write():
            self.db["publications"].upsert(
                {"day": day.isoformat(), "path": str(path), "content_hash": content_hash,
                 "published_at": iso(now)}, pk=("day", "path"))

    def publication(self, day: date, path: str | Path) -> dict | None:
        """The record of day's last publication into `path`, if any."""
        rows = list(self._dicts("select * from publications where day = ? and path = ?", [day.isoformat(), str(path)]))
        return rows[0] if rows else None

    def last_published_day(self) -> date | None:
        row = self.db.execute("select max(day) from publications").fetchone()
        return date.fromisoformat(row[0]) if row and row[0] else None

    def published_days(self, since: date) -> set[date]:
        rows = self.db.execute("select distinct day from publications where day >= ?", [since.isoformat()])
        return {date.fromisoformat(day) for (day,) in rows}

    def integrity_check(self) -> str:
        return self.db.execute("pragma integrity_check").fetchone()[0]
