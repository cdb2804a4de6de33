"""`trendbot fetch` end to end: the real CLI, a real SQLite file, a real local HTTP server."""

from __future__ import annotations

import json
import threading

from werkzeug import Request, Response

from conftest import read_data

ATOM = "application/atom+xml"


def serve_feed(httpserver, path: str, name: str, **headers):
    httpserver.expect_request(path).respond_with_data(read_data(f"feeds/{name}"), content_type=ATOM,
                                                      headers=headers)
    return httpserver.url_for(path)


def source_states(run) -> dict:
    result = run("sources", "--json")
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_fetch_stores_items_of_every_source(project, run, httpserver):
    project.add_source("lab", kind="feed", url=serve_feed(httpserver, "/lab.xml", "simple_atom.xml"))
    project.add_source("gn", kind="feed", url=serve_feed(httpserver, "/gn.xml", "geeknews_atom_2026-09-29.xml"))
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert "lab: 2 items (2 new, 0 updated)" in result.stdout
    assert "gn: 50 items (50 new, 0 updated)" in result.stdout
    counts = {row["source"]: row["n"] for row in project.rows("select source, count(*) n from items group by source")}
    assert counts == {"lab": 2, "gn": 50}
    states = source_states(run)
    assert states["lab"]["last_success"] and states["lab"]["last_error"] is None
    assert states["gn"]["items"] == 50


def test_second_fetch_is_conditional_and_stores_nothing_new(project, run, httpserver):
    body = read_data("feeds/simple_atom.xml")
    etag, modified = '"v1"', "Fri, 20 Nov 2026 09:00:00 GMT"
    seen: list[dict] = []

    def handler(request: Request) -> Response:
        seen.append(dict(request.headers))
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(body, content_type=ATOM, headers={"ETag": etag, "Last-Modified": modified})

    httpserver.expect_request("/lab.xml").respond_with_handler(handler)
    project.add_source("lab", kind="feed", url=httpserver.url_for("/lab.xml"))
    assert run("fetch").exit_code == 0
    before = project.rows("select id, updated_at, first_seen_at from items order by id")

    second = run("fetch")
    assert second.exit_code == 0, second.output
    assert "lab: not modified" in second.stdout
    assert "If-None-Match" not in seen[0]
    assert seen[1]["If-None-Match"] == etag
    assert seen[1]["If-Modified-Since"] == modified
    assert seen[1]["User-Agent"].startswith("trendbot/") and "+http" in seen[1]["User-Agent"]
    assert project.rows("select id, updated_at, first_seen_at from items order by id") == before


def test_unchanged_feed_without_validators_rewrites_no_row(project, run, httpserver):
    project.add_source("lab", kind="feed", url=serve_feed(httpserver, "/lab.xml", "simple_atom.xml"))
    run("fetch")
    before = project.rows("select id, updated_at from items order by id")
    again = run("fetch")
    assert "lab: 2 items (0 new, 0 updated)" in again.stdout
    assert project.rows("select id, updated_at from items order by id") == before


def test_changed_title_updates_the_row_in_place(project, run, httpserver):
    bodies = [read_data("feeds/simple_atom.xml"), read_data("feeds/simple_atom_retitled.xml")]
    httpserver.expect_request("/lab.xml").respond_with_handler(
        lambda request: Response(bodies.pop(0), content_type=ATOM))
    project.add_source("lab", kind="feed", url=httpserver.url_for("/lab.xml"))
    run("fetch")
    first = project.rows("select * from items where url like '%scaling'")
    result = run("fetch")
    assert "lab: 2 items (0 new, 1 updated)" in result.stdout
    rows = project.rows("select * from items where url like '%scaling'")
    assert len(rows) == 1
    assert rows[0]["title"] == "Scaling laws for tiny models, revised"
    assert rows[0]["id"] == first[0]["id"]
    assert rows[0]["first_seen_at"] == first[0]["first_seen_at"]
    assert project.rows("select count(*) n from items")[0]["n"] == 2


def run_with_failing_source(project, run, httpserver, configure) -> tuple:
    project.add_source("good", kind="feed", url=serve_feed(httpserver, "/good.xml", "simple_atom.xml"))
    bad_url = configure(httpserver)
    project.add_source("bad", kind="feed", url=bad_url)
    result = run("fetch")
    states = source_states(run)
    counts = {row["source"]: row["n"] for row in project.rows("select source, count(*) n from items group by source")}
    return result, states, counts, bad_url


def assert_isolated_failure(result, states, counts, bad_url, reason: str):
    assert result.exit_code == 1, result.output
    assert counts == {"good": 2}
    assert states["good"]["last_error"] is None
    assert bad_url in states["bad"]["last_error"] and reason in states["bad"]["last_error"]
    assert f"bad failed: {bad_url}" in result.stderr and reason in result.stderr


def test_server_error_fails_only_that_source_after_retrying(project, run, httpserver):
    hits = []

    def configure(server):
        server.expect_request("/bad.xml").respond_with_handler(
            lambda request: hits.append(1) or Response("oops", status=500))
        return server.url_for("/bad.xml")

    outcome = run_with_failing_source(project, run, httpserver, configure)
    assert_isolated_failure(*outcome, reason="HTTP 500 Internal Server Error")
    assert len(hits) == 2  # one try plus `retries = 1` from the test config
    shown = run("sources")
    assert "last error" in shown.stdout and "HTTP 500" in shown.stdout


def test_429_with_retry_after_sets_next_fetch_and_is_left_alone(project, run, httpserver):
    hits = []

    def configure(server):
        server.expect_request("/bad.xml").respond_with_handler(
            lambda request: hits.append(1) or Response("slow down", status=429, headers={"Retry-After": "3600"}))
        return server.url_for("/bad.xml")

    result, states, counts, bad_url = run_with_failing_source(project, run, httpserver, configure)
    assert_isolated_failure(result, states, counts, bad_url, reason="HTTP 429 Too Many Requests")
    assert len(hits) == 1  # no retry: the server said when to come back
    assert states["bad"]["next_run"] is not None
    again = run("fetch")
    assert len(hits) == 1
    assert "bad: skipped, server asked to wait until" in again.stdout
    assert again.exit_code == 0


def test_timeout_fails_only_that_source(project, run, httpserver):
    project.write_config(http={"timeout": "300ms", "retries": 0})
    release = threading.Event()

    def configure(server):
        server.expect_request("/bad.xml").respond_with_handler(
            lambda request: release.wait(3) and Response("late"))
        return server.url_for("/bad.xml")

    try:
        outcome = run_with_failing_source(project, run, httpserver, configure)
    finally:
        release.set()
    assert_isolated_failure(*outcome, reason="timed out after 0.3s")


def test_malformed_body_fails_only_that_source(project, run, httpserver):
    def configure(server):
        server.expect_request("/bad.xml").respond_with_data(read_data("feeds/not_a_feed.html"),
                                                            content_type="text/html")
        return server.url_for("/bad.xml")

    assert_isolated_failure(*run_with_failing_source(project, run, httpserver, configure), reason="not a feed")


def test_body_over_the_size_cap_fails_only_that_source(project, run, httpserver):
    project.write_config(http={"max_bytes": 20_000})

    def configure(server):
        huge = b"<rss><channel>" + b"<item><title>x</title></item>" * 5000 + b"</channel></rss>"
        server.expect_request("/bad.xml").respond_with_data(huge, content_type="application/rss+xml")
        return server.url_for("/bad.xml")

    assert_isolated_failure(*run_with_failing_source(project, run, httpserver, configure),
                            reason="over the 20 kB cap")


def test_streamed_body_over_the_cap_is_cut_off_without_content_length(project, run, httpserver):
    project.write_config(http={"max_bytes": 20_000})

    def configure(server):
        def chunks():
            for _ in range(1000):
                yield b"<item><title>x</title></item>" * 10

        server.expect_request("/bad.xml").respond_with_handler(
            lambda request: Response(chunks(), content_type="application/rss+xml", direct_passthrough=True))
        return server.url_for("/bad.xml")

    assert_isolated_failure(*run_with_failing_source(project, run, httpserver, configure),
                            reason="over the 20 kB cap")


def test_sources_are_fetched_concurrently(project, run, httpserver):
    # Each answer waits until all four requests have arrived: a sequential fetch would
    # break the barrier and get 500s.
    barrier = threading.Barrier(4, timeout=5)

    def together(request: Request) -> Response:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return Response("requests were not concurrent", status=500)
        return Response(read_data("feeds/simple_atom.xml"), content_type=ATOM)

    project.write_config(http={"timeout": "10s", "retries": 0})
    for index in range(4):
        httpserver.expect_request(f"/f{index}.xml").respond_with_handler(together)
        project.add_source(f"f{index}", kind="feed", url=httpserver.url_for(f"/f{index}.xml"))
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert project.rows("select count(*) n from items")[0]["n"] == 8
