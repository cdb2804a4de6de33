"""`trendbot run` against a database another process holds, and against SIGHUP.

The real daemon runs as a subprocess; a second Python process holds SQLite's write lock (as
`sqlite3 trendbot.db 'BEGIN IMMEDIATE;'` would) until the test lets go. Every wait is for a state:
a line in the daemon's log, the holder saying it holds the lock, the server seeing a request.
"""

from __future__ import annotations

import configparser
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug import Request, Response

from conftest import read_data
from test_daemon import job_log  # noqa: F401 (a fixture)
from trendbot.daemon import START_WAITS, Daemon
from trendbot.errors import StoreBusy
from trendbot.jobs import load as load_config
from trendbot.store import SCHEMA_VERSION

REPO = Path(__file__).parent.parent
UNIT = REPO / "examples/trendbot.service"
WAIT = 30.0  # the most any one state may take to arrive before the test fails

HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("held", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
"""


class LockHolder:
    """A second process holding the database's write lock until `release()`."""

    def __init__(self, db: Path):
        self.process = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "held"

    def release(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write("\n")
            self.process.stdin.close()
        assert self.process.wait(timeout=WAIT) == 0


class RunningDaemon:
    """A `trendbot run` subprocess whose log lines are read as they come."""

    def __init__(self, project):
        self.process = subprocess.Popen([sys.executable, "-m", "trendbot", "run"], cwd=project.root,
                                        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                                        env={**os.environ, "PYTHONPATH": str(REPO)})
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()
        with self.changed:
            self.lines.append(None)  # end of the log
            self.changed.notify_all()

    def wait_for(self, text: str) -> str:
        """The first log line holding `text`, once the daemon has written it."""

        def found() -> str | None:
            return next((line for line in self.lines if line is not None and text in line), None)

        with self.changed:
            self.changed.wait_for(lambda: found() is not None or None in self.lines, WAIT)
            line = found()
        if line is None:
            raise AssertionError(f"no log line with {text!r}:\n" + self.log)
        return line

    @property
    def log(self) -> str:
        return "\n".join(line for line in self.lines if line is not None)

    def exit_code(self) -> int:
        try:
            code = self.process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("trendbot run did not exit:\n" + self.log) from None
        self.reader.join(WAIT)
        return code

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.exit_code()


@pytest.fixture
def quiet_project(project):
    project.write_config(schedule={"catch_up_days": 0})
    return project


# -- a database another process holds ------------------------------------------------------------

def test_a_daemon_started_while_another_process_holds_the_database_waits_for_it(quiet_project):
    project = quiet_project
    holder = LockHolder(project.db_path)  # a new file: creating the schema needs the write lock
    daemon = RunningDaemon(project)
    try:
        line = daemon.wait_for("trying again")
        assert (f"WARNING trendbot.daemon: start: {project.db_path}: another process holds the database "
                f"(waited 1s for it to let go); trying again, waiting up to 2s (try 2 of {len(START_WAITS)})") in line
        assert "started:" not in daemon.log
        holder.release()
        daemon.wait_for("started:")
    finally:
        holder.release()
        code = daemon.stop()
    assert code == 0, daemon.log
    assert project.rows("pragma user_version")[0]["user_version"] == SCHEMA_VERSION


def test_a_daemon_that_cannot_get_the_database_gives_up_with_a_status_systemd_restarts_on(quiet_project, job_log):
    holder = LockHolder(quiet_project.db_path)
    try:
        with pytest.raises(StoreBusy) as gave_up:
            Daemon(load_config(), start_waits=(0.1, 0.2)).run()
    finally:
        holder.release()
    assert str(gave_up.value) == (f"{quiet_project.db_path}: another process holds the database (waited 0.2s for it "
                                  "to let go); gave up after 2 tries in about 300ms: the exit status is 1, so a "
                                  "service manager starts it again")
    tries = [line for line in job_log.lines if "trying again" in line]
    assert tries == [f"start: {quiet_project.db_path}: another process holds the database (waited 0.1s for it to "
                     "let go); trying again, waiting up to 200ms (try 2 of 2)"]
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(UNIT, encoding="utf-8")
    assert unit["Service"]["Restart"] == "on-failure"
    assert str(gave_up.value.exit_code) not in unit["Service"]["RestartPreventExitStatus"].split()
    assert sum(START_WAITS) <= 600  # bounded: a service manager's restart is the next try


def test_a_stop_signal_while_waiting_for_the_database_exits_0(quiet_project):
    holder = LockHolder(quiet_project.db_path)
    daemon = RunningDaemon(quiet_project)
    try:
        daemon.wait_for("trying again")
        code = daemon.stop(signal.SIGTERM)
    finally:
        holder.release()
        daemon.stop()  # a failed wait must not leave it running
    assert code == 0, daemon.log
    assert daemon.log.endswith("stopped") and "started:" not in daemon.log


# -- SIGHUP --------------------------------------------------------------------------------------

def test_sighup_lets_the_running_job_finish_and_exits_0(quiet_project, httpserver):
    project = quiet_project
    asked, answer = threading.Event(), threading.Event()

    def slow_feed(request: Request) -> Response:
        asked.set()
        answer.wait(WAIT)
        return Response(read_data("daemon/lab_atom.xml"), content_type="application/atom+xml")

    httpserver.expect_request("/lab.xml").respond_with_handler(slow_feed)
    project.add_source("lab", kind="feed", url=httpserver.url_for("/lab.xml"), every="1h")
    project.write_config(http={"timeout": "60s", "deadline": "60s"})
    daemon = RunningDaemon(project)
    try:
        assert asked.wait(WAIT), daemon.log  # the fetch job is under way
        daemon.process.send_signal(signal.SIGHUP)
        daemon.wait_for("SIGHUP: stopping once the running job ends")
        answer.set()
        code = daemon.exit_code()
    finally:
        answer.set()
        daemon.stop()
    assert code == 0, daemon.log
    assert "fetch:lab: ok in" in daemon.log and "items=2 new=2" in daemon.log
    assert daemon.log.endswith("stopped")
    assert project.rows("select count(*) n from items")[0]["n"] == 2
