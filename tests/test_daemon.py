"""`trendbot run`: what the scheduler decides, how it is wired, the lock, and the real process.

Scheduling decisions are pure functions of `now`; the wiring is checked on APScheduler's own
jobs and triggers; jobs are called with a fixed `now` against a local server and a real
database; and `trendbot run` itself is started as a subprocess and stopped with SIGTERM.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
from datetime import date, datetime, time as clock, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from werkzeug import Request, Response

from conftest import read_data
from trendbot.jobs import load as load_config
from trendbot.daemon import Daemon
from trendbot.schedule import days_to_catch_up, due_day, fetch_jitter
from trendbot.schedule import next_run as first_fetch_at
from trendbot.errors import LockedError
from trendbot.lock import DaemonLock
from trendbot.models import SourceState

KST = ZoneInfo("Asia/Seoul")
ATOM = "application/atom+xml"
REPO = Path(__file__).parent.parent


def kst(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=KST)


class JobLines(logging.Handler):
    """The daemon's log records, whatever the CLI did to the `trendbot` logger's propagation."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def lines(self) -> list[str]:
        return [record.getMessage() for record in self.records]


@pytest.fixture
def job_log():
    logger = logging.getLogger("trendbot.daemon")
    handler, level = JobLines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def serve_lab_feed(httpserver, path: str = "/lab.xml") -> str:
    httpserver.expect_request(path).respond_with_data(read_data("daemon/lab_atom.xml"), content_type=ATOM)
    return httpserver.url_for(path)


# -- pure decisions --------------------------------------------------------------------------

def test_due_day_is_the_day_whose_publish_time_last_passed():
    at = clock(23, 30)
    assert due_day(kst(2026, 11, 20, 23, 29), KST, at) == date(2026, 11, 19)
    assert due_day(kst(2026, 11, 20, 23, 30), KST, at) == date(2026, 11, 20)
    # A run delayed past midnight (misfire grace, a laptop waking up) still means the 20th.
    assert due_day(kst(2026, 11, 21, 0, 10), KST, at) == date(2026, 11, 20)
    # `now` may come in any zone: 14:30 UTC is 23:30 in Seoul.
    assert due_day(datetime(2026, 11, 20, 14, 30, tzinfo=timezone.utc), KST, at) == date(2026, 11, 20)


def test_catch_up_lists_unpublished_days_in_the_window_oldest_first():
    morning = kst(2026, 11, 20, 10, 0)  # the 20th's publish time has not come yet
    published = {date(2026, 11, 18)}
    assert days_to_catch_up(morning, KST, published, 3, clock(23, 30)) == [date(2026, 11, 17), date(2026, 11, 19)]
    night = kst(2026, 11, 20, 23, 45)
    assert days_to_catch_up(night, KST, published, 3, clock(23, 30)) == [date(2026, 11, 19), date(2026, 11, 20)]
    assert days_to_catch_up(night, KST, set(), 0, clock(23, 30)) == []
    everything = {date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20)}
    assert days_to_catch_up(night, KST, everything, 3, clock(23, 30)) == []


def test_first_fetch_is_due_one_interval_after_the_last_attempt():
    now = kst(2026, 11, 20, 12, 0)
    every = timedelta(minutes=30)
    assert first_fetch_at(now, None, every) == now
    assert first_fetch_at(now, SourceState("lab"), every) == now
    recent = SourceState("lab", last_attempt_at=now - timedelta(minutes=10))
    assert first_fetch_at(now, recent, every) == now + timedelta(minutes=20)
    overdue = SourceState("lab", last_attempt_at=now - timedelta(hours=5))
    assert first_fetch_at(now, overdue, every) == now
    told_to_wait = SourceState("lab", last_attempt_at=now - timedelta(minutes=1),
                               next_fetch_after=now + timedelta(hours=2))
    assert first_fetch_at(now, told_to_wait, every) == now + timedelta(hours=2)


def test_jitter_is_capped_at_a_tenth_of_the_interval():
    assert fetch_jitter(timedelta(minutes=30), timedelta(seconds=30)) == 30
    assert fetch_jitter(timedelta(seconds=1), timedelta(seconds=30)) == pytest.approx(0.1)
    assert fetch_jitter(timedelta(minutes=30), timedelta(0)) is None


def test_settle_can_be_turned_off_and_bad_times_name_the_key(project, run):
    project.write_config(schedule={"settle_at": "off"})
    assert load_config().settings.schedule.settle_at is None
    project.write_config(schedule={"settle_at": "9:00", "publish_at": "25:00"})
    result = run("run")
    assert result.exit_code == 2
    assert "trendbot.toml: schedule.publish_at:" in result.stderr


# -- wiring ----------------------------------------------------------------------------------

def test_scheduler_has_a_job_per_enabled_source_and_the_daily_jobs(project):
    project.add_source("lab", kind="feed", url="http://127.0.0.1:9/lab.xml", every="30m")
    project.add_source("blog", kind="feed", url="http://127.0.0.1:9/blog.xml", every="2h")
    project.add_source("off", kind="feed", url="http://127.0.0.1:9/off.xml", enabled=False)
    project.write_config(schedule={"publish_at": "23:30", "settle_at": "09:15", "misfire_grace": "20m"})
    now = kst(2026, 11, 20, 12, 0)
    states = {"blog": SourceState("blog", last_attempt_at=now - timedelta(minutes=30))}
    scheduler = Daemon(load_config()).build_scheduler(now, states)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"fetch:lab", "fetch:blog", "publish", "settle", "catch-up", "week"}

    lab = jobs["fetch:lab"]
    assert lab.args == ("lab",)
    assert lab.trigger.interval == timedelta(minutes=30)
    assert lab.trigger.jitter == 30
    assert lab.next_run_time == now  # never fetched: right away
    assert jobs["fetch:blog"].next_run_time == now + timedelta(minutes=90)
    assert jobs["fetch:blog"].trigger.interval == timedelta(hours=2)

    publish = jobs["publish"].trigger.get_next_fire_time(None, now)
    assert publish == kst(2026, 11, 20, 23, 30)
    assert jobs["publish"].trigger.get_next_fire_time(None, kst(2026, 11, 20, 23, 31)) == kst(2026, 11, 21, 23, 30)
    assert jobs["settle"].trigger.get_next_fire_time(None, now) == kst(2026, 11, 21, 9, 15)
    assert jobs["catch-up"].trigger.get_next_fire_time(None, now) == now
    assert jobs["week"].trigger.get_next_fire_time(None, now) == kst(2026, 11, 22, 23, 45)  # Sunday: weeks start Monday

    for job in jobs.values():
        assert job.max_instances == 1 and job.coalesce is True
    assert jobs["publish"].misfire_grace_time == 20 * 60
    assert jobs["catch-up"].misfire_grace_time is None  # however late the start, it runs


def test_daily_jobs_follow_the_configured_zone(project):
    project.write_config(timezone="Europe/Berlin", schedule={"settle_at": "off", "week_at": "off", "catch_up_days": 0})
    berlin = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 11, 20, 12, 0, tzinfo=berlin)
    jobs = {job.id: job for job in Daemon(load_config()).build_scheduler(now).get_jobs()}
    assert set(jobs) == {"publish"}
    fire = jobs["publish"].trigger.get_next_fire_time(None, now)
    assert fire == datetime(2026, 11, 20, 23, 30, tzinfo=berlin)
    assert fire.utcoffset() == timedelta(hours=1)


def test_a_fetch_job_stores_items_and_logs_one_line(project, httpserver, job_log):
    project.add_source("lab", kind="feed", url=serve_lab_feed(httpserver))
    daemon = Daemon(load_config())
    report = daemon.fetch_job("lab", now=kst(2026, 11, 20, 12, 0))
    assert [o.status for o in report.outcomes] == ["ok"]
    assert project.rows("select count(*) n from items")[0]["n"] == 2
    lines = job_log.lines
    assert len(lines) == 1 and lines[0].startswith("fetch:lab: ok in ") and "items=2 new=2" in lines[0]


def test_a_failing_fetch_job_is_logged_and_does_not_raise(project, httpserver, job_log):
    httpserver.expect_request("/lab.xml").respond_with_data("gone", status=404)
    project.add_source("lab", kind="feed", url=httpserver.url_for("/lab.xml"))
    Daemon(load_config()).fetch_job("lab", now=kst(2026, 11, 20, 12, 0))
    [record] = job_log.records
    assert record.levelname == "WARNING"
    assert "fetch:lab: failed" in record.getMessage() and "404" in record.getMessage()
    assert project.rows("select last_error from source_state")[0]["last_error"]


# -- the lock ---------------------------------------------------------------------------------

def test_lock_refuses_a_second_holder_and_is_free_after_release(tmp_path):
    db = tmp_path / "trendbot.db"
    first = DaemonLock(db).acquire()
    with pytest.raises(LockedError) as refused:
        DaemonLock(db).acquire()
    assert f"pid {os.getpid()}" in str(refused.value) and refused.value.exit_code == 2
    first.release()
    with DaemonLock(db) as again:
        assert again.held


# -- the real process ---------------------------------------------------------------------------

def start_daemon(project, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "trendbot", *args, "run"], cwd=project.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})


def wait_for(condition, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def lock_holder(project) -> str:
    path = project.root / "trendbot.db.lock"
    return path.read_text().strip() if path.exists() else ""


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> tuple[int, str]:
    process.send_signal(sig)
    try:
        _, err = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        raise AssertionError(f"trendbot run did not stop on {sig}:\n{err}") from None
    return process.returncode, err


def test_run_fetches_on_its_interval_and_exits_0_on_sigterm(project, httpserver):
    project.add_source("lab", kind="feed", url=serve_lab_feed(httpserver), every="1s")
    project.write_config(schedule={"catch_up_days": 0})
    process = start_daemon(project)
    try:
        wait_for(lambda: len(httpserver.log) >= 2, what="two fetches of /lab.xml")
    finally:
        code, err = stop(process)
    assert code == 0, err
    assert "started: 1 source(s) (lab every 1s), catch-up 0 day(s), zone Asia/Seoul, lock " in err
    assert re.search(r"next publish: \d{4}-\d\d-\d\d 23:30 KST, settle: \d{4}-\d\d-\d\d 09:00 KST, "
                     r"week: Sun \d{4}-\d\d-\d\d 23:45 KST", err), err
    assert "fetch:lab: ok in" in err and "items=2 new=2" in err
    assert err.rstrip().endswith("stopped")
    assert project.rows("select count(*) n from items")[0]["n"] == 2
    assert lock_holder(project) == ""  # released


def test_run_logs_json_lines(project, httpserver):
    import json

    project.add_source("lab", kind="feed", url=serve_lab_feed(httpserver), every="1s")
    project.write_config(schedule={"catch_up_days": 0})
    process = start_daemon(project, "--json-logs")
    try:
        wait_for(lambda: len(httpserver.log) >= 1, what="a fetch")
        time.sleep(0.5)
    finally:
        code, err = stop(process, signal.SIGINT)
    assert code == 0, err
    entries = [json.loads(line) for line in err.splitlines() if line.strip()]
    jobs = [e for e in entries if e.get("job") == "fetch:lab"]
    assert jobs and jobs[0]["status"] == "ok" and jobs[0]["new"] == 2 and jobs[0]["level"] == "info"
    assert isinstance(jobs[0]["seconds"], float)
    assert entries[-1]["event"] == "stopped"


def test_second_instance_on_the_same_database_exits_2(project, httpserver):
    project.add_source("lab", kind="feed", url=serve_lab_feed(httpserver), every="1h")
    project.write_config(schedule={"catch_up_days": 0})
    first = start_daemon(project)
    try:
        wait_for(lambda: lock_holder(project) == str(first.pid), what="the first daemon's lock")
        second = subprocess.run([sys.executable, "-m", "trendbot", "run"], cwd=project.root, capture_output=True,
                                text=True, timeout=30, env={**os.environ, "PYTHONPATH": str(REPO)})
    finally:
        code, _ = stop(first)
    assert second.returncode == 2
    assert f"another `trendbot run` (pid {first.pid}) is already using this database" in second.stderr
    assert code == 0


def test_a_killed_daemon_leaves_no_stuck_lock(project, httpserver):
    project.add_source("lab", kind="feed", url=serve_lab_feed(httpserver), every="1h")
    project.write_config(schedule={"catch_up_days": 0})
    crashed = start_daemon(project)
    wait_for(lambda: lock_holder(project) == str(crashed.pid), what="the lock")
    crashed.kill()  # SIGKILL: no handler, no cleanup
    crashed.communicate(timeout=20)
    assert lock_holder(project) == str(crashed.pid)  # the file still names the dead process

    restarted = start_daemon(project)
    try:
        wait_for(lambda: lock_holder(project) == str(restarted.pid), what="the restarted daemon's lock")
    finally:
        code, err = stop(restarted)
    assert code == 0, err


# -- the daily jobs, with a fixed `now` ----------------------------------------------------------

def serve_hf_by_date(httpserver, answers: dict[str, str]) -> list[str]:
    """Answer `/api/daily_papers?date=D` from `answers[D]` (a file under tests/data/daemon/);
    return the list of dates asked for, in order."""
    asked: list[str] = []

    def handler(request: Request) -> Response:
        day = request.args.get("date", "")
        asked.append(day)
        if request.args.get("p", "0") != "0" or day not in answers:
            return Response("[]", content_type="application/json")
        return Response(read_data(f"daemon/{answers[day]}"), content_type="application/json")

    httpserver.expect_request("/api/daily_papers").respond_with_handler(handler)
    return asked


def blog_project(project, httpserver, answers: dict[str, str], **schedule) -> list[str]:
    asked = serve_hf_by_date(httpserver, answers)
    project.add_source("hf", kind="hf_papers", base_url=httpserver.url_for("/").rstrip("/"), every="1h")
    (project.root / "blog").mkdir()
    project.write_config(blog={"repo": "blog"}, schedule=schedule)
    return asked


def post_of(project, day: str) -> Path:
    return project.root / "blog" / "_posts" / f"{day}-daily-trends.md"


def published_days(project) -> set[date]:
    from trendbot.store import Store

    with Store(project.db_path) as store:
        return store.published_days(date(2000, 1, 1))


def test_the_publish_at_run_fetches_and_publishes_the_day(project, httpserver, job_log):
    asked = blog_project(project, httpserver, {"2026-06-12": "api_2026-06-12.json"})
    result = Daemon(load_config()).publish_job(now=kst(2026, 6, 12, 23, 30))
    assert asked and asked[-1] in ("2026-06-12", "2026-06-11")  # the fetch went first
    post = post_of(project, "2026-06-12").read_text(encoding="utf-8")
    assert "### 데일리 트렌드" in post and "MiniMax Sparse Attention" in post and "HF ▲118" in post
    assert result.path and Path(result.path).name == "2026-06-12-daily-trends.md"
    assert published_days(project) == {date(2026, 6, 12)}
    [line] = [l for l in job_log.lines if l.startswith("publish 2026-06-12")]
    assert f"publish 2026-06-12: {result.status} in " in line and "stories=15 fetched=30 new=30" in line


def test_a_late_publish_run_after_midnight_still_publishes_the_day_it_was_for(project, httpserver):
    asked = blog_project(project, httpserver, {"2026-06-12": "api_2026-06-12.json"})
    Daemon(load_config()).publish_job(now=kst(2026, 6, 13, 0, 10))  # woke up 40 minutes late
    assert "2026-06-12" in asked  # fetched by date: "today" is already the 13th
    assert post_of(project, "2026-06-12").exists() and not post_of(project, "2026-06-13").exists()


def test_a_restart_after_missed_days_catches_them_up_oldest_first(project, httpserver, job_log):
    asked = blog_project(project, httpserver, {"2026-06-12": "api_2026-06-12.json",
                                               "2026-06-13": "api_2026-06-13.json"}, catch_up_days=3)
    daemon = Daemon(load_config())
    daemon.publish_job(now=kst(2026, 6, 11, 23, 30))  # the 11th went out; then the machine was off
    asked.clear()
    results = daemon.catch_up_job(now=kst(2026, 6, 14, 10, 0))  # back on the 14th, before 23:30
    assert asked == ["2026-06-12", "2026-06-13"]  # backfilled by date, oldest first
    assert len(results) == 2
    assert "MiniMax Sparse Attention" in post_of(project, "2026-06-12").read_text(encoding="utf-8")
    # a quiet Saturday is no filler in the blog: no post is created for it, digests/ says it was quiet
    assert not post_of(project, "2026-06-13").exists()
    assert "조용한 날" in (project.root / "digests" / "2026-06-13.md").read_text(encoding="utf-8")
    assert published_days(project) >= {date(2026, 6, 11), date(2026, 6, 12), date(2026, 6, 13)}
    order = [l.split(":")[0] for l in job_log.lines if l.startswith("catch-up 2026")]
    assert order == ["catch-up 2026-06-12", "catch-up 2026-06-13"]

    asked.clear()
    assert daemon.catch_up_job(now=kst(2026, 6, 14, 10, 5)) == []  # nothing left to catch up
    assert asked == []


def test_the_settle_run_re_renders_the_previous_day_with_later_upvotes(project, httpserver):
    answers = {"2026-06-12": "api_2026-06-12.json"}
    blog_project(project, httpserver, answers)
    daemon = Daemon(load_config())
    daemon.publish_job(now=kst(2026, 6, 12, 23, 30))
    post = post_of(project, "2026-06-12")
    assert "HF ▲118" in post.read_text(encoding="utf-8")

    answers["2026-06-12"] = "api_2026-06-12_later.json"  # HF overnight: more upvotes
    result = daemon.settle_job(now=kst(2026, 6, 13, 9, 0))
    settled = post.read_text(encoding="utf-8")
    assert "HF ▲131" in settled and "HF ▲118" not in settled
    assert Path(result.path) == post


def test_the_settle_run_merges_the_update_into_the_section_the_person_edited(project, httpserver, job_log):
    answers = {"2026-06-12": "api_2026-06-12.json"}
    blog_project(project, httpserver, answers)
    daemon = Daemon(load_config())
    daemon.publish_job(now=kst(2026, 6, 12, 23, 30))
    post = post_of(project, "2026-06-12")
    text = post.read_text(encoding="utf-8")
    note = "MiniMax Sparse Attention (읽어볼 것)"
    [mine] = [line for line in text.splitlines() if "MiniMax Sparse Attention](" in line]
    post.write_text(text.replace(mine, mine.replace("MiniMax Sparse Attention", note, 1)), encoding="utf-8")

    answers["2026-06-12"] = "api_2026-06-12_later.json"
    daemon.settle_job(now=kst(2026, 6, 13, 9, 0))
    settled = post.read_text(encoding="utf-8")
    assert mine.replace("MiniMax Sparse Attention", note, 1) in settled  # the person's line, byte for byte
    assert "HF ▲131" in settled and "HF ▲118" not in settled  # an untouched line refreshed
    assert not (project.root / "digests" / "2026-06-12.md").exists()
    settle = [line for line in job_log.lines if line.startswith("settle 2026-06-12")]
    assert settle and "written" in settle[0] and "failed" not in settle[0]  # an annotated day is no failure


def test_sources_shows_the_last_published_day(project, httpserver, run):
    blog_project(project, httpserver, {"2026-06-12": "api_2026-06-12.json"})
    assert "last published day: never" in run("sources").stdout
    Daemon(load_config()).publish_job(now=kst(2026, 6, 12, 23, 30))
    result = run("sources")
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("last published day: 2026-06-12")
    import json

    [row] = json.loads(run("sources", "--json").stdout)
    assert row["last_published_day"] == "2026-06-12"


def test_run_catches_up_missed_days_when_it_starts(project, httpserver):
    """The real daemon, started after two days it missed: both are fetched by date and published."""
    asked = serve_hf_by_date(httpserver, {})  # every day answers HF's empty `[]`
    project.add_source("hf", kind="hf_papers", base_url=httpserver.url_for("/").rstrip("/"), every="1h")
    (project.root / "blog").mkdir()
    # publish_at twelve hours away, so the test never straddles it.
    publish_at = (datetime.now(KST) + timedelta(hours=12)).strftime("%H:%M")
    project.write_config(blog={"repo": "blog"}, schedule={"publish_at": publish_at, "catch_up_days": 2,
                                                          "settle_at": "off"})
    missed = days_to_catch_up(datetime.now(timezone.utc), KST, set(), 2, clock.fromisoformat(publish_at))
    process = start_daemon(project)
    try:
        # every day answers with no paper: each caught-up day is written to digests/, no post created
        wait_for(lambda: published_days(project) >= set(missed), what="caught-up days")
    finally:
        code, err = stop(process)
    assert code == 0, err
    assert {m.isoformat() for m in missed} <= set(asked)  # fetched by date
    first, second = (err.index(f"catch-up {day.isoformat()}: ") for day in missed)
    assert first < second  # oldest first
    assert f"catch-up: 2 unpublished day(s): {missed[0]}, {missed[1]}" in err
    assert not any(post_of(project, d.isoformat()).exists() for d in missed)
    assert all((project.root / "digests" / f"{d.isoformat()}.md").exists() for d in missed)
