"""Messages (`[notify]`) through apprise's real `json://` service to a real endpoint on 127.0.0.1.

The URL's password is the secret: every test that sends also checks it never reaches stdout,
stderr, `--json-logs` or `sources --json`. Down and back are driven by the daemon's own fetch
job at chosen times against a feed server that fails on demand.
"""

from __future__ import annotations

import json
import socket
import threading
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st
from werkzeug import Request, Response

from conftest import read_data
from test_daemon import kst
from test_publish import DAY, fetch, make_repo
from trendbot import notify
from trendbot.daemon import Daemon
from trendbot.jobs import load as load_config
from trendbot.store import Fetched, Store

SECRET = "s3cret-Pass-4242"
ATOM = "application/atom+xml"


class Inbox:
    """What the json:// service posted to the endpoint: apprise's `{"title", "message"}`."""

    def __init__(self, httpserver, path: str = "/hook"):
        self.messages: list[dict] = []
        self.auth: list[tuple[str, str]] = []
        httpserver.expect_request(path, method="POST").respond_with_handler(self.receive)
        self.url = f"json://trend:{SECRET}@127.0.0.1:{httpserver.port}{path}"
        self.service = f"json://127.0.0.1:{httpserver.port}"

    def receive(self, request: Request) -> Response:
        self.messages.append(json.loads(request.data))
        self.auth.append((request.authorization.username, request.authorization.password))
        return Response("ok")

    def titles(self) -> list[str]:
        return [message["title"] for message in self.messages]


@pytest.fixture
def inbox(httpserver) -> Inbox:
    return Inbox(httpserver)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text and "trend:" not in text


class Switch:
    """A feed that answers, or fails with 500, as the test says."""

    def __init__(self, httpserver, path: str = "/lab.xml"):
        self.failing = False
        self.body = read_data("feeds/simple_atom.xml")
        httpserver.expect_request(path).respond_with_handler(self.answer)
        self.url = httpserver.url_for(path)

    def answer(self, request: Request) -> Response:
        if self.failing:
            return Response("upstream broke", status=500)
        return Response(self.body, content_type=ATOM)


# -- notify --test ------------------------------------------------------------------------------

def test_notify_test_says_per_url_whether_it_got_through_and_exits_1_when_one_did_not(project, run, inbox):
    dead = closed_port()
    project.write_config(notify={"urls": [inbox.url, f"json://trend:{SECRET}@127.0.0.1:{dead}/hook"]})
    result = run("notify", "--test")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"1. {inbox.service}: sent"
    assert lines[1].startswith(f"2. json://127.0.0.1:{dead}: NOT SENT: ")
    assert "1 of 2 URL(s) did not get the test message" in result.stderr
    assert inbox.titles() == ["trendbot: test message"]
    assert inbox.auth == [("trend", SECRET)]  # the secret did go where it belongs
    assert_no_secret(result.stdout, result.stderr)


def test_notify_test_exits_0_when_every_url_got_it_and_notify_lists_services(project, run, inbox, monkeypatch):
    monkeypatch.setenv("TRENDBOT_NOTIFY", inbox.url)
    project.write_config(notify={"urls_env": "TRENDBOT_NOTIFY", "on": ["down", "back"], "down_after": "2h"})
    result = run("notify", "--test")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"1. {inbox.service}: sent\n"
    listed = run("notify")
    assert listed.exit_code == 0
    assert listed.stdout == f"messages: down, back; down after 2h of failures\n1. {inbox.service}\n"
    assert len(inbox.messages) == 1
    assert_no_secret(result.stdout, result.stderr, listed.stdout)


def test_notify_without_urls_or_with_an_unset_env_is_a_usage_error(project, run):
    result = run("notify", "--test")
    assert result.exit_code == 2 and "no [notify] urls" in result.stderr
    project.write_config(notify={"urls_env": "TRENDBOT_NOTIFY_UNSET"})
    result = run("notify", "--test")
    assert result.exit_code == 2
    assert "trendbot.toml: notify.urls_env: $TRENDBOT_NOTIFY_UNSET is not set" in result.stderr


def test_a_url_without_a_scheme_is_a_config_error_that_does_not_show_it(project, run):
    project.write_config(notify={"urls": [f"json://trend:{SECRET}@127.0.0.1:9/x", SECRET]})
    result = run("notify", "--test")
    assert result.exit_code == 2
    assert "trendbot.toml: notify.urls: urls[1] is not an apprise URL" in result.stderr
    assert_no_secret(result.stdout, result.stderr)


# -- published, failed ---------------------------------------------------------------------------

def test_published_is_sent_once_per_day_and_post_with_the_page_and_three_titles(project, run, httpserver):
    repo = make_repo(project.root)
    project.write_config(blog={"repo": "blog", "url": "https://me.github.io"})
    fetch(project, run, httpserver)
    inbox = Inbox(httpserver)  # after fetch(), which clears the server's handlers
    project.write_config(notify={"urls": [inbox.url]})
    first = run("digest", "--date", DAY, "--publish")
    assert first.exit_code == 0, first.output
    [message] = inbox.messages
    assert message["title"] == f"trendbot: {DAY} is published"
    lines = message["message"].splitlines()
    assert lines[0] == f"{DAY}: 15 stories in _posts/{DAY}-daily-trends.md"
    assert lines[1] == "https://me.github.io/2026/09/29/daily-trends.html"
    post = repo / "_posts" / f"{DAY}-daily-trends.md"
    text = post.read_text(encoding="utf-8")
    shown = [line[2:] for line in lines[2:]]
    assert len(shown) == 3 and all(title.split(" ")[0] in text for title in shown)
    assert "- [AI 기업들이 광고업체에 데이터를 유출함" in text and shown[0] == "AI 기업들이 광고업체에 데이터를 유출함 [pdf]"

    assert run("digest", "--date", DAY, "--publish").exit_code == 0  # a no-op
    post.write_text(text.replace(text.split("\n- [")[2].split("\n")[0], "제 메모만 남김"), encoding="utf-8")
    merged = run("digest", "--date", DAY, "--publish")                # a merge with the person's edit
    assert merged.exit_code == 0 and "merged with your edits" in merged.stderr
    assert len(inbox.messages) == 1
    assert_no_secret(first.stdout, first.stderr, merged.stderr)


def test_a_new_database_publishing_into_a_post_that_holds_the_day_sends_nothing(project, run, httpserver):
    """The Actions cache was evicted: the store knows no publication, the post has the block."""
    make_repo(project.root)
    project.write_config(blog={"repo": "blog"})
    fetch(project, run, httpserver)
    inbox = Inbox(httpserver)
    project.write_config(notify={"urls": [inbox.url]})
    assert run("digest", "--date", DAY, "--publish").exit_code == 0
    for path in project.root.glob("trendbot.db*"):
        path.unlink()
    fetch(project, run, httpserver, "gn_atom_2026-09-29_later.xml")
    inbox = Inbox(httpserver)
    project.write_config(notify={"urls": [inbox.url]})
    again = run("digest", "--date", DAY, "--publish")
    assert again.exit_code == 0 and "updated" in again.stderr, again.output
    assert inbox.messages == []


def test_published_for_digests_only_once_and_not_in_a_dry_run(project, run, httpserver):
    fetch(project, run, httpserver)
    inbox = Inbox(httpserver)
    project.write_config(notify={"urls": [inbox.url]})
    assert run("digest", "--date", DAY, "--publish", "--dry-run").exit_code == 0
    assert inbox.messages == []
    assert run("digest", "--date", DAY, "--publish").exit_code == 0
    assert run("digest", "--date", DAY, "--publish").exit_code == 0
    [message] = inbox.messages
    assert message["message"].startswith(f"{DAY}: 15 stories in digests/{DAY}.md\n- ")
    quiet = run("digest", "--date", "2026-09-01", "--publish")   # a quiet day is not news
    assert quiet.exit_code == 0 and len(inbox.messages) == 1


def test_a_publish_that_cannot_write_the_day_sends_failed_and_keeps_exit_1(project, run, httpserver):
    make_repo(project.root)
    project.write_config(blog={"repo": "blog", "create": False})
    fetch(project, run, httpserver)
    inbox = Inbox(httpserver)
    project.write_config(notify={"urls": [inbox.url]})
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 1
    [message] = inbox.messages
    assert message["title"] == f"trendbot: publishing {DAY} failed"
    assert "[blog] create = false" in message["message"]


def test_the_daemons_publish_job_failing_sends_one_failed(project, run, httpserver):
    make_repo(project.root)
    project.write_config(blog={"repo": "blog", "create": False})
    fetch(project, run, httpserver)
    inbox = Inbox(httpserver)
    project.write_config(notify={"urls": [inbox.url], "on": ["failed"]})
    Daemon(load_config()).publish_job(now=kst(2026, 9, 29, 23, 30))
    assert inbox.titles() == [f"trendbot: publishing {DAY} failed"]


def test_every_source_failing_is_a_failed_publish(project, run, httpserver):
    switch = Switch(httpserver)
    switch.failing = True
    project.add_source("lab", kind="feed", url=switch.url)
    inbox = Inbox(httpserver)
    project.write_config(notify={"urls": [inbox.url]})
    result = run("digest", "--date", "2026-11-20", "--fetch", "--publish")
    assert result.exit_code == 1
    assert inbox.titles() == ["trendbot: publishing 2026-11-20 failed"]
    assert "every source failed" in inbox.messages[0]["message"]


# -- a dead endpoint ---------------------------------------------------------------------------

@pytest.fixture
def release(httpserver):
    """Set when the test is over: an endpoint that never answers waits for it."""
    event = threading.Event()
    yield event
    event.set()


@pytest.mark.parametrize("dead", ["refused", "500", "hang"])
@pytest.mark.parametrize("json_logs", [False, True])
def test_a_dead_endpoint_changes_nothing_but_one_warning(project, run, httpserver, release, dead, json_logs):
    fetch(project, run, httpserver)
    httpserver.expect_request("/broken", method="POST").respond_with_data("no", status=500)
    httpserver.expect_request("/hang", method="POST").respond_with_handler(
        lambda request: Response("late") if release.wait(30) else None)
    port = {"refused": closed_port()}.get(dead, httpserver.port)
    url = f"json://trend:{SECRET}@127.0.0.1:{port}/" + {"refused": "hook", "500": "broken", "hang": "hang"}[dead]
    project.write_config(notify={"urls": [url]}, http={"timeout": "1s"})
    flags = ["--json-logs"] if json_logs else []
    result = run(*flags, "digest", "--date", DAY, "--publish")
    assert result.exit_code == 0, result.output
    assert (project.root / "digests" / f"{DAY}.md").is_file()
    service = notify.service_of(url)
    warnings = [line for line in result.stderr.splitlines() if "message not sent" in line]
    assert len(warnings) == 1 and f"published message not sent to {service}: " in warnings[0]
    if json_logs:
        entry = json.loads(warnings[0])
        assert entry["level"] == "warning" and entry["service"] == service
    listed = run("sources", "--json")
    assert_no_secret(result.stdout, result.stderr, listed.stdout)


# -- down and back -----------------------------------------------------------------------------

def watched(project, httpserver, down_after: str) -> tuple[Switch, Inbox, Daemon]:
    """The source `lab` on a feed that fails on demand, its messages going to an inbox."""
    switch = Switch(httpserver)
    project.add_source("lab", kind="feed", url=switch.url)
    inbox = Inbox(httpserver)
    project.write_config(notify={"urls": [inbox.url], "down_after": down_after})
    return switch, inbox, Daemon(load_config())


def test_down_once_after_down_after_however_many_cycles_fail_then_back_once(project, httpserver, run):
    switch, inbox, daemon = watched(project, httpserver, "2h")
    start = kst(2026, 11, 20, 9, 0)
    daemon.fetch_job("lab", now=start)
    switch.failing = True
    for n in range(1, 12):      # failures every 30 minutes from 09:30 to 14:30
        daemon.fetch_job("lab", now=start + timedelta(minutes=30 * n))
        expected = ["trendbot: lab is down"] if n >= 5 else []  # 11:30 is 2h after the first failure
        assert inbox.titles() == expected, n
    [down] = inbox.messages
    assert down["message"].startswith("lab has failed every attempt since 2026-11-20 09:30 (5 attempts): ")
    assert "HTTP 500" in down["message"]
    switch.failing = False
    daemon.fetch_job("lab", now=start + timedelta(hours=6))
    daemon.fetch_job("lab", now=start + timedelta(hours=7))
    assert inbox.titles() == ["trendbot: lab is down", "trendbot: lab is back"]
    assert inbox.messages[1]["message"] == "lab answers again after 330m of failures (11 attempts)"
    listed = run("sources", "--json")
    assert_no_secret(listed.stdout)


def test_a_short_outage_sends_nothing(project, httpserver):
    switch, inbox, daemon = watched(project, httpserver, "1d")
    start = kst(2026, 11, 20, 9, 0)
    switch.failing = True
    for n in range(4):
        daemon.fetch_job("lab", now=start + timedelta(hours=n))
    switch.failing = False
    daemon.fetch_job("lab", now=start + timedelta(hours=5))
    assert inbox.messages == []


# -- the decision, as a property of any run of attempts ------------------------------------------

attempt_runs = st.lists(st.tuples(st.booleans(), st.integers(min_value=1, max_value=120)), min_size=1, max_size=25)


@settings(max_examples=40, deadline=None)
@given(attempts=attempt_runs, down_after=st.integers(min_value=1, max_value=240))
def test_down_and_back_are_once_per_outage_that_lasted(tmp_path_factory, attempts, down_after):
    """Saved through the real store, one decision after each attempt: a `down` for each streak
    of failures lasting `down_after` (minutes), a `back` for each such streak a success ended."""
    limit = timedelta(minutes=down_after)
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    said: list[str] = []
    with Store(tmp_path_factory.mktemp("db") / "t.db") as store:
        for ok, gap in attempts:
            now += timedelta(minutes=gap)
            if ok:
                store.save_fetches([Fetched("lab", "feed", [])], now, timezone.utc)
            else:
                store.save_failure("lab", "feed", "HTTP 500", now)
            change = notify.outage(store.outage_run("lab"), limit)
            if change:
                said.append(change)
    streaks, current, time = [], None, datetime(2026, 11, 20, tzinfo=timezone.utc)
    for ok, gap in attempts:
        time += timedelta(minutes=gap)
        if not ok:
            current = current or [time, time]
            current[1] = time
        elif current:
            streaks.append((current, True))
            current = None
    if current:
        streaks.append((current, False))
    lasted = [(first_last, ended) for first_last, ended in streaks if first_last[1] - first_last[0] >= limit]
    expected = [word for _, ended in lasted for word in (["down", "back"] if ended else ["down"])]
    assert said == expected


def test_service_names_show_scheme_and_host_only_and_scrub_removes_the_rest():
    assert notify.service_of("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-1001234") == "tgram://…"
    assert notify.service_of("ntfy://my-secret-topic") == "ntfy://…"
    assert notify.service_of("ntfys://ntfy.example.org/topic") == "ntfys://ntfy.example.org"
    assert notify.service_of(f"json://u:{SECRET}@127.0.0.1:8080/p") == "json://127.0.0.1:8080"
    url = "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-1001234"
    said = notify.scrub("POST https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw failed "
                        "for chat -1001234", url)
    assert "123456789" not in said and "AAHdq" not in said and "1001234" not in said


def test_page_url_follows_jekylls_default_permalink():
    assert notify.page_url("https://me.github.io/", "_posts/2026-09-29-daily-trends.md") == \
        "https://me.github.io/2026/09/29/daily-trends.html"
    assert notify.page_url("https://me.github.io", "notes/today.md") is None
    assert notify.page_url(None, "_posts/2026-09-29-daily-trends.md") is None


def test_a_send_that_outlasts_the_http_deadline_is_given_up(project, run, httpserver, release):
    fetch(project, run, httpserver)
    httpserver.expect_request("/hang", method="POST").respond_with_handler(
        lambda request: Response("late") if release.wait(30) else None)
    url = f"json://trend:{SECRET}@127.0.0.1:{httpserver.port}/hang"
    project.write_config(notify={"urls": [url]}, http={"timeout": "20s", "deadline": "1s"})
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 0, result.output
    assert (f"notify: published message not sent to json://127.0.0.1:{httpserver.port}: "
            "no answer within 1s ([http] deadline)") in result.stderr
    assert_no_secret(result.stdout, result.stderr)
