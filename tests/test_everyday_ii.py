"""Everyday use II, through the real command: every configuration problem listed, the request
lines of -vv, a source's events in --json-logs, help that ends with examples, short messages,
what the filters left out, an empty sources/ folder, stored details a fetch did not re-read, and
`trendbot init` inside trendbot's own checkout."""

from __future__ import annotations

import json
import re

from werkzeug import Response

from conftest import read_data

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
    assert after["extra"].get("original_url") == before["extra"]["original_url"] and after["links"] == before["links"]
    assert "GN 12p 💬3" in run("digest", "--date", "2026-09-29", "--out", "-").stdout
