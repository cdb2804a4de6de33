"""The `hackernews` kind: real Algolia HN Search answers (`tests/data/hackernews/`) parsed
directly, then fetched through the real CLI from a local server."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from werkzeug import Request, Response

from conftest import assert_told_to_wait, read_data
from test_geeknews import ATOM, HTML, MARKDOWN
from trendbot.kinds import load_source
from trendbot.errors import ParseError
from trendbot.kinds.hackernews import HackerNewsSource, parse_search, search_url

JSON = "application/json; charset=utf-8"
SEARCH = "hackernews/search_story_points20_2026-08-02.json"
FRONT = "hackernews/front_page_2026-08-09.json"
SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 8, 2, 21, 0, tzinfo=timezone.utc)


def parse(name: str = SEARCH, **kw):
    return parse_search(read_data(name), source="hn", url="http://hn.test/api/v1/search", **kw)


def by_id(items):
    return {item.guid: item for item in items}


def source(**keys) -> HackerNewsSource:
    return HackerNewsSource(name="hn", kind="hackernews", base_url="http://hn.test", **keys)


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def add_source(project, server, **keys) -> None:
    project.add_source("hn", kind="hackernews", base_url=server.url_for("/algolia").rstrip("/"), **keys)


def serve(server, name: str, endpoint: str = "search") -> None:
    server.expect_request(f"/algolia/api/v1/{endpoint}").respond_with_data(read_data(name), content_type=JSON)


def requested(server) -> list[dict[str, str]]:
    return [query(request.full_path) for request, _ in server.log]


def stored(project) -> dict[str, dict]:
    return {row["guid"]: row for row in project.items("hn")}


# -- parsing the recorded answers ------------------------------------------------------------

def test_every_story_becomes_an_item_linked_to_its_discussion():
    items = parse()
    assert len(items) == 30
    story = by_id(items)["49148159"]
    assert story.url == "https://news.ycombinator.com/item?id=49148159"
    assert story.title == "AI Mania: From Tulips to Tokens"
    assert story.author == "Lambda11"
    assert story.published_at == datetime(2026, 8, 2, 20, 48, 28, tzinfo=timezone.utc)
    assert story.popularity == {"points": 37, "comments": 32}
    assert story.extra["original_url"] == "https://seanhelvey.com/tools-and-their-tools/"
    assert story.links == ["https://seanhelvey.com/tools-and-their-tools/"]
    assert story.extra["hn_tags"] == ["front_page"]


def test_a_text_post_keeps_its_text_and_its_links():
    show = by_id(parse())["49146267"]
    assert show.title == "Show HN: NixOS-DGX-Spark – Nix and NixOS on the DGX Spark"
    assert show.text.startswith("Try DGX Spark playbooks using Nix on DGX OS")
    assert "DGX Spark systems. This works on the NVIDIA DGX Spark" in show.text  # <p> is a break
    assert show.links == ["https://github.com/graham33/nixos-dgx-spark",
                          "https://youtu.be/AvK_gi_snJE?si=MPKv3iiuS9B5elIE"]
    assert show.extra["hn_tags"] == ["show_hn", "front_page"]
    sprocket = by_id(parse())["49145934"]
    assert "I am 16y/o and have been working on Sprocket" in sprocket.text  # entities decoded


def test_an_ask_hn_has_no_article():
    answer = json.loads(read_data(SEARCH))
    ask = answer["hits"][0]
    del ask["url"], ask["_highlightResult"]["url"]  # how Algolia answers for a post without a link
    item = parse_search(json.dumps(answer).encode(), source="hn", url="u")[0]
    assert item.url == "https://news.ycombinator.com/item?id=49148159"
    assert item.links == [] and "original_url" not in item.extra


def test_the_front_page_answer_and_its_limit():
    items = parse(FRONT)
    assert [item.guid for item in items] == ["49223082", "49226636", "49226742", "49079995", "49226536"]
    assert by_id(items)["49079995"].popularity == {"points": 322, "comments": 36}
    assert len(parse(FRONT, limit=2)) == 2


def test_other_documents_are_parse_errors_and_no_hits_is_quiet():
    assert parse_search(b'{"hits":[],"nbHits":0,"page":0}', source="hn", url="u") == []
    with pytest.raises(ParseError, match="expected an Algolia answer with a list of hits"):
        parse("hf/api_2026-06-12.json")
    with pytest.raises(ParseError, match="not valid JSON"):
        parse("feeds/simple_atom.xml")
    comments = json.loads(read_data(FRONT))
    for hit in comments["hits"]:
        hit["_tags"] = ["comment"]
    with pytest.raises(ParseError, match="none of the 5 hits is a story"):
        parse_search(json.dumps(comments).encode(), source="hn", url="u")


def test_the_request_asks_for_the_front_page_or_a_window_of_stories():
    front = query(search_url(source(), NOW, SEOUL))
    assert front == {"tags": "front_page", "hitsPerPage": "50"}
    recent = query(search_url(source(tags="story", min_points=20, query="LLM", limit=30), NOW, SEOUL))
    start = int((NOW - timedelta(days=1)).timestamp())
    assert recent == {"tags": "story", "query": "LLM", "numericFilters": f"created_at_i>={start},points>=20",
                      "hitsPerPage": "30"}
    # a past day: the front page of that day is gone, so the day's stories are asked for
    backfill = search_url(source(sort="date"), NOW, SEOUL, date(2026, 8, 2))
    assert urlsplit(backfill).path == "/api/v1/search_by_date"
    seoul_day = int(datetime(2026, 8, 2, tzinfo=SEOUL).timestamp())
    assert query(backfill)["tags"] == "story"
    assert query(backfill)["numericFilters"] == f"created_at_i>={seoul_day},created_at_i<{seoul_day + 86400}"


# -- fetching from a local server -------------------------------------------------------------

def test_fetch_reads_the_front_page(project, run, httpserver):
    serve(httpserver, FRONT)
    add_source(project, httpserver)
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert "hn: 5 items (5 new, 0 updated)" in result.stdout
    assert requested(httpserver) == [{"tags": "front_page", "hitsPerPage": "50"}]
    rows = stored(project)
    assert rows["49223082"]["url"] == "https://news.ycombinator.com/item?id=49223082"
    assert rows["49223082"]["day"] == "2026-08-09"  # 16:04 UTC is past midnight in Seoul


def test_fetch_date_backfills_that_days_stories(project, run, httpserver):
    serve(httpserver, SEARCH)
    add_source(project, httpserver, limit=30, min_points=20)
    result = run("fetch", "--date", "2026-08-02")
    assert result.exit_code == 0, result.output
    start = int(datetime(2026, 8, 2, tzinfo=SEOUL).timestamp())
    window = f"created_at_i>={start},created_at_i<{start + 86400},points>=20"
    assert requested(httpserver) == [{"tags": "story", "hitsPerPage": "30", "numericFilters": window}]
    assert len(stored(project)) == 30


def test_the_ai_word_list_of_the_default_source_keeps_the_section_about_ai(project, run, httpserver):
    serve(httpserver, SEARCH)
    template = Path(__file__).parent.parent / "trendbot" / "templates" / "sources" / "hackernews.toml"
    (project.root / "sources" / "hn.toml").write_text(
        template.read_text(encoding="utf-8").replace('"https://hn.algolia.com"',
                                                     json.dumps(httpserver.url_for("/algolia").rstrip("/"))),
        encoding="utf-8")
    assert load_source(template).include  # the file as shipped has the word list
    assert run("fetch").exit_code == 0
    titles = sorted(row["title"] for row in stored(project).values())
    assert titles == [
        "AI Mania: From Tulips to Tokens",
        "An internal OpenAI Astra model solved 10 major open math and CS problems",
        "EU rules on AI models become enforceable. What's going to change?",
        "GPUs could explode to multiple TB with new storage-inspired memory tech",
        "My personal AI benchmark: \"Generate an SVG of a frog with a Habsburg jaw.\"",
        "Only 8.9% of sites block AI crawlers, but 94.8% are never cited in AI answers",
        "Show HN: Sprocket – The Best AI Agent for Hardware and Software Development",
    ]  # of 30 stories; "Cancelling Cursor" or "SwiftUI After 7 Years" say nothing of AI


def test_changed_points_update_the_rows_in_place(project, run, httpserver):
    serve(httpserver, SEARCH)
    add_source(project, httpserver)
    assert run("fetch", "--date", "2026-08-02").exit_code == 0
    httpserver.clear()
    serve(httpserver, "hackernews/search_story_points20_2026-08-02_later.json")
    result = run("fetch", "--date", "2026-08-02")
    assert "hn: 30 items (0 new, 2 updated)" in result.stdout
    assert stored(project)["49148159"]["popularity"] == {"points": 64, "comments": 51}


def test_algolia_asking_to_slow_down_fails_the_source_until_then(project, run, httpserver):
    httpserver.expect_request("/algolia/api/v1/search").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "900"}))
    add_source(project, httpserver)
    assert_told_to_wait(run, run("fetch"), "hn", "/algolia/api/v1/search?tags=front_page&hitsPerPage=50")
    assert len(httpserver.log) == 1


def test_an_answer_of_another_shape_fails_the_source_naming_the_url(project, run, httpserver):
    serve(httpserver, "hf_trending/models_trending_2026-08-02.json")  # JSON, but a list of models
    add_source(project, httpserver)
    result = run("fetch")
    assert result.exit_code == 1
    states = {row["name"]: row for row in json.loads(run("sources", "--json").stdout)}
    error = states["hn"]["last_error"]
    assert "/algolia/api/v1/search?tags=front_page&hitsPerPage=50: expected an Algolia answer" in error


# -- the digest line and stories -----------------------------------------------------------------

def test_digest_line_shows_points_and_comments(project, run, httpserver):
    serve(httpserver, FRONT)
    add_source(project, httpserver)
    assert run("fetch").exit_code == 0
    result = run("digest", "--date", "2026-08-09", "--out", "-")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("- ")]
    # the main link is the article; the discussion follows as the HN mention
    assert lines[0] == ("- [Fastmail offers EU data region](https://www.fastmail.com/blog/fastmail-offers-eu-data-region/)"
                        " · HN 481p 💬277 · [HN](https://news.ycombinator.com/item?id=49223082)")
    assert len(lines) == 4  # 49079995 was posted on 2026-07-28


def test_an_hn_story_and_a_geeknews_topic_on_the_same_article_are_one_line(project, run, httpserver):
    """GeekNews topic 34485 is about https://example.org/phyllotaxis-led; the Show HN links the
    same article as readers submit it (www., a tracking parameter)."""
    documents = {  # path (and query) -> recorded document; anything else is a 404
        "/gn/rss/news": ("geeknews/rss_news_3_topics.xml", ATOM),
        "/gn/topic/34489.md": ("geeknews/topic_34489.md", MARKDOWN),
        "/gn/topic?id=34485": ("geeknews/topic_34485.html", HTML),
        "/algolia/api/v1/search": ("hackernews/search_story_phyllotaxis_2026-09-29.json", JSON),
    }

    def answer(request: Request) -> Response:
        query = f"?{request.query_string.decode()}" if request.query_string else ""
        found = documents.get(request.path + query) or documents.get(request.path)
        return Response(read_data(found[0]), content_type=found[1]) if found else Response("gone", status=404)

    httpserver.expect_request(re.compile(".*")).respond_with_handler(answer)
    project.add_source("gn", kind="geeknews", base_url=httpserver.url_for("/gn"), request_interval="0s")
    add_source(project, httpserver)
    result = run("fetch")
    assert "hn: 1 items (1 new, 0 updated)" in result.stdout and "gn: 3 items" in result.stdout, result.output
    rows = {row["url"]: row for row in json.loads(run("items", "--date", "2026-09-29", "--json").stdout)}
    topic, story = rows["https://news.hada.io/topic?id=34485"], rows["https://news.ycombinator.com/item?id=49146267"]
    assert topic["story_id"] == story["story_id"]
    assert story["merge_rule"] == "url:https://example.org/phyllotaxis-led"
    digest = run("digest", "--date", "2026-09-29", "--out", "-")
    lines = [line for line in digest.stdout.splitlines() if line.startswith("- ")]
    assert len(lines) == 3  # the three GeekNews topics; the Show HN is not a line of its own
    line = next(line for line in lines if "topic?id=34485" in line)
    assert line.startswith("- [Phyllotaxis - 소리에 반응하는 LED 디스플레이]"
                           "(https://news.hada.io/topic?id=34485)")
    assert line.endswith(" · GN 7p 💬2 · [HN](https://news.ycombinator.com/item?id=49146267)")

