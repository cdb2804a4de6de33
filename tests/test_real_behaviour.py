"""Real feeds as they behave over time: items re-dated on every rebuild, feeds gone empty or
frozen, answers that are "not modified".

The documents are real snapshots of a third-party Hugging Face blog feed that stamps every post
with the time it was scraped (tests/data/feeds/SOURCES.md). Each fetch runs the real fetch cycle
at the moment the snapshot was taken (`now` is a parameter: nobody sleeps), against a real local
server and a real database; digests are rendered by the same job the CLI runs.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from conftest import read_data
from trendbot import jobs
from trendbot.store import Store

SNAPSHOTS = {  # the moment each snapshot was taken -> the recorded document
    datetime(2026, 3, 3, 14, 2, tzinfo=timezone.utc): "feeds/hf_blog_rfeed_2026-03-03T1402Z.xml",
    datetime(2026, 3, 3, 17, 49, tzinfo=timezone.utc): "feeds/hf_blog_rfeed_2026-03-03T1749Z.xml",
    datetime(2026, 3, 5, 9, 52, tzinfo=timezone.utc): "feeds/hf_blog_rfeed_2026-03-05T0952Z.xml",
}
EMPTY = "feeds/hf_blog_rfeed_2026-06-05_empty.xml"


@pytest.fixture
def feed(project, httpserver):
    served = {"name": ""}
    httpserver.expect_request("/hf_blog.xml").respond_with_handler(
        lambda request: __import__("werkzeug").Response(read_data(served["name"]), content_type="application/rss+xml"))
    project.add_source("hf-blog", kind="feed", url=httpserver.url_for("/hf_blog.xml"), stale_after="7d")
    return served


def cycle(served: dict, name: str, now: datetime):
    served["name"] = name
    config = jobs.load()
    with Store(config.db_path) as store:
        return jobs.fetch(config, store, now=now).outcomes[0]


def stories(day: date, now: datetime) -> list[str]:
    config = jobs.load()
    with Store(config.db_path) as store:
        digest = jobs.build_digest(config, store, day, now)
    return [story.lead.title for story in digest.stories]


def test_items_keep_the_day_they_were_first_stored_however_the_feed_re_dates_them(feed):
    first, second, third = SNAPSHOTS
    assert cycle(feed, SNAPSHOTS[first], first).new == 14
    march_3 = stories(date(2026, 3, 3), first)
    assert len(march_3) == 14 and "Mixture of Experts (MoEs) in Transformers" in march_3

    # the next snapshot is the next day in Seoul: 13 posts re-dated, one new
    outcome = cycle(feed, SNAPSHOTS[second], second)
    assert (outcome.new, outcome.updated) == (1, 0)
    assert stories(date(2026, 3, 4), second) == ["PRX Part 3 — Training a Text-to-Image Model in 24h!"]
    # two days later, everything re-dated again: nothing moves, nothing counts as updated
    outcome = cycle(feed, SNAPSHOTS[third], third)
    assert (outcome.new, outcome.updated) == (0, 0)
    assert stories(date(2026, 3, 5), third) == []
    # the day that was published keeps its stories
    assert stories(date(2026, 3, 3), third) == march_3


def test_a_published_day_rendered_again_after_re_dating_is_the_same_list(project, run, feed):
    first, second, third = SNAPSHOTS
    (project.root / "blog").mkdir()
    project.write_config(blog={"repo": "blog"})
    cycle(feed, SNAPSHOTS[first], first)
    config = jobs.load()
    with Store(config.db_path) as store:
        published = jobs.publish_day(config, store, date(2026, 3, 3), first).result
    assert published.status == "written"
    post = published.path.read_text(encoding="utf-8")
    cycle(feed, SNAPSHOTS[second], second)
    cycle(feed, SNAPSHOTS[third], third)
    with Store(config.db_path) as store:
        again = jobs.publish_day(config, store, date(2026, 3, 3), third).result
    assert again.status == "unchanged" and published.path.read_text(encoding="utf-8") == post


def test_a_publication_time_in_the_future_is_not_believed(project, feed):
    first = next(iter(SNAPSHOTS))
    cycle(feed, SNAPSHOTS[first], first - timedelta(days=2))  # the feed's clock is two days ahead of ours
    days = {row["day"] for row in project.rows("select distinct day from items")}
    assert days == {"2026-03-01"}  # filed when first seen (23:02 in Seoul), not on a day yet to come


def sources(run) -> dict:
    return {row["name"]: row for row in json.loads(run("sources", "--json").stdout)}


def test_a_feed_gone_empty_for_months_is_stale_not_a_silent_success(project, run, feed):
    start = datetime(2026, 6, 5, 9, 0, tzinfo=timezone.utc)
    for week in range(0, 13):
        outcome = cycle(feed, EMPTY, start + timedelta(weeks=week))
        assert outcome.status == "ok" and outcome.seen == 0
    config = jobs.load()
    now = start + timedelta(weeks=12)
    with Store(config.db_path) as store:
        digest = jobs.build_digest(config, store, now.date(), now)
    assert "<small>※ hf-blog: 업데이트 없음 (84일)</small>" in digest.markdown
    state = sources(run)["hf-blog"]
    assert state["stale_since"] == start.isoformat() and state["last_error"] is None
    assert "stale: nothing new since 2026-06-05" in run("sources").stdout


def test_a_frozen_feed_that_keeps_answering_the_same_posts_turns_stale(project, run, feed):
    third = list(SNAPSHOTS)[-1]
    cycle(feed, SNAPSHOTS[third], third)
    config = jobs.load()
    with Store(config.db_path) as store:
        assert "업데이트 없음" not in jobs.build_digest(config, store, date(2026, 3, 5), third).markdown
    for day in range(1, 11):  # the same snapshot every day for ten days: re-dated, nothing new
        cycle(feed, SNAPSHOTS[third], third + timedelta(days=day))
    now = third + timedelta(days=10)
    with Store(config.db_path) as store:
        digest = jobs.build_digest(config, store, date(2026, 3, 15), now)
    assert "<small>※ hf-blog: 업데이트 없음 (10일)</small>" in digest.markdown


def test_not_modified_is_said_as_such(project, run, httpserver):
    etag = '"v1"'

    def answer(request):
        from werkzeug import Response

        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(read_data(list(SNAPSHOTS.values())[0]), content_type="application/rss+xml", headers={"ETag": etag})

    httpserver.expect_request("/blog.xml").respond_with_handler(answer)
    project.add_source("blog", kind="feed", url=httpserver.url_for("/blog.xml"))
    assert "blog: 14 items (14 new, 0 updated)" in run("fetch").stdout
    second = run("fetch")
    assert "blog: not modified in " in second.stdout and "0 items" not in second.stdout
    assert sources(run)["blog"]["not_modified"] is True
    assert "last fetch: not modified" in run("sources").stdout
