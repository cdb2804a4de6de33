"""Everyday use through the real command: a clean terminal, one line per event on the right
stream, Ctrl-C, options anywhere, honest errors, Korean search, and the week's roll-up."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from conftest import read_data
from faults import FaultServer
from test_publish import block_of, headings, make_repo
from test_weekly_post import BLOG, WEEK4, feed_on
from trendbot.cli import cli
from trendbot.http import retries_for

LAB = read_data("feeds/simple_atom.xml")
SEOUL = ZoneInfo("Asia/Seoul")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def serve(httpserver, path: str, body: bytes, content_type: str = "application/atom+xml") -> str:
    httpserver.expect_request(path).respond_with_data(body, content_type=content_type)
    return httpserver.url_for(path)


def two_sources(project, httpserver) -> None:
    project.add_source("lab", kind="feed", url=serve(httpserver, "/lab.xml", LAB))
    httpserver.expect_request("/down.xml").respond_with_data("down", status=500)
    project.add_source("down", kind="feed", url=httpserver.url_for("/down.xml"))


# -- the terminal and the log -------------------------------------------------------------------


def in_terminal(project, *args: str, timeout: float = 60) -> tuple[int, str]:
    """Run the CLI with stdout and stderr on a pseudo-terminal; (status, what the screen got)."""
    env = dict(os.environ, TRENDBOT_CONFIG=str(project.root / "trendbot.toml"), COLUMNS="100", TERM="xterm")
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(project.root)
        os.execve(sys.executable, [sys.executable, "-m", "trendbot", *args], env)
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode("utf-8", "replace")


def test_log_lines_print_above_the_live_progress_bar(project, httpserver):
    two_sources(project, httpserver)
    status, screen = in_terminal(project, "fetch")
    assert status == 1
    # each line as the screen shows it, once the bar's cursor moves are taken out
    shown = [ANSI.sub("", part).strip() for line in screen.split("\n") for part in line.split("\r")]
    assert any(line.startswith("fetching") for line in shown)  # the bar was live
    failed = [line for line in shown if "down failed" in line]
    assert failed and all(line.startswith("trendbot: down failed: ") for line in failed), shown
    assert not any("fetching" in line and ("failed" in line or "items" in line) for line in shown)
    assert any(line.startswith("lab: 2 items (2 new, 0 updated)") for line in shown)


def test_each_event_is_said_once_on_its_stream(project, run, httpserver):
    two_sources(project, httpserver)
    result = run("fetch")
    assert result.exit_code == 1
    assert "lab: 2 items (2 new, 0 updated)" in result.stdout and "down" not in result.stdout
    assert result.stderr.count("down failed") == 1 and "lab" not in result.stderr
    verbose = run("-v", "fetch")
    assert (verbose.stdout + verbose.stderr).count("lab: 2 items") == 1
    quiet = run("-q", "fetch")
    assert quiet.stdout == "" and quiet.stderr.count("\n") == 1 and "down failed" in quiet.stderr
    logs = run("--json-logs", "fetch")
    records = [json.loads(line) for line in logs.stderr.splitlines()]
    assert [(record["level"], record["source"]) for record in records] == [("error", "down")]


def test_ctrl_c_exits_130_with_a_short_line(project):
    server = FaultServer({}, "drip", "/slow")
    try:
        project.add_source("slow", kind="feed", url=f"{server.base}/slow/feed.xml")
        env = dict(os.environ, TRENDBOT_CONFIG=str(project.root / "trendbot.toml"))
        proc = subprocess.Popen([sys.executable, "-m", "trendbot", "fetch"], cwd=project.root, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not server.hits and time.monotonic() < deadline:  # until the request is under way
            time.sleep(0.01)
        assert server.hits
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        server.close()
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == "trendbot: interrupted; nothing was left half written"
    assert "Traceback" not in err and "Aborted" not in err


def test_a_refused_connection_is_retried_once_and_a_name_that_does_not_resolve_never(project, run):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: every connection is refused
    project.write_config(http={"retries": 4, "backoff": "10ms"})
    project.add_source("gone", kind="feed", url=f"http://127.0.0.1:{port}/feed.xml")
    result = run("-vv", "fetch")
    assert result.exit_code == 1
    assert result.stderr.count("retrying http://127.0.0.1") == 1

    def failure(cause: BaseException) -> httpx.ConnectError:
        try:
            raise httpx.ConnectError("connect failed") from cause
        except httpx.ConnectError as exc:
            return exc

    assert retries_for(failure(socket.gaierror(socket.EAI_NONAME, "Name or service not known")), 4) == 0
    assert retries_for(failure(ConnectionRefusedError(111, "refused")), 4) == 1
    assert retries_for(failure(ConnectionResetError(104, "reset")), 4) == 4


# -- the commands -----------------------------------------------------------------------------------


def test_global_options_work_before_or_after_the_command_and_trendbot_db_is_read(project, run, httpserver, monkeypatch):
    project.add_source("lab", kind="feed", url=serve(httpserver, "/lab.xml", LAB))
    assert run("fetch", "--db", "after.db", "-q").exit_code == 0
    assert (project.root / "after.db").exists() and not project.db_path.exists()
    assert "lab" in run("items", "--date", "2026-11-20", "--db=after.db").stdout
    monkeypatch.setenv("TRENDBOT_DB", str(project.root / "env.db"))
    assert run("fetch").exit_code == 0
    assert (project.root / "env.db").exists()
    assert run("search", "--", "-q").exit_code == 0  # after `--`, an argument is an argument


def test_every_source_option_checks_the_name(project, run):
    project.add_source("lab", kind="feed", url="https://lab.example.org/feed")
    for command in (("items", "--source", "nope"), ("fetch", "--source", "nope")):
        result = run(*command)
        assert result.exit_code == 2 and 'no source named "nope" (known: lab)' in result.stderr


def test_every_problem_of_a_configuration_is_listed(project, run):
    project.add_source("lab", kind="feed", url="ftp://x", every="3x", colour="blue")
    result = run("sources")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3 and all("sources/lab.toml" in line for line in lines)
    assert {"url", "every", "colour"} <= {word.strip(":") for line in lines for word in line.split()}
    assert "more problem" not in result.stderr


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_shows_examples(run, name):
    result = run(name, "--help")
    assert "Examples:" in result.stdout
    block = result.stdout.split("Examples:", 1)[1].strip().split("\n\n", 1)[0]
    examples = block.splitlines()
    assert examples and all(line.strip().startswith("trendbot ") for line in examples)


def test_metavars_are_consistent():
    seen = {}
    for command in cli.commands.values():
        for param in command.params:
            if param.name in ("limit",):
                seen[param.name] = param.metavar
    assert seen == {"limit": "N"}


# -- search ---------------------------------------------------------------------------------------


def korean_feed(project, httpserver) -> None:
    items = [
        {"id": "1", "url": "https://blog.example.org/1", "title": "하이퍼클로바X는 무엇이 다른가",
         "content_html": "<p>네이버의 모델.</p>", "date_published": "2026-11-20T03:00:00Z"},
        {"id": "2", "url": "https://blog.example.org/2", "title": "Llama-3 fine-tuning notes",
         "content_html": "<p>LoRA adapters and more.</p>", "date_published": "2026-11-19T03:00:00Z"},
        {"id": "3", "url": "https://blog.example.org/3", "title": "오늘의 날씨",
         "content_html": "<p>맑음.</p>", "date_published": "2026-11-20T03:00:00Z"},
        {"id": "4", "url": "https://blog.example.org/4", "title": "Adapters, explained",
         "content_html": "<p>A long read about fine-tuning small models cheaply.</p>",
         "date_published": "2026-11-10T03:00:00Z"},
    ]
    feed = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": items})
    project.add_source("blog", kind="feed", url=serve(httpserver, "/f.json", feed.encode(), "application/feed+json"))


def test_search_finds_korean_words_inside_compounds_and_english_inside_words(project, run, httpserver):
    korean_feed(project, httpserver)
    assert run("fetch").exit_code == 0
    assert "하이퍼클로바X는" in run("search", "하이퍼클로바").stdout
    assert "Llama-3" in run("search", "llama").stdout
    assert "Llama-3" in run("search", "lora adapters").stdout  # words of the text, in any order
    ranked = [line for line in run("search", "adapters").stdout.splitlines() if line.startswith("2026-")]
    assert "Adapters, explained" in ranked[0] and "Llama-3" in ranked[1]  # in the title first, though older
    assert "날씨" in run("search", "날씨").stdout                # two characters: the fallback
    assert run("search", "하이퍼클로바 날씨").stdout.strip() == "no matches"  # every word must appear


def test_search_json_has_the_fields_of_items_json_and_sources_json_one_shape(project, run, httpserver):
    korean_feed(project, httpserver)
    project.add_source("x", kind="x", accounts=["karpathy"], mirrors=["https://nitter.example.org"], enabled=False)
    assert run("fetch", "--source", "blog").exit_code == 0
    [found] = json.loads(run("search", "하이퍼클로바", "--json").stdout)
    listed = {row["id"]: row for row in json.loads(run("items", "--date", "2026-11-20", "--json").stdout)}
    assert found == listed[found["id"]]
    shapes = {tuple(row) for row in json.loads(run("sources", "--json").stdout)}
    assert len(shapes) == 1


# -- the week's roll-up -------------------------------------------------------------------------


def test_the_week_roll_up_renders_the_weeks_top_stories_each_once_with_their_days(project, run, httpserver):
    project.write_config(blog={"week_starts": "saturday"})
    for day in (date(2024, 8, 26), date(2024, 8, 27)):
        httpserver.clear()
        # the same topics on two days: one story, on both days
        body = feed_on(day).replace(f"topic?id={day:%m%d}".encode(), b"topic?id=")
        httpserver.expect_request("/rss/news").respond_with_data(body, content_type="application/atom+xml")
        project.add_source("gn", kind="feed", url=httpserver.url_for("/rss/news"))
        assert run("fetch").exit_code == 0
    result = run("digest", "--week", "2024-08-27", "--out", "-")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "### 이번 주 트렌드 {#weekly-trends-2024-08-24}"
    stories = [line for line in lines if line.startswith("- [")]
    assert len(stories) == 10 and len({line.split("](")[1] for line in stories}) == 10


def test_the_roll_up_is_published_under_the_weeks_review_heading(project, run, httpserver):
    repo = make_repo(project.root, {WEEK4: read_data("publish/boostcamp_week4.md")})
    project.write_config(blog={**BLOG, "week_heading": "## {week_index}주차 후기"})
    httpserver.expect_request("/rss/news").respond_with_data(feed_on(date(2024, 8, 27)), content_type="application/atom+xml")
    project.add_source("gn", kind="feed", url=httpserver.url_for("/rss/news"))
    assert run("fetch").exit_code == 0
    result = run("digest", "--week", "2024-08-30", "--publish")
    assert result.exit_code == 0, result.output
    text = (repo / WEEK4).read_text(encoding="utf-8")
    block = block_of(text, "week-2024-08-24")
    assert text[:block.start()].endswith("## 4주차 후기\n\n")
    assert text[block.end():] == "\n이번 주는 트랜스포머 주간이었다. \\\\(O(n^2)\\\\) 어텐션이 왜 문제인지 알게 됐다.\n"
    assert "### 이번 주 트렌드 {#weekly-trends-2024-08-24}" in block.group()
    assert "1일(화)" in block.group()
    assert headings(text)[-1] == "## 4주차 후기"
    again = run("digest", "--week", "2024-08-30", "--publish")
    assert "already up to date" in again.stderr
    # the day's own block of that Saturday is another block: both live in the post
    assert run("digest", "--date", "2024-08-27", "--publish").exit_code == 0
    text = (repo / WEEK4).read_text(encoding="utf-8")
    assert block_of(text, "2024-08-27") and block_of(text, "week-2024-08-24")


@pytest.mark.parametrize("week_heading", ["## 이번 주 돌아보기", None])
def test_a_missing_review_heading_is_created_at_the_end_and_without_one_the_roll_up_ends_the_post(
        project, run, httpserver, week_heading):
    repo = make_repo(project.root, {WEEK4: read_data("publish/boostcamp_week4.md")})
    project.write_config(blog={**BLOG, **({"week_heading": week_heading} if week_heading else {})})
    httpserver.expect_request("/rss/news").respond_with_data(feed_on(date(2024, 8, 27)), content_type="application/atom+xml")
    project.add_source("gn", kind="feed", url=httpserver.url_for("/rss/news"))
    assert run("fetch").exit_code == 0
    before = (repo / WEEK4).read_text(encoding="utf-8")
    assert run("digest", "--week", "2024-08-24", "--publish").exit_code == 0
    text = (repo / WEEK4).read_text(encoding="utf-8")
    block = block_of(text, "week-2024-08-24")
    assert text[block.end():].strip() == ""
    above = text[:block.start()]
    if week_heading:
        assert above.endswith("\n## 이번 주 돌아보기\n\n") and headings(text)[-1] == week_heading
    assert above.startswith(before.rstrip("\n"))  # everything of yours stays above it, as it was


def test_the_daemon_publishes_the_roll_up_on_the_weeks_last_day(project, httpserver):
    from trendbot.daemon import Daemon
    from trendbot.jobs import load

    project.write_config(blog={"week_starts": "saturday"}, schedule={"week_at": "23:45"})
    now = datetime(2024, 8, 28, 12, 0, tzinfo=SEOUL)  # a Wednesday
    week = Daemon(load()).build_scheduler(now, catch_up=False).get_job("week")
    assert week.trigger.get_next_fire_time(None, now) == datetime(2024, 8, 30, 23, 45, tzinfo=SEOUL)  # Friday

    httpserver.expect_request("/rss/news").respond_with_data(feed_on(date(2024, 8, 27)), content_type="application/atom+xml")
    project.add_source("gn", kind="feed", url=httpserver.url_for("/rss/news"))
    daemon = Daemon(load())
    daemon.fetch_job("gn", now=now)
    daemon.week_job(now=datetime(2024, 8, 30, 23, 45, tzinfo=SEOUL))
    written = (project.root / "digests" / "week-2024-08-24.md").read_text(encoding="utf-8")
    assert written.startswith("### 이번 주 트렌드 {#weekly-trends-2024-08-24}") and "1일(화)" in written

    project.write_config(schedule={"week_at": "off"})
    assert Daemon(load()).build_scheduler(now, catch_up=False).get_job("week") is None
