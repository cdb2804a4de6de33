"""Everyday use II, through the real command: every configuration problem listed, the request
lines of -vv, a source's events in --json-logs, help that ends with examples, short messages,
what the filters left out, an empty sources/ folder, stored details a fetch did not re-read, and
`trendbot init` inside trendbot's own checkout."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st
from werkzeug import Response

from conftest import read_data
from test_daemon import job_log  # noqa: F401 (a fixture)

LAB = read_data("feeds/simple_atom.xml")


def serve(httpserver, path: str, body: bytes, content_type: str = "application/atom+xml") -> str:
    httpserver.expect_request(path).respond_with_data(body, content_type=content_type)
    return httpserver.url_for(path)


# -- configuration ------------------------------------------------------------------------------


def test_every_files_problems_are_listed_not_only_the_first_files(project, run):
    project.add_source("geeknews", kind="geeknews", every="3x")
    project.add_source("lab", kind="feed", url="ftp://x")
    project.add_source("twin", kind="feed", name="lab2", url="https://a.example.org/f")
    project.add_source("twin2", kind="feed", name="lab2", url="https://b.example.org/f")
    result = run("sources")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("trendbot: error: sources/geeknews.toml: every: ")
    assert any(line.strip().startswith("sources/lab.toml: url: ") for line in lines)
    assert any(line.strip().startswith("sources/twin2.toml: name: ") and "sources/twin.toml" in line for line in lines)
    assert len(lines) == 3


def test_a_bad_week_is_reported_as_week(project, run):
    result = run("digest", "--week", "2026-13-01", "--out", "-")
    assert result.exit_code == 2
    assert "Invalid value for --week: " in result.stderr and "--date" not in result.stderr


def test_an_empty_sources_folder_is_exit_2_not_a_quiet_day(project, run):
    for command in (("fetch",), ("digest", "--date", "today", "--fetch")):
        result = run(*command)
        assert result.exit_code == 2, command
        assert result.stderr.strip() == "trendbot: error: no sources in sources/ (trendbot init writes the defaults)"
    assert not list(project.root.glob("digests/*.md"))  # no "조용한 날입니다" digest
    project.add_source("lab", kind="feed", url="https://lab.example.org/feed", enabled=False)
    result = run("fetch")
    assert result.exit_code == 2 and "no enabled source in sources/" in result.stderr


def test_a_fetch_line_says_what_the_filters_left_out(project, run, httpserver):
    project.add_source("trending", kind="github_trending", base_url=httpserver.url_for("/").rstrip("/"),
                       include=["zzz-no-such-word"])
    httpserver.expect_request("/trending").respond_with_data(read_data("github_trending/trending_daily_2026-07.html"),
                                                             content_type="text/html; charset=utf-8")
    result = run("fetch")
    assert result.exit_code == 0
    assert re.fullmatch(r"trending: 0 items \(\d+ left out by include\) in [0-9.]+s", result.stdout.strip())
    project.add_source("lab", kind="feed", url=serve(httpserver, "/lab.xml", LAB), exclude=["second"])
    line = run("fetch", "--source", "lab").stdout.strip()
    assert re.fullmatch(r"lab: 1 items \(1 new, 0 updated; 1 left out by exclude\) in [0-9.]+s", line), line


def test_a_logged_url_loses_its_secrets_and_keeps_the_rest():
    from trendbot.urls import without_secrets

    assert without_secrets("https://me:pw@host.example/rss?token=abc&page=2") == "https://***@host.example/rss?token=***&page=2"
    assert without_secrets("https://host.example/a?client_secret=x&X-Amz-Signature=y&q=ai") == \
        "https://host.example/a?client_secret=***&X-Amz-Signature=***&q=ai"
    assert without_secrets("https://huggingface.co/api/daily_papers?date=2026-06-12&limit=50&p=0") == \
        "https://huggingface.co/api/daily_papers?date=2026-06-12&limit=50&p=0"


# -- trendbot sources --------------------------------------------------------------------------

ISO_OR_UTC = re.compile(r"\d\d:\d\d:\d\d|T\d\d:\d\d|\+00:00| UTC\b")


def test_sources_shows_every_time_one_way_in_the_configured_zone(project, run, httpserver):
    project.add_source("lab", kind="feed", url=serve(httpserver, "/lab.xml", LAB))
    httpserver.expect_request("/busy.xml").respond_with_data("slow down", status=429, headers={"Retry-After": "7200"})
    project.add_source("busy", kind="feed", url=httpserver.url_for("/busy.xml"))
    project.add_source("x", kind="x", accounts=["karpathy"], mirrors=[httpserver.url_for("/nitter").rstrip("/")])
    httpserver.expect_request("/nitter/karpathy/rss").respond_with_data("gone", status=404)
    assert run("fetch").exit_code == 1
    shown = run("sources").stdout
    assert not ISO_OR_UTC.search(shown), shown
    lab = shown.split("lab  [", 1)[1]
    assert "last success: just now   next run: in 30 min" in lab
    busy = shown.split("busy  [", 1)[1].split("\n", 3)
    assert "next run: in 2 h" in busy[1]  # the server asked for two hours
    assert re.search(r"last error \(just now\): .*next try after \d{4}-\d\d-\d\d \d\d:\d\d KST", busy[2]), busy
    x_lines = shown.split("x  [", 1)[1]
    assert re.search(r"@karpathy: not fetched at \d{4}-\d\d-\d\d \d\d:\d\d KST", x_lines), x_lines


def test_a_time_is_relative_within_a_day_and_dated_with_its_zone_beyond():
    from datetime import datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    from trendbot.timeutil import local_times, shown_time

    seoul, now = ZoneInfo("Asia/Seoul"), datetime(2026, 12, 1, 21, 12, tzinfo=timezone.utc)
    assert shown_time(now - timedelta(hours=3, minutes=5), now, seoul) == "3 h ago"
    assert shown_time(now + timedelta(minutes=20), now, seoul) == "in 20 min"
    assert shown_time(now - timedelta(days=2), now, seoul) == "2026-11-30 06:12 KST"
    assert local_times("next try after 2026-12-01T21:12:10+00:00; resting until 2026-12-01 22:00 UTC", seoul) == \
        "next try after 2026-12-02 06:12 KST; resting until 2026-12-02 07:00 KST"


# -- short messages ------------------------------------------------------------------------------


def test_twenty_topics_that_fail_are_one_short_warning_with_the_rest_at_v(project, run, httpserver):
    from test_geeknews import Site, add_gn

    site = Site(httpserver)
    site.route("/rss/news", "rss_news_2026-09-29.xml")  # 50 topics; every topic page answers 404
    add_gn(project, site)
    result = run("fetch")
    assert result.exit_code == 0
    [warning] = [line for line in result.stderr.splitlines() if "kept with the feed's data only" in line]
    assert len(warning) <= 200 and re.search(r"20 topic\(s\) kept .*: \d+, \d+, \d+ and 17 more \(HTTP 404", warning)
    assert warning.endswith("-v lists each)")
    listed = run("sources").stdout
    assert all(len(line) <= 200 for line in listed.splitlines()), listed
    verbose = run("-v", "fetch").stderr
    each = [line for line in verbose.splitlines() if re.match(r"trendbot: gn: topic \d+ kept with the feed's data only: ", line)]
    assert len(each) == 20 and all("HTTP 404" in line for line in each)


def test_a_source_whose_accounts_all_fail_says_so_in_one_short_line(project, run, httpserver):
    accounts = [f"account{n:02d}" for n in range(30)]
    project.add_source("x", kind="x", accounts=accounts, mirrors=[httpserver.url_for("/nitter").rstrip("/")])
    result = run("fetch")
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert len(line) <= 200 and line.startswith("trendbot: x failed: ")
    assert "30 accounts; @account00: " in line
    assert all(f"@{account}: not fetched" in run("sources").stdout for account in accounts)


# -- items --json and search --json ------------------------------------------------------------


def test_items_json_has_the_submitters_full_name_wherever_the_answer_holds_it(project, run, httpserver):
    from test_hf_papers import API_JSON, DAY, add_hf

    # the real answer, with the entry-level `submittedBy` of its top paper lacking `fullname`:
    # the name is then only in `paper.submittedOnDailyBy`
    entries = json.loads(read_data("hf/api_2026-06-12.json"))
    top = next(entry for entry in entries if entry["paper"]["id"] == "2606.13681")
    expected = top["paper"]["submittedOnDailyBy"]["fullname"]
    top["submittedBy"].pop("fullname")
    httpserver.expect_request("/api/daily_papers").respond_with_data(json.dumps(entries), content_type=API_JSON)
    add_hf(project, httpserver)
    assert run("fetch", "--date", DAY).exit_code == 0
    shown = {item["url"]: item for item in json.loads(run("items", "--date", DAY, "--json").stdout)}
    paper = shown["https://huggingface.co/papers/2606.13681"]
    assert paper["submitter"] == {"user": top["submittedBy"]["name"], "fullname": expected}
    [found] = json.loads(run("search", "EvoArena", "--json").stdout)
    assert found["thumbnail"] == paper["thumbnail"] and found["submitter"] == paper["submitter"]


# -- what a fetch did not read again -------------------------------------------------------------


def test_a_topic_back_in_the_feed_keeps_its_points_when_its_page_is_not_read_again(project, run, httpserver):
    from test_geeknews import Site, add_gn, gn, serve_three_topics, stored

    site = Site(httpserver)
    serve_three_topics(site)
    add_gn(project, site)
    assert run("fetch").exit_code == 0
    before = stored(project)[34489]
    assert before["popularity"] == {"points": 12, "comments": 3}
    # the recorded feed without topic 34489 (it left the feed), then the feed as recorded (it is back)
    feed = gn("rss_news_3_topics.xml").decode()
    start = feed.index("<entry>")
    without = feed[:start] + feed[feed.index("</entry>", start) + len("</entry>"):]
    site.route("/rss/news", lambda request: Response(without, content_type="application/atom+xml"))
    add_gn(project, site, max_enrich=0)
    assert run("fetch").exit_code == 0
    site.route("/rss/news", "rss_news_3_topics.xml")
    assert run("fetch").exit_code == 0
    after = stored(project)[34489]
    assert after["popularity"] == {"points": 12, "comments": 3}
    assert after["extra"].get("original_url") == before["extra"]["original_url"]  # the story's article, for merging
    assert "GN 12p 💬3" in run("digest", "--date", "2026-09-29", "--out", "-").stdout


# -- the daemon ----------------------------------------------------------------------------------


def test_a_failure_is_said_when_it_starts_hourly_while_it_lasts_and_when_it_ends():
    from datetime import datetime, timedelta, timezone

    from trendbot.daemon import failure_news

    start, state, said = datetime(2026, 12, 1, 21, 0, tzinfo=timezone.utc), None, []
    for minutes, failed in [(0, True), (1, True), (30, True), (59, True), (60, True), (90, True), (121, True),
                            (122, False), (123, False), (150, True)]:
        state, news = failure_news(state, failed, start + timedelta(minutes=minutes))
        said.append((minutes, news, state.count if state else None))
    assert [(m, news) for m, news, _ in said if news] == [
        (0, "failed"), (60, "still failing"), (121, "still failing"), (122, "recovered"), (150, "failed")]
    assert dict((m, count) for m, _, count in said)[121] == 7


@given(st.lists(st.tuples(st.booleans(), st.integers(min_value=1, max_value=7200)), max_size=60))
def test_each_failure_streak_is_said_once_reminded_hourly_and_its_end_once(steps):
    from datetime import datetime, timedelta, timezone

    from trendbot.daemon import failure_news

    now, state, previous, said_at = datetime(2026, 12, 1, tzinfo=timezone.utc), None, False, None
    for failed, seconds in steps:
        now += timedelta(seconds=seconds)
        state, news = failure_news(state, failed, now)
        if failed and not previous:
            assert news == "failed"
            said_at = now
        elif failed:  # the streak goes on: said again exactly when an hour has passed since it was said
            assert news == ("still failing" if now - said_at >= timedelta(hours=1) else None)
            said_at = now if news else said_at
        else:
            assert news == ("recovered" if previous else None) and state is None
        previous = failed


def test_a_failing_source_is_not_logged_every_cycle(project, httpserver, job_log):
    import logging
    from datetime import datetime, timedelta, timezone

    from trendbot.daemon import Daemon
    from trendbot.jobs import load

    down = {"yes": True}

    def answer(request):
        if down["yes"]:
            return Response("down", status=500)
        return Response(LAB, content_type="application/atom+xml")

    httpserver.expect_request("/lab.xml").respond_with_handler(answer)
    project.add_source("lab", kind="feed", url=httpserver.url_for("/lab.xml"))
    daemon = Daemon(load())
    start = datetime(2026, 12, 1, 21, 0, tzinfo=timezone.utc)
    for minutes in (0, 30, 50, 61, 90, 120):
        down["yes"] = minutes < 120
        daemon.fetch_job("lab", now=start + timedelta(minutes=minutes))
    handler = job_log
    shown = [(record.levelname, record.getMessage()) for record in handler.records if record.levelno >= logging.INFO]
    assert [level for level, _ in shown] == ["WARNING", "WARNING", "INFO"], shown
    assert "fetch:lab: failed in " in shown[0][1] and "HTTP 500" in shown[0][1]
    assert "(still failing: 4 fetches since 2026-12-02 06:00 KST)" in shown[1][1]
    assert "fetch:lab: ok in " in shown[2][1] and "recovered after 5 failed fetch(es) since 2026-12-02 06:00 KST" in shown[2][1]
    assert shown[2][1].endswith("; next 2026-12-02 08:30 KST")  # the next run, a source's `every` on
    assert all(record.fields["source"] == "lab" for record in handler.records)


def test_the_daemon_logs_in_the_configured_zone_and_says_each_jobs_next_run(project, httpserver):
    import os
    import subprocess
    import sys

    from test_daemon import REPO, serve_lab_feed, stop, wait_for

    project.add_source("lab", kind="feed", url=serve_lab_feed(httpserver), every="1s")
    project.write_config(timezone="Asia/Seoul", schedule={"catch_up_days": 0, "publish_at": "06:20"},
                         blog={"week_starts": "saturday"})
    process = subprocess.Popen([sys.executable, "-m", "trendbot", "run"], cwd=project.root, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPO), "TZ": "America/New_York"})
    try:
        wait_for(lambda: len(httpserver.log) >= 1, what="a fetch")
    finally:
        code, err = stop(process)
    assert code == 0, err
    lines = err.splitlines()
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d KST (INFO|WARNING) trendbot\.", line) for line in lines), lines
    [next_line] = [line for line in lines if "next publish: " in line]
    assert re.search(r"next publish: \d{4}-\d\d-\d\d 06:20 KST, settle: \d{4}-\d\d-\d\d 09:00 KST, "
                     r"week: Fri \d{4}-\d\d-\d\d 23:45 KST$", next_line), next_line
    assert any(re.search(r"fetch:lab: ok in .*; next \d{4}-\d\d-\d\d \d\d:\d\d KST$", line) for line in lines)


def test_the_publish_line_counts_the_stories_it_published_and_names_the_next_run(project, httpserver, job_log):
    from test_daemon import blog_project, kst
    from trendbot.daemon import Daemon
    from trendbot.jobs import load

    blog_project(project, httpserver, {"2026-06-12": "api_2026-06-12.json"})
    daemon = Daemon(load())
    daemon.publish_job(now=kst(2026, 6, 12, 23, 30))
    daemon.publish_job(now=kst(2026, 6, 12, 23, 31))  # nothing new fetched: still 15 stories published
    first, again = [line for line in job_log.lines if line.startswith("publish 2026-06-12")]
    assert "stories=15 fetched=30 new=30" in first and first.endswith("; next 2026-06-13 23:30 KST")
    assert "stories=15 " in again and "new=0" in again


# -- trendbot init ---------------------------------------------------------------------------------


def test_init_inside_trendbots_own_checkout_says_where_it_writes(run, tmp_path, monkeypatch):
    from pathlib import Path

    repo = Path(__file__).parent.parent
    checkout = tmp_path / "trendbot-checkout"  # a copy of what makes a folder trendbot's checkout
    (checkout / "trendbot").mkdir(parents=True)
    (checkout / "trendbot" / "__init__.py").write_text((repo / "trendbot" / "__init__.py").read_text())
    (checkout / "pyproject.toml").write_text((repo / "pyproject.toml").read_text())
    (checkout / "sources").mkdir()
    (checkout / "sources" / "geeknews.toml").write_text('kind = "geeknews"\n')
    monkeypatch.chdir(checkout)
    result = run("init")
    assert result.exit_code == 0
    assert result.stderr.startswith(f"trendbot: note: {checkout} is trendbot's own checkout; writing trendbot.toml")
    assert "trendbot init --dir ~/trendbot" in result.stderr
    assert "kept    sources/geeknews.toml (already exists)" in result.stdout
    mine = tmp_path / "mine"
    elsewhere = run("init", "--dir", str(mine))
    assert elsewhere.exit_code == 0 and elsewhere.stderr == "" and (mine / "trendbot.toml").exists()
