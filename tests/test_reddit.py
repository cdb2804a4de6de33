"""The `reddit` kind: a real `top.json` listing and real subreddit feeds (`tests/data/reddit/`)
parsed directly, then fetched through the real CLI from a local server."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from werkzeug import Response

from conftest import conditional, read_data
from trendbot import __version__
from trendbot.kinds import load_source
from trendbot.errors import ParseError
from trendbot.kinds.reddit import parse_feed, parse_listing

JSON = "application/json; charset=UTF-8"
ATOM = "application/atom+xml; charset=UTF-8"
TOP = "reddit/top_localllama_2026-04-25.json"
LINKS = "reddit/top_localllama_links.json"


def listing(name: str = TOP, **kw):
    return parse_listing(read_data(name), source="reddit", url="http://reddit.test/r/LocalLLaMA/top.json", **kw)


def feed(name: str, **kw):
    return parse_feed(read_data(name), source="reddit", url="http://reddit.test/r/x/top/.rss", **kw)


def by_guid(items):
    return {item.guid: item for item in items}


def add_source(project, server, **keys) -> None:
    keys.setdefault("subreddits", ["LocalLLaMA"])
    project.add_source("reddit", kind="reddit", base_url=server.url_for("/rd").rstrip("/"), **keys)


def serve(server, path: str, name: str | None, content_type: str = JSON, **response) -> None:
    answer = Response(read_data(name), content_type=content_type) if name else Response(**response)
    server.expect_request(f"/rd{path}").respond_with_response(answer)


def requested(server) -> list[str]:
    return [request.full_path for request, _ in server.log]


def stored(project) -> dict[str, dict]:
    return {row["guid"]: row for row in project.items("reddit")}


# -- parsing the recorded documents -------------------------------------------------------------

def test_every_post_of_the_listing_becomes_an_item_linked_to_its_permalink():
    posts = by_guid(listing())
    assert list(posts) == ["t3_1suqfba", "t3_1suolda", "t3_1suyu7a"]
    top = posts["t3_1suqfba"]
    assert top.url == "https://www.reddit.com/r/LocalLLaMA/comments/1suqfba/this_is_where_we_are_right_now_localllama/"
    assert top.title == "This is where we are right now, LocalLLaMA"
    assert top.text == "the future is now"
    assert top.author == "jacek2023"
    assert top.published_at == datetime.fromtimestamp(1777060705, tz=timezone.utc)
    assert top.popularity == {"score": 2501, "comments": 372}
    assert top.extra == {"subreddit": "LocalLLaMA", "flair": "Discussion"}
    # an image Reddit hosts (i.redd.it) is not an article the post is about
    assert top.links == [] and "original_url" not in top.extra
    text = posts["t3_1suyu7a"]
    assert text.text.startswith("other companies are slowly going away from open weight")
    assert "it's replaced by blog posts" in text.text


def test_a_link_post_keeps_its_article_and_a_text_post_its_paper_code_and_model_links():
    posts = by_guid(listing(LINKS))
    link = posts["t3_1suolda"]
    assert link.url == "https://www.reddit.com/r/LocalLLaMA/comments/1suolda/deepseek_v4_agi_comfirmed/"
    assert link.extra["original_url"] == "https://www.example.org/phyllotaxis-led?utm_source=reddit"
    assert link.links == ["https://www.example.org/phyllotaxis-led?utm_source=reddit"]
    assert posts["t3_1suyu7a"].links == ["https://arxiv.org/abs/2606.13392v1", "https://github.com/MiniMax-AI/MSA",
                                         "https://huggingface.co/MiniMaxAI/MiniMax-M2"]
    assert "original_url" not in posts["t3_1suyu7a"].extra


def test_the_feed_gives_the_same_posts_without_scores():
    posts = feed("reddit/new_localllama_2026-07-11.rss")
    assert [post.guid for post in posts] == ["t3_1utbros", "t3_1ut3z4y", "t3_1ut0n1p"]
    arena = posts[2]
    assert arena.url == "https://www.reddit.com/r/LocalLLaMA/comments/1ut0n1p/is_lm_arena_over/"
    assert arena.title == "Is LM Arena over?"
    assert arena.author == "SpicyWangz"
    assert arena.published_at == datetime(2026, 7, 10, 21, 22, 35, tzinfo=timezone.utc)
    assert arena.text.startswith("I used to check LM Arena anytime new open models came out")
    assert arena.popularity == {} and arena.extra == {"subreddit": "LocalLLaMA"}
    # a link inside a text post that is not to a paper, code or model says nothing of the story
    assert posts[1].links == [] and "https://clifford.bot/" in posts[1].text


def test_a_link_post_in_the_feed_keeps_the_article_not_reddits_own_links():
    post = feed("reddit/hot_elixir_2025-08-15.rss")[0]
    assert post.url == "https://www.reddit.com/r/elixir/comments/1mimde4/phoenix_180_released/"
    assert post.extra == {"subreddit": "elixir",
                          "original_url": "https://www.phoenixframework.org/blog/phoenix-1-8-released"}
    assert post.links == ["https://www.phoenixframework.org/blog/phoenix-1-8-released"]
    assert post.text == "" and post.author == "vlatheimpaler"


def test_limits_and_documents_of_another_shape():
    assert len(listing(limit=2)) == 2
    assert len(feed("reddit/new_localllama_2026-07-11.rss", limit=1)) == 1
    assert parse_listing(b'{"kind": "Listing", "data": {"children": []}}', source="r", url="u") == []
    with pytest.raises(ParseError, match="expected a Reddit Listing"):
        listing("hackernews/front_page_2026-08-09.json")
    with pytest.raises(ParseError, match="not valid JSON"):
        listing("reddit/new_localllama_2026-07-11.rss")
    with pytest.raises(ParseError, match="not a feed"):
        feed("hf/not_a_listing.html")


# -- fetching from a local server ----------------------------------------------------------------

def test_fetch_reads_each_subreddits_top_posts_with_a_descriptive_user_agent(project, run, httpserver):
    serve(httpserver, "/r/LocalLLaMA/top.json", TOP)
    serve(httpserver, "/r/MachineLearning/top.json", None, response='{"kind": "Listing", "data": {"children": []}}',
          content_type=JSON)
    add_source(project, httpserver, subreddits=["MachineLearning", "r/LocalLLaMA"], username="trendbot_fan")
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert "reddit: 3 items (3 new, 0 updated)" in result.stdout
    assert requested(httpserver) == ["/rd/r/MachineLearning/top.json?t=day&limit=25",
                                     "/rd/r/LocalLLaMA/top.json?t=day&limit=25"]
    agents = {request.headers["User-Agent"] for request, _ in httpserver.log}
    assert agents == {f"python:trendbot:v{__version__} (by /u/trendbot_fan)"}
    rows = stored(project)
    assert rows["t3_1suqfba"]["url"] == ("https://www.reddit.com/r/LocalLLaMA/comments/1suqfba/"
                                         "this_is_where_we_are_right_now_localllama/")
    assert rows["t3_1suqfba"]["popularity"] == {"score": 2501, "comments": 372}


@pytest.mark.parametrize("refusal", [
    {"response": "<html><body>whoa there, pardner!</body></html>", "status": 403, "content_type": "text/html"},
    {"response": "slow down", "status": 429, "headers": {"Retry-After": "60"}},
    {"response": "<!doctype html><title>Reddit - Please wait</title>", "status": 200, "content_type": "text/html"},
])
def test_a_refused_listing_falls_back_to_the_subreddits_feed(project, run, httpserver, refusal):
    serve(httpserver, "/r/LocalLLaMA/top.json", None, **refusal)
    serve(httpserver, "/r/LocalLLaMA/top/.rss", "reddit/new_localllama_2026-07-11.rss", ATOM)
    add_source(project, httpserver, limit=10)
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert "reddit: 3 items (3 new, 0 updated)" in result.stdout
    assert "trendbot: reddit: note: r/LocalLLaMA: 3 posts from the RSS fallback (JSON: " in result.stderr
    assert requested(httpserver) == ["/rd/r/LocalLLaMA/top.json?t=day&limit=10",
                                     "/rd/r/LocalLLaMA/top/.rss?t=day&limit=10"]
    assert all(row["popularity"] == {} for row in stored(project).values())


def test_both_refused_fails_the_source_naming_both_urls_and_waits_when_asked(project, run, httpserver):
    for path in ("/r/LocalLLaMA/top.json", "/r/LocalLLaMA/top/.rss"):
        serve(httpserver, path, None, response="slow down", status=429, headers={"Retry-After": "600"})
    add_source(project, httpserver)
    result = run("fetch")
    assert result.exit_code == 1
    error = json.loads(run("sources", "--json").stdout)[0]["last_error"]
    assert "/rd/r/LocalLLaMA/top.json?t=day&limit=25: HTTP 429" in error
    assert "RSS fallback " in error and "/rd/r/LocalLLaMA/top/.rss?t=day&limit=25: HTTP 429" in error
    assert "reddit: skipped, server asked to wait until" in run("fetch").stdout
    assert len(httpserver.log) == 2


def test_a_subreddit_that_fails_is_noted_and_the_others_are_kept(project, run, httpserver):
    serve(httpserver, "/r/LocalLLaMA/top.json", TOP)
    for path in ("/r/MachineLearning/top.json", "/r/MachineLearning/top/.rss"):
        serve(httpserver, path, None, response="gone", status=404)
    add_source(project, httpserver, subreddits=["MachineLearning", "LocalLLaMA"])
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert "reddit: 3 items" in result.stdout
    assert ": not read: " in result.stderr
    assert "/rd/r/MachineLearning/top.json?t=day&limit=25: HTTP 404" in result.stderr


def test_changed_scores_update_the_rows_in_place(project, run, httpserver):
    answers = [TOP, "reddit/top_localllama_2026-04-25_later.json"]
    httpserver.expect_request("/rd/r/LocalLLaMA/top.json").respond_with_handler(
        lambda request: Response(read_data(answers.pop(0)), content_type=JSON))
    add_source(project, httpserver)
    assert run("fetch").exit_code == 0
    result = run("fetch")
    assert "reddit: 3 items (0 new, 2 updated)" in result.stdout
    assert stored(project)["t3_1suqfba"]["popularity"] == {"score": 2877, "comments": 410}


def test_the_listing_is_fetched_with_a_conditional_get(project, run, httpserver):
    etag = '"top-1"'
    httpserver.expect_request("/rd/r/LocalLLaMA/top.json").respond_with_handler(conditional(TOP, JSON, etag))
    add_source(project, httpserver)
    assert run("fetch").exit_code == 0
    again = run("fetch")
    assert "reddit: not modified" in again.stdout
    assert [request.headers.get("If-None-Match") for request, _ in httpserver.log] == [None, etag]


def test_default_source_file_is_present_but_disabled():
    template = Path(__file__).parent.parent / "trendbot" / "templates" / "sources" / "reddit.toml"
    source = load_source(template)
    assert (source.kind, source.enabled, source.subreddits) == ("reddit", False, ["MachineLearning", "LocalLLaMA"])
    assert "username" in template.read_text(encoding="utf-8")


def test_a_bad_subreddit_name_is_a_configuration_error(project, run):
    project.add_source("reddit", kind="reddit", subreddits=["LocalLLaMA", "not a sub"])
    result = run("fetch")
    assert result.exit_code == 2
    assert "reddit.toml" in result.stderr and '"not a sub" is not a subreddit name' in result.stderr


# -- the digest line and stories -------------------------------------------------------------------

def test_digest_line_shows_the_subreddit_and_score(project, run, httpserver):
    serve(httpserver, "/r/LocalLLaMA/top.json", TOP)
    add_source(project, httpserver)
    assert run("fetch").exit_code == 0
    result = run("digest", "--date", "2026-04-25", "--out", "-")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("- ")]
    assert lines[0] == ("- [This is where we are right now, LocalLLaMA](https://www.reddit.com/r/LocalLLaMA/"
                        "comments/1suqfba/this_is_where_we_are_right_now_localllama/) — the future is now"
                        " · r/LocalLLaMA ▲2.5k")
    assert lines[1].endswith(" · r/LocalLLaMA ▲1.7k")


def test_a_post_citing_a_paper_joins_the_papers_story(project, run, httpserver):
    httpserver.expect_request("/hf/api/daily_papers").respond_with_data(read_data("hf/api_2026-06-12.json"),
                                                                        content_type=JSON)
    serve(httpserver, "/r/LocalLLaMA/top.json", LINKS)
    project.add_source("papers", kind="hf_papers", base_url=httpserver.url_for("/hf").rstrip("/"))
    add_source(project, httpserver)
    assert run("fetch", "--source", "papers", "--date", "2026-06-12").exit_code == 0
    assert run("fetch", "--source", "reddit").exit_code == 0
    papers = {row["url"]: row for row in json.loads(run("items", "--date", "2026-06-12", "--json").stdout)}
    posts = {row["url"].split("/")[6]: row for row in json.loads(run("items", "--date", "2026-04-25", "--json").stdout)}
    assert posts["1suyu7a"]["story_id"] == papers["https://huggingface.co/papers/2606.13392"]["story_id"]
    assert posts["1suyu7a"]["merge_rule"] == "arxiv:2606.13392"
    assert posts["1suqfba"]["merge_rule"] == "alone"
