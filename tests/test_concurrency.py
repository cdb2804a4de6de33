"""Two processes on one database, and a fetch killed mid-write.

Real subprocesses of the real CLI against a real local server: what cron and the daemon do
to the same SQLite file.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from conftest import read_data

FEEDS = 12


def serve_many(project, httpserver, count: int = FEEDS) -> None:
    body = read_data("feeds/geeknews_atom_2026-09-29.xml")
    for index in range(count):
        # each feed gets its own guids, so every source stores 50 items of its own
        doc = body.replace(b"https://news.hada.io/topic?id=", f"https://f{index}.example/t?id=".encode())
        httpserver.expect_request(f"/f{index}.xml").respond_with_data(
            doc, content_type="application/atom+xml", headers={"ETag": f'"f{index}-v1"'})
        project.add_source(f"f{index}", kind="feed", url=httpserver.url_for(f"/f{index}.xml"))


def trendbot(project, *args: str, env: dict | None = None) -> subprocess.Popen:
    env = dict(os.environ, TRENDBOT_CONFIG=str(project.root / "trendbot.toml"), **(env or {}))
    return subprocess.Popen([sys.executable, "-m", "trendbot", *args], cwd=project.root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("pragma integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_two_fetches_at_once_neither_locks_nor_duplicates(project, httpserver):
    serve_many(project, httpserver)
    for _ in range(3):
        procs = [trendbot(project, "fetch") for _ in range(2)]
        outputs = [proc.communicate(timeout=60) for proc in procs]
        for proc, (out, err) in zip(procs, outputs):
            assert proc.returncode == 0, err
            assert "locked" not in err.lower()
    rows = project.rows("select source, count(*) n, count(distinct url) urls from items group by source")
    assert len(rows) == FEEDS
    assert all(row["n"] == 50 and row["urls"] == 50 for row in rows)
    assert integrity(project.db_path) == "ok"


def test_opening_a_new_database_while_another_process_holds_its_lock_waits_for_it(tmp_path, monkeypatch):
    # Two `trendbot fetch` started together both turn the new file to WAL; SQLite answers the
    # second "database is locked" at once instead of waiting. Here a raw connection holds the
    # write lock, and lets go only once trendbot has been refused and waits.
    from trendbot.store import SCHEMA_VERSION, Store

    path = tmp_path / "trendbot.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("create table other (a)")
    holder.execute("begin immediate")
    holder.execute("insert into other values (1)")
    waits = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if holder.in_transaction:
            holder.execute("commit")
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    with Store(path) as store:
        assert store.conn.execute("pragma journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("pragma user_version").fetchone()[0] == SCHEMA_VERSION
    assert waits, "the lock was never contended, so this test proved nothing"
    assert holder.execute("select a from other").fetchall() == [(1,)]
    holder.close()


def wait_for_file(marker: Path, proc: subprocess.Popen, limit: float = 120.0) -> None:
    """Until the process reaches its pause point (it creates the file); fail if it ends first."""
    deadline = time.monotonic() + limit
    while not marker.exists():
        assert proc.poll() is None, f"trendbot ended before its pause point: {proc.communicate()[1]}"
        assert time.monotonic() < deadline, "trendbot did not reach its pause point"
        time.sleep(0.01)


def kill_at(project, point: str, marker: Path) -> None:
    """Run `trendbot fetch` until it reaches `point` (trendbot/pause.py), then SIGKILL it."""
    env = {"TRENDBOT_TEST_PAUSE": f"{point}:{marker}"}
    proc = trendbot(project, "fetch", env=env)
    wait_for_file(marker, proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def stored(db: Path) -> tuple[dict[str, int], set[str]]:
    """Items per source and the sources with saved validators; nothing when no schema exists."""
    conn = sqlite3.connect(db)
    try:
        tables = {name for (name,) in conn.execute("select name from sqlite_master where type = 'table'")}
        if "items" not in tables:
            assert not tables & {"source_state", "http_validators"}, f"a partial schema: {sorted(tables)}"
            return {}, set()
        counts = dict(conn.execute("select source, count(*) from items group by source").fetchall())
        validators = {source for (source,) in conn.execute("select distinct source from http_validators")}
        return counts, validators
    finally:
        conn.close()


def fresh_database(project) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(project.db_path) + suffix).unlink(missing_ok=True)


def test_a_fetch_killed_while_creating_the_schema_leaves_no_schema_and_the_next_one_completes(project, httpserver):
    serve_many(project, httpserver)
    fresh_database(project)
    kill_at(project, "schema", project.root / "reached-schema")
    assert integrity(project.db_path) == "ok"
    assert stored(project.db_path) == ({}, set())  # the file exists, the schema does not
    proc = trendbot(project, "fetch")
    assert proc.communicate(timeout=120)[0] and proc.returncode == 0
    assert stored(project.db_path)[0] == {f"f{index}": 50 for index in range(FEEDS)}


def test_fetch_killed_mid_write_leaves_each_source_all_or_nothing(project, httpserver):
    serve_many(project, httpserver)
    for attempt, source in enumerate(("f0", "f5", "f11")):
        fresh_database(project)
        # the kill lands inside the transaction that stores `source`: its items are written,
        # its validators and state not yet, and the transaction is not committed
        kill_at(project, f"save:{source}", project.root / f"reached-{attempt}")
        assert integrity(project.db_path) == "ok"
        counts, with_validators = stored(project.db_path)
        assert source not in counts                    # rolled back whole
        assert set(counts.values()) <= {50}, counts   # a source's items land together or not at all
        assert with_validators == set(counts)         # an ETag is saved with its items, never alone
    # and a clean run afterwards completes the database
    proc = trendbot(project, "fetch")
    proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert project.rows("select count(*) n from items")[0]["n"] == 50 * FEEDS
