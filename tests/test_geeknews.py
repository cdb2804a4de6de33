"""The `geeknews` kind: parsers on recorded GeekNews documents, then `trendbot fetch` and
`trendbot digest` through the real CLI against a local server playing news.hada.io."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from werkzeug import Request, Response

from conftest import read_data
from trendbot.kinds import load_source
from trendbot.errors import ParseError
from trendbot.kinds.geeknews import (
    parse_feed_topics, parse_topic_markdown, parse_topic_page, topic_item, topics_due,
)

ATOM = "application/atom+xml"
MARKDOWN = "text/markdown; charset=utf-8"
HTML = "text/html; charset=utf-8"
PREFIX = "/gn"  # base_url carries a path prefix, as a mirror or a proxy would


def gn(name: str) -> bytes:
    return read_data(f"geeknews/{name}")


# -- parsers on recorded documents ----------------------------------------------------------


def test_feed_gives_every_topic_with_its_id_author_time_and_decoded_title():
    topics, warning = parse_feed_topics(gn("rss_news_2026-09-29.xml"), feed_url="https://news.hada.io/rss/news")
    assert warning is None
    assert len(topics) == 50
    assert [t.id for t in topics[:3]] == [34489, 34488, 34485]
    assert topics[-1].id == 34433
    first = topics[0]
    assert first.title == "AI 기업들이 광고업체에 데이터를 유출함 [pdf]"
    assert first.author == "neo"
    assert first.published_at == datetime(2026, 9, 29, 12, 32, 57, tzinfo=timezone.utc)
    titles = {t.id: t.title for t in topics}
    assert titles[34488] == "Regression Testing: Techniques, Tools & Best Practices"
    assert titles[34434] == "Postgres의 \"AT TIME ZONE 'UTC'\"에 숨은 함정"


def test_feed_topic_alone_becomes_an_item_with_korean_text_and_first_sentence():
    topics = {t.id: t for t in parse_feed_topics(gn("rss_news_2026-09-29.xml"), feed_url="u").topics}
    item = topic_item("gn", topics[34485], None)
    assert item.url == "https://news.hada.io/topic?id=34485"
    assert item.guid == "34485"
    assert item.kind == "geeknews"
    assert item.text.startswith("해바라기와 다육식물에서 볼 수 있는 엽서 배열(phyllotaxis) 패턴을")
    assert "<" not in item.text
    # the summary line is the first bullet, not the feed's truncated tail ("이...")
    assert item.summary == ("해바라기와 다육식물에서 볼 수 있는 엽서 배열(phyllotaxis) 패턴을 보로노이 셀로 나누고, "
                            "각 셀에 RGB LED를 넣어 소리에 반응하는 물리적 디스플레이를 제작함")
    assert item.popularity == {} and item.links == []
    # topic 34442's content is only its title again: no text that repeats the title
    echo = topic_item("gn", topics[34442], None)
    assert echo.text == "" and echo.summary is None


def test_markdown_view_gives_points_comments_original_link_and_summary():
    details = parse_topic_markdown(gn("topic_22000.md"), url="https://news.hada.io/topic/22000.md")
    # the comments below the metadata carry "- Points: 2" too; only the metadata counts
    assert (details.points, details.comments) == (35, 20)
    assert details.original_url == "https://www.latpeed.com/products/rCoSX"
    assert details.summary == "샘 알트만의 스타트업 플레이북이 무료로 한국어 번역되어 공개되었습니다."
    assert details.text.endswith("실질적인 인사이트를 얻을 수 있습니다.")
    assert "**" not in details.text


@pytest.mark.parametrize("name", ["topic_31479.html", "topic_31479_without_ldjson.html"])
def test_topic_page_gives_points_comments_and_original_link(name):
    details = parse_topic_page(gn(name), topic_id=31479, url="https://news.hada.io/topic?id=31479")
    assert (details.points, details.comments) == (40, 2)
    assert details.original_url == "https://github.com/teddylee777/machine-learning"
    assert details.summary.startswith("이 글은 머신러닝·딥러닝을 독학하려는 사람들을 위해")


def test_documents_of_another_shape_are_parse_errors_naming_the_url():
    with pytest.raises(ParseError, match=r"http://gn\.test/topic\?id=34488: not a GeekNews topic page"):
        parse_topic_page(gn("topic_34488_reshaped.html"), topic_id=34488, url="http://gn.test/topic?id=34488")
    with pytest.raises(ParseError, match=r"http://gn\.test/topic/31479\.md: not a GeekNews topic in markdown"):
        parse_topic_markdown(gn("topic_31479.html"), url="http://gn.test/topic/31479.md")


def test_topics_due_skips_fresh_ones_and_puts_never_enriched_first():
    now = datetime(2026, 9, 29, 12, tzinfo=timezone.utc)
    memory = {
        1: {"at": (now - timedelta(minutes=10)).isoformat(), "points": 3},   # fresh
        2: {"at": (now - timedelta(hours=5)).isoformat(), "points": 9},      # stale
        3: {"at": (now - timedelta(hours=4)).isoformat(), "points": 1},      # stale, newer
    }
    assert topics_due([5, 1, 2, 3, 4], memory, now, timedelta(hours=3), limit=10) == [5, 4, 2, 3]
    assert topics_due([5, 1, 2, 3, 4], memory, now, timedelta(hours=3), limit=3) == [5, 4, 2]
    assert topics_due([1], memory, now, timedelta(0), limit=10) == [1]


def test_default_source_file_loads():
    template = Path(__file__).parent.parent / "trendbot" / "templates" / "sources" / "geeknews.toml"
    source = load_source(template)
    assert source.kind == "geeknews"
    assert source.base_url == "https://news.hada.io"
    assert source.request_interval == timedelta(seconds=1)


# -- a local GeekNews ------------------------------------------------------------------------


class Site:
    """news.hada.io under a path prefix: routes by path (and query), and a log of every
    request's path and arrival time, taken in the server's handler."""

    def __init__(self, httpserver):
        self.routes: dict[str, object] = {}
        self.hits: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        httpserver.expect_request(re.compile(".*")).respond_with_handler(self.handle)
        self.base_url = httpserver.url_for(PREFIX)

    def route(self, path: str, *answers) -> None:
        """Answer `path` with these in turn, the last one repeated: a recorded document's name,
        a status, a Response, or a function of the request."""
        self.routes[path] = list(answers)

    def handle(self, request: Request) -> Response:
        arrived = time.monotonic()
        path = request.path + (f"?{request.query_string.decode()}" if request.query_string else "")
        with self.lock:
            self.hits.append((arrived, path))
            answers = self.routes.get(path.removeprefix(PREFIX)) if path.startswith(PREFIX) else None
            answer = (answers.pop(0) if len(answers) > 1 else answers[0]) if answers else 404
        if isinstance(answer, Response):
            return answer
        if callable(answer):
            return answer(request)
        if isinstance(answer, int):
            return Response(f"status {answer}", status=answer)
        kind = ATOM if answer.endswith(".xml") else MARKDOWN if answer.endswith(".md") else HTML
        return Response(gn(answer), content_type=kind)

    def paths(self) -> list[str]:
        return [path for _, path in self.hits]


@pytest.fixture
def site(httpserver) -> Site:
    return Site(httpserver)


def add_gn(project, site: Site, **keys) -> None:
    project.add_source("gn", kind="geeknews", base_url=site.base_url, request_interval="0s", **keys)


def serve_three_topics(site: Site) -> None:
    """34489 through its markdown view; 34485's markdown is gone, its page answers; 34488's
    markdown and page both fail with 500."""
    site.route("/rss/news", "rss_news_3_topics.xml")
    site.route("/topic/34489.md", "topic_34489.md")
    site.route("/topic/34485.md", 404)
    site.route("/topic?id=34485", "topic_34485.html")
    site.route("/topic/34488.md", 500)
    site.route("/topic?id=34488", 500)


def stored(project) -> dict[int, dict]:
    rows = project.rows("select * from items where source = 'gn'")
    for row in rows:
        for column in ("popularity", "links", "extra"):
            row[column] = json.loads(row[column])
    return {int(row["guid"]): row for row in rows}


def test_fetch_stores_enriched_topics_and_keeps_the_one_whose_pages_fail(project, run, site):
    serve_three_topics(site)
    add_gn(project, site)
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert "gn: 3 items (3 new, 0 updated)" in result.stdout
    warning = next(line for line in result.stderr.splitlines() if line.startswith("trendbot: gn: warning: "))
    assert "34488" in warning and "HTTP 500" in warning  # once, on stderr

    rows = stored(project)
    assert set(rows) == {34489, 34488, 34485}
    paper = rows[34489]
    assert paper["url"] == "https://news.hada.io/topic?id=34489"
    assert paper["title"] == "AI 기업들이 광고업체에 데이터를 유출함 [pdf]"
    assert paper["author"] == "neo"
    assert paper["day"] == "2026-09-29"
    assert paper["published_at"] == "2026-09-29T12:32:57+00:00"
    assert paper["popularity"] == {"points": 12, "comments": 3}
    assert paper["links"] == ["https://arxiv.org/pdf/2609.18342v1"]
    assert paper["extra"]["original_url"] == "https://arxiv.org/pdf/2609.18342v1"
    assert paper["summary"] == ("대화형 AI 서비스 9개의 웹 클라이언트와 8개의 Android 앱을 분석한 결과, "
                                "모든 서비스에서 광고 또는 추적 서비스와의 연동이 확인되었습니다.")
    assert "제3자에게 전달했습니다." in paper["text"]

    from_page = rows[34485]
    assert from_page["popularity"] == {"points": 7, "comments": 2}
    assert from_page["links"] == ["https://example.org/phyllotaxis-led"]

    kept = rows[34488]
    assert kept["title"] == "Regression Testing: Techniques, Tools & Best Practices"
    assert kept["url"] == "https://news.hada.io/topic?id=34488"
    assert kept["text"].startswith("Understand regression testing, its types")
    assert kept["popularity"] == {} and kept["links"] == []

    # every request went to base_url, though the feed names https://news.hada.io
    assert all(path.startswith(PREFIX + "/") for path in site.paths())
    assert set(site.paths()) == {f"{PREFIX}/rss/news", f"{PREFIX}/topic/34489.md", f"{PREFIX}/topic/34485.md",
                                 f"{PREFIX}/topic?id=34485", f"{PREFIX}/topic/34488.md", f"{PREFIX}/topic?id=34488"}


def test_topic_documents_that_change_shape_fall_back_then_keep_the_topic(project, run, site):
    site.route("/rss/news", "rss_news_3_topics.xml")
    site.route("/topic/34489.md", "topic_34489.md")
    # the markdown view answers with a page instead of markdown: the HTML page is used
    site.route("/topic/34485.md", "topic_34485.html")
    site.route("/topic?id=34485", "topic_34485.html")
    # both documents in a new shape: the topic stays, with the feed's data
    site.route("/topic/34488.md", "topic_34488_reshaped.html")
    site.route("/topic?id=34488", "topic_34488_reshaped.html")
    add_gn(project, site)
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert "not a GeekNews topic page" in result.stderr
    rows = stored(project)
    assert rows[34485]["popularity"] == {"points": 7, "comments": 2}
    assert rows[34488]["popularity"] == {}
    assert rows[34488]["title"] == "Regression Testing: Techniques, Tools & Best Practices"
    assert rows[34489]["popularity"] == {"points": 12, "comments": 3}


def test_updated_points_change_the_row_in_place(project, run, site):
    serve_three_topics(site)
    site.route("/topic/34489.md", "topic_34489.md", "topic_34489_later.md")
    add_gn(project, site, refresh_after="0s")
    assert run("fetch").exit_code == 0
    first = stored(project)[34489]

    second = run("fetch")
    assert second.exit_code == 0, second.output
    assert "gn: 3 items (0 new, 1 updated)" in second.stdout
    rows = project.rows("select id, popularity, first_seen_at from items where guid = '34489'")
    assert len(rows) == 1
    assert json.loads(rows[0]["popularity"]) == {"points": 57, "comments": 9}
    assert rows[0]["id"] == first["id"] and rows[0]["first_seen_at"] == first["first_seen_at"]
    assert project.rows("select count(*) n from items")[0]["n"] == 3


def test_fresh_topics_are_not_fetched_again_and_keep_their_points(project, run, site):
    serve_three_topics(site)
    add_gn(project, site)  # refresh_after defaults to hours
    assert run("fetch").exit_code == 0
    first_paths = site.paths()
    assert first_paths.count(f"{PREFIX}/topic/34489.md") == 1

    second = run("fetch")
    assert second.exit_code == 0, second.output
    new_paths = site.paths()[len(first_paths):]
    # the fresh topics cost nothing; only the one that failed is tried again
    assert f"{PREFIX}/topic/34489.md" not in new_paths
    assert f"{PREFIX}/topic/34485.md" not in new_paths and f"{PREFIX}/topic?id=34485" not in new_paths
    assert new_paths.count(f"{PREFIX}/rss/news") == 1
    assert f"{PREFIX}/topic/34488.md" in new_paths
    assert "gn: 3 items (0 new, 0 updated)" in second.stdout
    rows = stored(project)
    assert rows[34489]["popularity"] == {"points": 12, "comments": 3}
    assert rows[34485]["links"] == ["https://example.org/phyllotaxis-led"]


def test_feed_is_fetched_with_a_conditional_get(project, run, site):
    etag = '"gn-1"'

    def feed(request: Request) -> Response:
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(gn("rss_news_3_topics.xml"), content_type=ATOM, headers={"ETag": etag})

    serve_three_topics(site)
    site.route("/rss/news", feed)
    add_gn(project, site)
    assert run("fetch").exit_code == 0
    count = len(site.hits)
    second = run("fetch")
    assert second.exit_code == 0, second.output
    assert "gn: not modified" in second.stdout
    assert site.paths()[count:] == [f"{PREFIX}/rss/news"]
    assert len(stored(project)) == 3


def test_requests_to_the_site_are_spaced_by_request_interval(project, run, site):
    site.route("/rss/news", "rss_news_3_topics.xml")
    site.route("/topic/34489.md", "topic_34489.md")
    site.route("/topic/34488.md", "topic_34489.md")
    site.route("/topic/34485.md", "topic_34489.md")
    project.add_source("gn", kind="geeknews", base_url=site.base_url, request_interval="200ms")
    assert run("fetch").exit_code == 0
    times = [arrived for arrived, _ in site.hits]
    assert len(times) == 4
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    # measured where the requests arrive: the next request leaves only after the previous
    # answer ended plus the interval, so no transit delay can bring two closer than that
    assert min(gaps) >= 0.2, gaps


def test_site_asking_to_slow_down_stops_enrichment_but_keeps_every_topic(project, run, site):
    serve_three_topics(site)
    site.route("/topic/34489.md", Response("slow down", status=429, headers={"Retry-After": "120"}))
    add_gn(project, site)
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert "gn: 3 items (3 new, 0 updated)" in result.stdout
    assert site.paths() == [f"{PREFIX}/rss/news", f"{PREFIX}/topic/34489.md"]
    assert all(row["popularity"] == {} for row in stored(project).values())


def test_digest_shows_the_days_stories_with_summary_and_points(project, run, site):
    serve_three_topics(site)
    add_gn(project, site)
    assert run("fetch").exit_code == 0
    result = run("digest", "--date", "2026-09-29", "--out", "-")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("- ")]
    assert len(lines) == 3
    top, second, third = lines
    assert "(https://news.hada.io/topic?id=34489)" in top
    assert ("대화형 AI 서비스 9개의 웹 클라이언트와 8개의 Android 앱을 분석한 결과, "
            "모든 서비스에서 광고 또는 추적 서비스와의 연동이 확인되었습니다.") in top
    assert top.endswith("GN 12p 💬3")
    assert "(https://news.hada.io/topic?id=34485)" in second and second.endswith("GN 7p 💬2")
    assert "해바라기와 다육식물에서" in second
    assert "(https://news.hada.io/topic?id=34488)" in third
    assert "Understand regression testing" in third
    # its points are unknown (both pages failed), which is not the same as 0 points
    assert third.endswith(" · GN") and "0p" not in third


def test_sources_command_says_how_many_topics_have_points(project, run, site):
    serve_three_topics(site)
    add_gn(project, site)
    assert run("fetch").exit_code == 0
    result = run("sources")
    assert result.exit_code == 0, result.output
    assert "2 of the feed's topics have points (refreshed after 3h)" in result.stdout


def test_fetch_for_a_day_the_feed_no_longer_holds_says_so(project, run, site):
    serve_three_topics(site)
    add_gn(project, site)
    result = run("-v", "fetch", "--date", "2026-09-20")
    assert result.exit_code == 0, result.output
    assert "trendbot: gn: note: the feed holds only the latest 3 topics; none is from 2026-09-20" in result.stderr
