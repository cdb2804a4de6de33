"""Two processes on one database, and a fetch killed mid-write.

Real subprocesses of the real CLI against a real local server: what cron and the daemon do
to the same SQLite file.
"""

from __future__ import annotations

import os
import random
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


def trendbot(project, *args: str) -> subprocess.Popen:
    env = dict(os.environ, TRENDBOT_CONFIG=str(project.root / "trendbot.toml"))
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


def test_fetch_killed_mid_write_leaves_each_source_all_or_nothing(project, httpserver):
    serve_many(project, httpserver)
    rng = random.Random(20261123)
    for attempt in range(6):
        project.db_path.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(str(project.db_path) + suffix).unlink(missing_ok=True)
        proc = trendbot(project, "fetch")
        time.sleep(rng.uniform(0.3, 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        if not project.db_path.exists():
            continue
        assert integrity(project.db_path) == "ok"
        counts = {row["source"]: row["n"] for row in project.rows("select source, count(*) n from items group by source")}
        assert set(counts.values()) <= {50}, counts  # a source's items land together or not at all
        with_validators = {row["source"] for row in project.rows("select distinct source from http_validators")}
        assert with_validators == set(counts)  # an ETag is saved with its items, never alone
    # and a clean run afterwards completes the database
    proc = trendbot(project, "fetch")
    proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert project.rows("select count(*) n from items")[0]["n"] == 50 * FEEDS
